"""Where customers bank, read alike on both backends."""

from __future__ import annotations

from graph.store import GraphStore
from queries.branches import BranchTie, customer_branches
from tests.queries.bank import write_bank


def test_the_branches_customers_bank_at(store: GraphStore) -> None:
    write_bank(store)
    store.write(
        nodes=[],
        ties=[
            {"type": "BANKED_AT", "source": "p1", "target": "b2"},
            {"type": "BANKED_AT", "source": "p1", "target": "b1"},
            {"type": "BANKED_AT", "source": "c1", "target": "b1"},
        ],
    )
    assert customer_branches(store, ["c1", "p1", "p2", "p1", "zz"]) == [
        BranchTie(customer_id="c1", branch_id="b1", branch_name="西湖支行"),
        BranchTie(customer_id="p1", branch_id="b1", branch_name="西湖支行"),
        BranchTie(customer_id="p1", branch_id="b2", branch_name="滨江支行"),
    ]
    assert customer_branches(store, []) == []
