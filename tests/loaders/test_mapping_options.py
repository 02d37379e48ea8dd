"""Mapping options for real exports: null markers, constants, two-digit years, date warnings, the
quarantine share limit, and what the quarantine keeps of personal values."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from graph.embedded import EmbeddedStore
from graph.errors import ConfigurationError
from graph.model import NodeLabel
from loaders.load import load_mapping
from loaders.quarantine import read_quarantine
from loaders.report import LoadReport
from tests.loaders.conftest import RID_LI, RID_ZHANG, TODAY

HEAD = """
version: 1
name: options
sources:
  - name: people
    system: core
    path: people.csv
    node: Person
    key: [num]
"""


def write(folder: Path, mapping: str, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    path = folder / "mapping.yaml"
    path.write_text(mapping, encoding="utf-8")
    return path


def load(tmp_path: Path, mapping: Path) -> tuple[LoadReport, dict[str, dict[str, object]]]:
    with EmbeddedStore(tmp_path / "store.sqlite") as store:
        report = load_mapping(store, mapping, tmp_path / "report", today=TODAY)
        people = {record.id: record.properties for record in store.nodes(NodeLabel.PERSON)}
    return report, people


def test_null_markers_of_the_source_and_of_a_column_read_as_empty(tmp_path: Path) -> None:
    mapping = (
        HEAD
        + """    null_values: ["?"]
    resolve: key_only
    id_prefix: "p:"
    columns:
      name: {from: name, required: true}
      segment: {from: seg, null_values: ["NA"]}
      city: {from: city}
      income: {from: income, type: amount}
"""
    )
    people = "num,name,seg,city,income\n1,张伟,NA,?,?\n2,李娜,retail,杭州,12.5\n3,?,retail,杭州,1\n"
    report, loaded = load(tmp_path, write(tmp_path / "bank", mapping, {"people.csv": people}))
    (source,) = report.sources
    assert (source.rows_read, source.loaded, source.quarantined) == (3, 2, 1)
    assert source.reasons == {"missing_value": 1}  # "?" in a required column is a missing name
    assert loaded["p:1"] == {"name": "张伟"}  # an empty cell stores nothing
    assert loaded["p:2"]["segment"] == "retail" and loaded["p:2"]["income"] == 12.5


def test_constant_columns_give_every_row_the_same_value(tmp_path: Path) -> None:
    mapping = (
        HEAD
        + """    resolve: key_only
    id_prefix: "p:"
    columns:
      name: {from: name}
      segment: {constant: private}
      consent: {constant: "Y", map: {"Y": true, "N": false}}
      since: {constant: "20200131", type: date, format: YYYYMMDD}
"""
    )
    report, loaded = load(tmp_path, write(tmp_path / "bank", mapping, {"people.csv": "num,name\n1,张伟\n2,李娜\n"}))
    assert report.sources[0].loaded == 2
    for properties in loaded.values():
        assert (properties["segment"], properties["consent"], properties["since"]) == ("private", True, "2020-01-31")


def test_a_constant_that_its_type_cannot_read_is_a_mapping_error(tmp_path: Path) -> None:
    mapping = (
        HEAD
        + """    resolve: key_only
    columns:
      since: {constant: "2020-13-45", type: date, format: YYYY-MM-DD}
"""
    )
    with pytest.raises(ConfigurationError, match="since: the constant cannot be used"):
        load(tmp_path, write(tmp_path / "bank", mapping, {"people.csv": "num\n1\n"}))


def test_a_column_needs_from_or_constant_and_century_pivot_a_two_digit_year(tmp_path: Path) -> None:
    for columns, message in (
        ("      name: {type: text}\n", "either from"),
        ("      born: {from: b, type: date, format: YYYYMMDD, century_pivot: 1920}\n", "two-digit year"),
    ):
        mapping = write(tmp_path / "bank", HEAD + "    columns:\n" + columns, {"people.csv": "num,b\n1,x\n"})
        with pytest.raises(ConfigurationError, match=message):
            load(tmp_path, mapping)


def test_the_century_pivot_places_two_digit_years(tmp_path: Path) -> None:
    mapping = (
        HEAD
        + """    resolve: key_only
    id_prefix: "p:"
    columns:
      pivoted: {from: born, type: date, format: YYMMDD, century_pivot: 1900}
      guessed: {from: born, type: date, format: YYMMDD}
"""
    )
    people = "num,born\n1,110307\n2,991231\n3,000101\n"
    _, loaded = load(tmp_path, write(tmp_path / "bank", mapping, {"people.csv": people}))
    assert [loaded[f"p:{n}"]["pivoted"] for n in (1, 2, 3)] == ["1911-03-07", "1999-12-31", "1900-01-01"]
    # Without a pivot, a year is put in the hundred years up to today (TODAY is 2024-06-15).
    assert [loaded[f"p:{n}"]["guessed"] for n in (1, 2, 3)] == ["2011-03-07", "1999-12-31", "2000-01-01"]


def test_dates_in_the_future_or_too_far_back_are_reported_by_column(tmp_path: Path) -> None:
    mapping = (
        HEAD
        + """    resolve: key_only
    columns:
      birth_date: {from: born, type: date, format: YYYY-MM-DD}
      due: {from: due, type: date, format: YYYY-MM-DD, expect_future: true}
