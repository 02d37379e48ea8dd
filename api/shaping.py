"""Reading the results of query functions into the API's public models.

The query modules return records, models or mappings; these helpers accept any of those shapes
(see :func:`api.wiring.plain`) and pick the documented fields (``docs/data-model.md``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from api.models import AccountPublic
from api.wiring import flatten, items_of, plain
from graph.model import NodeLabel
from graph.store import GraphStore
from queries.customers import AccountHolding, CustomerSummary
from queries.groups import GroupMember
from queries.network import EgoNode

RELATED_KEYS = ("related", "relationships", "relations", "members", "customers", "items", "neighbours", "nodes")
NESTED_KEYS = ("customer", "node", "member", "other", "neighbour")
TIE_KEYS = ("tie_type", "via", "relationship", "tie", "type")
DEPTH_KEYS = ("depth", "distance", "hops")


def _first(item: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        if item.get(key) is not None:
            return item[key]
    return None


def customer_fields(item: Any, store: GraphStore | None = None) -> dict[str, Any]:
    """Flat fields of a customer-like item; the store fills them in when the item carries only an id."""
    value = plain(item)
    if not isinstance(value, Mapping):
        fields: dict[str, Any] = {"id": str(value)}
    else:
        nested = _first(value, NESTED_KEYS)
        fields = flatten(nested) if isinstance(nested, Mapping) else flatten(value)
        if "id" not in fields and "customer_id" in fields:
            fields["id"] = fields["customer_id"]
    if store is not None and "name" not in fields and fields.get("id"):
        record = store.get_node(NodeLabel.CUSTOMER, str(fields["id"]))
        if record is not None:
            fields = {**record.properties, "label": record.label.value, **fields}
    return fields


def related_items(result: Any, store: GraphStore | None = None) -> list[tuple[dict[str, Any], str | None, int | None]]:
    """(fields, tie type, depth) of each related customer in a query result."""
    found = []
    for item in items_of(result, *RELATED_KEYS):
        fields = customer_fields(item, store)
        tie = _first(item, TIE_KEYS) if isinstance(item, Mapping) else None
        if tie is not None and not isinstance(tie, str):
            tie = str(tie)
        if tie in {"Person", "Company", "Customer"}:  # a node's "type", not a tie's
            tie = None
        path = item.get("path") if isinstance(item, Mapping) else None
        if tie is None and isinstance(path, list) and path and isinstance(path[-1], Mapping):
            tie = path[-1].get("tie")  # the tie that first reached this customer
        depth = _first(item, DEPTH_KEYS) if isinstance(item, Mapping) else None
        found.append((fields, tie, depth if isinstance(depth, int) and not isinstance(depth, bool) else None))
    return found


def account(item: Any) -> AccountPublic:
    fields = flatten(plain(item)) if isinstance(plain(item), Mapping) else {"id": str(item)}
    balances = fields.get("balances")
    balance = fields.get("balance", fields.get("latest_balance"))
    if balance is None and isinstance(balances, list) and balances:
        balance = balances[-1]
    return AccountPublic(
        id=str(fields.get("id") or fields.get("account_id")),
        role=fields.get("role"),
        product_id=fields.get("product_id"),
        status=fields.get("status"),
        balance=float(balance) if isinstance(balance, int | float) and not isinstance(balance, bool) else None,
        card_number_masked=fields.get("card_number_masked"),
    )


def ids_of(result: Any, *keys: str) -> list[str]:
    """Ids in a list of ids or of id-carrying items."""
    ids = []
    for item in items_of(result, *keys):
        if isinstance(item, Mapping):
            value = item.get("id") or item.get("manager_id") or item.get("customer_id")
            if value is not None:
                ids.append(str(value))
        else:
            ids.append(str(item))
    return ids


def number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def product_names(store: GraphStore, product_ids: list[str]) -> dict[str, str | None]:
    """The catalogue name of each product (None when the product or its name is missing)."""
    names: dict[str, str | None] = {}
    for product_id in dict.fromkeys(product_ids):
        record = store.get_node(NodeLabel.PRODUCT, product_id)
        name = record.properties.get("name") if record is not None else None
        names[product_id] = name if isinstance(name, str) else None
    return names


def summary_fields(customer: CustomerSummary) -> dict[str, Any]:
    """A listed customer's fields, as :func:`api.masking.public_customer` reads them."""
    return {**customer.model_dump(exclude={"kind"}), "kind": customer.kind.value}


def network_node_fields(node: EgoNode) -> dict[str, Any]:
    """A customer of an ego network: what the network query read of it."""
    return {"id": node.id, "kind": node.kind.value, "name": node.name, "tier": node.tier, "churn_risk": node.churn_risk}


def group_member_fields(member: GroupMember) -> dict[str, Any]:
    """A household or group member with its own totals."""
    return {
        "id": member.id,
        "kind": member.kind.value,
        "name": member.name,
        "segment": member.segment,
        "tier": member.tier,
        "churn_risk": member.churn_risk,
        "deposits": member.deposits,
        "aum": member.assets_under_management,
        "loans": member.loans,
    }


def holding(item: AccountHolding) -> AccountPublic:
    """An account the customer holds; the card number is not part of a holding."""
    return AccountPublic(
        id=item.account_id, role=item.role, product_id=item.product_id, status=item.status, balance=item.latest_balance
    )
