"""The embedded store's own bulk write: whole columns merged into the layout, with the outcome ``write`` gives
the same rows, kept across a reopen, and refused whole when a tie's end is missing."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import graph.embedded as embedded
from graph.embedded import EmbeddedStore
from graph.errors import MissingEndpoint
from graph.model import NodeLabel, TieType
from graph.store import GraphStore
from tests.graph.test_bulk_write import node_tables, tie_tables
from tests.samples import snapshot


def _bank(rng: random.Random, customers: int, rounds: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    nodes: list[dict[str, Any]] = []
    for n in range(customers):
        properties: dict[str, Any] = {"name": f"客户{n}", "city": rng.choice(["Praha", "Brno"]), "n": n + rounds}
        if n % 3:
            properties["score"] = rng.choice([None, 0.5, 0.25])
        nodes.append({"label": rng.choice(["Person", "Company"]), "id": f"c{n:04d}", "properties": properties})
    nodes += [
        {"label": "Account", "id": f"a{n:04d}", "properties": {"balances": [rng.random() for _ in range(3)]}}
        for n in range(customers)
    ]
    ties = [
        {"type": "OWNS", "source": f"c{n:04d}", "target": f"a{n:04d}", "properties": {"role": "owner"}}
        for n in range(customers)
    ]
    ties += [
        {"type": "SPOUSE_OF", "source": f"c{n:04d}", "target": f"c{n + 1:04d}", "properties": {}}
        for n in range(0, customers - 1, 4)
    ]
    return nodes, ties


def _no_row_path(*_: Any, **__: Any) -> Any:
    raise AssertionError("the tables were written as rows")


def test_columns_in_give_what_rows_in_give_and_survive_a_reopen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(5)
    with EmbeddedStore(tmp_path / "rows") as by_rows, EmbeddedStore(tmp_path / "columns") as by_columns:
        monkeypatch.setattr(GraphStore, "bulk_write", _no_row_path)
        monkeypatch.setattr(embedded, "BULK_SHARE", 0.0)  # small tables too: into the columns
        for round_number, customers in enumerate((200, 300, 300)):
            nodes, ties = _bank(rng, customers, round_number)
            expected = by_rows.write(nodes, ties)
            found = by_columns.bulk_write(node_tables(nodes), tie_tables(ties))
            assert (found.created, found.updated, found.unchanged) == (
                expected.created,
                expected.updated,
                expected.unchanged,
            )
            assert (found.nodes, found.ties) == (expected.nodes, expected.ties)
            assert snapshot(by_columns) == snapshot(by_rows)
        by_rows.write(delete=[("Customer", "c0001")])
        by_columns.write(delete=[("Customer", "c0001")])
        new_column = pa.table({"id": ["c0002", "c0999"], "kind": ["Person", "Company"], "tier": ["gold", None]})
        by_rows.write(
            [
                {"label": "Person", "id": "c0002", "properties": {"tier": "gold"}},
                {"label": "Company", "id": "c0999", "properties": {"tier": None}},
            ]
        )
        by_columns.bulk_write({NodeLabel.CUSTOMER: new_column})
        expected_held = snapshot(by_rows)
        assert snapshot(by_columns) == expected_held
    with EmbeddedStore(tmp_path / "columns", read_only=True) as reopened:
        assert snapshot(reopened) == expected_held


def test_a_missing_end_refuses_the_tables_whole_and_names_the_row(tmp_path: Path) -> None:
    with EmbeddedStore(tmp_path / "store") as store:
        store.write([{"label": "Person", "id": "p1"}])
        before = snapshot(store)
        accounts = pa.table({"id": ["a1", "a2"]})
        first = pa.table({"source": ["p1"], "target": ["a1"]})
        second = pa.table({"source": ["p1", "p2"], "target": ["a2", "a1"]})
        with pytest.raises(MissingEndpoint, match="tie row 2: GUARANTEES target Customer 'a2' does not exist"):
            store.bulk_write({NodeLabel.ACCOUNT: accounts}, {TieType.OWNS: first, TieType.GUARANTEES: second})
        assert snapshot(store) == before
    with EmbeddedStore(tmp_path / "store", read_only=True) as reopened:
        assert snapshot(reopened) == before


def test_a_key_given_twice_is_merged_as_the_row_path_merges_it(tmp_path: Path) -> None:
    nodes = [
        {"label": "Person", "id": "p1", "properties": {"name": "Ana"}},
        {"label": "Account", "id": "a1", "properties": {"status": "open"}},
        {"label": "Person", "id": "p1", "properties": {"name": "Ana B."}},
    ]
    ties = [
        {"type": "OWNS", "source": "p1", "target": "a1", "properties": {"role": "owner"}},
        {"type": "OWNS", "source": "p1", "target": "a1", "properties": {"role": "joint"}},
    ]
    with EmbeddedStore(tmp_path / "rows") as by_rows, EmbeddedStore(tmp_path / "columns") as by_columns:
        expected = GraphStore.bulk_write(by_rows, node_tables(nodes), tie_tables(ties))
        found = by_columns.bulk_write(node_tables(nodes), tie_tables(ties))
        assert found == expected
        assert snapshot(by_columns) == snapshot(by_rows)
        node = by_columns.get_node(NodeLabel.PERSON, "p1")
        assert node is not None and node.properties == {"name": "Ana B."}
