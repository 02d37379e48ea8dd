"""A snapshot of the embedded store: a folder with one Arrow IPC file per primary label and tie type, the id
index of each label's table (:mod:`graph.embedded.id_index`: mapped, so no process builds it), and CHECKSUMS.

A snapshot file holds each table in the form the in-memory layout keeps (ids as sorted fixed-width bytes,
texts of few values dictionary-encoded, each tie type's order by target), uncompressed, so opening maps it
and uses its columns in place: there is nothing to decode, sort or convert per row, and the pages are the
operating system's file cache, read as queries touch them and shared between processes that open the same
store. Each file is checked against its checksum (xxh3) in CHECKSUMS first, read through a small buffer, not
the mapping: a damaged snapshot is refused on opening.

Snapshots of stores written before this format (Parquet files, zstd, without CHECKSUMS) are read as they
are, decoded; ``crm-graph migrate`` rewrites such a snapshot in the current format (so does the store's next
snapshot). Why mapped Arrow files and not Parquet: Parquet's columns must be decompressed and decoded into
memory on every open, and Arrow's allocator kept about 100 MiB of what decoding freed
(bench/results/store-snapshot-format-2026-11-30.md has the measurements).
"""

from __future__ import annotations

import io
import json
import mmap
import os
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import xxhash

from graph.embedded.layout import index_slots, stored_id_index, stored_nodes
from graph.embedded.tie_table import stored_ties
from graph.errors import StoreCorrupt
from graph.model import PRIMARY_LABELS, NodeLabel, TieType

CHECKSUMS = "CHECKSUMS"
"""In a snapshot folder: each file's size and 64-bit xxh3 checksum (JSON), written and fsynced after the files."""
CHECKSUM_ALGORITHM = "xxh3_64"
ARROW, PARQUET = ".arrow", ".parquet"
"""A snapshot file's suffix: Arrow IPC (written now) or Parquet (snapshots written before, still read)."""
SNAPSHOT_COMPRESSION: str | None = None
"""Compression of snapshot files: none, so that they are mapped and used in place."""
CHECK_BUFFER = 4 * 2**20
SNAPSHOT_WRITERS = 2
"""Tables converted, written and checked at once: most of that (sorting an id index, writing, fsync, hashing)
runs without the GIL, and a load's closing snapshot, which the closing process waits for, then uses both cores."""


def node_file(label: NodeLabel, suffix: str = ARROW) -> str:
    return f"nodes-{label.value}{suffix}"


def tie_file(tie_type: TieType, suffix: str = ARROW) -> str:
    return f"ties-{tie_type.value}{suffix}"


def id_index_file(label: NodeLabel) -> str:
    """The file of the id index of a label's node table (see :mod:`graph.embedded.id_index`)."""
    return f"id-index-{label.value}{ARROW}"


Listed = tuple[Path, tuple[int, int] | None]
"""A snapshot file and its expected size and checksum (None for a Parquet file of the earlier format)."""


class SnapshotFile:
    """One file of a snapshot, opened at once (a writer replacing the snapshot since takes nothing from under
    the reader) and read when :meth:`read` is called: an Arrow file checked against its checksum and mapped,
    a Parquet file (a snapshot of the earlier format) decoded. ``FileNotFoundError`` when it is not there."""

    def __init__(self, store: Path, file: Path, expected: tuple[int, int] | None) -> None:
        self.store, self.name, self.expected = store, file.name, expected
        try:
            self._file: io.BufferedReader | pq.ParquetFile = (
                file.open("rb")
                if expected is not None
                else pq.ParquetFile(file, page_checksum_verification=True, pre_buffer=False)
            )
        except FileNotFoundError:
            raise
        except (OSError, pa.ArrowException) as error:
            raise _damaged(store, file.name, error) from None

    def read(self) -> pa.Table:
        """The file's table (then the file is closed)."""
        try:
            if isinstance(self._file, pq.ParquetFile):
                return self._file.read()
            return self._mapped(self._file)
        except (OSError, ValueError, pa.ArrowException) as error:
            raise _damaged(self.store, self.name, error) from None
        finally:
            self.close()

    def _mapped(self, file: io.BufferedReader) -> pa.Table:
        if checksum(file) != self.expected:
            raise StoreCorrupt(self.store, f"has a damaged snapshot file {self.name} (its checksum does not match)")
        mapped = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)  # outlives the file: it holds its own
        # The table's buffers are slices of the mapping, which stays until the last of them is let go.
        return pa.ipc.open_file(pa.py_buffer(mapped)).read_all()

    def close(self) -> None:
        self._file.close()


