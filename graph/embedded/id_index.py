"""Finding a node's row from its id in constant time, for the ids of a node table's base.

The base holds its ids sorted as fixed-width bytes, so a row could be found by binary search, but a numpy
``searchsorted`` on one Python value costs microseconds of call overhead, and queries look up hundreds of
ids per request. A dict of every id would cost about 130 bytes a node (the str, its int row, the entry).

This index is an open-addressing hash table held in one int32 numpy array of rows (-1 empty), with at
least twice as many slots as ids: 8-16 bytes a node. Collisions probe the next slots (linear probing), and
the id held at the row found is compared before it is trusted.

The hash is the same in every process (Python's own ``hash`` of a str is seeded per process), so the table
is written with each snapshot and mapped by every process that opens it: a served process's first lookup
finds it ready instead of hashing every id of the label (0.13-0.20 s for the accounts of a
100,000-customer bank, about a second at a million). It is xxh3 (64 bits) of the id's UTF-8 bytes, one C
call per lookup (Python's cached ``hash`` is about as quick; an integer hash in Python arithmetic took three
to five times longer), its low bits the home slot.
"""

from __future__ import annotations

import numpy as np
import xxhash

from graph.embedded.row_reads import scalars

HASH_NAME = "xxh3_64"
"""Names the hash in an index file: a file of another hash is not used (the index is built instead)."""
BUILD_CHUNK = 100_000
"""Ids hashed per step of a build: bounds the Python bytes alive at once."""
_id_hash = xxhash.xxh3_64_intdigest


def capacity_for(count: int) -> int:
    """Slots of the table for ``count`` ids: a power of two, at least twice as many."""
    return 1 << max(4, (2 * count).bit_length())


class IdIndex:
    """Rows of ``ids`` (a numpy bytes array of UTF-8 ids, unique) by id; ``slots``, when given, the table
    :attr:`slots` made for these ids before (a snapshot's: it is used as it is, not built)."""

    __slots__ = ("_ids", "_mask", "_slots", "slots")

    def __init__(self, ids: np.ndarray, slots: np.ndarray | None = None) -> None:
        self._ids = ids
        capacity = capacity_for(len(ids))
        self._mask = capacity - 1
        if slots is None or len(slots) != capacity or slots.dtype != np.int32:
            slots = _placed(self._homes(ids), capacity)
        self.slots = slots
        self._slots = scalars(slots)

    @property
    def nbytes(self) -> int:
        """Memory held by the table (the ids are the node table's own)."""
        return self.slots.nbytes

    def row(self, node_id: str) -> int | None:
        """The row holding ``node_id``, or None."""
        slots, mask, ids = self._slots, self._mask, self._ids
        encoded = node_id.encode()
        slot = _id_hash(encoded) & mask
        row = slots[slot]
        while row >= 0:
            if ids[row] == encoded:
                return int(row)
            slot = (slot + 1) & mask
            row = slots[slot]
        return None

    def _homes(self, ids: np.ndarray) -> np.ndarray:
        """Each id's home slot, as :meth:`row` finds it."""
        homes = np.empty(len(ids), dtype=np.int64)
        mask = np.uint64(self._mask)
        for start in range(0, len(ids), BUILD_CHUNK):
            # tolist() gives each id's bytes without the NULs that pad it to the array's width.
            chunk = ids[start : start + BUILD_CHUNK].tolist()
            hashes = np.fromiter(map(_id_hash, chunk), dtype=np.uint64, count=len(chunk))
            homes[start : start + len(chunk)] = hashes & mask
        return homes


def _placed(homes: np.ndarray, capacity: int) -> np.ndarray:
    """The slot table for ids whose home slots are ``homes``, filled by linear probing with the ids taken in
    order of their homes: each takes its home or, when that is taken, the slot after the one before it,
    whichever is later (a running maximum, no Python per id). Ids pushed past the last slot take the first
    free slots from the start, in order. Every slot between an id's home and its own is taken, so a lookup
    probing from its home meets no empty slot before it."""
    table = np.full(capacity, -1, dtype=np.int32)
    if not len(homes):
        return table
    order = np.argsort(homes, kind="stable")
    steps = np.arange(len(homes), dtype=np.int64)
    placed = steps + np.maximum.accumulate(homes[order] - steps)
    inside = placed < capacity
    table[placed[inside]] = order[inside]
    pushed = order[~inside]
    if len(pushed):
        table[np.flatnonzero(table < 0)[: len(pushed)]] = pushed
    return table
