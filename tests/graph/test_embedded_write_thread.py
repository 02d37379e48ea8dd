"""A load's bulk writes into the embedded store on a writer thread: the loading thread's reads see every batch it
handed over, a refused batch stops the load with nothing after it written, and a bank loaded this way holds what
the loading thread writing each batch itself gives, reports and reloads included."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from graph.embedded import EmbeddedStore
from graph.embedded.log_records import Batch
from graph.errors import MissingEndpoint
from graph.factory import open_store
from graph.model import NodeLabel, TieType
from graph.settings import Settings
from graph.store import WriteResult
from loaders.generator import generate
from loaders.load import load_mapping
from loaders.quarantine import read_quarantine
from tests.samples import snapshot

SLOW = 0.2
"""Seconds each logged batch takes on a store slowed down: a read not waiting for it would not see it."""


def _slowed(store: EmbeddedStore, monkeypatch: pytest.MonkeyPatch, gate: threading.Event | None = None) -> list[str]:
    """Make each log append of ``store`` take :data:`SLOW` longer (or wait for ``gate``); the names of the threads
    that appended."""
    append, threads = store._disk.append, []

    def slow_append(batch: Batch) -> None:
        if gate is None:
            time.sleep(SLOW)
        else:
            assert gate.wait(10.0), "the test never let the batch be written"
        threads.append(threading.current_thread().name)
        append(batch)

    monkeypatch.setattr(store._disk, "append", slow_append)
    return threads


def _people(*ids: str) -> dict[NodeLabel, pa.Table]:
    return {NodeLabel.PERSON: pa.table({"id": list(ids), "name": [f"name of {node_id}" for node_id in ids]})}


def _accounts(*ids: str) -> dict[NodeLabel, pa.Table]:
    return {NodeLabel.ACCOUNT: pa.table({"id": list(ids)})}


def _owns(*pairs: tuple[str, str]) -> dict[TieType, pa.Table]:
    return {TieType.OWNS: pa.table({"source": [s for s, _ in pairs], "target": [t for _, t in pairs]})}


READS: dict[str, Callable[[EmbeddedStore], Any]] = {
    "node_ids": lambda store: "c2" in store.node_ids(NodeLabel.CUSTOMER),
    "get_node": lambda store: store.get_node(NodeLabel.PERSON, "c2") is not None,
    "nodes": lambda store: [node.id for node in store.nodes(NodeLabel.PERSON)] == ["c1", "c2"],
    "ties": lambda store: len(list(store.ties([TieType.OWNS]))) == 1,
    "counts": lambda store: store.counts().ties == {"OWNS": 1},
    "columns": lambda store: store.columns({NodeLabel.ACCOUNT: []}, {TieType.OWNS: []})[1][TieType.OWNS].num_rows == 1,
    "neighbourhood": lambda store: len(store.neighbourhood(NodeLabel.CUSTOMER, "c2").ties) == 1,
}


@pytest.mark.parametrize("read", READS)
def test_a_read_during_a_load_sees_every_batch_handed_over_before_it(
    read: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with EmbeddedStore(tmp_path / "store") as store:
        threads = _slowed(store, monkeypatch)
        counted: list[WriteResult] = []
        with store.loading():
            store.queue_bulk_write(_people("c1"), {}, counted.append)
            store.queue_bulk_write({**_people("c2"), **_accounts("a1")}, _owns(("c2", "a1")), counted.append)
            assert READS[read](store)
            assert len(threads) == 2  # both written before the read, and not by the loading thread
            assert threading.current_thread().name not in threads
        assert [result.created for result in counted] == [1, 3]


def test_the_loading_thread_goes_on_while_batches_are_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with EmbeddedStore(tmp_path / "store") as store:
        gate = threading.Event()
        threads = _slowed(store, monkeypatch, gate)
        counted: list[WriteResult] = []
        with store.loading():
            store.queue_bulk_write(_people("c1"), {}, counted.append)
            store.queue_bulk_write(_people("c2"), {}, counted.append)  # a second may be handed over meanwhile
            assert threads == [] and counted == []  # neither written yet: both wait for the gate
            gate.set()
        assert len(threads) == 2 and [result.created for result in counted] == [1, 1]
        assert store.node_ids(NodeLabel.CUSTOMER) == ["c1", "c2"]


def test_a_refused_batch_stops_the_load_and_nothing_after_it_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with EmbeddedStore(tmp_path / "store") as store:
        _slowed(store, monkeypatch)
        counted: list[WriteResult] = []
        with pytest.raises(MissingEndpoint), store.loading():
            store.queue_bulk_write(_people("c1"), {}, counted.append)
            store.queue_bulk_write(_accounts("a1"), _owns(("nobody", "a1")), counted.append)  # its end is missing
            store.queue_bulk_write(_people("c2"), {}, counted.append)  # handed over or refused here: never written
            store.queue_bulk_write(_people("c3"), {}, counted.append)
        assert [result.created for result in counted] == [1]
        assert store.node_ids(NodeLabel.CUSTOMER) == ["c1"]
        assert store.node_ids(NodeLabel.ACCOUNT) == []  # the refused batch left the store as it was
    with EmbeddedStore(tmp_path / "store", read_only=True) as reopened:
        assert reopened.counts().nodes == {"Customer": 1, "Person": 1}


def test_the_writer_thread_can_be_turned_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_GRAPH_EMBEDDED_WRITE_THREAD", "0")
    store = open_store(Settings(embedded_path=tmp_path / "store"))
    assert isinstance(store, EmbeddedStore)
    with store:
        threads = _slowed(store, monkeypatch)
        with store.loading():
            store.queue_bulk_write(_people("c1"), {}, lambda _: None)
            assert threads == [threading.current_thread().name]  # written before the hand-over returned


def test_a_bank_loads_the_same_with_and_without_the_writer_thread(tmp_path: Path) -> None:
    generate(300, 7, tmp_path / "bank")
    # Small batches: many hand-overs, and each source's reads of the ids known come while batches are in flight.
    settings = Settings(table_batch_size=97)
    found = {}
    for write_thread in (False, True):
        with EmbeddedStore(tmp_path / f"store-{write_thread}", write_thread=write_thread) as store:
            outcomes = []
            for load in ("first", "again"):
                report = load_mapping(
                    store,
                    tmp_path / "bank" / "mapping.yaml",
                    tmp_path / f"report-{write_thread}-{load}",
                    settings=settings,
                )
                quarantine = read_quarantine(tmp_path / f"report-{write_thread}-{load}" / "quarantine.csv")
                sources = [source.model_dump(exclude={"seconds"}) for source in report.sources]
                outcomes.append((sources, sorted(tuple(row.values()) for row in quarantine)))
            found[write_thread] = snapshot(store), outcomes
        with EmbeddedStore(tmp_path / f"store-{write_thread}", read_only=True) as reopened:
            assert snapshot(reopened) == found[write_thread][0]
    assert found[True] == found[False]
    first, again = found[True][1]
    assert sum(source["new"] for source in first[0]) > 0
    assert sum(source["new"] + source["updated"] for source in again[0]) == 0  # the reload changed nothing


def _held_up(store: EmbeddedStore, monkeypatch: pytest.MonkeyPatch, batches: list[tuple[Any, Any]]) -> list[Any]:
    """Hand ``batches`` over while the first waits to be logged, so the rest wait for the writer; each batch's
    counts, or the error the load ends with."""
    gate = threading.Event()
    logged = _slowed(store, monkeypatch, gate)
    counted: list[Any] = []
    try:
        with store.loading():
            for nodes, ties in batches:
                store.queue_bulk_write(nodes, ties, counted.append)
            gate.set()
    except MissingEndpoint as error:
        counted.append(error)
    counted.append(len(logged))
    return counted


def test_batches_waiting_for_the_writer_are_written_as_one_with_the_outcome_of_one_after_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    batches = [
        (_people(f"c{n}", f"d{n}"), {}) if n < 5 else ({}, _owns((f"c{n - 4}", "a1"), (f"d{n - 4}", "a1")))
        for n in range(1, 9)
    ]
    batches.insert(4, (_accounts("a1"), {}))
    with EmbeddedStore(tmp_path / "alone", write_thread=False) as alone:
        for nodes, ties in batches:
            alone.bulk_write(nodes, ties)
        expected = snapshot(alone)
    with EmbeddedStore(tmp_path / "store") as store:
        *counted, logged = _held_up(store, monkeypatch, batches)
        assert [(result.created, result.updated) for result in counted] == [(2, 0)] * 4 + [(1, 0)] + [(2, 0)] * 4
        assert logged < len(batches)  # people, the account and the ties: each kind joined once it waited
        assert snapshot(store) == expected
        again = _held_up(store, monkeypatch, batches)  # a reload: every row held, nothing written, nothing joined
        assert [result.unchanged for result in again[:-1]] == [2] * 4 + [1] + [2] * 4 and again[-1] == 0
        assert snapshot(store) == expected
    with EmbeddedStore(tmp_path / "store", read_only=True) as reopened:  # the joined records replay the same
        assert snapshot(reopened) == expected


def test_waiting_batches_that_one_after_another_would_refuse_or_update_are_written_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with EmbeddedStore(tmp_path / "twice") as store:
        renamed = {NodeLabel.PERSON: pa.table({"id": ["c2"], "name": ["renamed"]})}
        counted = _held_up(store, monkeypatch, [(_people("c1"), {}), (_people("c2"), {}), (renamed, {})])
        assert [(result.created, result.updated) for result in counted[:-1]] == [(1, 0), (1, 0), (0, 1)]
        assert store.get_node(NodeLabel.PERSON, "c2").properties["name"] == "renamed"  # type: ignore[union-attr]
    with EmbeddedStore(tmp_path / "later") as store:
        # A tie's end comes with the batch after it: one after another, that tie is refused and the load stops.
        batches = [
            (_people("c1"), {}),
            (_accounts("a2"), _owns(("c1", "a3"))),
            (_accounts("a3"), _owns(("c1", "a2"))),
        ]
        counted = _held_up(store, monkeypatch, batches)
        assert counted[0].created == 1 and isinstance(counted[1], MissingEndpoint) and counted[2] == 1
        assert store.node_ids(NodeLabel.ACCOUNT) == [] and store.counts().ties == {}
