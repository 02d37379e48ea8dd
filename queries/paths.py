"""How two customers are connected: every shortest path between them over customer-to-customer ties.

Both backends answer with the same paths in the same order: by the ids along the path, then by each tie's
type and source id. A path is at most ``MAX_HOPS`` ties long (fixed in ``find_shortest_paths.cypher``, where a
variable-length bound cannot be a parameter) and at most ``MAX_PATHS`` paths are returned.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from itertools import pairwise, product
from typing import Any

from pydantic import BaseModel, ConfigDict

from graph.embedded.view import GraphView, NodeKey
from graph.errors import InvalidRequest, NotFound
from graph.model import NodeLabel, TieType
from graph.query import NamedQuery, Rows
from graph.store import GraphStore
from queries.customers import customer_summaries
from queries.network import check_range, customer_tie_types

MAX_HOPS = 4
MAX_PATHS = 50

# -- results ----------------------------------------------------------------------------------------


class PathTie(BaseModel):
    """One tie of a path, in its stored direction."""

    model_config = ConfigDict(frozen=True)

    type: TieType
    source: str
    target: str


class CustomerPath(BaseModel):
    """A path from one customer to another: ``node_ids`` from the first to the last, ``ties`` between them."""

    model_config = ConfigDict(frozen=True)

    node_ids: list[str]
    ties: list[PathTie]


class ShortestPaths(BaseModel):
    from_id: str
    to_id: str
    hops: int | None
    """How many ties the shortest paths have; None when the two are not connected within ``MAX_HOPS``."""
    paths: list[CustomerPath]


# -- embedded answer --------------------------------------------------------------------------------


def _distances(view: GraphView, start: NodeKey, types: set[TieType], stop: NodeKey | None) -> dict[NodeKey, int]:
    """Hops from ``start`` to each customer within ``MAX_HOPS``; stops after the level that reaches ``stop``."""
    distance = {start: 0}
    frontier = [start]
    for level in range(1, MAX_HOPS + 1):
        following = []
        for key in frontier:
            for _, other, _ in view.neighbours(key, types):
                if other[0] is NodeLabel.CUSTOMER and other not in distance:
                    distance[other] = level
                    following.append(other)
        if stop in distance or not following:
            break
        frontier = following
    return distance


def _ties_between(view: GraphView, a: NodeKey, b: NodeKey, types: set[TieType]) -> list[tuple[str, str, str]]:
    """(type, source id, target id) of every tie between ``a`` and ``b`` either way, by type then source."""
    found = {(t.value, a[1], b[1]) for t, other, _ in view.out_ties(a, types) if other == b}
    found |= {(t.value, b[1], a[1]) for t, other, _ in view.in_ties(a, types) if other == b}
    return sorted(found, key=lambda tie: (tie[0] + " " + tie[1], tie[2]))


def _find_shortest_paths(view: GraphView, params: Mapping[str, Any]) -> Rows:
    start, end = (NodeLabel.CUSTOMER, params["from_id"]), (NodeLabel.CUSTOMER, params["to_id"])
    types = {TieType(name) for name in params["types"]}
    if start not in view or end not in view or not types:
        return []
    from_start = _distances(view, start, types, end)
    if end not in from_start:
        return []
    hops = from_start[end]
    from_end = _distances(view, end, types, start)

    def sequences(path: list[NodeKey]) -> Iterator[list[NodeKey]]:
        """Node sequences along shortest paths, in increasing order of their ids."""
        here = path[-1]
        if here == end:
            yield path
            return
        step = len(path)
        following = {
            other
            for _, other, _ in view.neighbours(here, types)
            if from_start.get(other) == step and from_end.get(other) == hops - step
        }
        for other in sorted(following, key=lambda key: key[1]):
            yield from sequences([*path, other])

    rows: Rows = []
    for nodes in sequences([start]):
        choices = [_ties_between(view, a, b, types) for a, b in pairwise(nodes)]
        for ties in product(*choices):
            rows.append(
                {
                    "node_ids": [key[1] for key in nodes],
                    "ties": [{"type": t, "source": s, "target": e} for t, s, e in ties],
                }
            )
            if len(rows) >= params["limit"]:
                return rows
    return rows


FIND_SHORTEST_PATHS = NamedQuery("find_shortest_paths", "queries.cypher", _find_shortest_paths)


# -- public question --------------------------------------------------------------------------------


def shortest_paths(
    store: GraphStore, from_id: str, to_id: str, types: Sequence[TieType | str] = (), limit: int = 10
) -> ShortestPaths:
    """Every shortest path (at most ``limit``, at most ``MAX_HOPS`` ties long) from one customer to another over
    ``types`` of customer-to-customer ties (all when empty)."""
    if from_id == to_id:
        raise InvalidRequest("a path needs two different customers")
    check_range("limit", limit, 1, MAX_PATHS)
    tie_types = customer_tie_types(store, types)
    missing = sorted({from_id, to_id} - set(customer_summaries(store, [from_id, to_id])))
    if missing:
        raise NotFound(f"no customer with id {missing[0]!r}")
    params = {"from_id": from_id, "to_id": to_id, "types": [t.value for t in tie_types], "limit": limit}
    paths = [CustomerPath.model_validate(row) for row in store.run(FIND_SHORTEST_PATHS, params)]
    return ShortestPaths(from_id=from_id, to_id=to_id, hops=len(paths[0].ties) if paths else None, paths=paths)
