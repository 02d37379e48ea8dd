"""Several spreading runs carried as columns of one Spark iteration give each run's in-process result."""

from __future__ import annotations

import numpy as np
import pytest

from queries.analytics.churn import DirectedTies, spread_energy

SPARK_MASTER, SPARK_MEMORY, SPARK_PARTITIONS = "local[2]", "1g", 3
FACTOR, THRESHOLD, STEPS = 0.8, 0.01, 10


def _random_ties(n: int, edges: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ties one way (source, target, weight), no loops; a few nodes have none."""
    rng = np.random.default_rng(seed)
    source = rng.integers(0, n - 5, edges)
    target = (source + rng.integers(1, n - 5, edges)) % (n - 5)
    return source, target, rng.choice([0.3, 0.5, 0.8, 0.9, 1.0], edges)


def test_runs_as_columns_equal_each_run_alone_in_process() -> None:
    from queries.analytics.spark.frames import both_ways, transfer_shares
    from queries.analytics.spark.network import spread_energies
    from queries.analytics.spark.session import spark_session

    n = 200
    source, target, weight = _random_ties(n, 500, seed=4)
    rng = np.random.default_rng(5)
    starts = {
        "leavers": np.where(rng.random(n) < 0.08, 1.0, 0.0),
        # Mostly below the threshold: these pass nothing on while the other runs' frontiers carry the rows.
        "faint": np.where(rng.random(n) < 0.3, 0.005, 0.0) + np.where(rng.random(n) < 0.03, 0.6, 0.0),
        "none": np.zeros(n),
    }
    ids = [f"C{index:04d}" for index in range(n)]
    session = spark_session(SPARK_MASTER, SPARK_MEMORY, SPARK_PARTITIONS)
    try:
        ties = session.createDataFrame(
            [(ids[a], ids[b], "FAMILY", float(w)) for a, b, w in zip(source, target, weight, strict=True)],
            "source string, target string, type string, weight double",
        )
        initial = session.createDataFrame(
            [(ids[index], *(float(start[index]) for start in starts.values())) for index in range(n)],
            ["id", *starts],
        )
        transfer = transfer_shares(both_ways(ties), SPARK_PARTITIONS).localCheckpoint()
        received, passed = spread_energies(transfer, initial, list(starts), FACTOR, THRESHOLD, STEPS)
        received_rows = {row["id"]: row for row in received.collect()}
        passed_rows = {row["id"]: row for row in passed.collect()}
    finally:
        session.stop()
    directed = DirectedTies.of(
        np.concatenate([source, target]),
        np.concatenate([target, source]),
        np.array(["FAMILY"] * (2 * len(source))),
        np.concatenate([weight, weight]),
    )
    assert received_rows.keys() == passed_rows.keys() == set(ids)
    for run, start in starts.items():
        expected_received, expected_passed = spread_energy(n, directed, start, FACTOR, THRESHOLD, STEPS)
        found_received = np.array([received_rows[customer][run] for customer in ids])
        found_passed = np.array([passed_rows[customer][run] for customer in ids])
        assert found_received == pytest.approx(expected_received, abs=1e-12), run
        assert found_passed == pytest.approx(expected_passed, abs=1e-12), run
    for run in ("leavers", "faint"):  # both runs reached someone
        assert sum(row[run] for row in received_rows.values()) > 0.1, run
