"""Values gathered by column into the tables ``GraphStore.bulk_write`` takes, when that writes exactly what
``write`` would write of the same rows (customer and lineage nodes: ``loaders.customers.CustomerBatch``).

A table cannot say "leave this property alone" for one row and "set it" for another: a column holds a value
or a null, and a null removes the property. Rows go as tables only when each table's rows name the same
properties, or the rows that name fewer are of nodes the store does not hold yet (nothing to leave alone);
and only when every property holds values of one type, so that no value changes type on the way
(:func:`column_table` says when not). Otherwise the rows are written as rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pyarrow as pa

from graph.model import NodeLabel, TieType

IsNew = Callable[[NodeLabel, str], bool]
"""Whether the store holds no node of this primary label and id."""

Tables = tuple[dict[NodeLabel, pa.Table], dict[TieType, pa.Table]]
"""Node tables by primary label and tie tables by type, as ``GraphStore.bulk_write`` takes them."""


def column_table(leading: dict[str, list[str]], columns: Mapping[str, list[Any]]) -> pa.Table | None:
    """The leading text columns, then a column per property (None where a row has no value); None when a
    property's values are not of one type a table holds as it is."""
    fields = [pa.field(name, pa.string()) for name in leading]
    arrays = [pa.array(values, pa.string()) for values in leading.values()]
    for name, values in columns.items():
        array = arrow_column(values)
        if array is None:
            return None
        fields.append(pa.field(name, array.type))
        arrays.append(array)
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


PYTHON_TYPES = {str: pa.string(), bool: pa.bool_(), int: pa.int64(), float: pa.float64()}
"""The Arrow type of each Python type a property holds as it is."""


def arrow_column(values: list[Any]) -> pa.Array | None:
    """The values as one Arrow array of their one type (None where absent); None when they have several
    types, or one a table does not hold as it is (a list of mixed items or of no item at all, an integer
    beyond 64 bits)."""
    array = exact_array(values)
    if array is None or array.type == pa.list_(pa.null()):
        return None
    return array


def exact_array(values: list[Any]) -> pa.Array | None:
    """The values as one Arrow array that gives them back as they are (lists without any item: lists of
    nulls); None when they are of several types, or of one Arrow does not hold as it is."""
    kinds = {type(value) for value in values if value is not None}
    if not kinds:
        return pa.nulls(len(values))
    if len(kinds) > 1:
        return None
    kind = kinds.pop()
    arrow_type: pa.DataType | None
    if kind is list:
        items = {type(item) for value in values if value is not None for item in value}
        if len(items) > 1:
            return None
        item_type = PYTHON_TYPES.get(items.pop()) if items else pa.null()
        arrow_type = pa.list_(item_type) if item_type is not None else None
    else:
        arrow_type = PYTHON_TYPES.get(kind)
    if arrow_type is None:
        return None
    try:
        return pa.array(values, arrow_type)
    except (OverflowError, pa.ArrowInvalid):
        return None
