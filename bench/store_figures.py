"""The embedded store's own figures: its size on disk, how long opening it takes and what resident memory that
adds, and the rate of its bulk write on prepared columns.

Opening is measured in a fresh process (``python -m bench.open_store PATH``, which opens the store read-only
and prints one JSON object), so that the memory it reports is the store's and not the benchmark's. The bulk
write takes the store's own content as Arrow tables (its columns, tie ends turned into ids; untimed) and
writes it with ``bulk_write`` into an empty store, then once more into the same store (every row unchanged),
then into another empty store one call per label and tie type (:func:`bulk_write_per_table`); only the
``bulk_write`` calls are timed; then 20 writes of 5,000 changed customers each into the full store
(:func:`small_writes`). Each figure is given in wall seconds and in CPU seconds of this process, which
a busy machine distorts far less.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pyarrow as pa

from bench.measure import Progress
from bench.report import BulkWriteRun, OpenRun, StoreFigures
from graph.batch import TIE_ENDS
from graph.embedded import EmbeddedStore
from graph.embedded.layout import ID, KIND, SOURCE, TARGET
from graph.errors import StoreError
from graph.model import NodeLabel, TieType

OPEN_RUNS = 1
MIB = 2**20


def measure_store(path: Path, progress: Progress, opens: int = OPEN_RUNS) -> StoreFigures:
    """Every figure of the closed embedded store at ``path`` (left unchanged; scratch files go to a temporary
    folder)."""
    disk = disk_bytes(path)
    runs = []
    for done in range(opens):
        progress("store: open", done, opens)
        runs.append(open_in_fresh_process(path))
    progress("store: open", opens, opens)
    with tempfile.TemporaryDirectory(prefix="crm-graph-bulk-") as scratch:
        progress("store: bulk write", 0, 3)
        nodes, ties = prepared_columns(path)
        into_empty, unchanged = bulk_write_twice(Path(scratch) / "store", nodes, ties)
        per_table = bulk_write_per_table(Path(scratch) / "per-table", nodes, ties)
        progress("store: bulk write", 2, 3)
        small = small_writes(Path(scratch) / "store", nodes.get(NodeLabel.CUSTOMER))
        progress("store: bulk write", 3, 3)
    return StoreFigures(
        nodes=sum(table.num_rows for table in nodes.values()),
        ties=sum(table.num_rows for table in ties.values()),
        disk_mib=round(disk / MIB, 1),
        opens=runs,
        bulk_write_into_empty=into_empty,
        bulk_write_unchanged=unchanged,
        bulk_write_per_table=per_table,
        small_writes=small,
    )


def disk_bytes(path: Path) -> int:
    """Bytes of every file under the store's folder."""
    return sum(file.stat().st_size for file in path.rglob("*") if file.is_file())


