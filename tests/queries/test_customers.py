"""The customer 360 view and customer search, on both backends, over the hand-made bank."""

from __future__ import annotations

import pytest

from graph.errors import InvalidRequest, NotFound
from graph.model import NodeLabel
from graph.store import GraphStore
from queries.customers import customer_360, search_customers
from tests.queries.bank import write_bank


@pytest.fixture
def bank(store: GraphStore) -> GraphStore:
    return write_bank(store)


def test_customer_360_gathers_accounts_products_manager_and_ties(bank: GraphStore) -> None:
    view = customer_360(bank, "p1")
    assert view.kind is NodeLabel.PERSON
    assert view.properties["name"] == "王伟"
    assert view.properties["phone_masked"] == "137****0001"
    assert "id" not in view.properties
    assert view.manager is not None and (view.manager.id, view.manager.name) == ("m1", "赵经理")
    assert [(a.account_id, a.role, a.status, a.latest_balance, a.product_id, a.category) for a in view.accounts] == [
        ("a1", "owner", "open", 1200.1, "TD01", "deposit"),
        ("a2", "owner", "open", 5000.33, "WM01", "investment"),
        ("a3", "owner", "closed", 0.0, "TD01", "deposit"),
    ]
    assert [(p.product_id, p.category, p.accounts) for p in view.products] == [
        ("TD01", "deposit", 1),
        ("WM01", "investment", 1),
    ]
    assert (view.tier, view.lifecycle_stage, view.churn_risk, view.ltv_current) == ("gold", "maturity", 0.8, 12345.6)
    assert view.ltv_historical is None and view.ltv_potential is None
    assert view.tie_counts == {"LEGAL_REP_OF": 1, "PARENT_OF": 1, "SHAREHOLDER_OF": 1, "SIBLING_OF": 1, "SPOUSE_OF": 1}


def test_customer_360_of_a_bare_customer_has_empty_parts(bank: GraphStore) -> None:
    view = customer_360(bank, "p7")
    assert view.manager is None and view.accounts == [] and view.products == []
    assert view.tier is None and view.churn_risk is None
    assert view.tie_counts == {"SHAREHOLDER_OF": 1}


def test_customer_360_counts_both_directions(bank: GraphStore) -> None:
    assert customer_360(bank, "c1").tie_counts == {
        "EMPLOYED_BY": 1,
        "GUARANTEES": 2,
        "LEGAL_REP_OF": 1,
        "SHAREHOLDER_OF": 3,
        "SUBSIDIARY_OF": 1,
    }


def test_search_by_name_id_and_phone_tail(bank: GraphStore) -> None:
    assert [c.id for c in search_customers(bank, "王")] == ["p1", "p3", "p4"]
    assert [c.id for c in search_customers(bank, "王", limit=2)] == ["p1", "p3"]
    assert [c.id for c in search_customers(bank, " c1 ")] == ["c1"]
    assert [c.id for c in search_customers(bank, "5678")] == ["p2"]
    assert search_customers(bank, "nobody") == []
    found = search_customers(bank, "云帆")
    assert [(c.id, c.kind, c.tier) for c in found] == [
        ("c1", NodeLabel.COMPANY, "private_banking"),
        ("c2", NodeLabel.COMPANY, None),
    ]


def test_unknown_customer_is_not_found(bank: GraphStore) -> None:
    with pytest.raises(NotFound, match="no customer with id 'zz'"):
        customer_360(bank, "zz")


@pytest.mark.parametrize(("q", "limit"), [("", 10), ("   ", 10), ("x" * 101, 10), ("王", 0), ("王", 101)])
def test_search_refuses_bad_input(bank: GraphStore, q: str, limit: int) -> None:
    with pytest.raises(InvalidRequest):
        search_customers(bank, q, limit)


def test_a_360_in_a_managers_book_is_found_only_for_his_customers(bank: GraphStore) -> None:
    """The book check inside the 360's statement: m1 looks after p1, p2, c1 and p6, m2 after g1, nobody after p3."""
    assert customer_360(bank, "p1", in_book_of="m1") == customer_360(bank, "p1")
    assert customer_360(bank, "g1", in_book_of="m2").id == "g1"
    for customer, manager in (("p1", "m2"), ("g1", "m1"), ("p3", "m1"), ("p1", "nobody"), ("zz", "m1")):
        with pytest.raises(NotFound):
            customer_360(bank, customer, in_book_of=manager)
