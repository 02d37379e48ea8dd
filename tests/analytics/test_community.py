"""Referral clusters (stable ids) and PageRank."""

from __future__ import annotations

import networkx as nx
import pytest

from graph.errors import NotFound
from graph.model import NodeLabel
from graph.store import GraphStore
from graph.ties import TieRegistry
from queries.analytics import analyze, cluster, clusters
from queries.analytics.churn import DirectedTies
from queries.analytics.community import pagerank, stable_cluster_ids
from queries.analytics.frames import read_frames
from tests.analytics.bank import AS_OF, SETTINGS, small_bank


def _cluster_ids(store: GraphStore) -> dict[str, str | None]:
    return {record.id: record.properties.get("cluster_id") for record in store.nodes(NodeLabel.CUSTOMER)}


def test_clusters_stay_stable_across_a_rerun_with_a_small_change(store: GraphStore) -> None:
    small_bank().write(store)
    analyze(store, SETTINGS)
    before = _cluster_ids(store)
    referral = {before[f"r{number:02d}"] for number in range(1, 9)}
    assert len(referral) == 1 and None not in referral
    assert before["t1"] is None  # no referral or family tie
    store.write(
        nodes=[{"label": "Person", "id": "r09", "properties": {"status": "active", "consent_marketing": True}}],
        ties=[{"type": "REFERRED", "source": "r05", "target": "r09"}],
    )
    analyze(store, SETTINGS)
    after = _cluster_ids(store)
    assert {customer: after[customer] for customer in before} == before
    assert after["r09"] == before["r01"]


def test_stable_ids_match_by_overlap_or_are_new() -> None:
    previous = ["K000001", "K000001", "K000001", "K000002", "K000002", None]
    ids = stable_cluster_ids([[0, 1, 2, 5], [3], [4]], previous, 0.5)
    assert ids[0] == "K000001"
    assert ids[1] == "K000002" or ids[2] == "K000002"
    assert "K000003" in ids


def test_cluster_summary(store: GraphStore) -> None:
    small_bank().write(store)
    analyze(store, SETTINGS)
    cluster_id = store.get_node(NodeLabel.CUSTOMER, "r01").properties["cluster_id"]  # type: ignore[union-attr]
    summary = cluster(store, cluster_id)
    assert summary.size == 8
    assert summary.total_aum == sum(10_000 * number for number in range(1, 9))
    assert summary.central_members[0] == "r01"
    assert summary.product_penetration == {"D101": 1.0}
    assert summary.referrals_per_member == pytest.approx(7 / 8)
    assert summary.referred_active_share == 1.0
    assert cluster_id in {item.cluster_id for item in clusters(store)}


def test_pagerank_is_written_and_agrees_with_networkx(store: GraphStore) -> None:
    small_bank().write(store)
    analyze(store, SETTINGS)
    written = {record.id: record.properties["pagerank"] for record in store.nodes(NodeLabel.CUSTOMER)}
    assert sum(written.values()) == pytest.approx(1.0, abs=1e-6)
    assert written["r01"] == max(written[f"r{number:02d}"] for number in range(1, 9))

    frames = read_frames(store, AS_OF)
    graph = nx.DiGraph()
    graph.add_nodes_from(range(frames.size))
    weights = TieRegistry().weights()
    for source, target, tie_type in zip(frames.tie_source, frames.tie_target, frames.tie_type, strict=True):
        for a, b in ((source, target), (target, source)):
            previous = graph.get_edge_data(int(a), int(b), {"weight": 0.0})["weight"]
            graph.add_edge(int(a), int(b), weight=previous + weights[str(tie_type)])
    expected = nx.pagerank(graph, alpha=0.85, weight="weight", tol=1e-10, max_iter=1000)
    ours = pagerank(frames, 0.85)
    for number in range(frames.size):
        assert ours[number] == pytest.approx(expected[number], abs=1e-8)

    # The snapshots' PageRank (shared ties, computed once) is the same ranking, feature and written value.
    shared = DirectedTies.from_frames(frames.cut(frames.months - 1))
    assert shared.pagerank(frames.size, 0.85) is shared.pagerank(frames.size, 0.85)
    assert shared.pagerank(frames.size, 0.85).tolist() == ours.tolist()
    assert [written[customer_id] for customer_id in frames.ids] == pytest.approx(ours.tolist(), abs=1e-12)


def test_analyze_writes_one_cluster_node_per_cluster_and_deletes_clusters_gone(store: GraphStore) -> None:
    small_bank().write(store)
    store.write(nodes=[{"label": "Cluster", "id": "K999999", "properties": {"rank": 1, "size": 99}}])
    report = analyze(store, SETTINGS)
    written = {record.id: record.properties for record in store.nodes(NodeLabel.CLUSTER)}
    carried = {cluster_id for cluster_id in _cluster_ids(store).values() if cluster_id is not None}
    assert set(written) == carried and len(written) == report.clusters
    assert sorted(props["rank"] for props in written.values()) == list(range(1, report.clusters + 1))
    listed = clusters(store)
    assert [summary.size for summary in listed] == sorted((summary.size for summary in listed), reverse=True)
    assert [summary.cluster_id for summary in clusters(store, limit=1)] == [listed[0].cluster_id]
    assert len(listed) >= 3
    assert clusters(store, limit=2, skip=1) == listed[1:3]
    assert clusters(store, limit=5, skip=len(listed)) == []
    with pytest.raises(NotFound):
        cluster(store, "K999999")
