"""``crm-graph bench --loaded`` on the embedded store: the figures of a store loaded and analysed beforehand.

Generating, loading and analysing a large bank takes longer than the measurements themselves; this measures
only the store as it is: its size, opening and bulk write (:mod:`bench.store_figures`), the named queries'
latencies and the API's throughput, the same way :func:`bench.harness.run_bench` does for a bank it makes.
"""

from __future__ import annotations

import os
import platform
import random
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.harness import BenchConfig, bench_settings, measure_api, measure_queries, write_report_files
from bench.measure import Progress
from bench.report import LoadedStoreReport, render_api_cpu, render_store, render_targets
from bench.store_figures import measure_store
from bench.targets import api_targets, store_targets
from graph.embedded import EmbeddedStore
from graph.model import NodeLabel
from graph.settings import Settings


def run_loaded_bench(path: Path, settings: Settings, config: BenchConfig, progress: Progress) -> LoadedStoreReport:
    """Measure the embedded store at ``path`` (closed, left as it was but for the API's audit of the reads)."""
    started = time.perf_counter()
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    figures = measure_store(path, progress)
    with tempfile.TemporaryDirectory(prefix="crm-graph-bench-") as work, EmbeddedStore(path) as store:
        chooser = random.Random(config.seed)
        customer_ids = [record.id for record in store.nodes(NodeLabel.CUSTOMER)]
        sample = sorted(chooser.sample(customer_ids, min(config.queries, len(customer_ids))))
        queries = measure_queries(store, "embedded", sample, progress)
        api = measure_api(store, "embedded", sample, bench_settings(settings, Path(work)), config, progress)
    return LoadedStoreReport(
        started_at=started_at,
        customers=len(customer_ids),
        queries_sampled=len(sample),
        cpus=os.cpu_count() or 1,
        python=platform.python_version(),
        store=figures,
        queries=queries,
        api=api,
        targets=[*store_targets(figures), *api_targets(api, None)],
        total_seconds=round(time.perf_counter() - started, 1),
    )


def render_loaded_markdown(report: LoadedStoreReport) -> str:
    lines = [
        f"# crm-graph benchmark of a loaded embedded store, {report.customers:,} customers",
        "",
        f"Run {report.started_at}; {report.cpus} CPUs; Python {report.python}; latencies over "
        f"{report.queries_sampled:,} sampled customers; whole run {report.total_seconds:.0f} s.",
        "",
        *render_store(report.store),
        "",
        "| query | p50 (ms) | p95 (ms) | p99 (ms) |",
        "|---|---:|---:|---:|",
        *(
            f"| {name} | {found.p50_ms:,.2f} | {found.p95_ms:,.2f} | {found.p99_ms:,.2f} |"
            for name, found in report.queries.items()
        ),
        "",
        f"API: {report.api.requests_per_second:,.0f} requests/s, p50 {report.api.latency.p50_ms:,.1f} ms, "
        f"p99 {report.api.latency.p99_ms:,.1f} ms; statuses {report.api.status_counts}.",
        *render_api_cpu(report.api, "the embedded store"),
        "",
        *render_targets(report.targets),
    ]
    return "\n".join(lines) + "\n"


def write_loaded_results(report: LoadedStoreReport, out: Path) -> tuple[Path, Path]:
    """Write ``store-<customers>-<timestamp>.json`` and ``.md`` into ``out``; return both paths."""
    return write_report_files(out, f"store-{report.customers}", report, render_loaded_markdown(report))
