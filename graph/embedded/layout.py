"""The columnar layout of the embedded graph: nodes of one primary label, ties of one type.

A *base* of immutable arrays, plus a small mutable *overlay* for what was written since the base was built:

- :class:`NodeTable`: ids sorted as a numpy bytes array (a node's row is its rank, found through the hash
  index of :mod:`graph.embedded.id_index`; keys ordered by id come for free), the node's kind as a small
  code, properties as typed Arrow columns read through :mod:`graph.embedded.columns` (a row's properties
  are read as they are asked for). The overlay holds the full properties of changed or added
  nodes in dicts, new ids after the base rows, and a mask of deleted base rows.
- :class:`~graph.embedded.tie_table.TieTable`: ties as int32 row numbers sorted by (source, target) with CSR
  offsets in both directions, properties as columns per tie. The overlay holds changed properties by tie number, added
  ties as adjacency dicts, and a mask of deleted ties.

Once the overlay grows, :mod:`graph.embedded.view` rebuilds the base from base and overlay (Arrow
``concat``/``sort``, no per-row Python for the base rows).

A table that readers may be reading is not changed: a write changes a ``clone()``, which shares the base
arrays and copies the overlay (each inner map of the tie overlay, and the deletion mask, only when it first
changes them).

Measured on a 100,000-customer bank (600,614 nodes, 1,074,242 ties): opening adds 334 MiB of resident memory
(152 MiB of it Arrow data) against 1,012 MiB for the dicts this replaced, and takes 8-15 s against 102 s
(on a machine at load 20). Once analysed, the same bank opened from Parquet in 1.7 s of CPU and added 387 MiB
(228 MiB of it Arrow data; bench/results/store-open-writes-2026-11-30.md); from a snapshot in the layout's own
form (:func:`stored_nodes`, memory-mapped) in 0.17-0.19 s, adding 84 MiB, 36 of them the file's pages
(bench/results/store-snapshot-format-2026-11-30.md).
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Collection, Mapping
from types import MappingProxyType
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graph.embedded.columns import compact_column, one_array, placed_columns, unified
from graph.embedded.id_index import HASH_NAME, IdIndex
from graph.embedded.keys import IdNumbers, merged_order, positions_in
from graph.embedded.row_reads import (
    Column,
    RowProperties,
    Segment,
    SegmentRow,
    column_reader,
    scalars,
    table_from_overlay,
)
from graph.model import NodeLabel

TieProperties = Mapping[str, Any]
NO_PROPERTIES: TieProperties = MappingProxyType({})
"""What a tie without properties holds: one shared empty mapping rather than a dict per tie."""

ID, KIND, SOURCE, TARGET = "id", "kind", "source", "target"
"""Leading columns of node and tie tables (the rest are properties)."""

STORED = {b"crm_graph": b"stored"}
"""Schema metadata of a table in the form a snapshot holds it (see :func:`stored_nodes`): its columns are
what the layout keeps in memory already, so a memory-mapped snapshot is used as it is, not converted."""
ID_INDEX = {b"crm_graph": b"id_index", b"hash": HASH_NAME.encode()}
"""Schema metadata of a snapshot's id index table (see :func:`stored_id_index`), naming its hash."""
SLOT = "row"

_NOTHING = object()


