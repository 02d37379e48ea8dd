"""Churn risk with the documented hand-set model, as DataFrame joins (the in-process twin and the meaning of every
term: :mod:`queries.analytics.churn`): own signals, risk spreading (or the relational neighbour), and the five
neighbours that contributed most."""

from __future__ import annotations

from typing import TYPE_CHECKING

from graph.settings import AnalyticsSettings
from queries.analytics.churn import FULL_DECLINE, STAGE_SIGNAL, TOP_CONTRIBUTORS
from queries.analytics.spark.frames import SparkFrames
from queries.analytics.spark.network import spread_energies

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame


def clip(value: Column, low: float, high: float) -> Column:
    from pyspark.sql import functions as F

    return F.least(F.greatest(value, F.lit(low)), F.lit(high))


def own_risk(frames: SparkFrames, value: DataFrame, settings: AnalyticsSettings) -> DataFrame:
    """value's columns plus ``own``: weighted own signals in [0, 1]; 1 for churned customers."""
    from pyspark.sql import functions as F

    last_contact = frames.interactions.groupBy(F.col("customer").alias("id")).agg(F.max("at").alias("last_contact"))
    idle_days = F.datediff(F.lit(frames.as_of), F.col("last_contact"))
    inactivity = F.when(F.col("last_contact").isNull(), F.lit(1.0)).otherwise(
        clip(idle_days / float(settings.inactivity_days), 0.0, 1.0)
    )
    stage = F.lit(0.0)
    for name, signal in STAGE_SIGNAL.items():
        stage = F.when(F.col("stage") == name, F.lit(signal)).otherwise(stage)
    weights = settings.own_weights
    score = (
        weights.get("decline", 0.0) * clip(-F.col("trend") / FULL_DECLINE, 0.0, 1.0)
        + weights.get("closed", 0.0) * F.col("closed_share")
        + weights.get("inactivity", 0.0) * inactivity
        + weights.get("stage", 0.0) * stage
    )
    return (
        value.join(last_contact, "id", "left")
        .withColumn("own", F.when(F.col("churned"), F.lit(1.0)).otherwise(clip(score, 0.0, 1.0)))
        .drop("last_contact")
    )


def churn_scores(frames: SparkFrames, value: DataFrame, settings: AnalyticsSettings) -> DataFrame:
    """One row per customer: id, churn_own, churn_network, churn_risk, contributors, contributor_ties, contributions."""
    scores, contribution = hand_set_scores(frames, value, settings)
    return scores.join(top_contributors(contribution, scores), "id", "left").drop("churned")


def hand_set_scores(frames: SparkFrames, value: DataFrame, settings: AnalyticsSettings) -> tuple[DataFrame, DataFrame]:
    """(id, churn_own, churn_network, churn_risk, churned) of every customer and (source, target, type,
    contribution) of every directed tie: the scores alone, for a use that needs no contributors."""
    from pyspark.sql import functions as F

    scored = own_risk(frames, value, settings).select("id", "own", "churned").localCheckpoint()
    if settings.network_method == "relational_neighbour":
        contribution, network = relational_neighbour(frames, scored)
    else:
        received, passed = spread_energies(
            frames.transfer,
            scored.select("id", starting_energy(settings).alias("energy")),
            ["energy"],
            settings.spreading_factor,
            settings.spreading_threshold,
            settings.spreading_max_steps,
        )
        contribution = frames.transfer.join(passed.withColumnRenamed("id", "source"), "source").select(
            "source", "target", "type", (F.col("energy") * F.col("share")).alias("contribution")
        )
        network = spread_network(received, "energy")
    return combined_scores(scored, network, settings), contribution


def starting_energy(settings: AnalyticsSettings) -> Column:
    """What a customer spreads (of columns own, churned): 1 when churned, own risk at or above
    ``leaving_risk``, else 0 (the in-process ``initial_energy``)."""
    from pyspark.sql import functions as F

    return (
        F.when(F.col("churned"), F.lit(1.0))
        .when(F.col("own") >= settings.leaving_risk, F.col("own"))
        .otherwise(F.lit(0.0))
    )


def spread_network(received: DataFrame, run: str) -> DataFrame:
    """id, network: the network score from what a spreading run (column ``run`` of ``received``) brought."""
    from pyspark.sql import functions as F

    return received.select("id", (1.0 - F.exp(-F.col(run))).alias("network"))


def combined_scores(scored: DataFrame, network: DataFrame, settings: AnalyticsSettings) -> DataFrame:
    """id, churn_own, churn_network, churn_risk, churned from ``scored`` (id, own, churned) and ``network``
    (id, network: customers without a row have none)."""
    from pyspark.sql import functions as F

    churned = F.col("churned")
    network_score = F.when(churned, F.lit(0.0)).otherwise(clip(F.coalesce("network", F.lit(0.0)), 0.0, 1.0))
    return (
        scored.join(network, "id", "left")
        .withColumn("churn_network", network_score)
        .withColumn(
            "churn_risk",
            F.when(churned, F.lit(1.0)).otherwise(
                1.0 - (1.0 - F.col("own")) * (1.0 - settings.network_weight * F.col("churn_network"))
            ),
        )
        .select("id", F.col("own").alias("churn_own"), "churn_network", "churn_risk", "churned")
    )


def relational_neighbour(frames: SparkFrames, scored: DataFrame) -> tuple[DataFrame, DataFrame]:
    """(source, target, type, contribution) of every directed tie and (id, network): the weighted vote of the
    neighbours who left, of ``scored`` (id, churned)."""
    from pyspark.sql import functions as F

    directed = frames.directed.join(
        scored.select(F.col("id").alias("source"), F.col("churned").alias("source_churned")), "source"
    )
    total = directed.groupBy("target").agg(F.sum("weight").alias("total"))
    contribution = directed.join(total, "target").select(
        "source",
        "target",
        "type",
        F.when(F.col("total") > 0, F.col("weight") * F.col("source_churned").cast("double") / F.col("total"))
        .otherwise(F.lit(0.0))
        .alias("contribution"),
    )
    network = contribution.groupBy(F.col("target").alias("id")).agg(F.sum("contribution").alias("network"))
    return contribution, network


def top_contributors(contribution: DataFrame, scores: DataFrame) -> DataFrame:
    """id, contributors, contributor_ties, contributions: the five ties that brought the most, with their share
    of everything received; ties in contribution broken by neighbour id, then tie type."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    active = scores.where(~F.col("churned")).select(F.col("id").alias("target"))
    kept = contribution.where(F.col("contribution") > 0).join(active, "target", "left_semi")
    by_target = Window.partitionBy("target")
    ranked = (
        kept.withColumn("share", F.round(F.col("contribution") / F.sum("contribution").over(by_target), 6))
        .withColumn(
            "position",
            F.row_number().over(
                by_target.orderBy(F.col("contribution").desc(), F.col("source").asc(), F.col("type").asc())
            ),
        )
        .where(F.col("position") <= TOP_CONTRIBUTORS)
    )
    ordered = F.array_sort(F.collect_list(F.struct("position", "source", "type", "share")))
    return (
        ranked.groupBy(F.col("target").alias("id"))
        .agg(ordered.alias("top"))
        .select(
            "id",
            F.col("top.source").alias("contributors"),
            F.col("top.type").alias("contributor_ties"),
            F.col("top.share").alias("contributions"),
        )
    )
