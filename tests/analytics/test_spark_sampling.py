"""A bank past the training cap: the Spark engine draws the same rows as the in-process sample."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from queries.analytics import models

SPARK_MASTER, SPARK_MEMORY, SPARK_PARTITIONS = "local[2]", "1g", 3
LIMIT = 10


def test_rows_past_the_cap_are_the_in_process_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    from queries.analytics.spark.session import spark_session
    from queries.analytics.spark.training import collect_rows, id_positions

    rng = np.random.default_rng(8)
    ids = [f"C{number:05d}" for number in rng.choice(100_000, 57, replace=False)]
    values = rng.normal(size=len(ids))
    session = spark_session(SPARK_MASTER, SPARK_MEMORY, SPARK_PARTITIONS)
    try:
        # Rows in no particular order, spread over several partitions.
        frame = session.createDataFrame(
            [(customer_id, float(value)) for customer_id, value in zip(ids, values, strict=True)],
            "id string, value double",
        ).repartition(4)
        positions = {row["id"]: row["position"] for row in id_positions(frame).collect()}
        found = collect_rows(frame, ["value"], limit=LIMIT)
        everything = collect_rows(frame, ["value"], limit=len(ids))
    finally:
        session.stop()
    in_order = sorted(ids)
    assert positions == {customer_id: place for place, customer_id in enumerate(in_order)}
    table = pd.DataFrame({"value": values}, index=pd.Index(ids, name="id")).sort_index()
    monkeypatch.setattr(models, "MAX_TRAINING_ROWS", LIMIT)
    expected, _ = models.training_sample(table.reset_index(), np.zeros(len(ids), dtype=bool))
    assert list(found.index) == list(expected["id"]) and len(found) == LIMIT
    assert found["value"].tolist() == expected["value"].tolist()
    assert list(everything.index) == in_order  # at or under the cap: every row


def test_products_reach_the_driver_together_up_to_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    from queries.analytics.spark import crosssell

    monkeypatch.setattr(crosssell, "MAX_TRAINING_ROWS", LIMIT)
    sizes = [("A", 4), ("B", 0), ("C", 6), ("D", 1), ("E", 12), ("F", 3), ("G", 10)]
    groups = crosssell._collected_together(sizes)
    assert groups == [["A", "C"], ["D"], ["E"], ["F"], ["G"]]  # B has no rows; E is past the cap, alone
    held = dict(sizes)
    assert all(len(group) == 1 or sum(held[product] for product in group) <= LIMIT for group in groups)


def test_products_past_the_cap_are_each_drawn_as_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    from queries.analytics.spark import crosssell
    from queries.analytics.spark.session import spark_session
    from queries.analytics.spark.training import collect_rows

    rng = np.random.default_rng(9)
    sizes = {"A": 23, "B": 4, "C": 11, "D": 40}  # A, C and D past the cap (10); B at the driver whole
    rows = [
        (f"C{number:05d}", product, bool(rng.random() < 0.3), float(rng.normal()))
        for product, size in sizes.items()
        for number in rng.choice(100_000, size, replace=False)
    ]
    monkeypatch.setattr(crosssell, "MAX_TRAINING_ROWS", LIMIT)
    session = spark_session(SPARK_MASTER, SPARK_MEMORY, SPARK_PARTITIONS)
    try:
        train = session.createDataFrame(rows, "id string, product string, label boolean, value double").repartition(4)
        found = list(crosssell._training_samples(train, sizes, sorted(sizes), ["value"]))
        alone = [
            collect_rows(train.where(train["product"] == product), ["label", "value"], limit=LIMIT, total=size)
            for product, size in sorted(sizes.items())
        ]
    finally:
        session.stop()
    assert [len(table) for table in found] == [LIMIT, 4, LIMIT, LIMIT]
    for table, expected in zip(found, alone, strict=True):
        assert list(table.index) == list(expected.index)  # the same rows, in id order
        assert table["value"].tolist() == expected["value"].tolist()
        assert table["label"].tolist() == expected["label"].tolist()
