"""A relationship manager's book: customers by tier and stage, who is at risk, which follow-ups are late.

The best open opportunities are cross-sell recommendations computed at request time over a bounded part of
the book: the ``OPPORTUNITY_POOL`` consenting customers with the highest ``ltv_potential`` (then by id), each
scored by :func:`queries.analytics.crosssell.recommend`, the best ``opportunities`` kept by score, then by
(customer id, product id).

An overdue follow-up is an Interaction WITH one of the manager's customers whose ``due`` date is before
``today`` and that has no ``outcome`` yet, whoever logged it: the customer's manager answers for every
promise made to the customer, even one a colleague logged (``logged_by`` says who did).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from graph.embedded.view import GraphView
from graph.errors import InvalidRequest, NotFound
from graph.model import NodeLabel, TieType
from graph.query import NamedQuery, Rows
from graph.settings import AnalyticsSettings
from graph.store import GraphStore
from queries.analytics import fetch as analytics_fetch
from queries.analytics.crosssell import Catalogue, EvidencePath, recommend
from queries.customers import CustomerSummary, summary_row, to_summary
from queries.network import check_range

UNASSIGNED = "unassigned"
"""The key counting customers that analytics has not given a tier or a stage yet."""
MAX_LIST = 1000
OPPORTUNITY_POOL = 50
"""How many of the book's consenting customers (highest ``ltv_potential`` first) are scored for opportunities."""

# -- results ----------------------------------------------------------------------------------------


class ManagerSummary(BaseModel):
    """A manager with the branch they work at (smallest id when several) and how many customers they manage."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str | None
    employee_no: str | None
    branch_id: str | None
    branch_name: str | None
    book_size: int


class OverdueFollowUp(BaseModel):
    model_config = ConfigDict(frozen=True)

    interaction_id: str
    customer_id: str
    customer_name: str | None
    channel: str | None
    summary: str | None
    at: str | None
    due: str
    days_overdue: int
    logged_by: str | None


class Opportunity(BaseModel):
    """A product to offer one customer of the book: a cross-sell recommendation with its customer."""

    model_config = ConfigDict(frozen=True)

    customer_id: str
    customer_name: str | None
    product_id: str
    score: float
    parts: dict[str, float]
    evidence: list[EvidencePath]


class ManagerPortfolio(BaseModel):
    """The manager's book on ``today``."""

    model_config = ConfigDict(frozen=True)

    manager: ManagerSummary
    today: date
    customers: int
    by_tier: dict[str, int]
    """Customers by tier, ``unassigned`` for those without one; keys sorted."""
    by_lifecycle_stage: dict[str, int]
    risk_threshold: float
    at_risk: list[CustomerSummary]
    """Customers still with the bank (not churned by status or lifecycle stage) with ``churn_risk`` at or above
    ``risk_threshold``, riskiest first (then by id), at most ``top``: one who has left is no longer at risk."""
    at_risk_total: int
    overdue_follow_ups: list[OverdueFollowUp]
    """Oldest due date first, then by interaction id; at most ``limit``."""
    overdue_total: int
    opportunities: list[Opportunity]
    """The best cross-sell recommendations over the book's top ``OPPORTUNITY_POOL`` consenting customers."""


# -- embedded answers -------------------------------------------------------------------------------


def _list_managers(view: GraphView, params: Mapping[str, Any]) -> Rows:
    wanted = params["manager_id"]
    rows = []
    for key in view.keys(NodeLabel.MANAGER):
        if wanted is not None and key[1] != wanted:
            continue
        props = view.props(key)
        branches = sorted(
            (target for _, target, _ in view.out_ties(key, [TieType.WORKS_AT]) if target[0] is NodeLabel.BRANCH),
            key=lambda branch: branch[1],
        )
        branch = branches[0] if branches else None
        book = [target for _, target, _ in view.out_ties(key, [TieType.MANAGES]) if target[0] is NodeLabel.CUSTOMER]
        rows.append(
            {
                "manager_id": key[1],
                "name": props.get("name"),
                "employee_no": props.get("employee_no"),
                "branch_id": branch[1] if branch else None,
                "branch_name": view.props(branch).get("name") if branch else None,
                "book_size": len(book),
            }
        )
    return rows


