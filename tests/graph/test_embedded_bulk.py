"""The embedded store's own bulk write: whole columns merged into the layout, with the outcome ``write`` gives
the same rows, kept across a reopen, and refused whole when a tie's end is missing."""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import graph.embedded.bulk as bulk
import graph.embedded.bulk_checks as bulk_checks
import graph.embedded.view as view
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


@pytest.mark.parametrize(
    ("bulk_share", "overlay_minimum"),
    [(0.0, view.OVERLAY_MINIMUM), (math.inf, view.OVERLAY_MINIMUM), (math.inf, 0)],
    ids=["into the base", "into the overlay", "into the overlay, then the base"],
)
def test_columns_in_give_what_rows_in_give_and_survive_a_reopen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bulk_share: float, overlay_minimum: int
) -> None:
    rng = random.Random(5)
    with EmbeddedStore(tmp_path / "rows") as by_rows, EmbeddedStore(tmp_path / "columns") as by_columns:
        monkeypatch.setattr(GraphStore, "bulk_write", _no_row_path)
        monkeypatch.setattr(view, "BULK_SHARE", bulk_share)  # every table merged into the base, or none
        monkeypatch.setattr(view, "OVERLAY_MINIMUM", overlay_minimum)  # 0: the overlay rebuilt into the base
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


def test_a_small_table_goes_into_the_overlay_and_reads_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(view, "BULK_SHARE", 0.25)  # the small table's rows are under a quarter of those held
    rng = random.Random(9)
    nodes, ties = _bank(rng, 400, 0)
    more_nodes, more_ties = _bank(rng, 420, 1)
    small_nodes = more_nodes[395:420] + more_nodes[815:840]  # 5 customers and 5 accounts held, 20 new of each
    small_ties = [tie for tie in more_ties if tie["source"] in {node["id"] for node in small_nodes}]
    with EmbeddedStore(tmp_path / "rows") as by_rows, EmbeddedStore(tmp_path / "columns") as by_columns:
        by_rows.write(nodes, ties)
        by_columns.bulk_write(node_tables(nodes), tie_tables(ties))
        assert by_columns.view.overlay_rows() == 0
        expected = by_rows.write(small_nodes, small_ties)
        found = by_columns.bulk_write(node_tables(small_nodes), tie_tables(small_ties))
        assert found == expected
        assert 0 < by_columns.view.overlay_rows() <= len(small_nodes) + len(small_ties)
        assert snapshot(by_columns) == snapshot(by_rows)
        expected_held = snapshot(by_rows)
    with EmbeddedStore(tmp_path / "columns", read_only=True) as reopened:
        assert snapshot(reopened) == expected_held


@pytest.mark.parametrize("bulk_share", [0.0, math.inf], ids=["into the base", "into the overlay"])
def test_a_batch_that_changes_nothing_is_neither_logged_nor_applied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bulk_share: float
) -> None:
    monkeypatch.setattr(view, "BULK_SHARE", bulk_share)
    nodes, ties = _bank(random.Random(3), 50, 0)
    path = tmp_path / "store"
    with EmbeddedStore(path) as store:
        store.write(nodes, ties)
        logs = {log.name: log.read_bytes() for log in path.glob("log-*")}
        graph = store.view
        by_rows = store.write(nodes, ties)
        by_columns = store.bulk_write(node_tables(nodes), tie_tables(ties))
        for result in (by_rows, by_columns):
            assert (result.created, result.updated, result.unchanged) == (0, 0, len(nodes) + len(ties))
        assert store.view is graph
        assert {log.name: log.read_bytes() for log in path.glob("log-*")} == logs


