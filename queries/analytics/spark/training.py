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

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from graph.errors import InvalidRequest
from graph.settings import AnalyticsSettings
from queries.analytics.backtest import MIN_HISTORY_MONTHS, ChurnBacktestTables, churn_backtest_figures
from queries.analytics.model_card import HORIZON_MONTHS, ModelCard
from queries.analytics.models import MAX_TRAINING_ROWS, ChurnModel, fit_churn
from queries.analytics.spark.churn import clip, hand_set_scores, top_contributors
from queries.analytics.spark.features import OWN_COLUMNS, feature_table, network_columns
from queries.analytics.spark.frames import SparkFrames, scalar
from queries.analytics.spark.value import customer_value
from queries.analytics.training import (
    BACKTEST_SEED,
    card_backtest,
    fitted_model_card,
    too_few_leavers,
    too_little_history,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, Row

SCORING_CHUNK = 50_000  # rows a worker turns into one pandas table to score


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
    before_value: DataFrame
    before: DataFrame
    """:func:`~queries.analytics.spark.features.feature_table` at the training month-end."""
    now: DataFrame
    """... and at the latest."""

    @property
    def features_as_of(self) -> str:
        return f"{self.before_frames.as_of:%Y-%m}"


def training_window(
    frames: SparkFrames, value: DataFrame, settings: AnalyticsSettings, rank: DataFrame
) -> SparkTrainingWindow | None:
    """Both month-ends' features, kept; None without ``HORIZON_MONTHS + MIN_HISTORY_MONTHS`` of history.

    ``value``: :func:`~queries.analytics.spark.value.customer_value` of ``frames``; ``rank``: id, pagerank of
    every customer (a network feature)."""
    if frames.months < HORIZON_MONTHS + MIN_HISTORY_MONTHS:
        return None
    tie_types = sorted(row[0] for row in frames.ties.select("type").distinct().collect())
    cut = frames.months - HORIZON_MONTHS
    before_frames = frames.cut(cut).persisted()
    before_value = customer_value(before_frames, settings).localCheckpoint()
    before = feature_table(before_frames, before_value, settings, tie_types, rank).localCheckpoint()
    now = feature_table(frames, value, settings, tie_types, rank).localCheckpoint()
    return SparkTrainingWindow(cut, tie_types, before_frames, before_value, before, now)


def fitted_churn_on_spark(
    frames: SparkFrames, window: SparkTrainingWindow | None, settings: AnalyticsSettings, rank: DataFrame
) -> tuple[DataFrame | None, ModelCard]:
    """Scores of the fitted model (id, churn_own, churn_network, churn_risk, contributors, contributor_ties,
    contributions), or None and the card saying why the hand-set defaults score instead."""
    from pyspark.sql import functions as F

    if window is None:
        return None, ModelCard(model="hand-set defaults", reason=too_little_history(frames.months))
    tie_types, cut, before, now = window.tie_types, window.cut, window.before, window.now
    own_columns, network = OWN_COLUMNS, network_columns(tie_types)
    ends = frames.month_ends()
    hand_set, _ = hand_set_scores(window.before_frames, window.before_value, settings)
    labelled = (
        before.where(F.col("active"))
        .join(now.select("id", F.col("churned").alias("label")), "id")
        .join(hand_set.select("id", F.col("churn_risk").alias("default")), "id")
        .localCheckpoint()
    )
    customers = labelled.count()
    churned = int(scalar(labelled.agg(F.sum(F.col("label").cast("long")))) or 0)
    test = _collect(labelled, [*own_columns, *network])
    model = fit_churn(test.table, test.label, own_columns, network)
    if model is None:
        return None, too_few_leavers(churned, customers, ends[cut - 1])
    backtest = _backtest(frames, settings, tie_types, rank, before, test)
    card = fitted_model_card(model, tie_types, ends[cut - 1], ends[-1], (customers, churned), backtest)
    if card.model == "hand-set defaults":
        return None, card
    return _scores(frames, now, model, [*own_columns, *network]), card


def _backtest(
    frames: SparkFrames,
    settings: AnalyticsSettings,
    tie_types: list[str],
    rank: DataFrame,
    test_features: DataFrame,
    test: _Collected,
) -> dict[str, object] | None:
    """The recipe one horizon earlier, scored on the customers active at the training cut; None without the
    history for it."""
    from pyspark.sql import functions as F

    start = frames.months - 2 * HORIZON_MONTHS
    if start < MIN_HISTORY_MONTHS:
        return None
    own_columns, network = OWN_COLUMNS, network_columns(tie_types)
    earlier_frames = frames.cut(start).persisted()
    earlier_value = customer_value(earlier_frames, settings).localCheckpoint()
    earlier = feature_table(earlier_frames, earlier_value, settings, tie_types, rank).localCheckpoint()
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


def _collect(labelled: DataFrame, columns: list[str]) -> _Collected:
    """The rows (id, label, default, ``columns``) at the driver in id order: all of them, or the
    ``MAX_TRAINING_ROWS`` the in-process :func:`~queries.analytics.models.training_sample` would draw."""
    table = collect_rows(labelled, ["label", "default", *columns])
    return _Collected(
        table[columns].reset_index(drop=True),
        table["label"].to_numpy(dtype=bool),
        table["default"].to_numpy(dtype=np.float64),
        table.index.to_numpy(dtype=str),
    )


def collect_rows(frame: DataFrame, columns: list[str]) -> pd.DataFrame:
    """``columns`` of ``frame``'s rows at the driver, indexed by id in id order: all of them, or the
    ``MAX_TRAINING_ROWS`` the in-process :func:`~queries.analytics.models.training_sample` draws from the same
    rows in id order (so both engines fit on the same sample)."""
    total = frame.count()
    if total > MAX_TRAINING_ROWS:
        chosen = np.sort(np.random.default_rng(0).choice(total, MAX_TRAINING_ROWS, replace=False))
        spark = frame.sparkSession
        keep = spark.sparkContext.broadcast(frozenset(chosen.tolist()))
        numbered = frame.select("id").rdd.map(lambda row: row[0]).sortBy(lambda key: key).zipWithIndex()
        picked = numbered.filter(lambda pair: pair[1] in keep.value).map(lambda pair: (pair[0],))
        frame = frame.join(spark.createDataFrame(picked, "id string"), "id", "left_semi")
    # As Arrow columns, not Row objects: a fraction of the driver's time and memory per row.
    table = frame.select("id", *columns).toArrow().sort_by("id")
    return pd.DataFrame(
        {name: table.column(name).to_numpy() for name in columns},
        columns=columns,
        index=pd.Index(table.column("id").to_pylist(), name="id"),
    )


def _scores(frames: SparkFrames, now: DataFrame, model: ChurnModel, columns: list[str]) -> DataFrame:
    """Every customer scored on the workers with the broadcast model; churned customers score 1."""
    from pyspark.sql import functions as F

    spark = now.sparkSession
    shared = spark.sparkContext.broadcast(model)

    def score(rows: Iterable[Row]) -> Iterator[tuple[str, float, float]]:
        chunk: list[Row] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= SCORING_CHUNK:
                yield from _scored_chunk(shared.value, chunk, columns)
                chunk = []
        if chunk:
            yield from _scored_chunk(shared.value, chunk, columns)

    predicted = spark.createDataFrame(
        now.select("id", *columns).rdd.mapPartitions(score), "id string, own double, risk double"
    )
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


def _scored_chunk(model: ChurnModel, rows: list[Row], columns: list[str]) -> Iterator[tuple[str, float, float]]:
    table = pd.DataFrame([row[1:] for row in rows], columns=columns, dtype=np.float64)
    own, risk = model.predict_own(table), model.predict(table)
    return zip([row[0] for row in rows], own.tolist(), risk.tolist(), strict=True)


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
