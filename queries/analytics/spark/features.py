"""The fitted models' features of every customer as of a month-end, as DataFrame joins and aggregations (the
in-process twin, which defines every term, is :mod:`queries.analytics.features`).

One row per customer: ``id``, the flags the training and the contributors need (``churned``, ``active``,
``left_recently``, ``left_within_memory``), then the own features and the network features under the names and
in the order the in-process tables use, so that the in-process fitting code reads them as it reads its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from graph.settings import AnalyticsSettings
from queries.analytics.features import CHURN_MEMORY_MONTHS, NO_CONTACT_MONTHS, RECENT_MONTHS, SEGMENTS
from queries.analytics.spark.churn import clip, own_risk
from queries.analytics.spark.frames import SparkFrames

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

OWN_COLUMNS = [
    "balance_level",
    "balance_trend",
    "balance_change_3m",
    "tenure",
    "products_held",
    "closed_share",
    "contacts_12m",
    "months_since_contact",
    "age",
    "is_company",
    "hand_set_own_risk",
    *(f"segment_{name}" for name in SEGMENTS),
]
FLAGS = ["churned", "active", "left_recently", "left_within_memory"]
DAYS_PER_MONTH = 30.44  # as the in-process features count months since a contact or a departure


def network_columns(tie_types: list[str]) -> list[str]:
    """The network feature names, in the in-process order."""
    return [
        *(f"recently_churned_{tie_type}" for tie_type in tie_types),
        "degree",
        "churned_neighbours",
        "churned_share",
        "relational_neighbour",
        "spreading",
        "neighbours_balance_trend",
        "neighbours_at_risk",
        "riskiest_neighbour",
        "pagerank",
    ]


def _log1p(column: Column) -> Column:
    from pyspark.sql import functions as F

    return F.log1p(column)


def own_feature_table(frames: SparkFrames, value: DataFrame, settings: AnalyticsSettings) -> DataFrame:
    """id, churned, trend, the flags and the own features of every customer as of ``frames.as_of``: the first
    of a feature table's two parts. Every month-end's own features come first, so that one spreading run can
    start from all of them (:data:`SPREADING_SEED`) and serve every month-end's :func:`feature_table`.

    ``value``: :func:`~queries.analytics.spark.value.customer_value` of ``frames``."""
    return _own_features(frames, own_risk(frames, value, settings))


SPREADING_SEED = "left_within_memory"
"""The own table's flag whose spreading is the ``spreading`` feature (a leaver within the memory starts with 1)."""


def feature_table(
    frames: SparkFrames, own: DataFrame, received: DataFrame, tie_types: list[str], rank: DataFrame, customers: int
) -> DataFrame:
    """id, the flags, then the own and network features of every customer as of ``frames.as_of``.

    ``own``: :func:`own_feature_table` of ``frames``; ``received``: id, received: what spreading from its
    :data:`SPREADING_SEED` brought each customer; ``rank``: id, pagerank (PageRank reads only the ties, which
    every month-end shares); ``customers``: how many there are (every month-end has them all), counted once by
    the caller: a count is a job."""
    from pyspark.sql import functions as F

    network = _network_features(frames, own, received, tie_types, rank, customers)
    return own.join(network, "id", "left").select(
        "id", *FLAGS, *OWN_COLUMNS, *(F.coalesce(name, F.lit(0.0)).alias(name) for name in network_columns(tie_types))
    )


