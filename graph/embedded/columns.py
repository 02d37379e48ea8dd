"""Property columns: Python values to typed Arrow arrays, and those arrays in the form held in memory.

A property is held per primary label (or per tie type) as one Arrow array over all rows, null where a row
lacks it. Its type is chosen from the values: text, bool, int64, double, or a list of one of those. Texts
repeated across rows (cities, codes, dates, segments) are dictionary-encoded: a 4-byte code a row. A
property whose values mix types (an int in one row, a text in another; an integer beyond 64 bits) is kept
as JSON text with a field marker, so nothing the store accepted is ever refused or changed by the layout.

Reading one row's values back is :mod:`graph.embedded.row_reads`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

JSON_MARK = {b"crm_graph": b"json"}
"""Field metadata of a property kept as JSON text because its values mix types."""

DICTIONARY_SHARE = 0.5
"""Texts are dictionary-encoded when there are at most this many distinct values per row."""

_SCALAR_TYPES: dict[type, pa.DataType] = {
    str: pa.large_string(),
    bool: pa.bool_(),
    int: pa.int64(),
    float: pa.float64(),
}


def arrow_column(name: str, values: Sequence[Any]) -> tuple[pa.Field, pa.Array]:
    """The field and array holding ``values`` (None where a row lacks the property)."""
    kinds = {type(value) for value in values if value is not None}
    arrow_type: pa.DataType | None = None
    if len(kinds) == 1:
        (kind,) = kinds
        if kind is list:
            items = {type(item) for value in values if value is not None for item in value}
            if not items:
                arrow_type = pa.list_(pa.float64())
            elif len(items) == 1 and (item_type := _SCALAR_TYPES.get(items.pop())) is not None:
                arrow_type = pa.list_(item_type)
        else:
            arrow_type = _SCALAR_TYPES.get(kind)
    elif not kinds:
        arrow_type = pa.null()
    if arrow_type is not None:
        try:
            return pa.field(name, arrow_type), pa.array(values, type=arrow_type)
        except (OverflowError, pa.ArrowInvalid):
            pass  # an integer beyond 64 bits: JSON keeps it whole
    texts = [None if value is None else json.dumps(value, ensure_ascii=False) for value in values]
    return pa.field(name, pa.large_string(), metadata=JSON_MARK), pa.array(texts, type=pa.large_string())


def table_from_rows(rows: Sequence[Mapping[str, Any]], leading: dict[str, pa.Array] | None = None) -> pa.Table:
    """A table with the ``leading`` columns, then one column per property name found in ``rows``."""
    names: dict[str, None] = {}
    for props in rows:
        names.update(dict.fromkeys(props))
    fields, arrays = [], []
    for name, array in (leading or {}).items():
        fields.append(pa.field(name, array.type))
        arrays.append(array)
    for name in names:
        field, array = arrow_column(name, [props.get(name) for props in rows])
        fields.append(field)
        arrays.append(array)
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def is_json(field: pa.Field) -> bool:
    return field.metadata is not None and field.metadata.get(b"crm_graph") == b"json"


def plain_values(field: pa.Field, array: pa.Array | pa.ChunkedArray) -> list[Any]:
    """The column's values as Python objects (None where absent), JSON text decoded."""
    values = array.to_pylist()
    return [None if value is None else json.loads(value) for value in values] if is_json(field) else values


def unified(tables: Iterable[pa.Table]) -> pa.Table:
    """The tables one after the other, a column missing from one null there; a column whose types differ
    between tables becomes JSON text, and dictionary-encoded texts are decoded first."""
    tables = [table for table in tables]
    columns: dict[str, list[tuple[pa.Field, pa.Array | pa.ChunkedArray]]] = {}
    for table in tables:
        for field, column in zip(table.schema, table.columns, strict=True):
            if pa.types.is_dictionary(field.type):
                column = pc.cast(column, field.type.value_type)
                field = field.with_type(field.type.value_type)
            if pa.types.is_string(field.type):  # two types of one kind of text would make it JSON
                column = pc.cast(column, pa.large_string())
                field = field.with_type(pa.large_string())
            columns.setdefault(field.name, []).append((field, column))
    fields, arrays = [], []
    for name, parts in columns.items():
        kinds = {(field.type, is_json(field)) for field, _ in parts if field.type != pa.null()}
        if len(kinds) <= 1:
            arrow_type, mark = kinds.pop() if kinds else (pa.null(), False)
            field = pa.field(name, arrow_type, metadata=JSON_MARK if mark else None)
            pieces = _aligned(tables, name, lambda part, size, wanted=arrow_type: _as_type(part, size, wanted))
        else:
            field = pa.field(name, pa.large_string(), metadata=JSON_MARK)
            pieces = _aligned(tables, name, _as_json)
        fields.append(field)
        arrays.append(pa.chunked_array(pieces, type=field.type))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def _aligned(tables: list[pa.Table], name: str, convert: Any) -> list[pa.Array]:
    """Each table's part of column ``name`` (None where it lacks it), converted, in table order."""
    pieces = []
    for table in tables:
        if name in table.column_names:
            index = table.column_names.index(name)
            pieces.append(convert((table.schema.field(index), table.column(index)), table.num_rows))
        else:
            pieces.append(convert(None, table.num_rows))
    return [chunk for piece in pieces for chunk in piece]


