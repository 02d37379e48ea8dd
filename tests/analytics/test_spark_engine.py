"""The Spark engine writes what the in-process engine writes, on the same generated bank (Spark in local mode).

Tolerances (stated once, used below): amounts in CNY within 0.01 (both round to cents; sums in another order
can land on the other side of a half cent), hand-set scores and shares within 2e-6 (both round to 6 decimals),
PageRank within a relative 1e-5 (both stop the power iteration once a step changes the ranks by less than
n x 1e-10 in L1, which leaves each rank about 1e-6 from the fixed point; Spark checks every 5 steps, so it may
stop up to 4 steps later, closer to it).
The fitted churn and cross-sell models: both engines fit the same code on the same rows, whose features differ
only in the order of floating-point sums and in PageRank (within the 1e-5 above), so fitted weights and scores
agree within FITTED_TOLERANCE (1e-5; on the generated bank they differed by at most 1e-6, the last of the 6
decimals written) and backtest figures within 1e-3 (they are rounded to 4 decimals).
Everything else is equal: tiers, stages, cluster ids and members, contributors and their tie types, each
customer's cross-sell products and each product's prospects in their order, co-holding counts, which models the
card names and why.
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from graph.embedded import EmbeddedStore
from graph.model import NodeLabel
from graph.settings import Settings
from queries.analytics import analyze, models
from queries.analytics.analyze import ANALYTICS_VERSION
from queries.analytics.model_card import read_model_card
from queries.analytics.spark import SparkSettings, analyze_on_spark

NOW = datetime(2025, 1, 2, tzinfo=UTC)
AMOUNTS = ("aum", "deposits", "loans", "ltv_historical", "ltv_current", "ltv_potential")
SCORES = ("churn_risk", "churn_risk_own", "churn_risk_network")
FITTED_TOLERANCE = 1e-5
EXACT = ("tier", "lifecycle_stage", "cluster_id", "analytics_version", "churn_contributors", "churn_contributor_ties")
FITTED = ("cross_sell_tie_weights", "prospect_scores")  # Product properties from the fitted cross-sell model
SPARK = SparkSettings(master="local[2]", driver_memory="1g", partitions=2)
WRITTEN = (NodeLabel.CUSTOMER, NodeLabel.CLUSTER, NodeLabel.PRODUCT, NodeLabel.GUARANTEE_CIRCLE, NodeLabel.MANAGER)


def _settings(folder: Path) -> Settings:
    return Settings(embedded_path=folder / "store.sqlite", model_card_path=folder / "model-card.json")


def _copy(bank: Path, folder: Path) -> Settings:
    folder.mkdir()
    store = bank / "store.sqlite"  # a file, or a folder of files, depending on the embedded store's format
    if store.is_dir():
        shutil.copytree(store, folder / "store.sqlite")
    else:
        shutil.copy(store, folder / "store.sqlite")
    return _settings(folder)


def _nodes(store: EmbeddedStore, label: NodeLabel) -> dict[str, dict[str, Any]]:
    return {record.id: dict(record.properties) for record in store.nodes(label)}


def _stop_spark() -> None:
    from pyspark.sql import SparkSession

    session = SparkSession.getActiveSession()
    if session is not None:
        session.stop()


@pytest.fixture(scope="module")
def both_engines(generated_bank: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The bank analysed by each engine, with the model cards each wrote."""
    root = tmp_path_factory.mktemp("engines")
    pools: dict[str, dict[str, int]] = {}
    local_settings, spark_settings = _copy(generated_bank, root / "local"), _copy(generated_bank, root / "spark")
    with pytest.MonkeyPatch.context() as patch:
        # Contributors can be compared only with the churn network terms kept; on this small bank the inner
        # validation leaves them out (both engines fit on the driver, so both keep them here).
        patch.setattr(models, "EARNS_ITS_PLACE", float("-inf"))
        with EmbeddedStore(local_settings.embedded_path) as store:
            local_report = analyze(store, local_settings, now=NOW)
            local = {label: _nodes(store, label) for label in WRITTEN}
        with EmbeddedStore(spark_settings.embedded_path) as store:
            spark_report = analyze_on_spark(store, spark_settings, SPARK, _pools_at_each_step(pools), now=NOW)
            spark = {label: _nodes(store, label) for label in WRITTEN}
    _stop_spark()  # the one run this module needs is done: its JVM need not stay for the rest of the suite
    yield {
        "local": local,
        "spark": spark,
        "local_report": local_report,
        "spark_report": spark_report,
        "local_card": read_model_card(local_settings.model_card_path),
        "spark_card": read_model_card(spark_settings.model_card_path),
        "spark_pools": pools,
    }


