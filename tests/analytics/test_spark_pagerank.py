"""PageRank on Spark (customers numbered for its steps) gives every customer networkx's rank, ties-less ones too."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

SPARK_MASTER, SPARK_MEMORY, SPARK_PARTITIONS = "local[2]", "1g", 3


def test_ranks_by_id_are_those_of_networkx() -> None:
    from queries.analytics.spark.frames import both_ways
    from queries.analytics.spark.network import pagerank
    from queries.analytics.spark.session import spark_session

    rng = np.random.default_rng(12)
    ids = [f"C{index:04d}" for index in rng.permutation(90)]  # ids in no order of their numbers
    ties = [
        (ids[a], ids[b], "SPOUSE_OF" if a % 3 else "REFERRED", float(weight))
        for (a, b), weight in zip(rng.integers(0, 70, (160, 2)), rng.choice([0.0, 0.5, 1.0, 2.0], 160), strict=True)
        if a != b
    ]  # the last 20 customers have no ties; ties of weight 0 pass nothing
    graph = nx.DiGraph()
    graph.add_nodes_from(ids)
    for source, target, _, weight in ties:
        for a, b in ((source, target), (target, source)):
            graph.add_edge(a, b, weight=graph.get_edge_data(a, b, {"weight": 0.0})["weight"] + weight)
    expected = nx.pagerank(graph, alpha=0.85, weight="weight", tol=1e-10, max_iter=1000)
    session = spark_session(SPARK_MASTER, SPARK_MEMORY, SPARK_PARTITIONS)
    try:
        customers = session.createDataFrame([(customer,) for customer in ids], "id string")
        directed = both_ways(session.createDataFrame(ties, "source string, target string, type string, weight double"))
        found = {row["id"]: row["pagerank"] for row in pagerank(customers, directed, 0.85).collect()}
    finally:
        session.stop()
    assert found.keys() == expected.keys()
    assert sum(found.values()) == pytest.approx(1.0, abs=1e-9)
    for customer, rank in expected.items():
        assert found[customer] == pytest.approx(rank, rel=1e-5), customer
