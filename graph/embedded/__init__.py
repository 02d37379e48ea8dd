"""The embedded store: the whole graph in memory (``view.py``), every committed batch on disk (``disk.py``).

One process owns a writable store at a time (a lock file beside it says so); other processes may open
it ``read_only`` to get a snapshot.

Within the process, reads take no lock: each read takes the graph that ``view`` holds when it starts and
reads that graph to its end. A write changes a fork of the graph (:meth:`WritableGraph.fork`: the base
columns shared, the small overlay copied) and then puts the fork in ``view`` at once, so a read sees every
batch whole or not at all, and a long read (a costly request) holds up neither other reads nor writes. The
lock only keeps writers in line, one batch after another.

A load's bulk writes (:meth:`EmbeddedStore.queue_bulk_write` inside :meth:`EmbeddedStore.loading`) go to one
writer thread while the loading thread makes the next batch (:mod:`graph.parallel_writes`): much of a bulk write
(Arrow and numpy sorts and takes, the log's write and fsync) runs without the GIL, so the load uses both cores.
Every other method waits first for what the calling thread handed over.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import pyarrow as pa

from graph.batch import TIE_ENDS, NodeInput, NodeRef, TieInput, prepare_batch
from graph.cancellation import checkpoint
from graph.collector import bulk_objects
from graph.embedded.bulk import NeedsRows
from graph.embedded.bulk_checks import NodeTables, TieTables, checked_tables
from graph.embedded.delta import Changes
from graph.embedded.disk import Disk
from graph.embedded.log_records import Batch
from graph.embedded.together import joinable, joined
from graph.embedded.view import GraphView, NodeKey, WritableGraph, node_key
from graph.errors import MissingEndpoint, NotFound, StoreCorrupt, StoreError, StoreUnavailable
from graph.model import GraphCounts, NodeLabel, NodeRecord, TieRecord, TieType
from graph.query import NamedQuery
from graph.settings import Backend
from graph.store import GraphStore, Neighbourhood, WriteResult, check_limit
from graph.ties import TieRegistry

__all__ = ["EmbeddedStore", "GraphView"]


class EmbeddedStore(GraphStore):
    """Columns in memory for traversal, a memory-mapped Arrow snapshot and a log of batches on disk for durability."""

    backend: ClassVar[Backend] = Backend.EMBEDDED

    def __init__(
        self, path: Path, *, read_only: bool = False, registry: TieRegistry | None = None, write_thread: bool = True
    ) -> None:
        super().__init__(registry)
        self.path = Path(path)
        self.read_only = read_only
        self.write_thread = write_thread
        """Whether a load's bulk writes go to a writer thread (see the module docstring)."""
        self._write_lock = threading.Lock()  # writers only: reads take no lock (see the module docstring)
        self._closed = False
        self._loading = 0  # loads under way (see :meth:`loading`): no snapshot is started meanwhile
        self._joined_refused = False  # a joined write of this load was dropped: its batches go alone
        self._opened = False  # whether the graph was read whole: only then may closing write it as a snapshot
        self._lock_file = None if read_only else _take_file_lock(self.path)
        self.view = WritableGraph()
        try:
            self._disk = Disk(self.path, read_only=read_only)
        except StoreError:
            self._release_file_lock()
            raise
        try:
            with bulk_objects():
                self._load()
            self._opened = True
        except BaseException:
            # A file that fails half way through its rows: let it and the lock go, and the part read with them.
            self.close()
            raise

    def _load(self) -> None:
        snapshot, batches = self._disk.read()
        try:
            self.view = WritableGraph(snapshot.nodes, snapshot.ties, snapshot.id_slots())
        except ValueError as error:
            raise StoreCorrupt(self.path, f"has a snapshot that does not hold together ({error})") from None
        finally:
            snapshot.close()
        del snapshot  # the tables as read: the graph holds what it keeps of them in its own form
        # Arrow's allocator keeps what it freed for reuse unless told (a 100k bank: 220 MiB after reading).
        pa.default_memory_pool().release_unused()
        for number, batch in enumerate(batches, start=1):
            try:
                self.view.apply(batch)
            except (ValueError, KeyError, TypeError) as error:
                raise StoreCorrupt(
                    self.path, f"has a logged batch (number {number}) that does not apply: {error}"
                ) from None
        self.view.settle()

    # -- writes -------------------------------------------------------------------------------

    def write(
        self, nodes: Iterable[NodeInput] = (), ties: Iterable[TieInput] = (), delete: Iterable[NodeRef] = ()
    ) -> WriteResult:
        if self.read_only:
            raise StoreError("this embedded store was opened read-only")
        if self._closed:
            raise StoreUnavailable(f"the embedded store {self.path} is closed")
        batch = prepare_batch(nodes, ties, delete)
        self._handed.written()
        with self._write_lock:
            graph = self.view
            changes = Changes()
            node_states: dict[NodeKey, tuple[NodeLabel, dict[str, Any]]] = {}
            for label, node_id, properties in batch.nodes:
                key = (_PRIMARY[label], node_id)
                if key not in graph:
                    node_states[key] = (label, _merged({}, properties))
                    changes.created += 1
                else:
                    current_kind, current = graph.kind(key), graph.props(key)
                    kind = current_kind if label is NodeLabel.CUSTOMER else label
                    node_states[key] = (kind, _merged(current, properties))
                    changes.count(kind == current_kind and node_states[key][1] == current)

            tie_states: dict[tuple[NodeKey, NodeKey, TieType], dict[str, Any]] = {}
            for number, (tie_type, source_id, target_id, tie_properties) in zip(
                batch.tie_numbers, batch.ties, strict=True
            ):
                source_label, target_label = TIE_ENDS[tie_type]
                source, target = (source_label, source_id), (target_label, target_id)
                for end, end_key in (("source", source), ("target", target)):
                    if end_key not in graph and end_key not in node_states:
                        raise MissingEndpoint(
                            f"{tie_type} {end} {end_key[0]} {end_key[1]!r} does not exist",
                            row=number,
                            kind="tie",
                        )
                current_tie = graph.tie_props(tie_type, source, target)
                tie_states[(source, target, tie_type)] = merged = _merged(current_tie or {}, tie_properties)
                if current_tie is None:
                    changes.created += 1
                else:
                    changes.count(merged == current_tie)

            gone = [key for key in batch.deletions if key in graph]
            if changes.created or changes.updated or gone:  # a batch that changes nothing is neither logged nor applied
                self._commit(
                    graph,
                    {
                        "nodes": [
                            [key[0].value, key[1], kind.value, props] for key, (kind, props) in node_states.items()
                        ],
                        "ties": [
                            [tie_type.value, source[1], target[1], props]
                            for (source, target, tie_type), props in tie_states.items()
                        ],
                        "gone": [[key[0].value, key[1]] for key in gone],
                    },
                )
        return WriteResult(
            nodes=len(batch.nodes),
            ties=len(batch.ties),
            deleted=len(gone),
            created=changes.created,
            updated=changes.updated,
            unchanged=changes.unchanged,
        )

    def bulk_write(
        self, nodes: Mapping[NodeLabel, pa.Table] | None = None, ties: Mapping[TieType, pa.Table] | None = None
    ) -> WriteResult:
        """Whole tables merged into the columns (see :mod:`graph.embedded.bulk`), logged as one record; tables
        that need the row path's merging or checks are written as rows, with the same outcome."""
        if self.read_only:
            raise StoreError("this embedded store was opened read-only")
        if self._closed:
            raise StoreUnavailable(f"the embedded store {self.path} is closed")
        self._handed.written()
        return self._bulk_write_checked(nodes, ties, checked_tables(nodes or {}, ties or {}))

    def _bulk_write_checked(
        self,
        nodes: Mapping[NodeLabel, pa.Table] | None,
        ties: Mapping[TieType, pa.Table] | None,
        checked: tuple[NodeTables, TieTables] | None,
    ) -> WriteResult:
        """:meth:`bulk_write` of the tables, given what :func:`checked_tables` makes of them."""
        if checked is None:
            return super().bulk_write(nodes, ties)
        try:
            with self._write_lock:
                changed = self.view.fork()
                changes = changed.bulk_write(*checked)
                if changes.created or changes.updated:  # a batch that changes nothing is neither logged nor applied
                    self._disk.append({"tables": checked})
                    self._publish(changed)
        except NeedsRows:  # two rows of one key: the row path merges them
            return super().bulk_write(nodes, ties)
        return WriteResult(
            nodes=sum(table.num_rows for table in checked[0].values()),
            ties=sum(table.num_rows for table in checked[1].values()),
            created=changes.created,
            updated=changes.updated,
            unchanged=changes.unchanged,
        )

    def bulk_write_together(
        self, batches: Sequence[tuple[Mapping[NodeLabel, pa.Table], Mapping[TieType, pa.Table]]]
    ) -> list[WriteResult]:
        """Write as many of the batches as may be joined, from the first, as one logged record (see
        :mod:`graph.embedded.together`), and give each its counts in order; the first alone, as
        :meth:`bulk_write` would, when fewer than two may be joined or the joined write would not create every
        row it is given. The writer thread calls it with the batches waiting for it (see
        :mod:`graph.parallel_writes`)."""
        if self.read_only or self._closed:
            return [self.bulk_write(*batches[0])]
        with self._write_lock:
            parts = [checked_tables(*batches[0])] if self._joined_refused else joinable(batches, self.view)
            joined_parts = [part for part in parts if part is not None]
            if len(joined_parts) > 1:
                nodes, ties = joined(joined_parts)
                given = sum(table.num_rows for table in (*nodes.values(), *ties.values()))
                changed = self.view.fork()
                try:
                    changes = changed.bulk_write(nodes, ties)
                except (MissingEndpoint, NeedsRows):
                    changes = None
                if changes is not None and changes.created == given:
                    self._disk.append({"tables": (nodes, ties)})
                    self._publish(changed)
                    return [_created(part) for part in joined_parts]
                # Each batch is written alone (the first one's refusal raised as ever), and so are the load's next.
                self._joined_refused = True
        return [self._bulk_write_checked(*batches[0], parts[0])]

    def _commit(self, graph: WritableGraph, batch: Batch) -> None:
        """Log a batch of rows, then apply it to a fork of ``graph`` and make that the graph reads see."""
        self._disk.append(batch)
        changed = graph.fork()
        changed.apply(batch)
        self._publish(changed)

    def _publish(self, graph: WritableGraph) -> None:
        """Start a new snapshot in the background once the log has grown past its share (and none is being
        written), else let the graph settle its overlay; then make ``graph`` the one reads see."""
        if (
            self._loading
            or self._disk.snapshotting
            or self._disk.log_rows <= max(LOG_MINIMUM, LOG_SHARE * graph.base_rows())
        ):
            graph.settle()
        else:
            tables = graph.tables()
            if graph.overlay_rows():
                graph.rebuild(tables)
            # On failure every batch is in the logs still, which the next snapshot will fold in.
            with contextlib.suppress(OSError):
                self._disk.snapshot_in_background(*tables)
        self.view = graph

    @contextlib.contextmanager
    def loading(self) -> Iterator[None]:
        """A load's batches are logged and applied as ever, but no snapshot is started until it ends; then one is,
        if the log has grown past its share. Each snapshot writes the whole graph, so a load of a growing graph
        that snapshots every time its log passes a quarter of the graph writes the graph four to five times over
        (at 300,000 customers 8 snapshots, a tenth of the load's CPU). A process stopped mid-load replays the
        logged batches on opening, as it does any batch after the last snapshot.

        With ``write_thread``, the batches this thread hands to :meth:`queue_bulk_write` are written on a writer
        thread, one at a time and in order, while this thread makes the next (up to :data:`WRITES_AHEAD` handed
        over and not yet written, holding up to :data:`WRITES_AHEAD_BYTES`); its other calls wait for them first,
        and a refused batch's error is raised at the next hand-over or when the context exits, no batch after it
        written."""
        self._loading += 1
        self._joined_refused = False
        try:
            if self.write_thread and not self.read_only:
                with self._handed.handing(
                    self.bulk_write,
                    1,
                    "embedded-write",
                    WRITES_AHEAD,
                    WRITES_AHEAD_BYTES,
                    self.bulk_write_together if JOIN_WAITING else None,
                ):
                    yield
            else:
                yield
        finally:
            self._loading -= 1
            if not self._loading and not self.read_only and not self._closed:
                with self._write_lock:
                    self._publish(self.view.fork())

    def write_snapshot(self) -> None:
        """Write the graph as a new snapshot now, with an empty log (what ``crm-graph migrate`` does to a
        snapshot of the earlier format)."""
        if self.read_only:
            raise StoreError("this embedded store was opened read-only")
        self._handed.written()
        with self._write_lock:
            self._disk.write_snapshot(*self.view.tables())

    def clear(self) -> None:
        if self.read_only:
            raise StoreError("this embedded store was opened read-only")
        self._handed.written()
        with self._write_lock:
            self._disk.write_snapshot({}, {})
            self.view = WritableGraph()

    # -- reads --------------------------------------------------------------------------------

    def get_node(self, label: NodeLabel, node_id: str) -> NodeRecord | None:
        self._handed.written()
        return _node(self.view, NodeLabel(label), node_id)

    def neighbourhood(
        self, label: NodeLabel, node_id: str, types: Sequence[TieType] = (), limit: int = 100
    ) -> Neighbourhood:
        check_limit(limit)
        label, types = NodeLabel(label), [TieType(tie_type) for tie_type in types]
        self._handed.written()
        view = self.view
        center = _node(view, label, node_id)
        if center is None:
            raise NotFound(f"no {label} with id {node_id!r}")
        key = node_key(label, node_id)
        found: list[tuple[TieType, NodeKey, NodeKey, NodeKey]] = []  # type, other, source, target
        for tie_type, target, _ in view.out_ties(key, types):
            found.append((tie_type, target, key, target))
        for tie_type, source, _ in view.in_ties(key, types):
            if source != key:
                found.append((tie_type, source, source, key))
        found.sort(key=lambda item: (item[0].value, item[1][0].value, item[1][1], item[2][1]))
        kept = found[:limit]
        neighbours: dict[NodeKey, NodeRecord] = {}
        for _, other, _, _ in kept:
            neighbours.setdefault(other, view.record(other))
        ties = [view.tie_record(tie_type, source, target) for tie_type, _, source, target in kept]
        return Neighbourhood(
            center=center, neighbours=list(neighbours.values()), ties=ties, omitted=len(found) - len(kept)
        )

    def nodes(self, label: NodeLabel) -> Iterator[NodeRecord]:
        # Records made as they are taken, from the graph as it was at the call (a write replaces it, never
        # changes it): analytics reads every node of a label once.
        self._handed.written()
        view = self.view
        return (view.record(key) for key in view.keys(NodeLabel(label)))

    def node_ids(self, label: NodeLabel) -> list[str]:
        """During a load, after the batches writing nodes of the label's primary (see :meth:`loading`)."""
        label = NodeLabel(label)
        self._handed.written(frozenset({label.primary}))
        return self.view.ids(label)

    def ties(self, types: Sequence[TieType] = ()) -> Iterator[TieRecord]:
        self._handed.written()
        return self.view.ties([TieType(tie_type) for tie_type in types])

    def columns(
        self, nodes: Mapping[NodeLabel, Sequence[str]], ties: Mapping[TieType, Sequence[str]] | None = None
    ) -> tuple[dict[NodeLabel, pa.Table], dict[TieType, pa.Table]]:
        for label in nodes:
            if NodeLabel(label) is not NodeLabel(label).primary:
                raise ValueError(f"columns are read per primary label, not {label}")
        self._handed.written()
        return self.view.columns(
            {NodeLabel(label): names for label, names in nodes.items()},
            {TieType(tie_type): names for tie_type, names in (ties or {}).items()},
        )

    def run(self, query: NamedQuery, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        checkpoint()  # the request may have ended before this query of its work
        self._handed.written()
        return query.embedded(self.view, params or {})

    def counts(self) -> GraphCounts:
        self._handed.written()
        node_kinds, tie_types = self.view.counts()
        nodes = {label.value: count for label, count in node_kinds.items()}
        ties = {tie_type.value: count for tie_type, count in tie_types.items()}
        return GraphCounts(nodes=dict(sorted(nodes.items())), ties=dict(sorted(ties.items())))

    def ping(self) -> None:
        self._disk.ping()

    def close(self) -> None:
        """Close the file and let the in-memory graph go: a variable left bound to a closed store (as after a
        ``with`` block) must not keep gigabytes alive. A closed store holds nothing and cannot be written.

        A writer leaving many rows in its log writes a snapshot first (see :data:`CLOSE_SNAPSHOT_ROWS`)."""
        with self._write_lock:
            if self._opened and not self.read_only and not self._closed and self._disk.log_rows >= CLOSE_SNAPSHOT_ROWS:
                # On failure every batch is in the logs still: the next open replays them, as it would have.
                with contextlib.suppress(OSError, pa.ArrowException):
                    self._disk.write_snapshot(*self.view.tables())
            self._disk.close()
            self._release_file_lock()
            self.view = WritableGraph()
            self._closed = True

    def _release_file_lock(self) -> None:
        if self._lock_file is not None:
            os.close(self._lock_file)
            self._lock_file = None


def _created(checked: tuple[NodeTables, TieTables]) -> WriteResult:
    """The counts of a batch whose every row was created."""
    node_rows = sum(table.num_rows for table in checked[0].values())
    tie_rows = sum(table.num_rows for table in checked[1].values())
    return WriteResult(nodes=node_rows, ties=tie_rows, created=node_rows + tie_rows)


def _node(view: GraphView, label: NodeLabel, node_id: str) -> NodeRecord | None:
    key = node_key(label, node_id)
    if key not in view:
        return None
    record = view.record(key)
    if label is not label.primary and record.label is not label:
        return None
    return record


_PRIMARY = {label: label.primary for label in NodeLabel}

WRITES_AHEAD = 32
"""Batches a load may have handed to the writer thread and not yet written ...
"""
WRITES_AHEAD_BYTES = 128 * 2**20
"""... while they hold less than this many bytes of tables (a batch more than this alone is still handed over
once none is waiting). The writer's work comes in bursts: a source's batches come faster than they are written
(the customers after entity resolution, the accounts and their ties at 1,000,000 customers) while the next
file's reading leaves it idle. A 100,000-row batch holds 4-6 MiB as ties, about 25 as accounts, 50 as customers
with their records, and may keep its source's columns alive. At 1,000,000 customers the loader waited for the
writer 30.0 s with two batches ahead, 23.3 s with 64 MiB, 12.7 with 128, 10.2 with 256, for a load of 122.6,
113.8, 108.6 and 108.9 s and a peak of 5,877, 5,987, 6,489 and 7,256 MiB."""

JOIN_WAITING = True
"""Whether the writer thread writes the batches waiting for it as one when it can (see
:meth:`EmbeddedStore.bulk_write_together`)."""

LOG_MINIMUM = 200_000
"""Rows the log may hold before a new snapshot is written ..."""
LOG_SHARE = 0.25
"""... or this share of the rows in the snapshot, whichever is more (a log costs per-row work to replay)."""

CLOSE_SNAPSHOT_ROWS = 20_000
"""A writer closing with at least this many rows logged since its snapshot writes a new one: the next open (a
read-only one, often: ``serve`` or ``export`` after ``analyze``) then reads columns instead of replaying the
log row by row into the overlay (a 100,000-customer bank after analyze: over a minute and ~940 MiB)."""


def _merged(current: Mapping[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """The properties after ``update`` (None removes one); ``update`` is the batch's own copy, kept when it can be."""
    if not current:
        if None not in update.values():
            return update
        return {name: value for name, value in update.items() if value is not None}
    merged = {**current, **update}
    return {name: value for name, value in merged.items() if value is not None}


def _take_file_lock(path: Path) -> int:
    """Hold an exclusive lock so a second writer cannot fork the in-memory graph from the file."""
    lock_path = path.with_name(path.name + ".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        raise StoreUnavailable(
            f"the embedded store {path} is open for writing in another process (a load, analyze, review or serve); "
            "wait for it to finish or stop it, then try again"
        ) from None
    return descriptor
