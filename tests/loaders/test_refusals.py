"""Files refused before anything is written: a wrong declared encoding, control characters or repeated
names in the header; and keys with control characters, quarantined one row at a time."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from graph.embedded import EmbeddedStore
from graph.errors import SourceError
from graph.model import NodeLabel
from graph.store import GraphStore
from loaders.decode import encoding_problem
from loaders.load import load_mapping
from loaders.quarantine import read_quarantine

MAPPING = """
version: 1
name: refusals
sources:
  - name: people
    system: core
    path: people.csv
    encoding: ENCODING
    node: Person
    key: [cust_no]
    columns:
      name: {from: cust_name}
"""

NAMES = ["张伟", "王芳", "李娜", "刘洋"]


def write_people(folder: Path, text: str, *, declared: str = "utf-8", written: str = "utf-8") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "people.csv").write_bytes(text.encode(written))
    (folder / "mapping.yaml").write_text(MAPPING.replace("ENCODING", declared), encoding="utf-8")
    return folder / "mapping.yaml"


def people(names: list[str] = NAMES) -> str:
    return "cust_no,cust_name\n" + "".join(f"C{n},{name}\n" for n, name in enumerate(names))


def test_utf8_text_read_as_gbk_is_seen_as_mojibake() -> None:
    sample = people().encode("utf-8")
    assert "张伟".encode().decode("gbk") == "寮犱紵"  # what a load would have stored
    assert encoding_problem(sample, "gbk") == "declared gbk, but its text is UTF-8 (read as gbk it would be garbled)"
    assert encoding_problem(sample, "gb18030") is not None
    assert encoding_problem(sample, "utf-8") is None


def test_gbk_text_read_as_utf8_fails_on_most_lines_and_gb18030_is_named() -> None:
    problem = encoding_problem(people().encode("gbk"), "utf-8")
    assert problem is not None and problem.startswith("declared utf-8, but 4 of the 4 sampled lines with non-ASCII")
    assert problem.endswith("do not decode; the likely encoding is gb18030")
    assert encoding_problem(people().encode("gbk"), "gbk") is None


def test_a_few_bad_lines_do_not_refuse_a_file_and_ascii_needs_no_judgement() -> None:
    sample = people().encode("gbk") + b"C9,\xff\xff\n"
    assert encoding_problem(sample, "gbk") is None
    assert encoding_problem(b"cust_no,cust_name\nC1,Smith\n", "gbk") is None


@pytest.mark.parametrize(("declared", "written"), [("gbk", "utf-8"), ("gb18030", "utf-8"), ("utf-8", "gbk")])
def test_a_file_in_another_encoding_is_refused_with_nothing_written(
    store: GraphStore, tmp_path: Path, declared: str, written: str
) -> None:
    mapping = write_people(tmp_path / "bank", people(), declared=declared, written=written)
    with pytest.raises(SourceError, match=rf"people\.csv is refused, nothing was loaded: declared {declared}"):
        load_mapping(store, mapping, tmp_path / "report")
    assert sum(store.counts().nodes.values()) == 0


def test_a_line_that_does_not_decode_is_quarantined_with_its_bytes(tmp_path: Path) -> None:
    mapping = write_people(tmp_path / "bank", people(), declared="gbk", written="gbk")
    with (tmp_path / "bank" / "people.csv").open("ab") as export:
        export.write(b"C9,\xff\xfe\n")
    with EmbeddedStore(tmp_path / "store.sqlite") as store:
        report = load_mapping(store, mapping, tmp_path / "report").sources[0]
    assert (report.rows_read, report.loaded, report.reasons) == (5, 4, {"bad_encoding": 1})
    (row,) = read_quarantine(tmp_path / "report" / "quarantine.csv")
    assert (row["line"], row["original_line"]) == ("6", "C9,\\xff\\xfe")


def test_the_command_line_refuses_it_in_one_line_and_a_non_zero_exit(tmp_path: Path) -> None:
    mapping = write_people(tmp_path / "bank", people(), declared="gbk")
    result = CliRunner(env={"CRM_GRAPH_EMBEDDED_PATH": str(tmp_path / "store.sqlite"), "COLUMNS": "60"}).invoke(
        app, ["load", str(mapping), "--report-dir", str(tmp_path / "report")]
    )
    assert result.exit_code == 1
    message = " ".join(result.output.split())
    assert "people.csv is refused, nothing was loaded: declared gbk, but its text is UTF-8" in message
    assert "Traceback" not in result.output


def test_a_control_character_in_the_header_is_refused_naming_the_column_and_character(tmp_path: Path) -> None:
    mapping = write_people(tmp_path / "bank", "cust\x00no,cust_name\nC1,张伟\n")
    with EmbeddedStore(tmp_path / "store.sqlite") as store, pytest.raises(SourceError) as refused:
        load_mapping(store, mapping, tmp_path / "report")
    assert "header column 1 ('cust\\x00no') holds the control character U+0000 (NUL)" in str(refused.value)


def test_a_column_named_twice_is_refused_naming_it(tmp_path: Path) -> None:
    mapping = write_people(tmp_path / "bank", "cust_no,cust_name,cust_name\nC1,张伟,\n")
    with EmbeddedStore(tmp_path / "store.sqlite") as store, pytest.raises(SourceError) as refused:
        load_mapping(store, mapping, tmp_path / "report")
    assert str(refused.value).endswith("header names column 'cust_name' twice (columns 2 and 3)")
    assert "\n" not in str(refused.value)


def test_unnamed_columns_may_repeat(tmp_path: Path) -> None:
    mapping = write_people(tmp_path / "bank", "cust_no,cust_name,,\nC1,张伟,,\n")
    with EmbeddedStore(tmp_path / "store.sqlite") as store:
        assert load_mapping(store, mapping, tmp_path / "report").sources[0].loaded == 1


def test_a_key_with_a_control_character_is_quarantined_and_the_rest_loads(store: GraphStore, tmp_path: Path) -> None:
    mapping = write_people(tmp_path / "bank", "cust_no,cust_name\nC\x001,张伟\nC2,王芳\nC\x1b3,李娜\n")
    report = load_mapping(store, mapping, tmp_path / "report").sources[0]
    assert {record.id for record in store.nodes(NodeLabel.SOURCE_RECORD)} == {"core:C2"}
    assert (report.rows_read, report.loaded, report.reasons) == (3, 1, {"control_character": 2})
    rows = read_quarantine(tmp_path / "report" / "quarantine.csv")
    assert [(row["line"], row["message"]) for row in rows] == [
        ("2", "key column cust_no holds the control character U+0000 (NUL)"),
        ("4", "key column cust_no holds the control character U+001B (ESC)"),
    ]