def _as_type(part: tuple[pa.Field, Any] | None, size: int, arrow_type: pa.DataType) -> list[pa.Array]:
    if part is None or part[0].type == pa.null():
        return [pa.nulls(size, type=arrow_type)]
    field, column = part
    if pa.types.is_dictionary(field.type):
        column = pc.cast(column, field.type.value_type)
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    return [chunk.cast(arrow_type) if chunk.type != arrow_type else chunk for chunk in chunks]


def _as_json(part: tuple[pa.Field, Any] | None, size: int) -> list[pa.Array]:
    if part is None:
        return [pa.nulls(size, type=pa.large_string())]
    field, column = part
    if is_json(field):
        return _as_type(part, size, pa.large_string())
    texts = [None if value is None else json.dumps(value, ensure_ascii=False) for value in column.to_pylist()]
    return [pa.array(texts, type=pa.large_string())]


def named_columns(table: pa.Table, leading: int, names: Sequence[str]) -> pa.Table:
    """The first ``leading`` columns of ``table``, then one per name in ``names`` in that order: a property the
    table lacks as nulls, one kept as JSON text because its values mix types typed again when they turn out to
    be of one type (else left as JSON text, marked as such)."""
    fields, arrays = list(table.schema)[:leading], table.columns[:leading]
    for name in names:
        if name not in table.column_names:
            fields.append(pa.field(name, pa.null()))
            arrays.append(pa.chunked_array([pa.nulls(table.num_rows)], pa.null()))
            continue
        field, column = table.schema.field(name), table.column(name)
        if is_json(field):
            field, typed = arrow_column(name, plain_values(field, column))
            column = pa.chunked_array([typed], field.type)
        fields.append(field)
        arrays.append(column)
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def one_array(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    """The column as one array: its only chunk with rows as it is (``combine_chunks`` copies even that), else
    combined. A bulk write creating nodes puts the held rows before the new ones: into an empty label those are
    empty chunks, and combining would copy every new column once more."""
    if not isinstance(column, pa.ChunkedArray):
        return column
    if column.num_chunks == 1:
        return column.chunk(0)
    filled = [chunk for chunk in column.chunks if len(chunk)]
    return filled[0] if len(filled) == 1 else column.combine_chunks()


def compact_column(field: pa.Field, column: pa.Array | pa.ChunkedArray) -> tuple[pa.Field, pa.Array]:
    """The field and the column as held in memory (see :func:`compact_array`). A column kept as JSON whose
    values turn out to be of one type (a store written before text types were made one) is typed again."""
    if is_json(field):
        texts = one_array(column).cast(pa.large_string())
        if _plain_json_strings(texts):  # the usual case, taken without a Python object a row
            field, column = pa.field(field.name, pa.large_string()), pc.utf8_slice_codeunits(texts, 1, -1)
        else:
            typed_field, typed = arrow_column(field.name, plain_values(field, texts))
            if not is_json(typed_field):
                field, column = typed_field, typed
    array = compact_array(field, column)
    return field.with_type(array.type), array


def _plain_json_strings(texts: pa.Array) -> bool:
    """Whether every JSON text is a string without escapes: a quote, the string itself, a quote."""
    if texts.null_count == len(texts):
        return False
    plain = pc.and_(
        pc.and_(pc.starts_with(texts, '"'), pc.ends_with(texts, '"')),
        pc.invert(pc.match_substring(texts, "\\")),
    )
    return bool(pc.all(pc.and_(plain, pc.greater_equal(pc.utf8_length(texts), 2))).as_py())


def compact_array(field: pa.Field, column: pa.Array | pa.ChunkedArray) -> pa.Array:
    """The column as one array, texts with few distinct values dictionary-encoded (the form held in memory)."""
    array = one_array(column)
    if pa.types.is_dictionary(array.type):
        words = array.type.value_type
        if (pa.types.is_string(words) or pa.types.is_large_string(words)) and not is_json(field):
            # Kept encoded (a snapshot holds what was encoded in memory): only the words are cast. Parquet
            # gives the words back as ``string``, which the reader would otherwise copy row by row.
            return array.cast(pa.dictionary(array.type.index_type, pa.large_string()))
        array = pc.cast(array, array.type.value_type)
    if pa.types.is_string(array.type):
        array = array.cast(pa.large_string())  # one text type, which the reader reads in place
    if pa.types.is_large_string(array.type) and not is_json(field) and len(array):
        encoded = array.dictionary_encode()  # one pass over the texts that also counts them
        if len(encoded.dictionary) <= DICTIONARY_SHARE * len(array):
            return encoded
    return array


_WORDS = pa.dictionary(pa.int32(), pa.large_string())
"""The type of a text column held dictionary-encoded."""


def placed_columns(held: pa.Table, added: pa.Table, order: np.ndarray) -> pa.Table:
    """The rows of ``held`` (property columns as held in memory) then those of ``added``, taken in ``order``,
    in the form held in memory. Texts ``held`` keeps dictionary-encoded stay encoded (their codes are taken and
    nothing is encoded again), texts it keeps plain stay plain once ``held`` has most of the rows (not encoded
    only to be found too varied): rebuilding a million rows' table to add a quarter more would otherwise
    decode, take and encode every text column again."""
    taking = pa.array(order)
    if np.array_equal(order, np.arange(len(order))):  # in order as they are (new rows into an empty label)
        taking = None
    encoded: dict[str, tuple[pa.Field, pa.Array]] = {}
    plain: dict[str, bool] = {}
    for field in held.schema:
        if is_json(field):
            continue
        lists = _same_length_lists(field.name, held, added, order) if pa.types.is_list(field.type) else None
        if lists is not None:
            encoded[field.name] = (field.with_type(lists.type), lists)
        elif pa.types.is_dictionary(field.type) and _text(field.type.value_type):
            column = _encoded(field.name, held, added)
            if column is not None:
                taken = column if taking is None else column.take(taking)
                if len(taken.dictionary) <= DICTIONARY_SHARE * len(taken):
                    encoded[field.name] = (pa.field(field.name, _WORDS), taken)
        elif pa.types.is_large_string(field.type) and held.num_rows >= added.num_rows:
            plain[field.name] = True
    rest = unified(
        [
            held.select([name for name in held.column_names if name not in encoded]),
            added.select([name for name in added.column_names if name not in encoded]),
        ]
    )
    if taking is not None and rest.num_columns:  # a table of no columns counts no rows: nothing to take
        rest = rest.take(taking)
    columns = dict(encoded)
    for field, column in zip(rest.schema, rest.columns, strict=True):
        if plain.get(field.name) and field.type == pa.large_string() and not is_json(field):
            columns[field.name] = (field, one_array(column))
        else:
            columns[field.name] = compact_column(field, column)
    names = held.column_names + [name for name in added.column_names if name not in held.column_names]
    return pa.Table.from_arrays(
        [columns[name][1] for name in names], schema=pa.schema([columns[name][0] for name in names])
    )


def _text(arrow_type: pa.DataType) -> bool:
    return pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type)