"""
    )
    people = "num,born,due\n1,2030-01-01,2030-01-01\n2,1890-05-05,2030-01-01\n3,1890-05-06,\n4,1980-01-01,\n"
    report, _ = load(tmp_path, write(tmp_path / "bank", mapping, {"people.csv": people}))
    (source,) = report.sources
    assert source.loaded == 4
    assert len(source.warnings) == 2
    future, ancient = source.warnings
    assert future.startswith("1 date(s) in birth_date (column born) are after 2024-06-15")
    assert ancient.startswith("2 date(s) in birth_date (column born) are more than 110 years before")
    assert not any("due" in warning for warning in source.warnings)


def test_a_bad_date_names_the_expected_format(tmp_path: Path) -> None:
    mapping = HEAD + "    resolve: key_only\n    columns:\n      born: {from: born, type: date, format: YYYYMMDD}\n"
    load(tmp_path, write(tmp_path / "bank", mapping, {"people.csv": "num,born\n1,1990-03-07\n"}))
    (row,) = read_quarantine(tmp_path / "report" / "quarantine.csv")
    assert row["reason"] == "bad_date" and "YYYYMMDD" in row["message"]


def test_a_missing_column_shows_the_header_that_was_read(tmp_path: Path) -> None:
    mapping = HEAD + "    resolve: key_only\n    columns:\n      name: {from: name}\n"
    with pytest.raises(ConfigurationError) as raised:
        load(tmp_path, write(tmp_path / "bank", mapping, {"people.csv": "num;name\n1;张伟\n"}))
    message = str(raised.value)
    assert "lacks column(s) name, num" in message
    assert "'num;name'" in message and "delimiter" in message


def test_quarantined_lines_mask_personal_values(tmp_path: Path) -> None:
    mapping = (
        HEAD
        + """    columns:
      name: {from: name, required: true}
      resident_id: {from: rid, type: resident_id}
      phone: {from: mobile, type: mobile}
"""
    )
    zhang = f"1,张伟,{RID_ZHANG},13812345678\n"
    people = f"num,name,rid,mobile\n{zhang}{zhang}2,,{RID_LI},13900001111\n"
    report, _ = load(tmp_path, write(tmp_path / "bank", mapping, {"people.csv": people}))
    assert report.sources[0].quarantined == 2
    text = (tmp_path / "report" / "quarantine.csv").read_text(encoding="utf-8")
    for clear in (RID_ZHANG, RID_LI, "13812345678", "13900001111"):
        assert clear not in text
    lines = {int(row["line"]): row["original_line"] for row in read_quarantine(tmp_path / "report" / "quarantine.csv")}
    assert lines[3] == f"1,张伟,{'*' * 16}{RID_ZHANG[-2:]},*********78"
    assert lines[4].startswith("2,,") and lines[4].endswith(",*********11")


def test_the_load_fails_when_a_source_quarantines_more_than_allowed(tmp_path: Path) -> None:
    mapping = HEAD + "    resolve: key_only\n    columns:\n      born: {from: born, type: date, format: YYYYMMDD}\n"
    people = "num,born\n" + "".join(f"{n},19900101\n" for n in range(1, 20)) + "20,1990-01-01\n"
    path = write(tmp_path / "bank", mapping, {"people.csv": people})
    env = {"CRM_GRAPH_EMBEDDED_PATH": str(tmp_path / "store.sqlite"), "COLUMNS": "60"}

    def run(*options: str) -> tuple[int, str]:
        result = CliRunner().invoke(app, ["load", str(path), "--report-dir", str(tmp_path / "r"), *options], env=env)
        return result.exit_code, " ".join(result.output.split())

    code, output = run()  # 1 of 20 rows is 5%: not more than the default
    assert code == 0, output
    code, output = run("--max-quarantine-share", "0.01")
    assert code == 1
    assert "source people: 1 of 20 rows quarantined (5.0%, more than 1.0%): bad_date 1" in output
    assert "Traceback" not in output


def test_an_orphan_whose_owner_was_quarantined_says_where(tmp_path: Path) -> None:
    mapping = (
        HEAD
        + """    columns:
      name: {from: name, required: true}
  - name: accounts
    system: core
    path: accounts.csv
    node: Account
    key: [acct]
    id_prefix: "a:"
    links:
      - {type: OWNS, from: owner, system: core}
"""
    )
    files = {"people.csv": "num,name\n1,张伟\n2,\n", "accounts.csv": "acct,owner\nA1,1\nA2,2\nA3,3\n"}
    report, _ = load(tmp_path, write(tmp_path / "bank", mapping, files))
    assert [source.quarantined for source in report.sources] == [1, 2]
    rows = read_quarantine(tmp_path / "report" / "quarantine.csv")
    messages = {(row["source"], row["line"]): row["message"] for row in rows}
    assert messages["accounts", "3"].endswith("(its row was quarantined: people people.csv line 3)")  # A2's owner
    assert "quarantined" not in messages["accounts", "4"]  # A3's owner was never there


def test_a_line_refused_for_its_shape_masks_the_numbers_in_it(tmp_path: Path) -> None:
    mapping = HEAD + "    resolve: key_only\n    columns:\n      name: {from: name}\n"
    people = f"num,name\n1,张伟,{RID_ZHANG},138 1234 5678\n2,李娜\n"  # line 2 has two fields too many
    report, _ = load(tmp_path, write(tmp_path / "bank", mapping, {"people.csv": people}))
    assert (report.sources[0].loaded, report.sources[0].quarantined) == (1, 1)
    (row,) = read_quarantine(tmp_path / "report" / "quarantine.csv")
    assert row["reason"] == "malformed_line" and row["original_line"].startswith("1,张伟,")
    assert RID_ZHANG not in row["original_line"] and "5678" not in row["original_line"].replace(" ", "")[:-4]
    assert "1234" not in row["original_line"]
