"""Small measuring tools: latency percentiles, a timed store wrapper, and memory high-water marks."""

from __future__ import annotations

import math
import os
import resource
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.report import Latency
from graph.batch import NodeInput, NodeRef, TieInput
from graph.model import GraphCounts, NodeLabel, NodeRecord, TieRecord, TieType
from graph.query import NamedQuery
from graph.store import GraphStore, Neighbourhood, WriteResult

if TYPE_CHECKING:
    import pyarrow as pa

Progress = Callable[[str, int, int], None]
"""Called with (stage, done, total); total 0 when unknown."""


def latency(seconds: Sequence[float]) -> Latency:
    """p50, p95, p99 and max of some durations, in milliseconds (nearest-rank percentiles)."""
    ordered = sorted(seconds)
    if not ordered:
        raise ValueError("no durations to summarise")

    def rank(share: float) -> float:
        index = max(0, math.ceil(share * len(ordered)) - 1)
        return round(ordered[index] * 1000.0, 3)

    return Latency(
        count=len(ordered),
        p50_ms=rank(0.50),
        p95_ms=rank(0.95),
        p99_ms=rank(0.99),
        max_ms=round(ordered[-1] * 1000.0, 3),
        mean_ms=round(sum(ordered) / len(ordered) * 1000.0, 3),
    )


class TimedStore(GraphStore):
    """A store that passes every call through and adds up the time spent in ``write`` (in a bulk write handed
    to a writer thread, the time spent waiting for it).

    The loader sees only the store interface, so wrapping it splits a load into the loader's own work
    (reading, transforming, resolving) and the store's (checking the batch, committing it).
    """

    def __init__(self, inner: GraphStore) -> None:
        super().__init__(inner.registry)
        self.inner = inner
        self.backend = inner.backend  # type: ignore[misc]
        self.write_seconds = 0.0
        self.writes = 0

    def write(
        self, nodes: Iterable[NodeInput] = (), ties: Iterable[TieInput] = (), delete: Iterable[NodeRef] = ()
    ) -> WriteResult:
        started = time.perf_counter()
        try:
            return self.inner.write(nodes, ties, delete)
        finally:
            self.write_seconds += time.perf_counter() - started
            self.writes += 1

    def bulk_write(
        self, nodes: Mapping[NodeLabel, pa.Table] | None = None, ties: Mapping[TieType, pa.Table] | None = None
    ) -> WriteResult:
        started = time.perf_counter()
        try:
            return self.inner.bulk_write(nodes, ties)
        finally:
            self.write_seconds += time.perf_counter() - started
            self.writes += 1

    def queue_bulk_write(
        self,
        nodes: Mapping[NodeLabel, pa.Table],
        ties: Mapping[TieType, pa.Table],
        counted: Callable[[WriteResult], None],
    ) -> None:
        """Handed to the wrapped store, whose writer threads may write it while the loader goes on: what is added
        up is the time the loading thread waited to hand it over (all of the write when the store writes it at once)."""
        started = time.perf_counter()
        try:
            self.inner.queue_bulk_write(nodes, ties, counted)
        finally:
            self.write_seconds += time.perf_counter() - started
            self.writes += 1

    def loading(self) -> AbstractContextManager[None]:
        return self.inner.loading()

    def get_node(self, label: NodeLabel, node_id: str) -> NodeRecord | None:
        return self.inner.get_node(label, node_id)

    def neighbourhood(
        self, label: NodeLabel, node_id: str, types: Sequence[TieType] = (), limit: int = 100
    ) -> Neighbourhood:
        return self.inner.neighbourhood(label, node_id, types, limit)

    def nodes(self, label: NodeLabel) -> Iterator[NodeRecord]:
        return self.inner.nodes(label)

    def node_ids(self, label: NodeLabel) -> list[str]:
        return self.inner.node_ids(label)

    def ties(self, types: Sequence[TieType] = ()) -> Iterator[TieRecord]:
        return self.inner.ties(types)

    def run(self, query: NamedQuery, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        return self.inner.run(query, params)

    def counts(self) -> GraphCounts:
        return self.inner.counts()

    def clear(self) -> None:
        self.inner.clear()

    def ping(self) -> None:
        self.inner.ping()

    def close(self) -> None:
        """The wrapped store belongs to whoever opened it; closing the wrapper leaves it open."""


def _status_kib(path: Path, field: str) -> int | None:
    try:
        for line in path.read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def process_peak_mib(pid: int | None = None) -> float | None:
    """RSS high-water mark (VmHWM) of a process in MiB; this process when ``pid`` is None."""
    if pid is None:
        kib = _status_kib(Path("/proc/self/status"), "VmHWM")
        if kib is None:  # not Linux: ru_maxrss is the lifetime peak, in KiB on Linux and bytes on macOS
            maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            return round(maxrss / 1024.0 / (1024.0 if maxrss > 1 << 32 else 1.0), 1)
        return round(kib / 1024.0, 1)
    kib = _status_kib(Path(f"/proc/{pid}/status"), "VmHWM")
    return None if kib is None else round(kib / 1024.0, 1)


def reset_peak(pid: int | None = None) -> bool:
    """Reset the RSS high-water mark (Linux ``clear_refs`` 5) of this process (``pid`` None) or of a child
    process this one owns, so each backend or step gets its own peak."""
    try:
        Path(f"/proc/{'self' if pid is None else pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def process_cpu_seconds(pid: int) -> float | None:
    """CPU seconds (user + system) a process and its children it has waited for have used so far; None when
    it cannot be read (not Linux, or the process is gone). A figure a busy machine distorts far less than
    wall time."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        # utime, stime, cutime, cstime: fields 14-17 of proc(5), 12-15 after the command name
        return round(sum(int(value) for value in fields[11:15]) / ticks, 2)
    except (OSError, ValueError, IndexError):
        return None
