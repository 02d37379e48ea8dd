"""A manager's book, asked of many customers at once, read alike on both backends."""

from __future__ import annotations

from graph.store import GraphStore
from queries.book import managed_among
from tests.queries.bank import write_bank


def test_the_customers_a_manager_manages_among_many(store: GraphStore) -> None:
    write_bank(store)
    asked = ["p1", "p2", "p3", "c1", "g1", "zz", "p1", "m1"]
    assert managed_among(store, "m1", asked) == {"p1", "p2", "c1"}
    assert managed_among(store, "m2", asked) == {"g1"}
    assert managed_among(store, "zz", asked) == set()
    assert managed_among(store, "m1", []) == set()
