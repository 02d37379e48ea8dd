"""The fitted cross-sell model on Spark: features per candidate (customer, product) on the workers, each product's
model fitted on the driver from a bounded sample, every candidate scored on the workers by the fitted models
written as column expressions (the in-process twin and the meaning of every term:
:mod:`queries.analytics.crosssell_fit` and :func:`~queries.analytics.backtest.cross_sell_scores`).

Features of a candidate, as in-process and in its column order: the customer's own features, which products they
hold, the co-holding confidence and their segment's share of the product, and their neighbours holding the
product by tie type and as a share of their ties. A product's training rows (its candidates at the training
month-end, in id order, at most ``MAX_TRAINING_ROWS`` drawn as in-process) reach the driver one product at a
time, so the driver holds one bounded table whatever the size of the bank.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from queries.analytics.crosssell import as_list
from queries.analytics.crosssell_fit import DECIMALS, MIN_OPENED, fitted_card, tie_weight_properties
from queries.analytics.model_card import CrossSellCard
from queries.analytics.models import MAX_TRAINING_ROWS, FittedModel, fit
from queries.analytics.spark.features import OWN_COLUMNS
from queries.analytics.spark.frames import SparkFrames
from queries.analytics.spark.rounding import rounded_like_python
from queries.analytics.spark.scoring import logistic_probability
from queries.analytics.spark.training import SparkTrainingWindow, arrow_rows, pa_table, sample_positions
from queries.analytics.training import too_little_history

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame


@dataclass(frozen=True)
class ProductRule:
    """Who may be offered a product (``crosssell.eligible``'s rules): segments served (all when empty), the
    minimum age of a person, and the products it excludes either way."""

    product_id: str
    segments: list[str]
    min_age: float | None
    excludes: list[str]


@dataclass(frozen=True)
class SparkCrossSell:
    """What a fitted cross-sell run writes: per customer the candidate products best first with both scores
    (id, cross_sell_products, cross_sell_scores, cross_sell_own_scores: customers with a candidate only), and
    per product the fitted log-odds of each tie type's holding neighbours."""

    candidates: DataFrame
    """id, product, position (in product id order), score, written, written_own: every candidate (customer,
    product) today with its score, and both scores rounded as written."""
    lists: DataFrame
    tie_weights: dict[str, dict[str, float]]


def product_rules(frames: SparkFrames) -> list[ProductRule]:
    """Every product's rules, in product id order (the in-process column order)."""
    rows = {row["id"]: row.asDict() for row in frames.product_nodes.collect()}
    known = sorted(rows)
    excluded = {product_id: set(as_list(rows[product_id].get("exclusive_with"))) for product_id in known}
    rules = []
    for product_id in known:
        either_way = {other for other in excluded[product_id] if other in rows}
        either_way |= {other for other in known if product_id in excluded[other]}
        min_age = rows[product_id].get("min_age")
        rules.append(
            ProductRule(
                product_id=product_id,
                segments=as_list(rows[product_id].get("segments")),
                min_age=None if min_age is None or (isinstance(min_age, float) and np.isnan(min_age)) else min_age,
                excludes=sorted(either_way - {product_id}),
            )
        )
    return rules


def _holds(product_id: str) -> str:
    return f"holds_{product_id}"


def _snapshot(frames: SparkFrames, features: DataFrame, rules: list[ProductRule]) -> DataFrame:
    """One row per customer at ``frames.as_of``: id, active, the own features, holds_<product> (0 or 1), and
    per product whether it is a candidate (``candidate_<n>``): active, eligible, not held."""
    from pyspark.sql import functions as F

    products = [rule.product_id for rule in rules]
    held = _held(frames, products)
    holds = held.groupBy(F.col("customer").alias("id")).agg(
        *(
            F.max((F.col("product_id") == product_id).cast("double")).alias(_holds(product_id))
            for product_id in products
        )
    )
    customers = frames.customers.select(
        "id",
        F.coalesce("segment", F.lit("")).alias("segment"),
        (F.col("kind") != "Company").alias("person"),
        (F.datediff(F.lit(frames.as_of), F.col("birth_date")) / 365.25).alias("age_years"),
    )
    table = (
        features.select("id", "active", *OWN_COLUMNS)
        .join(customers, "id")
        .join(holds, "id", "left")
        .na.fill(0.0, [_holds(product_id) for product_id in products])
    )
    return table.select(
        "*", *(_candidate(rule).alias(f"candidate_{number}") for number, rule in enumerate(rules))
    ).localCheckpoint()


def _candidate(rule: ProductRule) -> Column:
    from pyspark.sql import functions as F

    allowed = F.col("active") & (F.col(_holds(rule.product_id)) == 0)
    if rule.segments:
        allowed &= F.col("segment").isin(*rule.segments)
    if rule.min_age is not None:
        allowed &= ~F.col("person") | (F.col("age_years").isNotNull() & (F.col("age_years") >= float(rule.min_age)))
    for other in rule.excludes:
        allowed &= F.col(_holds(other)) == 0
    return F.coalesce(allowed, F.lit(False))


def _held(frames: SparkFrames, products: list[str]) -> DataFrame:
    """customer, product_id: known products held through an open account owned as owner or joint holder."""
    from pyspark.sql import functions as F

    return (
        frames.owners.join(frames.accounts.where(~F.col("closed") & F.col("product_id").isin(*products)), "account")
        .select("customer", "product_id")
        .distinct()
    )


def _product_table(
    frames: SparkFrames, snapshot: DataFrame, rules: list[ProductRule], tie_types: list[str]
) -> DataFrame:
    """The candidates' feature rows: id, product, then the model's columns (:func:`model_columns`)."""
    from pyspark.sql import functions as F

    products = [rule.product_id for rule in rules]
    holds = [F.col(_holds(product_id)) for product_id in products]
    size, together, shares = _held_by_segment(snapshot, holds)
    holders = np.diag(together)
    confidence = np.divide(together, holders[:, None], out=np.zeros_like(together), where=holders[:, None] > 0)
    share = holders / size
    holds_any = F.greatest(*holds, F.lit(0.0)) > 0
    neighbours = _neighbour_holders(frames, snapshot, products, tie_types)
    # Every product's candidate row of a customer from one pass over the snapshot: an array of one struct per
    # product, exploded, the non-candidates dropped (not a branch per product, each a scan and a plan of its own).
    offers = [
        F.struct(
            F.col(f"candidate_{number}").alias("candidate"),
            F.lit(product_id).alias("product"),
            F.when(
                holds_any,
                F.greatest(
                    *(column * float(confidence[other, number]) for other, column in enumerate(holds)), F.lit(0.0)
                ),
            )
            .otherwise(F.lit(float(share[number])))
            .alias("co_holding"),
            F.coalesce(_segment_shares(shares, number)[F.col("segment")], F.lit(0.0)).alias("segment_share"),
        )
        for number, product_id in enumerate(products)
    ]
    table = (
        snapshot.select("id", *OWN_COLUMNS, *holds, F.explode(F.array(*offers)).alias("offer"))
        .where(F.col("offer.candidate"))
        .select(
            "id",
            "offer.product",
            *OWN_COLUMNS,
            *holds,
            "offer.co_holding",
            "offer.segment_share",
        )
    )
    network = [f"holders_{tie_type}" for tie_type in tie_types]
    return (
        table.join(neighbours, ["id", "product"], "left")
        .na.fill(0.0, [*network, "holder_share_of_neighbours"])
        .select("id", "product", *model_columns(products, tie_types))
    )


def _held_by_segment(snapshot: DataFrame, holds: list[Column]) -> tuple[int, np.ndarray, dict[str, np.ndarray]]:
    """:func:`held_together` and each segment's share of customers holding each product, from one aggregation
    (one job, not two): per segment the customers and the products x products sums, added up on the driver."""
    from pyspark.sql import functions as F

    count = len(holds)
    rows = (
        snapshot.groupBy("segment")
        .agg(
            F.count(F.lit(1)).alias("customers"),
            *(F.sum(one * other).alias(f"{a}|{b}") for a, one in enumerate(holds) for b, other in enumerate(holds)),
        )
        .collect()
    )
    together, shares = np.zeros((count, count)), {}
    for row in rows:
        pairs = np.array([[float(row[f"{a}|{b}"] or 0.0) for b in range(count)] for a in range(count)])
        together += pairs
        # A 0/1 column's sum is its square's: the diagonal over the segment's customers is avg(holds).
        shares[row["segment"]] = np.diag(pairs) / int(row["customers"])
    return max(sum(int(row["customers"]) for row in rows), 1), together, shares


def _segment_shares(shares: dict[str, np.ndarray], number: int) -> Column:
    """segment -> the share of its customers holding product ``number`` (a map literal)."""
    from pyspark.sql import functions as F

    return F.create_map(
        *[item for segment, share in shares.items() for item in (F.lit(segment), F.lit(float(share[number])))]
    )


def held_together(customers: DataFrame, holds: list[Column]) -> tuple[int, np.ndarray]:
    """(customers, products x products counts of customers holding both) from one row per customer with a
    0/1 column per product: small, on the driver."""
    from pyspark.sql import functions as F

    counted = customers.agg(
        F.count(F.lit(1)).alias("customers"),
        *(F.sum(one * other).alias(f"{a}|{b}") for a, one in enumerate(holds) for b, other in enumerate(holds)),
    ).first()
    assert counted is not None
    count = len(holds)
    together = np.array([[float(counted[f"{a}|{b}"] or 0.0) for b in range(count)] for a in range(count)])
    return max(int(counted["customers"]), 1), together


def _neighbour_holders(
    frames: SparkFrames, snapshot: DataFrame, products: list[str], tie_types: list[str]
) -> DataFrame:
    """id, product, holders_<tie type> (log1p of the neighbours along it holding the product),
    holder_share_of_neighbours: for each customer with a neighbour holding the product.

    The holders are read off the snapshot's holds_<product> columns (every customer has a row there), not
    joined again from the accounts: the snapshot is kept, the join is not."""
    from pyspark.sql import functions as F

    directed = frames.directed.select("source", "target", "type")
    degree = directed.groupBy(F.col("target").alias("id")).agg(F.count(F.lit(1)).cast("double").alias("degree"))
    held_products = F.array(*(F.when(F.col(_holds(product_id)) > 0, F.lit(product_id)) for product_id in products))
    held = snapshot.select(
        F.col("id").alias("source"),
        F.explode(F.filter(held_products, lambda product: product.isNotNull())).alias("product"),
    )
    counts = (
        directed.join(held, "source")
        .groupBy(F.col("target").alias("id"), "product")
        .agg(
            *(F.sum((F.col("type") == tie_type).cast("double")).alias(f"count_{tie_type}") for tie_type in tie_types),
            F.count(F.lit(1)).cast("double").alias("holding"),
        )
    )
    return counts.join(degree, "id").select(
        "id",
        "product",
        *(F.log1p(F.col(f"count_{tie_type}")).alias(f"holders_{tie_type}") for tie_type in tie_types),
        (F.col("holding") / F.col("degree")).alias("holder_share_of_neighbours"),
    )


def model_columns(products: list[str], tie_types: list[str]) -> list[str]:
    """The fitted model's columns, in the in-process order: own, then network."""
    return [
        *own_model_columns(products),
        *(f"holders_{tie_type}" for tie_type in tie_types),
        "holder_share_of_neighbours",
    ]


def own_model_columns(products: list[str]) -> list[str]:
    """The own-only model's columns."""
    return [*OWN_COLUMNS, *(_holds(product_id) for product_id in products), "co_holding", "segment_share"]


def _opened(frames: SparkFrames, window: SparkTrainingWindow, products: list[str]) -> DataFrame:
    """id, product: accounts opened after the training month-end, up to the latest (``opened_between``)."""
    from pyspark.sql import functions as F

    ends = frames.month_ends()
    start, end = F.lit(ends[window.cut - 1]), F.lit(ends[-1])
    accounts = frames.accounts.where(
        F.col("opened").isNotNull() & (F.col("opened") > start) & (F.col("opened") <= end)
    ).where(F.col("product_id").isin(*products))
    return (
        frames.owners.join(accounts, "account")
        .select(F.col("customer").alias("id"), F.col("product_id").alias("product"))
        .distinct()
        .withColumn("label", F.lit(True))
    )


@dataclass(frozen=True)
class _Scorer:
    """How one product's candidates are scored: by both fitted models, or one rate for both."""

    model: FittedModel | None
    own: FittedModel | None
    rate: float


def fitted_cross_sell_on_spark(
    frames: SparkFrames, window: SparkTrainingWindow | None, rules: list[ProductRule]
) -> tuple[SparkCrossSell | None, CrossSellCard]:
    """Fit each product on the last ``HORIZON_MONTHS`` and score today's candidates, or None (and why not).

    ``rules``: :func:`product_rules` of ``frames``."""
    from pyspark.sql import functions as F

    if window is None:
        return None, CrossSellCard(model="hand-set defaults", reason=too_little_history(frames.months))
    products = [rule.product_id for rule in rules]
    if not products:
        return None, CrossSellCard(model="hand-set defaults", reason="the bank has no products")
    tie_types = window.tie_types
    train = (
        _product_table(window.before_frames, _snapshot(window.before_frames, window.before, rules), rules, tie_types)
        .join(_opened(frames, window, products), ["id", "product"], "left")
        .withColumn("label", F.coalesce("label", F.lit(False)))
        .localCheckpoint()
    )
    sizes = {
        row["product"]: (int(row["rows"]), int(row["taken_up"]))
        for row in train.groupBy("product")
        .agg(F.count(F.lit(1)).alias("rows"), F.sum(F.col("label").cast("long")).alias("taken_up"))
        .collect()
    }
    columns, own_columns = model_columns(products, tie_types), own_model_columns(products)
    scorers: dict[str, _Scorer] = {}
    fitted: dict[str, Any] = {}
    samples = _training_samples(train, {product: rows for product, (rows, _) in sizes.items()}, products, columns)
    for product_id in products:
        rows, taken_up = sizes.get(product_id, (0, 0))
        if rows == 0:
            scorers[product_id] = _Scorer(None, None, 0.0)  # never a candidate to learn from: scores 0, as in-process
            continue
        sample = next(samples)
        table, label = sample.drop(columns="label").reset_index(drop=True), sample["label"].to_numpy(dtype=bool)
        model, own = fit(table, label, columns), fit(table, label, own_columns)
        if model is None or own is None:
            scorers[product_id] = _Scorer(None, None, taken_up / rows)
        elif model.positives < MIN_OPENED:
            # Too few openings to trust a fitted model's terms: the product scores its past take-up rate.
            scorers[product_id] = _Scorer(None, None, model.positives / model.examples)
        else:
            scorers[product_id] = _Scorer(model, own, 0.0)
            fitted_weights = model.weights
            fitted[product_id] = {
                "taken_up": model.positives,
                "candidates": model.examples,
                "tie_weights": {tie_type: fitted_weights[f"holders_{tie_type}"] for tie_type in tie_types},
            }
    card = fitted_card(fitted, window.features_as_of)
    if not fitted:
        return None, card
    today = _product_table(frames, _snapshot(frames, window.now, rules), rules, tie_types)
    scored = _scored(today, scorers, products).localCheckpoint()
    weights = {product: figures["tie_weights"] for product, figures in fitted.items()}
    return SparkCrossSell(scored, _ranked(scored), weights), card


def _training_samples(
    train: DataFrame, sizes: dict[str, int], products: list[str], columns: list[str]
) -> Iterator[pd.DataFrame]:
    """label and ``columns`` of each product's training rows (in id order), for each product with rows, in
    ``products`` order. Products whose rows add up to at most ``MAX_TRAINING_ROWS`` reach the driver together
    (one job for several), so the driver holds at most that many rows at a time, as with one product; a product
    past the cap comes alone, sampled as in-process (:func:`drawn_rows`)."""
    import pyarrow.compute as pc
    from pyspark.sql import functions as F

    past = {product: rows for product, rows in sizes.items() if rows > MAX_TRAINING_ROWS}
    drawn = drawn_rows(train, past, columns) if past else None
    for group in _collected_together([(product, sizes.get(product, 0)) for product in products]):
        if len(group) == 1 and group[0] in past:
            assert drawn is not None
            chosen = drawn.where(F.col("product") == group[0])
            yield arrow_rows(chosen.select("id", "label", *columns).toArrow(), ["label", *columns])
            continue
        rows = train.where(F.col("product").isin(*group)).select("id", "product", "label", *columns).toArrow()
        for product_id in group:
            yield arrow_rows(rows.filter(pc.equal(rows.column("product"), product_id)), ["label", *columns])


def drawn_rows(train: DataFrame, past: dict[str, int], columns: list[str]) -> DataFrame:
    """id, product, label and ``columns`` of the rows drawn (:func:`sampled_pairs`) of every product past the cap
    (``past``: product -> its rows), kept: at most ``MAX_TRAINING_ROWS`` a product whatever the bank's size.

    One pass over the (wide) training table for every product, the drawn pairs broadcast (bounded as above, so
    no shuffle of the wide rows); each product's sample is then a filter of this small kept table. Each product
    picked from the training table on its own was a pass over it and a join each."""
    from pyspark.sql import functions as F

    picked = F.broadcast(sampled_pairs(train, past))
    return (
        train.join(picked, ["id", "product"], "left_semi").select("id", "product", "label", *columns).localCheckpoint()
    )


def sampled_pairs(train: DataFrame, past: dict[str, int]) -> DataFrame:
    """id, product: the training rows drawn of every product past the cap (``past``: product -> its
    rows), each product's the ``MAX_TRAINING_ROWS`` that :func:`~queries.analytics.spark.training.collect_rows` draws
    from it alone.

    Every product at once: the rows numbered in id order within their product by one window over the ids (one
    shuffle of two narrow columns), the drawn places joined as one table. Alone, each product paid for its own
    sort of the ids, the counts of its ranges and passes over the whole (wide) training table."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    products = sorted(past)
    drawn = {product: sample_positions(past[product], MAX_TRAINING_ROWS) for product in products}
    picked = train.sparkSession.createDataFrame(
        pa_table(
            {
                "product": np.repeat(np.array(products, dtype=object), [len(drawn[product]) for product in products]),
                "position": np.concatenate([drawn[product] for product in products]),
            }
        )
    )
    numbered = train.where(F.col("product").isin(*products)).select(
        "id",
        "product",
        (F.row_number().over(Window.partitionBy("product").orderBy("id")) - 1).cast("long").alias("position"),
    )
    return numbered.join(picked, ["product", "position"], "left_semi").select("id", "product")


def _collected_together(sizes: list[tuple[str, int]]) -> list[list[str]]:
    """The products with rows, in order, grouped so that a group's rows add up to at most ``MAX_TRAINING_ROWS``
    (a product past it alone)."""
    groups: list[list[str]] = []
    held = MAX_TRAINING_ROWS + 1  # rows in the last group: none open yet
    for product_id, rows in sizes:
        if rows == 0:
            continue
        if held + rows > MAX_TRAINING_ROWS:
            groups.append([product_id])
            held = rows
        else:
            groups[-1].append(product_id)
            held += rows
    return groups


def _scored(today: DataFrame, scorers: dict[str, _Scorer], products: list[str]) -> DataFrame:
    """id, product, position (the product's place in id order), score, and both scores rounded as written:
    every candidate today.

    Scored by column expressions in the JVM (:func:`logistic_probability`: each product's fitted regressions
    picked by the row's product), not by the pipelines in Python workers: the workers' predictions made the
    step's largest query. Rounded as Python's ``round`` rounds, as the in-process rows are (Spark's own rounds the
    decimal text of a double)."""
    from pyspark.sql import functions as F

    product = F.col("product")
    found: Column | None = None
    found_own: Column | None = None
    for product_id in products:
        scorer = scorers[product_id]
        if scorer.model is None or scorer.own is None:
            model, own = F.lit(float(scorer.rate)), F.lit(float(scorer.rate))
        else:
            model, own = logistic_probability(scorer.model), logistic_probability(scorer.own)
        chosen = product == F.lit(product_id)
        found = F.when(chosen, model) if found is None else found.when(chosen, model)
        found_own = F.when(chosen, own) if found_own is None else found_own.when(chosen, own)
    assert found is not None and found_own is not None  # fitted_cross_sell_on_spark returns earlier without products
    position = F.create_map(
        *(item for number, product_id in enumerate(products) for item in (F.lit(product_id), F.lit(number)))
    )
    return today.select(
        "id",
        "product",
        position[product].cast("int").alias("position"),
        found.alias("score"),
        found_own.alias("own"),
    ).select(
        "id",
        "product",
        "position",
        "score",
        rounded_like_python(F.col("score"), DECIMALS).alias("written"),
        rounded_like_python(F.col("own"), DECIMALS).alias("written_own"),
    )


def _ranked(scored: DataFrame) -> DataFrame:
    """id and the three lists, best first by the unrounded score (ties by product order)."""
    from pyspark.sql import functions as F

    ordered = F.array_sort(
        F.collect_list(F.struct((-F.col("score")).alias("order"), "position", "product", "written", "written_own"))
    )
    return (
        scored.groupBy("id")
        .agg(ordered.alias("ranked"))
        .select(
            "id",
            F.col("ranked.product").alias("cross_sell_products"),
            F.col("ranked.written").alias("cross_sell_scores"),
            F.col("ranked.written_own").alias("cross_sell_own_scores"),
        )
    )


def product_tie_weights(cross_sell: SparkCrossSell | None, product_id: str) -> dict[str, Any]:
    """The fitted tie weights one Product row carries (``crosssell_fit.product_properties``)."""
    return tie_weight_properties(cross_sell.tie_weights.get(product_id) if cross_sell else None)
