"""Import files from Arrow columns: the embedded store's tables formatted by Arrow kernels, not row by row.

:func:`graph.neo4j_import.write_import_files` takes this path for every node kind and tie type whose
columns each hold one type (what the loaders and the analytics write); a property kept as JSON because its
values mix types goes the row path, which gives each combination of types its own file pair. The text
written is the row path's, field for field, except that a double is Arrow's shortest text that reads back
as the same double (``1`` where Python writes ``1.0``): the import tool reads both as the same value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graph.embedded.columns import is_json, one_array

QUOTE = '"'
ARRAY_DELIMITER = "\x1f"
"""The unit separator: a control character no text from a bank's exports is expected to hold."""
DELIMITER = ","
SLICE_ROWS = 65_536
"""Rows formatted at a time: the text of one slice is a few times its Arrow size."""

_SCALARS: dict[pa.DataType, str] = {
    pa.bool_(): "boolean",
    pa.int64(): "long",
    pa.float64(): "double",
    pa.string(): "string",
    pa.large_string(): "string",
}
_JAVA_NUMBERS = {"inf": "Infinity", "-inf": "-Infinity", "nan": "NaN"}


def column_type(arrow_type: pa.DataType) -> str | None:
    """The import type of a column of ``arrow_type``, or None when this path does not write it."""
    if pa.types.is_dictionary(arrow_type):
        arrow_type = arrow_type.value_type
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        item = _SCALARS.get(arrow_type.value_type)
        return None if item is None else item + "[]"
    return _SCALARS.get(arrow_type)


def writable(properties: Iterable[pa.Field]) -> bool:
    """Whether every property column holds one type this path writes (no JSON, no other Arrow type)."""
    return all(
        not is_json(field) and (field.type == pa.null() or column_type(field.type) is not None) for field in properties
    )


@dataclass
class ColumnFile:
    """One data file written from columns, and what its header must say."""

    data: Path
    columns: list[tuple[str, str]]
    """Property columns with their import types, in file order (after the key columns)."""
    rows: int = 0
    multiline: bool = False
    later: list[tuple[list[str], dict[str, Any]]] = field(default_factory=list)
    """Per row with values the CSV cannot carry (empty lists and the like): its keys and those values."""

    @property
    def header(self) -> Path:
        """Where the file's header goes: beside it, ``.header.csv`` for ``.csv``."""
        return self.data.with_name(self.data.name.removesuffix(".csv") + ".header.csv")


def write_columns(
    data: Path,
    keys: list[pa.Array | pa.ChunkedArray],
    properties: pa.Table,
    check_name: Callable[[str], None],
    tick: Callable[[int], None],
) -> ColumnFile:
    """Write ``keys`` (id columns, quoted text) and ``properties`` as one CSV data file at ``data``.

    A property column that is null on every row is left out, as the row path leaves out what no row has.
    """
    kept = [
        (name, column)
        for name, column in zip(properties.column_names, properties.columns, strict=True)
        if column.null_count < len(column)
    ]
    result = ColumnFile(data, [])
    for name, column in kept:
        check_name(name)
        found = column_type(column.type)
        assert found is not None, f"{name}: {column.type} (checked by writable())"
        result.columns.append((name, found))
    rows = len(keys[0])
    with data.open("wb") as handle:
        for start in range(0, rows, SLICE_ROWS):
            stop = min(start + SLICE_ROWS, rows)
            fields = [_quoted(one_array(array.slice(start, stop - start))) for array in keys]
            later: dict[int, dict[str, Any]] = {}
            for (name, column), (_, kind) in zip(kept, result.columns, strict=True):
                part = one_array(column.slice(start, stop - start))
                text, uncarried = _formatted(part, kind)
                fields.append(text)
                if uncarried is not None:
                    for row, value in zip(uncarried.tolist(), part.take(pa.array(uncarried)).to_pylist(), strict=True):
                        later.setdefault(row, {})[name] = value
            result.later.extend(_with_keys(later, keys, start))
            lines = pc.binary_join_element_wise(*fields, DELIMITER)
            if not result.multiline and pc.any(pc.match_substring_regex(lines, "[\r\n]")).as_py():
                result.multiline = True
            handle.write(_text_bytes(pc.binary_join_element_wise(lines, "\n", "")))
            result.rows += stop - start
            tick(stop - start)
    return result


