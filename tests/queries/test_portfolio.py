"""A manager's book and the list of managers, on both backends, over the hand-made bank."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from graph.errors import InvalidRequest, NotFound
from graph.model import NodeLabel
from graph.settings import AnalyticsSettings
from graph.store import GraphStore
from queries.analytics import analyze
from queries.portfolio import (
    Opportunity,
    best_opportunities,
    list_managers,
    manager_portfolio,
    opportunity_rows,
    stored_opportunities,
    varied,
)
from tests.api.conftest import bank_nodes, bank_ties
from tests.queries.bank import TODAY, write_bank


@pytest.fixture
def bank(store: GraphStore) -> GraphStore:
    return write_bank(store)


def test_managers_with_branch_and_book_size(bank: GraphStore) -> None:
    assert [(m.id, m.name, m.employee_no, m.branch_id, m.branch_name, m.book_size) for m in list_managers(bank)] == [
        ("m1", "赵经理", "E001", "b1", "西湖支行", 4),
        ("m2", "钱经理", "E002", "b2", "滨江支行", 1),
        ("m3", "孙经理", None, None, None, 0),
    ]


def test_portfolio_counts_risks_and_overdue_follow_ups(bank: GraphStore) -> None:
    book = manager_portfolio(bank, "m1", TODAY)
    assert book.manager.id == "m1" and book.customers == 4
    assert book.by_tier == {"gold": 2, "private_banking": 1, "unassigned": 1}
    assert book.by_lifecycle_stage == {"growth": 1, "maturity": 1, "unassigned": 2}
    assert [(c.id, c.churn_risk) for c in book.at_risk] == [("p1", 0.8), ("p2", 0.65)]
    assert book.at_risk_total == 2
    assert [(f.interaction_id, f.customer_id, f.due, f.days_overdue, f.logged_by) for f in book.overdue_follow_ups] == [
        ("i1", "p1", "2024-05-01", 31, "m1"),
        ("i2", "p2", "2024-05-20", 12, "m2"),
    ]
    assert book.overdue_total == 2


def test_portfolio_threshold_top_and_limit(bank: GraphStore) -> None:
    book = manager_portfolio(bank, "m1", TODAY, risk_threshold=0.1, top=2, limit=1)
    assert [c.id for c in book.at_risk] == ["p1", "p2"] and book.at_risk_total == 3
    assert [f.interaction_id for f in book.overdue_follow_ups] == ["i1"] and book.overdue_total == 2
    later = manager_portfolio(bank, "m1", date(2024, 6, 2))
    assert [f.interaction_id for f in later.overdue_follow_ups] == ["i1", "i2", "i4"]


def test_empty_book(bank: GraphStore) -> None:
    book = manager_portfolio(bank, "m3", TODAY)
    assert book.customers == 0 and book.by_tier == {} and book.at_risk == [] and book.overdue_follow_ups == []


def test_unknown_manager_is_not_found(bank: GraphStore) -> None:
    with pytest.raises(NotFound, match="no manager with id 'zz'"):
        manager_portfolio(bank, "zz", TODAY)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"risk_threshold": 1.5}, r"risk_threshold must be in \[0, 1\]"),
        ({"top": 0}, "top must be an integer between 1 and 1000"),
        ({"limit": 1001}, "limit must be an integer between 1 and 1000"),
    ],
)
def test_bad_input_is_refused(bank: GraphStore, arguments: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidRequest, match=message):
        manager_portfolio(bank, "m1", TODAY, **arguments)  # type: ignore[arg-type]


def test_a_customer_who_has_left_is_not_at_risk(bank: GraphStore) -> None:
    left = {"churn_risk": 1.0, "name": "离开了"}
    bank.write(
        nodes=[
            {"label": "Person", "id": "gone1", "properties": {**left, "status": "churned"}},
            {
                "label": "Person",
                "id": "gone2",
                "properties": {**left, "status": "active", "lifecycle_stage": "churned"},
            },
        ],
        ties=[{"type": "MANAGES", "source": "m1", "target": target} for target in ("gone1", "gone2")],
    )
    book = manager_portfolio(bank, "m1", TODAY)
    assert book.customers == 6 and [c.id for c in book.at_risk] == ["p1", "p2"] and book.at_risk_total == 2


def test_at_risk_is_ranked_by_expected_loss(bank: GraphStore) -> None:
    """A wealthy customer a little at risk outranks a small one nearly gone: risk times value decides."""
    bank.write(
        nodes=[
            {"label": "Person", "id": "rich", "properties": {"churn_risk": 0.61, "ltv_current": 900000.0}},
            {"label": "Person", "id": "owing", "properties": {"churn_risk": 0.9, "ltv_current": -5000.0}},
        ],
        ties=[{"type": "MANAGES", "source": "m1", "target": target} for target in ("rich", "owing")],
    )
    book = manager_portfolio(bank, "m1", TODAY)
    assert [(c.id, c.value, c.expected_loss) for c in book.at_risk] == [
        ("rich", 900000.0, 549000.0),
        ("p1", 12345.6, 9876.48),
        ("owing", 0.0, 0.0),  # a negative value loses nothing; riskier than p2, so first among the zeros
        ("p2", 0.0, 0.0),
    ]


def _contact(interaction_id: str, customer_id: str, **properties: object) -> tuple[dict[str, Any], dict[str, Any]]:
    return (
        {"label": "Interaction", "id": interaction_id, "properties": {"channel": "phone", **properties}},
        {"type": "WITH", "source": interaction_id, "target": customer_id},
    )


def test_a_follow_up_stays_open_until_a_later_contact_reaches_the_customer(bank: GraphStore) -> None:
    contacts = [
        # p1's follow-up promised on 04-01 was kept by the call on 04-10 (i1, logged 04-20, is still open).
        _contact("kept", "p1", at="2024-04-01T09:00:00", due="2024-04-05", outcome="follow_up"),
        _contact("call", "p1", at="2024-04-10T09:00:00", outcome="interested"),
        # c1 was tried after the promise but not reached: the follow-up is still owed.
        _contact("owed", "c1", at="2024-03-01T09:00:00", due="2024-03-10", outcome="follow_up"),
        _contact("missed", "c1", at="2024-03-12T09:00:00", outcome="no_contact"),
        # A promise to a customer who has left is owed to nobody.
        _contact("gone", "left", at="2024-03-01T09:00:00", due="2024-03-10"),
    ]
    bank.write(
        nodes=[{"label": "Person", "id": "left", "properties": {"status": "churned"}}, *(n for n, _ in contacts)],
        ties=[{"type": "MANAGES", "source": "m1", "target": "left"}, *(t for _, t in contacts)],
    )
    book = manager_portfolio(bank, "m1", TODAY)
    assert [(f.interaction_id, f.customer_id, f.days_overdue) for f in book.overdue_follow_ups] == [
        ("owed", "c1", 83),
        ("i1", "p1", 31),
        ("i2", "p2", 12),
    ]
    # Logging the contact keeps the promise.
    call, with_p2 = _contact("done", "p2", at="2024-05-25T09:00:00", outcome="interested")
    bank.write(nodes=[call], ties=[with_p2])
    assert [f.interaction_id for f in manager_portfolio(bank, "m1", TODAY).overdue_follow_ups] == ["owed", "i1"]


def _opportunity(customer_id: str, product_id: str, score: float) -> Opportunity:
    return Opportunity(
        customer_id=customer_id, customer_name=None, product_id=product_id, score=score, parts={}, evidence=[]
    )


def test_opportunities_vary_across_products_and_customers() -> None:
    candidates = [
        *(_opportunity(f"c{n}", "card", 0.9 - n / 100) for n in range(8)),
        _opportunity("c0", "fund", 0.85),
        _opportunity("c8", "deposit", 0.5),
        _opportunity("c9", "loan", 0.2),
    ]
    picked = [(o.customer_id, o.product_id) for o in varied(candidates, 5)]
    # c0's card (0.90); then the deposit (0.5) beats the next card (0.89 halved) and c0's fund (0.85 halved);
    # then that card (0.445) and the fund (0.425); a third card (0.88 quartered, 0.22) still beats the loan (0.2).
    assert picked == [("c0", "card"), ("c8", "deposit"), ("c1", "card"), ("c0", "fund"), ("c2", "card")]
    assert varied(candidates, 0) == [] and len(varied(candidates, 50)) == len(candidates)


def test_opportunities_analyze_picked_are_read_as_request_time_scoring_finds_them(store: GraphStore) -> None:
    # The API's bank: analysed by hand, with opportunities in both books.
    store.write(nodes=bank_nodes(), ties=bank_ties())
    settings = AnalyticsSettings()
    scored = {manager: manager_portfolio(store, manager, TODAY, settings=settings) for manager in ("m1", "m2")}
    assert all(book.opportunities for book in scored.values())
    assert stored_opportunities(store, "m1") is None  # not picked by analyze yet: scored per request, as above
    store.write(nodes=opportunity_rows(store, TODAY, settings))
    for manager, book in scored.items():
        assert stored_opportunities(store, manager) == book.opportunities
        assert manager_portfolio(store, manager, TODAY, settings=settings) == book
    # What is stored is what is shown; a customer who withdrew consent since is left out.
    store.write(nodes=[{"label": "Manager", "id": "m1", "properties": {"opportunities": "[]"}}])
    assert manager_portfolio(store, "m1", TODAY, settings=settings).opportunities == []
    withdrawn = scored["m2"].opportunities[0].customer_id
    store.write(nodes=[{"label": "Customer", "id": withdrawn, "properties": {"consent_marketing": False}}])
    shown = manager_portfolio(store, "m2", TODAY, settings=settings).opportunities
    assert shown == [item for item in scored["m2"].opportunities if item.customer_id != withdrawn]
    # Asked for another number than analyze picked: scored now.
    assert manager_portfolio(store, "m2", TODAY, opportunities=3, settings=settings).opportunities == (
        best_opportunities(store, "m2", TODAY, settings, 3)
    )


def test_analyze_picks_every_managers_opportunities(bank: GraphStore) -> None:
    analyze(bank, AnalyticsSettings(as_of=TODAY))
    managers = {record.id: record.properties for record in bank.nodes(NodeLabel.MANAGER)}
    assert sorted(managers) == ["m1", "m2", "m3"]
    assert all(props["opportunities_as_of"] == TODAY.isoformat() for props in managers.values())
    for manager in managers:
        assert stored_opportunities(bank, manager) == best_opportunities(bank, manager, TODAY, AnalyticsSettings(), 10)


def test_the_book_is_read_as_of_the_day_its_data_describe(bank: GraphStore) -> None:
    """Without a configured date the book is read on the latest as-of date analyze stamped on its customers,
    not on the calendar's today: a bank whose data end on 2024-06-01 shows i1 31 days late, not years."""
    bank.write(
        nodes=[
            {"label": "Person", "id": "p1", "properties": {"analytics_as_of": "2024-05-31"}},
            {"label": "Person", "id": "p2", "properties": {"analytics_as_of": "2024-06-01"}},
        ]
    )
    book = manager_portfolio(bank, "m1")
    assert book.as_of == TODAY
    assert [(f.interaction_id, f.days_overdue) for f in book.overdue_follow_ups] == [("i1", 31), ("i2", 12)]
    # A configured date wins over the stamps.
    assert manager_portfolio(bank, "m1", date(2024, 5, 21)).as_of == date(2024, 5, 21)


def test_a_book_never_analysed_is_read_on_the_calendars_today(bank: GraphStore) -> None:
    assert manager_portfolio(bank, "m3").as_of == date.today()
