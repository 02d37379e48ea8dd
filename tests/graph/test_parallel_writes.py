"""A load's batches written into Neo4j several at once: which batch waits for which, counts in the order given,
a refused batch's error raised in the loading thread, and a bank loaded this way holding what one session gives."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import pyarrow as pa
import pytest

from graph.errors import MissingEndpoint
from graph.model import NodeLabel, TieType
from graph.neo4j_store import Neo4jStore
from graph.parallel_writes import BatchKeys, ParallelWrites
from graph.settings import Settings
from graph.store import WriteResult
from loaders.generator import generate
from loaders.load import load_mapping
from tests.samples import snapshot

WAIT = 10.0
"""Seconds a test waits for another batch's thread before failing (no batch takes that long)."""


def _accounts(*ids: str) -> dict[NodeLabel, pa.Table]:
    return {NodeLabel.ACCOUNT: pa.table({"id": list(ids)})}


def _ties(tie_type: TieType, *pairs: tuple[str, str]) -> dict[TieType, pa.Table]:
    return {tie_type: pa.table({"source": [s for s, _ in pairs], "target": [t for _, t in pairs]})}


def test_a_batch_waits_only_for_the_batches_writing_what_it_touches() -> None:
    customers = BatchKeys.of({NodeLabel.CUSTOMER: pa.table({"id": ["c1", "c2"], "kind": ["Person", "Company"]})}, {})
    accounts = BatchKeys.of(_accounts("a1", "a2"), {})
    owners = BatchKeys.of({}, _ties(TieType.OWNS, ("c1", "a1")))
    other_owners = BatchKeys.of({}, _ties(TieType.OWNS, ("c3", "a3")))
    products = BatchKeys.of({}, _ties(TieType.OF_PRODUCT, ("a1", "p1")))
    more_products = BatchKeys.of({}, _ties(TieType.OF_PRODUCT, ("a2", "p1")))
    spouses = BatchKeys.of({}, _ties(TieType.SPOUSE_OF, ("c1", "c2")))
    spouses_turned = BatchKeys.of({}, _ties(TieType.SPOUSE_OF, ("c2", "c1")))
    person_again = BatchKeys.of({NodeLabel.PERSON: pa.table({"id": ["c2"]})}, {})

    assert owners.after(customers) and owners.after(accounts)  # a tie needs its ends
    assert customers.after(owners)  # a node written under a tie being made
    assert person_again.after(customers)  # the same customer under its kind's label
    assert spouses_turned.after(spouses)  # the same tie, given the other way round
    assert not other_owners.after(customers) and not other_owners.after(owners)
    assert not more_products.after(products)  # ties sharing an end only: both may be made at once
    assert not accounts.after(customers)


class _Batches:
    """A write function whose batches (named by their one account) finish when the test lets them."""

    def __init__(self, failing: str = "") -> None:
        self.failing = failing
        self.release = {name: threading.Event() for name in ("a1", "a2", "a3", "a4")}
        self.started: list[str] = []
        self.finished: list[str] = []

    def __call__(self, nodes: Mapping[NodeLabel, pa.Table], ties: Mapping[TieType, pa.Table]) -> WriteResult:
        (name,) = nodes[NodeLabel.ACCOUNT].column("id").to_pylist()
        self.started.append(name)
        assert self.release[name].wait(WAIT), f"batch {name} was never let finish"
        self.finished.append(name)
        if name == self.failing:
            raise MissingEndpoint(f"batch {name} refused", row=1, kind="tie")
        return WriteResult(nodes=1, ties=0, created=int(name[1:]))


def test_independent_batches_are_written_at_once_and_counted_in_the_order_given() -> None:
    batches, counted = _Batches(), []
    writes = ParallelWrites(batches, writers=2)
    try:
        writes.submit(_accounts("a1"), {}, counted.append)
        writes.submit(_accounts("a2"), {}, counted.append)
        batches.release["a2"].set()  # the second ends first, while the first is still being written
        assert _eventually(lambda: batches.finished == ["a2"])
        assert counted == []  # a count waits for the batches handed over before it
        batches.release["a1"].set()
        batches.release["a3"].set()
        writes.submit(_accounts("a3"), {}, counted.append)
        writes.drain()
    finally:
        writes.close()
    assert [result.created for result in counted] == [1, 2, 3]


def test_a_batch_starts_after_the_batch_writing_its_ends_has_committed() -> None:
    batches, counted = _Batches(), []
    writes = ParallelWrites(batches, writers=3)
    try:
        writes.submit(_accounts("a1"), {}, counted.append)
        threading.Timer(0.2, batches.release["a1"].set).start()
        # Its OF_PRODUCT tie starts at a1: handed over only once a1 is written, though sessions are free.
        writes.submit(_accounts("a2"), _ties(TieType.OF_PRODUCT, ("a1", "p1")), counted.append)
        assert batches.finished == ["a1"]
        batches.release["a2"].set()
        writes.drain()
    finally:
        writes.close()
    assert batches.started == ["a1", "a2"] and len(counted) == 2


