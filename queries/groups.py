"""Groups of customers that belong together: households and corporate groups.

A group is the connected component of the anchor customer over some tie types (either direction),
found by the bounded breadth-first search of :mod:`queries.network`. Its rollup sums, with every
amount rounded to cents:

* ``deposits``: latest balances of accounts of category ``deposit``;
* ``assets_under_management``: categories ``deposit``, ``investment`` and ``insurance``;
* ``loans``: categories ``loan`` and ``credit``;
* each account counted once for the group even when several members hold it jointly; only accounts
  that are not closed and held as ``owner`` or ``joint`` count (``authorized`` users do not own them);
  balances are summed as stored, without currency conversion;
* ``guarantees_given``: amounts of GUARANTEES from a member to a customer outside the group;
  ``guarantees_received``: from outside to a member; ``guarantees_internal``: between two members.

Guarantee circles and chains are in :mod:`queries.guarantees`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from graph.embedded.view import GraphView
from graph.errors import InvalidRequest, NotFound
from graph.model import NodeLabel, TieType
from graph.query import NamedQuery, Rows
from graph.store import GraphStore
from graph.ties import TieCategory
from queries.customers import (
    AccountHolding,
    amount_or_zero,
    counts_towards_holdings,
    holding_rows,
    money,
    summary_row,
    to_holdings,
    to_summary,
)
from queries.network import LIST_CUSTOMER_TIES, TIES_PER_FETCH, check_range, traverse

MAX_GROUP_SIZE = 2000
DEFAULT_GROUP_SIZE = 500
CONTROL_TIES = (TieType.SHAREHOLDER_OF, TieType.LEGAL_REP_OF, TieType.SUBSIDIARY_OF)
DEPOSIT_CATEGORIES = frozenset({"deposit"})
AUM_CATEGORIES = frozenset({"deposit", "investment", "insurance"})
LOAN_CATEGORIES = frozenset({"loan", "credit"})

# -- results ----------------------------------------------------------------------------------------


class GroupMember(BaseModel):
    """A member with its own totals (a joint account counts for each of its holders here)."""

    model_config = ConfigDict(frozen=True)

    id: str
    kind: NodeLabel
    name: str | None
    segment: str | None
    tier: str | None
    churn_risk: float | None
    deposits: float
    assets_under_management: float
    loans: float


class GroupTie(BaseModel):
    model_config = ConfigDict(frozen=True)

    type: TieType
    source: str
    target: str
    properties: dict[str, Any]


class ProductCoverage(BaseModel):
    """A product held by at least one member, and the share of members holding it (4 decimals)."""

    model_config = ConfigDict(frozen=True)

    product_id: str
    name: str | None
    category: str | None
    holders: int
    share: float


class GroupRollup(BaseModel):
    """Totals over the group's members; see the module docstring for what each sum includes."""

    model_config = ConfigDict(frozen=True)

    members: int
    deposits: float
    assets_under_management: float
    loans: float
    guarantees_given: float
    guarantees_received: float
    guarantees_internal: float
    products: list[ProductCoverage]


