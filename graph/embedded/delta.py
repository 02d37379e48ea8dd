"""Bulk writes into the overlay: tables small beside the base they change are merged row by row into the
overlay, their properties kept as columns (a :class:`~graph.embedded.row_reads.Segment`), not into the base.

Merging a table into the base (:mod:`graph.embedded.bulk`) rebuilds every table of its labels and of the
tie types touching them: right for a first load, ruinous for a loader's batch of a few thousand rows into a
graph of millions. Here the cost follows the rows given: their current rows and ties are found by binary
search in the sorted base (and in the overlay's maps), their current properties taken column-wise, merged
with the given columns as the base merge does (a column replaces the property, a null removes it, a
property without a column stays), and the rows that change point into one new segment holding the merged
columns. The overlay's next rebuild takes those rows from the segment's columns at once.

The rules, the counts and the refusals are the base merge's: a tie whose end does not exist raises
``MissingEndpoint`` naming it; a key given twice raises ``NeedsRows`` (the row path merges those).
Changes go to the graph given, which the store has forked: a refusal leaves the graph it reads unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graph.embedded.bulk import NeedsRows, merged_given
from graph.embedded.columns import unified
from graph.embedded.layout import (
    ID,
    KIND,
    NO_PROPERTIES,
    SOURCE,
    TARGET,
    NodeTable,
    TieProperties,
    property_columns,
    with_leading,
)
from graph.embedded.row_reads import Segment, SegmentRow, table_from_overlay
from graph.embedded.tie_table import TieTable, tie_keys
from graph.model import NodeLabel

_LABELS: dict[str, NodeLabel] = {label.value: label for label in NodeLabel}


@dataclass
class Changes:
    """What a write did to the nodes and ties it names (see :class:`graph.store.WriteResult`)."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, existing: np.ndarray, same: np.ndarray) -> None:
        """Count rows given: ``existing`` ones were held already, ``same`` ones are left as they were."""
        held, kept = int(existing.sum()), int(same.sum())
        self.created += len(existing) - held
        self.updated += held - kept
        self.unchanged += kept

    def count(self, same: bool) -> None:
        """Count one row given that was held already."""
        if same:
            self.unchanged += 1
        else:
            self.updated += 1


def put_nodes(table: NodeTable, given: pa.Table, changes: Changes) -> None:
    """Merge checked node rows (``id``, ``kind``, properties) into ``table``'s overlay."""
    ids = given.column(ID).combine_chunks()
    if len(ids) > 1 and pc.count_distinct(ids).as_py() < len(ids):
        raise NeedsRows
    rows = table.rows_of(ids)
    existing = rows >= 0
    old = _held_nodes(table, rows) if existing.any() else None
    merged, same = merged_given(old, existing, given, [ID, KIND])
    changes.add(existing, same)
    if same.all():
        return
    segment = Segment(*property_columns(merged, start=2))
    kinds = [_LABELS[kind] for kind in given.column(KIND).to_pylist()]
    table.put_segment(ids.to_pylist(), rows, kinds, segment, ~same)


def _held_nodes(table: NodeTable, rows: np.ndarray) -> pa.Table:
    """``id``, ``kind`` and the properties held for each of ``rows`` (null for -1), row for row."""
    at = np.flatnonzero(rows >= 0)
    held = rows[at]
    in_overlay = _in(held, table.changed)
    base_rows, overlay_rows = held[~in_overlay], held[in_overlay].tolist()
    base_part = with_leading(
        {ID: table.id_column(base_rows), KIND: table.kind_column(base_rows)},
        table.properties.take(pa.array(base_rows)),
    )
    overlay_part = table_from_overlay(
        [table.changed[row][1] for row in overlay_rows],
        {
            ID: pa.array([table.node_id(row) for row in overlay_rows], pa.large_string()),
            KIND: pa.array([table.changed[row][0].value for row in overlay_rows], pa.large_string()),
        },
    )
    return _aligned(len(rows), at[~in_overlay], base_part, at[in_overlay], overlay_part)


def put_ties(table: TieTable, sources: np.ndarray, targets: np.ndarray, given: pa.Table, changes: Changes) -> None:
    """Merge checked tie rows into ``table``'s overlay: ``sources`` and ``targets`` are the node rows of their
    ends (all found), ``given`` their properties after the ``source`` and ``target`` columns."""
    keys = tie_keys(sources, targets)
    if len(keys) > 1 and bool(np.any(np.diff(np.sort(keys)) == 0)):
        raise NeedsRows
    base_ties = table.base_ties_of(sources, targets)
    overlay_at: list[int] = []
    overlay_props: list[TieProperties] = []
    if table.changed:
        changed = table.changed
        for position in np.flatnonzero(base_ties >= 0).tolist():
            props = changed.get(int(base_ties[position]))
            if props is not None:
                overlay_at.append(position)
                overlay_props.append(props)
    if table.added_out:
        added_out = table.added_out
        for position in np.flatnonzero(base_ties < 0).tolist():
            props = added_out.get(int(sources[position]), _NONE).get(int(targets[position]))
            if props is not None:
                overlay_at.append(position)
                overlay_props.append(props)
    from_base = base_ties >= 0
    from_base[overlay_at] = False
    existing = from_base.copy()
    existing[overlay_at] = True
    ends = {SOURCE: pa.array(sources.astype(np.int32)), TARGET: pa.array(targets.astype(np.int32))}
    rows_given = with_leading(ends, given.select(given.column_names[2:]))
    old = None
    if existing.any():
        base_at, overlay_positions = np.flatnonzero(from_base), np.array(overlay_at, dtype=np.int64)
        base_part = with_leading(
            {SOURCE: pa.array(sources[base_at].astype(np.int32)), TARGET: pa.array(targets[base_at].astype(np.int32))},
            table.properties.take(pa.array(base_ties[base_at])),
        )
        overlay_part = table_from_overlay(
            overlay_props,
            {
                SOURCE: pa.array(sources[overlay_positions].astype(np.int32)),
                TARGET: pa.array(targets[overlay_positions].astype(np.int32)),
            },
        )
        old = _aligned(len(keys), base_at, base_part, overlay_positions, overlay_part)
    merged, same = merged_given(old, existing, rows_given, [SOURCE, TARGET])
    changes.add(existing, same)
    if same.all():
        return
    if merged.num_columns > 2:
        segment = Segment(*property_columns(merged, start=2))
        table.put_segment(sources, targets, base_ties, lambda position: SegmentRow(segment, position), ~same)
    else:
        table.put_segment(sources, targets, base_ties, lambda _: NO_PROPERTIES, ~same)


_NONE: dict[int, TieProperties] = {}


def _in(rows: np.ndarray, overlay: Mapping[int, object]) -> np.ndarray:
    """Which of ``rows`` the overlay holds."""
    if not overlay:
        return np.zeros(len(rows), dtype=bool)
    return np.isin(rows, np.fromiter(overlay, dtype=np.int64, count=len(overlay)))


def _aligned(
    count: int, base_at: np.ndarray, base_part: pa.Table, overlay_at: np.ndarray, overlay_part: pa.Table
) -> pa.Table:
    """The rows of both parts placed at their positions among ``count`` rows, null elsewhere."""
    index = np.full(count, -1, dtype=np.int64)
    index[base_at] = np.arange(len(base_at))
    index[overlay_at] = len(base_at) + np.arange(len(overlay_at))
    return unified([base_part, overlay_part]).take(pa.array(index, mask=index < 0))
