"""Pages of the guarantee circles ``crm-graph analyze`` stored, each asked of the store for its own rows.

A page used to cost every stored circle (up to ``MAX_CIRCLES``), read and built whatever its place, to cut one
page from them and count their sizes. Now the store skips to the page (in ring order, or by the amount guaranteed
around the circle, largest first) and counts the sizes itself, on both backends. A store that holds no circle
(never analysed, or by an older version) is searched at request time as before, by :func:`guarantee_circles`.
"""

from __future__ import annotations

from collections.abc import Mapping
from math import fsum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from graph.embedded.view import GraphView, NodeKey
from graph.model import NodeLabel
from graph.query import NamedQuery, Rows
from graph.store import GraphStore
from queries.guarantees import MAX_CIRCLES, GuaranteeCircle, guarantee_circles, to_circle
from queries.naming import SizeCount, size_counts

CircleOrder = Literal["ring", "exposure"]
"""``ring``: by number of members, then members (the stored rank); ``exposure``: the largest amount first, equal
amounts in ring order."""


class CirclePage(BaseModel):
    model_config = ConfigDict(frozen=True)

    circles: list[GuaranteeCircle]
    """The page's circles, and one more when a next page exists."""
    total: int
    """Circles found (more than stored when ``MAX_CIRCLES`` cut the list)."""
    sizes: list[SizeCount]
    """How many circles have each number of members, fewest first."""


def _exposure(amounts: Any) -> float:
    numbers = [a for a in amounts or [] if isinstance(a, int | float) and not isinstance(a, bool)]
    return round(fsum(numbers), 2)


def _ranking(view: GraphView, order: str) -> list[NodeKey]:
    ranked = [
        (props["rank"], key)
        for key in view.keys(NodeLabel.GUARANTEE_CIRCLE)
        if isinstance((props := view.props(key)).get("rank"), int)
    ]
    if order == "exposure":
        return [
            key for _, _, key in sorted((-_exposure(view.props(key).get("amounts")), rank, key) for rank, key in ranked)
        ]
    return [key for _, key in sorted(ranked)]


def _list_guarantee_circle_page(view: GraphView, params: Mapping[str, Any]) -> Rows:
    order = params["order"]
    # Kept until the graph changes: a risk officer pages through a list that analyze alone rewrites.
    ranking = view.derived(("guarantee_circle_page", order), lambda: _ranking(view, order))
    skip, limit = max(params["skip"], 0), max(params["limit"], 0)
    return [
        {"members": (props := view.props(key)).get("members"), "amounts": props.get("amounts")}
        for key in ranking[skip : skip + limit]
    ]


def _count_guarantee_circle_sizes(view: GraphView, params: Mapping[str, Any]) -> Rows:
    counts: dict[int, list[int]] = {}
    for key in view.keys(NodeLabel.GUARANTEE_CIRCLE):
        props = view.props(key)
        if isinstance(props.get("rank"), int):
            counts.setdefault(len(props.get("members") or []), []).append(props.get("found") or 0)
    return [{"size": size, "circles": len(found), "found": max(found)} for size, found in sorted(counts.items())]


LIST_GUARANTEE_CIRCLE_PAGE = NamedQuery("list_guarantee_circle_page", "queries.cypher", _list_guarantee_circle_page)
COUNT_GUARANTEE_CIRCLE_SIZES = NamedQuery(
    "count_guarantee_circle_sizes", "queries.cypher", _count_guarantee_circle_sizes
)


def guarantee_circle_page(store: GraphStore, *, order: CircleOrder, skip: int, limit: int) -> CirclePage:
    """``limit`` circles after the first ``skip`` in ``order``, with the number found and the count of each size:
    as ``crm-graph analyze`` last stored them, else (no circle stored) searched now."""
    sizes = store.run(COUNT_GUARANTEE_CIRCLE_SIZES, {})
    if not sizes:
        found = guarantee_circles(store, limit=MAX_CIRCLES)
        listed = found.circles
        if order == "exposure":  # a stable sort: equal amounts keep the ring order
            listed = sorted(listed, key=lambda circle: -circle.total_exposure)
        sizes_found = size_counts(len(circle.members) for circle in found.circles)
        return CirclePage(circles=listed[skip : skip + limit], total=found.total, sizes=sizes_found)
    rows = store.run(LIST_GUARANTEE_CIRCLE_PAGE, {"order": order, "skip": skip, "limit": limit})
    return CirclePage(
        circles=[to_circle(row) for row in rows],
        total=max(row["found"] for row in sizes),
        sizes=[SizeCount(size=row["size"], count=row["circles"]) for row in sizes],
    )
