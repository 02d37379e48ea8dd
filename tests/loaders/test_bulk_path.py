"""The column-wise bulk path against the row path: the same store content (full dumps), the same accounting,
quarantine and warnings, on the generated bank, on FinBench and on files full of bad rows; and the reasons
a source goes row by row instead."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from graph.embedded import EmbeddedStore
from graph.model import NodeLabel
from graph.settings import Settings
from graph.store import GraphStore
from loaders.bulk import cells, sources, ties
from loaders.bulk.read import PlainFile, read_plain, read_records
from loaders.context import SourceReads
from loaders.generator import generate
from loaders.load import LoadPath, load_mapping
from loaders.mapping import Source
from loaders.quarantine import read_quarantine
from loaders.raw import RawRecord, RawSource
from loaders.read import read_source
from tests.loaders.conftest import CARD, RID_LI, RID_ZHANG, TODAY, write_bank
from tests.loaders.identifier_samples import full_width
from tests.loaders.test_finbench import DATA as FINBENCH_DATA
from tests.loaders.test_finbench import MAPPING as FINBENCH_MAPPING

ACCOUNTED = {"name", "path", "rows_read", "loaded", "merged", "quarantined", "reasons", "warnings"}


def dump(store: GraphStore) -> dict[str, Any]:
    """Every node with its properties and every tie with its properties."""
    primary = [label for label in NodeLabel if label.primary is label]
    nodes = {label.value: [node.model_dump() for node in store.nodes(label)] for label in primary}
    return {"nodes": nodes, "ties": [tie.model_dump() for tie in store.ties()]}


def both_paths(
    mapping: Path, work: Path, data_dir: Path | None = None, settings: Settings | None = None
) -> dict[LoadPath, Any]:
    """Load the mapping into a fresh embedded store once per path: the dump, the reports and the quarantine."""
    outcomes = {}
    for path in LoadPath:
        with EmbeddedStore(work / f"{path}.sqlite") as store:
            report = load_mapping(
                store, mapping, work / path, today=TODAY, path=path, data_dir=data_dir, settings=settings
            )
            quarantine = read_quarantine(work / path / "quarantine.csv")
            sources = [source.model_dump(include=ACCOUNTED - {"path"}) for source in report.sources]
            outcomes[path] = (dump(store), sources, sorted(tuple(row.values()) for row in quarantine), report)
    return outcomes


def assert_same_outcome(outcomes: dict[LoadPath, Any]) -> None:
    rows, columns = outcomes[LoadPath.ROWS], outcomes[LoadPath.COLUMNS]
    assert columns[1] == rows[1]  # accounting, reasons and date warnings, source by source
    assert columns[2] == rows[2]  # quarantine: source, file, line, original line, reason, message
    assert columns[0] == rows[0]  # nodes, ties and their properties


@pytest.fixture(scope="module")
def generated_bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bank")
    generate(600, 7, path)
    return path / "mapping.yaml"


def test_generated_bank_loads_the_same_by_columns_and_by_rows(generated_bank: Path, tmp_path: Path) -> None:
    # Small batches: many batch boundaries, with rows handed to the row path on either side of them.
    outcomes = both_paths(generated_bank, tmp_path, settings=Settings(batch_size=97))
    assert_same_outcome(outcomes)
    report = outcomes[LoadPath.COLUMNS][3]
    by_columns = [source.name for source in report.sources if source.path == "columns"]
    assert {"core_accounts", "crm_family", "core_customers_person", "card_customers"} <= set(by_columns)
    assert {"wealth_holdings", "wealth_holdings_owners"} <= set(by_columns)  # an xlsx sheet, from its records
    assert report.quarantined > 0  # the generator's bad rows went through the column checks too


def test_the_generated_bank_loads_the_same_with_every_column_read_cell_by_cell(
    generated_bank: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A sample of four cells: every column of distinct cells the bank's 600 rows hold is read cell by cell.
    monkeypatch.setattr(cells, "_SAMPLE", 4)
    outcomes = both_paths(generated_bank, tmp_path, settings=Settings(batch_size=97))
    assert_same_outcome(outcomes)


@pytest.mark.slow
@pytest.mark.skipif(not FINBENCH_DATA.is_dir() and os.environ.get("CI") != "true", reason="FinBench snapshot not found")
def test_finbench_loads_the_same_by_columns_and_by_rows(tmp_path: Path) -> None:
    outcomes = both_paths(FINBENCH_MAPPING, tmp_path, FINBENCH_DATA)
    assert_same_outcome(outcomes)
    assert any(source.path == "columns" for source in outcomes[LoadPath.COLUMNS][3].sources)


def test_bad_rows_are_quarantined_alike(tmp_path: Path) -> None:
    accounts = "acct_no,cust_no,bal\nA1,C1,12\nA2,NOPE,5\nA3,C1,abc\nA1,C1,3\n,C2,4\nA5,,4\nA6,C2,１２00\nA7,C2,-\n"
    family = "cust_a,cust_b,rel_cd\nC1,C1,10\nC1,NOPE,10\nC1,C3,77\nC1,C2,20\nC1,C2,20\nC2,C1,10\n,C1,10\n"
    mapping = write_bank(tmp_path / "bank", accounts=accounts, family=family)
    outcomes = both_paths(mapping, tmp_path)
    assert_same_outcome(outcomes)
    report = outcomes[LoadPath.COLUMNS][3]
    assert [source.path for source in report.sources if source.role != "customers"] == ["columns", "columns"]
    reasons = {source.name: source.reasons for source in report.sources}
    assert reasons["accounts"] == {"bad_number": 2, "duplicate_key": 1, "missing_value": 2, "orphan": 1}
    assert reasons["family"] == {"missing_value": 1, "orphan": 1, "self_tie": 1, "unknown_code": 1}


def test_node_rows_sharing_a_key_load_the_same_by_columns_and_by_rows(tmp_path: Path) -> None:
    # A8: a row the row path loads after all (full-width digits), then a repeat; A9: a refused row, then a
    # row that loads; A10: repeated by good rows; the others alone.
    accounts = (
        "acct_no,cust_no,bal\nA8,C1,１２\nA1,C1,1\nA8,C1,7\nA9,C2,x\nA2,C2,2\nA9,C2,8\nA10,C1,1\nA10,C2,2\nA3,C1,3\n"
    )
    mapping = write_bank(tmp_path / "bank", accounts=accounts)
    outcomes = both_paths(mapping, tmp_path)
    assert_same_outcome(outcomes)
    report = outcomes[LoadPath.COLUMNS][3]
    accounts_report = next(source for source in report.sources if source.name == "accounts")
    assert accounts_report.path == "columns"
    assert (accounts_report.loaded, accounts_report.reasons) == (6, {"bad_number": 1, "duplicate_key": 2})


TIE_SOURCES = """
  - name: relatives
    system: crm
    path: crm/relatives.csv
    tie: {type_from: rel_cd, map: {"10": SPOUSE_OF, "30": [SIBLING_OF, RELATIVE_OF], "40": []}}
    source: {from: cust_a, system: core}
    target: {from: cust_b, system: core}
    columns:
      since: {from: since, type: date, format: "%Y%m%d"}
  - name: holders
    system: crm
    path: crm/holders.csv
    tie: {type: OWNS}
    source: {from: cust_no, system: core}
    target: {from: acct_no, prefix: acct-}
    columns:
      role: {from: role_cd, map: {"1": owner, "2": joint}}