def open_in_fresh_process(path: Path) -> OpenRun:
    """Open the store read-only in a new Python process and report its time and memory."""
    completed = subprocess.run(
        [sys.executable, "-m", "bench.open_store", str(path)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=Path(__file__).resolve().parents[1],
    )
    if completed.returncode != 0:
        raise StoreError(f"opening the store in a fresh process failed: {completed.stderr.strip()[-500:]}")
    return OpenRun.model_validate_json(completed.stdout)


def prepared_columns(path: Path) -> tuple[dict[NodeLabel, pa.Table], dict[TieType, pa.Table]]:
    """The store's nodes and ties as the Arrow tables ``bulk_write`` takes: its own columns, with each tie's
    ends as ids (the store keeps them as row numbers of the node tables)."""
    with EmbeddedStore(path, read_only=True) as store:
        node_tables, tie_tables = store.view.tables()
    nodes = {
        label: table if label is NodeLabel.CUSTOMER else table.drop_columns([KIND])
        for label, table in node_tables.items()
        if table.num_rows
    }
    ties = {}
    for tie_type, table in tie_tables.items():
        if not table.num_rows:
            continue
        source_label, target_label = TIE_ENDS[tie_type]
        ends = {
            SOURCE: node_tables[source_label].column(ID).take(table.column(SOURCE)),
            TARGET: node_tables[target_label].column(ID).take(table.column(TARGET)),
        }
        ties[tie_type] = (
            table.drop_columns([SOURCE, TARGET]).add_column(0, TARGET, ends[TARGET]).add_column(0, SOURCE, ends[SOURCE])
        )
    return nodes, ties


def bulk_write_twice(
    path: Path, nodes: dict[NodeLabel, pa.Table], ties: dict[TieType, pa.Table]
) -> tuple[BulkWriteRun, BulkWriteRun]:
    """``bulk_write`` of the tables into an empty store, then of the same tables again after reopening it."""
    rows = sum(table.num_rows for table in [*nodes.values(), *ties.values()])
    with EmbeddedStore(path) as store:
        into_empty = _timed(rows, lambda: store.bulk_write(nodes, ties))
    with EmbeddedStore(path) as store:  # closing waited for a snapshot the first write started
        unchanged = _timed(rows, lambda: store.bulk_write(nodes, ties))
    return into_empty, unchanged


def bulk_write_per_table(path: Path, nodes: dict[NodeLabel, pa.Table], ties: dict[TieType, pa.Table]) -> BulkWriteRun:
    """``bulk_write`` of the tables into an empty store one call per label, then per tie type: a first load as
    a loader writes it, source after source (each call merges into what the ones before wrote)."""
    rows = sum(table.num_rows for table in [*nodes.values(), *ties.values()])
    calls: list[tuple[dict[NodeLabel, pa.Table], dict[TieType, pa.Table]]]
    calls = [({label: table}, {}) for label, table in nodes.items()]
    calls += [({}, {tie_type: table}) for tie_type, table in ties.items()]
    with EmbeddedStore(path) as store:
        return _timed(rows, lambda: [store.bulk_write(*call) for call in calls])


SMALL_WRITES = 20
SMALL_WRITE_ROWS = 5_000


def small_writes(path: Path, customers: pa.Table | None, seed: int = 16) -> BulkWriteRun | None:
    """``SMALL_WRITES`` bulk writes of ``SMALL_WRITE_ROWS`` customers each (fewer in a small bank: a twentieth
    of them), drawn at random, with a changed ``status`` and a new ``score``, into the full store at ``path``:
    a loader's batches of changes to a big bank. Only the ``bulk_write`` calls are timed."""
    if customers is None or customers.num_rows < SMALL_WRITES:
        return None
    size = min(SMALL_WRITE_ROWS, customers.num_rows // SMALL_WRITES)
    random = np.random.default_rng(seed)
    batches = []
    for _ in range(SMALL_WRITES):
        chosen = customers.take(pa.array(np.sort(random.choice(customers.num_rows, size, replace=False))))
        statuses = pa.array(random.choice(["active", "dormant", "closed"], size), pa.large_string())
        chosen = chosen.drop_columns([name for name in ("status", "score") if name in chosen.column_names])
        batches.append(chosen.append_column("status", statuses).append_column("score", pa.array(random.random(size))))
    with EmbeddedStore(path) as store:
        return _timed(size * SMALL_WRITES, lambda: [store.bulk_write({NodeLabel.CUSTOMER: batch}) for batch in batches])


def _timed(rows: int, write: Callable[[], object]) -> BulkWriteRun:
    with clocks() as measured:
        write()
    seconds, cpu_seconds = measured
    return BulkWriteRun(
        rows=rows,
        seconds=round(seconds, 3),
        cpu_seconds=round(cpu_seconds, 3),
        rows_per_second=round(rows / max(seconds, 1e-9)),
        rows_per_cpu_second=round(rows / max(cpu_seconds, 1e-9)),
    )


@contextmanager
def clocks() -> Iterator[list[float]]:
    """Wall and CPU seconds (every thread of this process) of the block, filled in when it ends."""
    measured: list[float] = []
    wall, cpu = time.perf_counter(), time.process_time()
    yield measured
    measured.extend([time.perf_counter() - wall, time.process_time() - cpu])
