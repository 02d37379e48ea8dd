"""Who is related to a customer: the ego network within a few hops, with the path to each relative.

How both backends give the same answer: a Cypher file (``list_customer_ties``) and its embedded twin
fetch one hop from a list of customers, each customer's ties ordered by (tie type, other id, source id)
and capped. The breadth-first search that calls it level by level lives here, in Python shared by both
backends, so the paths, caps and truncation are identical. Every traversal is bounded by a depth and a
node budget; no query follows ties without an upper bound.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict

from graph.embedded.view import GraphView, NodeKey
from graph.errors import InvalidRequest, NotFound
from graph.model import NodeLabel, TieType
from graph.query import NamedQuery, Rows
from graph.store import GraphStore
from graph.ties import TieCategory
from queries.customers import customer_summaries

MAX_DEPTH = 3
MAX_LIMIT_PER_NODE = 200
MAX_NODES = 2000
TIES_PER_FETCH = 1000
"""Per-customer cap when a traversal wants every tie (groups); more than this marks the answer truncated."""

# -- results ----------------------------------------------------------------------------------------


class PathStep(BaseModel):
    """One hop: over a tie of ``tie`` type to ``node_id``; ``forward`` when the stored tie points that way."""

    model_config = ConfigDict(frozen=True)

    tie: TieType
    node_id: str
    forward: bool


class EgoNode(BaseModel):
    """A customer in the ego network, reached at ``depth`` by ``path`` (empty for the centre)."""

    model_config = ConfigDict(frozen=True)

    id: str
    kind: NodeLabel
    name: str | None
    tier: str | None
    churn_risk: float | None
    depth: int
    path: list[PathStep]
    omitted_neighbours: int | None
    """Neighbours not shown because of ``limit_per_node`` ("N more"); None when the node was not expanded."""


class EgoEdge(BaseModel):
    """A tie between two customers of the network, in its stored direction."""

    model_config = ConfigDict(frozen=True)

    type: TieType
    source: str
    target: str
    category: TieCategory
    weight: float
    properties: dict[str, Any]


class EgoNetwork(BaseModel):
    """Customers within ``depth`` ties of ``center_id``, in the order breadth-first search reached them."""

    model_config = ConfigDict(frozen=True)

    center_id: str
    depth: int
    types: list[TieType]
    limit_per_node: int
    nodes: list[EgoNode]
    edges: list[EgoEdge]
    """Every tie read while expanding whose both ends are in ``nodes``, ordered by (type, source, target)."""
    truncated: bool
    """True when ``max_nodes`` stopped the search before every reached customer could be added."""


# -- the one-hop fetch, on both backends -------------------------------------------------------------


def _list_customer_ties(view: GraphView, params: Mapping[str, Any]) -> Rows:
    types = {TieType(name) for name in params["types"]}
    min_ratio = params["min_share_ratio"]
    limit = params["limit"]
    customer = NodeLabel.CUSTOMER
    if not types:  # as in Cypher, no type named follows no tie (the view would read an empty filter as all)
        return []

    def wanted(tie_type: TieType, other: NodeKey, props: Mapping[str, Any]) -> bool:
        return other[0] is customer and (
            min_ratio is None or tie_type is not TieType.SHAREHOLDER_OF or float(props.get("ratio", 0.0)) >= min_ratio
        )

    rows = []
    for customer_id in sorted(set(params["customer_ids"])):
        key = (customer, customer_id)
        # (type name, other id, source id, target id, properties): out-ties first, then in-ties, as stored.
        found = [
            (tie_type.value, other[1], customer_id, other[1], props)
            for tie_type, other, props in view.out_ties(key, types)
            if wanted(tie_type, other, props)
        ]
        found += [
            (tie_type.value, other[1], other[1], customer_id, props)
            for tie_type, other, props in view.in_ties(key, types)
            if wanted(tie_type, other, props)
        ]
        if not found:
            continue
        found.sort(key=lambda item: (item[0], item[1], item[2]))
        rows.append(
            {
                "customer_id": customer_id,
                "neighbours": len({item[1] for item in found}),
                "total": len(found),
                "kept": [
                    {"type": type_name, "source": source, "target": target, "other": other, "properties": dict(props)}
                    for type_name, other, source, target, props in found[:limit]
                ],
            }
        )
    return rows


def _list_customer_ties_two_hops(view: GraphView, params: Mapping[str, Any]) -> Rows:
    centre = params["customer_id"]
    first = _list_customer_ties(view, {**params, "customer_ids": [centre]})
    reached = {tie["other"] for row in first for tie in row["kept"]} - {centre}
    second = _list_customer_ties(view, {**params, "customer_ids": sorted(reached)})
    return sorted(first + second, key=lambda row: row["customer_id"])


LIST_CUSTOMER_TIES = NamedQuery("list_customer_ties", "queries.cypher", _list_customer_ties)
LIST_CUSTOMER_TIES_TWO_HOPS = NamedQuery("list_customer_ties_two_hops", "queries.cypher", _list_customer_ties_two_hops)


# -- shared traversal --------------------------------------------------------------------------------


@dataclass
class Traversal:
    """What a bounded breadth-first search over customer ties found (ids in discovery order)."""

    order: list[str]
    depth: dict[str, int]
    path: dict[str, list[PathStep]]
    omitted_neighbours: dict[str, int]
    """For expanded customers only: neighbours left out by the per-customer cap."""
    ties: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    """Every tie read, keyed (type, source, target), with its properties."""
    truncated: bool = False


def traverse(
    store: GraphStore,
    center_id: str,
    types: Sequence[TieType],
    *,
    max_depth: int,
    limit_per_node: int,
    max_nodes: int,
    min_share_ratio: float | None = None,
) -> Traversal:
    """Breadth-first search from ``center_id`` over ``types`` (both directions), one Cypher hop per level after
    the first two, which come in one statement (the second level's frontier is among the other ends of the
    centre's kept ties, whose rows that statement reads).

    A customer is reached first from the earliest-reached customer next to it, then by (tie type,
    neighbour id): that gives one shortest path per customer, the same on every backend. The search
    stops after ``max_depth`` levels or once ``max_nodes`` customers are in, setting ``truncated``.
    """
    found = Traversal(order=[center_id], depth={center_id: 0}, path={center_id: []}, omitted_neighbours={})
    frontier = [center_id]
    params = {
        "types": [tie_type.value for tie_type in types],
        "min_share_ratio": min_share_ratio,
        "limit": limit_per_node,
    }
    two_levels: dict[str, dict[str, Any]] | None = None
    if max_depth >= 2:
        rows = store.run(LIST_CUSTOMER_TIES_TWO_HOPS, {**params, "customer_id": center_id})
        two_levels = {row["customer_id"]: row for row in rows}
    for level in range(1, max_depth + 1):
        if not frontier:
            break
        if two_levels is not None and level <= 2:
            by_customer = two_levels
        else:
            rows = store.run(LIST_CUSTOMER_TIES, {**params, "customer_ids": frontier})
            by_customer = {row["customer_id"]: row for row in rows}
        next_frontier: list[str] = []
        for customer_id in frontier:
            row = by_customer.get(customer_id)
            kept = row["kept"] if row else []
            found.omitted_neighbours[customer_id] = (row["neighbours"] if row else 0) - len({t["other"] for t in kept})
            for tie in kept:
                found.ties[(tie["type"], tie["source"], tie["target"])] = tie["properties"]
                other = tie["other"]
                if other in found.depth:
                    continue
                if len(found.order) >= max_nodes:
                    found.truncated = True
                    continue
                step = PathStep(tie=TieType(tie["type"]), node_id=other, forward=tie["source"] == customer_id)
                found.order.append(other)
                found.depth[other] = level
                found.path[other] = [*found.path[customer_id], step]
                next_frontier.append(other)
        frontier = next_frontier
    return found


def customer_tie_types(store: GraphStore, types: Sequence[TieType | str]) -> list[TieType]:
    """``types`` checked to be customer-to-customer tie types (all of them when empty), in registry order."""
    allowed = [spec.type for spec in store.registry.customer_ties()]
    if isinstance(types, str):  # one type name given bare, not as a list
        types = [types]
    wanted: set[TieType] = set()
    for name in types:
        value = name.value if isinstance(name, TieType) else name
        if value not in {tie_type.value for tie_type in allowed}:
            raise InvalidRequest(
                f"unknown tie type {value!r}; allowed: {', '.join(tie_type.value for tie_type in allowed)}"
            )
        wanted.add(TieType(value))
    return [tie_type for tie_type in allowed if not wanted or tie_type in wanted]


def check_range(name: str, value: int, low: int, high: int) -> int:
    """Refuse integers outside ``[low, high]`` with a message saying what is allowed."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidRequest(f"{name} must be an integer between {low} and {high}, got {value!r}")
    return value


# -- public question ---------------------------------------------------------------------------------


def related_customers(
    store: GraphStore,
    customer_id: str,
    depth: int = 1,
    types: Sequence[TieType | str] = (),
    limit_per_node: int = 50,
    max_nodes: int = 500,
) -> EgoNetwork:
    """Customers within ``depth`` (1-3) ties of the customer, with the first path to each and typed edges.

    ``types`` restricts the customer-to-customer tie types followed (all when empty). Each customer
    shows at most ``limit_per_node`` of its ties (the rest are counted in ``omitted_neighbours``),
    and at most ``max_nodes`` customers are returned (``truncated`` says when more were reached).
    """
    check_range("depth", depth, 1, MAX_DEPTH)
    check_range("limit_per_node", limit_per_node, 1, MAX_LIMIT_PER_NODE)
    check_range("max_nodes", max_nodes, 1, MAX_NODES)
    tie_types = customer_tie_types(store, types)
    found = traverse(store, customer_id, tie_types, max_depth=depth, limit_per_node=limit_per_node, max_nodes=max_nodes)
    # The summaries include the centre, so its existence is checked here rather than by a query of its own
    # (a round trip less on Neo4j); a missing customer has no ties, so the traversal found nothing else.
    summaries = customer_summaries(store, found.order)
    if customer_id not in summaries:
        raise NotFound(f"no customer with id {customer_id!r}")
    # Built by validation, not ``model_construct``: with values already of their types, pydantic's validation
    # (in Rust) took half the time of its Python ``model_construct`` per node and edge (pydantic 2.14).
    nodes = [
        EgoNode(
            id=node_id,
            kind=summary.kind,
            name=summary.name,
            tier=summary.tier,
            churn_risk=summary.churn_risk,
            depth=found.depth[node_id],
            path=found.path[node_id],
            omitted_neighbours=found.omitted_neighbours.get(node_id),
        )
        for node_id in found.order
        for summary in (summaries[node_id],)
    ]
    members = set(found.order)
    specs = {tie_type.value: store.registry[tie_type] for tie_type in tie_types}
    edges = [
        EgoEdge(
            type=specs[tie_type].type,
            source=source,
            target=target,
            category=TieCategory(specs[tie_type].category),
            weight=float(specs[tie_type].weight),
            properties=properties,
        )
        for (tie_type, source, target), properties in sorted(found.ties.items())
        if source in members and target in members
    ]
    return EgoNetwork(
        center_id=customer_id,
        depth=depth,
        types=tie_types,
        limit_per_node=limit_per_node,
        nodes=nodes,
        edges=edges,
        truncated=found.truncated,
    )
