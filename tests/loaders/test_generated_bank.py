"""The generator's bank loaded end to end on both backends, checked against its ground truth.

Accounting per source against independently counted file lines; quarantine equal to the injected bad rows
(with the cascaded reasons of other sources reading the same line) and nothing else; a reload that
changes nothing; customers of two systems as one node with two lineage ties; a newer export that updates.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from graph.model import NodeLabel, TieType
from graph.settings import Settings
from graph.store import GraphStore
from loaders.generator import generate
from loaders.identifiers import resident_id_check_digit
from loaders.load import load_mapping
from loaders.mapping import Mapping, Source, SourceFormat
from loaders.quarantine import read_quarantine
from loaders.report import LoadReport
from tests.samples import snapshot

CUSTOMERS = 1500
SEED = 7
AS_OF = date(2024, 12, 31)
BATCH_SIZE = 292
"""The card customers fill whole batches while the core persons' last partial batch holds some of their
customers: the per-source batching that failed 30k loads with ``MissingEndpoint`` fails here too."""


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("generated")
    generate(CUSTOMERS, SEED, path)
    return path


@pytest.fixture(scope="module")
def truth(bank: Path) -> dict[str, Any]:
    return json.loads((bank / "ground_truth.json").read_text(encoding="utf-8"))


def load(store: GraphStore, mapping: Path, work: Path, name: str, data_dir: Path | None = None) -> LoadReport:
    return load_mapping(
        store,
        mapping,
        work / name,
        settings=Settings(batch_size=BATCH_SIZE),
        data_dir=data_dir,
        review_path=work / "review.json",
        today=AS_OF,
    )


def data_lines(root: Path, source: Source) -> int:
    """Data lines of a source's file, counted without the loader's reader: non-blank lines after the header."""
    path = root / source.path
    if source.format is SourceFormat.XLSX:
        workbook = openpyxl.load_workbook(path, read_only=True)
        try:
            rows = list(workbook[str(source.sheet)].iter_rows(values_only=True))
        finally:
            workbook.close()
        return sum(1 for row in rows[1:] if any(cell not in (None, "") for cell in row))
    lines = path.read_bytes().split(b"\n")
    return sum(1 for line in lines[1:] if line.strip())


def lineage(store: GraphStore) -> dict[str, str]:
    """Record ref (``system:key``) -> customer id."""
    return {tie.target: tie.source for tie in store.ties([TieType.FROM_SOURCE])}


def expected_quarantine(truth: dict[str, Any]) -> set[tuple[str, str, int, str]]:
    expected = set()
    for bad in truth["bad_rows"]:
        file = Path(bad["file"]).name
        expected.add((bad["source"], file, bad["line"], bad["reason"]))
        expected.update((source, file, bad["line"], reason) for source, reason in bad["also"].items())
    return expected


def quarantined(report_dir: Path) -> set[tuple[str, str, int, str]]:
    rows = read_quarantine(report_dir / "quarantine.csv")
    return {(row["source"], row["file"], int(row["line"]), row["reason"]) for row in rows}


def counts_by_source(report: LoadReport) -> dict[str, tuple[int, int, int, int]]:
    return {s.name: (s.rows_read, s.loaded, s.merged, s.quarantined) for s in report.sources}


def check_first_load(store: GraphStore, bank: Path, truth: dict[str, Any], report: LoadReport, work: Path) -> None:
    """Accounting, quarantine, normalised rows, products and cross-system customers after the first load."""
    mapping = Mapping.from_file(bank / "mapping.yaml")

    by_name = {source.name: source for source in report.sources}
    assert set(by_name) == {source.name for source in mapping.sources}
    for source in mapping.sources:
        counted = by_name[source.name]
        assert counted.rows_read == data_lines(bank, source), source.name
        assert counted.rows_read == counted.loaded + counted.merged + counted.quarantined, source.name

    assert quarantined(work / "first") == expected_quarantine(truth)
    assert report.quarantined == len(expected_quarantine(truth))

    # Full-width digits are normalised, and those rows load (every one is a customer record).
    records = {(r.properties["source"], r.properties["line"]) for r in store.nodes(NodeLabel.SOURCE_RECORD)}
    assert truth["normalised"]
    assert {(entry["source"], entry["line"]) for entry in truth["normalised"]} <= records

    # A person in both core and cards is one customer with two lineage ties, whatever the card record lacks.
    refs = lineage(store)
    for overlap in truth["entity_resolution"]:
        core, card = f"core:{overlap['cust_no']}", f"cards:{overlap['card_cust_id']}"
        assert refs[core] == refs[card], overlap
    persons = {record.id for record in store.nodes(NodeLabel.PERSON)}
    ties_per_customer: dict[str, int] = {}
    for customer in refs.values():
        ties_per_customer[customer] = ties_per_customer.get(customer, 0) + 1
    two_systems = {refs[f"core:{overlap['cust_no']}"] for overlap in truth["entity_resolution"]}
    assert two_systems <= persons
    assert all(ties_per_customer[customer] == 2 for customer in two_systems)
    assert sum(count == 2 for count in ties_per_customer.values()) == len(two_systems)
    # Product lists are lists; exclusive_with names product ids, both ways round.
    products = {record.id: record.properties for record in store.nodes(NodeLabel.PRODUCT)}
    assert all(isinstance(p["segments"], list) for p in products.values() if "segments" in p)
    exclusive = {(pid, other) for pid, p in products.items() for other in p.get("exclusive_with") or []}
    assert exclusive and all(other in products and (other, pid) in exclusive for pid, other in exclusive)
    core_persons = by_name["core_customers_person"]
    assert report.counts.nodes["Person"] == core_persons.rows_read - core_persons.quarantined
    # Every customer in a book banks at the branch its manager works at.
    works_at = {tie.source: tie.target for tie in store.ties([TieType.WORKS_AT])}
    banked_at = {(tie.source, tie.target) for tie in store.ties([TieType.BANKED_AT])}
    assert banked_at and banked_at == {(tie.target, works_at[tie.source]) for tie in store.ties([TieType.MANAGES])}


def test_generated_bank_loads_exactly_reloads_idempotently_and_updates(
    store: GraphStore, bank: Path, truth: dict[str, Any], tmp_path: Path
) -> None:
    first = load(store, bank / "mapping.yaml", tmp_path, "first")
    check_first_load(store, bank, truth, first, tmp_path)

    before = snapshot(store)
    second = load(store, bank / "mapping.yaml", tmp_path, "second")
    assert snapshot(store) == before
    # A reload writes the same rows again: the same accounting, the same quarantine, the same counts.
    assert counts_by_source(second) == counts_by_source(first)
    assert quarantined(tmp_path / "second") == quarantined(tmp_path / "first")
    assert second.counts == first.counts

    newer = tmp_path / "newer"
    shutil.copytree(bank, newer)
    moved, added_key = newer_person_export(newer / "core" / "cust_person.csv", truth_overlaps(bank))
    third = load(store, bank / "mapping.yaml", tmp_path, "third", data_dir=newer)

    refs = lineage(store)
    for cust_no in moved:
        customer = store.get_node(NodeLabel.PERSON, refs[f"core:{cust_no}"])
        assert customer is not None and customer.properties["city"] == "新城市", cust_no
    new_customer = store.get_node(NodeLabel.PERSON, refs[f"core:{added_key}"])
    assert new_customer is not None and new_customer.properties["name"] == "新客户"
    counts = third.counts.model_dump()
    assert counts["nodes"]["Person"] == first.counts.nodes["Person"] + 1
    assert counts["nodes"]["SourceRecord"] == first.counts.nodes["SourceRecord"] + 1
    assert counts["ties"]["FROM_SOURCE"] == first.counts.ties["FROM_SOURCE"] + 1
    persons = by_source(third)["core_customers_person"]
    assert persons.rows_read == by_source(first)["core_customers_person"].rows_read + 1
    assert persons.quarantined == by_source(first)["core_customers_person"].quarantined


def by_source(report: LoadReport) -> dict[str, Any]:
    return {source.name: source for source in report.sources}


def truth_overlaps(bank: Path) -> set[str]:
    truth = json.loads((bank / "ground_truth.json").read_text(encoding="utf-8"))
    return {overlap["cust_no"] for overlap in truth["entity_resolution"]}


def newer_person_export(path: Path, skip: set[str]) -> tuple[list[str], str]:
    """Move three core-only persons to another city and append one new person; returns (moved keys, new key)."""
    text = path.read_bytes().decode("gbk")
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    key, city, cert, name = (header.index(column) for column in ("cust_no", "city_nm", "cert_no", "cust_nm"))
    certs = {row[cert] for row in rows[1:] if len(row) == len(header)}
    moved: list[str] = []
    for row in rows[1:]:
        if len(moved) == 3:
            break
        if len(row) == len(header) and row[key] not in skip and row[cert].isascii() and len(row[cert]) == 18:
            row[city] = "新城市"
            moved.append(row[key])
    template = next(row for row in rows[1:] if row[key] == moved[0])
    new = list(template)
    new[key], new[name], new[city] = "009999999999", "新客户", "杭州"
    for sequence in range(100, 999):
        first17 = template[cert][:14] + f"{sequence:03d}"[:2] + template[cert][16]
        candidate = first17 + resident_id_check_digit(first17)
        if candidate not in certs:
            new[cert] = candidate
            break
    rows.append(new)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_bytes(out.getvalue().encode("gbk"))
    return moved, new[key]
