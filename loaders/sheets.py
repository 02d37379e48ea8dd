"""Reading an xlsx sheet of text cells into Arrow columns (fastexcel), without a Python object per cell.

A bank's sheet exports are most often text through and through (ids, codes, dates and amounts as text).
python-calamine gives a sheet as Python rows: at 1,000,000 customers, 576,751 rows of eight cells took
8.5 s of CPU to read into rows and columns; fastexcel reads the same sheet, with the same Rust parser
(calamine), into Arrow columns in 2.3 s (measured on one core). A sheet any of whose cells is not text (a
number, a date, a boolean, an error) is left to ``loaders.read``, which gives each cell the text
``cell_text`` makes of it; a sheet of text gives the same records either way (tested on both).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import overload

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from loaders.delimited import check_header
from loaders.raw import RawSource, SheetRecords

# Python's whitespace (what str.strip() removes), as a regular expression class: taken from Python itself.
_SPACE = "".join(f"\\x{{{code:x}}}" for code in range(0x110000) if chr(code).isspace())
_BLANK = f"^[{_SPACE}]*$"


def text_sheet(path: Path, sheet: str | int) -> RawSource | None:
    """The sheet as ``loaders.read`` gives it (rows from A1 on, its first row the header, rows of blank
    cells skipped), when every cell it holds is text or empty; else None (nothing is kept)."""
    import fastexcel

    try:
        # Rows from the sheet's first on (not from its first row that holds a cell), every row read to tell
        # the columns' types; a column of text and other cells is refused (strict), not made text.
        loaded = fastexcel.read_excel(str(path)).load_sheet(
            sheet, header_row=None, skip_rows=0, schema_sample_rows=None, dtype_coercion="strict"
        )
        found = loaded.available_columns()
        indices = [column.absolute_index for column in found]
        if not found or any(column.dtype not in ("string", "null") for column in found):
            return None
        if indices != list(range(indices[0], indices[0] + len(indices))):  # (the sheet's columns, side by side)
            return None
        batch = loaded.to_arrow()
    except Exception:  # a sheet fastexcel cannot read: read (or refused, in its words) as before
        return None
    if batch.num_rows == 0:
        return None
    # Columns before the sheet's first that holds a cell are empty, as in the rows read from A1.
    cells = [pa.nulls(batch.num_rows, pa.string())] * indices[0] + list(batch.columns)
    cells = [column.cast(pa.string()).fill_null("") for column in cells]
    columns = [text.strip() for text in (column[0].as_py() for column in cells)]
    check_header(columns)
    rows = [column.slice(1) for column in cells]
    kept = np.flatnonzero(~_blank(rows))
    if len(kept) < len(rows[0]):
        rows = [column.take(pa.array(kept)) for column in rows]
    lines = (kept + 2).tolist()  # the sheet's line: the header is line 1
    by_name: dict[str, Sequence[str] | pa.Array] = {
        name: column for name, column in zip(columns, rows, strict=True) if name
    }
    return RawSource(path, columns, SheetRecords(columns, lines, ColumnRows(rows)), by_name)


def _blank(columns: list[pa.Array]) -> np.ndarray:
    """Per row, whether each of its cells is empty or whitespace only (what ``not "".join(cells).strip()``
    tells), looked at in the rows still blank after the columns before: most rows are told by their first."""
    blank = np.ones(len(columns[0]) if columns else 0, dtype=bool)
    for column in columns:
        at = np.flatnonzero(blank)
        if not len(at):
            break
        cells = column if len(at) == len(column) else column.take(pa.array(at))
        blank[at] = pc.match_substring_regex(cells, _BLANK).to_numpy(zero_copy_only=False)
    return blank


class ColumnRows(Sequence[list[str]]):
    """The rows of text columns, each made when asked for; all of them at once when iterated."""

    def __init__(self, columns: list[pa.Array]) -> None:
        self.columns = columns

    def __len__(self) -> int:
        return len(self.columns[0]) if self.columns else 0

    @overload
    def __getitem__(self, index: int) -> list[str]: ...

    @overload
    def __getitem__(self, index: slice) -> list[list[str]]: ...

    def __getitem__(self, index: int | slice) -> list[str] | list[list[str]]:
        if isinstance(index, slice):
            return [self[position] for position in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return [column[index].as_py() for column in self.columns]

    def __iter__(self) -> Iterator[list[str]]:
        return (list(row) for row in zip(*(column.to_pylist() for column in self.columns), strict=True))
