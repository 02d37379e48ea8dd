"""The ties a load has made so far, which tell a tie row loaded (it made a tie not made before) from merged.

Both paths ask it: the column-wise path a whole batch's ties at once (:meth:`TiesSeen.seen_columns`,
:meth:`TiesSeen.add_columns`), the row path one row's ties at a time (``key in ties_seen``,
:meth:`TiesSeen.update`). The column-wise path keeps its ties as Arrow strings, one per tie, so that a batch
is asked and added without a Python tuple per row (:func:`loaders.bulk.lookup.is_in` hashes the batch's ties, not
the load's); the row path looks them up in a set of those strings made from them only when it asks about a tie
type (once per batch of columns at most).

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

_CHUNKS = 8
"""Column chunks of a type kept apart at most: each is probed with its own lookup of the batch's ties."""

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
        self._columns: dict[TieType, list[pa.Array]] = defaultdict(list)
        self._looked_up: dict[TieType, int] = defaultdict(int)
        """Per type, how many of its column chunks' ties (from the first) are in ``_texts`` already."""
        self._texts: dict[TieType, set[str]] = defaultdict(set)
        """Per type, the strings of the ties the row path made and of the column chunks it has asked about."""
        self._by_rows: dict[TieType, list[str]] = defaultdict(list)

    def __contains__(self, key: object) -> bool:
        tie_type, source, target = cast(TieKey, key)
        texts = self._texts[tie_type]
        skip = self._looked_up[tie_type]
        for chunk in self._columns[tie_type]:
            if skip < len(chunk):
                texts.update(chunk.slice(skip).to_pylist())
            skip = max(skip - len(chunk), 0)
        self._looked_up[tie_type] = sum(len(chunk) for chunk in self._columns[tie_type])
        return _text(source, target) in texts

    def update(self, keys: Iterable[TieKey]) -> None:
        """Add ties the row path made."""
        for tie_type, source, target in keys:
            text = _text(source, target)
            if text not in self._texts[tie_type]:
                self._texts[tie_type].add(text)
                self._by_rows[tie_type].append(text)

    def seen_columns(self, tie_type: TieType, sources: pa.Array, targets: pa.Array) -> np.ndarray:
        """Per tie (its ends as the key names them), whether it was made before."""
        made = [*self._columns[tie_type], pa.array(self._by_rows[tie_type], pa.string())]
        return is_in(_texts(sources, targets), made)

    def add_columns(self, tie_type: TieType, sources: pa.Array, targets: pa.Array) -> None:
        """Add ties the column-wise path made (ties not made before)."""
        chunks = self._columns[tie_type]
        chunks.append(_texts(sources, targets))
        if len(chunks) > _CHUNKS:  # in order: the ties looked up stay the first ones
            chunks[:] = [pa.concat_arrays(chunks)]
