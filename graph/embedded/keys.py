"""Sorting and searching the keys of the embedded graph's tables: node ids as fixed-width UTF-8 bytes (see
:func:`~graph.embedded.layout.id_bytes`) and ties as int64 (source, target) pairs (see
:func:`~graph.embedded.tie_table.tie_keys`).

numpy sorts and searches bytes through a comparison call per pair, three times slower than uint64 numbers. Ids
carry far less than 8 bits a byte: a bank's account numbers share a prefix and are digits after it, a hashed id is
hexadecimal. So each byte of an id is coded by its rank among the bytes the ids have at its position, and the
codes are read as one mixed-radix number (:class:`IdNumbers`): numbers order as the ids do, and positions where
every id has the same byte add nothing. 13 varying digits fit in 64 bits, as do 16 hexadecimal ones; when the
varying positions do not all fit, the leading ones do, and ids of equal numbers (rare: 16 hexadecimal digits
of 20) are told apart by their bytes. In a load's bulk writes the ids given are sorted so (:func:`id_order`)
and looked up among the held ones so (:meth:`IdNumbers.positions`): at 300,000 customers these sorts and
searches took a fifth of the writer's CPU as bytes.
"""

from __future__ import annotations

import copy

import numpy as np

_LIMIT = 1 << 64
_CHUNK = 1 << 16
"""Ids coded at once: bounds the temporaries."""
SORTED_SEARCH = 64
"""Keys past this many are sorted before they are searched for (see :func:`positions_in`)."""


def positions_in(keys: np.ndarray, held: np.ndarray, order: np.ndarray | None = None) -> np.ndarray:
    """For each of ``keys``, its position in the sorted ``held``, or -1 (both of one kind: bytes or ints);
    ``order``: an order that sorts ``keys``, when the caller has it already."""
    if not len(held) or not len(keys):
        return np.full(len(keys), -1, dtype=np.int64)
    too_long = None
    if keys.dtype.kind == "S" and keys.dtype.itemsize != held.dtype.itemsize:
        if keys.dtype.itemsize > held.dtype.itemsize:
            too_long = np.char.str_len(keys) > held.dtype.itemsize  # held nowhere: none is that long
        keys = keys.astype(held.dtype)
    if len(keys) > SORTED_SEARCH or order is not None:
        # Keys searched in their own order: each search starts where the last ended and the held array is read
        # front to back (a bulk write's 100,000 ends among 3 million accounts: 0.15 -> 0.05 s). Cutting keys
        # to the held width or widening them keeps their order.
        if order is None:
            order = id_order(keys) if keys.dtype.kind == "S" else np.argsort(keys)
        positions = np.empty(len(keys), dtype=np.int64)
        positions[order] = np.searchsorted(held, keys[order])
    else:
        positions = np.searchsorted(held, keys)
    positions = np.minimum(positions, len(held) - 1)
    found = np.where(held[positions] == keys, positions, -1).astype(np.int64)
    if too_long is not None:
        found[too_long] = -1
    return found


def merged_order(in_order: np.ndarray, others: np.ndarray, others_order: np.ndarray | None = None) -> np.ndarray:
    """The order (as ``pc.sort_indices`` gives it) of the keys ``in_order`` (sorted) followed by ``others``, all
    distinct: ``others`` are sorted and each placed by binary search among ``in_order``, which keep their order,
    instead of sorting every key again (a rebuild of a million nodes' table to add a quarter more)."""
    if in_order.dtype.kind == "S" and in_order.dtype != others.dtype:  # one width: a narrower one would be cut
        width = np.dtype(f"S{max(in_order.dtype.itemsize, others.dtype.itemsize)}")
        in_order, others = in_order.astype(width), others.astype(width)
    if others_order is None:  # else the caller sorted them already
        others_order = id_order(others) if others.dtype.kind == "S" else np.argsort(others, kind="stable")
    placed = np.searchsorted(in_order, others[others_order]) + np.arange(len(others))
    order = np.empty(len(in_order) + len(others), dtype=np.int64)
    taken = np.zeros(len(order), dtype=bool)
    taken[placed] = True
    order[placed] = len(in_order) + others_order
    order[~taken] = np.arange(len(in_order))
    return order


def id_order(ids: np.ndarray) -> np.ndarray:
    """The stable order that sorts ``ids`` (fixed-width bytes), as ``np.argsort(ids, kind="stable")`` gives it."""
    if len(ids) < 2:
        return np.arange(len(ids), dtype=np.int64)
    coding = IdNumbers(ids)
    order = np.argsort(coding.numbers, kind="stable")
    if not coding.exact:  # runs of equal numbers sorted again by their bytes, in place
        numbers = coding.numbers[order]
        equal = numbers[1:] == numbers[:-1]
        if equal.any():
            in_run = np.zeros(len(ids), dtype=bool)
            in_run[1:] |= equal
            in_run[:-1] |= equal
            runs = order[in_run]  # each run's ids in their given order: stable
            by_bytes = runs[np.argsort(ids[runs], kind="stable")]
            order[in_run] = by_bytes[np.argsort(coding.numbers[by_bytes], kind="stable")]
    return order


