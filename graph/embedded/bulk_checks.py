"""Which tables a bulk write can take as columns: :func:`checked_tables` takes the tables
:meth:`graph.store.GraphStore.bulk_write` is given and returns them in the store's types (a symmetric tie turned
round to start from the smaller id, as the row path holds it), or None when a table needs what only the row path
does (a value ``write`` would refuse, which the row path then names): the store then writes it as rows, so both
paths always agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from graph.embedded.columns import one_array
from graph.embedded.layout import ID, KIND, SOURCE, TARGET, with_leading
from graph.model import NodeLabel, TieType
from graph.ties import spec

_LABELS: dict[Any, NodeLabel] = dict(NodeLabel._value2member_map_)
_TIE_TYPES: dict[Any, TieType] = dict(TieType._value2member_map_)
NodeTables = dict[NodeLabel, pa.Table]
TieTables = dict[TieType, pa.Table]


def checked_tables(nodes: Mapping[Any, pa.Table], ties: Mapping[Any, pa.Table]) -> tuple[NodeTables, TieTables] | None:
    """The tables in the store's column types (ids and kinds as texts), or None for the row path."""
    node_tables: NodeTables = {}
    for given, table in nodes.items():
        label = _LABELS.get(given)
        if label is None or label.primary is not label or not isinstance(table, pa.Table):
            return None
        checked = _checked_nodes(label, table)
        if checked is None:
            return None
        node_tables[label] = checked
    tie_tables: TieTables = {}
    for given, table in ties.items():
        tie_type = _TIE_TYPES.get(given)
        if tie_type is None or not isinstance(table, pa.Table):
            return None
        checked = _checked_ties(tie_type, table)
        if checked is None:
            return None
        tie_tables[tie_type] = checked
    return node_tables, tie_tables


def _key_texts(table: pa.Table, name: str) -> pa.Array | None:
    if name not in table.column_names:
        return None
    column = table.column(name)
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)) or column.null_count:
        return None
    texts = one_array(pc.cast(column, pa.large_string()))
    if len(texts) and pc.min(pc.utf8_length(texts)).as_py() == 0:
        return None
    return texts


def _checked_nodes(label: NodeLabel, table: pa.Table) -> pa.Table | None:
    ids = _key_texts(table, ID)  # duplicates are found once sorted, by prepare
    if ids is None:
        return None
    allowed = [NodeLabel.PERSON.value, NodeLabel.COMPANY.value] if label is NodeLabel.CUSTOMER else [label.value]
    kinds = _key_texts(table, KIND)
    if kinds is None:
        if KIND in table.column_names or label is NodeLabel.CUSTOMER:
            return None
        kinds = pa.array([label.value] * len(ids), pa.large_string())
    elif not pc.all(pc.is_in(kinds, pa.array(allowed, pa.large_string()))).as_py() and len(kinds):
        return None
    properties = _checked_properties(table, exclude=(ID, KIND))
    return None if properties is None else with_leading({ID: ids, KIND: kinds}, properties)


def _checked_ties(tie_type: TieType, table: pa.Table) -> pa.Table | None:
    sources, targets = _key_texts(table, SOURCE), _key_texts(table, TARGET)
    if sources is None or targets is None:
        return None
    if spec(tie_type).source is spec(tie_type).target and pc.any(pc.equal(sources, targets)).as_py():
        return None  # a tie of a node to itself: the row path refuses it, naming the row
    if spec(tie_type).symmetric and len(sources):  # held from the smaller id, as the row path holds it
        turned = pc.greater(sources, targets)
        sources, targets = pc.if_else(turned, targets, sources), pc.if_else(turned, sources, targets)
    properties = _checked_properties(table, exclude=(SOURCE, TARGET))
    return None if properties is None else with_leading({SOURCE: sources, TARGET: targets}, properties)


_SCALARS = (pa.large_string(), pa.bool_(), pa.int64(), pa.float64())


def _store_type(arrow_type: pa.DataType) -> pa.DataType | None:
    """The type the store holds a column of ``arrow_type`` in, None when it holds no such column."""
    if pa.types.is_dictionary(arrow_type):
        arrow_type = arrow_type.value_type
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return pa.large_string()
    if pa.types.is_boolean(arrow_type) or pa.types.is_null(arrow_type):
        return arrow_type
    if pa.types.is_integer(arrow_type) and arrow_type != pa.uint64():
        return pa.int64()
    if pa.types.is_floating(arrow_type):
        return pa.float64()
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        item = _store_type(arrow_type.value_type)
        return pa.list_(item) if item in _SCALARS else None
    return None


def _checked_properties(table: pa.Table, exclude: tuple[str, ...]) -> pa.Table | None:
    fields, arrays = [], []
    for source_field, column in zip(table.schema, table.columns, strict=True):
        if source_field.name in exclude:
            continue
        wanted = _store_type(source_field.type)
        if wanted is None or not source_field.name or source_field.name in exclude:
            return None
        array = one_array(pc.cast(column, wanted) if column.type != wanted else column)
        if pa.types.is_list(wanted):
            items = pc.list_flatten(array)
            if items.null_count or (pa.types.is_floating(wanted.value_type) and pc.any(pc.is_nan(items)).as_py()):
                return None
        elif pa.types.is_floating(wanted) and pc.any(pc.is_nan(array)).as_py():
            return None
        fields.append(pa.field(source_field.name, wanted))
        arrays.append(array)
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))
