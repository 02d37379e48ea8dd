"""One graph written to both stores reads back the same from each."""

from __future__ import annotations

import pytest

from graph.embedded import EmbeddedStore
from graph.model import NodeLabel, TieType
from graph.neo4j_store import Neo4jStore
from tests.samples import family_nodes, family_ties, snapshot


@pytest.mark.neo4j
def test_both_backends_hold_the_same_graph(embedded_store: EmbeddedStore, neo4j_store: Neo4jStore) -> None:
    for store in (embedded_store, neo4j_store):
        store.write(family_nodes(), family_ties())
        store.write(ties=[{"type": "SPOUSE_OF", "source": "p1", "target": "p2", "properties": {"n": 2}}])
    assert snapshot(embedded_store) == snapshot(neo4j_store)
    for label, node_id in ((NodeLabel.PERSON, "p1"), (NodeLabel.ACCOUNT, "a1"), (NodeLabel.COMPANY, "c1")):
        assert embedded_store.neighbourhood(label, node_id) == neo4j_store.neighbourhood(label, node_id)
        limited = {"types": [TieType.OWNS, TieType.EMPLOYED_BY], "limit": 1}
        assert embedded_store.neighbourhood(label, node_id, **limited) == neo4j_store.neighbourhood(
            label, node_id, **limited
        )


@pytest.mark.neo4j
def test_listing_in_pages_reads_every_node_and_tie_once(
    embedded_store: EmbeddedStore, neo4j_store: Neo4jStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pages of two: page ends fall inside a label, inside one source's ties, and on an exact page boundary.
    monkeypatch.setattr("graph.neo4j_store.READ_PAGE", 2)
    people = [{"label": "Person", "id": f"q{n}", "properties": {"n": n}} for n in range(7)]
    ties = [
        {"type": "SPOUSE_OF", "source": f"q{n}", "target": f"q{other}", "properties": {"n": n}}
        for n in range(6)
        for other in range(n + 1, min(n + 4, 7))
    ]
    for store in (embedded_store, neo4j_store):
        store.write(people + family_nodes(), ties + family_ties())
    listed = snapshot(neo4j_store)
    assert listed == snapshot(embedded_store)
    assert len(listed["nodes"]["Person"]) == len(people) + sum(node["label"] == "Person" for node in family_nodes())
    assert sum(tie["type"] == "SPOUSE_OF" for tie in listed["ties"]) == len(ties) + 1
