"""Product names, read alike on both backends."""

from __future__ import annotations

from graph.store import GraphStore
from queries.accounts import product_names
from tests.queries.bank import write_bank


def test_product_names_in_one_query(store: GraphStore) -> None:
    write_bank(store)
    store.write(nodes=[{"label": "Product", "id": "NONAME", "properties": {"category": "deposit", "holders": 3}}])
    assert product_names(store, ["WM01", "zz", "TD01", "WM01", "NONAME"]) == {
        "WM01": "稳健理财",
        "zz": None,
        "TD01": "定期存款",
        "NONAME": None,
    }
    assert list(product_names(store, ["WM01", "zz", "TD01"])) == ["WM01", "zz", "TD01"]
    assert product_names(store, []) == {}
