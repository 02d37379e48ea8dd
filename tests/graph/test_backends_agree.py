"""One graph written to both stores reads back the same from each; a generated bank loads alike into both."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph.embedded import EmbeddedStore
from graph.model import NodeLabel, TieType
from graph.neo4j_store import Neo4jStore
from graph.settings import Settings
from loaders.generator import generate
from loaders.load import load_mapping
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
    monkeypatch.setattr("graph.neo4j_store.ID_PAGE", 2)
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
    for label in NodeLabel:
        assert neo4j_store.node_ids(label) == embedded_store.node_ids(label)
    customers = sum(node["label"] in ("Person", "Company") for node in family_nodes())
    assert len(neo4j_store.node_ids(NodeLabel.CUSTOMER)) == len(people) + customers


@pytest.mark.neo4j
@pytest.mark.slow
def test_a_generated_bank_loads_alike_and_reloads_unchanged(
    embedded_store: EmbeddedStore, neo4j_store: Neo4jStore, tmp_path: Path
) -> None:
    generate(150, 11, tmp_path / "bank")
    mapping = tmp_path / "bank" / "mapping.yaml"
    settings = Settings(review_path=tmp_path / "review.json")
    for store in (embedded_store, neo4j_store):
        load_mapping(store, mapping, tmp_path / f"first-{store.backend.value}", settings=settings)
    assert snapshot(neo4j_store) == snapshot(embedded_store)
    again = load_mapping(neo4j_store, mapping, tmp_path / "again", settings=settings)
    for source in again.sources:
        written = source.nodes_written + source.ties_written
        assert (source.new, source.updated, source.unchanged) == (0, 0, written), source.name
    assert snapshot(neo4j_store) == snapshot(embedded_store)
