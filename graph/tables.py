"""Write batches as Arrow tables, the form :meth:`graph.store.GraphStore.bulk_write` takes, and their rows.

A node table per label: ``id`` (text), ``kind`` (for customers: ``Person`` or ``Company``), then one column
per property. A tie table per type: ``source`` and ``target`` (node ids), then property columns. A null in
a property column removes the property, as a ``None`` does in a row given to ``write``; a property without
a column is left alone. The rows made here go through the same checks as any other batch.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from graph.batch import TIE_ENDS, NodeData, TieData
from graph.errors import InvalidBatch, UnknownLabel, UnknownTieType
from graph.model import NodeLabel, TieType

if TYPE_CHECKING:
    import pyarrow as pa

    from graph.store import GraphStore

TIE_KEY_COLUMNS = ("source", "target")
StoredTables = tuple[dict[NodeLabel, "pa.Table"], dict[TieType, "pa.Table"]]
Member = TypeVar("Member", NodeLabel, TieType)


def node_rows(tables: Mapping[NodeLabel, pa.Table]) -> Iterator[NodeData]:
    """The rows of node tables, table after table, numbered as ``write`` numbers them (from 1, across tables)."""
    number = 0
    for given, table in tables.items():
        label = _member(NodeLabel, given)
        names = table.column_names
        if "id" not in names:
            raise InvalidBatch(f"the {label} table has no id column; it has {', '.join(names) or 'no columns'}")
        if label is NodeLabel.CUSTOMER and "kind" not in names:
            raise InvalidBatch("the Customer table has no kind column (Person or Company for each row)")
        for values in _rows(table):
            number += 1
            node_id = values.pop("id")
            kind = values.pop("kind", None)
            yield {"label": _kind(label, kind, number), "id": node_id, "properties": values}


def tie_rows(tables: Mapping[TieType, pa.Table]) -> Iterator[TieData]:
    """The rows of tie tables, numbered as :func:`node_rows` numbers nodes."""
    for given, table in tables.items():
        tie_type = _member(TieType, given)
        missing = [name for name in TIE_KEY_COLUMNS if name not in table.column_names]
        if missing:
            raise InvalidBatch(f"the {tie_type} table has no {' or '.join(missing)} column", kind="tie")
        for values in _rows(table):
            source, target = values.pop("source"), values.pop("target")
            yield {"type": tie_type, "source": source, "target": target, "properties": values}


def stored_tables(store: GraphStore) -> StoredTables | None:
    """What a store that keeps its graph as tables holds (the embedded store): a table per primary label
    (``id``, ``kind``, then properties) and per tie type (``source`` and ``target`` as row numbers of the end
    labels' tables, then properties); None for a store that does not (Neo4j), to be read row by row."""
    from graph.embedded import EmbeddedStore  # the embedded store builds on this module

    return store.view.tables() if isinstance(store, EmbeddedStore) else None


_LABELS: dict[Any, NodeLabel] = dict(NodeLabel._value2member_map_)


def _member(kind: type[Member], given: Any) -> Member:
    member = kind._value2member_map_.get(given)
    if member is None:
        if kind is NodeLabel:
            raise UnknownLabel(f"unknown label {given!r}; known labels: {', '.join(NodeLabel)}")
        raise UnknownTieType(f"unknown relationship type {given!r}; known types: {', '.join(TieType)}", kind="tie")
    return member  # type: ignore[return-value]


def _rows(table: pa.Table) -> Iterator[dict[str, Any]]:
    # Record batch by record batch: the Python rows of a large table are several times its Arrow size.
    for record_batch in table.to_batches():
        yield from record_batch.to_pylist()


def _kind(label: NodeLabel, kind: Any, number: int) -> NodeLabel:
    """A row's own label: its ``kind`` when given (a customer's Person or Company), else the table's."""
    if kind is None:
        if label is NodeLabel.CUSTOMER:
            raise InvalidBatch("a Customer row needs a kind (Person or Company)", row=number)
        return label
    own = _LABELS.get(kind)
    allowed = (NodeLabel.PERSON, NodeLabel.COMPANY) if label is NodeLabel.CUSTOMER else (label,)
    if own is None or own not in allowed:
        raise InvalidBatch(f"kind {kind!r} does not belong in the {label} table", row=number)
    return own


def columns_from_records(
    store: GraphStore, nodes: Mapping[NodeLabel, Sequence[str]], ties: Mapping[TieType, Sequence[str]]
) -> tuple[dict[NodeLabel, pa.Table], dict[TieType, pa.Table]]:
    """:meth:`GraphStore.columns` from the store's records: each label and tie type read once."""
    import numpy as np
    import pyarrow as pa

    from graph.embedded.columns import arrow_column

    labels = list(nodes) + [label for tie_type in ties for label in TIE_ENDS[tie_type] if label not in nodes]
    node_tables: dict[NodeLabel, pa.Table] = {}
    rows: dict[NodeLabel, dict[str, int]] = {}
    for label in dict.fromkeys(labels):
        if label is not label.primary:
            raise ValueError(f"columns are read per primary label, not {label}")
        names = nodes.get(label, ())
        ids: list[str] = []
        kinds: list[str] = []
        values: list[list[Any]] = [[] for _ in names]
        for record in store.nodes(label):
            ids.append(record.id)
            kinds.append(record.label.value)
            for column, name in zip(values, names, strict=True):
                column.append(record.properties.get(name))
        order = sorted(range(len(ids)), key=ids.__getitem__)  # by id, as the embedded store sorts them
        rows[label] = {ids[at]: row for row, at in enumerate(order)}
        if label in nodes:
            fields = [pa.field("id", pa.large_string()), pa.field("kind", pa.large_string())]
            arrays = [
                pa.array([ids[at] for at in order], pa.large_string()),
                pa.array([kinds[at] for at in order], pa.large_string()),
            ]
            for name, column in zip(names, values, strict=True):
                field, array = arrow_column(name, [column[at] for at in order])
                fields.append(field)
                arrays.append(array)
            node_tables[label] = pa.Table.from_arrays(arrays, schema=pa.schema(fields))
    tie_tables: dict[TieType, pa.Table] = {}
    for tie_type, names in ties.items():
        source_rows, target_rows = (rows[label] for label in TIE_ENDS[tie_type])
        ends: list[tuple[int, int]] = []
        tie_values: list[list[Any]] = [[] for _ in names]
        for tie in store.ties([tie_type]):
            ends.append((source_rows[tie.source], target_rows[tie.target]))
            for column, name in zip(tie_values, names, strict=True):
                column.append(tie.properties.get(name))
        order = sorted(range(len(ends)), key=ends.__getitem__)
        pairs = np.array([ends[at] for at in order], dtype=np.int32).reshape(len(order), 2)
        fields = [pa.field("source", pa.int32()), pa.field("target", pa.int32())]
        arrays = [pa.array(pairs[:, 0]), pa.array(pairs[:, 1])]
        for name, column in zip(names, tie_values, strict=True):
            field, array = arrow_column(name, [column[at] for at in order])
            fields.append(field)
            arrays.append(array)
        tie_tables[tie_type] = pa.Table.from_arrays(arrays, schema=pa.schema(fields))
    return node_tables, tie_tables
