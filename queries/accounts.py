"""Questions about a customer's accounts and products."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from graph.embedded.view import GraphView, NodeKey
from graph.model import NodeLabel, TieType
from graph.query import NamedQuery, Rows
from graph.store import GraphStore

MAX_PRODUCTS = 1000


def _list_customer_accounts(view: GraphView, params: Mapping[str, Any]) -> Rows:
    customer = (NodeLabel.CUSTOMER, params["customer_id"])
    if customer not in view:
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


class ProductSummary(BaseModel):
    """A product of the catalogue: what pickers and reports show."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str | None
    category: str | None


def product_catalogue(store: GraphStore, limit: int = MAX_PRODUCTS) -> list[ProductSummary]:
    """The bank's products by id (a catalogue is small; at most ``limit`` are read)."""
    found: list[ProductSummary] = []
    for record in store.nodes(NodeLabel.PRODUCT):
        if len(found) >= limit:
            break
        name, category = record.properties.get("name"), record.properties.get("category")
        found.append(
            ProductSummary(
                id=record.id,
                name=None if name is None else str(name),
                category=None if category is None else str(category),
            )
        )
    return found


def _list_product_names(view: GraphView, params: Mapping[str, Any]) -> Rows:
    rows = []
    for product_id in sorted(set(params["product_ids"])):
        key = (NodeLabel.PRODUCT, product_id)
        if key in view:  # only the name is read: a product also carries long lists (holders, prospects)
            rows.append({"product_id": product_id, "name": view.props(key).get("name")})
    return rows


LIST_PRODUCT_NAMES = NamedQuery("list_product_names", "queries.cypher", _list_product_names)
"""The catalogue name of each listed product that exists, by id."""


def product_names(store: GraphStore, product_ids: list[str]) -> dict[str, str | None]:
    """The catalogue name of each product, in one query (None when the product or its name is missing)."""
    wanted = list(dict.fromkeys(product_ids))
    if not wanted:
        return {}
    found = {row["product_id"]: row["name"] for row in store.run(LIST_PRODUCT_NAMES, {"product_ids": wanted})}
    return {product_id: _text_or_none(found.get(product_id)) for product_id in wanted}


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None
