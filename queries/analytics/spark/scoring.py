"""Scoring on the workers with models fitted on the driver: rows reach the Python workers as Arrow batches of
doubles (``mapInArrow``), not one pickled Row each, and each batch is one pandas table the fitted pipelines
score at once. The models themselves are the in-process ones, so both engines compute the same numbers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import DataFrame

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