def _quoted(texts: pa.Array) -> pa.Array:
    """Text as an always-quoted field, ``""`` for a quote inside; an absent value is an empty unquoted field."""
    texts = texts.cast(pa.string())  # one text type for the kernels below (slices are far below 2 GB)
    escaped = pc.replace_substring(texts, QUOTE, QUOTE + QUOTE)
    return pc.fill_null(pc.binary_join_element_wise(QUOTE, escaped, QUOTE, ""), "")


def _formatted(values: pa.Array, kind: str) -> tuple[pa.Array, np.ndarray | None]:
    """The column as CSV fields, and the rows whose value the CSV cannot carry (None when there are none)."""
    if kind.endswith("[]"):
        return _formatted_lists(values, kind[:-2])
    return pc.fill_null(_scalar_texts(values, kind), ""), None


def _scalar_texts(values: pa.Array, kind: str) -> pa.Array:
    if kind == "string":
        return _quoted(values)
    if kind == "boolean":
        return pc.if_else(values, "true", "false")
    texts = values.cast(pa.string())
    if kind == "double":
        for arrow_text, java_text in _JAVA_NUMBERS.items():
            texts = pc.if_else(pc.equal(texts, arrow_text), java_text, texts)
    return texts


def _formatted_lists(lists: pa.Array, item_kind: str) -> tuple[pa.Array, np.ndarray | None]:
    offsets = lists.offsets.to_numpy()
    items = lists.values.slice(offsets[0], offsets[-1] - offsets[0])
    offsets = offsets - offsets[0]
    lengths = np.diff(offsets)
    uncarried = lengths == 0  # the format has no empty array
    if item_kind == "string":
        items = items.cast(pa.string())
        # One empty text reads back as no array, and an item holding the delimiter as two items.
        uncarried |= (lengths == 1) & _any_item(offsets, pc.binary_length(items).to_numpy(zero_copy_only=False) == 0)
        uncarried |= _any_item(offsets, pc.match_substring(items, ARRAY_DELIMITER).to_numpy(zero_copy_only=False))
        item_texts = items
    else:
        item_texts = _scalar_texts(items, item_kind)
    joined = pc.binary_join(pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), item_texts), ARRAY_DELIMITER)
    if item_kind == "string":
        joined = _quoted(joined)
    uncarried &= lists.is_valid().to_numpy(zero_copy_only=False)
    joined = pc.if_else(pa.array(uncarried), "", pc.fill_null(joined, ""))
    rows = np.flatnonzero(uncarried)
    return joined, rows if len(rows) else None


def _any_item(offsets: np.ndarray, flags: np.ndarray) -> np.ndarray:
    """Per list (``offsets`` from 0), whether any of its items is flagged (``flags`` runs over all items)."""
    flagged = np.concatenate([[0], np.cumsum(flags)])
    return flagged[offsets[1:]] > flagged[offsets[:-1]]


def _with_keys(
    later: dict[int, dict[str, Any]], keys: list[pa.Array | pa.ChunkedArray], start: int
) -> list[tuple[list[str], dict[str, Any]]]:
    """The rows of one slice holding uncarried values, in row order, each with its key values."""
    rows = sorted(later)
    if not rows:
        return []
    taken = [array.take(pa.array(np.asarray(rows) + start)).to_pylist() for array in keys]
    return [([column[index] for column in taken], later[row]) for index, row in enumerate(rows)]


def _text_bytes(texts: pa.Array) -> memoryview:
    """The UTF-8 bytes of a text array with no nulls, end to end, without a Python string per row."""
    texts = texts.cast(pa.string())
    offsets = np.frombuffer(texts.buffers()[1], dtype=np.int32, count=len(texts) + 1, offset=texts.offset * 4)
    data = texts.buffers()[2]
    if data is None:
        return memoryview(b"")
    return memoryview(data)[int(offsets[0]) : int(offsets[-1])]
