"""A relationship manager's book: customers by tier and stage, who is at risk, which follow-ups are late.

At risk are the customers still with the bank whose churn risk reaches the threshold, ranked by expected
loss: churn risk times current lifetime value (``ltv_current``; 0 when unknown or negative). A small account
about to leave matters less than a large one that might.

The best open opportunities are cross-sell recommendations computed at request time over a bounded part of
the book: the ``OPPORTUNITY_POOL`` consenting customers with the highest ``ltv_potential`` (then by id), each
scored by :func:`queries.analytics.crosssell.recommend`. They are picked one by one by score, each earlier
pick of the same product or the same customer multiplying the score it competes with by ``DIVERSITY_DECAY``:
ten calls about one product to ten customers, or ten products to one customer, is not a day's plan.
Scoring the pool is most of a portfolio's cost, so ``crm-graph analyze`` picks each manager's
``STORED_OPPORTUNITIES`` best as of its analysis date (scoring from the arrays it holds, with the same results:
:mod:`queries.analytics.array_recommendations`) and keeps them on the Manager node
(``opportunities``, JSON; ``opportunities_as_of``); a portfolio reads them, leaving out customers who have
since withdrawn their consent. A manager analyze did not pick for (an older version) is scored at request time.

"Today" is the book's as-of date (:mod:`queries.as_of`): the day the data describe, not the calendar's.

An overdue follow-up is an Interaction WITH one of the manager's customers whose ``due`` date is before
the as-of date, whose outcome is unknown or ``follow_up``, and after which no contact reached the customer (a
later interaction whose outcome is not ``no_contact``): logging the contact keeps the promise. The customer's
manager answers for every promise made to the customer, even one a colleague logged (``logged_by`` says who
did); a customer who has left is owed none.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, TypeAdapter

from graph.embedded.view import GraphView
from graph.errors import InvalidRequest, NotFound
from graph.model import NodeLabel, TieType
from graph.query import NamedQuery, Rows
from graph.settings import AnalyticsSettings
from graph.store import GraphStore
from queries.analytics.crosssell import EvidencePath, Recommendation, recommend_each
from queries.as_of import as_of_date
from queries.customers import CustomerSummary, summary_row, to_summary
from queries.network import check_range

UNASSIGNED = "unassigned"
"""The key counting customers that analytics has not given a tier or a stage yet."""
MAX_LIST = 1000
STORED_OPPORTUNITIES = 10
"""Opportunities analyze keeps per manager: what a portfolio shows by default."""
OPPORTUNITY_POOL = 50
"""How many of the book's consenting customers (highest ``ltv_potential`` first) are scored for opportunities."""
DIVERSITY_DECAY = 0.5
"""What each earlier pick of the same product, or of the same customer, multiplies an opportunity's rank score by."""
FOLLOW_UP_OUTCOME = "follow_up"
"""The outcome of a contact that promised another: a follow-up with this outcome (or none) is still open."""
UNREACHED_OUTCOME = "no_contact"
"""The outcome of a contact attempt that did not reach the customer: it keeps no promise."""

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


class AtRiskCustomer(CustomerSummary):
    """A customer still with the bank whose churn risk reaches the threshold, with what leaving would cost."""

    value: float
    """Current lifetime value (``ltv_current``), 0 when not analysed yet or negative."""
    expected_loss: float
    """``churn_risk`` times ``value``: what the bank expects to lose with this customer."""


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
    """The manager's book as of ``as_of`` (see the module docstring)."""

    model_config = ConfigDict(frozen=True)

    manager: ManagerSummary
    as_of: date
    customers: int
    by_tier: dict[str, int]
    """Customers by tier, ``unassigned`` for those without one; keys sorted."""
    by_lifecycle_stage: dict[str, int]
    risk_threshold: float
    at_risk: list[AtRiskCustomer]
    """Customers still with the bank (not churned by status or lifecycle stage) with ``churn_risk`` at or above
    ``risk_threshold``, largest expected loss first (then riskiest, then by id), at most ``top``: one who has
    left is no longer at risk."""
    at_risk_total: int
    overdue_follow_ups: list[OverdueFollowUp]
    """Oldest due date first, then by interaction id; at most ``limit``."""
    overdue_total: int
    opportunities: list[Opportunity]
    """The best cross-sell recommendations over the book's top ``OPPORTUNITY_POOL`` consenting customers, varied
    across products and customers (see the module docstring)."""


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
    return [
        {
            **summary_row(view, key),
            "ltv_current": view.props(key).get("ltv_current"),
            "analytics_as_of": view.props(key).get("analytics_as_of"),
        }
        for key in sorted(customers, key=lambda key: key[1])
    ]


