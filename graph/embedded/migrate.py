"""Convert an embedded store of an earlier format into the current format of :mod:`graph.embedded.disk`.

``crm-graph migrate`` runs this on the configured store path. A store of the SQLite format: the new store is
built whole beside the old file, checked (every tie's ends present, counts equal to the old file's rows),
then the old file is renamed to ``<path>.sqlite-v1`` (kept, as a backup the user may delete) and the new
folder takes the path. A folder store whose snapshot is of Parquet files (read, but decoded on every open):
the store is opened and its graph written as a new snapshot of the current format, which replaces the old
one as any new snapshot does (the old is removed once the new is on disk).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
from pydantic import BaseModel

from graph.batch import TIE_ENDS
from graph.embedded import EmbeddedStore, _take_file_lock
from graph.embedded.columns import table_from_rows
from graph.embedded.disk import Disk, create_store, read_manifest
from graph.embedded.layout import ID, KIND, SOURCE, TARGET
from graph.embedded.snapshot import snapshot_files
from graph.embedded.sqlite_v1 import Disk as SqliteFile
from graph.embedded.sqlite_v1 import check_file_kind
from graph.embedded.view import GraphView
from graph.errors import StoreCorrupt, StoreError, StoreUnavailable
from graph.model import PRIMARY_LABELS, NodeLabel, TieType

OLD_SUFFIX = ".sqlite-v1"


class Migration(BaseModel):
    """What a migration converted."""

    path: str
    kept_as: str | None
    """Where the old file was kept (a SQLite store), None when the old snapshot was replaced."""
    nodes: int
    ties: int


def migrate(path: Path) -> Migration:
    """Convert the SQLite store at ``path`` in place; refuses when a writer holds it or it is not one."""
    path = Path(path)
    if not path.exists():
        raise StoreUnavailable(f"there is no embedded store at {path} to migrate")
    if path.is_dir():
        return _rewrite_parquet_snapshot(path)
    lock = _take_file_lock(path)
    try:
        check_file_kind(path)
        nodes, ties = sqlite_tables(path)
        kept = path.with_name(path.name + OLD_SUFFIX)
        if kept.exists():
            raise StoreError(f"{kept} exists; move it away to migrate {path}")
        fresh = path.with_name(f".{path.name}.migrating")
        if fresh.is_dir():
            shutil.rmtree(fresh)
        create_store(fresh)
        disk = Disk(fresh)
        disk.read()  # a new store: no snapshot files to close
        disk.write_snapshot(nodes, ties)
        disk.close()
        os.replace(path, kept)
        os.replace(fresh, path)
    finally:
        os.close(lock)
    return Migration(
        path=str(path),
        kept_as=str(kept),
        nodes=sum(table.num_rows for table in nodes.values()),
        ties=sum(table.num_rows for table in ties.values()),
    )


def _rewrite_parquet_snapshot(path: Path) -> Migration:
    node_files, tie_files, _ = snapshot_files(path, read_manifest(path)["snapshot"])
    if not any(expected is None for _, expected in [*node_files.values(), *tie_files.values()]):
        raise StoreError(f"the embedded store {path} is of the current format already; nothing to migrate")
    with EmbeddedStore(path) as store:
        store.write_snapshot()
        counts = store.counts()
    return Migration(
        path=str(path),
        kept_as=None,
        nodes=sum(count for label, count in counts.nodes.items() if NodeLabel(label).primary is NodeLabel(label)),
        ties=sum(counts.ties.values()),
    )


def sqlite_tables(path: Path) -> tuple[dict[NodeLabel, pa.Table], dict[TieType, pa.Table]]:
    """The SQLite store's nodes and ties as snapshot tables (checked by building a graph of them)."""
    old = SqliteFile(path, read_only=True)
    try:
        rows: dict[NodeLabel, list[tuple[str, NodeLabel, dict[str, Any]]]] = {label: [] for label in PRIMARY_LABELS}
        for label, node_id, kind, props in old.read_nodes():
            rows[label].append((node_id, kind, props))
        nodes, row_of = {}, {}
        for label, found in rows.items():
            found.sort(key=lambda row: row[0])
            nodes[label] = table_from_rows(
                [props for _, _, props in found],
                {
                    ID: pa.array([node_id for node_id, _, _ in found], pa.large_string()),
                    KIND: pa.array([kind.value for _, kind, _ in found], pa.large_string()),
                },
            )
            row_of[label] = {node_id: row for row, (node_id, _, _) in enumerate(found)}
        del rows
        tie_rows: dict[TieType, list[tuple[int, int, dict[str, Any]]]] = {tie_type: [] for tie_type in TieType}
        for tie_type, source, target, props in old.read_ties():
            source_label, target_label = TIE_ENDS[tie_type]
            source_row, target_row = row_of[source_label].get(source), row_of[target_label].get(target)
            if source_row is None or target_row is None:
                raise StoreCorrupt(path, f"holds a {tie_type} tie {source!r} -> {target!r} whose end is missing")
            tie_rows[tie_type].append((source_row, target_row, props))
        node_rows, tie_count = old.row_counts()
    finally:
        old.close()
    ties = {}
    for tie_type, found_ties in tie_rows.items():
        found_ties.sort(key=lambda tie: (tie[0], tie[1]))
        ties[tie_type] = table_from_rows(
            [props for _, _, props in found_ties],
            {
                SOURCE: pa.array([source for source, _, _ in found_ties], pa.int32()),
                TARGET: pa.array([target for _, target, _ in found_ties], pa.int32()),
            },
        )
    graph = GraphView(nodes, ties)
    node_counts, tie_counts = graph.counts()
    held = sum(node_counts[label] for label in PRIMARY_LABELS), sum(tie_counts.values())
    if held != (node_rows, tie_count):
        raise StoreCorrupt(path, f"holds {node_rows} nodes and {tie_count} ties but {held} were read")
    return nodes, ties