def id_bytes(ids: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Ids as a numpy array of UTF-8 bytes: byte order is code point order, so it sorts as Python sorts str.
    Ids stored as fixed-width bytes already (a snapshot's) are read in place."""
    if len(ids) == 0:
        return np.zeros(0, dtype="S1")
    texts = one_array(ids)
    if pa.types.is_fixed_size_binary(texts.type):
        width = texts.type.byte_width
        return np.frombuffer(texts.buffers()[1], dtype=f"S{width}", count=len(texts), offset=texts.offset * width)
    if not texts.null_count and pc.all(pc.string_is_ascii(texts)).as_py():
        # One byte a code point: padded with NULs to the longest, the ids lie in one buffer as fixed-width
        # bytes (numpy ignores trailing NULs, as the general path below leaves them).
        width = max(1, int(pc.max(pc.utf8_length(texts)).as_py()))
        padded = pc.utf8_rpad(texts, width=width, padding="\0").cast(pa.large_binary())
        first = int(np.frombuffer(padded.buffers()[1], dtype=np.int64)[padded.offset])
        return np.frombuffer(padded.buffers()[2], dtype=f"S{width}", count=len(padded), offset=first)
    binary = pc.cast(texts, pa.large_binary())
    array = one_array(binary)
    _, offsets_buffer, data_buffer = array.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=np.int64)[array.offset : array.offset + len(array) + 1]
    data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else np.zeros(0, np.uint8)
    starts, lengths = offsets[:-1], np.diff(offsets)
    width = max(1, int(lengths.max()))
    # Byte by byte across all ids (a few dozen numpy passes), not id by id through Python objects.
    matrix = np.zeros((len(array), width), dtype=np.uint8)
    for position in range(width):
        rows = np.flatnonzero(lengths > position)
        matrix[rows, position] = data[starts[rows] + position]
    return matrix.view(f"S{width}").reshape(len(array))


class DeletionMask:
    """The mask of deleted base rows, shared between a table and its clones until one of them deletes."""

    deleted: np.ndarray
    _deleted: memoryview
    _owns_deleted: bool

    def _own_deleted(self) -> None:
        if not self._owns_deleted:
            self.deleted = self.deleted.copy()
            self._deleted, self._owns_deleted = scalars(self.deleted), True


class NodeTable(DeletionMask):
    """The nodes of one primary label."""

    def __init__(
        self,
        label: NodeLabel,
        table: pa.Table | None = None,
        id_slots: np.ndarray | None = None,
        pending: PendingColumns | None = None,
    ) -> None:
        """``table``: columns ``id``, ``kind`` then properties, rows sorted by id, ids unique; ``id_slots``: the
        id index table a snapshot holds for these ids (else the index is built on the first lookup);
        ``pending``: the property columns, placed once first read (``table`` then holds the id and kind alone)."""
        self.label = label
        self.kinds: tuple[NodeLabel, ...] = tuple(kind for kind in NodeLabel if kind.primary is label)
        if table is None:
            table = pa.table({ID: pa.array([], pa.large_string()), KIND: pa.array([], pa.large_string())})
        if table.column_names[:2] != [ID, KIND] or table.column(ID).null_count:
            raise ValueError(f"a {label} table without its id and kind columns")
        self.base_ids = id_bytes(table.column(ID))
        self.base_count = len(self.base_ids)
        if self.base_count > 1 and not bool(np.all(self.base_ids[1:] > self.base_ids[:-1])):
            raise ValueError(f"a {label} table whose ids are not unique and in order")
        self.base_kinds = kind_codes(one_array(table.column(KIND)), self.kinds)
        if self.base_count and self.base_kinds.min() < 0:
            raise ValueError(f"a {label} table with a kind that is not one of {', '.join(self.kinds)}")
        if pending is None:
            self._pending = PendingColumns.made(
                property_columns(table, start=2, stored=is_stored(table)), self.base_count
            )
        elif table.num_columns != 2 or pending.rows != self.base_count:
            raise ValueError(f"a {label} table with columns both given and pending")
        else:
            self._pending = pending
        self.deleted = np.zeros(self.base_count, dtype=bool)
        self.deleted_count = 0
        # Views of the same memory for reads of one row (see graph.embedded.columns.Column).
        self._deleted, self._base_kinds = scalars(self.deleted), scalars(self.base_kinds)
        self.added: dict[str, int] = {}
        self.added_ids: list[str | None] = []
        self.changed: dict[int, tuple[NodeLabel, Mapping[str, Any]]] = {}
        # Else built on the first lookup: a load that only appends needs none.
        self._index = IdIndex(self.base_ids, id_slots) if id_slots is not None else None
        self._numbers: tuple[IdNumbers | None] | None = None  # the base ids as numbers, made on the first search
        self._last: tuple[object, int] = (_NOTHING, -1)  # the id last found in the base, and its row
        self._owns_deleted = True

    def clone(self) -> NodeTable:
        """A table reading the same that may be changed without changing this one: the base is shared, the
        overlay copied (it is small), the deletion mask copied on the first deletion."""
        twin = copy.copy(self)
        twin.added, twin.added_ids, twin.changed = dict(self.added), list(self.added_ids), dict(self.changed)
        twin._owns_deleted = False
        return twin

    @property
    def properties(self) -> pa.Table:
        """The property columns, a row per base row (placed now when a bulk merge left them pending)."""
        return self._pending.placed()[0]

    @property
    def columns(self) -> dict[str, Column]:
        """A reader of each property column (see :mod:`graph.embedded.row_reads`)."""
        return self._pending.placed()[1]

    @property
    def pending(self) -> PendingColumns:
        """The property columns as held: placed, or parts still to place (see :class:`PendingColumns`)."""
        return self._pending

    # -- rows -------------------------------------------------------------------------------------

    def row(self, node_id: str) -> int | None:
        """The node's row, or None when there is no such node."""
        found = self.added.get(node_id)
        if found is not None:
            return found
        last = self._last  # one read: reads run in several threads at once
        if node_id is last[0]:  # queries often ask one node for its kind, then its properties
            row = last[1]
        else:
            if not self.base_count:
                return None
            index = self._index
            if index is None:
                index = self._index = IdIndex(self.base_ids)
            found = index.row(node_id)
            if found is None:
                return None
            row = found
            self._last = (node_id, row)
        return None if self._deleted[row] else row

    def id_slots(self) -> np.ndarray | None:
        """The slots of the id index of the base ids, when it is built or was read (a table of the same ids
        uses them as they are)."""
        return None if self._index is None else self._index.slots

    def node_id(self, row: int) -> str:
        if row < self.base_count:
            return str(self.base_ids[row].decode())
        found = self.added_ids[row - self.base_count]
        assert found is not None, "a deleted node's row is never handed out"
        return found

    def kind(self, row: int) -> NodeLabel:
        changed = self.changed.get(row)
        return changed[0] if changed is not None else self.kinds[self._base_kinds[row]]

    def props(self, row: int) -> Mapping[str, Any]:
        """The properties (a changed node's held dict itself: read them, do not change them)."""
        changed = self.changed.get(row)
        if changed is not None:
            return changed[1]
        return RowProperties(self.columns, row)

    def ids(self, kind: NodeLabel | None = None) -> list[str]:
        """Ids of the live nodes (of ``kind`` when given), sorted."""
        keep = ~self.deleted
        if kind is not None:
            keep &= self.base_kinds == self.kinds.index(kind)
        for row, (row_kind, _) in self.changed.items():
            if row < self.base_count:
                keep[row] = kind is None or row_kind is kind
        found = [value.decode() for value in self.base_ids[keep].tolist()]
        added = [node_id for node_id, row in self.added.items() if kind is None or self.changed[row][0] is kind]
        if added:
            found.extend(added)
            found.sort()
        return found

    def count(self) -> int:
        return self.base_count - self.deleted_count + len(self.added)

    def kind_counts(self) -> dict[NodeLabel, int]:
        keep = ~self.deleted
        changed_base = [row for row in self.changed if row < self.base_count]
        keep[changed_base] = False
        counts = np.bincount(self.base_kinds[keep], minlength=len(self.kinds))
        found = {kind: int(count) for kind, count in zip(self.kinds, counts, strict=True)}
        for kind, _ in self.changed.values():
            found[kind] += 1
        return found

    def overlay_size(self) -> int:
        return len(self.changed) + self.deleted_count

    # -- changes ----------------------------------------------------------------------------------

    def put(self, node_id: str, kind: NodeLabel, props: dict[str, Any]) -> int:
        row = self.row(node_id)
        if row is None:
            row = self.added[node_id] = self.base_count + len(self.added_ids)
            self.added_ids.append(node_id)
        self.changed[row] = (kind, props)
        return row

    def put_segment(
        self, ids: list[str], rows: np.ndarray, kinds: list[NodeLabel], segment: Segment, written: np.ndarray
    ) -> None:
        """Put the nodes ``written`` picks: each id's kind and its segment row as its properties; ``rows``
        are their current rows (-1: a new node)."""
        added, added_ids, changed = self.added, self.added_ids, self.changed
        for position in np.flatnonzero(written).tolist():
            row = int(rows[position])
            if row < 0:
                row = added[ids[position]] = self.base_count + len(added_ids)
                added_ids.append(ids[position])
            changed[row] = (kinds[position], SegmentRow(segment, position))

    def remove(self, row: int) -> None:
        self.changed.pop(row, None)
        if row < self.base_count:
            self._own_deleted()
            self.deleted[row] = True
            self.deleted_count += 1
        else:
            node_id = self.added_ids[row - self.base_count]
            assert node_id is not None
            del self.added[node_id]
            self.added_ids[row - self.base_count] = None

    def id_numbers(self) -> IdNumbers | None:
        """The base ids as numbers (see :mod:`graph.embedded.keys`), None when there are none."""
        made = self._numbers
        if made is None:  # made once for a base that several writes search
            made = self._numbers = (IdNumbers(self.base_ids) if self.base_count else None,)
        return made[0]

    def share_numbers(self, numbers: IdNumbers) -> None:
        """Take ``numbers`` as the base ids' (see :meth:`IdNumbers.sharing`): a merge that coded its ids already."""
        self._numbers = (numbers,)

    def base_rows_of(self, ids: np.ndarray, order: np.ndarray | None = None) -> np.ndarray:
        """For each of ``ids`` (as :func:`id_bytes` gives them; ``order`` sorts them, when known), its row in
        the base, deleted or not, or -1: a binary search of the sorted ids in the base's sorted ids, as numbers
        (see :mod:`graph.embedded.keys`). Hashing the held ids instead costs a pass over all of them per base,
        which a load replaces at nearly every batch of its label."""
        if not len(ids) or not self.base_count:
            return np.full(len(ids), -1, dtype=np.int64)
        numbers = self.id_numbers()
        if numbers is None:
            return positions_in(ids, self.base_ids, order)
        return numbers.positions(ids, order)

    def rows_of(self, ids: pa.Array) -> np.ndarray:
        """For each of ``ids`` (texts), its node's row, or -1 when there is no such node."""
        rows = np.full(len(ids), -1, dtype=np.int64)
        if self.base_count and len(ids):
            rows = self.base_rows_of(id_bytes(ids))
            found = np.flatnonzero(rows >= 0)
            rows[found[self.deleted[rows[found]]]] = -1
        if self.added:
            added = self.added
            missing = np.flatnonzero(rows < 0)
            texts = ids.take(pa.array(missing)).to_pylist()
            rows[missing] = [added.get(node_id, -1) for node_id in texts]
        return rows

    # -- rebuilding -------------------------------------------------------------------------------

    def id_column(self, rows: np.ndarray | None = None) -> pa.Array:
        """The base ids (of ``rows``) as texts."""
        held = self.base_ids if rows is None else self.base_ids[rows]
        return pc.cast(pa.array(held), pa.large_string())

    def kind_column(self, rows: np.ndarray | None = None) -> pa.Array:
        """The base kinds (of ``rows``) as texts."""
        codes = self.base_kinds if rows is None else self.base_kinds[rows]
        return pa.array([kind.value for kind in self.kinds], pa.large_string()).take(pa.array(codes))

    def merged(self, names: Collection[str] | None = None) -> tuple[pa.Table, np.ndarray]:
        """Base and overlay as one table sorted by id (only the properties in ``names`` when given), and each
        old row's new row (-1 when deleted)."""
        properties = self.properties if names is None else held_columns(self.properties, names)
        if not self.overlay_size():  # the base as it is (a snapshot after a bulk write): nothing to merge
            leading = {ID: self.id_column(), KIND: self.kind_column()}
            return with_leading(leading, properties), np.arange(self.base_count, dtype=np.int64)
        keep = ~self.deleted
        keep[[row for row in self.changed if row < self.base_count]] = False
        kept_rows = np.flatnonzero(keep)
        ids = [self.node_id(row) for row in self.changed]
        overlay = table_from_overlay(
            [props for _, props in self.changed.values()],
            {
                ID: pa.array(ids, pa.large_string()),
                KIND: pa.array([kind.value for kind, _ in self.changed.values()], pa.large_string()),
            },
            names,
        )
        every_row = len(kept_rows) == self.base_count  # nothing of the base changed (a load adding nodes)
        base_part = with_leading(
            {
                ID: self.id_column(None if every_row else kept_rows),
                KIND: self.kind_column(None if every_row else kept_rows),
            },
            properties if every_row else properties.take(kept_rows),
        )
        old_rows = np.concatenate([kept_rows, np.fromiter(self.changed, dtype=np.int64, count=len(self.changed))])
        table = unified([base_part, overlay])
        # The kept rows are in id order already: only the overlay's rows are sorted, and placed among them.
        order = merged_order(self.base_ids[kept_rows], id_bytes(overlay.column(ID)))
        total = self.base_count + len(self.added_ids)
        new_rows = np.full(total, -1, dtype=np.int64)
        new_rows[old_rows[order]] = np.arange(len(order))
        return table.take(order), new_rows

    def merged_as_stored(self) -> tuple[pa.Table, np.ndarray]:
        """What :meth:`merged` gives, in the form a snapshot holds (see :func:`stored_nodes`), which a new
        table reads in place: made from the ids, kinds and property columns as held (ids as bytes, kinds as
        codes, texts kept encoded or plain, see :func:`~graph.embedded.columns.placed_columns`), not turned into
        texts, taken and converted back."""
        if not self.overlay_size():
            ids, kinds, properties = self.base_ids, self.base_kinds, self.properties
            new_rows = np.arange(self.base_count, dtype=np.int64)
        else:
            changed_rows = np.fromiter(self.changed, dtype=np.int64, count=len(self.changed))
            keep = ~self.deleted
            keep[changed_rows[changed_rows < self.base_count]] = False
            kept_rows = np.flatnonzero(keep)
            every_row = len(kept_rows) == self.base_count  # nothing of the base changed (a load adding nodes)
            overlay = table_from_overlay(
                [props for _, props in self.changed.values()],
                {ID: pa.array([self.node_id(row) for row in self.changed], pa.large_string())},
            )
            kept_ids = self.base_ids if every_row else self.base_ids[kept_rows]
            added_ids = id_bytes(overlay.column(ID))
            order = merged_order(kept_ids, added_ids)
            ids = np.concatenate([kept_ids, added_ids])[order]
            codes = {kind: code for code, kind in enumerate(self.kinds)}
            added_kinds = np.array([codes[kind] for kind, _ in self.changed.values()], dtype=np.int8)
            kinds = np.concatenate([self.base_kinds if every_row else self.base_kinds[kept_rows], added_kinds])[order]
            held = self.properties if every_row else self.properties.take(kept_rows)
            properties = placed_columns(held, overlay.drop_columns([ID]), order)
            new_rows = np.full(self.base_count + len(self.added_ids), -1, dtype=np.int64)
            new_rows[np.concatenate([kept_rows, changed_rows])[order]] = np.arange(len(order))
        leading = {
            ID: fixed_width_ids(ids),
            KIND: pa.DictionaryArray.from_arrays(
                pa.array(kinds, pa.int8()), pa.array([kind.value for kind in self.kinds], pa.large_string())
            ),
        }
        return with_leading(leading, properties).replace_schema_metadata(STORED), new_rows


class PendingColumns:
    """The property columns of a node table made by bulk merges that only created rows, kept as the parts
    given and the order that places them, and placed (:func:`~graph.embedded.columns.placed_columns`) once,
    when first read or once the parts hold as many rows as the first, placed part.

    Placing a merge's columns at once copies every held row of every column (an account's 24 monthly
    balances among them): a load adding 3 million accounts in batches of 100,000 copied them some thirty
    times over, a cost growing with the square of the rows. Kept as parts, each merge costs its own rows and
    one int64 order over the held ones, and the columns are copied a few times, when the parts double.

    Shared by the clones of a table (read by several threads at once): placed once, under a lock.
    """

    __slots__ = ("_lock", "_placed", "order", "parts", "rows", "sizes")

    def __init__(self, parts: list[pa.Table], sizes: list[int], order: np.ndarray | None) -> None:
        """``parts``: property tables (of ``sizes`` rows: a table without columns counts none), the first as held
        in memory (placed), the others as given; ``order``: each row's place in the parts one after another
        (None with one part: as it is)."""
        self.parts, self.sizes, self.order = parts, sizes, order
        self.rows = sizes[0] if order is None else len(order)
        self._lock = threading.Lock()
        self._placed: tuple[pa.Table, dict[str, Column]] | None = None

    @classmethod
    def made(cls, placed: tuple[pa.Table, dict[str, Column]], rows: int) -> PendingColumns:
        """Columns of ``rows`` rows placed already (as :func:`property_columns` gives them)."""
        pending = cls([placed[0]], [rows], None)
        pending._placed = placed
        return pending

    def placed_rows(self) -> int:
        """The rows of the first part: those placed when the columns were last placed."""
        return self.sizes[0]

    def unplaced_rows(self) -> int:
        """The rows of the parts after the first (0 once placed)."""
        return 0 if self._placed is not None else sum(self.sizes[1:])

    def placed(self) -> tuple[pa.Table, dict[str, Column]]:
        """The columns as held in memory, each row at its row, and their readers; placed on the first call."""
        placed = self._placed
        if placed is not None:
            return placed
        with self._lock:
            if self._placed is None:
                if self.order is None or not any(part.num_columns for part in self.parts):
                    properties = self.parts[0] if self.order is None else pa.table({})
                else:
                    # A part without columns counts no rows: each is given its own count first.
                    held, *added = (_with_rows(part, size) for part, size in zip(self.parts, self.sizes, strict=True))
                    # Parts of no columns at all join into a table counting no rows: it is given its count.
                    given = _with_rows(unified(added), sum(self.sizes[1:])) if len(added) > 1 else added[0]
                    properties = placed_columns(held, given, self.order)
                self._placed = property_columns(properties, start=0, stored=True)
                self.parts, self.sizes, self.order = [self._placed[0]], [self.rows], None
            return self._placed

    def appended(self, kept_rows: np.ndarray | None, added: pa.Table, order: np.ndarray) -> PendingColumns:
        """The columns of the rows ``kept_rows`` (all when None) then those of ``added`` (as given), taken in
        ``order`` (as :func:`placed_columns` takes them): a new part and an order, nothing copied while every
        held row is kept (rows left out, as a merge updating rows leaves them, are placed and taken first)."""
        if kept_rows is not None:
            parts, sizes, held_order = [self.placed()[0].take(pa.array(kept_rows))], [len(kept_rows)], None
        elif self._placed is not None:
            parts, sizes, held_order = [self._placed[0]], [self.rows], None
        else:
            parts, sizes, held_order = list(self.parts), list(self.sizes), self.order
        total = sum(sizes)
        added_rows = len(order) - (total if held_order is None else len(held_order))
        held = np.arange(total, dtype=np.int64) if held_order is None else held_order
        every = np.concatenate([held, np.arange(total, total + added_rows, dtype=np.int64)])
        return PendingColumns([*parts, added], [*sizes, added_rows], every[order])


def _with_rows(table: pa.Table, rows: int) -> pa.Table:
    """``table``, or a table of ``rows`` rows and no columns when it has none (Arrow counts such a table's rows
    as it was made: from no arrays, none)."""
    if table.num_columns or table.num_rows == rows:
        return table
    return pa.table({"rows": pa.nulls(rows)}).drop_columns(["rows"])


def kind_codes(kinds: pa.Array, known: tuple[NodeLabel, ...]) -> np.ndarray:
    """Each row's kind as its position in ``known`` (int8; -1 for another kind). Kinds dictionary-encoded (as a
    snapshot stores them) are read through their few words, without a text a row."""
    if pa.types.is_dictionary(kinds.type) and not kinds.null_count:
        names = [kind.value for kind in known]
        words = np.array([names.index(word) if word in names else -1 for word in kinds.dictionary.to_pylist()], np.int8)
        return words[kinds.indices.to_numpy(zero_copy_only=False)] if len(words) else np.zeros(len(kinds), np.int8)
    texts = pc.cast(kinds, pa.large_string())
    codes = np.full(len(kinds), -1, dtype=np.int8)
    for code, kind in enumerate(known):
        codes[np.asarray(pc.equal(texts, kind.value).to_numpy(zero_copy_only=False), dtype=bool)] = code
    return codes


def stored_nodes(table: pa.Table) -> pa.Table:
    """A node table (as :meth:`NodeTable.merged` makes it) in the form a snapshot holds: ids as fixed-width
    UTF-8 bytes (the layout's sorted id array, read in place), kinds as int8 codes of their few words, and
    properties as the layout keeps them (texts of few values dictionary-encoded)."""
    id_array = fixed_width_ids(id_bytes(table.column(ID)))
    kinds = pc.cast(one_array(table.column(KIND)), pa.large_string()).dictionary_encode()
    kinds = kinds.cast(pa.dictionary(pa.int8(), pa.large_string()))
    properties, _ = property_columns(table, start=2, readers=False)
    return with_leading({ID: id_array, KIND: kinds}, properties).replace_schema_metadata(STORED)


def fixed_width_ids(ids: np.ndarray) -> pa.FixedSizeBinaryArray:
    """Ids as fixed-width bytes (as :func:`id_bytes` gives them) as the id column a snapshot holds, over the
    same memory (a contiguous array is not copied)."""
    return pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(ids.dtype.itemsize), len(ids), [None, pa.py_buffer(np.ascontiguousarray(ids))]
    )


