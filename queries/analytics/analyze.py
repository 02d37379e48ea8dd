"""``crm-graph analyze``: read the graph once, compute every analytic in arrays, write results back in batches.

Per-customer results land on Customer nodes (property names in ``docs/data-model.md``); co-holding counts for
request-time cross-selling land on Product nodes (``holders``, ``holder_share``, ``co_held_products``,
``co_held_counts``), and so do each product's best prospects (``prospect_ids``, ``prospect_scores``, see
``queries.analytics.prospecting``); each referral cluster's summary lands on a Cluster node and each guarantee
circle on a GuaranteeCircle node (those gone since the previous run are deleted), and each manager's best
cross-sell opportunities on the Manager node, so that the API reads summaries and lists instead of
recomputing them per request.
Every customer row carries ``analytics_version`` and ``analytics_at``.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pyarrow as pa
from pydantic import BaseModel, ConfigDict

from graph.collector import bulk_objects
from graph.model import NodeLabel
from graph.settings import AnalyticsSettings, Backend, Settings
from graph.store import GraphStore
from graph.ties import TieRegistry
from queries import portfolio  # a module, not its names: the portfolio imports this package in turn
from queries.analytics.array_recommendations import ArrayRecommender
from queries.analytics.churn import ChurnScores, churn_scores
from queries.analytics.community import (
    cluster_rows,
    pagerank,
    referral_communities,
    stable_cluster_ids,
    summarise_clusters,
)
from queries.analytics.crosssell import Catalogue
from queries.analytics.crosssell_fit import CrossSellFit, customer_columns, fitted_cross_sell, product_properties
from queries.analytics.fetch import LIST_PRODUCTS
from queries.analytics.frames import FloatArray, GraphFrames, read_frames
from queries.analytics.freed_memory import release_freed_memory
from queries.analytics.model_card import ModelCard, write_model_card
from queries.analytics.prospecting import holdings, prospect_rows
from queries.analytics.rounding import round_like_python
from queries.analytics.threads import capped_threads
from queries.analytics.training import fitted_churn, training_window
from queries.analytics.value import CustomerValue, customer_value
from queries.guarantees import MAX_CIRCLES, circle_rows, find_guarantee_circles

ANALYTICS_VERSION = "1"
TABLE_PIECE_ROWS = 10_000
Progress = Callable[[str, int, int], None]
STEPS = (
    "read",
    "value",
    "churn",
    "cross-sell",
    "pagerank",
    "clusters",
    "co-holdings",
    "prospects",
    "cluster summaries",
    "guarantee circles",
    "write",
    "opportunities",
)


class AnalyzeReport(BaseModel):
    """What one run computed and how long each step took."""

    model_config = ConfigDict(frozen=True)

    analytics_version: str
    analytics_at: str
    as_of: date
    customers: int
    accounts: int
    ties: int
    clusters: int
    tiers: dict[str, int]
    stages: dict[str, int]
    churn_model: ModelCard
    seconds: dict[str, float]


@dataclass(frozen=True)
class AnalyticsResult:
    """Every per-customer analytic, aligned with ``frames.customers``."""

    frames: GraphFrames
    value: CustomerValue
    churn: ChurnScores
    pagerank: FloatArray
    cluster_ids: list[str | None]
    clusters: int
    churn_model: ModelCard
    cross_sell: CrossSellFit | None


def compute(
    frames: GraphFrames, settings: AnalyticsSettings, registry: TieRegistry, step: Callable[[str], None] | None = None
) -> AnalyticsResult:
    """All analytics from arrays, no I/O (``crm-graph eval`` runs this on a rewound graph)."""
    mark = step or (lambda _name: None)
    mark("value")
    value = customer_value(frames, settings)
    mark("churn")
    window = training_window(frames, settings, value)
    fitted, card = fitted_churn(frames, settings, window)
    churn = fitted or churn_scores(frames, value, settings)
    mark("cross-sell")
    cross_sell, cross_sell_card = fitted_cross_sell(frames, window)
    card = card.model_copy(update={"cross_sell": cross_sell_card})
    mark("pagerank")
    # The training window's snapshot of today has it already (its features include PageRank).
    rank = (
        window.now.ties.pagerank(frames.size, settings.pagerank_damping)
        if window
        else pagerank(frames, settings.pagerank_damping)
    )
    mark("clusters")
    communities = referral_communities(frames, registry, settings)
    previous = [cluster_id if isinstance(cluster_id, str) else None for cluster_id in frames.customers["cluster_id"]]
    ids = stable_cluster_ids(communities, previous, settings.cluster_match_jaccard)
    cluster_ids: list[str | None] = [None] * frames.size
    for cluster_id, members in zip(ids, communities, strict=True):
        for member in members:
            cluster_ids[member] = cluster_id
    return AnalyticsResult(frames, value, churn, rank, cluster_ids, len(communities), card, cross_sell)


def co_holdings(frames: GraphFrames, cross_sell: CrossSellFit | None = None) -> list[dict[str, Any]]:
    """Product node rows: holders, holder share, per other product how many customers hold both, and the
    fitted cross-sell tie weights."""
    holds, product_ids = holdings(frames)
    together = (holds.T @ holds).toarray().astype(np.int64)
    found = []
    for number, product_id in enumerate(product_ids):
        others = [other for other in range(len(product_ids)) if other != number and together[number, other] > 0]
        found.append(
            {
                "label": NodeLabel.PRODUCT,
                "id": product_id,
                "properties": {
                    "holders": int(together[number, number]),
                    "holder_share": round(float(together[number, number]) / max(frames.size, 1), 6),
                    "co_held_products": [product_ids[other] for other in others],
                    "co_held_counts": [int(together[number, other]) for other in others],
                    **product_properties(cross_sell, product_id),
                },
            }
        )
    return found


ROUNDED = {
    **dict.fromkeys(("aum", "deposits", "loans", "ltv_historical", "ltv_current", "ltv_potential"), 2),
    **dict.fromkeys(("churn_risk", "churn_risk_own", "churn_risk_network"), 6),
    "pagerank": 12,
}
"""Digits each written-back number keeps (the Spark engine's write-back rounds by the same table)."""


def customer_write_rows(store: GraphStore, table_batch_size: int, batch_size: int) -> int:
    """Customers per write of their table: whole columns merged at once into the embedded store, UNWIND
    statements in transactions of ``batch_size`` rows on Neo4j."""
    return table_batch_size if store.backend is Backend.EMBEDDED else batch_size


def customer_table(result: AnalyticsResult, analytics_at: str, rows: slice = slice(None)) -> pa.Table:
    """The Customer table with every written-back property, one row per customer of ``rows`` (all by default;
    analyze makes one slice of customers per write), each number rounded as Python's ``round`` rounds a row's
    (:func:`~queries.analytics.rounding.round_like_python`; numpy's may differ in the last place). The table is
    made ``TABLE_PIECE_ROWS`` customers at a time, so that the Python numbers and lists it is made from are never
    alive for a whole slice at once: for the 100,000 customers of one write they took about twice the finished
    table."""
    numbers = range(result.frames.size)[rows]
    starts = range(numbers.start, numbers.stop, TABLE_PIECE_ROWS) or range(numbers.start, numbers.start + 1)
    pieces = [
        _customer_piece(result, analytics_at, slice(start, min(start + TABLE_PIECE_ROWS, numbers.stop)))
        for start in starts
    ]
    return pa.concat_tables(pieces)


def _customer_piece(result: AnalyticsResult, analytics_at: str, rows: slice) -> pa.Table:
    frames, value, churn = result.frames, result.value, result.churn
    size = len(range(frames.size)[rows])

    def rounded(values: FloatArray, name: str) -> pa.Array:
        return pa.array(round_like_python(values[rows], ROUNDED[name]), pa.float64())

    def constant(text: str) -> pa.Array:
        return pa.repeat(pa.scalar(text, pa.string()), size)

    def texts(values: Any) -> pa.Array:
        return pa.array(list(values[rows]), pa.string())

    columns: dict[str, pa.Array] = {
        "id": texts(frames.customers["id"].to_numpy()),
        "kind": texts(frames.customers["kind"].to_numpy()),
        "aum": rounded(value.aum, "aum"),
        "deposits": rounded(value.deposits, "deposits"),
        "loans": rounded(value.loans, "loans"),
        "tier": texts(value.tier),
        "lifecycle_stage": texts(value.stage),
        "ltv_historical": rounded(value.ltv_historical, "ltv_historical"),
        "ltv_current": rounded(value.ltv_current, "ltv_current"),
        "ltv_potential": rounded(value.ltv_potential, "ltv_potential"),
        "churn_risk": rounded(churn.risk, "churn_risk"),
        "churn_risk_own": rounded(churn.own, "churn_risk_own"),
        "churn_risk_network": rounded(churn.network, "churn_risk_network"),
        "churn_contributors": pa.array(churn.contributors[rows], pa.list_(pa.string())),
        "churn_contributor_ties": pa.array(churn.contributor_ties[rows], pa.list_(pa.string())),
        "churn_contributions": pa.array(churn.contributions[rows], pa.list_(pa.float64())),
        **customer_columns(result.cross_sell, frames.size, rows),
        "cluster_id": texts(result.cluster_ids),  # a null removes the previous run's cluster
        "pagerank": rounded(result.pagerank, "pagerank"),
        "analytics_version": constant(ANALYTICS_VERSION),
        "analytics_at": constant(analytics_at),
        "analytics_as_of": constant(frames.as_of.isoformat()),
    }
    return pa.table(columns)


def _merged(rows: list[dict[str, Any]], more: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Node rows of the same nodes with their properties put together (one write per node)."""
    extra = {row["id"]: row["properties"] for row in more}
    return [{**row, "properties": {**row["properties"], **extra.get(row["id"], {})}} for row in rows]


def write_found(store: GraphStore, label: NodeLabel, rows: list[dict[str, Any]], batch_size: int) -> None:
    """Write the Cluster (or GuaranteeCircle) nodes after the customers they summarise, deleting those of the
    previous run that this one did not find."""
    current = {row["id"] for row in rows}
    stale = [(label, record.id) for record in store.nodes(label) if record.id not in current]
    for start in range(0, max(len(rows), 1), batch_size):
        last = start + batch_size >= len(rows)
        store.write(nodes=rows[start : start + batch_size], delete=stale if last else ())


def analyze(
    store: GraphStore,
    settings: AnalyticsSettings | Settings,
    progress: Progress | None = None,
    *,
    batch_size: int = 5000,
    now: datetime | None = None,
) -> AnalyzeReport:
    """Compute every analytic over the whole graph and write the results back to Customer and Product nodes
    (customers in one write into the embedded store, in writes of ``batch_size`` into Neo4j)."""
    analytics = settings.analytics if isinstance(settings, Settings) else settings
    if isinstance(settings, Settings):
        batch_size = settings.batch_size
    report_progress = progress or (lambda _step, _done, _total: None)
    seconds: dict[str, float] = {}
    clock = {"": time.perf_counter()}

    def step(name: str) -> None:
        # Each step reports (name, 0, 1) when it starts and (name, 1, 1) when it ends; "write" counts rows.
        now_clock = time.perf_counter()
        finished, began = next(iter(clock.items()))
        if finished:
            seconds[finished] = round(now_clock - began, 3)
            if finished != "write":
                report_progress(finished, 1, 1)
        clock.clear()
        release_freed_memory()  # what the finished step freed, before the next one adds its own
        clock[name] = now_clock
        if name in STEPS and name != "write":
            report_progress(name, 0, 1)

    # Writing back a million customers makes a million dicts that stay: see graph.collector.
    with bulk_objects(), capped_threads(analytics):
        step("read")
        frames = read_frames(store, analytics.as_of)
        result = compute(frames, analytics, store.registry, step)
        step("co-holdings")
        product_rows = co_holdings(frames, result.cross_sell)
        step("prospects")
        product_rows = _merged(product_rows, prospect_rows(frames, analytics, result.cross_sell))
        step("cluster summaries")
        summaries = summarise_clusters(frames, result.cluster_ids, result.value.aum, result.pagerank)
        step("guarantee circles")
        circles = find_guarantee_circles(store, limit=MAX_CIRCLES)
        step("write")
        report_progress("write", 0, frames.size)
        analytics_at = (now or datetime.now(UTC)).isoformat(timespec="seconds")
        if product_rows:
            store.write(nodes=product_rows)
        # One write into the embedded store: each write of part of the customers into a large table may settle
        # its overlay, rebuilding the whole Customer table (at 1M, 3 of 10 writes of 100,000 did, each adding
        # 760-870 MiB for a moment). The results are held whole already; written at once they also land together.
        rows_per_write = customer_write_rows(store, max(frames.size, 1), batch_size)
        for start in range(0, frames.size, rows_per_write):
            customers = customer_table(result, analytics_at, slice(start, start + rows_per_write))
            store.bulk_write({NodeLabel.CUSTOMER: customers})
            report_progress("write", min(start + rows_per_write, frames.size), frames.size)
        written = frames.size
        write_found(store, NodeLabel.CLUSTER, cluster_rows(summaries, analytics_at), batch_size)
        write_found(store, NodeLabel.GUARANTEE_CIRCLE, circle_rows(circles, analytics_at), batch_size)
        report_progress("write", written, frames.size)
        # Picked from what was just written (lifetime values, co-holdings, the fitted cross-sell weights).
        step("opportunities")
        catalogue = Catalogue.from_rows(store.run(LIST_PRODUCTS))
        recommender = ArrayRecommender(frames, result.cross_sell, catalogue, store.registry, analytics, frames.as_of)
        store.write(nodes=portfolio.opportunity_rows(store, frames.as_of, analytics, recommender))
    step("done")
    if isinstance(settings, Settings):
        write_model_card(settings.model_card_path, result.churn_model)
    return AnalyzeReport(
        analytics_version=ANALYTICS_VERSION,
        analytics_at=analytics_at,
        as_of=frames.as_of,
        customers=frames.size,
        accounts=len(frames.accounts),
        ties=len(frames.tie_source),
        clusters=result.clusters,
        churn_model=result.churn_model,
        tiers=dict(sorted(Counter(result.value.tier).items())),
        stages=dict(sorted(Counter(result.value.stage).items())),
        seconds=seconds,
    )
