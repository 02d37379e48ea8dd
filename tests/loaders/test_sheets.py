"""A sheet of text read into Arrow columns (``loaders.sheets``) gives the records python-calamine's rows give."""

from __future__ import annotations

import random
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pyarrow as pa
import pytest

from loaders.mapping import Source
from loaders.raw import RawSource
from loaders.read import read_source, sheet_rows
from loaders.sheets import text_sheet

CELLS = [None, "", " ", "\u3000", "a", " b ", "张三", "001", "1.5", "2021-03-04", "x y", "\u00a0"]


def _book(path: Path, sheets: dict[str, list[tuple[int, int, list[Any]]]]) -> None:
    """Sheets of rows, each placed at a (row, column) of its own (1-based): rows and columns may be left out."""
    book = openpyxl.Workbook()
    first = book.active
    assert first is not None
    book.remove(first)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row, column, values in rows:
            for offset, value in enumerate(values):
                if value is not None:
                    sheet.cell(row=row, column=column + offset, value=value)
    book.save(path)


def _same(fast: RawSource, rows: RawSource) -> None:
    assert fast.columns == rows.columns
    assert list(fast.records) == list(rows.records)
    assert [fast.records[index] for index in range(len(fast.records))] == list(rows.records)
    assert fast.records.lines == rows.records.lines  # type: ignore[attr-defined]
    assert fast.cells is not None and rows.cells is not None
    as_lists = {
        name: cells.to_pylist() if isinstance(cells, pa.Array) else list(cells) for name, cells in fast.cells.items()
    }
    assert as_lists == {name: list(cells) for name, cells in rows.cells.items()}


@pytest.mark.parametrize("seed", range(12))
def test_a_sheet_of_text_reads_as_its_rows_read(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    top, left, width = rng.randint(1, 3), rng.randint(1, 3), rng.randint(1, 4)
    header = rng.sample(["id", "name", "城市", "", "due"], width)
    if header.count("") > 1 or not any(header):
        header = [f"c{index}" for index in range(width)]
    rows = [(top, left, header)]
    line = top
    for _ in range(rng.randint(0, 30)):
        line += rng.choice([1, 1, 1, 2])  # now and then a row left out: a blank row of the sheet
        rows.append((line, left, [rng.choice(CELLS) for _ in range(width)]))
    path = tmp_path / "a.xlsx"
    _book(path, {"first": [(1, 1, ["other"])], "明细": rows})
    source = Source.model_validate(
        {
            "name": "s",
            "system": "core",
            "path": "a.xlsx",
            "format": "xlsx",
            "sheet": "明细",
            "node": "Account",
            "key": ["id"],
        }
    )
    fast = text_sheet(path, "明细")
    assert fast is not None
    _same(fast, sheet_rows(source, path))
    assert text_sheet(path, 1) is not None and list(text_sheet(path, 1).records) == list(fast.records)  # type: ignore[union-attr]


@pytest.mark.parametrize("value", [1.5, 7, datetime(2021, 3, 4), True])
def test_a_sheet_with_a_cell_other_than_text_is_read_as_rows(tmp_path: Path, value: Any) -> None:
    path = tmp_path / "a.xlsx"
    _book(path, {"s": [(1, 1, ["id", "x"]), (2, 1, ["A1", "a"]), (3, 1, ["A2", value])]})
    assert text_sheet(path, "s") is None
    source = Source.model_validate(
        {"name": "s", "system": "core", "path": "a.xlsx", "format": "xlsx", "node": "Account", "key": ["id"]}
    )
    records = read_source(source, path).records
    assert [record.values["x"] for record in records] == ["a", sheet_rows(source, path).records[1].values["x"]]


def test_a_sheet_not_found_or_empty_is_left_to_the_rows_reader(tmp_path: Path) -> None:
    path = tmp_path / "a.xlsx"
    _book(path, {"s": [(1, 1, ["id"]), (2, 1, ["A1"])], "empty": []})
    assert text_sheet(path, "missing") is None
    assert text_sheet(path, "empty") is None
    assert text_sheet(tmp_path / "none.xlsx", 0) is None