"""


def test_tie_rows_load_the_same_by_columns_and_by_rows(tmp_path: Path) -> None:
    customers = "cust_no,cust_name,id_no,birth,mobile,seg_cd\n" + "".join(
        f"C{number},客户{number},,1970010{number},,01\n" for number in range(1, 6)
    )
    accounts = "acct_no,cust_no,bal\nA1,C1,1\nA2,C2,2\nA3,C3,3\n"
    mapping = write_bank(tmp_path / "bank", customers=customers, accounts=accounts)
    mapping.write_text(mapping.read_text(encoding="utf-8") + TIE_SOURCES, encoding="utf-8")
    (mapping.parent / "crm").mkdir()
    relatives = [
        "cust_a,cust_b,rel_cd,since",
        "C1,C2,10,20200101",  # made by the family source before: merged
        "C3,C2,10,20200102",  # a symmetric tie ...
        "C2,C3,10,20200103",  # ... given the other way round: merged, its date kept, the first row's ends
        "C3,C4,30,20200104",  # two ties from one row
        "C4,C3,30,",  # both made before: merged, the date removed
        "C4,C5,30,20200105",
        "C5,C4,10,20200106",  # one tie new
        "C1,C1,30,20200107",  # a self tie
        "C1,C9,10,20200108",  # an orphan
        " ,C2,10,20200109",  # no end
        "C2,C4,99,20200110",  # an unknown code
        "C2,C5,40,20200111",  # a code of no tie
        "C2,C4,10,2020011x",  # a bad date
        "Ｃ2,C4 ,10,20200112",  # full-width and spaced ends, read in Python
        "C2,C4,10,20200113",
    ]
    (mapping.parent / "crm" / "relatives.csv").write_text("\n".join(relatives) + "\n", encoding="utf-8")
    holders = "cust_no,acct_no,role_cd\nC1,A1,1\nC2,A1,2\nC1,A1,2\nC3,A9,1\nC3,A3,1\nC3,A3,3\nC1, A2,1\n"
    (mapping.parent / "crm" / "holders.csv").write_text(holders, encoding="utf-8")
    for batch in (2, 3, 100):  # batch boundaries between a tie's rows, and none
        outcomes = both_paths(
            mapping, tmp_path / str(batch), settings=Settings(batch_size=batch, table_batch_size=batch)
        )
        assert_same_outcome(outcomes)
        report = outcomes[LoadPath.COLUMNS][3]
        assert {source.name: source.path for source in report.sources}["relatives"] == "columns"
        by_name = {source.name: source for source in report.sources}
        assert by_name["relatives"].reasons == {
            "bad_date": 1,
            "missing_value": 1,
            "orphan": 1,
            "self_tie": 1,
            "unknown_code": 1,
        }
        assert by_name["holders"].reasons == {"orphan": 1, "unknown_code": 1}
        assert (by_name["holders"].loaded, by_name["holders"].merged) == (4, 1)  # link ties are not counted


def test_bad_customer_rows_are_quarantined_and_resolved_alike(tmp_path: Path) -> None:
    legacy = RID_LI[:6] + RID_LI[8:17]
    customers = (
        "cust_no,cust_name,id_no,birth,mobile,seg_cd\n"
        f"C1,张三,{RID_ZHANG},19900307,13812345678,01\n"
        f"C2,李四,{legacy},19850512,+86 139-0000-1111,02\n"
        f"C3,王五,{RID_ZHANG[:-1]}0,19700101,,01\n"  # a wrong check digit
        f"C4,,{RID_LI},19850512,,01\n"  # no name
        f"C1,赵六,{RID_LI},19850512,,01\n"  # a repeated key
        f"C5,钱七,{full_width(RID_LI)},19850512,１３９００００１１１１,01\n"  # full width: read in Python
        "C6,孙八,,19851332,13900001111,01\n"  # no real date
        "C7,周九,,19700101,12345,09\n"  # a bad mobile and an unknown segment
        f"C8,吴十,{RID_ZHANG.lower()},19900307,8613812345678,01\n"
        f" ,郑一,{RID_LI},19850512,,01\n"  # no key
    )
    holders = (
        "holder_id,holder_name,cert_no,birth,mobile,card_no\n"
        f"H1,张三,{RID_ZHANG},1990-03-07,,{CARD}\n"
        f"H2,张三,,1990-03-07,13812345678,{CARD[:-1]}{(int(CARD[-1]) + 1) % 10}\n"  # no ID; a bad card
        f"H3,张 三,,1990-03-07,13812345678,{CARD}\n"  # no ID: the scorer finds C1
        f"H1,李四,{RID_LI},1985-05-12,,\n"  # a repeated key
    )
    mapping = write_bank(tmp_path / "bank", customers=customers, holders=holders)
    outcomes = both_paths(mapping, tmp_path)
    assert_same_outcome(outcomes)
    report = outcomes[LoadPath.COLUMNS][3]
    assert [source.path for source in report.sources if source.role == "customers"] == ["columns", "columns"]
    reasons = {source.name: source.reasons for source in report.sources}
    assert reasons["core_customers"] == {
        "bad_check_digit": 1,
        "bad_date": 1,
        "bad_length": 1,
        "duplicate_key": 1,
        "missing_value": 2,
    }
    assert reasons["card_customers"] == {"bad_check_digit": 1, "duplicate_key": 1}


def test_keys_repeated_after_a_refused_row_or_in_an_earlier_source_of_the_system_load_alike(tmp_path: Path) -> None:
    customers = (
        "cust_no,cust_name,id_no,birth,mobile,seg_cd\n"
        f"C1,张三,{RID_ZHANG},19900307,13812345678,01\n"
        "C9,王五,,19701332,,01\n"  # refused (no real date): the next C9 is taken
        "C9,王五,,19700101,,01\n"
        "C9,王六,,19700101,,01\n"  # a repeated key
        f"C2,李四,{RID_LI},19850512,,02\n"
    )
    holders = (
        "holder_id,holder_name,cert_no,birth,mobile,card_no\n"
        "C2,李四,,1985-05-12,,\n"  # a key the first source of the same system holds
        f"H1,张三,{RID_ZHANG},1990-03-07,,{CARD}\n"
        "C9,王五,,1970-01-01,,\n"
    )
    mapping = write_bank(tmp_path / "bank", customers=customers, holders=holders)
    text = mapping.read_text(encoding="utf-8")
    mapping.write_text(text.replace("system: card", "system: core", 1), encoding="utf-8")
    outcomes = both_paths(mapping, tmp_path)
    assert_same_outcome(outcomes)
    report = outcomes[LoadPath.COLUMNS][3]
    assert [source.path for source in report.sources if source.role == "customers"] == ["columns", "columns"]
    reasons = {source.name: source.reasons for source in report.sources}
    assert reasons["core_customers"] == {"bad_date": 1, "duplicate_key": 1}
    assert reasons["card_customers"] == {"duplicate_key": 2}


def _sheet(path: Path, rows: list[list[Any]]) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    book.save(path)


def test_xlsx_sheets_load_the_same_by_columns_and_by_rows(tmp_path: Path) -> None:
    mapping = write_bank(tmp_path / "bank", family="cust_a,cust_b,rel_cd\n")
    text = mapping.read_text(encoding="utf-8")
    for name in ("accounts", "family"):
        text = text.replace(f"path: core/{name}.csv", f"path: core/{name}.xlsx\n    format: xlsx")
    mapping.write_text(text, encoding="utf-8")
    accounts = [["acct_no", "cust_no", "bal"], ["A1", "C1", 12.5], [None, None, None], ["Ａ２", "C2", "１２00"]]
    accounts += [["A1", "C1", 3], ["A3", "NOPE", 4], ["A4", "C2", "abc"], [" A5 ", " C1", 7], ["", "C2", 1]]
    _sheet(mapping.parent / "core" / "accounts.xlsx", accounts)
    family = [["cust_a", "cust_b", "rel_cd"], ["C1", "C2", 10], ["C1", "C1", 10], ["C1", "C2", "20"], [None] * 3]
    family += [["C2", "C1", 10], ["C1", "NOPE", 10], ["C1", "C2", 77], ["Ｃ1", "C2 ", 20]]
    _sheet(mapping.parent / "core" / "family.xlsx", family)
    outcomes = both_paths(mapping, tmp_path)
    assert_same_outcome(outcomes)
    report = outcomes[LoadPath.COLUMNS][3]
    assert [source.path for source in report.sources if source.role != "customers"] == ["columns", "columns"]
    quarantine = read_quarantine(tmp_path / "columns" / "quarantine.csv")
    lines = {(row["source"], int(row["line"])) for row in quarantine}
    assert ("accounts", 5) in lines and ("family", 3) in lines  # sheet rows, the blank row counted


def test_a_sheets_columns_are_its_records_values(tmp_path: Path) -> None:
    rows = [["id", "name", "", "bal"], ["1", "a", "x", "b"], [None] * 4, ["  "] * 4, [2, None, None, 2.5], ["3"]]
    _sheet(tmp_path / "a.xlsx", rows)
    source = Source(name="s", system="core", path="a.xlsx", format="xlsx", node="Account", key=["id"])
    raw = read_source(source, tmp_path / "a.xlsx")
    assert [record.line for record in raw.records] == [2, 5, 6]
    from_records = RawSource(raw.path, raw.columns, raw.records)
    by_columns, by_records = read_records(raw), read_records(from_records)
    assert isinstance(by_columns, PlainFile) and isinstance(by_records, PlainFile)
    assert by_columns.table.to_pylist() == by_records.table.to_pylist()
    assert by_columns.columns == ["id", "name", "bal"]
    assert by_columns.table.column("bal").to_pylist() == ["b", "2.5", ""]


@pytest.mark.parametrize("name", ["a\tb", "张\x7f三", "\x00", "ab\n", "\x1f张"])
def test_a_sheet_with_control_characters_takes_the_row_path(tmp_path: Path, name: str) -> None:
    records = [RawRecord(2, "1\tok", {"id": "1", "name": "ok"}), RawRecord(3, f"2\t{name}", {"id": "2", "name": name})]
    found = read_records(RawSource(tmp_path / "a.xlsx", ["id", "name"], records))
    assert isinstance(found, str) and "control characters" in found
    found = read_records(RawSource(tmp_path / "a.xlsx", ["id", "name"], [*records[:1], replace(records[1], values={})]))
    assert isinstance(found, PlainFile)  # (the other cells: no control character; an absent one is empty)


def source(**options: Any) -> Source:
    fields = {"name": "accounts", "system": "core", "path": "a.csv", "node": "Account", "key": ["acct_no"]}
    return Source.model_validate(fields | options)


def test_a_file_several_sources_read_is_read_and_its_end_columns_looked_up_once(
    generated_bank: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: Counter[str] = Counter()
    lookups: Counter[tuple[tuple[str, ...], str]] = Counter()
    end_ids = ties._end_ids

    def counted_read(source: Source, path: Path) -> PlainFile | str:
        reads[path.name] += 1
        return read_plain(source, path)

    def counted_lookup(cells: pa.Array, prefix: str, lookup: Any) -> Any:
        lookups[tuple(cells.to_pylist()), prefix] += 1
        return end_ids(cells, prefix, lookup)

    monkeypatch.setattr(sources, "read_plain", counted_read)
    monkeypatch.setattr(ties, "_end_ids", counted_lookup)
    with EmbeddedStore(tmp_path / "s.sqlite") as store:
        report = load_mapping(store, generated_bank, tmp_path / "r", today=TODAY)
    by_columns = {source.name for source in report.sources if source.path == "columns"}
    # accounts.csv feeds an account source and two tie sources: the owners' target is the products' source.
    assert {"core_accounts", "core_accounts_owners", "core_accounts_products"} <= by_columns
    assert reads["accounts.csv"] == 1 and set(reads.values()) == {1}
    assert sum(lookups.values()) > 0 and set(lookups.values()) == {1}


def test_a_read_is_kept_for_the_sources_left_that_read_the_file(tmp_path: Path) -> None:
    one, two = source(name="one", path="a.csv"), source(name="two", path="a.csv")
    alone, elsewhere = source(name="alone", path="b.csv"), source(name="tsv", path="a.csv", format="tsv")
    shared = SourceReads([(one, tmp_path / "a.csv"), (two, tmp_path / "a.csv"), (alone, tmp_path / "b.csv")])
    made: list[str] = []

    def make(name: str) -> Any:
        def read() -> str:
            made.append(name)
            return name

        return read

    assert shared.kept(one, tmp_path / "a.csv", make("a")) == "a"
    assert shared.kept(two, tmp_path / "a.csv", make("again")) == "a"  # the same read
    assert shared.kept(elsewhere, tmp_path / "a.csv", make("as tsv")) == "as tsv"  # read otherwise: not the same
    assert shared.kept(alone, tmp_path / "b.csv", make("b")) == "b"
    assert shared.kept(alone, tmp_path / "b.csv", make("b again")) == "b again"  # one reader: not kept
    shared.loaded(one, [tmp_path / "a.csv"])
    assert shared.kept(two, tmp_path / "a.csv", make("not again")) == "a"
    shared.loaded(two, [tmp_path / "a.csv"])  # its last reader: let go
    assert shared.kept(two, tmp_path / "a.csv", make("a once more")) == "a once more"
    assert made == ["a", "as tsv", "b", "b again", "a once more"]


def test_a_reload_by_columns_changes_nothing_and_says_unchanged(generated_bank: Path, tmp_path: Path) -> None:
    with EmbeddedStore(tmp_path / "s.sqlite") as store:
        load_mapping(store, generated_bank, tmp_path / "first", today=TODAY)
        before = dump(store)
        again = load_mapping(store, generated_bank, tmp_path / "again", today=TODAY)
        assert dump(store) == before
    for source in again.sources:
        assert (source.new, source.updated) == (0, 0), source.name
        assert source.unchanged == source.nodes_written + source.ties_written, source.name


def test_the_row_path_can_be_asked_for(generated_bank: Path, tmp_path: Path) -> None:
    with EmbeddedStore(tmp_path / "s.sqlite") as store:
        report = load_mapping(store, generated_bank, tmp_path / "r", today=date(2026, 1, 1), path=LoadPath.ROWS)
    assert {source.path for source in report.sources} == {"rows"}
    assert {source.path_note for source in report.sources} == {""}