def checksum(file: io.BufferedReader) -> tuple[int, int]:
    """The file's size and xxh3 checksum, read from its start through a small buffer (not through a mapping,
    whose pages would then all be resident)."""
    file.seek(0)
    buffer = bytearray(CHECK_BUFFER)
    view = memoryview(buffer)
    digest = xxhash.xxh3_64()
    size = 0
    while read := file.readinto(buffer):
        digest.update(view[:read])
        size += read
    return size, digest.intdigest()


def snapshot_files(
    path: Path, snapshot: str | None
) -> tuple[dict[NodeLabel, Listed], dict[TieType, Listed], dict[NodeLabel, Listed]]:
    """The files of the snapshot: node tables by primary label, tie tables by type and id indexes by label
    (a snapshot written before they were has none). ``StoreCorrupt`` when its CHECKSUMS is damaged or lost."""
    nodes: dict[NodeLabel, Listed] = {}
    ties: dict[TieType, Listed] = {}
    id_indexes: dict[NodeLabel, Listed] = {}
    if snapshot is None:
        return nodes, ties, id_indexes
    folder = path / snapshot
    try:
        listed = json.loads((folder / CHECKSUMS).read_bytes())
        if listed["algorithm"] != CHECKSUM_ALGORITHM:
            raise ValueError(f"checksums of an unknown kind, {listed['algorithm']}")
        sums = {str(name): (int(size), int(digest)) for name, (size, digest) in listed["files"].items()}
    except FileNotFoundError:
        if folder.is_dir() and any(folder.glob("*" + ARROW)):
            raise StoreCorrupt(path, f"has lost the CHECKSUMS of its snapshot {snapshot}") from None
        sums = None  # a snapshot of the earlier format (or a lost folder, which reading finds)
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as error:
        raise StoreCorrupt(path, f"has a damaged CHECKSUMS in its snapshot {snapshot} ({error})") from None
    for label in PRIMARY_LABELS:
        if sums is not None and node_file(label) in sums:
            nodes[label] = (folder / node_file(label), sums[node_file(label)])
        elif sums is None and (folder / node_file(label, PARQUET)).exists():
            nodes[label] = (folder / node_file(label, PARQUET), None)
        if sums is not None and label in nodes and id_index_file(label) in sums:
            id_indexes[label] = (folder / id_index_file(label), sums[id_index_file(label)])
    for tie_type in TieType:
        if sums is not None and tie_file(tie_type) in sums:
            ties[tie_type] = (folder / tie_file(tie_type), sums[tie_file(tie_type)])
        elif sums is None and (folder / tie_file(tie_type, PARQUET)).exists():
            ties[tie_type] = (folder / tie_file(tie_type, PARQUET), None)
    return nodes, ties, id_indexes


def read_snapshot(path: Path, snapshot: str | None) -> Snapshot:
    """The snapshot's tables (those it holds), read when asked for; every file is opened before this returns."""
    node_files, tie_files, index_files = snapshot_files(path, snapshot)
    opened = Snapshot(SnapshotTables({}), SnapshotTables({}), SnapshotTables({}))
    try:
        for label, found in node_files.items():
            opened.nodes.files[label] = SnapshotFile(path, *found)
        for tie_type, found in tie_files.items():
            opened.ties.files[tie_type] = SnapshotFile(path, *found)
        for label, found in index_files.items():
            opened.id_indexes.files[label] = SnapshotFile(path, *found)
    except BaseException:
        opened.close()
        raise
    return opened


SnapshotKey = TypeVar("SnapshotKey", NodeLabel, TieType)


