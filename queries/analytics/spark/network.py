"""PageRank, churn spreading and referral communities as DataFrame iterations.

Our own iterations rather than GraphFrames: GraphFrames' PageRank is unweighted and its Louvain-free community
detection (label propagation) would not give the in-process engine's clusters, while the iterations here are the
in-process formulas term for term (:mod:`queries.analytics.community`, :mod:`queries.analytics.churn`), and
need no jar beyond Spark's own. Each iteration's result is checkpointed locally, so the plans stay short.

Communities: connected components of referral and family ties by min-id propagation; a component of more
than ``SMALL_COMPONENT`` members is split by the same seeded networkx Louvain the in-process engine runs, one
component per group of a grouped-map pandas UDF, with its members numbered and its edges added in the same
order, so both engines return the same clusters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import networkx as nx

from graph.ties import TieCategory, TieRegistry
from queries.analytics.community import SMALL_COMPONENT
from queries.analytics.spark.frames import fixed_partitioning, scalar

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

CHECK_EVERY = 5  # PageRank iterations between convergence checks (each check is a Spark job)
ROUNDS_PER_CHECK = 3  # connected components' rounds between checks: fewer jobs, at most two idle rounds


def pagerank(
    customers: DataFrame, directed: DataFrame, damping: float, tolerance: float = 1e-10, max_steps: int = 200
) -> DataFrame:
    """id, pagerank: weighted PageRank over customer ties taken both ways; sums to 1 (as in-process).

    A customer without ties (a dangling node) only ever receives the teleport and the dangling mass, so all of
    them share one rank, which the driver tracks as a number; Spark iterates over the customers with ties.
    The ties are taken both ways, so every customer who passes rank on also receives some: the customers with
    ties are exactly those a step's sums reach, and a step is one join and one sum.
    """
    from pyspark.sql import functions as F

    spark = customers.sparkSession
    n = customers.count()
    positive = directed.where(F.col("weight") > 0)
    with fixed_partitioning(spark) as partitions:
        # Each customer with ties numbered once (kept, so the numbers stay): the steps join, hash, sum and
        # shuffle by a long instead of a 21-character id; the ids come back once, at the end.
        coded = (
            positive.groupBy("source")
            .agg(F.sum("weight").alias("out_weight"))
            .select("source", "out_weight", F.monotonically_increasing_id().alias("code"))
            .localCheckpoint()
        )
        # The ties hashed by source into the partitions the ranks are hashed into by id, once: each step's join
        # then reads both where they lie, and its one shuffle is the sum by target (summed within each
        # partition before it leaves it).
        edges = (
            positive.join(coded.select(F.col("source").alias("target"), F.col("code").alias("to")), "target")
            .join(coded, "source")
            .select(
                F.col("code").alias("source"),
                F.col("to").alias("target"),
                (F.col("weight") / F.col("out_weight")).alias("share"),
            )
            .repartition(partitions, "source")
            .localCheckpoint()
        )
        rank = coded.select(F.col("code").alias("id"), F.lit(1.0 / n).alias("rank")).localCheckpoint()
        dangling = n - rank.count()
        alone = 1.0 / n  # the rank of every customer without ties
        for step in range(1, max_steps + 1):
            spread = dangling * alone / n
            previous = rank
            # A lazy checkpoint keeps the plan one step long; the steps run as one job when the check asks.
            rank = (
                edges.join(previous.withColumnRenamed("id", "source").hint("shuffle_hash"), "source")
                .groupBy("target")
                .agg(F.sum(F.col("rank") * F.col("share")).alias("incoming"))
                .select(
                    F.col("target").alias("id"),
                    (damping * (F.col("incoming") + spread) + (1.0 - damping) / n).alias("rank"),
                )
                .localCheckpoint(eager=False)
            )
            alone, alone_before = damping * spread + (1.0 - damping) / n, alone
            # Checked every few steps: each check is a Spark job, and a few more steps only come closer.
            if step % CHECK_EVERY == 0 or step == max_steps:
                moved = rank.join(previous.withColumnRenamed("rank", "before"), "id")
                change = scalar(moved.agg(F.sum(F.abs(F.col("rank") - F.col("before"))))) or 0.0
                if change + dangling * abs(alone - alone_before) < n * tolerance:
                    break
        total = (scalar(rank.agg(F.sum("rank"))) or 0.0) + dangling * alone
    ranked = rank.join(coded.select(F.col("code").alias("id"), "source"), "id").select(
        F.col("source").alias("id"), (F.col("rank") / total).alias("pagerank")
    )
    return customers.select("id").join(ranked, "id", "left").na.fill(alone / total, ["pagerank"])


def spread_energies(
    transfer: DataFrame, initial: DataFrame, runs: list[str], factor: float, threshold: float, max_steps: int
) -> tuple[DataFrame, DataFrame]:
    """(id, a column per run: received) and (id, a column per run: passed): spreading activation along
    ``transfer`` (:attr:`SparkFrames.transfer`, hashed by source), as in-process, of several runs at once.

    ``initial`` holds id and each run's starting energy in a column named after the run. The runs share the
    ties and step together: a step is one join and one sum for all of them, whose frontier is every customer
    passing something on in some run (a run's energy below the threshold passes nothing, as in a run alone).
    Each run's sums are those of a run alone but for added zeros.

    As in :func:`pagerank`, a step's join reads the ties where they lie (hashed by source, once for the
    session) and the frontier hashed alike (the previous step's sum by target), so its one shuffle is the sum of
    what the frontier passes on, not the whole tie table sorted again at every step."""
    from pyspark.sql import functions as F

    spark = initial.sparkSession
    received: list[DataFrame] = []
    passed: list[DataFrame] = []

    def frontier_of(energies: DataFrame) -> DataFrame:
        """The rows passing something on in some run, each run's energy kept only where it reaches the
        threshold (a projection: the rows stay hashed as they were)."""
        passing = [F.col(run) >= threshold for run in runs]
        anywhere = passing[0]
        for more in passing[1:]:
            anywhere = anywhere | more
        return energies.where(anywhere).select(
            "source",
            *(
                F.when(test, F.col(run)).otherwise(F.lit(0.0)).alias(run)
                for run, test in zip(runs, passing, strict=True)
            ),
        )

    with fixed_partitioning(spark) as partitions:
        edges = transfer.select("source", "target", "share")
        frontier = (
            frontier_of(initial.select(F.col("id").alias("source"), *runs))
            .repartition(partitions, "source")
            .localCheckpoint(eager=False)
        )
        # No step asks whether the frontier is empty (a Spark job each): a step after it dies out adds nothing,
        # and all steps run as one job when the sums are asked for.
        for _ in range(max_steps):
            passing = frontier.select("source", *((F.col(run) * factor).alias(run) for run in runs))
            passed.append(passing.withColumnRenamed("source", "id"))
            incoming = (
                edges.join(passing.hint("shuffle_hash"), "source")
                .groupBy("target")
                .agg(*(F.sum(F.col(run) * F.col("share")).alias(run) for run in runs))
                .withColumnRenamed("target", "source")
                .localCheckpoint(eager=False)
            )
            received.append(incoming.withColumnRenamed("source", "id"))
            frontier = frontier_of(incoming)
    return _summed(initial, received, runs), _summed(initial, passed, runs)


def _summed(every: DataFrame, parts: list[DataFrame], runs: list[str]) -> DataFrame:
    from pyspark.sql import functions as F

    total = every.select("id", *(F.lit(0.0).alias(run) for run in runs))
    for part in parts:
        total = total.unionByName(part)
    return total.groupBy("id").agg(*(F.sum(run).alias(run) for run in runs))


def referral_communities(
    customers: DataFrame, ties: DataFrame, registry: TieRegistry, resolution: float, seed: int
) -> DataFrame:
    """id, community (the smallest member id): clusters over referral and family ties; singletons left out."""
    from pyspark.sql import functions as F

    types = [s.type.value for s in registry.customer_ties() if s.category in (TieCategory.REFERRAL, TieCategory.FAMILY)]
    chosen = ties.where(F.col("type").isin(*types)).join(
        customers.select(F.col("id").alias("source")), "source", "left_semi"
    )
    # Edge weight between two members: every tie between them, either way (the in-process A + A^T).
    pairs = (
        chosen.where(F.col("source") != F.col("target"))
        .select(
            F.least("source", "target").alias("a"),
            F.greatest("source", "target").alias("b"),
            F.greatest(F.col("weight"), F.lit(1e-6)).alias("weight"),
        )
        .groupBy("a", "b")
        .agg(F.sum("weight").alias("weight"))
        .localCheckpoint()
    )
    component = connected_components(pairs)
    sizes = component.groupBy("component").agg(F.count(F.lit(1)).alias("size"))
    with_size = component.join(sizes, "component")
    small = with_size.where(F.col("size") <= SMALL_COMPONENT).select("id", F.col("component").alias("community"))
    large_members = with_size.where(F.col("size") > SMALL_COMPONENT).select("id", "component")
    large_edges = pairs.join(large_members.withColumnRenamed("id", "a"), "a")
    # Plain Python rows per component (no pandas UDF: PySpark's Arrow path does not support pandas 3 yet).
    split = (
        large_edges.rdd.map(lambda row: (row.component, (row.a, row.b, row.weight)))
        .groupByKey()
        .flatMap(lambda group: louvain_members(list(group[1]), resolution, seed))
    )
    return small.unionByName(customers.sparkSession.createDataFrame(split, "id string, community string"))


def connected_components(pairs: DataFrame) -> DataFrame:
    """id, component (the smallest id reachable): minimum-label propagation until no label changes."""
    from pyspark.sql import functions as F

    with fixed_partitioning(pairs.sparkSession) as partitions:
        # Both ways, hashed once by the end whose label is offered, into the partitions the labels are hashed
        # into by id: a round's joins then read both where they lie (no broadcast, a job of its own each round),
        # and its one shuffle is the smallest offer by member (as PageRank's steps).
        directed = (
            pairs.select("a", "b")
            .unionByName(pairs.select(F.col("b").alias("a"), F.col("a").alias("b")))
            .repartition(partitions, "b")
            .localCheckpoint()
        )
        label = (
            directed.groupBy(F.col("a").alias("id"))
            .agg(F.min("b").alias("smallest"))
            .select("id", F.least("id", "smallest").alias("component"))
            .localCheckpoint(eager=False)
        )
        rounds = 0
        while True:
            rounds += 1
            offers = label.select(F.col("id").alias("b"), F.col("component").alias("offer"))
            offered = (
                directed.join(offers.hint("shuffle_hash"), "b")
                .groupBy(F.col("a").alias("id"))
                .agg(F.min("offer").alias("offer"))
            )
            following = (
                label.join(offered.hint("shuffle_hash"), "id")
                .select("id", F.least("component", "offer").alias("component"), F.col("component").alias("before"))
                .localCheckpoint(eager=False)
            )
            label = following.drop("before")
            # Checked every few rounds (the rounds between run as one job): a round after the last change
            # changes nothing, so the labels are the same as when checked after every round.
            if rounds % ROUNDS_PER_CHECK == 0 and following.where(F.col("component") != F.col("before")).count() == 0:
                return label


def louvain_members(edges: list[tuple[str, str, float]], resolution: float, seed: int) -> list[tuple[str, str]]:
    """(id, community) of one large component from its edges (a, b, weight with a < b): the in-process Louvain.

    Members are numbered in id order and edges added by (smaller number, larger number), as
    :func:`queries.analytics.community.referral_communities` builds its graph from a sorted sparse matrix.
    """
    members = sorted({a for a, _, _ in edges} | {b for _, b, _ in edges})
    number = {member: index for index, member in enumerate(members)}
    graph = nx.Graph()
    graph.add_nodes_from(range(len(members)))
    graph.add_weighted_edges_from(sorted((number[a], number[b], float(weight)) for a, b, weight in edges))
    found = nx.community.louvain_communities(graph, weight="weight", resolution=resolution, seed=seed)
    rows: list[tuple[str, str]] = []
    for group in found:
        ids = sorted(members[index] for index in group)
        rows.extend((member, ids[0]) for member in ids)
    return rows
