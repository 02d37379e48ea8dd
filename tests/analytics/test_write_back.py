"""analyze writes its customers back as one table of columns: the same values the rows carried."""

from __future__ import annotations

import importlib
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from graph.embedded import EmbeddedStore
from graph.model import NodeLabel
from graph.settings import AnalyticsSettings
from graph.tables import node_rows
from queries.analytics import analyze
from queries.analytics.analyze import compute, customer_table
from queries.analytics.crosssell_fit import customer_columns, customer_properties, fitted_cross_sell
from queries.analytics.frames import GraphFrames, read_frames
from queries.analytics.training import training_window

NOW = datetime(2025, 1, 2, tzinfo=UTC)


def test_cross_sell_columns_are_each_customers_lists(generated_frames: GraphFrames) -> None:
    settings = AnalyticsSettings(as_of=generated_frames.as_of)
    fit, _ = fitted_cross_sell(generated_frames, training_window(generated_frames, settings))
    assert fit is not None
    for given in (fit, None):
        columns = {name: column.to_pylist() for name, column in customer_columns(given, generated_frames.size).items()}
        for number in range(generated_frames.size):
            assert {name: values[number] for name, values in columns.items()} == customer_properties(given, number)
        sliced = customer_columns(given, generated_frames.size, slice(700, 1100))
        assert {name: column.to_pylist() for name, column in sliced.items()} == {
            name: values[700:1100] for name, values in columns.items()
        }


def test_a_table_made_in_pieces_is_the_table_made_at_once(
    generated_bank: Path, generated_frames: GraphFrames, monkeypatch: pytest.MonkeyPatch
) -> None:
    with EmbeddedStore(generated_bank / "store.sqlite", read_only=True) as store:
        result = compute(generated_frames, AnalyticsSettings(as_of=generated_frames.as_of), store.registry)
    at_once = customer_table(result, NOW.isoformat(), slice(100, 1400))
    assert at_once.num_rows == 1300 and at_once.column("id").num_chunks == 1
    # the module itself: the package's name ``analyze`` is the function
    monkeypatch.setattr(importlib.import_module("queries.analytics.analyze"), "TABLE_PIECE_ROWS", 7)
    in_pieces = customer_table(result, NOW.isoformat(), slice(100, 1400))
    assert in_pieces.column("id").num_chunks == 186
    assert in_pieces.equals(at_once)
    assert customer_table(result, NOW.isoformat(), slice(0, 0)).schema == at_once.schema


def test_the_stored_customers_are_the_table_analyze_wrote(generated_bank: Path, tmp_path: Path) -> None:
    shutil.copytree(generated_bank / "store.sqlite", tmp_path / "store.sqlite")  # the embedded store is a folder
    with EmbeddedStore(tmp_path / "store.sqlite") as store:
        frames = read_frames(store)
        settings = AnalyticsSettings(as_of=frames.as_of)
        expected = customer_table(compute(frames, settings, store.registry), NOW.isoformat())
        # A cluster id from an earlier run on a customer this one puts in none: the table's null removes it.
        outside = expected.column("id")[expected.column("cluster_id").is_null().index(True).as_py()].as_py()
        store.write(nodes=[{"label": "Customer", "id": outside, "properties": {"cluster_id": "gone"}}])
        analyze(store, settings, now=NOW)
        stored = {record.id: record.properties for record in store.nodes(NodeLabel.CUSTOMER)}
    rows = list(node_rows({NodeLabel.CUSTOMER: expected}))
    assert len(rows) == len(stored) == 1500
    for row in rows:
        kept = stored[row["id"]]
        assert {name: kept.get(name) for name in row["properties"]} == row["properties"], row["id"]
    assert sum(1 for row in rows if row["properties"]["cross_sell_products"]) > 1000
    assert "cluster_id" not in stored[outside]
