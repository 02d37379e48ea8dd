"""The graph as Spark DataFrames, read from the files ``crm-graph export --format parquet`` writes.

The same picture as :func:`queries.analytics.frames.read_frames`, keyed by id instead of by number: customers,
accounts (product, category, closed, dates, balances), owned accounts (owner or joint holder), customer ties in
their stored direction with the registry's weight, and interaction dates. Customer ids order customers as the
in-process engine numbers them (string order), which is what makes "smallest member" and "ties broken by id"
mean the same in both engines.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from graph.model import NodeLabel, TieType
from graph.parquet_export import node_file, tie_file
from graph.ties import TieRegistry
from queries.analytics.frames import OWNING_ROLES

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession


@dataclass(frozen=True)
class SparkFrames:
    """DataFrames of one analyze run, and the two numbers every step needs."""

    as_of: date
    months: int
    customers: DataFrame
    """id, kind, segment, status (active unless 'churned' is stored), customer_since, birth_date, consent_marketing,
    cluster_id (the previous run's)."""
    accounts: DataFrame
    """account, product_id ('' when none), category ('' when unknown), closed, balances (oldest first)."""
    owners: DataFrame
    """customer, account: held as owner or joint holder."""
    ties: DataFrame
    """source, target, type, weight: customer ties as stored (symmetric ones once)."""
    directed: DataFrame
    """source, target, type, weight: every customer tie in both directions."""
    transfer: DataFrame
    """source, target, type, share: each directed tie's weight over max(1, the source's total tie weight)
    (what spreading passes along, at every month-end), hashed by source into the shuffle partitions and
    checkpointed once read (see :meth:`persisted`)."""
    interactions: DataFrame
    """customer, at (date)."""
    products: DataFrame
    """product_id, category."""
    clusters: DataFrame
    """id: Cluster nodes the previous run wrote."""
    product_nodes: DataFrame
    """Product nodes as exported (id, and segments, min_age, exclusive_with where any product has them)."""

    def persisted(self, accounts: bool = True) -> SparkFrames:
        """The same frames kept in Spark's memory (spilling to disk) once first computed: every step reads them
        several times, and without this each read would redo their joins from the Parquet files. The engine
        drops every kept frame when it is done.

        ``accounts=False`` leaves the accounts as they are: a month-end's (:meth:`cut`) are a projection of the
        kept accounts (their balance arrays shortened), cheap to redo at each read, while a second and third
        copy of every account's balances would take the heap's room from the frames worth keeping.

        Not the transfer shares: they are checkpointed when read, which keeps their hashing by source in the
        plan (a kept frame's plan hides it from the joins), so spreading's steps find the ties where they lie."""
        from pyspark import StorageLevel

        def kept(frame: DataFrame) -> DataFrame:
            return frame.persist(StorageLevel.MEMORY_AND_DISK)

        return replace(
            self,
            customers=kept(self.customers),
            accounts=kept(self.accounts) if accounts else self.accounts,
            owners=kept(self.owners),
            ties=kept(self.ties),
            directed=kept(self.directed),
            interactions=kept(self.interactions),
        )

    def month_ends(self) -> list[date]:
        """Month-end date of each balance position, oldest first (as :meth:`GraphFrames.month_ends`)."""
        ends = pd.date_range(end=pd.Timestamp(self.as_of) + pd.offsets.MonthEnd(0), periods=self.months, freq="ME")
        return [stamp.date() for stamp in ends]

    def cut(self, months: int) -> SparkFrames:
        """The bank at the end of balance position ``months - 1``, as :meth:`GraphFrames.cut` rewinds it: later
        months, accounts opened later, closures and interactions after it are forgotten, and a customer counts
        as churned when every account held then was closed by then."""
        from pyspark.sql import functions as F

        end_date = self.month_ends()[months - 1]
        end = F.lit(end_date)
        later = self.months - months  # balance positions after the cut, the last ones of every array
        size = F.size("balances")
        accounts = self.accounts.select(
            "account",
            "product_id",
            "category",
            (F.col("closed_on").isNotNull() & (F.col("closed_on") <= end)).alias("closed"),
            "opened",
            "closed_on",
            F.when(size > later, F.slice("balances", F.lit(1), size - later))
            .otherwise(F.array().cast("array<double>"))
            .alias("balances"),
        )
        existed = accounts.where(F.col("opened").isNull() | (F.col("opened") <= end))
        owners = self.owners.join(existed.select("account"), "account", "left_semi")
        held = (
            owners.join(accounts.select("account", "closed"), "account")
            .groupBy(F.col("customer").alias("id"))
            .agg(F.min(F.col("closed").cast("int")).alias("all_closed"))
        )
        customers = (
            self.customers.drop("status")
            .join(held, "id", "left")
            .withColumn("status", F.when(F.col("all_closed") == 1, F.lit("churned")).otherwise(F.lit("active")))
            .select(*self.customers.columns)
        )
        return replace(
            self,
            as_of=end_date,
            months=months,
            customers=customers,
            accounts=accounts,
            owners=owners,
            interactions=self.interactions.where(F.col("at") <= end),
        )


def both_ways(ties: DataFrame) -> DataFrame:
    """Every customer tie in both directions: source, target, type, weight."""
    return ties.unionByName(
        ties.select(ties["target"].alias("source"), ties["source"].alias("target"), "type", "weight")
    )


def transfer_shares(directed: DataFrame, partitions: int) -> DataFrame:
    """source, target, type, share: each directed tie's weight over max(1, the source's total tie weight),
    hashed by source into ``partitions`` (kept so: every step of every spreading run joins on the source)."""
    from pyspark.sql import functions as F

    scale = directed.groupBy("source").agg(F.greatest(F.sum("weight"), F.lit(1.0)).alias("scale"))
    return (
        directed.join(scale, "source")
        .select("source", "target", "type", (F.col("weight") / F.col("scale")).alias("share"))
        .repartition(partitions, "source")
    )


@contextmanager
def fixed_partitioning(spark: SparkSession) -> Iterator[int]:
    """The shuffle partitions, with adaptive execution off meanwhile: an iteration keeps its frames hashed by
    the same key across steps, which adaptive execution does not honour (it re-shuffles a checkpointed frame
    for a join, and runs every shuffle of a lazily checkpointed step as a job of its own)."""
    setting = "spark.sql.adaptive.enabled"
    adaptive = spark.conf.get(setting) or "true"
    spark.conf.set(setting, "false")
    try:
        yield int(spark.conf.get("spark.sql.shuffle.partitions") or 1)
    finally:
        spark.conf.set(setting, adaptive)


def scalar(frame: DataFrame) -> Any:
    """The first column of the first row (an aggregate's value); None for no rows."""
    row = frame.first()
    return None if row is None else row[0]


def _column(frame: DataFrame, name: str, kind: str) -> Column:
    """The column, or nulls of ``kind`` when no row had the property (the export then has no such column)."""
    from pyspark.sql import functions as F

    return F.col(name) if name in frame.columns else F.lit(None).cast(kind)


def _as_date(frame: DataFrame, name: str) -> Column:
    """A text date or datetime (ISO, with or without an offset) as its UTC day; no date when it does not parse."""
    from pyspark.sql import functions as F

    return F.to_date(F.to_timestamp(_column(frame, name, "string")))


def read_spark_frames(
    spark: SparkSession, directory: Path, registry: TieRegistry, as_of: date | None = None
) -> SparkFrames:
    """DataFrames over the export in ``directory``; ``as_of`` defaults to the latest date the data mention."""
    from pyspark.sql import functions as F

    def nodes(label: NodeLabel) -> DataFrame:
        return _parquet(spark, directory / node_file(label))

    def ties(tie_type: TieType) -> DataFrame:
        return _parquet(spark, directory / tie_file(tie_type))

    raw = nodes(NodeLabel.CUSTOMER)
    status = _column(raw, "status", "string")
    consent = _column(raw, "consent_marketing", "boolean")
    customers = raw.select(
        F.col("id"),
        F.col("label").alias("kind"),
        _column(raw, "segment", "string").alias("segment"),
        F.when((status.isNull()) | (status == ""), F.lit("active")).otherwise(status).alias("status"),
        _as_date(raw, "customer_since").alias("customer_since"),
        _as_date(raw, "birth_date").alias("birth_date"),
        F.coalesce(consent == F.lit(True), F.lit(False)).alias("consent_marketing"),
        _column(raw, "cluster_id", "string").alias("cluster_id"),
    )

    product_nodes = nodes(NodeLabel.PRODUCT)
    products = product_nodes.select(
        F.col("id").alias("product_id"), _column(product_nodes, "category", "string").alias("category")
    )
    account_nodes = nodes(NodeLabel.ACCOUNT)
    closed_value = _column(account_nodes, "closed", "string")
    closed = (_column(account_nodes, "status", "string") == "closed") | (
        closed_value.isNotNull() & (closed_value.cast("string") != "") & (closed_value.cast("string") != "false")
    )
    # One product per account; of several, the last in tie order (by target), as read_frames keeps.
    product_of = (
        ties(TieType.OF_PRODUCT).groupBy(F.col("source").alias("account")).agg(F.max("target").alias("product_id"))
    )
    accounts = (
        account_nodes.select(
            F.col("id").alias("account"),
            F.coalesce(closed, F.lit(False)).alias("closed"),
            _as_date(account_nodes, "opened").alias("opened"),
            _as_date(account_nodes, "closed").alias("closed_on"),
            F.coalesce(_column(account_nodes, "balances", "array<double>"), F.array().cast("array<double>")).alias(
                "balances"
            ),
        )
        .join(product_of, "account", "left")
        .join(products, "product_id", "left")
        .select(
            "account",
            F.coalesce("product_id", F.lit("")).alias("product_id"),
            F.coalesce("category", F.lit("")).alias("category"),
            "closed",
            "opened",
            "closed_on",
            "balances",
        )
    )
    owns = ties(TieType.OWNS)
    role = _column(owns, "role", "string")
    owners = (
        owns.where(F.coalesce(F.when(role != "", role), F.lit("owner")).isin(*OWNING_ROLES))
        .select(F.col("source").alias("customer"), F.col("target").alias("account"))
        .join(customers.select(F.col("id").alias("customer")), "customer", "left_semi")
        .join(accounts.select("account"), "account", "left_semi")
    )

    weights = registry.weights()
    customer_ids = customers.select("id")
    tie_frames = [
        ties(tie_spec.type).select("source", "target", F.lit(tie_spec.type.value).alias("type"))
        for tie_spec in registry.customer_ties()
    ]
    all_ties = tie_frames[0]
    for frame in tie_frames[1:]:
        all_ties = all_ties.unionByName(frame)
    weight_of = F.create_map(*[item for name, value in weights.items() for item in (F.lit(name), F.lit(value))])
    customer_ties = (
        all_ties.join(customer_ids.withColumnRenamed("id", "source"), "source", "left_semi")
        .join(customer_ids.withColumnRenamed("id", "target"), "target", "left_semi")
        .select("source", "target", "type", weight_of[F.col("type")].cast("double").alias("weight"))
    )

    interaction_nodes = nodes(NodeLabel.INTERACTION)
    at = interaction_nodes.select(F.col("id").alias("interaction"), _as_date(interaction_nodes, "at").alias("at"))
    interactions = (
        ties(TieType.WITH)
        .select(F.col("source").alias("interaction"), F.col("target").alias("customer"))
        .join(customer_ids.withColumnRenamed("id", "customer"), "customer", "left_semi")
        .join(at, "interaction", "left")
        .where(F.col("at").isNotNull())
        .select("customer", "at")
    )

    directed = both_ways(customer_ties)
    read = SparkFrames(
        as_of=as_of or date.min,
        months=1,
        customers=customers,
        accounts=accounts,
        owners=owners,
        ties=customer_ties,
        directed=directed,
        transfer=transfer_shares(directed, int(spark.conf.get("spark.sql.shuffle.partitions") or 1)),
        interactions=interactions,
        products=products,
        clusters=nodes(NodeLabel.CLUSTER).select("id"),
        product_nodes=product_nodes,
    )
    # Kept and first computed without adaptive execution, which would run each shuffle and each broadcast of
    # these plans as a job of its own (a Spark job's fixed costs are what a read of this size spends).
    with fixed_partitioning(spark):
        read = read.persisted()
        months, latest = _extent(read.customers, read.accounts, read.interactions)
        transfer = read.transfer.localCheckpoint()  # made under adaptive execution, it would forget its hashing
    frames_as_of = as_of or (min(latest, date.today()) if latest is not None else date.today())
    return replace(read, as_of=frames_as_of, months=max(months, 1), transfer=transfer)


def _parquet(spark: SparkSession, path: Path) -> DataFrame:
    """One exported file, its schema taken from its footer here: Spark would run a job to read it."""
    import pyarrow.parquet as pq
    from pyspark.sql.pandas.types import from_arrow_schema

    reader = spark.read
    if path.is_file():
        reader = reader.schema(from_arrow_schema(pq.read_schema(path)))
    return reader.parquet(str(path))


def _extent(customers: DataFrame, accounts: DataFrame, interactions: DataFrame) -> tuple[int, date | None]:
    """The most balance positions an account has, and the latest date the data mention (the in-process engine
    takes it, never after today, as the date of the run), in one query: one row per frame."""
    from pyspark.sql import functions as F

    rows = (
        accounts.agg(
            F.max(F.size("balances")).alias("months"), F.greatest(F.max("opened"), F.max("closed_on")).alias("day")
        )
        .unionByName(customers.agg(F.lit(None).cast("int").alias("months"), F.max("customer_since").alias("day")))
        .unionByName(interactions.agg(F.lit(None).cast("int").alias("months"), F.max("at").alias("day")))
        .collect()
    )
    months = max((int(row["months"]) for row in rows if row["months"] is not None), default=1)
    days = [row["day"] for row in rows if row["day"] is not None]
    return months, max(days, default=None)