def test_updates_alone_keep_the_columns_they_do_not_name_in_place(tmp_path: Path) -> None:
    # Analyze writing back: every row held already; the columns not named stay the snapshot's mapped arrays.
    nodes, ties = _bank(random.Random(11), 400, 0)
    for path in (tmp_path / "rows", tmp_path / "columns"):
        with EmbeddedStore(path) as store:
            store.write(nodes, ties)
            store.write_snapshot()
    updates = [
        {
            "label": "Company" if n % 7 == 0 else node["label"],  # a kind changed
            "id": node["id"],
            "properties": {
                "n": n / 2 if n % 2 else None,  # a number column's type widened, and removed in half the rows
                "city": "Ostrava" if n % 3 == 0 else node["properties"]["city"],  # a text changed in a third
                "churn_risk": round(n / 400, 3),  # new columns
                "contributors": [f"c{n + 1:04d}", f"c{n + 2:04d}"] if n % 5 else None,
            },
        }
        for n, node in enumerate(nodes[:400])
        if n % 4  # three quarters of the customers
    ]
    with EmbeddedStore(tmp_path / "rows") as by_rows, EmbeddedStore(tmp_path / "columns") as by_columns:
        before = by_columns.view._nodes[NodeLabel.CUSTOMER]
        expected = by_rows.write(updates)
        found = by_columns.bulk_write(node_tables(updates))
        assert (found.created, found.updated, found.unchanged) == (0, expected.updated, expected.unchanged)
        assert snapshot(by_columns) == snapshot(by_rows)
        after = by_columns.view._nodes[NodeLabel.CUSTOMER]
        assert after is not before and after.base_count == before.base_count
        untouched = before.properties.column("name").chunk(0)
        assert after.properties.column("name").chunk(0).buffers()[2].address == untouched.buffers()[2].address
        assert after.id_slots() is before.id_slots()  # the same ids: the snapshot's id index kept
        again = by_columns.bulk_write(node_tables(updates))
        assert (again.created, again.updated, again.unchanged) == (0, 0, len(updates))
        expected_held = snapshot(by_rows)
    with EmbeddedStore(tmp_path / "columns", read_only=True) as reopened:
        assert snapshot(reopened) == expected_held


def test_a_bulk_write_creating_nodes_holds_the_given_columns_without_copying_them(tmp_path: Path) -> None:
    names = pa.array([f"客户{n}" for n in range(1000)], pa.large_string())
    balances = pa.array([float(n) for n in range(1000)])
    ids = [f"c{n:04d}" for n in range(1000)]
    table = pa.table({"id": ids, "kind": ["Person"] * 1000, "name": names, "balance": balances})
    with EmbeddedStore(tmp_path / "store") as store:
        assert store.bulk_write({NodeLabel.CUSTOMER: table}).created == 1000
        held = store.view._nodes[NodeLabel.CUSTOMER].properties
        # Into an empty label the new rows are the whole table: their columns are the caller's buffers.
        assert held.column("name").chunk(0).buffers()[2].address == names.buffers()[2].address
        assert held.column("balance").chunk(0).buffers()[1].address == balances.buffers()[1].address
        node = store.get_node(NodeLabel.PERSON, "c0007")
        assert node is not None and node.properties == {"name": "客户7", "balance": 7.0}


def test_a_label_written_again_as_held_keeps_its_table_and_a_changed_label_is_built_anew(tmp_path: Path) -> None:
    nodes, ties = _bank(random.Random(5), 60, 0)
    with EmbeddedStore(tmp_path / "store") as store:
        store.bulk_write(node_tables(nodes), tie_tables(ties))
        graph = store.view
        same = bulk_checks.checked_tables(node_tables(nodes), {})
        assert same is not None
        prepared = bulk.prepare(graph._nodes, graph._ties, *same)
        assert prepared.nodes == {} and (prepared.updated, prepared.unchanged) == (0, len(nodes))

        changed_name = [dict(node, properties={**node["properties"], "name": "改名"}) for node in nodes[:1]]
        one_changed = bulk_checks.checked_tables(node_tables(changed_name + nodes[1:]), {})
        assert one_changed is not None
        prepared = bulk.prepare(graph._nodes, graph._ties, *one_changed)
        assert list(prepared.nodes) == [NodeLabel.CUSTOMER]  # the accounts, as held, keep their table
        assert (prepared.updated, prepared.unchanged) == (1, len(nodes) - 1)
        assert prepared.nodes[NodeLabel.CUSTOMER].columns["name"].value(0) == "改名"


def test_list_columns_compare_row_by_row_whether_or_not_every_row_can_be_compared() -> None:
    old = pa.array([[1.0, 2.0], [3.0], [], None, [5.0]])
    new = pa.array([[1.0, 2.0], [3.5], [], None, [5.0, 6.0]])
    assert bulk._same_lists(old, new).tolist() == [True, False, True, True, False]
    # Every row valid and of one length on both sides: the lists are compared as they are (slices included).
    assert bulk._same_lists(old.slice(0, 3), new.slice(0, 3)).tolist() == [True, False, True]
    assert bulk._same_lists(old.slice(1, 2), new.slice(1, 2)).tolist() == [False, True]
    assert bulk._same_lists(new.slice(4, 1), pa.array([[5.0, 6.5]])).tolist() == [False]