def _own_features(frames: SparkFrames, value: DataFrame) -> DataFrame:
    """value's rows with the flags and the own features."""
    from pyspark.sql import functions as F

    as_of = F.lit(frames.as_of)
    size = F.size("balances")
    back = min(4, frames.months)  # balance_change_3m compares with this many month-ends back, the latest one
    per_account = frames.accounts.select(
        "account",
        "product_id",
        "closed",
        "closed_on",
        F.when(size > 0, F.abs(F.element_at("balances", -1))).otherwise(F.lit(0.0)).alias("latest"),
        F.when(size >= back, F.abs(F.element_at("balances", size - back + 1))).otherwise(F.lit(0.0)).alias("earlier"),
    )
    products = frames.products.select("product_id")
    held = frames.owners.join(per_account, "account")
    per_customer = held.groupBy(F.col("customer").alias("id")).agg(
        F.sum("latest").alias("latest"),
        F.sum("earlier").alias("earlier"),
        F.sum((~F.col("closed")).cast("long")).alias("open_accounts"),
        F.max(F.when(F.col("closed"), F.col("closed_on"))).alias("left_on"),
    )
    products_held = (
        held.where(~F.col("closed"))
        .join(products, "product_id", "left_semi")
        .groupBy(F.col("customer").alias("id"))
        .agg(F.countDistinct("product_id").alias("products_held"))
    )
    contacts = frames.interactions.groupBy(F.col("customer").alias("id")).agg(
        F.max("at").alias("last_contact"),
        F.sum((F.col("at") > F.date_sub(as_of, 365)).cast("long")).alias("contacts_12m"),
    )
    table = (
        value.join(per_customer, "id", "left")
        .join(products_held, "id", "left")
        .join(contacts, "id", "left")
        .na.fill(0.0, ["latest", "earlier"])
        .na.fill(0, ["open_accounts", "products_held", "contacts_12m"])
    )
    left = F.col("churned") & (F.col("open_accounts") == 0) & F.col("left_on").isNotNull()

    def left_within(months: int) -> Column:
        return left & (F.col("left_on") > F.date_sub(as_of, round(months * DAYS_PER_MONTH)))

    idle = F.datediff(as_of, F.col("last_contact")) / DAYS_PER_MONTH
    age = F.coalesce(F.datediff(as_of, F.col("birth_date")) / 365.25, F.lit(0.0))
    since = F.col("customer_since")
    columns = {
        "left_recently": left_within(RECENT_MONTHS),
        "left_within_memory": left_within(CHURN_MEMORY_MONTHS),
        "active": (since.isNull() | (since <= as_of)) & ~F.col("churned") & (F.col("products_held") > 0),
        "balance_level": _log1p(F.col("latest")),
        "balance_trend": clip(F.col("trend"), -2.0, 2.0),
        "balance_change_3m": _log1p(F.col("latest")) - _log1p(F.col("earlier")),
        "tenure": _log1p(F.col("tenure")),
        "products_held": F.col("products_held").cast("double"),
        "closed_share": F.col("closed_share"),
        "contacts_12m": _log1p(F.col("contacts_12m").cast("double")),
        "months_since_contact": F.when(F.col("last_contact").isNull(), F.lit(NO_CONTACT_MONTHS)).otherwise(
            clip(idle, 0.0, NO_CONTACT_MONTHS)
        ),
        "age": age / 100.0,
        "is_company": (F.col("kind") == "Company").cast("double"),
        "hand_set_own_risk": F.col("own"),
        **{f"segment_{name}": F.coalesce(F.col("segment") == name, F.lit(False)).cast("double") for name in SEGMENTS},
    }
    return table.select("id", "churned", "trend", *(column.alias(name) for name, column in columns.items()))


def _network_features(
    frames: SparkFrames, own: DataFrame, received: DataFrame, tie_types: list[str], rank: DataFrame, n: int
) -> DataFrame:
    """id and the network features of the customers with ties (the others have zeros but for PageRank)."""
    from pyspark.sql import functions as F

    sources = own.select(
        F.col("id").alias("source"),
        F.col("left_recently").cast("double").alias("recent"),
        F.col("left_within_memory").cast("double").alias("left"),
        clip(F.col("trend"), -2.0, 2.0).alias("source_trend"),
        F.when(F.col("churned"), F.lit(0.0)).otherwise(F.col("hand_set_own_risk")).alias("at_risk"),
    )
    directed = frames.directed.join(sources, "source")
    by_target = directed.groupBy(F.col("target").alias("id")).agg(
        *(
            F.sum(F.when(F.col("type") == tie_type, F.col("recent")).otherwise(F.lit(0.0))).alias(
                f"recently_churned_{tie_type}"
            )
            for tie_type in tie_types
        ),
        F.count(F.lit(1)).cast("double").alias("degree"),
        F.sum("left").alias("churned_count"),
        F.sum(F.col("weight") * F.col("left")).alias("churned_weight"),
        F.sum("weight").alias("total_weight"),
        F.sum("source_trend").alias("trend_sum"),
        F.sum("at_risk").alias("at_risk_sum"),
        F.greatest(F.max("at_risk"), F.lit(0.0)).alias("riskiest_neighbour"),
    )
    degree = F.col("degree")
    return (
        rank.join(by_target, "id", "left")
        .join(received, "id", "left")
        .select(
            "id",
            *(f"recently_churned_{tie_type}" for tie_type in tie_types),
            _log1p(degree).alias("degree"),
            _log1p(F.col("churned_count")).alias("churned_neighbours"),
            (F.col("churned_count") / degree).alias("churned_share"),
            F.when(F.col("total_weight") > 0, F.col("churned_weight") / F.col("total_weight")).alias(
                "relational_neighbour"
            ),
            (1.0 - F.exp(-F.coalesce("received", F.lit(0.0)))).alias("spreading"),
            (F.col("trend_sum") / degree).alias("neighbours_balance_trend"),
            _log1p(F.col("at_risk_sum")).alias("neighbours_at_risk"),
            "riskiest_neighbour",
            _log1p(F.col("pagerank") * n).alias("pagerank"),
        )
    )
