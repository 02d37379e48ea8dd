"""Guarantee circles and chains: customers standing behind each other's loans, on both backends.

Circles are searched by ``crm-graph analyze``, which writes each circle it finds (at most ``MAX_CIRCLES``) on a
``GuaranteeCircle`` node; :func:`guarantee_circles` reads them. A store that holds none (analysed by an older
version, or without any circle) is searched at request time. Chains are searched per request.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from graph.cancellation import checkpoint
from graph.embedded.view import GraphView, NodeKey
from graph.model import NodeLabel, TieType
from graph.query import NamedQuery, Rows
from graph.store import GraphStore
from queries.customers import amount_or_zero, money, require_customer
from queries.network import check_range

MAX_CIRCLE_LENGTH = 6
"""Longest guarantee circle searched; ``find_guarantee_circles.cypher`` has the same bound in its pattern."""
MAX_CIRCLES = 1000

# -- results ---------------------------------------------------------------------------------------


class GuaranteeTie(BaseModel):
    model_config = ConfigDict(frozen=True)

    source: str
    target: str
    amount: float


class GuaranteeCircle(BaseModel):
    """Customers guaranteeing each other in a ring, from the smallest id in the guarantees' direction."""

    model_config = ConfigDict(frozen=True)

    members: list[str]
    ties: list[GuaranteeTie]
    total_exposure: float


class GuaranteeCircles(BaseModel):
    model_config = ConfigDict(frozen=True)

    max_length: int
    circles: list[GuaranteeCircle]
    """Ordered by length, then by members."""
    total: int
    """Circles found; more than ``len(circles)`` when ``limit`` cut the list."""


# -- search, on both backends ----------------------------------------------------------------------


def _find_guarantee_circles(view: GraphView, params: Mapping[str, Any]) -> Rows:
    max_length = params["max_length"]
    rows: Rows = []

    def walk(start: NodeKey, path: list[NodeKey], amounts: list[Any]) -> None:
        for _, target, props in view.out_ties(path[-1], [TieType.GUARANTEES]):
            if target == start and len(path) >= 2:
                rows.append({"members": [key[1] for key in path], "amounts": [*amounts, props.get("amount")]})
            elif target[1] > start[1] and target not in path and len(path) < max_length:
                walk(start, [*path, target], [*amounts, props.get("amount")])

    for start in view.keys(NodeLabel.CUSTOMER):
        checkpoint()
        walk(start, [start], [])
    rows.sort(key=lambda row: row["members"])
    return rows


FIND_GUARANTEE_CIRCLES = NamedQuery("find_guarantee_circles", "queries.cypher", _find_guarantee_circles)


def _circle_ranking(view: GraphView) -> list[tuple[int, NodeKey]]:
    return sorted(
        (props["rank"], key)
        for key in view.keys(NodeLabel.GUARANTEE_CIRCLE)
        if isinstance((props := view.props(key)).get("rank"), int)
    )


def _list_stored_guarantee_circles(view: GraphView, params: Mapping[str, Any]) -> Rows:
    # The ranking is kept until the graph changes: reads far outnumber analyze runs.
    ranking = view.derived("guarantee_circle_ranking", lambda: _circle_ranking(view))
    rows = []
    for rank, key in ranking:
        if rank > params["limit"]:
            break
        props = view.props(key)
        rows.append({"members": props.get("members"), "amounts": props.get("amounts"), "total": props.get("found")})
    return rows


LIST_STORED_GUARANTEE_CIRCLES = NamedQuery(
    "list_stored_guarantee_circles", "queries.cypher", _list_stored_guarantee_circles
)


def _find_guarantee_chains(view: GraphView, params: Mapping[str, Any]) -> Rows:
    start: NodeKey = (NodeLabel.CUSTOMER, params["customer_id"])
    rows: Rows = []

    def walk(path: list[NodeKey], amounts: list[Any]) -> None:
        for _, target, props in view.out_ties(path[-1], [TieType.GUARANTEES]):
            if target not in path:
                extended, extended_amounts = [*path, target], [*amounts, props.get("amount")]
                rows.append({"members": [key[1] for key in extended], "amounts": extended_amounts})
                if len(extended) <= params["max_depth"]:
                    walk(extended, extended_amounts)

    if start in view:
        walk([start], [])
    rows.sort(key=lambda row: row["members"])
    return rows


FIND_GUARANTEE_CHAINS = NamedQuery("find_guarantee_chains", "queries.cypher", _find_guarantee_chains)


class GuaranteeChain(BaseModel):
    """A customer standing behind others: each guarantees the next; exposure is the sum along the chain."""

    model_config = ConfigDict(frozen=True)

    members: list[str]
    ties: list[GuaranteeTie]
    total_exposure: float


