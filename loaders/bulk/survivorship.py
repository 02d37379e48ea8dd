"""Survivorship (``loaders.survivorship``) of customers made of several records held as columns.

Each property of such a customer is the first value in survivor order (best-ranked source first, then the
record read last), found with numpy on the records sorted by customer and survivor order; the aliases of
the kept fields are the other distinct values in that order. :class:`ColumnCombined` holds them as one table,
a row per customer; :class:`ObjectCombined` holds ``loaders.survivorship.combined_customers``'s dicts,
for what columns cannot hold (records of earlier loads, fields of values of several types).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from loaders.bulk.records import CustomerRecords
from loaders.bulk.tables import exact_array
from loaders.survivorship import KEPT_FIELDS, alias_property


class Combined(Protocol):
    """The combined properties of customers made of several records."""

    def __contains__(self, customer_id: object) -> bool: ...

    def shape(self, customer_id: str) -> tuple[str, ...]:
        """The names the customer's combined properties hold, in ``loaders.survivorship.combine``'s order."""
        ...

    def values(self, customer_ids: Sequence[str], names: Iterable[str]) -> dict[str, pa.Array | None]:
        """Properties of some customers, each as one array (null where absent); None when the values are not
        of one type (``loaders.bulk.tables.exact_array``)."""
        ...

    def properties(self, customer_id: str) -> dict[str, Any]:
        """The customer's combined properties as ``loaders.survivorship.combine`` gives them."""
        ...


@dataclass
class ObjectCombined:
    """Combined properties as dicts."""

    combined: dict[str, dict[str, Any]]

    def __contains__(self, customer_id: object) -> bool:
        return customer_id in self.combined

    def shape(self, customer_id: str) -> tuple[str, ...]:
        return tuple(self.combined[customer_id])

    def values(self, customer_ids: Sequence[str], names: Iterable[str]) -> dict[str, pa.Array | None]:
        combined = [self.combined[customer_id] for customer_id in customer_ids]
        return {name: exact_array([properties.get(name) for properties in combined]) for name in names}

    def properties(self, customer_id: str) -> dict[str, Any]:
        return self.combined[customer_id]


@dataclass
class ColumnCombined:
    """Combined properties as a table, one row per customer."""

    row_of: dict[str, int]
    table: pa.Table
    shapes: list[tuple[str, ...]]
    shape_of: np.ndarray
    """Each row's shape (an index into ``shapes``)."""

    def __contains__(self, customer_id: object) -> bool:
        return customer_id in self.row_of

    def shape(self, customer_id: str) -> tuple[str, ...]:
        return self.shapes[self.shape_of[self.row_of[customer_id]]]

    def values(self, customer_ids: Sequence[str], names: Iterable[str]) -> dict[str, pa.Array | None]:
        # The customers' rows found once for every name (a batch asks for a dozen or more).
        rows = pa.array([self.row_of[customer_id] for customer_id in customer_ids], pa.int64())
        held = set(self.table.column_names)
        return {
            name: self.table.column(name).combine_chunks().take(rows) if name in held else pa.nulls(len(rows))
            for name in names
        }

    def properties(self, customer_id: str) -> dict[str, Any]:
        row = self.row_of[customer_id]
        return {name: self.table.column(name)[row].as_py() for name in self.shape(customer_id)}