def _list_managed_customers(view: GraphView, params: Mapping[str, Any]) -> Rows:
    manager = (NodeLabel.MANAGER, params["manager_id"])
    if manager not in view:
        return []
    customers = {target for _, target, _ in view.out_ties(manager, [TieType.MANAGES])}
    return [summary_row(view, key) for key in sorted(customers, key=lambda key: key[1])]


def _list_overdue_follow_ups(view: GraphView, params: Mapping[str, Any]) -> Rows:
    manager = (NodeLabel.MANAGER, params["manager_id"])
    if manager not in view:
        return []
    rows = []
    for _, customer, _ in view.out_ties(manager, [TieType.MANAGES]):
        for _, interaction, _ in view.in_ties(customer, [TieType.WITH]):
            props = view.props(interaction)
            due = props.get("due")
            if not isinstance(due, str) or not due < params["today"] or props.get("outcome") is not None:
                continue
            loggers = [target[1] for _, target, _ in view.out_ties(interaction, [TieType.LOGGED_BY])]
            rows.append(
                {
                    "interaction_id": interaction[1],
                    "customer_id": customer[1],
                    "customer_name": view.props(customer).get("name"),
                    "channel": props.get("channel"),
                    "summary": props.get("summary"),
                    "at": props.get("at"),
                    "due": due,
                    "logged_by": min(loggers) if loggers else None,
                }
            )
    rows.sort(key=lambda row: (row["due"], row["interaction_id"], row["customer_id"]))
    return rows


LIST_MANAGERS = NamedQuery("list_managers", "queries.cypher", _list_managers)
LIST_MANAGED_CUSTOMERS = NamedQuery("list_managed_customers", "queries.cypher", _list_managed_customers)


def _list_opportunity_candidates(view: GraphView, params: Mapping[str, Any]) -> Rows:
    manager = (NodeLabel.MANAGER, params["manager_id"])
    if manager not in view:
        return []
    rows: list[dict[str, Any]] = []
    for _, customer, _ in view.out_ties(manager, [TieType.MANAGES]):
        props = view.props(customer)
        if customer[0] is not NodeLabel.CUSTOMER or props.get("consent_marketing") is not True:
            continue
        potential = props.get("ltv_potential")
        rows.append(
            {
                "customer_id": customer[1],
                "name": props.get("name"),
                "ltv_potential": 0.0 if potential is None else float(potential),
            }
        )
    rows.sort(key=lambda row: (-float(row["ltv_potential"]), str(row["customer_id"])))
    return rows[: params["limit"]]


LIST_OVERDUE_FOLLOW_UPS = NamedQuery("list_overdue_follow_ups", "queries.cypher", _list_overdue_follow_ups)
LIST_OPPORTUNITY_CANDIDATES = NamedQuery("list_opportunity_candidates", "queries.cypher", _list_opportunity_candidates)


# -- shared pure post-processing -------------------------------------------------------------------


def to_manager(row: Mapping[str, Any]) -> ManagerSummary:
    return ManagerSummary(
        id=row["manager_id"],
        name=row["name"],
        employee_no=None if row["employee_no"] is None else str(row["employee_no"]),
        branch_id=row["branch_id"],
        branch_name=row["branch_name"],
        book_size=row["book_size"],
    )


def to_follow_up(row: Mapping[str, Any], today: date) -> OverdueFollowUp:
    return OverdueFollowUp(
        interaction_id=row["interaction_id"],
        customer_id=row["customer_id"],
        customer_name=row["customer_name"],
        channel=row["channel"],
        summary=row["summary"],
        at=row["at"],
        due=row["due"],
        days_overdue=(today - date.fromisoformat(row["due"][:10])).days,
        logged_by=row["logged_by"],
    )


CHURNED = "churned"
"""The status (and lifecycle stage) of a customer who has left the bank."""


