"""The embedded store on disk: a folder holding a snapshot and a log of the batches written since.

    <store>/MANIFEST                  which snapshot and logs are current (JSON, replaced by an atomic rename)
    <store>/snapshot-000002/          an Arrow IPC file per primary label (and its id index) and tie type, CHECKSUMS
    <store>/log-000002                the batches written after that snapshot, appended one record each
    <store>/log-000003                (while a new snapshot is written) the batches written since it began

Opening maps the snapshot's files into memory and uses their columns in place (``snapshot.py``).
Then opening replays the log. Every batch is appended to the log and fsynced before it is applied in
memory, so a process killed mid-batch leaves at most an unfinished last record, which opening ignores and
the next writer cuts off.

Once the log holds a share of the snapshot's rows, a new snapshot is written *in the background*: the writer
starts a fresh log (the MANIFEST now names the old snapshot, the old log and the fresh one, so nothing
acknowledged depends on the new snapshot), and a thread writes the graph as it was at that moment (immutable
Arrow tables: later batches do not change them) while batches go on into the fresh log. Once its files and
their CHECKSUMS are fsynced, the MANIFEST is switched to the new snapshot and the fresh log, and the old pair
is removed (a process that has the old snapshot mapped keeps reading it: its pages stay until unmapped);
opening stays fast however much was written. A process killed mid-snapshot leaves the MANIFEST naming the
old snapshot and both logs, which read to the same graph; the half-written folder is removed by the next
writer.

Why this and not SQLite as before: SQLite kept a JSON document per node and tie, so opening a 100,000-customer
bank decoded 1.4 million documents into Python objects (14 s).

A log record is a batch framed and checked as :mod:`graph.embedded.log_records` says. A store of version 2 or 3
wrote records of an older kind: a writer opening such a store marks its MANIFEST version 4 before it appends a
record of the new kind, so an earlier program refuses the store (its MANIFEST version) instead of reporting its new
records as damage.

Anything that cannot be read as such a store (a damaged file, a record whose checksum fails with records
after it, some other file or folder) ends in ``StoreCorrupt``, one line naming the store and what to do; it
is never written over. A new store is built beside its path and renamed into place whole.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

from graph.embedded.log_records import Batch, batch_rows, read_records, record
from graph.embedded.snapshot import Snapshot, fsync, read_snapshot, write_snapshot_folder
from graph.errors import StoreCorrupt, StoreError, StoreOutdated, StoreUnavailable
from graph.model import NodeLabel, TieType

FORMAT = "crm-graph embedded store"
VERSION = 4
"""Version 4 checksums log records with xxh3-64 (:data:`graph.embedded.log_records.MAGIC`); version 3 added
``earlier_logs`` to the MANIFEST; versions 2 (one log) and 3 are read as well. A snapshot's own format is told by
its files (see :func:`graph.embedded.snapshot.snapshot_files`)."""
READABLE_VERSIONS = (2, 3, 4)
MANIFEST = "MANIFEST"
SQLITE_HEADER = b"SQLite format 3\x00"


_RESTORE = "restore it from a backup"
_MIGRATE = "convert it with `crm-graph migrate`, which keeps the old file beside the new store"
_NOT_A_STORE = "check that CRM_GRAPH_EMBEDDED_PATH names the store, or " + _RESTORE


def refuse_other_files(path: Path) -> None:
    """Refuse a path that exists but is not a store folder: an earlier SQLite store, an empty file, another file."""
    if path.is_dir():
        return
    try:
        with path.open("rb") as file:
            header = file.read(len(SQLITE_HEADER))
    except OSError as error:
        raise StoreUnavailable(f"cannot read the embedded store {path}: {error.strerror}") from None
    if header == SQLITE_HEADER:
        raise StoreOutdated(path, "is a store of the earlier SQLite format", _MIGRATE)
    if not header:
        raise StoreCorrupt(path, "is empty (zero bytes)", "delete it if it never held a store, or " + _RESTORE)
    raise StoreCorrupt(path, "is not a crm-graph store (a store is a folder)", _NOT_A_STORE)


def read_manifest(path: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((path / MANIFEST).read_bytes())
    except FileNotFoundError:
        raise StoreCorrupt(path, "is a folder without a store's MANIFEST", _NOT_A_STORE) from None
    except (OSError, ValueError) as error:
        raise StoreCorrupt(path, f"has a MANIFEST that cannot be read ({error})") from None
    if (
        not isinstance(manifest, dict)
        or manifest.get("format") != FORMAT
        or manifest.get("version") not in READABLE_VERSIONS
    ):
        raise StoreCorrupt(path, f"has a MANIFEST that is not of a crm-graph store of version {VERSION}")
    earlier = manifest.setdefault("earlier_logs", [])
    if (
        not isinstance(manifest.get("log"), str)
        or not isinstance(manifest.get("snapshot"), str | None)
        or not isinstance(earlier, list)
        or not all(isinstance(name, str) for name in earlier)
    ):
        raise StoreCorrupt(path, "has a MANIFEST naming no snapshot or log")
    return manifest


def manifest_logs(manifest: dict[str, Any]) -> list[str]:
    """The logs a MANIFEST names, in the order they are replayed: earlier ones first, the one written last."""
    return [*manifest["earlier_logs"], manifest["log"]]


def write_manifest(folder: Path, snapshot: str | None, log: str, earlier_logs: Sequence[str] = ()) -> None:
    fresh = folder / (MANIFEST + ".new")
    manifest = {"format": FORMAT, "version": VERSION, "snapshot": snapshot, "log": log}
    if earlier_logs:
        manifest["earlier_logs"] = list(earlier_logs)
    fresh.write_text(json.dumps(manifest))
    fsync(fresh)
    os.replace(fresh, folder / MANIFEST)
    fsync(folder)


def create_store(path: Path) -> None:
    """Make a new, empty store at ``path``: built whole under another name, then renamed into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fresh = path.with_name(f".{path.name}.new")
    if fresh.is_dir():
        shutil.rmtree(fresh)
    else:
        fresh.unlink(missing_ok=True)
    fresh.mkdir()
    (fresh / "log-000001").touch()
    fsync(fresh / "log-000001")
    write_manifest(fresh, None, "log-000001")
    os.replace(fresh, path)
    fsync(path.parent)