def _pools_at_each_step(seen: dict[str, dict[str, int]]) -> Callable[[str, int, int], None]:
    """A progress callback noting the OpenMP and BLAS thread pools' sizes as each step first reports."""
    from threadpoolctl import threadpool_info

    def noted(step: str, _done: int, _total: int) -> None:
        seen.setdefault(step, {pool["internal_api"]: pool["num_threads"] for pool in threadpool_info()})

    return noted


def test_the_driver_fits_with_the_pools_capped_as_in_process(both_engines: dict[str, Any]) -> None:
    pools = both_engines["spark_pools"]
    assert "openmp" in pools["churn"]  # the boosted trees' runtime is loaded by then
    assert set(pools["churn"].values()) == set(pools["cross-sell"].values()) == {1}


def test_balances_tiers_stages_value_pagerank_and_clusters_match(both_engines: dict[str, Any]) -> None:
    local, spark = both_engines["local"][NodeLabel.CUSTOMER], both_engines["spark"][NodeLabel.CUSTOMER]
    assert local.keys() == spark.keys() and len(local) == 1500
    for customer_id, expected in local.items():
        found = spark[customer_id]
        for name in AMOUNTS:
            assert found[name] == pytest.approx(expected[name], abs=0.01), (customer_id, name)
        for name in ("tier", "lifecycle_stage", "cluster_id", "analytics_version", "analytics_as_of"):
            assert found.get(name) == expected.get(name), (customer_id, name)
        assert math.isclose(found["pagerank"], expected["pagerank"], rel_tol=1e-5), customer_id
    assert sum(1 for props in spark.values() if props.get("cluster_id")) > 100


def test_fitted_churn_scores_and_contributors_match(both_engines: dict[str, Any]) -> None:
    local_card, spark_card = both_engines["local_card"], both_engines["spark_card"]
    assert local_card.model.startswith("fitted") and spark_card.model == local_card.model
    assert spark_card.reason == local_card.reason and spark_card.trained_on == local_card.trained_on
    assert spark_card.features == local_card.features
    for name in ("tie_weights", "network_weights"):
        expected, found = getattr(local_card, name), getattr(spark_card, name)
        assert found.keys() == expected.keys() and found == pytest.approx(expected, abs=FITTED_TOLERANCE), name
    assert local_card.backtest is not None and spark_card.backtest is not None
    for figure in ("auc", "pr_auc", "lift_at_5pct"):
        for model in ("own", "network", "default"):
            assert spark_card.backtest[figure][model] == pytest.approx(local_card.backtest[figure][model], abs=1e-3)
    local, spark = both_engines["local"][NodeLabel.CUSTOMER], both_engines["spark"][NodeLabel.CUSTOMER]
    for customer_id, expected in local.items():
        found = spark[customer_id]
        for name in SCORES:
            assert found[name] == pytest.approx(expected[name], abs=FITTED_TOLERANCE), (customer_id, name)
        assert found["churn_contributors"] == expected["churn_contributors"], customer_id
        assert found["churn_contributor_ties"] == expected["churn_contributor_ties"], customer_id
        assert found["churn_contributions"] == pytest.approx(expected["churn_contributions"], abs=2e-6), customer_id
    assert sum(1 for props in spark.values() if props["churn_contributors"]) > 10