class SnapshotTables(Mapping[SnapshotKey, pa.Table]):
    """A snapshot's tables, each read from its file when asked for and not kept: a graph built from them
    holds the columns of one table as read beside its own at a time, not of all (for a Parquet snapshot, a
    100,000-customer bank: 15-45 MiB less resident once open, and a lower peak)."""

    def __init__(self, files: dict[SnapshotKey, SnapshotFile]) -> None:
        self.files: dict[SnapshotKey, SnapshotFile] = files

    def __getitem__(self, key: SnapshotKey) -> pa.Table:
        pa.default_memory_pool().release_unused()  # what the table read before was read into
        return self.files[key].read()

    def __iter__(self) -> Iterator[SnapshotKey]:
        return iter(self.files)

    def __len__(self) -> int:
        return len(self.files)

    def close(self) -> None:
        """Close the files not read (a read closes its own)."""
        for file in self.files.values():
            file.close()


@dataclass(frozen=True)
class Snapshot:
    """A snapshot's files, opened: its node tables by primary label, tie tables by type, and the id index of
    each node table (see :func:`id_slots`). Close it once the graph is built."""

    nodes: SnapshotTables[NodeLabel]
    ties: SnapshotTables[TieType]
    id_indexes: SnapshotTables[NodeLabel]

    def id_slots(self) -> dict[NodeLabel, np.ndarray]:
        """Each label's id index table, mapped (not built): those of an index file of the hash in use."""
        found = {label: index_slots(self.id_indexes[label]) for label in self.id_indexes}
        return {label: slots for label, slots in found.items() if slots is not None}

    def close(self) -> None:
        """Close the files not read (a read closes its own)."""
        for tables in (self.nodes, self.ties, self.id_indexes):
            tables.close()


def _damaged(store: Path, name: str, error: Exception) -> StoreCorrupt:
    return StoreCorrupt(store, f"has a damaged snapshot file {name} ({str(error).splitlines()[0]})")


def write_snapshot_folder(folder: Path, nodes: Mapping[NodeLabel, pa.Table], ties: Mapping[TieType, pa.Table]) -> None:
    """Write the tables (as :meth:`GraphView.tables` makes them) into the empty ``folder`` as a snapshot: a file
    per table in the form the layout keeps and the id index of each node table, then their CHECKSUMS; all
    fsynced, the folder too. Tables are written :data:`SNAPSHOT_WRITERS` at a time."""

    def node_files(label: NodeLabel, table: pa.Table) -> dict[str, tuple[int, int]]:
        stored = stored_nodes(table)
        return {
            node_file(label): write_snapshot_file(folder / node_file(label), stored),
            id_index_file(label): write_snapshot_file(folder / id_index_file(label), stored_id_index(stored)),
        }

    def tie_files(tie_type: TieType, table: pa.Table) -> dict[str, tuple[int, int]]:
        return {tie_file(tie_type): write_snapshot_file(folder / tie_file(tie_type), stored_ties(table))}

    with ThreadPoolExecutor(SNAPSHOT_WRITERS, thread_name_prefix="crm-graph snapshot") as pool:
        written = [pool.submit(node_files, label, table) for label, table in nodes.items() if table.num_rows]
        written += [pool.submit(tie_files, tie_type, table) for tie_type, table in ties.items() if table.num_rows]
        sums = {name: checked for files in written for name, checked in files.result().items()}
    (folder / CHECKSUMS).write_text(json.dumps({"algorithm": CHECKSUM_ALGORITHM, "files": sums}))
    fsync(folder / CHECKSUMS)
    fsync(folder)


def write_snapshot_file(file: Path, table: pa.Table) -> tuple[int, int]:
    """Write ``table`` as one Arrow IPC record batch and fsync it; its size and checksum."""
    with pa.OSFile(str(file), "wb") as sink:
        options = pa.ipc.IpcWriteOptions(compression=SNAPSHOT_COMPRESSION)
        with pa.ipc.new_file(sink, table.schema, options=options) as writer:
            writer.write_table(table.combine_chunks())
    fsync(file)
    with file.open("rb") as written:
        return checksum(written)


def fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
