"""Every physical line of a delimited file is accounted for, whatever its quotes: loaded or quarantined."""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from graph.model import NodeLabel
from graph.store import GraphStore
from loaders.delimited import parse_csv
from loaders.load import load_mapping
from loaders.mapping import Source
from loaders.quarantine import QuarantineReason, read_quarantine
from loaders.raw import RawRecord
from loaders.read import count_records, read_source

PEOPLE_MAPPING = """
version: 1
name: quoting
sources:
  - name: people
    system: core
    path: people.FORMAT
    format: FORMAT
    node: Person
    key: [cust_no]
    columns:
      name: {from: cust_name}
      city: {from: city}
"""


def numbered(text: str) -> list[tuple[int, str]]:
    return list(enumerate(text.split("\n"), start=1))


def write_people(folder: Path, lines: list[str], file_format: str = "csv") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    separator = "\t" if file_format == "tsv" else ","
    header = separator.join(["cust_no", "cust_name", "city"])
    body = "\n".join([header, *(line.replace(",", separator) for line in lines)]) + "\n"
    (folder / f"people.{file_format}").write_text(body, encoding="utf-8")
    (folder / "mapping.yaml").write_text(PEOPLE_MAPPING.replace("FORMAT", file_format), encoding="utf-8")
    return folder / "mapping.yaml"


def test_a_stray_quote_inside_an_unquoted_field_is_a_literal_character_as_in_python_csv() -> None:
    header, records = parse_csv(numbered('id,name,city\nQ1,张"三,京\n2,b,c\nQ2,李"四,沪\n3,e,f'))
    assert header == ["id", "name", "city"]
    assert [(r.line, r.values["name"]) for r in records] == [(2, '张"三'), (3, "b"), (4, '李"四'), (5, "e")]
    assert [record.values for record in records] == list(
        csv.DictReader(io.StringIO('id,name,city\nQ1,张"三,京\n2,b,c\nQ2,李"四,沪\n3,e,f'))
    )


def test_an_unterminated_quote_ends_at_the_next_line_that_reads_as_a_record() -> None:
    _, records = parse_csv(numbered('id,name,city\n1,"open,a\nnot a record\n\n2,b,c\n3,d,e'))
    assert [(r.line, r.problem, r.values.get("id")) for r in records] == [
        (2, QuarantineReason.UNTERMINATED_QUOTE, None),
        (3, QuarantineReason.UNTERMINATED_QUOTE, None),
        (5, None, "2"),
        (6, None, "3"),
    ]
    assert records[0].message == "quoted value does not close before line 5, which reads as a record on its own"
    assert records[1].text == "not a record" and "opened on line 2" in records[1].message


def test_quoted_values_may_span_lines_and_hold_delimiters() -> None:
    _, records = parse_csv(numbered('id,name\n1,"multi\nline"\n2,"a,\nb,c"\n3,"x""y"'))
    assert [(r.line, r.lines, r.values["name"]) for r in records] == [
        (2, 2, "multi\nline"),
        (4, 2, "a,\nb,c"),
        (6, 1, 'x"y'),
    ]


def test_a_quoted_value_followed_by_more_text_is_a_stray_quote_and_a_lone_carriage_return_malformed() -> None:
    _, records = parse_csv([(1, "id,name"), (2, '1,"ab"c'), (3, "2,x\ry"), (4, '3,"x\ry"')])
    assert [(r.line, r.problem) for r in records] == [
        (2, QuarantineReason.STRAY_QUOTE),
        (3, QuarantineReason.MALFORMED_LINE),
        (4, None),
    ]


def _random_line(rng: random.Random) -> str:
    return "".join(rng.choice(['"', ",", "a", "b", "张", " ", "\r", '""']) for _ in range(rng.randint(0, 8)))


def test_records_and_blank_lines_cover_every_line_once() -> None:
    """The records' line spans, the header and the blank lines add up to the file's lines, in order."""
    for seed in range(300):
        rng = random.Random(seed)
        lines = ["id,name,city"] + [_random_line(rng) for _ in range(rng.randint(0, 30))]
        _, records = parse_csv(list(enumerate(lines, start=1)))
        _assert_lines_covered(lines, records)


def test_rows_read_reconcile_with_the_lines_counted_on_the_bytes(tmp_path: Path) -> None:
    """The progress count, made on the file's bytes apart from the parser, matches the lines the records hold."""
    source = Source(name="s", system="core", path="a.csv", node="Person", key=["id"])
    for seed in range(100):
        rng = random.Random(seed)
        lines = ["id,name,city"] + [_random_line(rng) for _ in range(rng.randint(0, 30))]
        path = tmp_path / "a.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8", newline="")
        spanned = [
            number
            for record in read_source(source, path).records
            for number in range(record.line, record.line + record.lines)
            if lines[number - 1].strip()
        ]
        assert len(spanned) == count_records(source, path), lines


