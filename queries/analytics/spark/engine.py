"""``crm-graph analyze --engine spark``: export the store to Parquet, compute every analytic on Spark, stream the
results back into the store in batches.

Churn and cross-sell: the models fitted on the bank's own history, as in-process (features on the workers,
fitting on the driver from a bounded sample, scoring on the workers: :mod:`queries.analytics.spark.training`,
:mod:`queries.analytics.spark.crosssell`), or the documented hand-set ones when there is too little history or
too few leavers or openings to fit them, as in-process. The features of each month-end are computed once and
serve both models.
"""

from __future__ import annotations

import math
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, Field

from graph.model import NodeLabel
from graph.parquet_export import export_parquet
from graph.settings import Settings
from graph.store import GraphStore
from graph.ties import TieRegistry
from queries import portfolio  # a module, not its names: the portfolio imports the analytics package in turn
from queries.analytics.analyze import ANALYTICS_VERSION, ROUNDED, AnalyzeReport, customer_write_rows, write_found
from queries.analytics.model_card import ModelCard, write_model_card
from queries.analytics.rounding import round_like_python
from queries.analytics.spark.clusters import cluster_summaries, co_holdings, open_holdings, stable_cluster_ids
from queries.analytics.spark.crosssell import (
    ProductRule,
    SparkCrossSell,
    fitted_cross_sell_on_spark,
    product_rules,
    product_tie_weights,
)
from queries.analytics.spark.frames import SparkFrames, read_spark_frames
from queries.analytics.spark.network import pagerank, referral_communities
from queries.analytics.spark.prospects import prospect_rows
from queries.analytics.spark.session import spark_session
from queries.analytics.spark.training import churn_step
from queries.analytics.spark.value import customer_value
from queries.analytics.threads import capped_threads
from queries.guarantees import MAX_CIRCLES, circle_rows, find_guarantee_circles

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, Row, SparkSession

Progress = Callable[[str, int, int], None]
CROSS_SELL_LISTS = {
    "cross_sell_products": "array<string>",
    "cross_sell_scores": "array<double>",
    "cross_sell_own_scores": "array<double>",
}
ROWS_PER_PARTITION = 50_000  # customers per partition: per Parquet file the write-back reads


class SparkSettings(BaseModel):
    """Where Spark runs and how much memory its driver JVM may take."""

    master: str = Field(default="local[*]", description="local[*], local[N] or spark://host:port")
    driver_memory: str = Field(default="2g", description="Heap of the driver JVM (in local mode, of all of Spark)")
    partitions: int = Field(default=8, ge=1, description="Shuffle partitions")
    parquet: Path | None = Field(default=None, description="Read this export instead of exporting the store now")


def analyze_on_spark(
    store: GraphStore,
    settings: Settings,
    spark_settings: SparkSettings | None = None,
    progress: Progress | None = None,
    *,
    now: datetime | None = None,
    step_ended: Callable[[str], None] | None = None,
) -> AnalyzeReport:
    """Every analytic of :func:`queries.analytics.analyze` computed on Spark and written back to ``store``.

    ``step_ended`` is called with each step's name as it ends (the benchmark reads its clocks there)."""
    options = spark_settings or SparkSettings()
    report = progress or (lambda _step, _done, _total: None)
    seconds: dict[str, float] = {}
    started = time.perf_counter()

    def done(step: str) -> None:
        nonlocal started
        seconds[step] = round(time.perf_counter() - started, 3)
        report(step, 1, 1)
        if step_ended is not None:
            step_ended(step)
        started = time.perf_counter()

    scratch = None if options.parquet else Path(tempfile.mkdtemp(prefix="crm-graph-parquet-"))
    spark: SparkSession | None = None
    try:
        if options.parquet is not None:
            directory = options.parquet
        else:
            assert scratch is not None
            directory = export_parquet(store, scratch / "export", report).directory
        done("export")
        spark = spark_session(options.master, options.driver_memory, options.partitions)
        frames = read_spark_frames(spark, directory, store.registry, settings.analytics.as_of)
        done("read")
        # The driver fits the models (boosted trees, logistic regressions) with the thread pools capped, as
        # in-process: uncapped, their threads spun waiting for each other while Spark kept the cores busy.
        with capped_threads(settings.analytics):
            results = _compute(frames, settings, store.registry, done)
        analytics_at = (now or datetime.now(UTC)).isoformat(timespec="seconds")
        written = write_back(store, frames, results, analytics_at, write_sizes(store, settings), report)
        done("write")
        # From the store's own queries: the circles from its GUARANTEES ties (as in-process), each manager's
        # opportunities by the API's recommender from the scores just written (in-process picks the same from its
        # arrays, which this process does not hold). Only their results reach this process, not the graph.
        circles = find_guarantee_circles(store, limit=MAX_CIRCLES)
        write_found(store, NodeLabel.GUARANTEE_CIRCLE, circle_rows(circles, analytics_at), settings.batch_size)
        done("guarantee circles")
        store.write(nodes=portfolio.opportunity_rows(store, frames.as_of, settings.analytics))
        done("opportunities")
        # Counted before the export is removed: the frames read its files.
        analysed = AnalyzeReport(
            analytics_version=ANALYTICS_VERSION,
            analytics_at=analytics_at,
            as_of=frames.as_of,
            customers=written,
            accounts=frames.accounts.count(),
            ties=frames.ties.count(),
            clusters=results.clusters.count(),
            churn_model=results.card,
            tiers=_counts(results.customers, "tier"),
            stages=_counts(results.customers, "stage"),
            seconds=seconds,
        )
    finally:
        if spark is not None:  # what the run kept in Spark's memory (SparkFrames.persisted) goes with it
            spark.catalog.clearCache()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    write_model_card(settings.model_card_path, analysed.churn_model)
    return analysed


