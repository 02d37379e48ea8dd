"""The fitted regressions as Spark columns: the same probabilities as the pipelines, rounded as Python rounds."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pytest

from queries.analytics.models import fit

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

SPARK_MASTER, SPARK_MEMORY, SPARK_PARTITIONS = "local[2]", "1g", 2
DIGITS = 6


@pytest.fixture(scope="module")
def session() -> Iterator[SparkSession]:
    from queries.analytics.spark.session import spark_session

    spark = spark_session(SPARK_MASTER, SPARK_MEMORY, SPARK_PARTITIONS)
    yield spark
    spark.stop()


def _numbers() -> list[float]:
    rng = np.random.default_rng(3)
    exact_halves = [(2 * k + 1) / 2e6 for k in range(0, 2000, 7)]  # most are not exact: either side of the half
    near = [float(np.nextafter(half, direction)) for half in exact_halves for direction in (0.0, 1.0)]
    rates = [taken / shown for shown in (128, 256, 1024, 2000, 4096, 65536, 400_000) for taken in range(0, 60)]
    return [
        0.0,
        1.0,
        0.0078125,  # an exact half: Python gives 0.007812, Spark's round 0.007813
        5e-7,
        2.5e-6,
        1.5e-6,
        2.675,
        -0.0078125,
        -2.5e-6,
        123456.0000005,
        *exact_halves,
        *near,
        *rates,
        *rng.random(5000).tolist(),
        *(rng.random(2000) * 1e-4).tolist(),
        *(1.0 / (1.0 + np.exp(-rng.normal(scale=4.0, size=2000)))).tolist(),
    ]


def test_spark_rounds_as_python_does(session: SparkSession) -> None:
    from pyspark.sql import functions as F

    from queries.analytics.rounding import round_like_python
    from queries.analytics.spark.rounding import rounded_like_python

    numbers = _numbers()
    frame = session.createDataFrame([(place, number) for place, number in enumerate(numbers)], "place int, x double")
    rows = frame.select("place", rounded_like_python(F.col("x"), DIGITS).alias("rounded")).collect()
    nothing = session.createDataFrame([(None,)], "x double").select(rounded_like_python(F.col("x"), DIGITS)).first()
    found = {row["place"]: row["rounded"] for row in rows}
    expected = [round(number, DIGITS) for number in numbers]
    assert [found[place] for place in range(len(numbers))] == expected
    assert expected == round_like_python(np.array(numbers), DIGITS).tolist()  # and as the driver rounds
    assert round(0.0078125, DIGITS) == 0.007812 and found[2] == 0.007812  # where Spark's own round differs
    assert nothing is not None and nothing[0] is None


def test_a_fitted_regression_as_a_column_gives_the_pipelines_probabilities(session: SparkSession) -> None:
    from queries.analytics.spark.scoring import logistic_probability

    rng = np.random.default_rng(5)
    columns = ["level", "count", "share", "constant"]
    table = pd.DataFrame(
        {
            "level": rng.normal(50_000.0, 20_000.0, 3000),
            "count": rng.poisson(3.0, 3000).astype(float),
            "share": rng.random(3000),
            "constant": np.ones(3000),  # no spread: the scaler's scale is 1
        }
    )
    label = rng.random(3000) < 1.0 / (1.0 + np.exp(-(table["share"] * 4.0 - 3.0 + table["count"] * 0.2)))
    model = fit(table, label, columns)
    assert model is not None
    frame = session.createDataFrame(table.assign(place=np.arange(len(table))))
    rows = frame.select("place", logistic_probability(model).alias("score")).collect()
    found = np.array([score for _, score in sorted((row["place"], row["score"]) for row in rows)])
    expected = model.predict(table)
    assert np.max(np.abs(found - expected)) < 1e-12  # the order of the sum and the exponential's last bit
    assert np.ptp(expected) > 0.2
