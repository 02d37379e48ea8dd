"""The analytics give exactly the same answers on both backends."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from graph.embedded import EmbeddedStore
from graph.model import NodeLabel
from graph.neo4j_store import Neo4jStore
from queries.analytics import analyze, churn_risk, cluster, cluster_graph, clusters, cross_sell, prospects
from queries.analytics.fetch import GET_CROSS_SELL_INPUTS
from queries.portfolio import manager_portfolio
from tests.analytics.bank import SETTINGS, TODAY, small_bank

NOW = datetime(2025, 1, 2, tzinfo=UTC)


@pytest.mark.neo4j
def test_analytics_agree_across_backends(embedded_store: EmbeddedStore, neo4j_store: Neo4jStore) -> None:
    answers = []
    for store in (embedded_store, neo4j_store):
        small_bank().write(store)
        report = analyze(store, SETTINGS, now=NOW)
        customers = [record.id for record in store.nodes(NodeLabel.CUSTOMER)]
        managers = [{"label": "Manager", "id": m, "properties": {"name": m}} for m in ("m1", "m2")]
        books = [{"type": "MANAGES", "source": f"m{1 + i % 2}", "target": c} for i, c in enumerate(customers)]
        store.write(nodes=managers, ties=books)
        answers.append(
            {
                "report": report.model_dump(exclude={"seconds"}),
                "cross_sell": {
                    c: [r.model_dump() for r in cross_sell(store, c, settings=SETTINGS, today=TODAY)] for c in customers
                },
                "cross_sell_inputs": {
                    c: store.run(GET_CROSS_SELL_INPUTS, {"customer_id": c}) for c in [*customers, "nobody"]
                },
                "prospects": {
                    p: [r.model_dump() for r in prospects(store, p, settings=SETTINGS, today=TODAY)]
                    for p in ("C501", "W301", "F302", "D101")
                },
                "churn": {c: churn_risk(store, c).model_dump() for c in customers},
                "clusters": [c.model_dump() for c in clusters(store)],
                "clusters_after_the_largest": [c.model_dump() for c in clusters(store, limit=2, skip=1)],
                "cluster": cluster(store, clusters(store)[0].cluster_id).model_dump(),
                "cluster_graph": [cluster_graph(store, c.cluster_id).model_dump() for c in clusters(store)],
                "opportunities": {
                    m: [
                        o.model_dump()
                        for o in manager_portfolio(store, m, TODAY, settings=SETTINGS, opportunities=5).opportunities
                    ]
                    for m in ("m1", "m2")
                },
            }
        )
    embedded, neo4j = answers
    for key in embedded:
        assert embedded[key] == neo4j[key], key
    assert any(embedded["cross_sell"].values())
    inputs = [rows[0] for rows in embedded["cross_sell_inputs"].values() if rows]
    assert any(row["catalogue"] and row["neighbours"] and row["second_hop"] for row in inputs)
    assert any(not row["catalogue"] for row in inputs) and not embedded["cross_sell_inputs"]["nobody"]
    assert all(embedded["opportunities"].values()) and any(graph["ties"] for graph in embedded["cluster_graph"])
