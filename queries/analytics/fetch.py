"""Request-time graph fetches of the analytics: each a Cypher file plus the same rows computed in Python.

Rows are raw (ids, tie types, product ids, counts); scoring happens in shared pure Python, so both backends
give identical recommendations. A product counts as held through an open account the customer owns as owner
or joint holder.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graph.cancellation import checkpoint
from graph.embedded.view import GraphView, NodeKey
from graph.model import NodeLabel, TieType
from graph.query import NamedQuery, Rows
from graph.ties import DEFAULT_REGISTRY

PACKAGE = "queries.analytics.cypher"
CUSTOMER_TIES: tuple[TieType, ...] = tuple(s.type for s in DEFAULT_REGISTRY.values() if s.between_customers)
"""The tie types the Cypher files name literally (a test keeps them in step)."""


def held_products(view: GraphView, customer: NodeKey) -> list[str]:
    """Sorted ids of products held through open accounts owned as owner or joint holder."""
    found: set[str] = set()
    for _, account, owns in view.out_ties(customer, [TieType.OWNS]):
        if (owns.get("role") or "owner") not in ("owner", "joint"):
            continue
        if (view.props(account).get("status") or "open") == "closed":
            continue
        found.update(product[1] for _, product, _ in view.out_ties(account, [TieType.OF_PRODUCT]))
    return sorted(found)


def customer_neighbours(view: GraphView, key: NodeKey) -> Iterator[tuple[str, NodeKey]]:
    """(tie type, other customer) of each customer tie touching ``key``, in either direction."""
    for tie_type, other, _ in view.neighbours(key, CUSTOMER_TIES):
        yield tie_type.value, other


FITTED_CROSS_SELL_FIELDS = ("cross_sell_products", "cross_sell_scores", "cross_sell_own_scores")
"""What analyze's fitted cross-sell model wrote on a customer (see ``crosssell_fit``)."""


def _list_customer_profiles(view: GraphView, params: Mapping[str, Any]) -> Rows:
    rows = []
    for customer_id in sorted(set(params["customer_ids"])):
        checkpoint()
        key = (NodeLabel.CUSTOMER, customer_id)
        if key not in view:
            continue
        props = view.props(key)
        rows.append(
            {
                "customer_id": customer_id,
                "kind": "Company" if view.kind(key) is NodeLabel.COMPANY else "Person",
                "segment": props.get("segment"),
                "birth_date": props.get("birth_date"),
                "consent_marketing": props.get("consent_marketing"),
                "status": props.get("status"),
                "products": held_products(view, key),
                **{name: props.get(name) for name in FITTED_CROSS_SELL_FIELDS},
            }
        )
    return rows


def neighbour_holdings(view: GraphView, customer_id: str) -> Rows:
    """One customer's rows of ``LIST_NEIGHBOUR_HOLDINGS``, without the customer's id."""
    key = (NodeLabel.CUSTOMER, customer_id)
    if key not in view:
        return []
    rows = [
        {"neighbour": other[1], "tie_type": tie_type, "products": held_products(view, other)}
        for tie_type, other in customer_neighbours(view, key)
        if other != key
    ]
    rows.sort(key=lambda row: (row["neighbour"], row["tie_type"]))
    return rows


def _list_neighbour_holdings(view: GraphView, params: Mapping[str, Any]) -> Rows:
    return [
        {"customer_id": customer_id, **row}
        for customer_id in sorted(set(params["customer_ids"]))
        for row in neighbour_holdings(view, customer_id)
    ]


def _list_second_hop_holdings(view: GraphView, params: Mapping[str, Any]) -> Rows:
    key = (NodeLabel.CUSTOMER, params["customer_id"])
    if key not in view:
        return []
    holdings: dict[NodeKey, list[str]] = {}
    rows: Rows = []
    seen: set[tuple[str, NodeKey]] = set()
    for first_type, via in customer_neighbours(view, key):
        # Cypher groups by (via, first type): two ties of one type both ways count once, as there.
        if via == key or (first_type, via) in seen:
            continue
        seen.add((first_type, via))
        second = [(tie_type, other) for tie_type, other in customer_neighbours(view, via) if other != key]
        holders: dict[tuple[str, str], set[str]] = {}
        for second_type, holder in second:
            if holder not in holdings:
                holdings[holder] = held_products(view, holder)
            for product_id in holdings[holder]:
                holders.setdefault((second_type, product_id), set()).add(holder[1])
        rows.extend(second_hop_rows(via[1], first_type, len(second), holders))
    rows.sort(key=lambda row: (row["via"], row["first_type"], row["second_type"], row["product_id"]))
    return rows


