"""Finding customers by id, name or phone tail on the embedded store without a scan of every customer.

A search box is typed into far more often than the bank is loaded, and a scan of a million customers
in Python takes seconds. So the names are joined, in id order, into one text that ``str.find`` walks in
C, and the last four characters of each masked phone into another; a hit's offset gives the customer.
The index is built on the first search after the graph changes (a few seconds for a million customers).
Neo4j answers the same question with text indexes (``search_customers.cypher``).
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from itertools import islice

from graph.embedded.view import GraphView, NodeKey
from graph.model import NodeLabel

PHONE_TAIL_DIGITS = 4
_SEPARATOR = "\x00"
"""Between names in the joined text; a name holding it is searched in the plain list instead."""
_NO_TAIL = _SEPARATOR * PHONE_TAIL_DIGITS


class CustomerSearch:
    """Customers in id order, with their names and phone tails laid out for ``str.find``."""

    def __init__(self, view: GraphView) -> None:
        self.keys: list[NodeKey] = view.keys(NodeLabel.CUSTOMER)
        names: list[str] = []
        tails: list[str] = []
        for key in self.keys:
            props = view.props(key)
            name, phone = props.get("name"), props.get("phone_masked")
            names.append(name if isinstance(name, str) else "")
            tails.append(
                phone[-PHONE_TAIL_DIGITS:] if isinstance(phone, str) and len(phone) >= PHONE_TAIL_DIGITS else _NO_TAIL
            )
        self._names = names
        self._joined = _SEPARATOR.join(names)
        starts, offset = array("q"), 0
        for name in names:
            starts.append(offset)
            offset += len(name) + 1
        self._starts = starts
        self._tails = "".join(tails)

    def find(self, q: str, name_part: str | None, phone_tail: str | None, limit: int | None) -> list[NodeKey]:
        """The first ``limit`` (None: all) customers by id whose id is ``q``, whose name holds ``name_part`` or
        whose phone ends in ``phone_tail``; a None ``name_part`` or ``phone_tail`` matches nothing."""
        found: set[int] = set()
        at = bisect_left(self.keys, q, key=_id)
        if at < len(self.keys) and self.keys[at][1] == q:
            found.add(at)
        if name_part is not None:
            found.update(islice(self._name_hits(name_part), limit))
        if phone_tail is not None:
            found.update(islice(self._tail_hits(phone_tail), limit))
        return [self.keys[position] for position in sorted(found)[:limit]]

    def _name_hits(self, q: str) -> Iterator[int]:
        """Positions of the customers whose name holds ``q``, in increasing order."""
        if _SEPARATOR in q:
            yield from (position for position, name in enumerate(self._names) if q in name)
            return
        joined, starts, at = self._joined, self._starts, 0
        while (at := joined.find(q, at)) >= 0:
            position = bisect_right(starts, at) - 1
            yield position
            at = starts[position] + len(self._names[position]) + 1  # on to the next name

    def _tail_hits(self, tail: str) -> Iterator[int]:
        """Positions of the customers whose phone ends with ``tail`` (of ``PHONE_TAIL_DIGITS`` characters)."""
        tails, at = self._tails, 0
        while (at := tails.find(tail, at)) >= 0:
            if at % PHONE_TAIL_DIGITS == 0:  # a match across two customers' tails is not a hit
                yield at // PHONE_TAIL_DIGITS
            at += 1


def _id(key: NodeKey) -> str:
    return key[1]


def customer_search(view: GraphView) -> CustomerSearch:
    """The view's search index, built on the first search after a change."""
    return view.derived("customer_search", lambda: CustomerSearch(view))
