"""The fitted churn model on Spark: features on the workers, fitting on the driver from a bounded sample, scoring
on the workers with the fitted model broadcast (the in-process recipe and the card's meaning:
:mod:`queries.analytics.training`).

The features of the customers active at the training cut (``HORIZON_MONTHS`` before the latest month-end) are
computed as DataFrames; at most ``MAX_TRAINING_ROWS`` of them, drawn as the in-process engine draws its sample,
reach the driver, where the in-process fitting code (:func:`~queries.analytics.models.fit_churn`) fits the same
model on the same rows. The same rows, with the hand-set score at the cut, are the backtest's test table; its
training table is the same recipe one horizon earlier. So the driver holds a bounded table whatever the size of
the bank, and at or under ``MAX_TRAINING_ROWS`` active customers both engines fit and backtest on identical
tables. Every customer is then scored on the workers, a partition at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from graph.errors import InvalidRequest
from graph.settings import AnalyticsSettings
from queries.analytics.backtest import MIN_HISTORY_MONTHS, ChurnBacktestTables, churn_backtest_figures
from queries.analytics.model_card import HORIZON_MONTHS, ModelCard
from queries.analytics.models import MAX_TRAINING_ROWS, ChurnModel, fit_churn
from queries.analytics.spark.churn import (
    churn_scores,
    clip,
    combined_scores,
    relational_neighbour,
    spread_network,
    starting_energy,
    top_contributors,
)
from queries.analytics.spark.features import (
    OWN_COLUMNS,
    SPREADING_SEED,
    feature_table,
    network_columns,
    own_feature_table,
)
from queries.analytics.spark.frames import SparkFrames, fixed_partitioning
from queries.analytics.spark.network import spread_energies
from queries.analytics.spark.scoring import scored_on_workers
from queries.analytics.spark.value import customer_value
from queries.analytics.training import (
    BACKTEST_SEED,
    card_backtest,
    fitted_model_card,
    too_few_leavers,
    too_little_history,
)

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import DataFrame


@dataclass(frozen=True)
class _Collected:
    """Rows that reached the driver, in id order: features, label, hand-set score at the cut, ids."""

    table: pd.DataFrame
    label: np.ndarray
    default: np.ndarray
    ids: np.ndarray


@dataclass(frozen=True)
class SparkTrainingWindow:
    """The bank ``HORIZON_MONTHS`` before its latest month-end (features) and now (labels, and scoring): each
    month-end's features computed once, for every fitted model (the in-process ``TrainingWindow``)."""

    cut: int  # balance positions up to the training month-end
    tie_types: list[str]
    before_frames: SparkFrames
    before: DataFrame
    """:func:`~queries.analytics.spark.features.feature_table` at the training month-end."""
    now: DataFrame
    """... and at the latest."""
    earlier: DataFrame | None
    """... and one horizon before the training month-end (the backtest's training rows); None without the
    history for it."""
    default_at_cut: DataFrame
    """id, default: the hand-set churn risk at the training month-end (the backtest's reference)."""

    @property
    def features_as_of(self) -> str:
        return f"{self.before_frames.as_of:%Y-%m}"


