"""The bulk path's readers against the row path's: plain files read whole and checked over their bytes, cells
typed in Arrow as the row path types them, date counts, and rows and ties taken at once."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from loaders.bulk import cells
from loaders.bulk.cells import TypedColumn, date_counts, each_distinct, read_distinct, vectorised_reader
from loaders.bulk.read import PlainFile, read_plain
from loaders.bulk.sources import TypedFile, count_dates, record_at, records_at, take_rows
from loaders.bulk.ties import _first_and_last
from loaders.mapping import Column, Source
from loaders.read import read_source
from loaders.transform import RowProblem, cell_transform
from tests.loaders.test_bulk_path import source


@pytest.mark.parametrize(
    ("content", "encoding", "why"),
    [
        (b'acct_no,bal\nA1,"1,000"\n', "utf-8", "holds quoted values"),
        (b"acct_no,bal\r\nA1,1\r\n", "utf-8", "carriage returns"),
        (b"acct_no,bal\nA1,1\n\nA2,2\n", "utf-8", "blank lines"),
        (b"acct_no,bal\nA1,1,2\n", "utf-8", "another number of fields"),
        (b"acct_no,bal\nA1,\xff\n", "utf-8", "do not decode as utf-8"),
        (b"acct_no,bal\nA\x001,1\n", "utf-8", "control characters"),
        ("acct_no,bal\nA1,张\x7f三\n".encode(), "utf-8", "control characters"),
        ("acct_no,bal\nA1,张\x1f三\n".encode("gbk"), "gbk", "control characters"),
        (b"acct_no,bal\nA1,1\t2\n", "utf-8", "control characters"),
        (b"acct_no,bal\nA1,1\n \nA2,2\n", "utf-8", "blank lines"),
        ("\ufeffacct_no,bal\nA1,1\n".encode(), "utf-8", "byte order mark"),
    ],
)
def test_a_file_that_is_not_plain_says_why(tmp_path: Path, content: bytes, encoding: str, why: str) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes(content)
    found = read_plain(source(encoding=encoding), path)
    assert isinstance(found, str) and why in found


def test_a_plain_file_is_read_whole_and_counted_from_its_bytes(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes("acct_no,name\nA1,张三\nA2,\n".encode("gbk"))
    found = read_plain(source(encoding="gbk"), path)
    assert isinstance(found, PlainFile)
    assert found.rows_in_bytes == 2
    assert found.table.to_pylist() == [{"acct_no": "A1", "name": "张三"}, {"acct_no": "A2", "name": ""}]


@pytest.mark.parametrize("at", [None, 0, (1 << 20) - 1, 1 << 20, 3 * (1 << 20) + 5])
def test_the_bytes_of_a_file_over_several_slices_are_all_looked_at(tmp_path: Path, at: int | None) -> None:
    # A file of several megabyte slices: a control character anywhere after the header (at a slice's first
    # or last byte too) is found, and every line is counted.
    lines = [b"acct_no,bal"] + [b"A%07d,%d" % (row, row % 1000) for row in range(400_000)]
    content = bytearray(b"\n".join(lines) + b"\n")
    if at is not None:
        at = max(at, len(lines[0]) + 1)
        content[at] = 0x01 if content[at] != 0x0A else 0x7F
    path = tmp_path / "a.csv"
    path.write_bytes(bytes(content))
    found = read_plain(source(), path)
    if at is None:
        assert isinstance(found, PlainFile) and found.rows_in_bytes == 400_000
    else:
        assert isinstance(found, str) and "control characters" in found


TRICKY_CELLS = [
    "12",
    "-3",
    "+.5",
    "0012",
    "1e5",
    "2.5E-3",
    "1e999",
    " 12",
    "12 ",
    "１２",
    "nan",
    "inf",
    "1_000",
    "",
    "-",
    "NA",
    "12.345",
    "12.3",
    "12.",
    "1,000.50",
    "(5)",
    "¥12",
    "99999999999999999",
    "1.0;2.5;3",
    "1;;2",
    "1;x",
    ";",
    "张三",
    "retail",
    "  retail  ",
    "a|b",
    # Text in other scripts: Python strips its own whitespace (ideographic, no-break, line separators...).
    "\u3000张三",
    "张三\u3000",
    "张\u3000三",
    "\xa0张三",
    "张三\x85",
    "张三\u2028",
    "\u200b张三",
    "ＡＢＣ张三",
    "张三\n李四",
    "é",
    # Dates and times of the fixed-width patterns, and near misses.
    "20240229",
    "20230229",
    "20000229",
    "19000229",
    "00010101",
    "00000101",
    "20241301",
    "20240431",
    "20240100",
    "2024-02-29",
    "2023-02-29",
    "2024-1-05",
    "2024-01-05 23:59:59",
    "2024-01-05 24:00:00",
    "2024-01-05 12:60:00",
    "2024-01-05 12:00:60",
    "2024-01-05T12:00:00",
    "２０２４０１０５",
]


DATE_FORMATS = [None, "YYYYMMDD", "%Y%m%d", "YYYY-MM-DD", "%Y-%m-%d %H:%M:%S", "YYYY/MM/DD"]


@pytest.mark.parametrize("kind", ["text", "integer", "number", "amount", "float_list", "date", "datetime"])
@pytest.mark.parametrize(
    "options",
    [{}, {"null_values": ["NA", "12"]}, {"prefix": "P-"}, {"required": True}, {"half_width": True}]
    + [{"format": pattern} for pattern in DATE_FORMATS],
)
def test_cells_read_in_arrow_read_as_the_row_path_reads_them(kind: str, options: dict[str, Any]) -> None:
    if ("prefix" in options and kind != "text") or ("format" in options and kind not in ("date", "datetime")):
        return
    column = Column.model_validate({"from": "cell", "type": kind, **options})
    cells = pa.array(TRICKY_CELLS * 2, pa.string())
    by_python = each_distinct(cells, cell_transform(column))
    by_arrow = each_distinct(cells, cell_transform(column), vectorised_reader(column))
    assert by_arrow[0].to_pylist() == by_python[0].to_pylist()
    assert by_arrow[1].tolist() == by_python[1].tolist()


CREDIT_CODE_CELLS = [
    "91350100M000100Y43",
    "91350100m000100y43",
    " 91350100M000100Y43",
    "91350100-M000100Y43",
    "9135 0100M000100Y43",
    "91350100M000100Y44",  # a wrong check character
    "91350100M000100Y4",
    "91350100M000100Y433",
    "91350100I000100Y43",  # a letter outside the alphabet
    "９１３５０１００Ｍ０００１００Ｙ４３",
    "NA",
    "",
    "-",
]


@pytest.mark.parametrize("options", [{}, {"null_values": ["NA"]}, {"required": True}, {"half_width": True}])
def test_credit_codes_read_in_arrow_read_as_the_row_path_reads_them(options: dict[str, Any]) -> None:
    column = Column.model_validate({"from": "cell", "type": "credit_code", **options})
    cells = pa.array(CREDIT_CODE_CELLS * 2, pa.string())
    by_python = each_distinct(cells, cell_transform(column))
    by_arrow = each_distinct(cells, cell_transform(column), vectorised_reader(column))
    assert by_arrow[0].to_pylist() == by_python[0].to_pylist()
    assert by_arrow[1].tolist() == by_python[1].tolist()
    assert by_python[0].to_pylist()[:5] == ["91350100M000100Y43"] * 5
    reader = vectorised_reader(column)
    assert reader is not None  # the plain codes are read in Arrow, the others (a space around) left to Python
    assert reader(pa.array(CREDIT_CODE_CELLS[:5]))[0].to_pylist() == [True, True, False, True, True]


def test_a_column_of_distinct_cells_is_read_cell_by_cell_as_by_its_distinct_cells(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A column of few distinct values is read by its distinct cells.
    dates = pa.array([f"2024{month:02}{day:02}" for month in range(1, 13) for day in range(1, 29)] * 300)
    assert read_distinct(dates, str)[2] is not None
    # Balance lists, mostly distinct and plain; every twentieth cell one of the tricky ones (read in Python,
    # each text once, some refused), repeated.
    monkeypatch.setattr(cells, "_SAMPLE", 64)
    column = Column.model_validate({"from": "cell", "type": "float_list", "format": ";"})
    texts = [f"{row}.5;{row % 97};-{row}e-3" for row in range(4_000)]
    texts[::20] = [TRICKY_CELLS[row % len(TRICKY_CELLS)] for row in range(len(texts[::20]))]
    read = cell_transform(column)
    typed, refused, indices = read_distinct(pa.array(texts, pa.string()), read, vectorised_reader(column))
    assert indices is None  # read cell by cell
    expected, expected_refused = [], []
    for text in texts:
        try:
            expected.append(read(text))
            expected_refused.append(False)
        except RowProblem:
            expected.append(None)
            expected_refused.append(True)
    assert typed.to_pylist() == expected
    assert refused.tolist() == expected_refused
    assert any(expected_refused) and not all(expected_refused)


@pytest.mark.parametrize(
    ("column", "read", "left"),
    [
        (
            {"type": "date", "format": "YYYYMMDD"},
            {"20240229": "2024-02-29"},
            ["20230229", "00000101", "２０２４０１０５"],
        ),
        ({"type": "date"}, {"2024-02-29": "2024-02-29"}, ["2024-1-05", "2024-01-05T12:00:00"]),
        (
            {"type": "datetime", "format": "%Y-%m-%d %H:%M:%S"},
            {"2024-01-05 23:59:59": "2024-01-05T23:59:59"},
            ["2024-01-05 24:00:00", "2024-01-05"],
        ),
        ({"type": "text"}, {"张三": "张三", "张\u3000三": "张\u3000三"}, ["\u3000张三", "张三\x85", " 张三"]),
        ({"type": "text", "half_width": True}, {"张三": "张三"}, ["张\u3000三", "ＡＢＣ张三"]),
    ],
)
def test_dates_and_text_in_any_script_are_read_in_arrow(
    column: dict[str, Any], read: dict[str, str], left: list[str]
) -> None:
    vectorised = vectorised_reader(Column.model_validate({"from": "cell", **column}))
    assert vectorised is not None
    done, values = vectorised(pa.array([*read, *left], pa.string()))
    assert done.to_pylist() == [True] * len(read) + [False] * len(left)
    assert values.to_pylist()[: len(read)] == list(read.values())


@pytest.mark.parametrize("seed", range(10))
def test_date_counts_count_the_chosen_rows_dates_out_of_range(seed: int) -> None:
    rng = random.Random(seed)
    today = date(2024, 6, 15)
    days = [None, "2024-06-15", "2024-06-16", "1914-06-14", "1914-06-15", "1800-01-01", "2030-01-01T10:00:00"]
    values = [rng.choice(days) for _ in range(40)]
    rows = np.array([rng.random() < 0.6 for _ in values])
    columns = {"born": Column(**{"from": "born", "type": "date"}), "due": Column(**{"from": "due", "type": "date"})}
    columns["due"] = columns["due"].model_copy(update={"expect_future": True})
    typed = [TypedColumn(name, pa.array(values, pa.string()), np.zeros(len(values), dtype=bool)) for name in columns]
    chosen = [value[:10] for value, row in zip(values, rows, strict=True) if row and value is not None]
    after, before = sum(day > "2024-06-15" for day in chosen), sum(day < "1914-06-15" for day in chosen)
    future, ancient = date_counts(columns, typed, rows, today)
    assert future == ({"born": after} if after else {})
    assert ancient == ({"born": before, "due": before} if before else {})


@pytest.mark.parametrize("seed", range(10))
def test_date_counts_batch_by_batch_add_up_to_the_whole_files(seed: int) -> None:
    rng = random.Random(seed)
    today = date(2024, 6, 15)
    days = [None, "2024-06-15", "2024-06-16", "1914-06-14", "1800-01-01", "2030-01-01"]
    values = [rng.choice(days) for _ in range(60)]
    columns = {"born": Column(**{"from": "born", "type": "date"})}
    typed = [TypedColumn("born", pa.array(values, pa.string()), np.zeros(len(values), dtype=bool))]
    plain = PlainFile(Path("a.csv"), ["born"], pa.table({"born": values}), len(values))
    file = TypedFile(plain, {}, pa.nulls(len(values), pa.string()), typed, np.ones(len(values), dtype=bool))
    taken = sorted(rng.sample(range(len(values)), rng.randrange(0, len(values))))
    transform = SimpleNamespace(future_dates=Counter[str](), ancient_dates=Counter[str]())
    context = SimpleNamespace(today=today)
    source = SimpleNamespace(columns=columns)
    for start in range(0, len(values), 7):  # batches of seven rows: the rows taken in each
        count_dates(context, source, file, transform, [row for row in taken if start <= row < start + 7])  # type: ignore[arg-type]
    rows = np.zeros(len(values), dtype=bool)
    rows[taken] = True
    future, ancient = date_counts(columns, typed, rows, today)
    assert transform.future_dates == Counter(future) and transform.ancient_dates == Counter(ancient)


def test_records_taken_at_once_are_the_row_readers_records(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("id,name,bal\n1,张三,2\n2,,\n3,b,4.5\n", encoding="utf-8")
    csv_source = Source(name="s", system="core", path="a.csv", node="Account", key=["id"])
    plain = read_plain(csv_source, path)
    assert isinstance(plain, PlainFile)
    cells = {name: plain.table.column(name).combine_chunks() for name in plain.columns if name}
    file = TypedFile(plain, cells, pa.nulls(3, pa.string()), [], np.ones(3, dtype=bool))
    expected = read_source(csv_source, path).records
    assert records_at(csv_source, file, [2, 0]) == [expected[2], expected[0]]
    assert record_at(csv_source, file, 1) == expected[1]
    assert records_at(csv_source, file, []) == []
    # Columns in several chunks, as a large file is read: rows taken across them, in any order.
    chunked = {name: pa.chunked_array([column.slice(0, 1), column.slice(1)]) for name, column in cells.items()}
    split_plain = replace(plain, table=pa.Table.from_batches(plain.table.to_batches(max_chunksize=1)))
    split = TypedFile(split_plain, chunked, pa.nulls(3, pa.string()), [], np.ones(3, dtype=bool))
    assert records_at(csv_source, split, [2, 0, 1]) == [expected[2], expected[0], expected[1]]


@pytest.mark.parametrize("seed", range(5))
def test_rows_taken_from_their_slice_are_the_rows_taken(seed: int) -> None:
    chooser = random.Random(seed)
    values = pa.chunked_array(
        [pa.array([f"v{chunk}-{row}" for row in range(chooser.randint(0, 6))], pa.string()) for chunk in range(5)]
    )
    table = pa.table({"a": values, "b": pc.utf8_upper(values)})
    rows = [chooser.randrange(len(values)) for _ in range(chooser.randint(0, 8))] if len(values) else []
    for held in (values, values.combine_chunks(), table):
        assert take_rows(held, rows).to_pylist() == held.take(pa.array(rows, pa.int64())).to_pylist()
        assert take_rows(held, pa.array(rows, pa.int64())).equals(take_rows(held, np.asarray(rows, dtype=np.int64)))


@pytest.mark.parametrize("seed", range(5))
def test_the_first_and_last_row_of_each_tie_are_numpys_unique(seed: int) -> None:
    rng = np.random.default_rng(seed)
    keys = rng.integers(0, [3, 50, 1 << 40][seed % 3], int(rng.integers(0, 400))).astype(np.int64)
    first, last = _first_and_last(keys)
    _, expected_first = np.unique(keys, return_index=True)
    _, reversed_first = np.unique(keys[::-1], return_index=True)
    assert first.tolist() == expected_first.tolist()
    assert last.tolist() == (len(keys) - 1 - reversed_first).tolist()