class CustomerGroup(BaseModel):
    """A household or corporate group around ``anchor_id``: members by id, the ties joining them, a rollup."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["household", "corporate_group"]
    anchor_id: str
    members: list[GroupMember]
    ties: list[GroupTie]
    truncated: bool
    """True when the group had more than ``max_members`` members (or a member more ties than are read)."""
    rollup: GroupRollup


# -- groups, on both backends -----------------------------------------------------------------------


def _list_group_members(view: GraphView, params: Mapping[str, Any]) -> Rows:
    members = sorted(set(params["customer_ids"]))
    holdings: dict[str, list[dict[str, Any]]] = {}
    for row in holding_rows(view, members):
        holdings.setdefault(row["customer_id"], []).append(row)
    guarantees = {
        row["customer_id"]: row
        for row in LIST_CUSTOMER_TIES.embedded(
            view,
            {
                "customer_ids": members,
                "types": [TieType.GUARANTEES.value],
                "min_share_ratio": None,
                "limit": params["limit"],
            },
        )
    }
    rows = []
    for member in members:
        key = (NodeLabel.CUSTOMER, member)
        if key not in view:
            continue
        found = guarantees.get(member, {"total": 0, "kept": []})
        rows.append(
            {
                **summary_row(view, key),
                "holdings": holdings.get(member, []),
                "guarantees_total": found["total"],
                "guarantees": found["kept"],
            }
        )
    return rows


LIST_GROUP_MEMBERS = NamedQuery("list_group_members", "queries.cypher", _list_group_members)


def _get_customer_group(view: GraphView, params: Mapping[str, Any]) -> Rows:
    if (NodeLabel.CUSTOMER, params["customer_id"]) not in view:
        return []
    ties_params = {"types": params["types"], "min_share_ratio": params["min_share_ratio"], "limit": params["limit"]}
    members = {params["customer_id"]}
    started: dict[str, list[dict[str, Any]]] = {}
    frontier = [params["customer_id"]]
    while frontier:
        reached = []
        for row in LIST_CUSTOMER_TIES.embedded(view, {**ties_params, "customer_ids": frontier}):
            if row["total"] > params["limit"]:
                return []  # a member the breadth-first search would cut
            member = row["customer_id"]
            started[member] = [
                {key: tie[key] for key in ("type", "source", "target", "properties")}
                for tie in row["kept"]
                if tie["source"] == member
            ]
            for tie in row["kept"]:
                if tie["other"] not in members:
                    members.add(tie["other"])
                    reached.append(tie["other"])
        if len(members) > params["max_members"]:
            return []
        frontier = reached
    rows = _list_group_members(view, {"customer_ids": members, "limit": params["limit"]})
    return [{**row, "ties": started.get(row["customer_id"], [])} for row in rows]


GET_CUSTOMER_GROUP = NamedQuery("get_customer_group", "queries.cypher", _get_customer_group)
"""A whole household or corporate group in one statement, or no rows (see the ``.cypher`` file)."""


def rollup(
    members: list[str],
    holdings: Mapping[str, list[AccountHolding]],
    guarantees: Iterable[tuple[str, str, float]],
) -> tuple[dict[str, tuple[float, float, float]], GroupRollup]:
    """Per-member (deposits, aum, loans) and the group rollup, from members' holdings and guarantee ties."""
    member_set = set(members)
    per_member: dict[str, tuple[float, float, float]] = {}
    group_accounts: dict[str, AccountHolding] = {}
    holders: dict[str, set[str]] = {}
    product_info: dict[str, AccountHolding] = {}
    for member in members:
        counted = [holding for holding in holdings.get(member, []) if counts_towards_holdings(holding)]
        per_member[member] = _totals(counted)
        for holding in counted:
            group_accounts.setdefault(holding.account_id, holding)
            if holding.product_id is not None:
                holders.setdefault(holding.product_id, set()).add(member)
                product_info.setdefault(holding.product_id, holding)
    deposits, aum, loans = _totals(group_accounts.values())
    given, received, internal = [], [], []
    for source, target, amount in guarantees:
        if source in member_set and target in member_set:
            internal.append(amount)
        elif source in member_set:
            given.append(amount)
        elif target in member_set:
            received.append(amount)
    products = [
        ProductCoverage(
            product_id=product_id,
            name=product_info[product_id].product_name,
            category=product_info[product_id].category,
            holders=len(ids),
            share=round(len(ids) / len(members), 4),
        )
        for product_id, ids in sorted(holders.items())
    ]
    return per_member, GroupRollup(
        members=len(members),
        deposits=deposits,
        assets_under_management=aum,
        loans=loans,
        guarantees_given=money(given),
        guarantees_received=money(received),
        guarantees_internal=money(internal),
        products=products,
    )


def _totals(accounts: Iterable[AccountHolding]) -> tuple[float, float, float]:
    accounts = list(accounts)

    def total(categories: frozenset[str]) -> float:
        return money(a.latest_balance or 0.0 for a in accounts if a.category in categories)

    return total(DEPOSIT_CATEGORIES), total(AUM_CATEGORIES), total(LOAN_CATEGORIES)


# -- public questions -------------------------------------------------------------------------------


