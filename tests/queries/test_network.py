"""The ego network around a customer, on both backends, over the hand-made bank."""

from __future__ import annotations

import pytest

from graph.errors import InvalidRequest, NotFound
from graph.model import TieType
from graph.store import GraphStore
from graph.ties import TieCategory
from queries.network import related_customers
from tests.queries.bank import write_bank


@pytest.fixture
def bank(store: GraphStore) -> GraphStore:
    return write_bank(store)


def _path(network_node: object) -> list[tuple[str, str, bool]]:
    return [(step.tie.value, step.node_id, step.forward) for step in network_node.path]  # type: ignore[attr-defined]


def test_depth_one_reaches_direct_relatives_in_tie_order(bank: GraphStore) -> None:
    network = related_customers(bank, "p1")
    assert [node.id for node in network.nodes] == ["p1", "c1", "p3", "p4", "p2"]
    nodes = {node.id: node for node in network.nodes}
    assert nodes["p1"].depth == 0 and nodes["p1"].path == [] and nodes["p1"].omitted_neighbours == 0
    assert _path(nodes["c1"]) == [("LEGAL_REP_OF", "c1", True)]
    assert _path(nodes["p4"]) == [("SIBLING_OF", "p4", True)]  # stored once, from the smaller id
    assert nodes["c1"].omitted_neighbours is None  # not expanded at depth 1
    assert (nodes["p1"].tier, nodes["p1"].churn_risk, nodes["c1"].kind.value) == ("gold", 0.8, "Company")
    assert [(e.type.value, e.source, e.target) for e in network.edges] == [
        ("LEGAL_REP_OF", "p1", "c1"),
        ("PARENT_OF", "p1", "p3"),
        ("SHAREHOLDER_OF", "p1", "c1"),
        ("SIBLING_OF", "p1", "p4"),
        ("SPOUSE_OF", "p1", "p2"),
    ]
    shareholding = network.edges[2]
    assert shareholding.properties == {"ratio": 0.6}
    assert (shareholding.category, shareholding.weight) == (TieCategory.CORPORATE, 0.6)
    assert not network.truncated


def test_depth_two_follows_directed_ties_both_ways(bank: GraphStore) -> None:
    network = related_customers(bank, "p1", depth=2)
    assert [node.id for node in network.nodes] == ["p1", "c1", "p3", "p4", "p2", "p5", "c2", "g5", "c3", "p7", "p6"]
    nodes = {node.id: node for node in network.nodes}
    assert _path(nodes["g5"]) == [("LEGAL_REP_OF", "c1", True), ("GUARANTEES", "g5", False)]
    assert _path(nodes["p6"]) == [("SPOUSE_OF", "p2", True), ("REFERRED", "p6", True)]
    assert nodes["p6"].depth == 2 and nodes["p6"].omitted_neighbours is None
    assert len(network.edges) == 13
    assert ("GUARANTEES", "p4", "p5") in {(e.type.value, e.source, e.target) for e in network.edges}


def test_types_restrict_the_ties_followed(bank: GraphStore) -> None:
    network = related_customers(bank, "p3", depth=3, types=["PARENT_OF", TieType.SPOUSE_OF])
    assert [node.id for node in network.nodes] == ["p3", "p1", "p2"]
    assert network.types == [TieType.SPOUSE_OF, TieType.PARENT_OF]
    assert _path(network.nodes[2]) == [("PARENT_OF", "p1", False), ("SPOUSE_OF", "p2", True)]


def test_caps_count_what_was_left_out(bank: GraphStore) -> None:
    capped = related_customers(bank, "p1", limit_per_node=2)
    assert [node.id for node in capped.nodes] == ["p1", "c1", "p3"]
    assert capped.nodes[0].omitted_neighbours == 2  # p4 and p2; c1 is kept through its first tie
    assert not capped.truncated
    bounded = related_customers(bank, "p1", depth=2, max_nodes=3)
    assert [node.id for node in bounded.nodes] == ["p1", "c1", "p3"]
    assert bounded.truncated


def test_a_customer_without_ties_is_alone(bank: GraphStore) -> None:
    network = related_customers(bank, "h1", types=["SPOUSE_OF"])
    assert [node.id for node in network.nodes] == ["h1"] and network.edges == []


def test_unknown_customer_is_not_found(bank: GraphStore) -> None:
    with pytest.raises(NotFound, match="no customer with id 'zz'"):
        related_customers(bank, "zz")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"depth": 0}, "depth must be an integer between 1 and 3"),
        ({"depth": 4}, "depth must be an integer between 1 and 3"),
        ({"types": ["OWNS"]}, "unknown tie type 'OWNS'; allowed: SPOUSE_OF"),
        ({"types": ["FRIEND_OF"]}, "unknown tie type 'FRIEND_OF'"),
        ({"limit_per_node": 0}, "limit_per_node must be an integer between 1 and 200"),
        ({"limit_per_node": 201}, "limit_per_node"),
        ({"max_nodes": 5000}, "max_nodes must be an integer between 1 and 2000"),
    ],
)
def test_bad_input_is_refused(bank: GraphStore, arguments: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidRequest, match=message):
        related_customers(bank, "p1", **arguments)  # type: ignore[arg-type]