def _list_overdue_follow_ups(view: GraphView, params: Mapping[str, Any]) -> Rows:
    manager = (NodeLabel.MANAGER, params["manager_id"])
    if manager not in view:
        return []
    rows = []
    for _, customer, _ in view.out_ties(manager, [TieType.MANAGES]):
        customer_props = view.props(customer)
        if params["churned"] in (customer_props.get("status"), customer_props.get("lifecycle_stage")):
            continue
        contacts = [
            (interaction, view.props(interaction)) for _, interaction, _ in view.in_ties(customer, [TieType.WITH])
        ]
        reached = [
            props["at"]
            for _, props in contacts
            if isinstance(props.get("at"), str) and props.get("outcome") != params["unreached_outcome"]
        ]
        for interaction, props in contacts:
            due, at = props.get("due"), props.get("at")
            if not isinstance(due, str) or not due < params["today"]:
                continue
            outcome = props.get("outcome")
            if outcome is not None and outcome != params["follow_up_outcome"]:
                continue
            if isinstance(at, str) and any(later > at for later in reached):
                continue
            loggers = [target[1] for _, target, _ in view.out_ties(interaction, [TieType.LOGGED_BY])]
            rows.append(
                {
                    "interaction_id": interaction[1],
                    "customer_id": customer[1],
                    "customer_name": customer_props.get("name"),
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


def to_at_risk(customer: CustomerSummary, ltv_current: Any) -> AtRiskCustomer:
    value = max(float(ltv_current), 0.0) if isinstance(ltv_current, int | float) else 0.0
    return AtRiskCustomer(
        **customer.model_dump(), value=value, expected_loss=round((customer.churn_risk or 0.0) * value, 2)
    )


def summarise_book(
    rows: Sequence[Mapping[str, Any]], risk_threshold: float, top: int
) -> tuple[int, dict[str, int], dict[str, int], list[AtRiskCustomer], int]:
    """How many customers, counts by tier and by stage, the ``top`` customers still with the bank at or above
    the threshold by expected loss, and how many are at or above it."""
    customers = [(to_summary(row), row.get("ltv_current")) for row in rows]
    by_tier = Counter(customer.tier or UNASSIGNED for customer, _ in customers)
    by_stage = Counter(customer.lifecycle_stage or UNASSIGNED for customer, _ in customers)
    at_risk = [
        to_at_risk(customer, value)
        for customer, value in customers
        if customer.churn_risk is not None
        and customer.churn_risk >= risk_threshold
        and CHURNED not in (customer.status, customer.lifecycle_stage)
    ]
    at_risk.sort(key=lambda customer: (-customer.expected_loss, -(customer.churn_risk or 0.0), customer.id))
    return len(customers), dict(sorted(by_tier.items())), dict(sorted(by_stage.items())), at_risk[:top], len(at_risk)


def varied(candidates: list[Opportunity], top: int, decay: float = DIVERSITY_DECAY) -> list[Opportunity]:
    """The ``top`` candidates picked one at a time by score, each earlier pick of the same product or customer
    multiplying a candidate's score by ``decay`` (ties by customer id, then product id)."""
    products: Counter[str] = Counter()
    customers: Counter[str] = Counter()
    left = list(candidates)
    chosen: list[Opportunity] = []
    while left and len(chosen) < top:
        best = min(
            left,
            key=lambda item: (
                -item.score * decay ** (products[item.product_id] + customers[item.customer_id]),
                item.customer_id,
                item.product_id,
            ),
        )
        left.remove(best)
        chosen.append(best)
        products[best.product_id] += 1
        customers[best.customer_id] += 1
    return chosen


Recommender = Callable[[str], list[Recommendation]]
"""Every recommendation for one customer id, ranked (what :func:`~queries.analytics.crosssell.recommend` gives)."""


def best_opportunities(
    store: GraphStore,
    manager_id: str,
    today: date,
    settings: AnalyticsSettings,
    top: int,
    pool: int = OPPORTUNITY_POOL,
    *,
    recommender: Recommender | None = None,
) -> list[Opportunity]:
    """The ``top`` cross-sell recommendations over the ``pool`` most promising consenting customers of the book,
    varied across products and customers; ``recommender`` answers as ``recommend`` does (analyze passes one
    working from its arrays)."""
    candidates = store.run(LIST_OPPORTUNITY_CANDIDATES, {"manager_id": manager_id, "limit": pool})
    if not candidates:
        return []
    if recommender is None:
        recommender = recommend_each(store, [row["customer_id"] for row in candidates], settings, today).__getitem__
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
        for item in recommender(row["customer_id"])[:top]
    ]
    return varied(found, top)


_OPPORTUNITY_LIST = TypeAdapter(list[Opportunity])


def opportunity_rows(
    store: GraphStore, as_of: date, settings: AnalyticsSettings, recommender: Recommender | None = None
) -> list[dict[str, Any]]:
    """Manager node rows with each manager's best ``STORED_OPPORTUNITIES`` on ``as_of`` (what analyze writes
    once the customers' scores are in the store)."""
    return [
        {
            "label": NodeLabel.MANAGER,
            "id": manager.id,
            "properties": {
                "opportunities": _OPPORTUNITY_LIST.dump_json(
                    best_opportunities(
                        store, manager.id, as_of, settings, STORED_OPPORTUNITIES, recommender=recommender
                    )
                ).decode(),
                "opportunities_as_of": as_of.isoformat(),
            },
        }
        for manager in list_managers(store)
    ]


def stored_opportunities(store: GraphStore, manager_id: str) -> list[Opportunity] | None:
    """The manager's opportunities as analyze picked them, less those whose customer has withdrawn consent (or
    is gone) since; None when analyze picked none for this manager."""
    record = store.get_node(NodeLabel.MANAGER, manager_id)
    text = None if record is None else record.properties.get("opportunities")
    if not isinstance(text, str):
        return None
    found = _OPPORTUNITY_LIST.validate_json(text)
    customers = {item.customer_id: store.get_node(NodeLabel.CUSTOMER, item.customer_id) for item in found}
    return [
        item
        for item in found
        if (customer := customers[item.customer_id]) is not None
        and customer.properties.get("consent_marketing") is True
    ]


# -- public questions -------------------------------------------------------------------------------


def list_managers(store: GraphStore) -> list[ManagerSummary]:
    """Every manager, by id, with branch and book size."""
    return [to_manager(row) for row in store.run(LIST_MANAGERS, {"manager_id": None})]


def manager_portfolio(
    store: GraphStore,
    manager_id: str,
    as_of: date | None = None,
    risk_threshold: float = 0.6,
    top: int = 10,
    limit: int = 100,
    opportunities: int = 10,
    *,
    settings: AnalyticsSettings | None = None,
) -> ManagerPortfolio:
    """The manager's customers by tier and stage, the ``top`` most at risk, overdue follow-ups, and the best
    ``opportunities`` (cross-sell recommendations; see the module docstring), on the configured ``as_of`` when
    given, else on the as-of date analyze stamped on the book (:func:`queries.as_of.as_of_date`)."""
    if isinstance(risk_threshold, bool) or not isinstance(risk_threshold, int | float):
        raise InvalidRequest("risk_threshold must be a number in [0, 1]")
    if not 0.0 <= risk_threshold <= 1.0:
        raise InvalidRequest(f"risk_threshold must be in [0, 1], got {risk_threshold}")
    check_range("top", top, 1, MAX_LIST)
    check_range("limit", limit, 1, MAX_LIST)
    check_range("opportunities", opportunities, 0, 100)
    if as_of is not None and not isinstance(as_of, date):
        raise InvalidRequest("as_of must be a date")
    if isinstance(as_of, datetime):
        as_of = as_of.date()
    managers = store.run(LIST_MANAGERS, {"manager_id": manager_id})
    if not managers:
        raise NotFound(f"no manager with id {manager_id!r}")
    book = store.run(LIST_MANAGED_CUSTOMERS, {"manager_id": manager_id})
    today = as_of_date(as_of, (row["analytics_as_of"] for row in book))
    customers, by_tier, by_stage, at_risk, at_risk_total = summarise_book(book, float(risk_threshold), top)
    overdue = store.run(
        LIST_OVERDUE_FOLLOW_UPS,
        {
            "manager_id": manager_id,
            "today": today.isoformat(),
            "follow_up_outcome": FOLLOW_UP_OUTCOME,
            "unreached_outcome": UNREACHED_OUTCOME,
            "churned": CHURNED,
        },
    )
    return ManagerPortfolio(
        manager=to_manager(managers[0]),
        as_of=today,
        customers=customers,
        by_tier=by_tier,
        by_lifecycle_stage=by_stage,
        risk_threshold=float(risk_threshold),
        at_risk=at_risk,
        at_risk_total=at_risk_total,
        overdue_follow_ups=[to_follow_up(row, today) for row in overdue[:limit]],
        overdue_total=len(overdue),
        opportunities=_opportunities(store, manager_id, today, settings or AnalyticsSettings(), opportunities),
    )


def _opportunities(
    store: GraphStore, manager_id: str, today: date, settings: AnalyticsSettings, top: int
) -> list[Opportunity]:
    """The stored opportunities when analyze picked as many as asked for, else scored now."""
    if not top:
        return []
    stored = stored_opportunities(store, manager_id) if top == STORED_OPPORTUNITIES else None
    return stored if stored is not None else best_opportunities(store, manager_id, today, settings, top)