def _group(
    store: GraphStore,
    kind: Literal["household", "corporate_group"],
    customer_id: str,
    types: list[TieType],
    max_members: int,
    min_share_ratio: float | None = None,
) -> CustomerGroup:
    check_range("max_members", max_members, 1, MAX_GROUP_SIZE)
    params = {"types": [tie_type.value for tie_type in types], "min_share_ratio": min_share_ratio}
    # A whole group (no member cut) in one statement; else, or for a missing customer, the bounded search.
    rows = store.run(
        GET_CUSTOMER_GROUP,
        {**params, "customer_id": customer_id, "limit": TIES_PER_FETCH, "max_members": max_members},
    )
    if rows:
        members = [row["customer_id"] for row in rows]
        tie_properties = {
            (tie["type"], tie["source"], tie["target"]): tie["properties"] for row in rows for tie in row["ties"]
        }
        truncated = False
    else:
        found = traverse(
            store,
            customer_id,
            types,
            max_depth=max_members,  # a component of n members is at most n - 1 ties deep
            limit_per_node=TIES_PER_FETCH,
            max_nodes=max_members,
            min_share_ratio=min_share_ratio,
        )
        members = sorted(found.order)
        tie_properties = found.ties
        truncated = found.truncated or any(count > 0 for count in found.omitted_neighbours.values())
        # One statement for the members' summaries, holdings and guarantees. It includes the anchor, so it tells
        # whether it exists; a missing customer has no ties, so the traversal found nothing else.
        rows = store.run(LIST_GROUP_MEMBERS, {"customer_ids": members, "limit": TIES_PER_FETCH})
    member_set = set(members)
    summaries = {row["customer_id"]: to_summary(row) for row in rows}
    if customer_id not in summaries:
        raise NotFound(f"no customer with id {customer_id!r}")
    holdings = {row["customer_id"]: to_holdings(row["holdings"]) for row in rows}
    guarantees = {
        (tie["source"], tie["target"]): amount_or_zero(tie["properties"].get("amount"))
        for row in rows
        for tie in row["guarantees"]
    }
    truncated = truncated or any(row["guarantees_total"] > len(row["guarantees"]) for row in rows)
    per_member, group_rollup = rollup(
        members, holdings, [(source, target, amount) for (source, target), amount in sorted(guarantees.items())]
    )
    return CustomerGroup(
        kind=kind,
        anchor_id=customer_id,
        members=[
            GroupMember(
                id=member,
                kind=summaries[member].kind,
                name=summaries[member].name,
                segment=summaries[member].segment,
                tier=summaries[member].tier,
                churn_risk=summaries[member].churn_risk,
                deposits=per_member[member][0],
                assets_under_management=per_member[member][1],
                loans=per_member[member][2],
            )
            for member in members
        ],
        ties=[
            GroupTie(type=TieType(tie_type), source=source, target=target, properties=properties)
            for (tie_type, source, target), properties in sorted(tie_properties.items())
            if source in member_set and target in member_set
        ],
        truncated=truncated,
        rollup=group_rollup,
    )


def household(store: GraphStore, customer_id: str, max_members: int = DEFAULT_GROUP_SIZE) -> CustomerGroup:
    """The customers joined to this one by family ties (registry category ``family``), with a rollup."""
    family = [spec.type for spec in store.registry.customer_ties(TieCategory.FAMILY)]
    return _group(store, "household", customer_id, family, max_members)


def corporate_group(
    store: GraphStore,
    customer_id: str,
    control_threshold: float = 0.5,
    max_members: int = DEFAULT_GROUP_SIZE,
) -> CustomerGroup:
    """Customers joined by control: SHAREHOLDER_OF with ratio >= ``control_threshold``, LEGAL_REP_OF, SUBSIDIARY_OF."""
    if isinstance(control_threshold, bool) or not isinstance(control_threshold, int | float):
        raise InvalidRequest("control_threshold must be a number in (0, 1]")
    if not 0.0 < control_threshold <= 1.0:
        raise InvalidRequest(f"control_threshold must be in (0, 1], got {control_threshold}")
    return _group(store, "corporate_group", customer_id, list(CONTROL_TIES), max_members, float(control_threshold))