def _assert_lines_covered(lines: list[str], records: list[RawRecord]) -> None:
    covered = [line for record in records for line in range(record.line, record.line + record.lines)]
    assert covered == sorted(set(covered)), "records overlap or go back"
    uncovered = set(range(2, len(lines) + 1)) - set(covered)
    assert all(not lines[number - 1].strip() for number in uncovered), "a non-blank line is in no record"
    for record in records:
        if record.problem is None:
            assert len(record.values) == 3


def test_well_formed_files_read_as_python_csv_reads_them() -> None:
    rng = random.Random(7)
    rows = [["id", "name", "city"]]
    rows += [[str(n), _random_line(rng), _random_line(rng)] for n in range(500)]
    rows = [[cell.replace("\r", "") for cell in row] for row in rows]  # csv.writer leaves a lone CR unquoted
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    header, records = parse_csv(numbered(buffer.getvalue().removesuffix("\n")))
    assert [header, *([r.values[c] for c in header] for r in records)] == rows
    assert all(record.problem is None for record in records)


def _counting_csv_reader(seen: list[int]) -> Any:
    real = csv.reader

    def reader(lines: Any, *args: Any, **kwargs: Any) -> Iterator[list[str]]:
        lines = list(lines)
        seen.append(sum(len(line) for line in lines))
        return real(lines, *args, **kwargs)

    return reader


@pytest.mark.parametrize("after", [1_000, 4_000])
def test_an_unterminated_quote_costs_work_linear_in_the_lines_after_it(
    monkeypatch: pytest.MonkeyPatch, after: int
) -> None:
    """Counted, not timed: the text handed to the csv module grows with the lines, not with their square."""
    line = "k,v,w,x"  # four fields: never a record on its own for a three-column header
    text = "\n".join(["id,name,city", '1,"never closed,a', *[line] * after, "2,b,c"])
    seen: list[int] = []
    monkeypatch.setattr(csv, "reader", _counting_csv_reader(seen))
    _, records = parse_csv(numbered(text))
    assert [r.problem for r in records] == [QuarantineReason.UNTERMINATED_QUOTE] * (after + 1) + [None]
    assert [r.line for r in records] == list(range(2, after + 4))
    assert sum(seen) <= 3 * len(text)


def _load(store: GraphStore, mapping: Path, tmp_path: Path) -> tuple[Any, set[str], list[dict[str, str]]]:
    report = load_mapping(store, mapping, tmp_path / "report")
    keys = {record.id.removeprefix("core:") for record in store.nodes(NodeLabel.SOURCE_RECORD)}
    return report.sources[0], keys, read_quarantine(tmp_path / "report" / "quarantine.csv")


@pytest.mark.parametrize("file_format", ["csv", "tsv"])
def test_the_stray_quote_file_loads_every_row(store: GraphStore, tmp_path: Path, file_format: str) -> None:
    lines = ['Q1,张"三,北京', *(f"C{n},name{n},上海" for n in range(1_000)), 'Q2,李"四,广州']
    lines += [f"D{n},name{n},深圳" for n in range(10)]
    mapping = write_people(tmp_path / "bank", lines, file_format)
    report, keys, quarantined = _load(store, mapping, tmp_path)
    assert report.rows_read == 1_012 == report.loaded + report.merged + report.quarantined
    assert (report.loaded, quarantined) == (1_012, [])
    assert keys == {line.split(",")[0] for line in lines}
    names = {record.properties["name"] for record in store.nodes(NodeLabel.PERSON)}
    assert {'张"三', '李"四'} <= names


def test_an_unterminated_quote_quarantines_its_lines_and_loads_the_rest(store: GraphStore, tmp_path: Path) -> None:
    lines = ['Q1,"张三,北京', "broken line", *(f"C{n},name{n},上海" for n in range(100))]
    mapping = write_people(tmp_path / "bank", lines)
    report, keys, quarantined = _load(store, mapping, tmp_path)
    assert report.rows_read == 102 == report.loaded + report.quarantined
    assert report.reasons == {"unterminated_quote": 2}
    assert [(row["line"], row["reason"], row["original_line"]) for row in quarantined] == [
        ("2", "unterminated_quote", 'Q1,"张三,北京'),
        ("3", "unterminated_quote", "broken line"),
    ]
    assert keys == {f"C{n}" for n in range(100)}
