"""A load's bulk writes handed to writer threads, so that the loading thread makes the next batch meanwhile.

Without them the loading thread makes a batch (reading, typing, resolving: Python) and then waits while the store
writes it, and the other core stays idle. Here the loading thread hands a batch over and goes on to make the next
one, while up to ``writers`` batches are being written at once, each still atomic: one transaction in its own
session for Neo4j (a deadlock between two of them is a transient error: the loser is rolled back and run again),
one logged record on the embedded store's single writer thread. Measured at 30,000 customers on a quiet machine,
two Neo4j sessions first gained only 4%: every read of the loader waited for every batch (see below); with that
fixed, two batches are being written 84% of a load (bench/results/neo4j-load-diagnosis-2026-11-30.md).

Up to ``ahead`` batches (at least ``writers``) may be handed over and not yet written, and with ``ahead_bytes``
only while they hold less than that many bytes of tables: the loading thread may run that far ahead of the
writers (a source's file read while the batches of the one before are written), its memory bounded by the bytes.

A refused batch leaves the store as it was. Its error is raised in the loading thread at the next hand-over or
when the load ends, and nothing further is handed over; a batch handed over after it that no writer has started
is not written. So with one writer no batch after a refused one is written, as when the loading thread wrote them
itself; with several, batches after it that were already being written may commit (as the batches before it
always did).

Order: with several writers, a batch is started only once every batch before it that it depends on has
committed: one that writes a node it writes or a tie of its own reads (a tie needs its ends), or one that reads
a node it writes, or one that writes one of its ties. Batches touching disjoint nodes and ties give the same
store whichever commits first, so the store ends as the batches one after another would leave it. One writer
writes them in the order given. What each batch did reaches its ``counted`` in the loading thread, in the order
the batches were handed over.

Together: with one writer and a ``together`` function, the writer that starts a batch may take the batches handed
over after it and not yet started, and write as many of them as ``together`` can as one (see
:meth:`graph.embedded.EmbeddedStore.bulk_write_together`): a store whose write costs what it holds as well as
what it is given (the embedded store's merge copies the held columns) then pays for what it holds once for them
all. That happens only when the writer has fallen behind (batches are waiting), so it catches up; each batch still
gets its own counts, in order, and one that ``together`` leaves is written alone as ever.

A read of the loading thread waits for the batches being written first, so that it sees them; one that asks
which nodes of some labels exist waits only for the batches writing nodes of those labels (each source's load
asks this before its first batch: waiting for every batch left the writers idle while the loader read the next
source's file). :class:`HandedWrites` keeps a thread's :class:`ParallelWrites` for the store's methods to wait on.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from graph.model import NodeLabel, TieType
from graph.ties import spec

if TYPE_CHECKING:
    import pyarrow as pa

    from graph.store import WriteResult

    Write = Callable[[Mapping[NodeLabel, pa.Table], Mapping[TieType, pa.Table]], WriteResult]
    Together = Callable[[list[tuple[Mapping[NodeLabel, pa.Table], Mapping[TieType, pa.Table]]]], list[WriteResult]]

NodeKey = tuple[NodeLabel, str]
TieKey = tuple[TieType, str, str]


@dataclass(frozen=True)
class BatchKeys:
    """The nodes a batch writes, the nodes its ties join, and its ties (ends in either order)."""

    nodes: frozenset[NodeKey]
    ends: frozenset[NodeKey]
    ties: frozenset[TieKey]

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
class WriteTimes:
    """Where a load's time went on either side of the hand-over: seconds by the clock unless said."""

    batches: int = 0
    writing: float = 0.0
    """Spent by the writers in the store's write (summed over the writers)."""
    writing_cpu: float = 0.0
    """CPU seconds of the writer threads in the store's write."""
    waited: float = 0.0
    """Spent by the loading thread waiting for the writers: to hand a batch over, or before a read."""


class _NotWritten(Exception):
    """A batch left unwritten behind a refused one (never raised to the loading thread: the refusal is first)."""


