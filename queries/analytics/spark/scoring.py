"""Scoring on the workers with models fitted on the driver: rows reach the Python workers as Arrow batches of
doubles (``mapInArrow``), not one pickled Row each, and each batch is one pandas table the fitted pipelines
score at once. The models themselves are the in-process ones, so both engines compute the same numbers.

A fitted logistic regression (:func:`~queries.analytics.models.fit`: standardised features, then the regression)
is a sum of a few terms: :func:`logistic_probability` writes it as a Spark column instead, which the JVM
evaluates in its generated code with no Python worker, no Arrow batches and no pandas table per batch."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pandas as pd

from queries.analytics.models import FittedModel

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import Column, DataFrame

BatchScorer = Callable[["pa.RecordBatch", pd.DataFrame], "pa.RecordBatch"]


def scored_on_workers(
    frame: DataFrame, keys: list[str], columns: list[str], score: BatchScorer, schema: str
) -> DataFrame:
    """``score`` applied to every batch of ``frame``'s ``keys`` (as they are) and ``columns`` (as doubles, a
    null as NaN), given the batch and its ``columns`` as a pandas table; its batches, of ``schema``, are the
    result. ``score`` runs on the workers: what it reads from the driver must come through a broadcast."""
    from pyspark.sql import functions as F

    def scored(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            if batch.num_rows:
                yield score(batch, batch_table(batch, columns))

    chosen = frame.select(*keys, *(F.col(name).cast("double").alias(name) for name in columns))
    return chosen.mapInArrow(scored, schema)


def batch_table(batch: pa.RecordBatch, columns: list[str]) -> pd.DataFrame:
    """The batch's ``columns`` (doubles) as a pandas table, in that order."""
    return pd.DataFrame({name: batch.column(name).to_numpy(zero_copy_only=False) for name in columns}, columns=columns)


def logistic_probability(model: FittedModel) -> Column:
    """The probability ``model.predict`` gives a row, as a column of the row's ``model.columns`` (doubles):
    each feature standardised as the pipeline's scaler does, ``(x - mean) / scale``, times its coefficient,
    summed in column order, plus the intercept, through the logistic function. The same arithmetic as
    scikit-learn's but for the order of the sum (its dot product is BLAS's) and the exponential's last bit."""
    from pyspark.sql import functions as F

    scaler = model.pipeline.named_steps["standardscaler"]
    regression = model.pipeline.named_steps["logisticregression"]
    terms = [
        (F.col(name).cast("double") - F.lit(float(mean))) / F.lit(float(scale)) * F.lit(float(coefficient))
        for name, mean, scale, coefficient in zip(
            model.columns, scaler.mean_, scaler.scale_, regression.coef_[0], strict=True
        )
    ]
    linear = F.lit(0.0)
    for term in terms:
        linear = linear + term
    linear = linear + F.lit(float(regression.intercept_[0]))
    return F.lit(1.0) / (F.lit(1.0) + F.exp(-linear))