class _Results:
    """The two DataFrames written back, checkpointed so that writing and counting do not recompute them."""

    def __init__(
        self, customers: DataFrame, clusters: DataFrame, products: list[dict[str, Any]], card: ModelCard
    ) -> None:
        self.customers = customers
        self.clusters = clusters
        self.products = products
        self.card = card


def _compute(frames: SparkFrames, settings: Settings, registry: TieRegistry, done: Callable[[str], None]) -> _Results:
    analytics = settings.analytics
    value = customer_value(frames, analytics).localCheckpoint()
    done("value")
    # PageRank first: it is one of the fitted churn model's features.
    rank = pagerank(frames.customers, frames.directed, analytics.pagerank_damping).localCheckpoint()
    done("pagerank")
    window, churn, card = churn_step(frames, value, analytics, rank)
    done("churn")
    rules = product_rules(frames)
    cross_sell, cross_sell_card = fitted_cross_sell_on_spark(frames, window, rules)
    card = card.model_copy(update={"cross_sell": cross_sell_card})
    done("cross-sell")
    scored = ScoredCustomers(value, rank, churn, rules, cross_sell, card)
    return grouped_results(frames, settings, registry, done, scored)


@dataclass(frozen=True)
class ScoredCustomers:
    """The per-customer results of the steps up to cross-sell, which the later steps group and summarise."""

    value: DataFrame
    rank: DataFrame
    churn: DataFrame
    rules: list[ProductRule]
    cross_sell: SparkCrossSell | None
    card: ModelCard


def grouped_results(
    frames: SparkFrames,
    settings: Settings,
    registry: TieRegistry,
    done: Callable[[str], None],
    scored: ScoredCustomers,
) -> _Results:
    """Clusters, co-holdings, prospects and cluster summaries from the scored customers; the rows written back.
    (Apart from :func:`_compute` so that the benchmark can time these steps in a process of their own.)"""
    analytics = settings.analytics
    value, rank, churn, rules, cross_sell = scored.value, scored.rank, scored.churn, scored.rules, scored.cross_sell
    communities = referral_communities(
        frames.customers, frames.ties, registry, analytics.cluster_resolution, analytics.cluster_seed
    ).localCheckpoint()
    cluster_ids = stable_cluster_ids(
        communities, frames.customers.select("id", "cluster_id"), analytics.cluster_match_jaccard
    )
    done("clusters")
    customers = _with_lists(
        value.drop("cluster_id")
        .join(churn, "id", "left")
        .join(rank, "id", "left")
        .join(cluster_ids, "id", "left")
        .na.fill(0.0, ["pagerank"]),
        cross_sell,
    )
    total = customers.count()
    customers = customers.repartition(max(1, math.ceil(total / ROWS_PER_PARTITION)), "id").localCheckpoint()
    holdings = open_holdings(frames).localCheckpoint()
    products = [
        {**row, "properties": {**row["properties"], **product_tie_weights(cross_sell, row["id"])}}
        for row in co_holdings(frames, holdings, total)
    ]
    done("co-holdings")
    prospects = {row["id"]: row["properties"] for row in prospect_rows(frames, analytics, rules, holdings, cross_sell)}
    products = [{**row, "properties": {**row["properties"], **prospects.get(row["id"], {})}} for row in products]
    done("prospects")
    summaries = cluster_summaries(frames, customers, holdings)
    clusters = summaries.coalesce(max(1, math.ceil(summaries.count() / ROWS_PER_PARTITION))).localCheckpoint()
    done("cluster summaries")
    return _Results(customers, clusters, products, scored.card)


def _with_lists(customers: DataFrame, cross_sell: SparkCrossSell | None) -> DataFrame:
    """Each customer's cross-sell lists; empty without a fitted model (the API then scores with the documented
    hand-set weights)."""
    from pyspark.sql import functions as F

    if cross_sell is not None:
        return customers.join(cross_sell.lists, "id", "left")
    return customers.select("*", *(F.lit(None).cast(kind).alias(name) for name, kind in CROSS_SELL_LISTS.items()))


