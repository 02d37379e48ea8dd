"""``python -m bench.snapshot_formats STORE [FOLDER]``: write the graph of the embedded store at STORE as a
snapshot in each candidate format and print, per format, the CPU and wall seconds of writing it (fsynced)
and its size on disk, as one JSON object. Given FOLDER, each format's snapshot is kept there as a whole store
(``FOLDER/<format>``, the same MANIFEST and an empty log), to be opened with ``python -m bench.open_store``.

The candidates (bench/results/store-snapshot-format-2026-11-30.md has the figures): Parquet with zstd and
page checksums (the format before), and Arrow IPC files in the layout's own form, uncompressed (mapped and
used in place) or lz4-compressed (decompressed into memory on opening).
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

import graph.embedded.disk as disk
import graph.embedded.snapshot as snapshot
from bench.store_figures import clocks, disk_bytes
from graph.embedded import EmbeddedStore
from graph.model import NodeLabel, TieType

FORMATS = ("parquet-zstd", "arrow", "arrow-lz4")


def write_parquet(folder: Path, nodes: dict[NodeLabel, pa.Table], ties: dict[TieType, pa.Table]) -> None:
    """A snapshot as the store wrote it before: a Parquet file per table (zstd, page checksums), fsynced."""
    files = [(snapshot.node_file(label, snapshot.PARQUET), table) for label, table in nodes.items() if table.num_rows]
    files += [
        (snapshot.tie_file(tie_type, snapshot.PARQUET), table) for tie_type, table in ties.items() if table.num_rows
    ]
    for name, table in files:
        pq.write_table(table, folder / name, compression="zstd", write_page_checksum=True)
        snapshot.fsync(folder / name)


def write_arrow(
    folder: Path, nodes: dict[NodeLabel, pa.Table], ties: dict[TieType, pa.Table], compression: str | None
) -> None:
    """A snapshot as the store writes it, with ``compression``."""
    chosen = snapshot.SNAPSHOT_COMPRESSION
    snapshot.SNAPSHOT_COMPRESSION = compression
    try:
        snapshot.write_snapshot_folder(folder, nodes, ties)
    finally:
        snapshot.SNAPSHOT_COMPRESSION = chosen


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) not in (1, 2):
        raise SystemExit("usage: python -m bench.snapshot_formats STORE [FOLDER]")
    store_path = Path(args[0])
    keep = Path(args[1]) if len(args) == 2 else None
    with EmbeddedStore(store_path, read_only=True) as store:
        nodes, ties = store.view.tables()
    found = {}
    for name in FORMATS:
        with tempfile.TemporaryDirectory(prefix="crm-graph-format-", dir=store_path.parent) as scratch:
            folder = Path(scratch) / "snapshot-000001"
            folder.mkdir()
            with clocks() as measured:
                if name == "parquet-zstd":
                    write_parquet(folder, nodes, ties)
                else:
                    write_arrow(folder, nodes, ties, "lz4" if name == "arrow-lz4" else None)
            seconds, cpu_seconds = measured
            found[name] = {
                "write_seconds": round(seconds, 3),
                "write_cpu_seconds": round(cpu_seconds, 3),
                "disk_mib": round(disk_bytes(folder) / 2**20, 1),
            }
            if keep is not None:
                target = keep / name
                target.mkdir(parents=True)
                shutil.copytree(folder, target / folder.name)
                (target / "log-000001").touch()
                disk.write_manifest(target, folder.name, "log-000001")
    print(json.dumps({"store": str(store_path), "formats": found}))


if __name__ == "__main__":
    main()
