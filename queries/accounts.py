"""Questions about a customer's accounts and products."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graph.embedded.view import GraphView, NodeKey
from graph.model import NodeLabel, TieType
from graph.query import NamedQuery, Rows


def _list_customer_accounts(view: GraphView, params: Mapping[str, Any]) -> Rows:
    customer = (NodeLabel.CUSTOMER, params["customer_id"])
    if customer not in view.graph:
        return []
    rows = []
    for _, account, owns in view.out_ties(customer, [TieType.OWNS]):
        products: list[NodeKey | None] = [product for _, product, _ in view.out_ties(account, [TieType.OF_PRODUCT])]
        for product in products or [None]:
            rows.append(
                {
                    "account_id": account[1],
                    "role": owns.get("role"),
                    "product_id": product[1] if product else None,
                    "status": view.props(account).get("status"),
                }
            )
    rows.sort(key=lambda row: (row["account_id"], row["product_id"] or ""))
    return rows


LIST_CUSTOMER_ACCOUNTS = NamedQuery("list_customer_accounts", "queries.cypher", _list_customer_accounts)
"""Accounts a customer owns, with the owner's role, the product and the account status."""
