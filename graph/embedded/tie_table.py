"""The ties of one type in the columnar layout (see :mod:`graph.embedded.layout`): int32 rows sorted by
(source, target) with CSR offsets both ways, properties as columns, and an overlay for what was written since."""

from __future__ import annotations

import copy
from bisect import bisect_left
from collections.abc import Callable, Collection, Iterator, Sequence
from itertools import chain
from typing import Any

import numpy as np
import pyarrow as pa

from graph.embedded.columns import one_array, unified
from graph.embedded.keys import merged_order, positions_in
from graph.embedded.layout import (
    NO_PROPERTIES,
    SOURCE,
    STORED,
    TARGET,
    DeletionMask,
    PendingColumns,
    TieProperties,
    held_columns,
    is_stored,
    property_columns,
    with_leading,
)
from graph.embedded.row_reads import Column, RowProperties, scalars, table_from_overlay

IN_ORDER = "in_order"
"""The column after ``source`` and ``target`` in a snapshot's tie table: the ties in (target, source) order,
the sort opening would otherwise do."""


class TieTable(DeletionMask):
    """The ties of one type, between rows of its source and target node tables."""

    def __init__(
        self, source_count: int, target_count: int, table: pa.Table | None = None, pending: PendingColumns | None = None
    ) -> None:
        """``table``: columns ``source``, ``target`` (int32 rows) then properties, sorted by (source, target); or
        the form a snapshot holds (:func:`stored_ties`); ``pending``: the property columns, placed once first
        read (``table`` then holds the ends and the order by target alone, as a snapshot does)."""
        if table is None:
            table = pa.table({SOURCE: pa.array([], pa.int32()), TARGET: pa.array([], pa.int32())})
        if (
            table.column_names[:2] != [SOURCE, TARGET]
            or table.column(SOURCE).null_count + table.column(TARGET).null_count
        ):
            raise ValueError("a tie table without its source and target columns")
        self.sources = np.asarray(table.column(SOURCE).to_numpy(), dtype=np.int32)
        self.targets = np.asarray(table.column(TARGET).to_numpy(), dtype=np.int32)
        self.count_base = len(self.sources)
        _check_ends(self.sources, source_count, "source")
        _check_ends(self.targets, target_count, "target")
        if not _unique_in_order(self.sources, self.targets):
            raise ValueError("a tie table whose ties are not unique and in order")
        self.out_offsets = _offsets(self.sources, source_count)
        stored = is_stored(table)
        if stored:
            if table.column_names[2:3] != [IN_ORDER] or table.column(2).type != pa.int32():
                raise ValueError("a tie table without its order by target")
            self.in_order = np.asarray(table.column(2).to_numpy(), dtype=np.int32)
        else:
            self.in_order = in_order(self.targets)
        self.in_offsets = _offsets(self.targets, target_count)  # counts per target: the order does not matter
        if pending is None:
            self._pending = PendingColumns.made(
                property_columns(table, start=3 if stored else 2, stored=stored), self.count_base
            )
        elif not stored or table.num_columns != 3 or pending.rows != self.count_base:
            raise ValueError("a tie table with columns both given and pending")
        else:
            self._pending = pending
        self.deleted = np.zeros(self.count_base, dtype=bool)
        self.deleted_count = 0
        self._deleted, self._sources, self._targets = (
            scalars(self.deleted),
            scalars(self.sources),
            scalars(self.targets),
        )
        self._out, self._in, self._in_order = (
            scalars(self.out_offsets),
            scalars(self.in_offsets),
            scalars(self.in_order),
        )
        self._out_nodes, self._in_nodes = len(self.out_offsets) - 1, len(self.in_offsets) - 1
        self.changed: dict[int, TieProperties] = {}
        self.added_out: dict[int, dict[int, TieProperties]] = {}
        self.added_in: dict[int, dict[int, TieProperties]] = {}
        self.added_count = 0
        self._keys: np.ndarray | None = None  # the base's (source, target) keys, made when first asked for
        # Which of the overlay's parts this table may change in place; a clone owns none until it copies them.
        self._owns_deleted = True
        self._owned_out: set[int] | None = None  # None: every inner map of added_out is this table's own
        self._owned_in: set[int] | None = None

    @property
    def properties(self) -> pa.Table:
        """The property columns, a row per base tie (placed now when a bulk merge left them pending)."""
        return self._pending.placed()[0]

    @property
    def columns(self) -> dict[str, Column]:
        """A reader of each property column (see :mod:`graph.embedded.row_reads`)."""
        return self._pending.placed()[1]

    @property
    def pending(self) -> PendingColumns:
        """The property columns as held: placed, or parts still to place (see :class:`PendingColumns`)."""
        return self._pending

    def clone(self) -> TieTable:
        """A table reading the same that may be changed without changing this one: the base is shared, the
        overlay's maps copied one level deep, each inner map and the deletion mask copied when first changed."""
        twin = copy.copy(self)
        twin.changed, twin.added_out, twin.added_in = dict(self.changed), dict(self.added_out), dict(self.added_in)
        twin._owns_deleted, twin._owned_out, twin._owned_in = False, set(), set()
        return twin

    def _own_targets(self, source: int) -> dict[int, TieProperties]:
        """The overlay's ties leaving ``source``, as a map this table may change."""
        return _owned_inner(self.added_out, self._owned_out, source)

    def _own_sources(self, target: int) -> dict[int, TieProperties]:
        """The overlay's ties arriving at ``target``, as a map this table may change."""
        return _owned_inner(self.added_in, self._owned_in, target)

    def props(self, tie: int) -> TieProperties:
        changed = self.changed.get(tie)
        if changed is not None:
            return changed
        if not self.columns:
            return NO_PROPERTIES
        return RowProperties(self.columns, tie)

    def base_tie(self, source: int, target: int) -> int | None:
        if source >= self._out_nodes:
            return None
        start, end = self._out[source], self._out[source + 1]
        position = bisect_left(self._targets, target, start, end)
        if position < end and self._targets[position] == target and not self._deleted[position]:
            return position
        return None

    def find(self, source: int, target: int) -> TieProperties | None:
        tie = self.base_tie(source, target)
        if tie is not None:
            return self.props(tie)
        return self.added_out.get(source, {}).get(target)

    def out(self, source: int) -> list[tuple[int, TieProperties]]:
        """(target row, properties) of the ties leaving ``source``."""
        found: list[tuple[int, TieProperties]] = []
        if source < self._out_nodes:
            start, end = self._out[source], self._out[source + 1]
            if start != end:
                found = self._entries(range(start, end), self._targets[start:end].tolist())
        added = self.added_out.get(source)
        if added:
            found.extend(added.items())
        return found

    def into(self, target: int) -> list[tuple[int, TieProperties]]:
        """(source row, properties) of the ties arriving at ``target``."""
        found: list[tuple[int, TieProperties]] = []
        if target < self._in_nodes:
            start, end = self._in[target], self._in[target + 1]
            if start != end:
                ties, sources = self._in_order[start:end].tolist(), self._sources
                found = self._entries(ties, [sources[tie] for tie in ties])
        added = self.added_in.get(target)
        if added:
            found.extend(added.items())
        return found

    def _entries(self, ties: Sequence[int], ends: list[int]) -> list[tuple[int, TieProperties]]:
        """(other end, properties) of these base ties, deleted ones left out."""
        if not self.columns and not self.changed and not self.deleted_count:
            return [(end, NO_PROPERTIES) for end in ends]
        deleted, props = self._deleted, self.props
        return [(end, props(tie)) for tie, end in zip(ties, ends, strict=True) if not deleted[tie]]

    def count(self) -> int:
        return self.count_base - self.deleted_count + self.added_count

    def overlay_size(self) -> int:
        return len(self.changed) + self.deleted_count + self.added_count

    def put(self, source: int, target: int, props: TieProperties) -> None:
        props = props or NO_PROPERTIES
        tie = self.base_tie(source, target)
        if tie is not None:
            self.changed[tie] = props
            return
        targets = self._own_targets(source)
        if target not in targets:
            self.added_count += 1
        targets[target] = props
        self._own_sources(target)[source] = props

    def base_ties_of(self, sources: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """For each (source, target) row pair, its live tie in the base, or -1."""
        if self._keys is None:
            self._keys = tie_keys(self.sources, self.targets)  # sorted: the base is sorted by (source, target)
        ties = positions_in(tie_keys(sources, targets), self._keys)
        found = np.flatnonzero(ties >= 0)
        ties[found[self.deleted[ties[found]]]] = -1
        return ties

    def put_segment(
        self,
        sources: np.ndarray,
        targets: np.ndarray,
        base_ties: np.ndarray,
        props: Callable[[int], TieProperties],
        written: np.ndarray,
    ) -> None:
        """Put the ties ``written`` picks, with ``props(position)`` as their properties; ``base_ties`` are
        their live ties in the base (see :meth:`base_ties_of`), -1 for others."""
        changed = self.changed
        for position in np.flatnonzero(written).tolist():
            tie = int(base_ties[position])
            if tie >= 0:
                changed[tie] = props(position)
                continue
            source, target = int(sources[position]), int(targets[position])
            tie_props = props(position)
            targets_held = self._own_targets(source)
            if target not in targets_held:
                self.added_count += 1
            targets_held[target] = tie_props
            self._own_sources(target)[source] = tie_props

    def remove_at(self, row: int, *, as_source: bool, as_target: bool) -> None:
        """Remove every tie leaving (``as_source``) or arriving at (``as_target``) the node at ``row``."""
        if as_source:
            if row < len(self.out_offsets) - 1:
                self._delete_base(range(int(self.out_offsets[row]), int(self.out_offsets[row + 1])))
            for target in self.added_out.pop(row, {}):
                _forget(self.added_in, self._owned_in, target, row)
                self.added_count -= 1
        if as_target:
            if row < len(self.in_offsets) - 1:
                self._delete_base(self.in_order[int(self.in_offsets[row]) : int(self.in_offsets[row + 1])].tolist())
            for source in self.added_in.pop(row, {}):
                if _forget(self.added_out, self._owned_out, source, row):
                    self.added_count -= 1

    def _delete_base(self, ties: Any) -> None:
        self._own_deleted()
        for tie in ties:
            if not self.deleted[tie]:
                self.deleted[tie] = True
                self.deleted_count += 1
                self.changed.pop(tie, None)

    def live(self) -> Iterator[tuple[int, int, TieProperties]]:
        """(source row, target row, properties) of every tie."""
        for tie in np.flatnonzero(~self.deleted).tolist():
            yield int(self.sources[tie]), int(self.targets[tie]), self.props(tie)
        for source, targets in self.added_out.items():
            for target, props in targets.items():
                yield source, target, props

    def remapped(self, new_sources: np.ndarray, new_targets: np.ndarray) -> pa.Table:
        """The base (with an empty overlay) on new node rows, in the form a snapshot holds (:func:`stored_ties`):
        a node's new row follows its id as its old row did, so the ties keep their order both ways, and the
        order by target and the property columns are the base's own, not made again."""
        return with_leading(self.remapped_ends(new_sources, new_targets), self.properties).replace_schema_metadata(
            STORED
        )

    def remapped_ends(self, new_sources: np.ndarray, new_targets: np.ndarray) -> dict[str, pa.Array]:
        """The leading columns of :meth:`remapped`: the ends on the new node rows and the order by target."""
        if self.overlay_size():
            raise ValueError("ties written since the base was built are merged, not remapped")
        return {
            SOURCE: pa.array(new_sources[self.sources], pa.int32()),
            TARGET: pa.array(new_targets[self.targets], pa.int32()),
            IN_ORDER: pa.array(self.in_order, pa.int32()),
        }

    def merged(
        self, new_sources: np.ndarray, new_targets: np.ndarray, names: Collection[str] | None = None
    ) -> pa.Table:
        """Base and overlay as one table on the new node rows, sorted by (source, target); only the properties
        in ``names`` when given."""
        properties = self.properties if names is None else held_columns(self.properties, names)
        if not self.overlay_size():  # the base on the new rows; their order is the old rows' order
            ends = {
                SOURCE: pa.array(new_sources[self.sources], pa.int32()),
                TARGET: pa.array(new_targets[self.targets], pa.int32()),
            }
            return with_leading(ends, properties)
        keep = ~self.deleted
        keep[list(self.changed)] = False
        kept = np.flatnonzero(keep)
        base = with_leading(
            {
                SOURCE: pa.array(new_sources[self.sources[kept]].astype(np.int32)),
                TARGET: pa.array(new_targets[self.targets[kept]].astype(np.int32)),
            },
            properties.take(kept),
        )
        # The overlay's ties as arrays, its maps read at once rather than a tuple a tie.
        changed = np.fromiter(self.changed, dtype=np.int64, count=len(self.changed))
        added_sources = np.repeat(
            np.fromiter(self.added_out, dtype=np.int64, count=len(self.added_out)),
            np.fromiter(map(len, self.added_out.values()), dtype=np.int64, count=len(self.added_out)),
        )
        added_targets = np.fromiter(
            chain.from_iterable(self.added_out.values()), dtype=np.int64, count=len(added_sources)
        )
        overlay = table_from_overlay(
            [*self.changed.values(), *chain.from_iterable(map(dict.values, self.added_out.values()))],
            {
                SOURCE: pa.array(new_sources[np.concatenate([self.sources[changed], added_sources])], pa.int32()),
                TARGET: pa.array(new_targets[np.concatenate([self.targets[changed], added_targets])], pa.int32()),
            },
            names,
        )
        table = unified([base, overlay])
        # The kept ties stay in (source, target) order on the new node rows (a node's new row follows its id, as
        # its old row did): only the overlay's ties are sorted and placed among them.
        kept_keys = tie_keys(new_sources[self.sources[kept]], new_targets[self.targets[kept]])
        overlay_keys = tie_keys(overlay.column(SOURCE).to_numpy(), overlay.column(TARGET).to_numpy())
        if len(kept_keys) > 1 and not bool(np.all(kept_keys[1:] > kept_keys[:-1])):  # rows given out of order
            return table.take(np.argsort(np.concatenate([kept_keys, overlay_keys]), kind="stable"))
        return table.take(merged_order(kept_keys, overlay_keys))


def in_order(targets: np.ndarray) -> np.ndarray:
    """The ties sorted by (target, source), as int32 positions, given ``targets`` of ties sorted by (source,
    target): a stable sort by target keeps the order by source within each target."""
    return np.argsort(targets, kind="stable").astype(np.int32)


def merged_in_order(
    held_in_order: np.ndarray, kept_rows: np.ndarray, order: np.ndarray, sources: np.ndarray, targets: np.ndarray
) -> np.ndarray:
    """:func:`in_order` of ties merged from held ones and given ones, without sorting every tie again: the held
    ties' order by target (``held_in_order``), of which ``kept_rows`` (sorted) are kept, with the given ties
    sorted and placed among them. ``order`` placed the kept ties then the given ones at their rows among the
    merged ``sources`` and ``targets``; a node's new row follows its old one, so the kept ties keep their order
    by (target, source). Linear in the ties held, where a sort of every target is not (a tie type of millions
    merged with each batch of a load)."""
    kept_count = len(kept_rows)
    at = np.empty(len(order), dtype=np.int32)  # each kept (then given) tie's row among the merged ones
    at[order] = np.arange(len(order), dtype=np.int32)
    if kept_count == len(held_in_order):  # every held tie kept (a load adding ties)
        kept_at = at[held_in_order]  # the kept ties' rows, in order by target
    else:
        kept_of_held = np.full(len(held_in_order), -1, dtype=np.int32)
        kept_of_held[kept_rows] = np.arange(kept_count, dtype=np.int32)
        kept = kept_of_held[held_in_order]
        kept_at = at[kept[kept >= 0]]
    given_at = at[kept_count:]
    kept_keys = tie_keys(targets[kept_at], sources[kept_at])
    given_keys = tie_keys(targets[given_at], sources[given_at])
    return np.concatenate([kept_at, given_at])[merged_order(kept_keys, given_keys)].astype(np.int32)


def stored_ties(table: pa.Table) -> pa.Table:
    """A tie table (as :meth:`TieTable.merged` makes it) in the form a snapshot holds: ``source``, ``target``,
    the order by target (:data:`IN_ORDER`), then the properties as the layout keeps them."""
    properties, _ = property_columns(table, start=2, readers=False)
    targets = np.asarray(table.column(TARGET).to_numpy(), dtype=np.int32)
    leading = {
        SOURCE: one_array(table.column(SOURCE)),
        TARGET: one_array(table.column(TARGET)),
        IN_ORDER: pa.array(in_order(targets), pa.int32()),
    }
    return with_leading(leading, properties).replace_schema_metadata(STORED)


def _check_ends(rows: np.ndarray, count: int, end: str) -> None:
    if len(rows) and (rows.min() < 0 or rows.max() >= count):
        raise ValueError(f"a tie table with a {end} that is not a node of the snapshot")


def _unique_in_order(sources: np.ndarray, targets: np.ndarray, chunk: int = 1 << 20) -> bool:
    """Whether the (source, target) pairs are strictly increasing: checked a chunk at a time, so that the
    check of a few million ties holds a few MiB of temporaries, not several arrays as long as the ties."""
    for start in range(0, max(len(sources) - 1, 0), chunk):
        end = min(start + chunk + 1, len(sources))
        keys = tie_keys(sources[start:end], targets[start:end])
        if not bool(np.all(keys[1:] > keys[:-1])):
            return False
    return True


def _offsets(rows: np.ndarray, count: int) -> np.ndarray:
    """CSR offsets of ``rows`` (the ties' ends) over ``count`` nodes: in an order sorted by that end, row r's
    ties are [offsets[r], offsets[r + 1]). int32, as tie rows are: half the memory of int64 per node and type."""
    offsets = np.zeros(count + 1, dtype=np.int32)
    offsets[1:] = np.cumsum(np.bincount(rows, minlength=count))
    return offsets


def _owned_inner(
    adjacency: dict[int, dict[int, TieProperties]], owned: set[int] | None, key: int
) -> dict[int, TieProperties]:
    """``adjacency[key]`` (made when missing), copied first unless ``owned`` says it is the table's own already
    (None: all are): a clone shares the inner maps with the table it came from, which readers may still use."""
    inner = adjacency.get(key)
    if inner is None or (owned is not None and key not in owned):
        inner = adjacency[key] = dict(inner or {})
        if owned is not None:
            owned.add(key)
    return inner


def _forget(adjacency: dict[int, dict[int, TieProperties]], owned: set[int] | None, key: int, other: int) -> bool:
    neighbours = adjacency.get(key)
    if neighbours is None or other not in neighbours:
        return False
    neighbours = _owned_inner(adjacency, owned, key)
    del neighbours[other]
    if not neighbours:
        del adjacency[key]
    return True


def tie_keys(sources: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """(source, target) row pairs as one int64 each, ordered as the pairs are."""
    return (np.asarray(sources, dtype=np.int64) << 32) | np.asarray(targets, dtype=np.int64)