def training_window(
    frames: SparkFrames, value: DataFrame, settings: AnalyticsSettings, rank: DataFrame
) -> SparkTrainingWindow | None:
    """Every month-end's features, kept; None without ``HORIZON_MONTHS + MIN_HISTORY_MONTHS`` of history.

    The month-ends' spreading (of each one's leavers for its features, and of the hand-set risk at the
    training month-end for the backtest's reference) is one run carrying every seed as a column: the ties are
    the same at every month-end, so its steps serve all of them at once.

    ``value``: :func:`~queries.analytics.spark.value.customer_value` of ``frames``; ``rank``: id, pagerank of
    every customer (a network feature)."""
    from pyspark.sql import functions as F

    if frames.months < HORIZON_MONTHS + MIN_HISTORY_MONTHS:
        return None
    tie_types = sorted(row[0] for row in frames.ties.select("type").distinct().collect())
    cut, start = frames.months - HORIZON_MONTHS, frames.months - 2 * HORIZON_MONTHS
    month_ends = {"now": (frames, value), "before": _month_end(frames, cut, settings)}
    if start >= MIN_HISTORY_MONTHS:
        month_ends["earlier"] = _month_end(frames, start, settings)
    own = {
        name: own_feature_table(month_frames, month_value, settings).localCheckpoint()
        for name, (month_frames, month_value) in month_ends.items()
    }
    scored_at_cut = own["before"].select("id", F.col("hand_set_own_risk").alias("own"), "churned")
    seeds = {name: table.select("id", F.col(SPREADING_SEED).cast("double").alias(name)) for name, table in own.items()}
    spreads_hand_set = settings.network_method != "relational_neighbour"
    if spreads_hand_set:
        seeds["hand_set"] = scored_at_cut.select("id", starting_energy(settings).alias("hand_set"))
    received, _ = spread_energies(
        frames.transfer,
        reduce(lambda joined, seed: joined.join(seed, "id"), seeds.values()),
        list(seeds),
        settings.spreading_factor,
        settings.spreading_threshold,
        settings.spreading_max_steps,
    )
    received = received.localCheckpoint()
    customers = frames.customers.count()  # the same at every month-end
    features = {
        name: feature_table(
            month_ends[name][0], table, received.select("id", F.col(name).alias("received")), tie_types, rank, customers
        ).localCheckpoint()
        for name, table in own.items()
    }
    if spreads_hand_set:
        network = spread_network(received, "hand_set")
    else:
        _, network = relational_neighbour(month_ends["before"][0], scored_at_cut)
    default_at_cut = combined_scores(scored_at_cut, network, settings).select(
        "id", F.col("churn_risk").alias("default")
    )
    return SparkTrainingWindow(
        cut,
        tie_types,
        month_ends["before"][0],
        features["before"],
        features["now"],
        features.get("earlier"),
        default_at_cut,
    )


def _month_end(frames: SparkFrames, months: int, settings: AnalyticsSettings) -> tuple[SparkFrames, DataFrame]:
    """The bank at the end of balance position ``months - 1``, kept, and its value."""
    cut = frames.cut(months).persisted(accounts=False)
    return cut, customer_value(cut, settings).localCheckpoint()


def churn_step(
    frames: SparkFrames, value: DataFrame, settings: AnalyticsSettings, rank: DataFrame
) -> tuple[SparkTrainingWindow | None, DataFrame, ModelCard]:
    """The churn step: its training window (None without enough history), every customer's churn scores (the
    fitted model's, or the hand-set defaults'), kept, and the model card.

    Run without adaptive execution: it would run each shuffle and each broadcast of the step's many small queries
    as a job of its own (about two thirds of the step's jobs), and the frames it keeps need no re-planning."""
    with fixed_partitioning(frames.customers.sparkSession):
        window = training_window(frames, value, settings, rank)
        fitted, card = fitted_churn_on_spark(frames, window)
        churn = (fitted if fitted is not None else churn_scores(frames, value, settings)).localCheckpoint()
    return window, churn, card


def fitted_churn_on_spark(
    frames: SparkFrames, window: SparkTrainingWindow | None
) -> tuple[DataFrame | None, ModelCard]:
    """Scores of the fitted model (id, churn_own, churn_network, churn_risk, contributors, contributor_ties,
    contributions), or None and the card saying why the hand-set defaults score instead."""
    from pyspark.sql import functions as F

    if window is None:
        return None, ModelCard(model="hand-set defaults", reason=too_little_history(frames.months))
    tie_types, cut, before, now = window.tie_types, window.cut, window.before, window.now
    own_columns, network = OWN_COLUMNS, network_columns(tie_types)
    ends = frames.month_ends()
    labelled = (
        before.where(F.col("active"))
        .join(now.select("id", F.col("churned").alias("label")), "id")
        .join(window.default_at_cut, "id")
        .localCheckpoint()
    )
    # Both counts in one job; the rows' count also spares the collection its own.
    counted = labelled.agg(F.count(F.lit(1)), F.sum(F.col("label").cast("long"))).first()
    customers, churned = (int(counted[0]), int(counted[1] or 0)) if counted is not None else (0, 0)
    test = _collect(labelled, [*own_columns, *network], customers)
    model = fit_churn(test.table, test.label, own_columns, network)
    if model is None:
        return None, too_few_leavers(churned, customers, ends[cut - 1])
    backtest = _backtest(window.earlier, before, test, tie_types)
    card = fitted_model_card(model, tie_types, ends[cut - 1], ends[-1], (customers, churned), backtest)
    if card.model == "hand-set defaults":
        return None, card
    return _scores(frames, now, model, [*own_columns, *network]), card


