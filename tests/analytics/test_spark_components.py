"""Connected components on Spark, checked every few rounds, give every member its component's smallest id."""

from __future__ import annotations

import networkx as nx
import numpy as np

SPARK_MASTER, SPARK_MEMORY, SPARK_PARTITIONS = "local[2]", "1g", 3


def test_components_checked_every_few_rounds_are_those_of_networkx() -> None:
    from queries.analytics.spark.network import ROUNDS_PER_CHECK, connected_components
    from queries.analytics.spark.session import spark_session

    rng = np.random.default_rng(11)
    ids = [f"C{index:04d}" for index in range(120)]
    # A chain whose smallest id sits at one end: its label needs a round per member to reach the other end,
    # a count of rounds that is no multiple of the check interval.
    chain = [(ids[index], ids[index + 1]) for index in range(3 * ROUNDS_PER_CHECK + 1)]
    scattered = [(ids[a], ids[b]) for a, b in rng.integers(20, 120, (70, 2)) if a != b]
    pairs = {(min(a, b), max(a, b)) for a, b in chain + scattered}
    expected = {member: min(group) for group in nx.connected_components(nx.Graph(list(pairs))) for member in group}
    session = spark_session(SPARK_MASTER, SPARK_MEMORY, SPARK_PARTITIONS)
    try:
        frame = session.createDataFrame(sorted(pairs), "a string, b string")
        found = {row["id"]: row["component"] for row in connected_components(frame).collect()}
    finally:
        session.stop()
    assert found == expected
    assert found[ids[len(chain)]] == ids[0]