def combined_by_columns(
    records: CustomerRecords, customer_ids: Sequence[str], members: np.ndarray, ranks: Mapping[str, int]
) -> ColumnCombined | None:
    """The combined properties of the customers of the records ``members`` (positions, in order: every
    record of customers made of several records, none of them with records of earlier loads); None when a
    property holds values of several types across sources, or a kept field is not text."""
    names = list(dict.fromkeys(name for run in records.runs for name in run.properties.column_names))
    columns = {name: records.column(name) for name in [*names, *(field for field in KEPT_FIELDS if field not in names)]}
    if any(column is None for column in columns.values()):
        return None
    if any(not _text(columns[field]) for field in KEPT_FIELDS):
        return None
    # Records sorted by customer, then survivor order: best-ranked source first, the record read last first.
    run_of = np.searchsorted(records.starts, members, side="right") - 1
    unlisted = len(ranks)
    run_rank = np.array([ranks.get(run.source, unlisted) for run in records.runs], dtype=np.int64)
    ids = pa.array(customer_ids, pa.string()).take(pa.array(members, pa.int64()))
    encoded = pc.dictionary_encode(ids)
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    order = np.lexsort((-members, run_rank[run_of] if len(run_of) else run_of, codes))
    at, group = members[order], codes[order]
    count = len(encoded.dictionary)
    starts = np.flatnonzero(np.diff(group, prepend=-1))
    taken = pa.array(at, pa.int64())
    table: dict[str, pa.Array] = {}
    for name, column in columns.items():
        assert column is not None
        values = column.take(taken)
        table[name] = values.take(_first_valid(values, group, count))
    for field in KEPT_FIELDS:
        column = columns[field]
        assert column is not None
        table[alias_property(field)] = _aliases(column.take(taken), table[field], group, count)
    shapes, shape_of = _shapes(records, run_of[order], starts)
    return ColumnCombined(
        dict(zip(encoded.dictionary.to_pylist(), range(count), strict=True)), pa.table(table), shapes, shape_of
    )


def _text(column: pa.Array | None) -> bool:
    return column is not None and (pa.types.is_string(column.type) or pa.types.is_null(column.type))


def _first_valid(values: pa.Array, group: np.ndarray, count: int) -> pa.Array:
    """Per group, the position of its first non-null value (null where it has none)."""
    valid = np.flatnonzero(values.is_valid().to_numpy(zero_copy_only=False))
    held, first = np.unique(group[valid], return_index=True)
    pick = np.zeros(count, dtype=np.int64)
    absent = np.ones(count, dtype=bool)
    pick[held], absent[held] = valid[first], False
    return pa.array(pick, mask=absent)


def _aliases(values: pa.Array, survivors: pa.Array, group: np.ndarray, count: int) -> pa.Array:
    """Per group, its other distinct values in order (``loaders.survivorship._others``), or null."""
    text = values.cast(pa.string())
    other = pc.fill_null(pc.not_equal(text, survivors.cast(pa.string()).take(pa.array(group))), True)
    kept = np.flatnonzero(pc.and_(text.is_valid(), other).to_numpy(zero_copy_only=False))
    codes = pc.dictionary_encode(text).indices.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
    _, first = np.unique(group[kept] * (len(text) + 1) + codes[kept], return_index=True)
    kept = np.sort(kept[first])
    found: list[list[str] | None] = [None] * count
    for owner, value in zip(group[kept].tolist(), text.take(pa.array(kept, pa.int64())).to_pylist(), strict=True):
        listed = found[owner]
        if listed is None:
            found[owner] = [value]
        else:
            listed.append(value)
    return pa.array(found, pa.list_(pa.string()))


def _shapes(records: CustomerRecords, runs: np.ndarray, starts: np.ndarray) -> tuple[list[tuple[str, ...]], np.ndarray]:
    """Per group, the names ``combine`` gives its dict: the runs' names, worst-ranked record first, then the
    aliases; as distinct shapes and each group's shape."""
    bounds = [*starts.tolist(), len(runs)]
    listed = runs.tolist()
    shapes: dict[tuple[str, ...], int] = {}
    shape_of = np.empty(len(starts), dtype=np.int64)
    aliases = tuple(alias_property(field) for field in KEPT_FIELDS)
    by_runs: dict[tuple[int, ...], int] = {}
    for group, (start, end) in enumerate(itertools.pairwise(bounds)):
        sequence = tuple(reversed(listed[start:end]))
        number = by_runs.get(sequence)
        if number is None:
            shape = tuple(dict.fromkeys(name for run in sequence for name in records.runs[run].properties.column_names))
            number = by_runs[sequence] = shapes.setdefault(shape + aliases, len(shapes))
        shape_of[group] = number
    return list(shapes), shape_of