@dataclass(eq=False)
class _Handed:
    labels: frozenset[NodeLabel]
    keys: BatchKeys | None
    counted: Callable[[WriteResult], None]
    nodes: Mapping[NodeLabel, pa.Table]
    ties: Mapping[TieType, pa.Table]
    size: int = 0
    """Bytes of the batch's tables."""
    future: Future[WriteResult] | None = None
    started: bool = False
    """Whether a writer has taken the batch (alone or with the one before it)."""
    written: WriteResult | None = None
    """Its counts when it was written with a batch before it."""


class ParallelWrites:
    """The bulk writes of one loading thread, up to ``writers`` at once, through ``write`` (one atomic write per
    batch); see the module docstring."""

    def __init__(
        self,
        write: Write,
        writers: int,
        name: str = "crm-graph write",
        ahead: int = 0,
        ahead_bytes: int = 0,
        together: Together | None = None,
    ) -> None:
        if writers < 1:
            raise ValueError("writers must be at least 1")
        self._write = write
        self._together = together if writers == 1 else None
        self.writers = writers
        self.ahead = max(ahead, writers)
        self.ahead_bytes = ahead_bytes
        self._refused = False
        self._pool = ThreadPoolExecutor(max_workers=writers, thread_name_prefix=name)
        self._handed: deque[_Handed] = deque()
        self._handed_lock = threading.Lock()  # the writer looks along the batches handed over for ones to take
        self._times_lock = threading.Lock()
        self.times = WriteTimes()

    def submit(
        self,
        nodes: Mapping[NodeLabel, pa.Table],
        ties: Mapping[TieType, pa.Table],
        counted: Callable[[WriteResult], None],
    ) -> None:
        """Start writing the batch once the batches it depends on have committed and a writer is free; raises
        the error of a batch handed over before, which stops the load."""
        labels = frozenset(NodeLabel(label).primary for label, table in nodes.items() if table.num_rows)
        # One writer takes the batches in order, and one at a time: the keys would only cost the loading thread.
        keys = BatchKeys.of(nodes, ties) if self.writers > 1 else None
        size = sum(table.nbytes for table in (*nodes.values(), *ties.values())) if self.ahead_bytes else 0
        began = time.perf_counter()
        self._count_done()
        if keys is not None:
            wait([_future(handed) for handed in self._handed if handed.keys is not None and keys.after(handed.keys)])
        while self._too_far(size):
            wait([_future(handed) for handed in self._handed if not _done(handed)], return_when=FIRST_COMPLETED)
        self._count_done()
        self.times.waited += time.perf_counter() - began
        handed = _Handed(labels, keys, counted, nodes, ties, size)
        with self._handed_lock:
            self._handed.append(handed)
        handed.future = self._pool.submit(self._timed, handed)

    def _too_far(self, size: int) -> bool:
        """Whether a batch of ``size`` bytes must wait for a batch being written before it is handed over."""
        unwritten = [handed for handed in self._handed if not _done(handed)]
        if len(unwritten) < self.writers:
            return False
        return len(unwritten) >= self.ahead or (
            self.ahead_bytes > 0 and size + sum(handed.size for handed in unwritten) > self.ahead_bytes
        )

    def drain(self, labels: frozenset[NodeLabel] | None = None) -> None:
        """Wait for every batch handed over (with ``labels``, every one writing nodes of one of those primary
        labels), give the batches done their counts in order; raise the first batch's error."""
        began = time.perf_counter()
        wait([_future(handed) for handed in self._handed if labels is None or not labels.isdisjoint(handed.labels)])
        self.times.waited += time.perf_counter() - began
        self._count_done()

    def close(self) -> None:
        """Wait for the batches being written (their errors are the loading thread's to raise, by :meth:`drain`)
        and end the writers' threads."""
        self._pool.shutdown(wait=True)
        self._handed.clear()

    def _timed(self, handed: _Handed) -> WriteResult:
        if handed.written is not None:  # written with a batch before it
            with self._times_lock:
                self.times.batches += 1
            return handed.written
        if self._refused:
            raise _NotWritten("a batch handed over before this one was refused")
        began, began_cpu = time.perf_counter(), time.thread_time()
        try:
            return self._write_from(handed)
        except BaseException:
            self._refused = True
            raise
        finally:
            with self._times_lock:
                self.times.batches += 1
                self.times.writing += time.perf_counter() - began
                self.times.writing_cpu += time.thread_time() - began_cpu

    def _write_from(self, handed: _Handed) -> WriteResult:
        """Write the batch, with the batches handed over after it that no writer has taken when ``together``
        writes them as one (see the module docstring)."""
        if self._together is None:
            return self._write(handed.nodes, handed.ties)
        with self._handed_lock:
            handed.started = True
            following = list(self._handed)
            waiting = []
            for later in following[following.index(handed) + 1 :]:
                if later.started:
                    break
                waiting.append(later)
        if waiting:
            results = self._together([(one.nodes, one.ties) for one in (handed, *waiting)])
            if results:
                for later, result in zip(waiting, results[1:], strict=False):
                    # Taken before it is marked started: a writer only ever takes the batches after its own.
                    later.written, later.started = result, True
                return results[0]
        return self._write(handed.nodes, handed.ties)

    def _count_done(self) -> None:
        """Give the batches at the front that have committed their counts; raise the error of the first batch
        that failed, even behind one still being written (a batch after it may depend on it)."""
        while self._handed and _done(self._handed[0]):
            with self._handed_lock:
                handed = self._handed.popleft()
            handed.counted(_future(handed).result())
        for handed in self._handed:
            # A batch left unwritten may end a moment before the refused one before it: that one is raised later.
            future = _future(handed)
            if future.done() and not isinstance(future.exception(), (type(None), _NotWritten)):
                future.result()


