"""A load's bulk writes into Neo4j, several batches at once: one batch per session and transaction, as before.

With one session the server waits while the client makes the next batch, and one transaction at a time runs on
the server. Here the loading thread hands a batch over and goes on to make the next one, while up to ``sessions``
batches are written at once, each its own transaction in its own session, with the store's retries (a deadlock
between two of them is a transient error: the loser is rolled back and run again). Measured at 30,000 customers
on a quiet machine, two sessions first gained only 4%: every read of the loader waited for every batch (see
below); with that fixed, two batches are being written 84% of a load
(bench/results/neo4j-load-diagnosis-2026-11-30.md).

A batch still commits whole or not at all, so a refused batch leaves the store as it was; batches after it that
were already being written may commit (as the batches before it always did). Its error is raised in the loading
thread at the next hand-over or when the load ends, and nothing further is started.

Order: a batch is started only once every batch before it that it depends on has committed: one that writes a
node it writes or a tie of its own reads (a tie needs its ends), or one that reads a node it writes, or one that
writes one of its ties. Batches touching disjoint nodes and ties give the same store whichever commits first, so
the store ends as the batches one after another would leave it. What each batch did reaches its ``counted`` in
the loading thread, in the order the batches were handed over.

A read of the loading thread waits for the batches being written first, so that it sees them; one that asks
which nodes of some labels exist waits only for the batches writing nodes of those labels (each source's load
asks this before its first batch: waiting for every batch left the server idle while the loader read the next
source's file).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

import pyarrow as pa

from graph.model import NodeLabel, TieType
from graph.store import WriteResult
from graph.ties import spec

NodeKey = tuple[NodeLabel, str]
TieKey = tuple[TieType, str, str]
Tables = tuple[Mapping[NodeLabel, pa.Table], Mapping[TieType, pa.Table]]


@dataclass(frozen=True)
class BatchKeys:
    """The nodes a batch writes, the nodes its ties join, and its ties (ends in either order)."""

    nodes: frozenset[NodeKey]
    ends: frozenset[NodeKey]
    ties: frozenset[TieKey]

    @property
    def labels(self) -> frozenset[NodeLabel]:
        """The primary labels of the nodes the batch writes."""
        return frozenset(label for label, _ in self.nodes)

    @classmethod
    def of(cls, nodes: Mapping[NodeLabel, pa.Table], ties: Mapping[TieType, pa.Table]) -> BatchKeys:
        """The keys of a batch's tables (by primary label); a table without the key columns adds none (the
        store refuses it when it is written)."""
        written: set[NodeKey] = set()
        for label, table in nodes.items():
            if "id" in table.column_names:
                primary = NodeLabel(label).primary
                written.update((primary, node_id) for node_id in table.column("id").to_pylist())
        ends: set[NodeKey] = set()
        tie_keys: set[TieKey] = set()
        for tie_type, table in ties.items():
            if "source" not in table.column_names or "target" not in table.column_names:
                continue
            tie_type = TieType(tie_type)
            labels = spec(tie_type)
            sources = table.column("source").to_pylist()
            targets = table.column("target").to_pylist()
            ends.update((labels.source.primary, source) for source in sources)
            ends.update((labels.target.primary, target) for target in targets)
            for source, target in zip(map(str, sources), map(str, targets), strict=True):
                tie_keys.add((tie_type, source, target) if source <= target else (tie_type, target, source))
        return cls(frozenset(written), frozenset(ends), frozenset(tie_keys))

    def after(self, earlier: BatchKeys) -> bool:
        """Whether this batch must wait for ``earlier`` to commit (see the module docstring)."""
        return (
            not self.nodes.isdisjoint(earlier.nodes)
            or not self.ends.isdisjoint(earlier.nodes)
            or not self.nodes.isdisjoint(earlier.ends)
            or not self.ties.isdisjoint(earlier.ties)
        )


@dataclass
class _Handed:
    keys: BatchKeys
    counted: Callable[[WriteResult], None]
    future: Future[WriteResult]


class ParallelWrites:
    """The bulk writes of one loading thread, up to ``sessions`` at once, through ``write`` (one transaction per
    batch, retried by the store); see the module docstring."""

    def __init__(
        self, write: Callable[[Mapping[NodeLabel, pa.Table], Mapping[TieType, pa.Table]], WriteResult], sessions: int
    ) -> None:
        if sessions < 1:
            raise ValueError("sessions must be at least 1")
        self._write = write
        self.sessions = sessions
        self._pool = ThreadPoolExecutor(max_workers=sessions, thread_name_prefix="neo4j-write")
        self._handed: deque[_Handed] = deque()

    def submit(
        self,
        nodes: Mapping[NodeLabel, pa.Table],
        ties: Mapping[TieType, pa.Table],
        counted: Callable[[WriteResult], None],
    ) -> None:
        """Start writing the batch once the batches it depends on have committed and a session is free; raises
        the error of a batch handed over before, which stops the load."""
        keys = BatchKeys.of(nodes, ties)
        self._count_done()
        waiting_for = [handed.future for handed in self._handed if keys.after(handed.keys)]
        if waiting_for:
            wait(waiting_for)
        while sum(not handed.future.done() for handed in self._handed) >= self.sessions:
            wait([handed.future for handed in self._handed], return_when=FIRST_COMPLETED)
        self._count_done()
        self._handed.append(_Handed(keys, counted, self._pool.submit(self._write, nodes, ties)))

    def drain(self, labels: frozenset[NodeLabel] | None = None) -> None:
        """Wait for every batch handed over (with ``labels``, every one writing nodes of one of those primary
        labels), give the batches done their counts in order; raise the first batch's error."""
        wait([handed.future for handed in self._handed if labels is None or not labels.isdisjoint(handed.keys.labels)])
        self._count_done()

    def close(self) -> None:
        """Wait for the batches being written (their errors are the loading thread's to raise, by :meth:`drain`)
        and end the sessions' threads."""
        self._pool.shutdown(wait=True)
        self._handed.clear()

    def _count_done(self) -> None:
        """Give the batches at the front that have committed their counts; raise the error of the first batch
        that failed, even behind one still being written (a batch after it may depend on it)."""
        while self._handed and self._handed[0].future.done():
            handed = self._handed.popleft()
            handed.counted(handed.future.result())
        for handed in self._handed:
            if handed.future.done() and handed.future.exception() is not None:
                handed.future.result()