def _encoded(name: str, held: pa.Table, added: pa.Table) -> pa.Array | None:
    """Column ``name`` of both tables as one dictionary-encoded array (one dictionary), or None when ``added``
    holds it as something other than texts."""
    parts = []
    for table in (held, added):
        if name not in table.column_names:
            parts.append(pa.nulls(table.num_rows, _WORDS))
            continue
        field, column = table.schema.field(name), one_array(table.column(name))
        if is_json(field):
            return None
        elif pa.types.is_dictionary(field.type) and _text(field.type.value_type):
            parts.append(column.cast(_WORDS))
        elif _text(field.type):
            parts.append(column.cast(pa.large_string()).dictionary_encode())
        elif pa.types.is_null(field.type):
            parts.append(pa.nulls(table.num_rows, _WORDS))
        else:
            return None
    return pa.chunked_array(parts, _WORDS).unify_dictionaries().combine_chunks()


def _same_length_lists(name: str, held: pa.Table, added: pa.Table, order: np.ndarray) -> pa.Array | None:
    """Column ``name`` of both tables taken in ``order`` when it holds lists of numbers all of one length in
    both (twenty-four monthly balances an account), each row's items moved as one row of a matrix; else None.
    Arrow takes a list column by joining the tables' items and then taking them item by item."""
    matrices: list[np.ndarray | None] = []
    for table in (held, added):
        if name not in table.column_names:
            return None
        column = one_array(table.column(name))
        if not pa.types.is_list(column.type) or column.null_count:
            return None
        if not len(column):
            matrices.append(None)
            continue
        items = column.flatten()
        if not (pa.types.is_integer(items.type) or pa.types.is_floating(items.type)) or items.null_count:
            return None
        lengths = np.diff(column.offsets.to_numpy())
        if lengths[0] == 0 or not bool(np.all(lengths == lengths[0])):
            return None
        matrices.append(items.to_numpy().reshape(len(column), int(lengths[0])))
    shapes = {(matrix.shape[1], matrix.dtype) for matrix in matrices if matrix is not None}
    if len(shapes) != 1:
        return None
    ((width, dtype),) = shapes
    if (len(order) + 1) * width >= 2**31:  # past a list array's int32 offsets
        return None
    placed = np.empty(len(order), dtype=np.int64)  # where each row of the two tables goes
    placed[order] = np.arange(len(order))
    out = np.empty((len(order), width), dtype=dtype)
    start = 0
    for matrix in matrices:
        if matrix is not None:
            out[placed[start : start + len(matrix)]] = matrix
            start += len(matrix)
    offsets = pa.array(np.arange(0, (len(order) + 1) * width, width, dtype=np.int32))
    return pa.ListArray.from_arrays(offsets, pa.array(out.reshape(-1)))
