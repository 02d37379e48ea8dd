"""Questions about one customer: the 360-degree view, and finding customers by id, name or phone tail.

Money is rounded to 2 decimals with ``math.fsum`` (order-independent), so both backends agree exactly.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from graph.embedded.view import GraphView, NodeKey
from graph.errors import InvalidRequest, NotFound
from graph.model import NodeLabel, TieType
from graph.query import NamedQuery, Rows
from graph.store import GraphStore
from queries.search import PHONE_TAIL_DIGITS, customer_search

MAX_SEARCH_RESULTS = 100
MAX_SEARCH_PAGE = 1000  # the largest page of a scoped search (the API's page sizes are smaller)
MAX_QUERY_LENGTH = 100
COUNTED_ROLES = frozenset({"owner", "joint"})
"""Roles whose accounts count towards a customer's holdings; ``authorized`` users do not own the money."""

_SUMMARY_FIELDS = (
    "name",
    "segment",
    "city",
    "status",
    "tier",
    "lifecycle_stage",
    "churn_risk",
    "birth_date",
    "phone_masked",
    "industry",
)
"""What a list shows of a customer: enough to tell two customers of the same (masked) name apart."""


# -- results ----------------------------------------------------------------------------------------


class CustomerSummary(BaseModel):
    """A customer in a list: who it is and what analytics say about it (None until analysed)."""

    model_config = ConfigDict(frozen=True)

    id: str
    kind: NodeLabel
    name: str | None
    segment: str | None
    city: str | None
    status: str | None
    tier: str | None
    lifecycle_stage: str | None
    churn_risk: float | None
    birth_date: str | None
    """As stored: the API shows only its year unless unmasked."""
    phone_masked: str | None
    industry: str | None


class CustomerSearchPage(BaseModel):
    """One page of a search's matches, and how many there are in all."""

    model_config = ConfigDict(frozen=True)

    total: int
    customers: list[CustomerSummary]


