"""Finding a node's row from its id in constant time, for the ids of a node table's base.

The base holds its ids sorted as fixed-width bytes, so a row could be found by binary search, but a numpy
``searchsorted`` on one Python value costs microseconds of call overhead, and queries look up hundreds of
ids per request. A dict of every id would cost about 130 bytes a node (the str, its int row, the entry).

This index is an open-addressing hash table held in one int32 numpy array of rows (-1 empty), with at
least twice as many slots as ids: 8-16 bytes a node. A slot comes from Python's own ``hash`` of the id
(SipHash, computed once per str and cached on it), so a lookup costs about as much as a dict's; the table
lives only in this process, so the per-process hash seed does no harm. Collisions probe the next slots
(linear probing), and the id held at the row found is compared before it is trusted.
"""

from __future__ import annotations

import numpy as np

from graph.embedded.columns import scalars

BUILD_CHUNK = 100_000
"""Ids hashed per step of a build: bounds the Python strings alive at once."""


class IdIndex:
    """Rows of ``ids`` (a numpy bytes array of UTF-8 ids, unique) by id."""

    __slots__ = ("_ids", "_mask", "_slots")

    def __init__(self, ids: np.ndarray) -> None:
        self._ids = ids
        capacity = 1 << max(4, (2 * len(ids)).bit_length())
        self._mask = capacity - 1
        homes = np.empty(len(ids), dtype=np.int64)
        for start in range(0, len(ids), BUILD_CHUNK):
            chunk = ids[start : start + BUILD_CHUNK].tolist()
            homes[start : start + len(chunk)] = [hash(node_id.decode()) & self._mask for node_id in chunk]
        self._slots = scalars(_placed(homes, capacity))

    @property
    def nbytes(self) -> int:
        """Memory held by the table (the ids are the node table's own)."""
        return self._slots.nbytes

    def row(self, node_id: str) -> int | None:
        """The row holding ``node_id``, or None."""
        slots, mask, ids = self._slots, self._mask, self._ids
        slot = hash(node_id) & mask
        row = slots[slot]
        if row < 0:
            return None
        encoded = node_id.encode()
        while row >= 0:
            if ids[row] == encoded:
                return int(row)
            slot = (slot + 1) & mask
            row = slots[slot]
        return None


def _placed(homes: np.ndarray, capacity: int) -> np.ndarray:
    """The slot table for ids whose home slots are ``homes``, filled by linear probing, in rounds over numpy
    arrays: each round, every id still waiting tries its next slot and one of those wanting a free slot
    takes it. An id moves on only from a slot that is taken, so a lookup probing from its home meets no
    empty slot before it."""
    table = np.full(capacity, -1, dtype=np.int32)
    waiting = np.arange(len(homes), dtype=np.int64)
    trying = homes.copy()
    mask = capacity - 1
    while len(waiting):
        free = np.flatnonzero(table[trying] < 0)
        slots, first = np.unique(trying[free], return_index=True)
        winners = free[first]
        table[slots] = waiting[winners]
        still = np.ones(len(waiting), dtype=bool)
        still[winners] = False
        waiting, trying = waiting[still], (trying[still] + 1) & mask
    return table
