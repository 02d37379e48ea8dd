"""Readers: physical line numbers, strict decoding, exact ids, every format."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from graph.errors import SourceError
from loaders.decode import decode_lines
from loaders.delimited import parse_csv
from loaders.mapping import Source
from loaders.quarantine import QuarantineReason
from loaders.raw import Undecodable
from loaders.read import count_records, parse_jsonl, read_source, stream_source

BIG_ID = "4614219293217785425"  # > 2^53: a float would change it


def numbered(text: str) -> list[tuple[int, str]]:
    return list(enumerate(text.split("\n"), start=1))


def test_parse_csv_keeps_physical_line_numbers_and_text() -> None:
    header, records = parse_csv(numbered('id,name\n1,a\n\n2,"multi\nline"\n3,c'))
    assert header == ["id", "name"]
    assert [(r.line, r.values.get("id")) for r in records] == [(2, "1"), (4, "2"), (6, "3")]
    assert records[1].values["name"] == "multi\nline"
    assert records[1].text == '2,"multi\nline"'


def test_parse_csv_flags_wrong_field_count_and_undecodable_lines() -> None:
    _, records = parse_csv([(1, "id,name"), (2, "1,a,extra"), (3, Undecodable("3,\\xff")), (4, "4,d")])
    assert [(r.line, r.problem) for r in records] == [
        (2, QuarantineReason.MALFORMED_LINE),
        (3, QuarantineReason.BAD_ENCODING),
        (4, None),
    ]


def test_parse_csv_refuses_an_empty_file() -> None:
    with pytest.raises(SourceError):
        parse_csv([])


def test_decode_lines_is_strict_per_line_and_keeps_the_bytes_of_a_bad_line_escaped() -> None:
    data = "id,name\n1,张三\n".encode("gbk") + b"2,\xff\xff\n" + "3,李四\n".encode("gbk")
    lines = list(decode_lines(data, "gbk"))
    assert lines == [(1, "id,name"), (2, "1,张三"), (3, "2,\\xff\\xff"), (4, "3,李四")]
    assert [isinstance(text, Undecodable) for _, text in lines] == [False, False, True, False]


def test_read_gbk_file(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes("编号,姓名\n1,张三\n2,王五\n".encode("gbk"))
    source = Source(name="s", system="core", path="c.csv", encoding="gbk", node="Person", key=["编号"])
    raw = read_source(source, path)
    assert raw.columns == ["编号", "姓名"]
    assert [r.values["姓名"] for r in raw.records] == ["张三", "王五"]


def test_a_line_that_does_not_decode_is_quarantined_with_its_bytes_escaped(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes("id,name\n1,张三\n".encode("gbk") + b"2,\x80\xff\n")
    source = Source(name="s", system="core", path="c.csv", encoding="gbk", node="Person", key=["id"])
    records = read_source(source, path).records
    assert records[0].problem is None
    assert (records[1].problem, records[1].line, records[1].text) == (QuarantineReason.BAD_ENCODING, 3, "2,\\x80\\xff")


def test_unreadable_file_raises_source_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "c.xlsx"
    path.write_text("not a workbook")
    source = Source(name="s", system="core", path="c.xlsx", format="xlsx", node="Person", key=["id"])
    with pytest.raises(SourceError, match=r"c\.xlsx"):
        read_source(source, path)


def test_jsonl_keeps_big_ids_exact() -> None:
    columns, records = parse_jsonl([(1, json.dumps({"id": int(BIG_ID), "x": 1.5})), (2, "{bad"), (3, "[1]")])
    assert columns == ["id", "x"]
    assert records[0].values == {"id": BIG_ID, "x": "1.5"}
    assert [r.problem for r in records[1:]] == [QuarantineReason.MALFORMED_LINE] * 2


def test_parquet_rows_are_numbered_from_two_and_ids_stay_exact(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "a.parquet"
    pq.write_table(pa.table({"id": pa.array([int(BIG_ID), 7], pa.int64()), "name": ["a", None]}), path)
    source = Source(name="s", system="core", path="a.parquet", format="parquet", node="Account", key=["id"])
    records = read_source(source, path).records
    assert [(r.line, r.values["id"], r.values["name"]) for r in records] == [(2, BIG_ID, "a"), (3, "7", "")]


def test_xlsx_rows_are_sheet_rows(tmp_path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in (["id", "name"], [BIG_ID, "a"], [None, None], ["9", "b"]):
        sheet.append(row)
    path = tmp_path / "a.xlsx"
    book.save(path)
    source = Source(name="s", system="core", path="a.xlsx", format="xlsx", node="Account", key=["id"])
    records = read_source(source, path).records
    assert [(r.line, r.values["id"]) for r in records] == [(2, BIG_ID), (4, "9")]


def _decode_whole(data: bytes, encoding: str) -> list[tuple[int, str]]:
    """The reference: decode the whole file, or every line on its own when the whole does not decode."""
    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        lines = [line.rstrip("\r") for line in data.decode(encoding).split("\n")]
    except UnicodeDecodeError:
        lines = []
        for chunk in data.split(b"\n"):
            try:
                lines.append(chunk.decode(encoding).rstrip("\r"))
            except UnicodeDecodeError:
                lines.append(Undecodable(chunk.decode(encoding, "backslashreplace").rstrip("\r")))
    if lines and lines[-1] == "":
        lines.pop()
    return list(enumerate(lines, start=1))


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
@pytest.mark.parametrize("bad", [False, True])
def test_decoding_in_chunks_gives_the_lines_of_the_whole_file(
    monkeypatch: pytest.MonkeyPatch, encoding: str, bad: bool
) -> None:
    mark = "" if encoding.startswith("gb") else "\ufeff"  # a BOM starting a later line (not in GBK)
    text = f'id,name\r\n1,张三\n\n2,"multi\nline 王"\n{mark}3,c\n' * 5 + "4,last"
    data = b"\xef\xbb\xbf" + text.encode("gbk" if encoding.startswith("gb") else "utf-8")
    if bad:
        data = data.replace(b"4,last", b"4,\xff\xfe")
    monkeypatch.setattr("loaders.decode.CHUNK_BYTES", 7)
    assert list(decode_lines(data, encoding)) == _decode_whole(data, encoding)
    _, chunked = parse_csv(decode_lines(data, encoding))
    _, whole = parse_csv(_decode_whole(data, encoding))
    assert chunked == whole


def test_streamed_records_match_read_records(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text('id,name\n1,a\n2,"x\ny"\n3\n4,"open\n', encoding="utf-8")
    source = Source(name="s", system="core", path="a.csv", node="Person", key=["id"])
    assert list(stream_source(source, path)) == read_source(source, path).records
    assert count_records(source, path) >= len(read_source(source, path).records)


def test_xlsx_cells_read_as_text_like_csv_cells(tmp_path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["id", "amount", "opened", "flag"])
    sheet.append([12345, 1.5, datetime(2021, 3, 4), True])
    sheet.append([None, None, None, None])
    sheet.append(["A-1", 2.0, "2021-03-05", False])
    path = tmp_path / "a.xlsx"
    book.save(path)
    source = Source(name="s", system="core", path="a.xlsx", format="xlsx", node="Account", key=["id"])
    records = read_source(source, path).records
    assert [(r.line, r.values) for r in records] == [
        (2, {"id": "12345", "amount": "1.5", "opened": "2021-03-04T00:00:00", "flag": "true"}),
        (4, {"id": "A-1", "amount": "2", "opened": "2021-03-05", "flag": "false"}),
    ]