def _backtest(
    earlier: DataFrame | None, test_features: DataFrame, test: _Collected, tie_types: list[str]
) -> dict[str, object] | None:
    """The recipe one horizon earlier (features ``earlier``), scored on the customers active at the training
    cut; None without the history for it."""
    from pyspark.sql import functions as F

    if earlier is None:
        return None
    own_columns, network = OWN_COLUMNS, network_columns(tie_types)
    labelled = (
        earlier.where(F.col("active"))
        .join(test_features.select("id", F.col("churned").alias("label")), "id")
        .withColumn("default", F.lit(0.0))
    )
    train = _collect(labelled, [*own_columns, *network])
    tables = ChurnBacktestTables(
        train=train.table, label=train.label, test=test.table, outcome=test.label, default=test.default, ids=test.ids
    )
    try:
        figures = churn_backtest_figures(tables, own_columns, network, tie_types, BACKTEST_SEED)
    except InvalidRequest as error:  # too few leavers in a window: the card says so instead of figures
        return {"not_scored": str(error)}
    return card_backtest(figures)


def _collect(labelled: DataFrame, columns: list[str], total: int | None = None) -> _Collected:
    """The rows (id, label, default, ``columns``) at the driver in id order: all of them, or the
    ``MAX_TRAINING_ROWS`` the in-process :func:`~queries.analytics.models.training_sample` would draw.
    ``total``: the rows, when counted already."""
    table = collect_rows(labelled, ["label", "default", *columns], total=total)
    return _Collected(
        table[columns].reset_index(drop=True),
        table["label"].to_numpy(dtype=bool),
        table["default"].to_numpy(dtype=np.float64),
        table.index.to_numpy(dtype=str),
    )


def collect_rows(
    frame: DataFrame, columns: list[str], limit: int | None = None, total: int | None = None
) -> pd.DataFrame:
    """``columns`` of ``frame``'s rows (one per id) at the driver, indexed by id in id order: all of them, or the
    ``limit`` (``MAX_TRAINING_ROWS``) that the in-process :func:`~queries.analytics.models.training_sample` draws
    from the same rows in id order (so both engines fit on the same sample). ``total``: the frame's rows, when
    the caller has counted them (a job saved)."""
    limit = MAX_TRAINING_ROWS if limit is None else limit
    total = frame.count() if total is None else total
    if total > limit:
        picked = frame.sparkSession.createDataFrame(pa_table({"position": sample_positions(total, limit)}))
        frame = frame.join(id_positions(frame).join(picked, "position", "left_semi"), "id", "left_semi")
    # As Arrow columns, not Row objects: a fraction of the driver's time and memory per row.
    return arrow_rows(frame.select("id", *columns).toArrow(), columns)


def sample_positions(total: int, limit: int) -> np.ndarray:
    """The places in id order (from 0) of the ``limit`` rows of ``total`` that the in-process
    :func:`~queries.analytics.models.training_sample` draws, in order."""
    return np.sort(np.random.default_rng(0).choice(total, limit, replace=False))


def pa_table(columns: dict[str, np.ndarray]) -> pa.Table:
    """Numpy columns as an Arrow table: what ``createDataFrame`` takes without a Python object per row."""
    import pyarrow as pa

    return pa.table({name: pa.array(values) for name, values in columns.items()})


def arrow_rows(table: pa.Table, columns: list[str]) -> pd.DataFrame:
    """``columns`` of ``table`` (one row per id) as a pandas table indexed by id, in id order."""
    table = table.sort_by("id")
    return pd.DataFrame(
        {name: table.column(name).to_numpy() for name in columns},
        columns=columns,
        index=pd.Index(table.column("id").to_pylist(), name="id"),
    )


