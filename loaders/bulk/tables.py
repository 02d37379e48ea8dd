"""Rows made one at a time (customer and lineage nodes, their ties) turned into the tables
``GraphStore.bulk_write`` takes, when that writes exactly what ``write`` would write of the rows.

A table cannot say "leave this property alone" for one row and "set it" for another: a column holds a value
or a null, and a null removes the property. Rows are taken as tables only when each table's rows name the
same properties, or the rows that name fewer are of nodes the store does not hold yet (nothing to leave
alone); and only when every property holds values of one type, so that no value changes type on the
way. Otherwise :func:`pending_tables` returns None and the rows are written as rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import Any

import pyarrow as pa

from graph.batch import NodeData, TieData
from graph.model import NodeLabel, TieType

IsNew = Callable[[NodeLabel, str], bool]
"""Whether the store holds no node of this primary label and id."""


def pending_tables(
    nodes: list[NodeData], ties: list[TieData], is_new: IsNew
) -> tuple[dict[NodeLabel, pa.Table], dict[TieType, pa.Table]] | None:
    """The rows as node tables by primary label and tie tables by type, or None when they must go as rows."""
    node_rows: dict[NodeLabel, list[tuple[str, str, Mapping[str, Any]]]] = defaultdict(list)
    for node in nodes:
        label = NodeLabel(node["label"])
        if label is NodeLabel.CUSTOMER:  # a customer row of no kind keeps the kind held: rows know how
            return None
        node_rows[label.primary].append((node["id"], label.value, node["properties"]))
    node_tables = {}
    for label, rows in node_rows.items():
        names = _names([properties for _, _, properties in rows])
        if not _fills_only_new(label, rows, names, is_new):
            return None
        table = _table({"id": [node_id for node_id, _, _ in rows], "kind": [kind for _, kind, _ in rows]}, rows, names)
        if table is None:
            return None
        node_tables[label] = table
    tie_rows: dict[TieType, list[tuple[str, str, Mapping[str, Any]]]] = defaultdict(list)
    for tie in ties:
        tie_rows[TieType(tie["type"])].append((tie["source"], tie["target"], tie["properties"]))
    tie_tables = {}
    for tie_type, rows in tie_rows.items():
        tie_names = _names([properties for _, _, properties in rows])
        if any(len(properties) != len(tie_names) for _, _, properties in rows):
            return None  # a tie that leaves a property alone (no tie source writes such rows today)
        ends = {"source": [source for source, _, _ in rows], "target": [target for _, target, _ in rows]}
        table = _table(ends, rows, tie_names)
        if table is None:
            return None
        tie_tables[tie_type] = table
    return node_tables, tie_tables


def _names(properties: list[Mapping[str, Any]]) -> dict[str, None]:
    """Every property name the rows hold, in the order first seen."""
    names: dict[str, None] = {}
    for row in properties:
        names.update(dict.fromkeys(row))
    return names


def _fills_only_new(
    label: NodeLabel, rows: list[tuple[str, str, Mapping[str, Any]]], names: dict[str, None], is_new: IsNew
) -> bool:
    """Whether each row naming fewer than ``names`` is of a node the store does not hold."""
    return all(len(properties) == len(names) or is_new(label, node_id) for node_id, _, properties in rows)


def _table(
    leading: dict[str, list[str]], rows: list[tuple[str, str, Mapping[str, Any]]], names: dict[str, None]
) -> pa.Table | None:
    """The leading text columns, then a column per property name; None when a property mixes types."""
    fields = [pa.field(name, pa.string()) for name in leading]
    arrays = [pa.array(values, pa.string()) for values in leading.values()]
    for name in names:
        array = _column([properties.get(name) for _, _, properties in rows])
        if array is None:
            return None
        fields.append(pa.field(name, array.type))
        arrays.append(array)
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


_TYPES = {str: pa.string(), bool: pa.bool_(), int: pa.int64(), float: pa.float64()}


def _column(values: list[Any]) -> pa.Array | None:
    """The values as one Arrow array of their one type (None where absent); None when they have several
    types, or one a table does not hold as it is (a list of mixed items, an integer beyond 64 bits)."""
    kinds = {type(value) for value in values if value is not None}
    if not kinds:
        return pa.nulls(len(values))
    if len(kinds) > 1:
        return None
    kind = kinds.pop()
    if kind is list:
        items = {type(item) for value in values if value is not None for item in value}
        item_type = _TYPES.get(items.pop()) if len(items) == 1 else None
        if item_type is None:
            return None
        arrow_type: pa.DataType = pa.list_(item_type)
    elif kind in _TYPES:
        arrow_type = _TYPES[kind]
    else:
        return None
    try:
        return pa.array(values, arrow_type)
    except (OverflowError, pa.ArrowInvalid):
        return None