def _future(handed: _Handed) -> Future[WriteResult]:
    assert handed.future is not None, "a batch is handed over with its future"
    return handed.future


def _done(handed: _Handed) -> bool:
    return _future(handed).done()


class HandedWrites:
    """The :class:`ParallelWrites` of each thread in a store's :meth:`~graph.store.GraphStore.loading` context:
    the store's methods call :meth:`written` first, so that the loading thread sees what it handed over (in the
    writers' threads, and in every other thread, there is nothing to wait for)."""

    def __init__(self) -> None:
        self._shared = threading.local()
        self.last: WriteTimes | None = None
        """The times of the last load's writes (for the bench)."""

    @contextmanager
    def handing(
        self,
        write: Write,
        writers: int,
        name: str,
        ahead: int = 0,
        ahead_bytes: int = 0,
        together: Together | None = None,
    ) -> Iterator[None]:
        """Hand this thread's :meth:`queue` batches to ``writers`` threads (see :class:`ParallelWrites`) until the
        context exits, when they are all written (the first refused batch's error raised, if the block raised
        none); a nested context leaves them to the outer one."""
        if getattr(self._shared, "writes", None) is not None:
            yield
            return
        writes = ParallelWrites(write, writers, name, ahead, ahead_bytes, together)
        self._shared.writes = writes
        try:
            yield
            writes.drain()
        finally:
            self._shared.writes = None
            writes.close()
            self.last = writes.times

    def written(self, labels: frozenset[NodeLabel] | None = None) -> None:
        """Wait for this thread's batches being written, so that what follows sees them; with ``labels``, only
        for those writing nodes of these primary labels."""
        writes: ParallelWrites | None = getattr(self._shared, "writes", None)
        if writes is not None:
            writes.drain(labels)

    def queue(
        self,
        write: Write,
        nodes: Mapping[NodeLabel, pa.Table],
        ties: Mapping[TieType, pa.Table],
        counted: Callable[[WriteResult], None],
    ) -> None:
        """Hand the batch to this thread's writers, or write it with ``write`` now outside a :meth:`handing`."""
        writes: ParallelWrites | None = getattr(self._shared, "writes", None)
        if writes is None:
            counted(write(nodes, ties))
        else:
            writes.submit(nodes, ties, counted)
