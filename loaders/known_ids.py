"""The ids a load knows by label, and lookups of them that grow as a load adds ids (column-wise tie ends).

:class:`KnownIds` holds a label's ids (those in the store at the start and those added since); an
:class:`IdLookup` made of them numbers each id and finds a tie end column's ids in one search.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from loaders.bulk.lookup import CHUNKS, NodeCodes, positions_in


@dataclass(frozen=True)
class IdLookup:
    """The nodes of one label a load knows (a set of ids; for customers the crosswalk, record ref ->
    customer id), to find the nodes a column of references names by a join on ``refs`` (with
    ``customer_ids`` beside them for customers); ``codes`` holds each ref's node's code
    (:class:`loaders.bulk.lookup.NodeCodes`: the same for the whole load)."""

    refs: list[pa.Array]
    """In chunks: a lookup of known ids grows by a chunk of the ids added since it was made."""
    customer_ids: pa.Array | None
    codes: np.ndarray
    _prefixed: dict[str, IdLookup] = field(default_factory=dict, compare=False, repr=False)
    """The parts of this lookup made so far by :meth:`starting_with`, by prefix."""

    @classmethod
    def of(cls, ids: set[str] | dict[str, str], codes: NodeCodes) -> IdLookup:
        refs = ids.column() if isinstance(ids, KnownIds) else pa.array(list(ids), pa.string())
        if isinstance(ids, dict):
            customer_ids = pa.array(list(ids.values()), pa.string())
            return cls([refs], customer_ids, codes.codes(customer_ids))
        # A set's ids are distinct: none of them numbered before (a label's first lookup) they are numbered as given.
        return cls([refs], None, codes.numbered(refs) if not codes.count else codes.codes(refs))

    def grown(self, added: list[str] | pa.Array, codes: NodeCodes) -> IdLookup:
        """This lookup of known ids with ``added`` (ids not known before, each once) known too."""
        assert self.customer_ids is None
        new = added if isinstance(added, pa.Array) else pa.array(added, pa.string())
        # Ids not known before were in no lookup before: numbered after every id the codes hold.
        grown = self._with(new, codes.numbered(new))
        for prefix, part in self._prefixed.items():  # each part grows by its own share of the ids added
            starting = pc.starts_with(new, pattern=prefix)
            grown._prefixed[prefix] = part._with(new.filter(starting), grown.codes[len(self.codes) :][_mask(starting)])
        return grown

    def _with(self, new: pa.Array, codes: np.ndarray) -> IdLookup:
        refs = [*self.refs, new]
        if len(refs) > CHUNKS:  # in order: a ref's position stays its position in the chunks laid end to end
            refs = [pa.concat_arrays(refs)]
        return IdLookup(refs, None, np.concatenate([self.codes, codes]))

    def starting_with(self, prefix: str) -> IdLookup:
        """The part of this lookup whose refs start with ``prefix``, made once: every ref a tie end column
        makes starts with the end's prefix, so a join need search only those (a bank's account ids come
        from four systems, each of its own prefix; searching all of them cost the whole label per column)."""
        if not prefix:
            return self
        part = self._prefixed.get(prefix)
        if part is None:
            refs = pa.concat_arrays(self.refs) if len(self.refs) > 1 else self.refs[0]
            starting = pc.starts_with(refs, pattern=prefix)
            customer_ids = None if self.customer_ids is None else self.customer_ids.filter(starting)
            part = self._prefixed[prefix] = IdLookup([refs.filter(starting)], customer_ids, self.codes[_mask(starting)])
        return part

    def join(self, refs: pa.Array, prefix: str = "") -> tuple[pa.Array, np.ndarray]:
        """The id of the node each ref of a column names (null where none), and the node's code (-1 where
        none); ``prefix``: one that every ref starts with."""
        lookup = self.starting_with(prefix)
        at = positions_in(refs, lookup.refs)
        codes = np.append(lookup.codes, -1)[at]  # -1 (none) takes the -1 appended
        if lookup.customer_ids is None:
            return pc.if_else(pa.array(at >= 0), refs, pa.scalar(None, pa.string())), codes
        return lookup.customer_ids.take(pa.array(at, mask=at < 0)), codes


def _mask(flags: pa.Array) -> np.ndarray:
    return flags.to_numpy(zero_copy_only=False).astype(bool)


class KnownIds(set[str]):
    """A primary label's known ids, listing too the ids added to them in order (:attr:`added`), so that a
    lookup made of them grows by those instead of being made again (:meth:`LoadContext.id_lookup`)."""

    def __init__(self, ids: Iterable[str] = ()) -> None:
        super().__init__(ids)
        self._before = list(self)
        self.added: list[str] = []
        self._columns: list[tuple[int, pa.Array]] = []
        """Runs of :attr:`added` that were given in Arrow too (:meth:`update_column`): where each starts, its ids."""

    def add(self, node_id: str) -> None:
        if node_id not in self:
            super().add(node_id)
            self.added.append(node_id)

    def update(self, *others: Iterable[str]) -> None:
        for other in others:
            distinct = dict.fromkeys(other)
            # Most often every id is new: then they are added without a look at each in Python.
            new = list(distinct) if self.isdisjoint(distinct) else [node for node in distinct if node not in self]
            super().update(new)
            self.added.extend(new)

    def update_column(self, ids: list[str], column: pa.Array) -> None:
        """:meth:`update` with ``ids``, given in ``column`` (Arrow strings) too: a lookup made of the ids known
        takes them from it instead of converting each id (a million accounts' ids: about a second)."""
        start = len(self.added)
        self.update(ids)
        if len(self.added) - start == len(ids) == len(column) and len(ids):  # each of them added, in order
            self._columns.append((start, column))

    def added_column(self, start: int = 0) -> pa.Array:
        """The ids added from the ``start``-th on, in order, as Arrow strings."""
        parts, at = [], start
        for begin, column in self._columns:
            if begin + len(column) <= at:
                continue
            if begin > at:
                parts.append(pa.array(self.added[at:begin], pa.string()))
            parts.append(column.slice(max(at - begin, 0)))
            at = begin + len(column)
        if at < len(self.added):
            parts.append(pa.array(self.added[at:], pa.string()))
        return pa.concat_arrays([part.cast(pa.string()) for part in parts]) if parts else pa.array([], pa.string())

    def column(self) -> pa.Array:
        """Every id known: those known at first, then those added, as Arrow strings."""
        return pa.concat_arrays([pa.array(self._before, pa.string()), self.added_column()])
