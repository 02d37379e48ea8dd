"""The ties a load has made so far, which tell a tie row loaded (it made a tie not made before) from merged.

Both paths ask it: the column-wise path a whole batch's ties at once (:meth:`TiesSeen.seen_columns`,
:meth:`TiesSeen.add_columns`), the row path one row's ties at a time (``key in ties_seen``,
:meth:`TiesSeen.update`).

The column-wise path names each tie by an integer made of its ends' node codes (``loaders.bulk.lookup.NodeCodes``,
the same for the whole load), and a type's ties are kept as a few sorted arrays of them: a batch is asked
with binary searches, in time that grows with the batch and only the logarithm of the ties made so far
(probing every tie made so far for each batch made the load quadratic in its batches: 3,000,000 ``OWNS`` ties
in 100,000-row batches at a million customers). The row path keeps its ties as strings, and the column-wise
path's ties' ends are kept as Arrow strings too, made into strings only when the row path asks about a type.

A tie's string is its ends' ids with the first one's length ahead (``7:C000001C000002``): no two pairs of
ids give the same string, whatever characters the ids hold.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graph.model import TieType
from loaders.bulk.lookup import is_in

TieKey = tuple[TieType, str, str]
"""A tie: type, then its ends (a symmetric tie's smaller id first)."""


def _text(source: str, target: str) -> str:
    return f"{len(source)}:{source}{target}"


def _texts(sources: pa.Array, targets: pa.Array) -> pa.Array:
    lengths = pc.cast(pc.utf8_length(sources), pa.string())
    return pc.binary_join_element_wise(lengths, pc.binary_join_element_wise(sources, targets, ""), ":")


class TiesSeen:
    """Every tie made by this load so far, by type (see the module's docstring)."""

    def __init__(self) -> None:
        self._keys: dict[TieType, list[np.ndarray]] = defaultdict(list)
        """Per type, the column-wise path's ties' integers: sorted arrays, each at most half the one before."""
        self._ends: dict[TieType, list[tuple[pa.Array, pa.Array]]] = defaultdict(list)
        """Per type, the column-wise path's ties' ends, batch by batch."""
        self._looked_up: dict[TieType, int] = defaultdict(int)
        """Per type, how many of ``_ends``' batches (from the first) are in ``_texts`` already."""
        self._texts: dict[TieType, set[str]] = defaultdict(set)
        """Per type, the strings of the ties the row path made and of the column batches it has asked about."""
        self._by_rows: dict[TieType, list[str]] = defaultdict(list)

    def __contains__(self, key: object) -> bool:
        tie_type, source, target = cast(TieKey, key)
        texts = self._texts[tie_type]
        batches = self._ends[tie_type]
        for sources, targets in batches[self._looked_up[tie_type] :]:
            texts.update(_texts(sources, targets).to_pylist())
        self._looked_up[tie_type] = len(batches)
        return _text(source, target) in texts

    def update(self, keys: Iterable[TieKey]) -> None:
        """Add ties the row path made."""
        for tie_type, source, target in keys:
            text = _text(source, target)
            if text not in self._texts[tie_type]:
                self._texts[tie_type].add(text)
                self._by_rows[tie_type].append(text)

    def seen_columns(self, tie_type: TieType, keys: np.ndarray, sources: pa.Array, targets: pa.Array) -> np.ndarray:
        """Per tie (its integer, and its ends as the key names them), whether it was made before."""
        seen = np.zeros(len(keys), dtype=bool)
        for made in self._keys[tie_type]:
            at = np.minimum(np.searchsorted(made, keys), len(made) - 1)
            seen |= made[at] == keys
        by_rows = self._by_rows[tie_type]
        if by_rows:
            seen |= is_in(_texts(sources, targets), [pa.array(by_rows, pa.string())])
        return seen

    def add_columns(self, tie_type: TieType, keys: np.ndarray, sources: pa.Array, targets: pa.Array) -> None:
        """Add ties the column-wise path made (ties not made before, each once)."""
        if not len(keys):
            return
        self._ends[tie_type].append((sources, targets))
        made = self._keys[tie_type]
        made.append(np.sort(keys))
        # Merged while the one before is not at least twice as large: a few arrays, each tie merged a few times.
        while len(made) > 1 and len(made[-2]) < 2 * len(made[-1]):
            last = made.pop()
            made[-1] = np.sort(np.concatenate([made[-1], last]), kind="stable")  # two sorted runs: merged