def test_fitted_cross_sell_lists_and_card_match(both_engines: dict[str, Any]) -> None:
    local_card, spark_card = both_engines["local_card"].cross_sell, both_engines["spark_card"].cross_sell
    assert local_card is not None and spark_card is not None
    assert local_card.model.startswith("fitted") and spark_card.model == local_card.model
    assert spark_card.reason == local_card.reason and spark_card.features_as_of == local_card.features_as_of
    assert spark_card.products.keys() == local_card.products.keys() and len(local_card.products) > 1
    for product_id, expected in local_card.products.items():
        found = spark_card.products[product_id]
        assert (found["taken_up"], found["candidates"]) == (expected["taken_up"], expected["candidates"])
        assert found["tie_weights"] == pytest.approx(expected["tie_weights"], abs=FITTED_TOLERANCE), product_id
    local, spark = both_engines["local"][NodeLabel.CUSTOMER], both_engines["spark"][NodeLabel.CUSTOMER]
    for customer_id, expected in local.items():
        found = spark[customer_id]
        assert found["cross_sell_products"] == expected["cross_sell_products"], customer_id
        for name in ("cross_sell_scores", "cross_sell_own_scores"):
            assert found[name] == pytest.approx(expected[name], abs=FITTED_TOLERANCE), (customer_id, name)
    assert sum(1 for props in spark.values() if props["cross_sell_products"]) > 100


def test_cluster_summaries_co_holdings_and_prospects_match(both_engines: dict[str, Any]) -> None:
    for label in (NodeLabel.CLUSTER, NodeLabel.PRODUCT):
        local, spark = both_engines["local"][label], both_engines["spark"][label]
        assert local.keys() == spark.keys(), label
        for node_id, expected in local.items():
            found = spark[node_id]
            assert found.keys() == expected.keys(), node_id
            for name, value in expected.items():
                if name in FITTED:
                    assert found[name] == pytest.approx(value, abs=FITTED_TOLERANCE), (node_id, name)
                elif isinstance(value, float) or (isinstance(value, list) and value and isinstance(value[0], float)):
                    assert found[name] == pytest.approx(value, abs=0.01 if name == "total_aum" else 2e-6), name
                else:
                    assert found[name] == value, (node_id, name)
    products = both_engines["spark"][NodeLabel.PRODUCT].values()
    assert sum(len(props["prospect_ids"]) for props in products) > 100


def test_guarantee_circles_and_opportunities_match(both_engines: dict[str, Any]) -> None:
    local, spark = both_engines["local"], both_engines["spark"]
    assert spark[NodeLabel.GUARANTEE_CIRCLE] == local[NodeLabel.GUARANTEE_CIRCLE]
    assert len(local[NodeLabel.GUARANTEE_CIRCLE]) > 0
    assert local[NodeLabel.MANAGER].keys() == spark[NodeLabel.MANAGER].keys()
    listed = 0
    for manager_id, expected in local[NodeLabel.MANAGER].items():
        found = spark[NodeLabel.MANAGER][manager_id]
        assert found["opportunities_as_of"] == expected["opportunities_as_of"]
        mine, theirs = json.loads(found["opportunities"]), json.loads(expected["opportunities"])
        # The same customers and products in the same order; scores from the fitted model within its tolerance.
        assert [(item["customer_id"], item["product_id"]) for item in mine] == [
            (item["customer_id"], item["product_id"]) for item in theirs
        ], manager_id
        for item, other in zip(mine, theirs, strict=True):
            assert item["score"] == pytest.approx(other["score"], abs=FITTED_TOLERANCE)
            assert item["parts"] == pytest.approx(other["parts"], abs=FITTED_TOLERANCE)
            assert item["evidence"] == other["evidence"]
        listed += len(theirs)
    assert listed > 10


def test_reports_agree(both_engines: dict[str, Any]) -> None:
    local, spark = both_engines["local_report"], both_engines["spark_report"]
    for name in ("as_of", "customers", "accounts", "ties", "clusters", "tiers", "stages", "analytics_at"):
        assert getattr(spark, name) == getattr(local, name), name


