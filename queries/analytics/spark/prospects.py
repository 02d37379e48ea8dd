"""Prospect lists on Spark: each product's best ``PRECOMPUTED_PROSPECTS`` customers, scored as
:func:`queries.analytics.prospecting.prospect_rows` scores them (which defines every term): consenting, active,
eligible customers not holding the product, tied to one who holds it; the fitted cross-sell model's probability
when there is one (the hand-set score for a customer it gave no candidate product at all), else the hand-set
score from direct ties to holders and co-holdings. Only the kept prospects (products x the kept number) reach
the driver.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from graph.model import NodeLabel
from graph.settings import AnalyticsSettings
from queries.analytics.prospecting import PRECOMPUTED_PROSPECTS
from queries.analytics.spark.crosssell import ProductRule, SparkCrossSell, held_together
from queries.analytics.spark.frames import SparkFrames

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

DECIMALS = 6


def prospect_rows(
    frames: SparkFrames,
    settings: AnalyticsSettings,
    rules: list[ProductRule],
    holdings: DataFrame,
    cross_sell: SparkCrossSell | None,
) -> list[dict[str, Any]]:
    """A Product node row per product with its best prospects (``prospect_ids``, ``prospect_scores``).

    ``holdings``: customer, product_id held through an open account (:func:`clusters.open_holdings`)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    products = [rule.product_id for rule in rules]
    if not products:
        return []
    held = holdings.where(F.col("product_id").isin(*products))
    wide = held.groupBy(F.col("customer").alias("id")).agg(
        *(
            F.max((F.col("product_id") == name).cast("double")).alias(f"holds_{number}")
            for number, name in enumerate(products)
        )
    )
    holds = [F.col(f"holds_{number}") for number in range(len(products))]
    customers = (
        frames.customers.select(
            "id",
            "segment",
            (F.col("kind") == NodeLabel.PERSON.value).alias("person"),
            _whole_years(F.col("birth_date"), frames.as_of).alias("age"),
            (F.col("consent_marketing") & (F.col("status") != "churned")).alias("reachable"),
        )
        .join(wide, "id", "left")
        .na.fill(0.0, [f"holds_{number}" for number in range(len(products))])
        .localCheckpoint()
    )
    size, together = held_together(customers, holds)
    count = len(products)
    holders = np.diag(together)
    weights = settings.cross_sell_weights
    # Ties read both ways: a tie between a holder and another customer is evidence for the other.
    kept = F.log1p(-F.least(F.greatest(F.col("weight"), F.lit(0.0)), F.lit(1.0)))
    tied = (
        frames.directed.where(F.col("source") != F.col("target"))
        .join(held.select(F.col("customer").alias("source"), F.col("product_id").alias("product")), "source")
        .groupBy(F.col("target").alias("id"), "product")
        .agg((1.0 - F.exp(F.sum(kept))).alias("network"))
    )
    holds_none = F.greatest(*holds, F.lit(0.0)) == 0
    similar, allowed = [], []
    for number, rule in enumerate(rules):
        confidence = np.divide(together[:, number], holders, out=np.zeros(count), where=holders > 0)
        best = F.greatest(*(column * float(confidence[other]) for other, column in enumerate(holds)), F.lit(0.0))
        similar.append(F.when(holds_none, F.lit(round(float(holders[number]) / size, 6))).otherwise(best))
        allowed.append((F.col(f"holds_{number}") == 0) & _eligible(rule, products))
    # Every product's candidates in one pass over the tied pairs (a branch per product would redo their join
    # with the customers once per product); each product's own terms are picked by a CASE on the product.
    chosen = (
        tied.join(customers, "id")
        .where(F.col("reachable") & _by_product(products, allowed))
        .select(
            "id",
            "product",
            _by_product(products, [F.lit(number) for number in range(count)]).alias("position"),
            (
                weights.get("network", 0.0) * F.col("network")
                + weights.get("similar", 0.0) * _by_product(products, similar)
            ).alias("hand_set"),
        )
    )
    scored = _scored(chosen, cross_sell)
    best_first = Window.partitionBy("product").orderBy(F.col("score").desc(), F.col("id").asc())
    top = (
        scored.withColumn("rank", F.row_number().over(best_first))
        .where(F.col("rank") <= PRECOMPUTED_PROSPECTS)
        .select("product", "rank", "id", "score")
    )
    found: dict[str, list[tuple[int, str, float]]] = {product_id: [] for product_id in products}
    for row in top.toLocalIterator():
        found[row["product"]].append((row["rank"], row["id"], row["score"]))
    rows = []
    for product_id in products:
        ranked = sorted(found[product_id])
        rows.append(
            {
                "label": NodeLabel.PRODUCT,
                "id": product_id,
                "properties": {
                    "prospect_ids": [customer_id for _, customer_id, _ in ranked],
                    "prospect_scores": [float(score) for _, _, score in ranked],
                },
            }
        )
    return rows


def _scored(chosen: DataFrame, cross_sell: SparkCrossSell | None) -> DataFrame:
    """id, product, score: the hand-set score rounded, or the fitted one where the customer has candidates."""
    from pyspark.sql import functions as F

    hand_set = F.round("hand_set", DECIMALS)
    if cross_sell is None:
        return chosen.select("id", "product", hand_set.alias("score"))
    candidates = cross_sell.candidates.select("id", "product", F.col("written").alias("fitted"))
    scored_any = candidates.select("id").distinct().withColumn("scored_any", F.lit(True))
    return (
        chosen.join(candidates, ["id", "product"], "left")
        .join(scored_any, "id", "left")
        .where(F.col("scored_any").isNull() | F.col("fitted").isNotNull())
        .select("id", "product", F.coalesce("fitted", hand_set).alias("score"))
    )


def _by_product(products: list[str], values: list[Column]) -> Column:
    """The value of the row's product: ``values[n]`` where the product is ``products[n]``."""
    from pyspark.sql import functions as F

    picked = F.when(F.col("product") == products[0], values[0])
    for product_id, value in zip(products[1:], values[1:], strict=True):
        picked = picked.when(F.col("product") == product_id, value)
    return picked


def _eligible(rule: ProductRule, products: list[str]) -> Column:
    """Segment, minimum age (persons, whole years) and exclusivity either way, as ``crosssell.eligible``."""
    from pyspark.sql import functions as F

    allowed = F.lit(True)
    if rule.segments:
        allowed &= F.col("segment").isin(*rule.segments)
    if rule.min_age is not None:
        allowed &= ~F.col("person") | (F.col("age").isNotNull() & (F.col("age") >= int(rule.min_age)))
    for other in rule.excludes:
        allowed &= F.col(f"holds_{products.index(other)}") == 0
    return F.coalesce(allowed, F.lit(False))


def _whole_years(born: Column, today: Any) -> Column:
    """Age in whole years on ``today`` (a birthday not yet reached this year does not count)."""
    from pyspark.sql import functions as F

    before_birthday = (F.month(born) > today.month) | (
        (F.month(born) == today.month) & (F.dayofmonth(born) > today.day)
    )
    return F.lit(today.year) - F.year(born) - before_birthday.cast("int")