class IdNumbers:
    """``ids`` (fixed-width bytes) as numbers that order as they do (see the module's notes): each byte coded by
    its rank among the bytes the ids have at its position, the codes of the leading varying positions read as
    one mixed-radix uint64. ``exact`` when every varying position is in the number (equal numbers, equal ids)."""

    __slots__ = ("_allowed", "_used", "_weights", "exact", "ids", "numbers")

    def __init__(self, ids: np.ndarray) -> None:
        self.ids = ids
        matrix = _matrix(ids)
        width = matrix.shape[1]
        self._allowed = np.zeros((width, 256), dtype=bool)
        for position in range(width):
            self._allowed[position] = np.bincount(matrix[:, position], minlength=256) > 0
        radices = self._allowed.sum(axis=1).tolist()
        used: list[int] = []
        product = 1
        varying = [position for position in range(width) if radices[position] > 1]
        for position in varying:
            if product * radices[position] > _LIMIT:
                break
            product *= radices[position]
            used.append(position)
        self.exact = len(used) == len(varying)
        # Each used position's byte -> its code times the position's weight: a number is a sum of lookups.
        codes = np.cumsum(self._allowed, axis=1, dtype=np.uint64) - np.uint64(1)
        weights, weight = [], 1
        for position in reversed(used):
            weights.append(codes[position] * np.uint64(weight))
            weight *= radices[position]
        self._used = np.array(used[::-1], dtype=np.int64)
        self._weights = np.array(weights, dtype=np.uint64).reshape(len(used), 256)
        self.numbers = self._packed(matrix)

    def sharing(self, ids: np.ndarray, numbers: np.ndarray) -> IdNumbers:
        """Other ``ids`` (sorted, unique, every byte one these have at its position: see :meth:`numbers_of`) and
        their ``numbers``, coded as these are (a base merged with rows that fit it)."""
        twin = copy.copy(self)
        twin.ids, twin.numbers = ids, numbers
        return twin

    def _packed(self, matrix: np.ndarray) -> np.ndarray:
        numbers = np.zeros(len(matrix), dtype=np.uint64)
        for position, weights in zip(self._used.tolist(), self._weights, strict=True):
            numbers += np.take(weights, matrix[:, position])
        return numbers

    def numbers_of(self, ids: np.ndarray, *, checked: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """The numbers of other ``ids``, and which of them may be among these (every byte one these have at its
        position; the numbers of the others mean nothing): all True unless ``checked``."""
        width = len(self._allowed)  # the coded ids' width (ids sharing the coding may be held wider)
        fits = np.ones(len(ids), dtype=bool)
        if checked and ids.dtype.itemsize > width:
            fits &= ~_matrix(ids)[:, width:].any(axis=1)
        matrix = _matrix(ids if ids.dtype.itemsize == width else ids.astype(f"S{width}"))  # cut, or NUL-padded
        if checked:
            for position in range(width):
                fits &= np.take(self._allowed[position], matrix[:, position])
        return self._packed(matrix), fits

    def positions(self, ids: np.ndarray, order: np.ndarray | None = None) -> np.ndarray:
        """For each of ``ids``, its position among these ids (sorted, unique), or -1; ``order``, when known,
        sorts them."""
        held = self.numbers
        if not len(ids) or not len(held):
            return np.full(len(ids), -1, dtype=np.int64)
        # Unchecked: an id that does not fit has a number that means nothing, and its bytes tell it apart.
        numbers, _ = self.numbers_of(ids, checked=False)
        if order is None:  # any order of the numbers reads the held ones front to back
            order = np.argsort(numbers)
        positions = np.empty(len(ids), dtype=np.int64)
        positions[order] = np.searchsorted(held, numbers[order])
        positions = np.minimum(positions, len(held) - 1)
        same_number = held[positions] == numbers
        found = same_number & (self.ids[positions] == ids)
        if not self.exact:  # an id of an equal number may be further in its run of equal numbers
            unsure = np.flatnonzero(same_number & ~found)
            if len(unsure):
                positions[unsure] = positions_in(ids[unsure], self.ids)
                found[unsure] = positions[unsure] >= 0
        return np.where(found, positions, -1)


def _matrix(ids: np.ndarray) -> np.ndarray:
    """Fixed-width bytes as a (count, width) array of bytes, over the same memory when contiguous."""
    return np.ascontiguousarray(ids).view(np.uint8).reshape(len(ids), ids.dtype.itemsize)