def stored_id_index(stored: pa.Table) -> pa.Table:
    """The id index of a node table in its stored form (:func:`stored_nodes`), as a snapshot holds it: one
    int32 column of slots, its hash named in the metadata."""
    slots = IdIndex(id_bytes(stored.column(ID))).slots
    return pa.table({SLOT: slots}).replace_schema_metadata(ID_INDEX)


def index_slots(table: pa.Table) -> np.ndarray | None:
    """The slots of a snapshot's id index table, in place; None when it is of another hash (or not one)."""
    if table.schema.metadata != ID_INDEX or table.column_names != [SLOT] or table.column(SLOT).null_count:
        return None
    slots = one_array(table.column(SLOT))
    return slots.to_numpy(zero_copy_only=True) if slots.type == pa.int32() else None


def is_stored(table: pa.Table) -> bool:
    """Whether ``table`` is in the form a snapshot holds (its columns need no conversion)."""
    metadata = table.schema.metadata
    return metadata is not None and metadata.get(b"crm_graph") == STORED[b"crm_graph"]


def held_columns(properties: pa.Table, names: Collection[str]) -> pa.Table:
    """The columns of ``properties`` named in ``names`` (those it has), in its order."""
    return properties.select([name for name in properties.column_names if name in names])


def with_leading(leading: dict[str, pa.Array], properties: pa.Table) -> pa.Table:
    """The ``leading`` columns, then those of ``properties`` (which may have none, so no row count of its own)."""
    table = pa.table(leading)
    for field, column in zip(properties.schema, properties.columns, strict=True):
        table = table.append_column(field, column)
    return table


def property_columns(
    table: pa.Table, start: int, *, stored: bool = False, readers: bool = True
) -> tuple[pa.Table, dict[str, Column]]:
    """The property columns of ``table`` (from column ``start``) as held in memory, and a reader of each
    (none when not ``readers``). Columns ``stored`` (a snapshot's) are held as they are: compacted already."""
    if stored:
        columns = [
            (table.schema.field(index), one_array(table.column(index))) for index in range(start, table.num_columns)
        ]
    else:
        columns = [
            compact_column(table.schema.field(index), table.column(index)) for index in range(start, table.num_columns)
        ]
    fields, arrays = [field for field, _ in columns], [array for _, array in columns]
    found = (
        {field.name: column_reader(field, array) for field, array in zip(fields, arrays, strict=True)}
        if readers
        else {}
    )
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields)), found
