"""A manager's book: which customers a manager looks after (MANAGES), asked of many customers at once.

The API decides what a manager's token may see by this question, once for every customer a response shows,
instead of one read per customer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from graph.embedded.view import GraphView
from graph.model import NodeLabel, TieType
from graph.query import NamedQuery, Rows
from graph.store import GraphStore


def _list_managed_customer_ids(view: GraphView, params: Mapping[str, Any]) -> Rows:
    manager = (NodeLabel.MANAGER, params["manager_id"])
    rows = []
    for customer_id in sorted(set(params["customer_ids"])):
        customer = (NodeLabel.CUSTOMER, customer_id)
        if customer in view and any(source == manager for _, source, _ in view.in_ties(customer, [TieType.MANAGES])):
            rows.append({"customer_id": customer_id})
    return rows


LIST_MANAGED_CUSTOMER_IDS = NamedQuery("list_managed_customer_ids", "queries.cypher", _list_managed_customer_ids)
"""Which of the listed customers the manager looks after, by id."""


def managed_among(store: GraphStore, manager_id: str, customer_ids: Iterable[str]) -> set[str]:
    """The customers among ``customer_ids`` that ``manager_id`` manages (one query for the whole set)."""
    wanted = sorted(set(customer_ids))
    if not wanted:
        return set()
    rows = store.run(LIST_MANAGED_CUSTOMER_IDS, {"manager_id": manager_id, "customer_ids": wanted})
    return {row["customer_id"] for row in rows}