class GuaranteeChains(BaseModel):
    model_config = ConfigDict(frozen=True)

    customer_id: str
    max_depth: int
    chains: list[GuaranteeChain]
    total: int


def to_chains(customer_id: str, rows: Iterable[Mapping[str, Any]], max_depth: int, limit: int) -> GuaranteeChains:
    """Raw guarantee paths to the maximal chains (those no longer path extends), ordered by members."""
    paths = sorted(tuple(row["members"]) for row in rows)
    amounts = {tuple(row["members"]): row["amounts"] for row in rows}
    extended = {path[:-1] for path in paths}
    chains = []
    for path in paths:
        if path in extended:
            continue
        ties = [
            GuaranteeTie(source=path[index], target=path[index + 1], amount=money([amount_or_zero(amount)]))
            for index, amount in enumerate(amounts[path])
        ]
        chains.append(GuaranteeChain(members=list(path), ties=ties, total_exposure=money(t.amount for t in ties)))
    return GuaranteeChains(customer_id=customer_id, max_depth=max_depth, chains=chains[:limit], total=len(chains))


def to_circle(row: Mapping[str, Any]) -> GuaranteeCircle:
    """A raw cycle row (members, amounts in ring order) as a circle."""
    members = list(row["members"])
    ties = [
        GuaranteeTie(source=members[index], target=members[(index + 1) % len(members)], amount=money([amount]))
        for index, amount in enumerate(amount_or_zero(value) for value in row["amounts"])
    ]
    return GuaranteeCircle(members=members, ties=ties, total_exposure=money(tie.amount for tie in ties))


def to_circles(rows: Iterable[Mapping[str, Any]], max_length: int, limit: int) -> GuaranteeCircles:
    """Raw cycle rows (members, amounts in ring order) to circles ordered by (length, members)."""
    circles = [to_circle(row) for row in rows]
    circles.sort(key=lambda circle: (len(circle.members), circle.members))
    return GuaranteeCircles(max_length=max_length, circles=circles[:limit], total=len(circles))


def find_guarantee_circles(
    store: GraphStore, max_length: int = MAX_CIRCLE_LENGTH, limit: int = 100
) -> GuaranteeCircles:
    """Rings of customers guaranteeing each other (2 to ``max_length`` ties), each listed once, searched now."""
    check_range("max_length", max_length, 2, MAX_CIRCLE_LENGTH)
    check_range("limit", limit, 1, MAX_CIRCLES)
    return to_circles(store.run(FIND_GUARANTEE_CIRCLES, {"max_length": max_length}), max_length, limit)


def guarantee_circles(store: GraphStore, max_length: int = MAX_CIRCLE_LENGTH, limit: int = 100) -> GuaranteeCircles:
    """Rings of customers guaranteeing each other (2 to ``max_length`` ties), each listed once: as ``crm-graph
    analyze`` last found them when it did (it searches to the longest length), else searched now."""
    check_range("max_length", max_length, 2, MAX_CIRCLE_LENGTH)
    check_range("limit", limit, 1, MAX_CIRCLES)
    if max_length == MAX_CIRCLE_LENGTH:
        stored = store.run(LIST_STORED_GUARANTEE_CIRCLES, {"limit": limit})
        if stored:
            return to_circles(stored, max_length, limit).model_copy(update={"total": stored[0]["total"]})
    return find_guarantee_circles(store, max_length, limit)


def circle_rows(circles: GuaranteeCircles, analytics_at: str) -> list[dict[str, Any]]:
    """``GuaranteeCircle`` node rows in the order served (``rank`` 1 first, ids by rank), with the number of
    circles found (more than the rows when ``MAX_CIRCLES`` cut the list) and the amounts in ring order."""
    return [
        {
            "label": NodeLabel.GUARANTEE_CIRCLE,
            "id": f"G{rank:06d}",
            "properties": {
                "rank": rank,
                "members": circle.members,
                "amounts": [tie.amount for tie in circle.ties],
                "found": circles.total,
                "analytics_at": analytics_at,
            },
        }
        for rank, circle in enumerate(circles.circles, start=1)
    ]


def guarantee_chains(
    store: GraphStore, customer_id: str, max_depth: int = MAX_CIRCLE_LENGTH, limit: int = 100
) -> GuaranteeChains:
    """The longest guarantee chains leaving a customer (up to ``max_depth`` ties), with their exposure."""
    check_range("max_depth", max_depth, 1, MAX_CIRCLE_LENGTH)
    check_range("limit", limit, 1, MAX_CIRCLES)
    require_customer(store, customer_id)
    rows = store.run(FIND_GUARANTEE_CHAINS, {"customer_id": customer_id, "max_depth": max_depth})
    return to_chains(customer_id, rows, max_depth, limit)