def test_a_refused_batch_is_raised_in_the_loading_thread_and_nothing_starts_after() -> None:
    batches, counted = _Batches(failing="a1"), []
    writes = ParallelWrites(batches, writers=2)
    try:
        writes.submit(_accounts("a1"), {}, counted.append)
        writes.submit(_accounts("a2"), {}, counted.append)
        batches.release["a1"].set()
        batches.release["a2"].set()
        assert _eventually(lambda: len(batches.finished) == 2)
        with pytest.raises(MissingEndpoint, match="batch a1 refused"):
            writes.submit(_accounts("a3"), {}, counted.append)
    finally:
        writes.close()
    assert batches.started == ["a1", "a2"] and counted == []


def test_a_refused_batch_behind_one_still_being_written_stops_the_next_hand_over() -> None:
    batches, counted = _Batches(failing="a2"), []
    writes = ParallelWrites(batches, writers=3)
    try:
        writes.submit(_accounts("a1"), {}, counted.append)
        writes.submit(_accounts("a2"), {}, counted.append)
        batches.release["a2"].set()
        assert _eventually(lambda: batches.finished == ["a2"])
        with pytest.raises(MissingEndpoint, match="batch a2 refused"):
            writes.submit(_accounts("a3"), {}, counted.append)
    finally:
        batches.release["a1"].set()
        writes.close()
    assert batches.started == ["a1", "a2"]


def test_one_writer_may_be_handed_batches_ahead_and_writes_none_after_a_refused_one() -> None:
    batches, counted = _Batches(failing="a1"), []
    writes = ParallelWrites(batches, writers=1, ahead=2)
    try:
        writes.submit(_accounts("a1"), {}, counted.append)
        writes.submit(_accounts("a2"), {}, counted.append)  # handed over while a1 is still being written
        assert batches.started == ["a1"]
        batches.release["a1"].set()
        batches.release["a2"].set()
        with pytest.raises(MissingEndpoint, match="batch a1 refused"):
            writes.drain()
    finally:
        writes.close()
    assert batches.started == ["a1"] and counted == []  # a2 was never written


def test_batches_are_handed_over_ahead_while_they_hold_less_than_the_bytes_allowed() -> None:
    batches, counted = _Batches(), []
    size = _accounts("a1")[NodeLabel.ACCOUNT].nbytes  # every batch here is one account: the same size
    writes = ParallelWrites(batches, writers=1, ahead=8, ahead_bytes=3 * size)
    unblock = threading.Timer(WAIT, batches.release["a1"].set)  # a hand-over that never waits fails, not hangs
    unblock.start()
    try:
        for name in ("a1", "a2", "a3"):  # a1 being written, two waiting: the bytes allowed
            writes.submit(_accounts(name), {}, counted.append)
        assert batches.finished == []
        threading.Timer(0.2, batches.release["a1"].set).start()
        writes.submit(_accounts("a4"), {}, counted.append)  # one more only once a1 is written
        assert batches.finished == ["a1"]
        for name in ("a2", "a3", "a4"):
            batches.release[name].set()
        writes.drain()
    finally:
        unblock.cancel()
        writes.close()
    assert batches.started == ["a1", "a2", "a3", "a4"] and [result.created for result in counted] == [1, 2, 3, 4]


def test_a_read_of_some_labels_waits_only_for_the_batches_writing_nodes_of_them() -> None:
    batches, counted = _Batches(), []
    writes = ParallelWrites(batches, writers=2)
    unblock = threading.Timer(WAIT, batches.release["a1"].set)  # a read waiting for a1 fails the test, not hangs
    unblock.start()
    try:
        writes.submit(_accounts("a1"), {}, counted.append)
        people = {NodeLabel.PERSON: pa.table({"id": ["c1"]}), NodeLabel.ACCOUNT: pa.table({"id": ["a2"]})}
        writes.submit(people, {}, counted.append)
        batches.release["a2"].set()
        writes.drain(frozenset({NodeLabel.CUSTOMER}))  # a Person is a Customer: the second batch is waited for
        assert batches.finished == ["a2"] and counted == []  # the first, still being written, is counted first
        writes.drain(frozenset({NodeLabel.BRANCH}))  # none writes a Branch: no wait
        assert batches.finished == ["a2"]
        batches.release["a1"].set()
        writes.drain()
    finally:
        unblock.cancel()
        writes.close()
    assert [result.created for result in counted] == [1, 2]


def _eventually(condition: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


@pytest.mark.neo4j
def test_a_bank_loaded_in_parallel_sessions_holds_what_one_session_gives(neo4j_uri: str, tmp_path: Path) -> None:
    generate(120, 3, tmp_path / "bank")
    settings = Settings(batch_size=40)  # many batches per source, several in flight at once
    found = {}
    for sessions in (1, 3):
        with Neo4jStore(neo4j_uri, None, write_sessions=sessions) as store:
            store.clear()
            report = load_mapping(
                store, tmp_path / "bank" / "mapping.yaml", tmp_path / f"report-{sessions}", settings=settings
            )
            written = [(s.name, s.loaded, s.merged, s.new, s.updated, s.unchanged) for s in report.sources]
            found[sessions] = snapshot(store), written
            store.clear()
    assert found[3] == found[1]
    assert sum(new for *_, new, _, _ in found[3][1]) > 0