@pytest.mark.parametrize(
    ("weights", "expected"),
    [
        # The inner validation left the network terms out: no tie brings anything (this once failed the run).
        ({"own_log_odds": 1.0}, {("a", "c"): 0.0, ("b", "c"): 0.0}),
        # Kept: a recent leaver's FAMILY tie brings its type's weight; a REFERRAL tie has no weight of its own.
        (
            {"own_log_odds": 1.0, "recently_churned_FAMILY": 0.5, "recently_churned_REFERRAL": -0.2},
            {("a", "c"): 0.5, ("b", "c"): 0.0},
        ),
    ],
)
def test_tie_contributions_with_and_without_network_terms(
    weights: dict[str, float], expected: dict[tuple[str, str], float]
) -> None:
    from types import SimpleNamespace

    from queries.analytics.spark.session import spark_session
    from queries.analytics.spark.training import _tie_contributions

    session = spark_session(SPARK.master, SPARK.driver_memory, SPARK.partitions)
    try:
        directed = session.createDataFrame(
            [("a", "c", "FAMILY", 1.0), ("b", "c", "REFERRAL", 1.0)],
            "source string, target string, type string, weight double",
        )
        now = session.createDataFrame(
            [("a", True, True), ("b", True, True), ("c", False, False)],
            "id string, left_within_memory boolean, left_recently boolean",
        )
        # Only the parts the function reads: the directed ties and the fitted weights.
        frames, model = SimpleNamespace(directed=directed), SimpleNamespace(weights=weights)
        rows = _tie_contributions(frames, now, model).collect()  # type: ignore[arg-type]
    finally:
        _stop_spark()
    assert {(row["source"], row["target"]): row["contribution"] for row in rows} == pytest.approx(expected)


def test_parquet_without_the_spark_engine_is_refused_in_one_line(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from api.cli import app

    result = CliRunner().invoke(app, ["analyze", "--parquet", str(tmp_path)])
    assert result.exit_code == 2
    assert "--parquet is read by the Spark engine only" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--loaded", "--backend", "neo4j"], "--loaded measures an embedded store; on Neo4j add --engine spark"),
        (["--engine", "spark", "--parquet", "."], "--parquet is an export of a loaded store"),
    ],
)
def test_bench_options_of_a_loaded_bank_are_refused_in_one_line(arguments: list[str], message: str) -> None:
    from typer.testing import CliRunner

    from api.cli import app

    result = CliRunner().invoke(app, ["bench", *arguments])
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output


def test_a_written_back_batch_is_rounded_as_in_process_and_clears_a_lost_cluster(tmp_path: Path) -> None:
    import pyarrow as pa

    from queries.analytics.spark.engine import ROUNDED, customer_table

    numbers = {name: [2.675, 0.1234565] for name in ROUNDED}  # 2.675 is 2.67499... in binary: Python keeps 2.67
    columns = pa.RecordBatch.from_pydict(
        {
            "id": ["C1", "C2"],
            "kind": ["Person", "Company"],
            **numbers,
            "tier": ["gold", "standard"],
            "churn_contributors": [["C2"], []],
            "cluster_id": [None, "C1"],
        }
    )
    table = customer_table(columns, "2026-01-01T00:00:00+00:00", "2025-12-31")
    for name, digits in ROUNDED.items():
        assert table.column(name).to_pylist() == [round(2.675, digits), round(0.1234565, digits)], name
    assert table.column("analytics_as_of").to_pylist() == ["2025-12-31"] * 2
    with EmbeddedStore(tmp_path / "store.sqlite") as store:
        store.bulk_write({NodeLabel.CUSTOMER: pa.table({"id": ["C1"], "kind": ["Person"], "cluster_id": ["K9"]})})
        store.bulk_write({NodeLabel.CUSTOMER: table})
        first, second = store.get_node(NodeLabel.CUSTOMER, "C1"), store.get_node(NodeLabel.CUSTOMER, "C2")
    assert first is not None and second is not None
    assert first.properties["aum"] == 2.67 and "cluster_id" not in first.properties  # no cluster now: removed
    assert first.properties["churn_contributors"] == ["C2"] and second.properties["churn_contributors"] == []
    assert second.properties["cluster_id"] == "C1" and second.properties["analytics_version"] == ANALYTICS_VERSION
