"""Stable cluster ids, cluster summaries and co-holdings as DataFrame aggregations (the in-process twins:
:func:`~queries.analytics.community.stable_cluster_ids`, :func:`~queries.analytics.community.summarise_clusters`
and :func:`~queries.analytics.analyze.co_holdings`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from graph.model import NodeLabel, TieType
from queries.analytics.community import CENTRAL_MEMBERS, ID_PREFIX, MAX_DRAWN_MEMBERS, match_previous_ids
from queries.analytics.spark.frames import SparkFrames, scalar

if TYPE_CHECKING:
    from pyspark.sql import DataFrame


def stable_cluster_ids(communities: DataFrame, previous: DataFrame, threshold: float) -> DataFrame:
    """id, cluster_id: each community takes the previous cluster id it overlaps most (Jaccard >= threshold,
    greedily from the best overlap), else a fresh id numbered after the highest previous one, in the order of
    the communities' smallest members.

    ``previous``: id, cluster_id of every customer (null when it had none). Only the candidate pairs (about one
    per cluster) reach the driver for the greedy choice.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    spark = communities.sparkSession
    before = previous.where(F.col("cluster_id").isNotNull())
    previous_sizes = before.groupBy("cluster_id").agg(F.count(F.lit(1)).alias("previous_size"))
    sizes = communities.groupBy("community").agg(F.count(F.lit(1)).alias("size"))
    overlaps = (
        communities.join(before, "id")
        .groupBy("community", "cluster_id")
        .agg(F.count(F.lit(1)).alias("overlap"))
        .join(sizes, "community")
        .join(previous_sizes, "cluster_id")
        .select(
            "community",
            "cluster_id",
            (F.col("overlap") / (F.col("size") + F.col("previous_size") - F.col("overlap"))).alias("jaccard"),
        )
        .where(F.col("jaccard") >= threshold)
    )
    assigned = match_previous_ids((row.jaccard, row.community, row.cluster_id) for row in overlaps.toLocalIterator())
    digits = F.regexp_extract("cluster_id", f"^{ID_PREFIX}([0-9]+)$", 1)
    highest = scalar(previous_sizes.agg(F.max(F.when(digits != "", digits.cast("long")).otherwise(0)))) or 0
    kept = spark.createDataFrame(list(assigned.items()), "community string, cluster_id string")
    fresh = (
        sizes.select("community")
        .join(kept, "community", "left_anti")
        .withColumn("number", F.row_number().over(Window.orderBy("community")) + highest)
        .select("community", F.format_string(f"{ID_PREFIX}%06d", F.col("number")).alias("cluster_id"))
    )
    return communities.join(kept.unionByName(fresh), "community").select("id", "cluster_id")


def cluster_summaries(frames: SparkFrames, customers: DataFrame, holdings: DataFrame) -> DataFrame:
    """One row per cluster, largest first (then by id): the properties of its Cluster node but ``rank``.

    ``customers``: id, cluster_id, aum, pagerank, status; ``holdings``: customer, product_id held.
    Amounts and ranks are rounded as they are written back before they are summed or ordered.
    """
    from pyspark.sql import functions as F

    members = customers.where(F.col("cluster_id").isNotNull()).select(
        "id",
        "cluster_id",
        F.round("aum", 2).alias("aum"),
        F.round("pagerank", 12).alias("pagerank"),
        (F.col("status") == "churned").alias("churned"),
    )
    referrals = frames.ties.where(F.col("type") == TieType.REFERRED.value)
    made = referrals.groupBy(F.col("source").alias("id")).agg(F.count(F.lit(1)).alias("made"))
    received = referrals.groupBy(F.col("target").alias("id")).agg(F.count(F.lit(1)).alias("received"))
    members = members.join(made, "id", "left").join(received, "id", "left").na.fill(0, ["made", "received"])
    central = F.array_sort(F.collect_list(F.struct((-F.col("pagerank")).alias("order"), F.col("id"))))
    summaries = members.groupBy("cluster_id").agg(
        F.count(F.lit(1)).alias("size"),
        F.round(F.sum("aum"), 2).alias("total_aum"),
        F.slice(central, 1, MAX_DRAWN_MEMBERS).alias("drawn"),
        F.round(F.sum("made") / F.count(F.lit(1)), 6).alias("referrals_per_member"),
        F.sum((F.col("received") > 0).cast("long")).alias("referred"),
        F.sum(((F.col("received") > 0) & ~F.col("churned")).cast("long")).alias("referred_active"),
    )
    penetration = (
        members.select("id", "cluster_id")
        .join(holdings.withColumnRenamed("customer", "id"), "id")
        .groupBy("cluster_id", "product_id")
        .agg(F.count(F.lit(1)).alias("holders"))
        .groupBy("cluster_id")
        .agg(F.array_sort(F.collect_list(F.struct("product_id", "holders"))).alias("held"))
    )
    return (
        summaries.join(penetration, "cluster_id", "left")
        .select(
            "cluster_id",
            "size",
            "total_aum",
            F.transform(F.slice("drawn", 1, CENTRAL_MEMBERS), lambda member: member["id"]).alias("central_members"),
            F.transform("drawn", lambda member: member["id"]).alias("drawn_members"),
            F.coalesce(F.col("held.product_id"), F.array().cast("array<string>")).alias("penetration_products"),
            F.coalesce(
                F.transform("held", lambda item: F.round(item["holders"] / F.col("size"), 6)),
                F.array().cast("array<double>"),
            ).alias("penetration_shares"),
            "referrals_per_member",
            F.when(F.col("referred") > 0, F.round(F.col("referred_active") / F.col("referred"), 6))
            .otherwise(F.lit(0.0))
            .alias("referred_active_share"),
        )
        .orderBy(F.col("size").desc(), F.col("cluster_id").asc())
    )


def open_holdings(frames: SparkFrames) -> DataFrame:
    """customer, product_id: products held through an open account owned as owner or joint holder."""
    from pyspark.sql import functions as F

    return (
        frames.owners.join(frames.accounts.where(~F.col("closed") & (F.col("product_id") != "")), "account")
        .select("customer", "product_id")
        .distinct()
    )


def co_holdings(frames: SparkFrames, holdings: DataFrame, customers: int) -> list[dict[str, Any]]:
    """Product node rows: holders, holder share and co-held counts (a products x products table: small)."""
    from pyspark.sql import functions as F

    known = holdings.join(frames.products.select("product_id"), "product_id", "left_semi")
    pairs = (
        known.alias("one")
        .join(known.alias("other"), "customer")
        .groupBy(F.col("one.product_id").alias("product"), F.col("other.product_id").alias("other"))
        .agg(F.count(F.lit(1)).alias("together"))
    )
    together = {(row.product, row.other): int(row.together) for row in pairs.collect()}
    product_ids = sorted(row.product_id for row in frames.products.select("product_id").collect())
    rows = []
    for product_id in product_ids:
        others = [other for other in product_ids if other != product_id and together.get((product_id, other), 0) > 0]
        holders = together.get((product_id, product_id), 0)
        rows.append(
            {
                "label": NodeLabel.PRODUCT,
                "id": product_id,
                "properties": {
                    "holders": holders,
                    "holder_share": round(float(holders) / max(customers, 1), 6),
                    "co_held_products": others,
                    "co_held_counts": [together[(product_id, other)] for other in others],
                },
            }
        )
    return rows
