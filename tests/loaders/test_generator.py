"""Tests for loaders.generator: real files generated at small sizes, checked with the real validators."""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml

from graph.model import TieType
from graph.ties import spec
from loaders.generator import WORLDS, effects, generate, population
from loaders.generator.common import child_rng
from loaders.identifiers import (
    InvalidIdentifier,
    normalize_card_number,
    normalize_credit_code,
    normalize_mobile,
    normalize_resident_id,
)
from loaders.mapping import Mapping, Source

AS_OF = date(2024, 12, 31)
CUSTOMERS = 1500


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bank")
    generate(CUSTOMERS, 11, path)
    return path


@pytest.fixture(scope="module")
def truth(out: Path) -> dict[str, Any]:
    return json.loads((out / "ground_truth.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def mapping(out: Path) -> Mapping:
    raw = yaml.safe_load((out / "mapping.yaml").read_text(encoding="utf-8"))
    return Mapping.model_validate({**raw, "base_dir": out})


def read_rows(out: Path, source: Source) -> list[dict[str, str]]:
    """Rows of a source as dicts, each with its physical line number under ``__line__``."""
    path = out / source.path
    if source.format == "xlsx":
        workbook = openpyxl.load_workbook(path, read_only=True)
        try:
            sheet = workbook[str(source.sheet)]
            rows = [["" if cell is None else cell for cell in row] for row in sheet.iter_rows(values_only=True)]
        finally:
            workbook.close()
    else:
        with path.open(encoding=source.encoding.value, newline="") as handle:
            rows = list(csv.reader(handle, delimiter=source.separator))
    header = rows[0]
    return [
        {**dict(zip(header, row, strict=True)), "__line__": str(line)} for line, row in enumerate(rows[1:], start=2)
    ]


def sources(mapping: Mapping) -> dict[str, Source]:
    return {source.name: source for source in mapping.sources}


def clean_rows(out: Path, source: Source, truth: dict[str, Any]) -> Iterator[dict[str, str]]:
    bad = {row["line"] for row in truth["bad_rows"] if row["file"] == source.path}
    return (row for row in read_rows(out, source) if int(row["__line__"]) not in bad)


def all_files(path: Path) -> dict[str, bytes]:
    return {str(file.relative_to(path)): file.read_bytes() for file in sorted(path.rglob("*")) if file.is_file()}


def test_same_seed_gives_identical_bytes_and_another_seed_differs(tmp_path: Path) -> None:
    generate(400, 5, tmp_path / "a")
    generate(400, 5, tmp_path / "b")
    generate(400, 6, tmp_path / "c")
    first, second, third = all_files(tmp_path / "a"), all_files(tmp_path / "b"), all_files(tmp_path / "c")
    assert first == second
    assert first.keys() == third.keys()
    assert first["core/cust_person.csv"] != third["core/cust_person.csv"]


# The first 16 hex digits of each file's SHA-256 for CUSTOMERS customers, seed 11: a change meant to leave the
# output alone (speed, memory) must keep every byte. A change meant to alter the bank updates these.
PINNED_DIGESTS = {
    "README.md": "652cf7cb98f1580d",
    "cards/card_acct.tsv": "1919244aa73d8897",
    "cards/card_cust.tsv": "87bd09e1cfc86534",
    "core/accounts.csv": "3806cfa5fa6f2c9d",
    "core/cust_corp.csv": "e98c4ba9e23767fa",
    "core/cust_person.csv": "4d80f4ecf24733ec",
    "core/products.csv": "43af5c78e408e698",
    "crm/branch.csv": "314ea34fdaa79992",
    "crm/contact_log.csv": "9ca29018288f8098",
    "crm/corp_rel.csv": "adbaec7304e11606",
    "crm/cust_mgr.csv": "cf8785b4abfc5972",
    "crm/family_rel.csv": "ec24f4bb5fefcd72",
    "crm/mgr_cust_rel.csv": "52cb009d10d6aadd",
    "crm/referral.csv": "265f72443e94a88f",
    "ground_truth.json": "622ffc33f06b7e4b",
    "loans/guarantee.csv": "406274d33e93e125",
    "loans/loan_contract.csv": "e3d2cdc7966f2fbc",
    "mapping.yaml": "a98466b33affb467",
    "wealth/holdings.xlsx": "8944bfdb72c0204c",
}


def test_the_bank_of_a_seed_keeps_its_bytes(out: Path) -> None:
    digests = {name: hashlib.sha256(data).hexdigest()[:16] for name, data in all_files(out).items()}
    assert digests == PINNED_DIGESTS


def test_mapping_validates_and_names_existing_files(out: Path, mapping: Mapping) -> None:
    assert {s.system for s in mapping.sources} == {"core", "cards", "wealth", "loans", "crm"}
    for source in mapping.sources:
        assert (out / source.path).is_file(), source.path
        header = read_rows(out, source)[0].keys()
        used = [c.from_ for c in source.columns.values()] + list(source.key)
        used += [end.from_ for end in (source.source, source.target) if end is not None]
        used += [source.tie.type_from] if source.tie is not None and source.tie.type_from else []
        assert set(used) <= set(header), source.name


def test_core_files_are_gbk(out: Path) -> None:
    data = (out / "core/cust_person.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert "身份" not in data.decode("gbk") and "," in data.decode("gbk")


def test_clean_identifiers_pass_the_validators(out: Path, mapping: Mapping, truth: dict[str, Any]) -> None:
    by_name = sources(mapping)
    persons = list(clean_rows(out, by_name["core_customers_person"], truth))
    assert len(persons) == int(CUSTOMERS * 0.85)
    for row in persons:
        resident_id = normalize_resident_id(row["cert_no"], today=AS_OF)
        assert row["gender_cd"] == ("1" if int(resident_id[16]) % 2 else "2")
        assert resident_id[6:14] == row["birth_dt"]
        normalize_mobile(row["mobile_no"])
    for row in clean_rows(out, by_name["core_customers_company"], truth):
        assert normalize_credit_code(row["uscc_cd"]) == row["uscc_cd"]
        assert row["cust_nm"].endswith("有限公司")
    card_people = list(clean_rows(out, by_name["card_customers"], truth))
    assert 0.1 < len(card_people) / len(persons) < 0.5  # cards are also taken up within the window
    for row in card_people:
        if row["id_no"]:
            normalize_resident_id(row["id_no"], today=AS_OF)
        normalize_mobile(row["mobile"])
    for row in clean_rows(out, by_name["card_accounts"], truth):
        assert normalize_card_number(row["card_no"]) == row["card_no"]


def test_card_system_has_its_own_formats(out: Path, mapping: Mapping, truth: dict[str, Any]) -> None:
    rows = list(clean_rows(out, sources(mapping)["card_customers"], truth))
    assert any(" " in row["cust_name"] for row in rows)
    assert any(row["mobile"].startswith("+86") for row in rows)
    assert any(len(row["id_no"]) == 15 for row in rows)
    assert any(row["id_no"] == "" for row in rows)
    assert all(len(row["dob"]) == 6 for row in rows)
    resolution = truth["entity_resolution"]
    assert {r["card_cust_id"] for r in resolution} == {row["card_cust_id"] for row in rows}
    assert any(r["no_id"] and r["name_typo"] for r in resolution)


def _fault(source: Source, field: str, value: str, known: dict[str, set[str]]) -> str | None:
    """The reason the mapping's rules give for ``value`` in column ``field`` (None: the value is fine)."""
    columns = [c for c in source.columns.values() if c.from_ == field]
    if source.tie is not None and source.tie.type_from == field:
        return None if value in (source.tie.map or {}) else "unknown_code"
    for end in (source.source, source.target):
        if end is not None and end.from_ == field and end.system is not None:
            return None if value in known[end.system] else "orphan"
    if not columns:
        return None
    column = columns[0]
    if value == "":
        return "missing_value" if column.required else None
    if column.map is not None:
        return None if value in column.map else "unknown_code"
    validators = {
        "resident_id": normalize_resident_id,
        "credit_code": normalize_credit_code,
        "card_number": normalize_card_number,
        "mobile": normalize_mobile,
    }
    try:
        if column.type.value in validators:
            validators[column.type.value](value)
        elif column.type.value == "date":
            pattern = {"YYMMDD": "%y%m%d"}.get(column.format or "", column.format or "%Y-%m-%d")
            datetime.strptime(value, pattern)
        elif column.type.value in ("amount", "number"):
            float(value)
        elif column.type.value == "float_list":
            [float(part) for part in value.split(column.format or ";")]
    except InvalidIdentifier as error:
        return error.reason.value
    except ValueError:
        return "bad_date" if column.type.value == "date" else "bad_number"
    return None


def test_bad_rows_fail_for_exactly_their_reason(out: Path, mapping: Mapping, truth: dict[str, Any]) -> None:
    by_name = sources(mapping)
    known = {
        "core": {
            r["cust_no"]
            for name in ("core_customers_person", "core_customers_company")
            for r in clean_rows(out, by_name[name], truth)
        },
        "cards": {r["card_cust_id"] for r in clean_rows(out, by_name["card_customers"], truth)},
    }
    bad = truth["bad_rows"]
    assert {row["reason"] for row in bad} >= {"bad_check_digit", "orphan", "self_tie", "unknown_code", "bad_date"}
    lines = sum(len(read_rows(out, by_name[name])) for name in {s.path: s.name for s in mapping.sources}.values())
    assert 0.003 < len(bad) / lines < 0.012
    files: dict[str, dict[int, dict[str, str]]] = {}
    for entry in bad:
        source = by_name[entry["source"]]
        if entry["file"] not in files:
            files[entry["file"]] = {int(r["__line__"]): r for r in read_rows(out, source)}
        row = files[entry["file"]][entry["line"]]
        if entry["reason"] == "self_tie":
            assert row[source.source.from_] == row[source.target.from_]  # type: ignore[union-attr]
            continue
        if entry["reason"] == "orphan" and entry["field"] not in {e.from_ for e in (source.source, source.target) if e}:
            continue  # a tie left without its node: the node source refuses the row for another reason
        assert _fault(source, entry["field"], row[entry["field"]], known) == entry["reason"], entry
        # exactly one fault: every other column passes
        for field, value in row.items():
            if field not in (entry["field"], "__line__"):
                assert _fault(source, field, value, known) is None, (entry, field)


def test_full_width_values_are_valid_after_normalisation(out: Path, mapping: Mapping, truth: dict[str, Any]) -> None:
    assert truth["normalised"]
    for entry in truth["normalised"]:
        row = {int(r["__line__"]): r for r in read_rows(out, sources(mapping)[entry["source"]])}[entry["line"]]
        value = row[entry["field"]]
        assert not value.isascii()
        if entry["field"] == "cert_no":
            normalize_resident_id(value, today=AS_OF)
        else:
            normalize_mobile(value)


def test_products_are_taken_up_within_the_window(out: Path, mapping: Mapping, truth: dict[str, Any]) -> None:
    opened = [row["open_dt"] for row in clean_rows(out, sources(mapping)["core_accounts"], truth)]
    in_window = [day for day in opened if day >= "20230101"]
    assert in_window and len(in_window) < len(opened)
    assert truth["effects"]["world"] == "mixed" and truth["effects"]["measured"]["taken_up_in_window"] > 0
    assert "held_out" not in truth


def test_only_the_worlds_with_contagion_spread_along_ties() -> None:
    built = {world: population.build(1500, 11, world=world) for world in WORLDS}
    for world, bank in built.items():
        through_ties = bank.measured["churned_through_ties"], bank.measured["taken_up_through_ties"]
        if bank.world.contagion:
            assert min(through_ties) > 0, world  # type: ignore[type-var]
        else:
            assert through_ties == (0, 0), world
            assert not bank.churn.contagious.any() and (bank.churn.trigger == -1).all()
    assert built["null"].world.confounded is False and built["mixed"].world.confounded is True


def test_tie_strengths_are_drawn_per_seed_not_in_the_registrys_order() -> None:
    worlds = [effects.draw_world("contagion", child_rng(seed, "world")) for seed in range(1, 7)]
    strongest = [max(world.churn_spread, key=world.churn_spread.__getitem__) for world in worlds]
    orders = {tuple(sorted(world.churn_spread, key=world.churn_spread.__getitem__)) for world in worlds}
    assert len(orders) == len(worlds)
    assert {spec(TieType(name)).category.value for name in strongest} != {"family"}
    assert effects.draw_world("null", child_rng(1, "world")).churn_spread == {}
    with pytest.raises(ValueError, match="unknown world"):
        effects.draw_world("telepathy", child_rng(1, "world"))


def test_churn_spreads_along_ties(out: Path, mapping: Mapping, truth: dict[str, Any]) -> None:
    by_name = sources(mapping)
    month = {customer: record["month"] for customer, record in truth["churn"].items()}
    ties = [
        (r["cust_no"], r["rel_cust_no"])
        for name in ("crm_family", "crm_corporate")
        for r in clean_rows(out, by_name[name], truth)
    ]
    ties += [(r["rfr_cust_no"], r["rfd_cust_no"]) for r in clean_rows(out, by_name["crm_referrals"], truth)]
    customers = {r["cust_no"] for r in read_rows(out, by_name["core_customers_person"])}
    exposed = set()
    for a, b in ties + [(b, a) for a, b in ties]:
        if a in month and month[a] < month.get(b, "9999"):
            exposed.add(b)
    rate_exposed = sum(c in month for c in exposed) / len(exposed)
    others = customers - exposed
    rate_others = sum(c in month for c in others) / len(others)
    assert rate_exposed > 2 * rate_others
    contagious = [r for r in truth["churn"].values() if r["contagious"]]
    assert contagious and all(r["triggered_by"] in truth["churn"] for r in contagious)
    status = {r["cust_no"]: r["cust_stat_cd"] for r in clean_rows(out, by_name["core_customers_person"], truth)}
    assert all(status[c] == "C" for c in month if c in status)


def test_churned_customers_have_closed_accounts_ending_at_zero(
    out: Path, mapping: Mapping, truth: dict[str, Any]
) -> None:
    churned = set(truth["churn"])
    rows = [r for r in clean_rows(out, sources(mapping)["core_accounts"], truth) if r["cust_no"] in churned]
    assert rows
    for row in rows:
        balances = [float(v) for v in row["mon_end_bal"].split(";")]
        assert len(balances) == 24 and balances[-1] == 0.0
        assert row["acct_stat_cd"] == "1" and row["clos_dt"]


def test_keys_are_text_with_leading_zeros(out: Path, mapping: Mapping, truth: dict[str, Any]) -> None:
    rows = list(read_rows(out, sources(mapping)["wealth_holdings"]))
    assert rows and all(isinstance(r["cust_no"], str) and r["cust_no"].startswith("0") for r in rows)


def test_progress_reports_stages(tmp_path: Path) -> None:
    seen: list[tuple[str, int, int]] = []
    summary = generate(200, 1, tmp_path, progress=lambda stage, done, total: seen.append((stage, done, total)))
    assert seen[0] == ("simulate the bank", 0, 6) and seen[-1] == ("write the exports", 12, 12)
    assert all(0 <= done <= total for _, done, total in seen)
    assert summary.customers == 200 and summary.files["core/cust_person.csv"] >= 170
