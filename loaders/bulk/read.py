"""Reading a plain delimited file whole into an Arrow table of text columns, with its rows counted from its bytes.

A file is plain when nothing in it needs the row reader's care: it decodes whole in its declared
encoding, holds no quote character, no carriage return, no blank line and no control character, and
every line has the header's number of fields. Then record ``i`` is physical line ``i + 2`` and its
original text is its values joined by the delimiter, and Arrow's CSV reader (C++, with quoting off)
splits it as the row reader would. A file that is not plain gets the reason why, and its source takes
the row path, which handles all of that line by line.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from loaders.delimited import check_header
from loaders.mapping import Source
from loaders.raw import RawRecord, RawSource, SheetRecords

_BLANK_LINE = re.compile(rb"\n[ \t]*\n")
"""A blank line after the header, in text that ends with a newline."""


@dataclass(frozen=True)
class PlainFile:
    """A plain file's records as text columns (named as its header); row ``i`` is line ``i + 2``."""

    path: Path
    columns: list[str]
    table: pa.Table
    rows_in_bytes: int
    """The newline-ended lines after the header, counted on the file's bytes, not by the parser (for a file
    read by the row reader, its records)."""
    records: Sequence[RawRecord] | None = None
    """The row reader's records, for a file it read (:func:`read_records`): their lines and texts."""

    def line(self, index: int) -> int:
        """The physical line of row ``index``."""
        if self.records is None:
            return index + 2
        if isinstance(self.records, SheetRecords):  # without making the record
            return self.records.lines[index]
        return self.records[index].line


def read_plain(source: Source, path: Path) -> PlainFile | str:
    """The file as a :class:`PlainFile`, or why it is not plain (then the source takes the row path)."""
    data = path.read_bytes()
    # The checks below look at the text's UTF-8 bytes (what Arrow reads), where every character they look for
    # is one byte that no other character's form holds: searching bytes is several times faster than text.
    # ASCII bytes are the same text in every encoding a source may declare: they need no decoding.
    encoded = data
    if not data.isascii():
        try:
            text = data.decode(source.encoding.value)
        except UnicodeDecodeError:
            return f"{path.name} has lines that do not decode as {source.encoding.value}"
        if source.encoding.value != "utf-8":
            encoded = text.encode()
    if encoded.startswith("\ufeff".encode()):
        return f"{path.name} starts with a byte order mark"
    if source.quotechar.encode() in encoded:
        return f"{path.name} holds quoted values"
    if b"\r" in encoded:
        return f"{path.name} has carriage returns (CRLF line ends)"
    if not encoded.endswith(b"\n"):
        encoded += b"\n"
    newlines, tabs, control = _byte_counts(encoded)
    if control != newlines + tabs or (source.separator != "\t" and tabs):
        return f"{path.name} holds control characters"
    if _BLANK_LINE.search(encoded, encoded.index(b"\n")):
        return f"{path.name} has blank lines"
    header = [name.strip() for name in encoded[: encoded.index(b"\n")].decode().split(source.separator)]
    check_header(header)
    rows_in_bytes = newlines - 1
    try:
        table = pacsv.read_csv(
            io.BytesIO(encoded),
            read_options=pacsv.ReadOptions(skip_rows=1, autogenerate_column_names=True, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(
                delimiter=source.separator, quote_char=False, escape_char=False, ignore_empty_lines=False
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={f"f{index}": pa.string() for index in range(len(header))},
                strings_can_be_null=False,
                null_values=[],
            ),
        )
    except pa.ArrowInvalid:
        return f"{path.name} has lines with another number of fields than its header"
    if table.num_columns != len(header) or table.num_rows != rows_in_bytes:
        return f"{path.name} has lines with another number of fields than its header"
    return PlainFile(path, header, table.rename_columns(header), rows_in_bytes)


def _byte_counts(encoded: bytes | memoryview) -> tuple[int, int, int]:
    """How many newlines, tabs and control characters (below 0x20, or 0x7F) UTF-8 text holds: no byte of
    another character's UTF-8 form is one of them. One pass in numpy, a megabyte at a time (each slice's
    comparisons stay in the cache, and no array the size of the file is made)."""
    codes = np.frombuffer(encoded, dtype=np.uint8)
    newlines = tabs = control = 0
    for at in range(0, len(codes), _SLICE):
        part = codes[at : at + _SLICE]
        newlines += int(np.count_nonzero(part == 0x0A))
        tabs += int(np.count_nonzero(part == 0x09))
        control += int(np.count_nonzero(part < 0x20)) + int(np.count_nonzero(part == 0x7F))
    return newlines, tabs, control


_SLICE = 1 << 20


def _text_bytes(texts: pa.Array) -> bytes | memoryview:
    """The UTF-8 bytes of a string array's texts, one after another (a view, not a copy)."""
    if not len(texts) or texts.buffers()[2] is None:  # (no buffer: every text is empty)
        return b""
    offsets = np.frombuffer(texts.buffers()[1], dtype=np.int32)[texts.offset : texts.offset + len(texts) + 1]
    return memoryview(texts.buffers()[2])[int(offsets[0]) : int(offsets[-1])]


def read_records(raw: RawSource) -> PlainFile | str:
    """A file the row reader read whole (an xlsx sheet) as a :class:`PlainFile` of its records' cells, or why
    it cannot be read so. Its rows are its records (blank rows were skipped), with their own lines and texts."""
    # A sheet's records are its rows: the reader refuses none of them.
    if not isinstance(raw.records, SheetRecords) and any(record.problem is not None for record in raw.records):
        return f"{raw.path.name} has rows the reader refused"
    names = [name for name in dict.fromkeys(raw.columns) if name]
    cells = raw.cells or {name: [record.values.get(name, "") for record in raw.records] for name in names}
    # (a sheet of text only comes as Arrow columns already: loaders.sheets)
    arrays = {name: cell if isinstance(cell, pa.Array) else pa.array(cell, pa.string()) for name, cell in cells.items()}
    table = pa.table(arrays)
    # The column checks read trimmed ASCII cells in Arrow, which a control character would mislead.
    if any(_byte_counts(_text_bytes(chunk))[2] for column in table.columns for chunk in column.chunks):
        return f"{raw.path.name} holds control characters"
    return PlainFile(raw.path, names, table, len(raw.records), raw.records)
