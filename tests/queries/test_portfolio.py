"""A manager's book and the list of managers, on both backends, over the hand-made bank."""

from __future__ import annotations

from datetime import date

import pytest

from graph.errors import InvalidRequest, NotFound
from graph.store import GraphStore
from queries.portfolio import list_managers, manager_portfolio
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