class ManagerRef(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    name: str | None


class AccountHolding(BaseModel):
    """One account the customer owns; ``latest_balance`` is the last month-end balance."""

    model_config = ConfigDict(frozen=True)

    account_id: str
    role: str | None
    status: str | None
    currency: str | None
    latest_balance: float | None
    product_id: str | None
    product_name: str | None
    category: str | None


class HeldProduct(BaseModel):
    """A product the customer holds through at least one account that is not closed."""

    model_config = ConfigDict(frozen=True)

    product_id: str
    name: str | None
    category: str | None
    accounts: int


class Customer360(BaseModel):
    """Everything about one customer on one page. ``properties`` are unmasked as stored: masking is the API's."""

    model_config = ConfigDict(frozen=True)

    id: str
    kind: NodeLabel
    properties: dict[str, Any]
    manager: ManagerRef | None
    """The customer's manager; when several manage it, the one with the smallest id."""
    accounts: list[AccountHolding]
    products: list[HeldProduct]
    tier: str | None
    lifecycle_stage: str | None
    ltv_historical: float | None
    ltv_current: float | None
    ltv_potential: float | None
    churn_risk: float | None
    tie_counts: dict[str, int]
    """Customer-to-customer ties by type, both directions; types without ties are left out."""


# -- embedded answers -------------------------------------------------------------------------------


def customer_kind(view: GraphView, key: NodeKey) -> str:
    return view.kind(key).value


def summary_row(view: GraphView, key: NodeKey) -> dict[str, Any]:
    """The columns of ``list_customer_summaries.cypher`` for one customer."""
    props = view.props(key)
    return {
        "customer_id": key[1],
        "kind": customer_kind(view, key),
        **{name: props.get(name) for name in _SUMMARY_FIELDS},
    }


def holding_rows(view: GraphView, customer_ids: Iterable[str]) -> Rows:
    """The accounts each customer owns with their products, one row per (account, product), ordered by customer,
    account and product (an account without product last): the ``holdings`` of the 360 and group queries."""
    rows = []
    for customer_id in customer_ids:
        key = (NodeLabel.CUSTOMER, customer_id)
        if key not in view:
            continue
        for _, account, owns in view.out_ties(key, [TieType.OWNS]):
            account_props = view.props(account)
            products: list[NodeKey | None] = [product for _, product, _ in view.out_ties(account, [TieType.OF_PRODUCT])]
            if not products:
                products = [None]
            for product in products:
                product_props = view.props(product) if product else {}
                rows.append(
                    {
                        "customer_id": customer_id,
                        "account_id": account[1],
                        "role": owns.get("role"),
                        "status": account_props.get("status"),
                        "currency": account_props.get("currency"),
                        "balances": list(account_props["balances"]) if "balances" in account_props else None,
                        "product_id": product[1] if product else None,
                        "product_name": product_props.get("name"),
                        "category": product_props.get("category"),
                    }
                )
    rows.sort(
        key=lambda row: (row["customer_id"], row["account_id"], row["product_id"] is None, row["product_id"] or "")
    )
    return rows


def _count_customer_ties(view: GraphView, key: NodeKey, types: list[TieType]) -> list[dict[str, Any]]:
    counts: dict[str, int] = {}
    for tie_type, other, _ in view.neighbours(key, types):
        if other[0] is NodeLabel.CUSTOMER:
            counts[tie_type.value] = counts.get(tie_type.value, 0) + 1
    return [{"type": name, "count": counts[name]} for name in sorted(counts)]


def _get_customer_overview(view: GraphView, params: Mapping[str, Any]) -> Rows:
    key = (NodeLabel.CUSTOMER, params["customer_id"])
    if key not in view:
        return []
    managers = sorted(
        (source for tie_type, source, _ in view.in_ties(key, [TieType.MANAGES]) if source[0] is NodeLabel.MANAGER),
        key=lambda manager: manager[1],
    )
    book = params["manager_id"]
    if book is not None and (NodeLabel.MANAGER, book) not in managers:
        return []
    return [
        {
            "customer_id": key[1],
            "kind": customer_kind(view, key),
            "properties": {"id": key[1], **view.props(key)},
            "managers": [{"id": manager[1], "name": view.props(manager).get("name")} for manager in managers],
            "holdings": holding_rows(view, [key[1]]),
            "tie_counts": _count_customer_ties(view, key, [TieType(name) for name in params["types"]]),
        }
    ]


def _search_customers(view: GraphView, params: Mapping[str, Any]) -> Rows:
    found = customer_search(view).find(params["q"], params["q"], params["phone_tail"], params["limit"])
    return [summary_row(view, key) for key in found]


def _search_customer_ids(view: GraphView, params: Mapping[str, Any]) -> Rows:
    found = customer_search(view).find(params["q"], params["name_part"], params["phone_tail"], None)
    return [{"customer_id": key[1]} for key in found]


def _search_book_customer_ids(view: GraphView, params: Mapping[str, Any]) -> Rows:
    manager = (NodeLabel.MANAGER, params["manager_id"])
    if manager not in view:
        return []
    q, name_part, phone_tail = params["q"], params["name_part"], params["phone_tail"]
    found = set()
    for _, key, _ in view.out_ties(manager, [TieType.MANAGES]):
        if key[0] is not NodeLabel.CUSTOMER:
            continue
        name, phone = view.props(key).get("name"), view.props(key).get("phone_masked")
        if (
            key[1] == q
            or (name_part is not None and isinstance(name, str) and name_part in name)
            or (phone_tail is not None and isinstance(phone, str) and phone.endswith(phone_tail))
        ):
            found.add(key[1])
    return [{"customer_id": customer_id} for customer_id in sorted(found)]


def _list_customer_summaries(view: GraphView, params: Mapping[str, Any]) -> Rows:
    keys = {(NodeLabel.CUSTOMER, customer_id) for customer_id in params["customer_ids"]}
    return [summary_row(view, key) for key in sorted(keys, key=lambda key: key[1]) if key in view]


GET_CUSTOMER_OVERVIEW = NamedQuery("get_customer_overview", "queries.cypher", _get_customer_overview)
SEARCH_CUSTOMERS = NamedQuery("search_customers", "queries.cypher", _search_customers)
SEARCH_CUSTOMER_IDS = NamedQuery("search_customer_ids", "queries.cypher", _search_customer_ids)
SEARCH_BOOK_CUSTOMER_IDS = NamedQuery("search_book_customer_ids", "queries.cypher", _search_book_customer_ids)
LIST_CUSTOMER_SUMMARIES = NamedQuery("list_customer_summaries", "queries.cypher", _list_customer_summaries)


# -- shared pure post-processing -------------------------------------------------------------------


def amount_or_zero(value: Any) -> float:
    """A stored amount as a float; 0.0 when it is missing or not a number."""
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def money(values: Iterable[float]) -> float:
    """A sum of amounts rounded to cents, the same whatever the order of ``values``."""
    return round(math.fsum(values), 2)


def latest_balance(balances: list[float] | None) -> float | None:
    """The last month-end balance, rounded to cents; None when the account has no balances."""
    return round(float(balances[-1]), 2) if balances else None


def to_summary(row: Mapping[str, Any]) -> CustomerSummary:
    return CustomerSummary(id=row["customer_id"], **{name: row[name] for name in ("kind", *_SUMMARY_FIELDS)})


def customer_summaries(store: GraphStore, customer_ids: Iterable[str]) -> dict[str, CustomerSummary]:
    """Summaries of the customers that exist among ``customer_ids``, keyed by id."""
    rows = store.run(LIST_CUSTOMER_SUMMARIES, {"customer_ids": sorted(set(customer_ids))})
    return {row["customer_id"]: to_summary(row) for row in rows}


def require_customer(store: GraphStore, customer_id: str) -> CustomerSummary:
    """The customer's summary, or ``NotFound``."""
    found = customer_summaries(store, [customer_id]).get(customer_id)
    if found is None:
        raise NotFound(f"no customer with id {customer_id!r}")
    return found


def to_holdings(rows: Iterable[Mapping[str, Any]]) -> list[AccountHolding]:
    return [
        AccountHolding(
            account_id=row["account_id"],
            role=row["role"],
            status=row["status"],
            currency=row["currency"],
            latest_balance=latest_balance(row["balances"]),
            product_id=row["product_id"],
            product_name=row["product_name"],
            category=row["category"],
        )
        for row in rows
    ]


def counts_towards_holdings(holding: AccountHolding) -> bool:
    """Open (not closed) accounts the customer owns alone or jointly."""
    return holding.status != "closed" and (holding.role is None or holding.role in COUNTED_ROLES)


def held_products(accounts: Iterable[AccountHolding]) -> list[HeldProduct]:
    """Products of the accounts that are not closed, with how many such accounts each, by product id."""
    found: dict[str, tuple[AccountHolding, set[str]]] = {}
    for account in accounts:
        if account.product_id is None or account.status == "closed":
            continue
        found.setdefault(account.product_id, (account, set()))[1].add(account.account_id)
    return [
        HeldProduct(product_id=product_id, name=first.product_name, category=first.category, accounts=len(ids))
        for product_id, (first, ids) in sorted(found.items())
    ]


def _optional_float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _optional_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


# -- public questions -------------------------------------------------------------------------------


def customer_360(store: GraphStore, customer_id: str, in_book_of: str | None = None) -> Customer360:
    """The customer's properties, accounts, products, manager, analytics scores and tie counts (one statement).

    With ``in_book_of``, a customer that manager does not look after is not found either (checked in the statement).
    """
    customer_types = [spec.type.value for spec in store.registry.customer_ties()]
    rows = store.run(
        GET_CUSTOMER_OVERVIEW, {"customer_id": customer_id, "types": customer_types, "manager_id": in_book_of}
    )
    if not rows:
        raise NotFound(f"no customer with id {customer_id!r}")
    profile = rows[0]
    properties = {name: value for name, value in profile["properties"].items() if name != "id"}
    accounts = to_holdings(profile["holdings"])
    managers = profile["managers"]
    return Customer360(
        id=customer_id,
        kind=profile["kind"],
        properties=properties,
        manager=ManagerRef(id=managers[0]["id"], name=managers[0]["name"]) if managers else None,
        accounts=accounts,
        products=held_products(accounts),
        tier=_optional_str(properties.get("tier")),
        lifecycle_stage=_optional_str(properties.get("lifecycle_stage")),
        ltv_historical=_optional_float(properties.get("ltv_historical")),
        ltv_current=_optional_float(properties.get("ltv_current")),
        ltv_potential=_optional_float(properties.get("ltv_potential")),
        churn_risk=_optional_float(properties.get("churn_risk")),
        tie_counts={row["type"]: row["count"] for row in profile["tie_counts"]},
    )


def _search_text(q: str) -> tuple[str, str | None]:
    """The trimmed search text (InvalidRequest when empty or too long) and the phone tail it may be."""
    q = q.strip()
    if not 1 <= len(q) <= MAX_QUERY_LENGTH:
        raise InvalidRequest(f"search text must be 1 to {MAX_QUERY_LENGTH} characters after trimming")
    return q, q if len(q) == PHONE_TAIL_DIGITS and q.isascii() and q.isdigit() else None


def search_customers(store: GraphStore, q: str, limit: int = 20) -> list[CustomerSummary]:
    """Customers whose id is ``q``, whose name contains ``q``, or (``q`` = 4 digits) whose phone ends so; by id."""
    q, phone_tail = _search_text(q)
    if not 1 <= limit <= MAX_SEARCH_RESULTS:
        raise InvalidRequest(f"limit must be between 1 and {MAX_SEARCH_RESULTS}, got {limit}")
    rows = store.run(SEARCH_CUSTOMERS, {"q": q, "phone_tail": phone_tail, "limit": limit})
    return [to_summary(row) for row in rows]


def search_customers_in_scope(
    store: GraphStore,
    q: str,
    *,
    manager_id: str | None,
    match_names: bool,
    offset: int = 0,
    limit: int = 20,
) -> CustomerSearchPage:
    """The page at ``offset`` of the customers matching ``q`` among those a caller may see, and their total.

    The scope comes first: ``manager_id`` limits the search to that manager's book (None: the whole bank),
    and only then are matches counted and a page cut, so a page never misses a match of the book that a
    bank-wide first cut left out. ``q`` matches an id exactly, the last four digits of a masked phone, and,
    only with ``match_names`` (callers who see names in clear), part of a name: a caller who sees masked
    names must not learn a full name by finding a customer with it.
    """
    q, phone_tail = _search_text(q)
    if not 1 <= limit <= MAX_SEARCH_PAGE:
        raise InvalidRequest(f"limit must be between 1 and {MAX_SEARCH_PAGE}, got {limit}")
    if offset < 0:
        raise InvalidRequest(f"offset must not be negative, got {offset}")
    params = {"q": q, "name_part": q if match_names else None, "phone_tail": phone_tail}
    if manager_id is None:
        rows = store.run(SEARCH_CUSTOMER_IDS, params)
    else:
        rows = store.run(SEARCH_BOOK_CUSTOMER_IDS, {**params, "manager_id": manager_id})
    ids = [row["customer_id"] for row in rows]
    found = customer_summaries(store, ids[offset : offset + limit])
    return CustomerSearchPage(total=len(ids), customers=[found[i] for i in ids[offset : offset + limit] if i in found])