class Disk:
    """The folder behind an embedded store."""

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = path
        self.read_only = read_only
        if not path.exists():
            if read_only:
                raise StoreUnavailable(f"there is no embedded store at {path} yet; load data into it first")
            try:
                create_store(path)
            except OSError as error:
                raise StoreUnavailable(f"cannot create the embedded store {path}: {error}") from error
        refuse_other_files(path)
        self._log_file: int | None = None
        self.log_batches = 0
        self.log_rows = 0
        self._manifest_lock = threading.Lock()
        self._snapshotting: threading.Thread | None = None
        self.snapshot_error: Exception | None = None
        """Why the last background snapshot failed (its batches are in the logs still), or None."""
        self._read_manifest()

    def _read_manifest(self) -> None:
        manifest = read_manifest(self.path)
        self.snapshot: str | None = manifest["snapshot"]
        self.log = self.path / manifest["log"]
        self.earlier_logs: list[str] = list(manifest["earlier_logs"])
        self.version: int = manifest["version"]

    def read(self) -> tuple[Snapshot, list[Batch]]:
        """The snapshot (its tables each read when asked for; close it once built) and the batches logged
        since (a writer cuts off an unfinished last record)."""
        for attempt in range(3):
            try:
                snapshot = read_snapshot(self.path, self.snapshot)
                try:
                    earlier = [batch for name in self.earlier_logs for _, batch in read_records(self.path / name)]
                    records = list(read_records(self.log))
                except BaseException:
                    snapshot.close()
                    raise
                break
            except FileNotFoundError as error:
                # A reader that lost a race with the writer replacing the snapshot reads the new one.
                if attempt == 2 or not self.read_only:
                    raise StoreCorrupt(self.path, f"has lost a file its MANIFEST names ({error.filename})") from None
                self._read_manifest()
        batches = earlier + [batch for _, batch in records]
        good_end = records[-1][0] if records else 0
        self.log_batches = len(batches)
        self.log_rows = sum(batch_rows(batch) for batch in batches)
        if not self.read_only:
            try:
                self._log_file = os.open(self.log, os.O_WRONLY | os.O_APPEND)
                if os.fstat(self._log_file).st_size != good_end:
                    os.ftruncate(self._log_file, good_end)
                    os.fsync(self._log_file)
                if self.version != VERSION:  # before a record of this version's kind is appended
                    write_manifest(self.path, self.snapshot, self.log.name, self.earlier_logs)
                    self.version = VERSION
                self._remove_leftovers()
            except OSError as error:
                snapshot.close()
                raise StoreUnavailable(f"cannot write the embedded store {self.path}: {error}") from error
        return snapshot, batches

    def _remove_leftovers(self) -> None:
        """Remove snapshot folders and logs the MANIFEST does not name: left by a writer stopped mid-snapshot."""
        named = {self.snapshot, self.log.name, *self.earlier_logs}
        for entry in self.path.iterdir():
            if entry.name.startswith(("snapshot-", "log-")) and entry.name not in named:
                if entry.is_dir():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)

    def append(self, batch: Batch) -> None:
        """Write the batch to the log and fsync it, or leave the log as it was and raise ``StoreError``."""
        if self._log_file is None:
            raise StoreError("this embedded store was opened read-only")
        parts = record(batch)
        size = os.fstat(self._log_file).st_size
        try:
            _write_all(self._log_file, parts)
            os.fsync(self._log_file)
        except OSError as error:
            os.ftruncate(self._log_file, size)
            raise StoreError(f"cannot commit a batch to the embedded store {self.path}: {error}") from error
        self.log_batches += 1
        self.log_rows += batch_rows(batch)

    # -- snapshots -----------------------------------------------------------------------------

    @property
    def snapshotting(self) -> bool:
        """Whether a background snapshot is being written."""
        return self._snapshotting is not None and self._snapshotting.is_alive()

    def write_snapshot(self, nodes: dict[NodeLabel, pa.Table], ties: dict[TieType, pa.Table]) -> None:
        """Make these tables (the whole graph as of now) the snapshot, with an empty log, before returning."""
        self.wait_for_snapshot()
        number, covered = self._start_log()
        self._finish_snapshot(number, covered, nodes, ties)

    def snapshot_in_background(self, nodes: dict[NodeLabel, pa.Table], ties: dict[TieType, pa.Table]) -> None:
        """Start writing these tables (the whole graph as of now, never changed after) as the next snapshot.

        Batches appended from here on go to a fresh log, which the MANIFEST names at once beside the old
        ones: whether the snapshot is finished or not, the store opens to every batch acknowledged. Call
        this while no other writer appends (the store holds its lock).
        """
        self.wait_for_snapshot()
        number, covered = self._start_log()
        self.snapshot_error = None
        self._snapshotting = threading.Thread(
            target=self._snapshot_quietly, args=(number, covered, nodes, ties), name="crm-graph snapshot", daemon=True
        )
        self._snapshotting.start()

    def wait_for_snapshot(self) -> None:
        """Return once no background snapshot is being written."""
        if self._snapshotting is not None:
            self._snapshotting.join()
            self._snapshotting = None

    def _snapshot_quietly(
        self, number: int, covered: list[str], nodes: dict[NodeLabel, pa.Table], ties: dict[TieType, pa.Table]
    ) -> None:
        try:
            self._finish_snapshot(number, covered, nodes, ties)
        except (OSError, pa.ArrowException) as error:
            # The MANIFEST still names the old snapshot and every log: nothing is lost, the next one retries.
            self.snapshot_error = error

    def _start_log(self) -> tuple[int, list[str]]:
        """Start a fresh log for the batches to come; the number of the snapshot to write before it and the
        logs that snapshot will replace."""
        number = int(self.log.name.rsplit("-", 1)[1]) + 1
        fresh = self.path / f"log-{number:06d}"
        fresh.write_bytes(b"")
        fsync(fresh)
        covered = [*self.earlier_logs, self.log.name]
        with self._manifest_lock:
            write_manifest(self.path, self.snapshot, fresh.name, covered)
            self.earlier_logs, self.log = covered, fresh
        if self._log_file is not None:
            os.close(self._log_file)
        self._log_file = os.open(self.log, os.O_WRONLY | os.O_APPEND)
        self.log_batches = self.log_rows = 0
        return number, covered

    def _finish_snapshot(
        self, number: int, covered: list[str], nodes: dict[NodeLabel, pa.Table], ties: dict[TieType, pa.Table]
    ) -> None:
        """Write snapshot ``number`` from the tables, then switch the MANIFEST to it and drop what it replaces."""
        snapshot = f"snapshot-{number:06d}"
        folder = self.path / snapshot
        if folder.exists():
            shutil.rmtree(folder)  # left by a writer stopped while writing it: never named by the manifest
        folder.mkdir()
        write_snapshot_folder(folder, nodes, ties)
        with self._manifest_lock:
            old_snapshot = self.snapshot
            left = [name for name in self.earlier_logs if name not in covered]
            write_manifest(self.path, snapshot, self.log.name, left)
            self.snapshot, self.earlier_logs = snapshot, left
        for name in covered:
            (self.path / name).unlink(missing_ok=True)
        if old_snapshot is not None:
            shutil.rmtree(self.path / old_snapshot, ignore_errors=True)

    def ping(self) -> None:
        if not (self.path / MANIFEST).exists():
            raise StoreUnavailable(f"the embedded store {self.path} does not answer: its MANIFEST is gone")

    def close(self) -> None:
        self.wait_for_snapshot()
        if self._log_file is not None:
            os.close(self._log_file)
            self._log_file = None


def _write_all(descriptor: int, parts: list[Any]) -> None:
    """Write every part, in order, with as few system calls as the kernel allows."""
    views = [memoryview(part).cast("B") for part in parts if len(part)]
    while views:
        written = os.writev(descriptor, views[:1024])
        while views and written >= len(views[0]):
            written -= len(views[0])
            views.pop(0)
        if written:
            views[0] = views[0][written:]