def customer_columns(customers: DataFrame) -> DataFrame:
    """id, kind and every written-back property but the run's stamps, under the names the store holds them by
    (the in-process :func:`~queries.analytics.analyze.customer_table`), numbers not yet rounded; a missing list
    is an empty one, a missing cluster a null (which removes the previous run's)."""
    from pyspark.sql import functions as F

    def listed(name: str, kind: str) -> Column:
        return F.coalesce(F.col(name), F.array().cast(kind))

    return customers.select(
        "id",
        "kind",
        "aum",
        "deposits",
        "loans",
        "tier",
        F.col("stage").alias("lifecycle_stage"),
        "ltv_historical",
        "ltv_current",
        "ltv_potential",
        "churn_risk",
        F.col("churn_own").alias("churn_risk_own"),
        F.col("churn_network").alias("churn_risk_network"),
        listed("contributors", "array<string>").alias("churn_contributors"),
        listed("contributor_ties", "array<string>").alias("churn_contributor_ties"),
        listed("contributions", "array<double>").alias("churn_contributions"),
        *(listed(name, kind).alias(name) for name, kind in CROSS_SELL_LISTS.items()),
        "cluster_id",
        "pagerank",
    )


def customer_table(columns: pa.RecordBatch, analytics_at: str, as_of: str) -> pa.Table:
    """A batch of :func:`customer_columns` as the store's Customer table: numbers rounded as Python's ``round``
    rounds them (as in-process; Spark's rounding works on the decimal text and can differ in the last digit), and
    the run's stamps."""
    table = pa.Table.from_batches([columns])
    for name, digits in ROUNDED.items():
        rounded = round_like_python(table.column(name).to_numpy(), digits)
        table = table.set_column(table.schema.get_field_index(name), name, pa.array(rounded, pa.float64()))
    stamps = {"analytics_version": ANALYTICS_VERSION, "analytics_at": analytics_at, "analytics_as_of": as_of}
    for name, text in stamps.items():
        table = table.append_column(name, pa.repeat(pa.scalar(text, pa.string()), table.num_rows))
    return table


def _batches(rows: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def write_back(
    store: GraphStore,
    frames: SparkFrames,
    results: _Results,
    analytics_at: str,
    sizes: tuple[int, int],
    report: Progress,
) -> int:
    """Products, then customers, then clusters (stale ones deleted with the last batch), as analyze does.

    ``sizes``: rows per write of the customer table and of the cluster rows. The customers' properties are
    written by Spark as Parquet files, one per partition, which the driver reads a batch of rows at a time and
    hands the store as a table: no row of them becomes a Python object but for the rounding of its numbers. (On
    a cluster, the temporary folder must be one the executors and the driver share, as the export's is.)"""
    table_rows, batch_size = sizes
    total = results.customers.count()
    as_of = frames.as_of.isoformat()
    report("write", 0, total)
    if results.products:
        store.write(nodes=results.products)
    written = 0
    with tempfile.TemporaryDirectory(prefix="crm-graph-results-") as folder:
        customers = Path(folder) / "customers"
        customer_columns(results.customers).write.parquet(str(customers))
        for path in sorted(customers.glob("*.parquet")):
            for columns in pq.ParquetFile(path).iter_batches(batch_size=table_rows):
                store.bulk_write({NodeLabel.CUSTOMER: customer_table(columns, analytics_at, as_of)})
                written += columns.num_rows
                report("write", written, total)
    current = results.clusters.select("cluster_id")
    stale = [
        (NodeLabel.CLUSTER, row.id)
        for row in frames.clusters.join(
            current.withColumnRenamed("cluster_id", "id"), "id", "left_anti"
        ).toLocalIterator()
    ]
    cluster_rows = (
        {"label": NodeLabel.CLUSTER, "id": row.cluster_id, "properties": _cluster_properties(row, rank, analytics_at)}
        for rank, row in enumerate(results.clusters.toLocalIterator(), start=1)
    )
    # Clusters no customer carries now go with the last batch, so the store never lists a cluster twice.
    batches = _batches(cluster_rows, batch_size)
    batch = next(batches, [])
    for following in batches:
        store.write(nodes=batch)
        batch = following
    store.write(nodes=batch, delete=stale)
    return written


def write_sizes(store: GraphStore, settings: Settings) -> tuple[int, int]:
    """Rows per write of the customer table and of other rows: whole columns at a time into the embedded store,
    transactions of ``batch_size`` rows on Neo4j (as in-process)."""
    return customer_write_rows(store, settings.table_batch_size, settings.batch_size), settings.batch_size


def _cluster_properties(row: Row, rank: int, analytics_at: str) -> dict[str, Any]:
    return {
        "rank": rank,
        "size": int(row.size),
        "total_aum": float(row.total_aum),
        "central_members": list(row.central_members),
        "drawn_members": list(row.drawn_members),
        "penetration_products": list(row.penetration_products),
        "penetration_shares": [float(share) for share in row.penetration_shares],
        "referrals_per_member": float(row.referrals_per_member),
        "referred_active_share": float(row.referred_active_share),
        "analytics_at": analytics_at,
    }


def _counts(customers: DataFrame, column: str) -> dict[str, int]:
    return dict(sorted(Counter({row[0]: int(row[1]) for row in customers.groupBy(column).count().collect()}).items()))
