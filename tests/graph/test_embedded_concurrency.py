"""The embedded store's reads take no lock: a long read holds up neither other reads nor writes, and a read
running while batches are written sees each batch whole or not at all."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import graph.embedded
from graph.embedded import EmbeddedStore, GraphView, view
from graph.model import NodeLabel, TieType
from graph.query import NamedQuery, Rows

WAIT_SECONDS = 30  # only ever reached when something that must not wait does


def test_a_long_read_holds_up_neither_other_reads_nor_writes(tmp_path: Path) -> None:
    reading, release = threading.Event(), threading.Event()

    def long_read(graph: GraphView, params: Mapping[str, Any]) -> Rows:
        before = graph.props((NodeLabel.CUSTOMER, "p1"))["city"]
        reading.set()
        assert release.wait(WAIT_SECONDS)
        return [
            {
                "before": before,
                "after": graph.props((NodeLabel.CUSTOMER, "p1"))["city"],
                "p2": graph.has(NodeLabel.PERSON, "p2"),
            }
        ]

    def meanwhile(store: EmbeddedStore) -> list[Any]:
        record = store.get_node(NodeLabel.PERSON, "p1")
        store.write([{"label": "Person", "id": "p1", "properties": {"city": "Brno"}}, {"label": "Person", "id": "p2"}])
        again = store.get_node(NodeLabel.PERSON, "p1")
        return [record and record.properties["city"], again and again.properties["city"], store.counts().nodes]

    with EmbeddedStore(tmp_path / "store") as store, ThreadPoolExecutor(2) as pool:
        store.write([{"label": "Person", "id": "p1", "properties": {"city": "Praha"}}])
        slow = pool.submit(store.run, NamedQuery("long_read", "tests.graph", long_read))
        try:
            assert reading.wait(WAIT_SECONDS)
            # Another read and a whole write while the long read is in the middle of its work.
            assert pool.submit(meanwhile, store).result(WAIT_SECONDS) == [
                "Praha",
                "Brno",
                {"Customer": 2, "Person": 2},
            ]
        finally:
            release.set()
        # The long read read one graph to its end: the write made after it started is not in it.
        assert slow.result(WAIT_SECONDS) == [{"before": "Praha", "after": "Praha", "p2": False}]


MEMBERS = 120


def _generation(number: int) -> dict[str, Any]:
    """A batch that gives every member, and every tie from the hub to a member, the generation ``number``."""
    members = [f"m{member:03d}" for member in range(MEMBERS)]
    nodes = [{"label": "Person", "id": "hub", "properties": {"generation": number}}]
    nodes += [{"label": "Person", "id": member, "properties": {"generation": number}} for member in members]
    ties = [
        {"type": "REFERRED", "source": "hub", "target": member, "properties": {"generation": number}}
        for member in members
    ]
    return {"nodes": nodes, "ties": ties}


def _generations_seen(graph: GraphView, params: Mapping[str, Any]) -> Rows:
    """Every generation a read finds on the members and on the hub's ties (one, when batches are read whole)."""
    seen: set[Any] = set()
    members = 0
    for key in graph.keys(NodeLabel.PERSON):
        seen.add(graph.props(key).get("generation"))
        members += 1
    ties = 0
    for _, _, props in graph.out_ties((NodeLabel.CUSTOMER, "hub"), [TieType.REFERRED]):
        seen.add(props.get("generation"))
        ties += 1
    return [{"generations": sorted(seen), "nodes": members, "ties": ties}]


def test_reads_during_writes_see_each_batch_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Small thresholds so that the writes also merge overlays into new bases and write snapshots as they go.
    monkeypatch.setattr(view, "OVERLAY_MINIMUM", 3 * MEMBERS)
    monkeypatch.setattr(graph.embedded, "LOG_MINIMUM", 20 * MEMBERS)
    query = NamedQuery("generations_seen", "tests.graph", _generations_seen)
    batches = 60
    with EmbeddedStore(tmp_path / "store") as store:
        store.write(**_generation(0))
        done = threading.Event()

        def write_all() -> None:
            try:
                for number in range(1, batches + 1):
                    if number % 3 == 0:  # a member deleted (a batch of its own), then written again
                        store.write(delete=[("Customer", "m007")])
                    store.write(**_generation(number))
            finally:
                done.set()

        seen: list[list[Any]] = []
        with ThreadPoolExecutor(1) as pool:
            writing = pool.submit(write_all)
            while not done.is_set():
                (row,) = store.run(query)
                seen.append(row["generations"])
                assert len(row["generations"]) == 1, f"a read saw a batch in part: generations {row['generations']}"
                assert (row["nodes"], row["ties"]) in ((MEMBERS + 1, MEMBERS), (MEMBERS, MEMBERS - 1))
            writing.result()
        (row,) = store.run(query)
        assert row == {"generations": [batches], "nodes": MEMBERS + 1, "ties": MEMBERS}
    assert len({generation for (generation,) in seen}) > 3  # the reads did run while the batches were written
