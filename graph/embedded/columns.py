"""Property columns: Python values to typed Arrow arrays, and fast reads of one row's value back.

A property is held per primary label (or per tie type) as one Arrow array over all rows, null where a row
lacks it. Its type is chosen from the values: text, bool, int64, double, or a list of one of those. Texts
repeated across rows (cities, codes, dates, segments) are dictionary-encoded: a 4-byte code a row. A
property whose values mix types (an int in one row, a text in another; an integer beyond 64 bits) is kept
as JSON text with a field marker, so nothing the store accepted is ever refused or changed by the layout.

Reads of one row go through numpy views of the Arrow buffers, not ``array[i].as_py()`` (about ten times
slower): the embedded queries read a few hundred rows per request and analytics read every row.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

ABSENT: Any = object()
"""What a column reads for a row that lacks the property (properties never hold None)."""

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


# -- reading one row ---------------------------------------------------------------------------------


class Column:
    """One property over all rows of a table; ``value(row)`` is the Python value or ``ABSENT``.

    Rows are read through memoryviews of the numpy arrays: indexing one gives a Python int, float or bool
    directly, several times faster than a numpy scalar and its ``item()``.
    """

    __slots__ = ("valid",)

    def __init__(self, valid: np.ndarray | None) -> None:
        self.valid = None if valid is None else scalars(valid)

    def value(self, row: int) -> Any:
        raise NotImplementedError


class _Numbers(Column):
    __slots__ = ("values",)

    def __init__(self, values: np.ndarray, valid: np.ndarray | None) -> None:
        super().__init__(valid)
        self.values = scalars(values)

    def value(self, row: int) -> Any:
        if self.valid is not None and not self.valid[row]:
            return ABSENT
        return self.values[row]


class _Dictionary(Column):
    __slots__ = ("codes", "words")

    def __init__(self, codes: np.ndarray, words: list[Any], valid: np.ndarray | None) -> None:
        super().__init__(valid)
        self.codes, self.words = scalars(codes), words

    def value(self, row: int) -> Any:
        if self.valid is not None and not self.valid[row]:
            return ABSENT
        return self.words[self.codes[row]]


class _Texts(Column):
    __slots__ = ("data", "offsets")

    def __init__(self, offsets: np.ndarray, data: memoryview, valid: np.ndarray | None) -> None:
        super().__init__(valid)
        self.offsets, self.data = scalars(offsets), data

    def value(self, row: int) -> Any:
        if self.valid is not None and not self.valid[row]:
            return ABSENT
        return str(self.data[self.offsets[row] : self.offsets[row + 1]], "utf-8")


class _NumberLists(Column):
    __slots__ = ("items", "offsets")

    def __init__(self, offsets: np.ndarray, items: np.ndarray, valid: np.ndarray | None) -> None:
        super().__init__(valid)
        self.offsets, self.items = scalars(offsets), items

    def value(self, row: int) -> Any:
        if self.valid is not None and not self.valid[row]:
            return ABSENT
        return self.items[self.offsets[row] : self.offsets[row + 1]].tolist()


class _TextLists(Column):
    __slots__ = ("offsets", "texts")

    def __init__(self, offsets: np.ndarray, texts: _Texts, valid: np.ndarray | None) -> None:
        super().__init__(valid)
        self.offsets, self.texts = scalars(offsets), texts

    def value(self, row: int) -> Any:
        if self.valid is not None and not self.valid[row]:
            return ABSENT
        text = self.texts.value
        return [text(item) for item in range(self.offsets[row], self.offsets[row + 1])]


class _Objects(Column):
    __slots__ = ("objects",)

    def __init__(self, objects: list[Any]) -> None:
        super().__init__(None)
        self.objects = objects

    def value(self, row: int) -> Any:
        found = self.objects[row]
        return ABSENT if found is None else found


class _Absent(Column):
    """A column no row holds a value of (Arrow's null type): nothing to keep per row."""

    __slots__ = ()

    def __init__(self) -> None:
        super().__init__(None)

    def value(self, row: int) -> Any:
        return ABSENT


class RowProperties(Mapping[str, Any]):
    """The properties of one row, each read from its column when asked for.

    Queries ask a node for two or three of its dozens of properties (a name, a status), so building the
    whole dict on every read would cost more than the query. Iterating or copying it reads every column.
    """

    __slots__ = ("_columns", "_row")

    def __init__(self, columns: Mapping[str, Column], row: int) -> None:
        self._columns, self._row = columns, row

    def __getitem__(self, name: str) -> Any:
        value = self.get(name, ABSENT)
        if value is ABSENT:
            raise KeyError(name)
        return value

    def get(self, name: str, default: Any = None) -> Any:  # the Mapping mixin's goes through a KeyError
        column = self._columns.get(name)
        if column is None:
            return default
        value = column.value(self._row)
        return default if value is ABSENT else value

    def __contains__(self, name: object) -> bool:
        column = self._columns.get(name) if isinstance(name, str) else None
        return column is not None and column.value(self._row) is not ABSENT

    def __iter__(self) -> Iterator[str]:
        row = self._row
        return (name for name, column in self._columns.items() if column.value(row) is not ABSENT)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __repr__(self) -> str:
        return repr(self.as_dict())

    def as_dict(self) -> dict[str, Any]:
        """A new dict of the row's properties, each column read once."""
        row, found = self._row, {}
        for name, column in self._columns.items():
            value = column.value(row)
            if value is not ABSENT:
                found[name] = value
        return found


class Segment:
    """Rows one bulk write put in an overlay: their whole properties as columns, read through ``SegmentRow``.

    A small table written into a large graph goes here instead of into the base (which it would cost
    rebuilding) or into a dict per row: the overlay maps each row to its place in the segment, and the
    next rebuild takes the rows still current from the segment's columns, not row by row.
    """

    __slots__ = ("columns", "properties")

    def __init__(self, properties: pa.Table, columns: Mapping[str, Column]) -> None:
        self.properties, self.columns = properties, columns


class SegmentRow(RowProperties):
    """The properties of one row of a :class:`Segment`."""

    __slots__ = ("segment",)

    def __init__(self, segment: Segment, position: int) -> None:
        super().__init__(segment.columns, position)
        self.segment = segment

    @property
    def position(self) -> int:
        return self._row


def table_from_overlay(
    rows: Sequence[Mapping[str, Any]], leading: dict[str, pa.Array], names: Collection[str] | None = None
) -> pa.Table:
    """:func:`table_from_rows` of an overlay's rows: those of segments taken from their columns at once
    (rows of one segment together), the others (dicts) converted value by value; in the order given. Only the
    properties in ``names`` when given."""
    plain: list[Mapping[str, Any]] = []
    plain_at: list[int] = []
    segments: dict[int, tuple[Segment, list[int], list[int]]] = {}
    if names is not None:
        rows = [
            props if type(props) is SegmentRow else {name: props[name] for name in names if name in props}
            for props in rows
        ]
    for at, props in enumerate(rows):
        if type(props) is SegmentRow:
            found = segments.get(id(props.segment))
            if found is None:
                found = segments[id(props.segment)] = (props.segment, [], [])
            found[1].append(at)
            found[2].append(props.position)
        else:
            plain.append(props)
            plain_at.append(at)
    if not segments:
        return table_from_rows(plain, leading)
    # Each part carries its rows' places in a column (a part without property columns has no row count of
    # its own), named unlike any property.
    taken = {name for props in plain for name in props} | {
        name for segment, _, _ in segments.values() for name in segment.properties.column_names
    }
    place = "place"
    while place in taken:
        place += "_"
    parts = [table_from_rows(plain, {place: pa.array(plain_at, pa.int64())})]
    for segment, places, positions in segments.values():
        held = segment.properties
        if names is not None:
            held = held.select([name for name in held.column_names if name in names])
        part = held.take(pa.array(positions, pa.int64()))
        parts.append(part.add_column(0, place, pa.array(places, pa.int64())))
    table = unified(parts)
    table = table.take(pc.sort_indices(table.column(place))).drop_columns([place])
    for index, (name, array) in enumerate(leading.items()):
        table = table.add_column(index, name, array)
    return table


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


def copied(props: Mapping[str, Any]) -> dict[str, Any]:
    """A new dict of ``props`` (a :class:`RowProperties` read column by column once)."""
    return props.as_dict() if isinstance(props, RowProperties) else dict(props)


def scalars(array: np.ndarray) -> memoryview:
    """A memoryview of ``array`` whose items read as Python scalars (see :class:`Column`)."""
    # Aligned too: a memoryview of unaligned memory (an Arrow buffer may start anywhere) cannot be indexed.
    return memoryview(np.require(array, requirements="CA"))  # type: ignore[arg-type]


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


def column_reader(field: pa.Field, array: pa.Array) -> Column:
    """A reader of ``array`` (as :func:`compact_array` made it) by row."""
    valid = None if array.null_count == 0 else np.asarray(array.is_valid().to_numpy(zero_copy_only=False))
    arrow_type = array.type
    if pa.types.is_null(arrow_type):
        return _Absent()
    if is_json(field):
        return _Objects(plain_values(field, array))
    if pa.types.is_dictionary(arrow_type):
        codes = _values(array.indices)
        return _Dictionary(codes, array.dictionary.to_pylist(), valid)
    if pa.types.is_large_string(arrow_type) or pa.types.is_string(arrow_type):
        return _texts(array, valid)
    if pa.types.is_boolean(arrow_type) or pa.types.is_integer(arrow_type) or pa.types.is_floating(arrow_type):
        return _Numbers(_values(array), valid)
    if pa.types.is_list(arrow_type) and pa.types.is_floating(arrow_type.value_type):
        offsets = array.offsets.to_numpy()  # never null: the list's own nulls are in its validity
        return _NumberLists(offsets, array.values.to_numpy(zero_copy_only=False), valid)
    if pa.types.is_list(arrow_type) and pa.types.is_large_string(arrow_type.value_type) and not array.values.null_count:
        # Read a row at a time: lists of ids or product names a row (prospects, clusters' members) made into
        # Python lists at once would cost a Python string per item before any is asked for.
        offsets = array.offsets.to_numpy()
        return _TextLists(offsets, _texts(array.values, None), valid)
    return _Objects(array.to_pylist())


def _values(array: pa.Array) -> np.ndarray:
    """The array's values as numpy, read in place where they are fixed-width (a snapshot's memory-mapped column
    stays in the file's pages): a null's slot holds whatever it holds, and readers check ``valid`` first."""
    if pa.types.is_boolean(array.type):  # one bit a value: unpacked into bytes
        return array.fill_null(False).to_numpy(zero_copy_only=False)
    plain = pa.Array.from_buffers(array.type, len(array), [None, array.buffers()[1]], offset=array.offset)
    return plain.to_numpy()


def _texts(array: pa.Array, valid: np.ndarray | None) -> _Texts:
    if not pa.types.is_large_string(array.type) or array.offset:
        array = pa.concat_arrays([array.cast(pa.large_string())])
    buffers = array.buffers()
    offsets = np.frombuffer(buffers[1], dtype=np.int64)[: len(array) + 1]
    data = memoryview(buffers[2]) if buffers[2] is not None else memoryview(b"")
    return _Texts(offsets, data, valid)