def summarise_book(
    customers: list[CustomerSummary], risk_threshold: float, top: int
) -> tuple[dict[str, int], dict[str, int], list[CustomerSummary], int]:
    """Counts by tier and by stage, the ``top`` riskiest customers still with the bank at or above the threshold,
    and how many are."""
    by_tier = Counter(customer.tier or UNASSIGNED for customer in customers)
    by_stage = Counter(customer.lifecycle_stage or UNASSIGNED for customer in customers)
    at_risk = [
        c
        for c in customers
        if c.churn_risk is not None and c.churn_risk >= risk_threshold and CHURNED not in (c.status, c.lifecycle_stage)
    ]
    at_risk.sort(key=lambda customer: (-(customer.churn_risk or 0.0), customer.id))
    return dict(sorted(by_tier.items())), dict(sorted(by_stage.items())), at_risk[:top], len(at_risk)


def best_opportunities(
    store: GraphStore,
    manager_id: str,
    today: date,
    settings: AnalyticsSettings,
    top: int,
    pool: int = OPPORTUNITY_POOL,
) -> list[Opportunity]:
    """The ``top`` cross-sell recommendations over the ``pool`` most promising consenting customers of the book."""
    candidates = store.run(LIST_OPPORTUNITY_CANDIDATES, {"manager_id": manager_id, "limit": pool})
    if not candidates:
        return []
    catalogue = Catalogue.from_rows(store.run(analytics_fetch.LIST_PRODUCTS))
    found = [
        Opportunity(
            customer_id=row["customer_id"],
            customer_name=row["name"],
            product_id=item.product_id,
            score=item.score,
            parts=item.parts,
            evidence=item.evidence,
        )
        for row in candidates
        for item in recommend(store, row["customer_id"], settings, today, catalogue=catalogue)[:top]
    ]
    found.sort(key=lambda item: (-item.score, item.customer_id, item.product_id))
    return found[:top]


# -- public questions -------------------------------------------------------------------------------


def list_managers(store: GraphStore) -> list[ManagerSummary]:
    """Every manager, by id, with branch and book size."""
    return [to_manager(row) for row in store.run(LIST_MANAGERS, {"manager_id": None})]


def manager_portfolio(
    store: GraphStore,
    manager_id: str,
    today: date,
    risk_threshold: float = 0.6,
    top: int = 10,
    limit: int = 100,
    opportunities: int = 10,
    *,
    settings: AnalyticsSettings | None = None,
) -> ManagerPortfolio:
    """The manager's customers by tier and stage, the ``top`` most at risk, overdue follow-ups, and the best
    ``opportunities`` (cross-sell recommendations; see the module docstring)."""
    if isinstance(risk_threshold, bool) or not isinstance(risk_threshold, int | float):
        raise InvalidRequest("risk_threshold must be a number in [0, 1]")
    if not 0.0 <= risk_threshold <= 1.0:
        raise InvalidRequest(f"risk_threshold must be in [0, 1], got {risk_threshold}")
    check_range("top", top, 1, MAX_LIST)
    check_range("limit", limit, 1, MAX_LIST)
    check_range("opportunities", opportunities, 0, 100)
    if not isinstance(today, date):
        raise InvalidRequest("today must be a date")
    if isinstance(today, datetime):
        today = today.date()
    managers = store.run(LIST_MANAGERS, {"manager_id": manager_id})
    if not managers:
        raise NotFound(f"no manager with id {manager_id!r}")
    customers = [to_summary(row) for row in store.run(LIST_MANAGED_CUSTOMERS, {"manager_id": manager_id})]
    by_tier, by_stage, at_risk, at_risk_total = summarise_book(customers, float(risk_threshold), top)
    overdue = store.run(LIST_OVERDUE_FOLLOW_UPS, {"manager_id": manager_id, "today": today.isoformat()})
    return ManagerPortfolio(
        manager=to_manager(managers[0]),
        today=today,
        customers=len(customers),
        by_tier=by_tier,
        by_lifecycle_stage=by_stage,
        risk_threshold=float(risk_threshold),
        at_risk=at_risk,
        at_risk_total=at_risk_total,
        overdue_follow_ups=[to_follow_up(row, today) for row in overdue[:limit]],
        overdue_total=len(overdue),
        opportunities=best_opportunities(store, manager_id, today, settings or AnalyticsSettings(), opportunities)
        if opportunities
        else [],
    )
