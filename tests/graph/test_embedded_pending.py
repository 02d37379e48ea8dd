"""Columns a bulk merge leaves as parts (:class:`graph.embedded.layout.PendingColumns`): batches that only create
rows read back as the row path writes them, whether their parts are placed or not, and a refused batch leaves
the parts and the store as they were."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

import graph.embedded.bulk as bulk
import graph.embedded.view as view
from graph.embedded import EmbeddedStore
from graph.embedded.columns import placed_columns
from graph.embedded.layout import PendingColumns, property_columns
from graph.errors import MissingEndpoint
from graph.model import NodeLabel
from tests.graph.test_bulk_write import node_tables, tie_tables
from tests.samples import snapshot


def _batch(rng: random.Random, numbers: list[int]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """New customers, their accounts (monthly balances of one length) and ties, some without properties."""
    nodes: list[dict[str, Any]] = []
    ties: list[dict[str, Any]] = []
    for n in numbers:
        props: dict[str, Any] = {"name": f"客户{n}", "city": rng.choice(["Praha", "Brno"]), "n": n}
        if n % 3:
            props["score"] = rng.choice([None, 0.5])
        nodes.append({"label": rng.choice(["Person", "Company"]), "id": f"c{n:05d}", "properties": props})
        balances = [round(rng.random(), 3) for _ in range(4)]
        nodes.append({"label": "Account", "id": f"a{n:05d}", "properties": {"balances": balances}})
        role = rng.choice(["owner", "joint"])
        ties.append({"type": "OWNS", "source": f"c{n:05d}", "target": f"a{n:05d}", "properties": {"role": role}})
        ties.append({"type": "FROM_SOURCE", "source": f"c{n:05d}", "target": f"s{n:05d}", "properties": {}})
        nodes.append({"label": "SourceRecord", "id": f"s{n:05d}", "properties": {}})
    return nodes, ties


@pytest.mark.parametrize("place_share", [1.0, 100.0], ids=["placed as parts double", "placed when read"])
def test_creating_batches_read_back_as_rows_write_them_and_survive_a_reopen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, place_share: float
) -> None:
    monkeypatch.setattr(view, "BULK_SHARE", 0.0)  # every batch merged into the base
    monkeypatch.setattr(bulk, "PLACE_SHARE", place_share)
    rng = random.Random(11)
    numbers = list(range(600))
    rng.shuffle(numbers)  # ids of each batch fall among the held ones
    with EmbeddedStore(tmp_path / "rows") as by_rows, EmbeddedStore(tmp_path / "columns") as by_columns:
        for start in range(0, 600, 100):
            nodes, ties = _batch(rng, numbers[start : start + 100])
            by_rows.write(nodes, ties)
            found = by_columns.bulk_write(node_tables(nodes), tie_tables(ties))
            assert found.created == len(nodes) + len(ties)
        # Updates after parts: the held rows are placed first, then merged.
        update = [{"label": "Account", "id": "a00007", "properties": {"balances": [1.0, 2.0, 3.0, 4.0]}}]
        by_rows.write(update)
        by_columns.bulk_write(node_tables(update))
        expected = snapshot(by_rows)
        assert snapshot(by_columns) == expected
    with EmbeddedStore(tmp_path / "columns", read_only=True) as reopened:
        assert snapshot(reopened) == expected


def test_a_refused_batch_leaves_the_parts_and_the_store_as_they_were(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(view, "BULK_SHARE", 0.0)
    monkeypatch.setattr(bulk, "PLACE_SHARE", 100.0)  # parts left unplaced
    rng = random.Random(3)
    with EmbeddedStore(tmp_path / "store") as store:
        for start in (0, 100):
            nodes, ties = _batch(rng, list(range(start, start + 100)))
            store.bulk_write(node_tables(nodes), tie_tables(ties))
        accounts = store.view._nodes[NodeLabel.ACCOUNT]
        assert accounts.pending.unplaced_rows() > 0  # parts left to place
        before = snapshot(store)
        nodes, ties = _batch(rng, list(range(200, 250)))
        ties.append({"type": "OWNS", "source": "c00001", "target": "a99999", "properties": {"role": "owner"}})
        with pytest.raises(MissingEndpoint, match="a99999"):
            store.bulk_write(node_tables(nodes), tie_tables(ties))
        assert snapshot(store) == before
        nodes, ties = _batch(rng, list(range(200, 250)))
        assert store.bulk_write(node_tables(nodes), tie_tables(ties)).created == len(nodes) + len(ties)
        assert store.get_node(NodeLabel.ACCOUNT, "a00249") is not None
    with EmbeddedStore(tmp_path / "store", read_only=True) as reopened:
        assert reopened.counts().nodes[NodeLabel.ACCOUNT] == 250


def test_parts_placed_once_hold_what_placing_each_merge_holds() -> None:
    rng = np.random.default_rng(5)
    held = pa.table({"city": pa.array(["a", "b", "a"]).dictionary_encode(), "n": [1, 2, 3]})
    held_columns, _ = property_columns(held, start=0)
    pending = PendingColumns.made(property_columns(held, start=0), 3)
    step = held_columns
    rows = 3
    for size, columns in ((2, {"n": [4, 5]}), (3, {"city": ["c", None, "a"], "n": [6, 7, 8]}), (1, {})):
        added = pa.table(columns) if columns else pa.table({"rows": pa.nulls(size)}).drop_columns(["rows"])
        order = rng.permutation(rows + size)
        pending = pending.appended(None, added, order)
        step = placed_columns(step, added if columns else pa.table({"n": pa.nulls(size, pa.int64())}), order)
        rows += size
    assert pending.unplaced_rows() == 6
    placed, readers = pending.placed()
    assert pending.unplaced_rows() == 0 and set(readers) == {"city", "n"}
    assert placed.to_pylist() == step.to_pylist()
