"""Reads of one row's properties from the columns of :mod:`graph.embedded.columns`, without an Arrow scalar a
value: the embedded queries read a few hundred rows per request and analytics read every row.

Reads go through numpy views of the Arrow buffers, not ``array[i].as_py()`` (about ten times slower). An
overlay's rows written by a bulk write stay in a :class:`Segment`'s columns and are read the same way.
"""

from __future__ import annotations

import operator
from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graph.embedded.columns import is_json, plain_values, table_from_rows, unified

ABSENT: Any = object()
"""What a column reads for a row that lacks the property (properties never hold None)."""


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
    kinds = set(map(type, rows))
    if kinds == {SegmentRow}:
        return _from_segments(rows, leading, names)  # type: ignore[arg-type]
    if SegmentRow not in kinds and leading and not any(map(len, rows)):  # ties without properties, say
        return pa.table(leading)
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


def _from_segments(rows: Sequence[SegmentRow], leading: dict[str, pa.Array], names: Collection[str] | None) -> pa.Table:
    """:func:`table_from_overlay` of rows all of segments (what bulk writes leave in an overlay), found and taken
    a segment at a time without a Python step a row: an overlay holds up to a quarter of the rows of its base."""
    owners = list(map(_SEGMENT, rows))
    positions = np.fromiter(map(_POSITION, rows), dtype=np.int64, count=len(rows))
    _, first, inverse = np.unique(
        np.fromiter(map(id, owners), dtype=np.uint64, count=len(rows)), return_index=True, return_inverse=True
    )
    parts, places = [], []
    for number, at in enumerate(first.tolist()):
        held = owners[at].properties
        if names is not None:
            held = held.select([name for name in held.column_names if name in names])
        taken = np.flatnonzero(inverse == number) if len(first) > 1 else np.arange(len(rows))
        parts.append(held.take(pa.array(positions[taken])))
        places.append(taken)
    table = unified(parts)
    if len(parts) > 1:  # the parts' rows back in the order given
        table = table.take(pa.array(np.argsort(np.concatenate(places), kind="stable")))
    for index, (name, array) in enumerate(leading.items()):
        table = table.add_column(index, name, array)
    return table


_SEGMENT = operator.attrgetter("segment")
_POSITION = operator.attrgetter("_row")


def copied(props: Mapping[str, Any]) -> dict[str, Any]:
    """A new dict of ``props`` (a :class:`RowProperties` read column by column once)."""
    return props.as_dict() if isinstance(props, RowProperties) else dict(props)


def scalars(array: np.ndarray) -> memoryview:
    """A memoryview of ``array`` whose items read as Python scalars (see :class:`Column`)."""
    # Aligned too: a memoryview of unaligned memory (an Arrow buffer may start anywhere) cannot be indexed.
    return memoryview(np.require(array, requirements="CA"))  # type: ignore[arg-type]


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