def second_hop_rows(
    via: str, first_type: str, fanout: int, holders: Mapping[tuple[str, str], set[str]]
) -> Iterator[dict[str, Any]]:
    """``LIST_SECOND_HOP_HOLDINGS``' rows through one first-hop customer: per (tie type, product) its holders'
    count and smallest id. Shared by the embedded twin and analyze's array recommender."""
    for (second_type, product_id), ids in holders.items():
        yield {
            "via": via,
            "first_type": first_type,
            "second_type": second_type,
            "product_id": product_id,
            "fanout": fanout,
            "holders": len(ids),
            "example": min(ids),
        }


PRODUCT_FIELDS = (
    "name",
    "category",
    "min_age",
    "segments",
    "exclusive_with",
    "holders",
    "holder_share",
    "co_held_products",
    "co_held_counts",
    "cross_sell_tie_types",
    "cross_sell_tie_weights",
)


def _list_products(view: GraphView, params: Mapping[str, Any]) -> Rows:
    return [
        {"product_id": key[1], **{name: view.props(key).get(name) for name in PRODUCT_FIELDS}}
        for key in view.keys(NodeLabel.PRODUCT)
    ]


def _list_product_prospects(view: GraphView, params: Mapping[str, Any]) -> Rows:
    product = (NodeLabel.PRODUCT, params["product_id"])
    if product not in view:
        return []
    holders: set[NodeKey] = set()
    for _, account, _ in view.in_ties(product, [TieType.OF_PRODUCT]):
        if (view.props(account).get("status") or "open") == "closed":
            continue
        for _, holder, owns in view.in_ties(account, [TieType.OWNS]):
            if (owns.get("role") or "owner") in ("owner", "joint"):
                holders.add(holder)
    rows = []
    holding: dict[NodeKey, bool] = {}
    for holder in holders:
        checkpoint()
        for tie_type, candidate in customer_neighbours(view, holder):
            props = view.props(candidate)
            if candidate == holder or props.get("consent_marketing") is not True:
                continue
            if (props.get("status") or "active") == "churned":
                continue
            if candidate not in holding:
                holding[candidate] = product[1] in held_products(view, candidate)
            if not holding[candidate]:
                rows.append({"candidate": candidate[1], "holder": holder[1], "tie_type": tie_type})
    rows.sort(key=lambda row: (row["candidate"], row["holder"], row["tie_type"]))
    return rows


def _get_cross_sell_inputs(view: GraphView, params: Mapping[str, Any]) -> Rows:
    profiles = _list_customer_profiles(view, {"customer_ids": [params["customer_id"]]})
    if not profiles:
        return []
    props = view.props((NodeLabel.CUSTOMER, params["customer_id"]))
    offered = props.get("consent_marketing") is True
    return [
        {
            **profiles[0],
            "lifecycle_stage": props.get("lifecycle_stage"),
            "analytics_as_of": props.get("analytics_as_of"),
            "catalogue": sorted(_list_products(view, {}), key=lambda row: row["product_id"]) if offered else [],
            "neighbours": neighbour_holdings(view, params["customer_id"]) if offered else [],
            "second_hop": _list_second_hop_holdings(view, params) if offered else [],
        }
    ]


GET_CROSS_SELL_INPUTS = NamedQuery("get_cross_sell_inputs", PACKAGE, _get_cross_sell_inputs)
LIST_CUSTOMER_PROFILES = NamedQuery("list_customer_profiles", PACKAGE, _list_customer_profiles)
LIST_NEIGHBOUR_HOLDINGS = NamedQuery("list_neighbour_holdings", PACKAGE, _list_neighbour_holdings)
LIST_SECOND_HOP_HOLDINGS = NamedQuery("list_second_hop_holdings", PACKAGE, _list_second_hop_holdings)
LIST_PRODUCTS = NamedQuery("list_products", PACKAGE, _list_products)
LIST_PRODUCT_PROSPECTS = NamedQuery("list_product_prospects", PACKAGE, _list_product_prospects)
