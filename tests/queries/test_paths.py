"""Shortest paths between two customers, on both backends, over the hand-made bank."""

from __future__ import annotations

import pytest

from graph.errors import InvalidRequest, NotFound
from graph.store import GraphStore
from queries.paths import ShortestPaths, shortest_paths
from tests.queries.bank import write_bank


@pytest.fixture
def bank(store: GraphStore) -> GraphStore:
    return write_bank(store)


def _paths(found: ShortestPaths) -> list[tuple[list[str], list[str]]]:
    return [(path.node_ids, [f"{t.type.value} {t.source}>{t.target}" for t in path.ties]) for path in found.paths]


def test_every_shortest_path_in_order_of_ids_then_ties(bank: GraphStore) -> None:
    found = shortest_paths(bank, "p4", "c1")
    assert found.hops == 2
    # p1 and c1 are tied twice (legal representative, shareholder): one path each; p5 comes after p1.
    assert _paths(found) == [
        (["p4", "p1", "c1"], ["SIBLING_OF p1>p4", "LEGAL_REP_OF p1>c1"]),
        (["p4", "p1", "c1"], ["SIBLING_OF p1>p4", "SHAREHOLDER_OF p1>c1"]),
        (["p4", "p5", "c1"], ["GUARANTEES p4>p5", "EMPLOYED_BY p5>c1"]),
    ]
    assert _paths(shortest_paths(bank, "p4", "c1", limit=2)) == _paths(found)[:2]
    backwards = shortest_paths(bank, "c1", "p4")
    assert [path.node_ids for path in backwards.paths] == [["c1", "p1", "p4"], ["c1", "p1", "p4"], ["c1", "p5", "p4"]]


def test_paths_follow_only_the_tie_types_asked_for(bank: GraphStore) -> None:
    found = shortest_paths(bank, "p4", "c1", types=["GUARANTEES", "EMPLOYED_BY"])
    assert _paths(found) == [(["p4", "p5", "c1"], ["GUARANTEES p4>p5", "EMPLOYED_BY p5>c1"])]
    apart = shortest_paths(bank, "p4", "c1", types=["SPOUSE_OF"])
    assert apart.hops is None and apart.paths == []


def test_a_longer_path_through_the_guarantee_circle(bank: GraphStore) -> None:
    found = shortest_paths(bank, "p8", "g1", types=["LEGAL_REP_OF", "GUARANTEES"])
    assert _paths(found) == [
        (["p8", "c2", "g4", "g1"], ["LEGAL_REP_OF p8>c2", "GUARANTEES c2>g4", "GUARANTEES g4>g1"]),
    ]


def test_bad_questions_are_refused(bank: GraphStore) -> None:
    with pytest.raises(InvalidRequest, match="two different customers"):
        shortest_paths(bank, "p1", "p1")
    with pytest.raises(NotFound, match="no customer with id 'zz'"):
        shortest_paths(bank, "p1", "zz")
    with pytest.raises(InvalidRequest, match="limit must be an integer between 1 and 50"):
        shortest_paths(bank, "p1", "p2", limit=0)
    with pytest.raises(InvalidRequest, match="unknown tie type 'OWNS'"):
        shortest_paths(bank, "p1", "p2", types=["OWNS"])