def id_positions(frame: DataFrame) -> DataFrame:
    """id, position: each (distinct) id's place in id order, from 0, numbered on the workers: the ids sorted
    into ranges, kept (a new sort could draw other ranges), and each range's first place from the counts of the
    ranges before it (a few numbers at the driver)."""
    from pyspark.sql import functions as F

    ranged = (
        frame.select("id")
        .orderBy("id")
        .select("id", F.spark_partition_id().alias("part"), F.monotonically_increasing_id().alias("row"))
        .localCheckpoint()
    )
    sizes = ranged.groupBy("part").agg(F.count(F.lit(1)).alias("rows")).collect()
    counts = sorted((row["part"], row["rows"]) for row in sizes)
    first, offsets = 0, []
    for part, rows in counts:
        offsets.append((part, first))
        first += rows
    starts = frame.sparkSession.createDataFrame(offsets, "part int, first long")
    # monotonically_increasing_id is the partition's number times 2^33 plus the row's place within it.
    return ranged.join(F.broadcast(starts), "part").select(
        "id", (F.col("first") + F.col("row") - F.shiftleft(F.col("part").cast("long"), 33)).alias("position")
    )


def _scores(frames: SparkFrames, now: DataFrame, model: ChurnModel, columns: list[str]) -> DataFrame:
    """Every customer scored on the workers with the broadcast model; churned customers score 1."""
    from pyspark.sql import functions as F

    shared = now.sparkSession.sparkContext.broadcast(model)

    def score(batch: pa.RecordBatch, table: pd.DataFrame) -> pa.RecordBatch:
        return _scored_batch(shared.value, batch, table)

    predicted = scored_on_workers(now, ["id"], columns, score, "id string, own double, risk double")
    churned = F.col("churned")
    scores = (
        now.select("id", "churned")
        .join(predicted, "id")
        .select(
            "id",
            F.when(churned, F.lit(1.0)).otherwise(F.col("own")).alias("churn_own"),
            F.when(churned, F.lit(0.0)).otherwise(clip(F.col("risk") - F.col("own"), 0.0, 1.0)).alias("churn_network"),
            F.when(churned, F.lit(1.0)).otherwise(F.col("risk")).alias("churn_risk"),
            "churned",
        )
    )
    contribution = _tie_contributions(frames, now, model)
    return scores.join(top_contributors(contribution, scores), "id", "left").drop("churned")


def _scored_batch(model: ChurnModel, batch: pa.RecordBatch, table: pd.DataFrame) -> pa.RecordBatch:
    import pyarrow as pa

    own, risk = model.predict_own(table), model.predict(table)
    return pa.RecordBatch.from_arrays(
        [batch.column("id"), pa.array(own, pa.float64()), pa.array(risk, pa.float64())], names=["id", "own", "risk"]
    )


def _tie_contributions(frames: SparkFrames, now: DataFrame, model: ChurnModel) -> DataFrame:
    """source, target, type, contribution: the positive log-odds each tie from a neighbour who left within
    the memory brings its target through the fitted terms, as in-process."""
    from pyspark.sql import functions as F

    weights = model.weights
    tie_types = sorted(name.removeprefix("recently_churned_") for name in weights if name.startswith("recently_"))
    # Without the network terms (left out by the inner validation) no tie type has a weight: an empty map
    # would have no value type, so the per-type part is a plain 0.
    per_type = (
        F.create_map(
            *[
                item
                for tie_type in tie_types
                for item in (F.lit(tie_type), F.lit(max(weights[f"recently_churned_{tie_type}"], 0.0)))
            ]
        )[F.col("type")]
        if tie_types
        else F.lit(0.0)
    )
    pooled = max(weights.get("churned_neighbours", 0.0), 0.0)
    sources = now.where(F.col("left_within_memory")).select(
        F.col("id").alias("source"), F.col("left_recently").cast("double").alias("recent")
    )
    chosen = frames.directed.join(sources, "source")
    count = chosen.groupBy("target").agg(F.count(F.lit(1)).cast("double").alias("count"))
    share = F.log1p(F.col("count")) / F.col("count")
    return chosen.join(count, "target").select(
        "source",
        "target",
        "type",
        (pooled * share + F.coalesce(per_type, F.lit(0.0)) * F.col("recent")).alias("contribution"),
    )
