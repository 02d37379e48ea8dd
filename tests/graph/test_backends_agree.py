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
