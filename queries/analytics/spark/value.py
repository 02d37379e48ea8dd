"""Balances, tiers, lifecycle stages and lifetime value as DataFrame aggregations (the in-process twin is
:mod:`queries.analytics.value`, whose docstrings define every number).

Balances are right-aligned as in-process: an account's last balance is the latest month-end, and the trend
window is the last ``trend_months`` month-ends of the bank. Each account contributes its sums over the window
(level and slope numerator) to its holders, so no (customers x months) matrix is ever built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from graph.settings import AnalyticsSettings
from queries.analytics.spark.frames import SparkFrames
from queries.analytics.value import AUM_CATEGORIES, DEPOSIT_CATEGORIES, LOAN_CATEGORIES, STANDARD

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

DAYS_PER_MONTH = 30.4375


def _mapping(values: dict[str, float]) -> Column:
    from pyspark.sql import functions as F

    return F.create_map(*[item for name, value in values.items() for item in (F.lit(name), F.lit(float(value)))])


def _sum_if(condition: Column, value: Column) -> Column:
    from pyspark.sql import functions as F

    return F.coalesce(F.sum(F.when(condition, value).otherwise(F.lit(0.0))), F.lit(0.0))


def customer_value(frames: SparkFrames, settings: AnalyticsSettings) -> DataFrame:
    """One row per customer: id, status, kind, segment, birth_date, aum, deposits, loans, trend, tenure, held,
    closed_share, churned, tier, stage, ltv_historical, ltv_current, ltv_potential."""
    from pyspark.sql import functions as F

    months = frames.months
    window = min(settings.trend_months, months)
    first = months - window  # first month-end of the trend window
    centre = (window - 1) / 2.0
    centred_square = sum((step - centre) ** 2 for step in range(window))
    margin = F.coalesce(_mapping(settings.margins)[F.col("category")], F.lit(0.0))
    size = F.size("balances")
    latest_raw = F.when(size > 0, F.element_at("balances", -1)).otherwise(F.lit(0.0))
    # Position of element i in the bank's month-ends is months - size + i (right-aligned).
    in_window = F.filter(
        F.transform("balances", lambda value, index: F.struct(value.alias("v"), (index + months - size).alias("m"))),
        lambda cell: cell["m"] >= first,
    )
    per_account = frames.accounts.select(
        "account",
        "category",
        "closed",
        F.when(F.col("closed"), F.lit(0.0)).otherwise(latest_raw).alias("latest"),
        F.when(F.col("closed"), F.lit(0.0))
        .otherwise(F.aggregate("balances", F.lit(0.0), lambda total, value: total + F.abs(value) * margin / 12.0))
        .alias("history"),
        F.when(F.col("closed"), F.lit(0.0)).otherwise(F.abs(latest_raw) * margin / 12.0 * 12.0).alias("current"),
        F.aggregate(in_window, F.lit(0.0), lambda total, cell: total + F.abs(cell["v"])).alias("level_sum"),
        F.aggregate(
            in_window, F.lit(0.0), lambda total, cell: total + F.abs(cell["v"]) * (cell["m"] - first - centre)
        ).alias("slope_sum"),
    )
    category = F.col("category")
    held = (
        frames.owners.join(per_account, "account")
        .groupBy(F.col("customer").alias("id"))
        .agg(
            _sum_if(category.isin(*AUM_CATEGORIES), F.col("latest")).alias("aum"),
            _sum_if(category.isin(*DEPOSIT_CATEGORIES), F.col("latest")).alias("deposits"),
            _sum_if(category.isin(*LOAN_CATEGORIES), F.col("latest")).alias("loans"),
            F.sum("history").alias("ltv_historical"),
            F.sum("current").alias("current"),
            F.sum("level_sum").alias("level_sum"),
            F.sum("slope_sum").alias("slope_sum"),
            F.count(F.lit(1)).alias("held"),
            F.sum(F.col("closed").cast("double")).alias("closed_count"),
        )
    )
    zero = F.lit(0.0)
    level = F.col("level_sum") / window
    slope = F.col("slope_sum") / centred_square
    trend = F.when(F.lit(months < 2), zero).when(level > 1e-9, slope * (window - 1) / level).otherwise(zero)
    since_days = F.datediff(F.lit(frames.as_of), F.col("customer_since"))
    table = (
        frames.customers.join(held, "id", "left")
        .na.fill(0.0, ["aum", "deposits", "loans", "ltv_historical", "current", "level_sum", "slope_sum"])
        .na.fill(0, ["held", "closed_count"])
        .withColumn("trend", trend)
        .withColumn("tenure", F.greatest(F.coalesce(since_days / DAYS_PER_MONTH, zero), zero))
        .withColumn("closed_share", F.when(F.col("held") > 0, F.col("closed_count") / F.col("held")).otherwise(zero))
        .withColumn(
            "churned",
            (F.col("status") == "churned") | ((F.col("held") > 0) & (F.col("closed_count") == F.col("held"))),
        )
    )
    table = table.withColumn("tier", _tier(settings.tier_thresholds)).withColumn("stage", _stage(settings))
    return _lifetime_value(table, months, settings)


def _tier(thresholds: dict[str, float]) -> Column:
    """The highest tier whose (inclusive) threshold ``aum`` reaches, else 'standard'."""
    from pyspark.sql import functions as F

    ordered = sorted(thresholds.items(), key=lambda item: -item[1])
    tier = F.lit(STANDARD)
    for name, bound in reversed(ordered):  # the highest bound is tested last, so it wins
        tier = F.when(F.col("aum") >= bound, F.lit(name)).otherwise(tier)
    return tier


def _stage(settings: AnalyticsSettings) -> Column:
    """churned > acquisition > decline > growth > maturity."""
    from pyspark.sql import functions as F

    return (
        F.when(F.col("churned"), F.lit("churned"))
        .when(F.col("tenure") < settings.acquisition_months, F.lit("acquisition"))
        .when(F.col("trend") <= settings.decline_trend, F.lit("decline"))
        .when(F.col("trend") >= settings.growth_trend, F.lit("growth"))
        .otherwise(F.lit("maturity"))
    )


def _lifetime_value(table: DataFrame, months: int, settings: AnalyticsSettings) -> DataFrame:
    """Current and potential value (historical is summed per account above)."""
    from pyspark.sql import functions as F

    years_observed = max(min(settings.trend_months, months) - 1, 1) / 12.0
    growth = F.least(
        F.greatest(F.col("trend") / years_observed, F.lit(-settings.max_growth)), F.lit(settings.max_growth)
    )
    remaining = F.greatest(settings.expected_tenure_years - F.col("tenure") / 12.0, F.lit(1.0))
    table = table.withColumn("growth", growth).withColumn("remaining", remaining)
    # In-process the horizon is one number for the whole bank (the longest remaining tenure), and a year past a
    # customer's own remaining tenure adds a share of 0: summing each customer's own years gives the same sums,
    # without a job to find the bank's horizon first.
    years = F.ceil(F.col("remaining")).cast("int")
    factor = (1 + F.col("growth")) / (1 + settings.discount_rate)
    potential = F.aggregate(
        F.sequence(F.lit(1), F.greatest(years, F.lit(1))),
        F.lit(0.0),
        lambda total, year: (
            total
            + F.least(F.greatest(F.col("remaining") - (year - 1), F.lit(0.0)), F.lit(1.0))
            * F.col("current")
            * F.pow(factor, year)
        ),
    )
    return (
        table.withColumn("ltv_potential", F.when(F.col("churned"), F.lit(0.0)).otherwise(potential))
        .withColumn("ltv_current", F.when(F.col("churned"), F.lit(0.0)).otherwise(F.col("current")))
        .drop("growth", "remaining", "current", "level_sum", "slope_sum", "closed_count")
    )
