"""The benchmark run: generate a bank, then load, analyse, query and serve it on each backend in turn.

Each backend is measured the same way (:func:`measure_backend`); the baselines (row-by-row MERGE on
Neo4j, the plain-Python churn spreading) and the embedded-versus-Neo4j ratios come from the same run.
Nothing here asserts a time: the numbers go to the report, the targets are compared and shown.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import platform
import random
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from bench.baselines import churn_baseline, initial_import, row_by_row_baseline
from bench.measure import Progress, TimedStore, latency, process_peak_mib, reset_peak
from bench.report import (
    LOAD_KINDS,
    QUERY_NAMES,
    AnalyzeResult,
    ApiResult,
    BackendResult,
    Baselines,
    BenchMeta,
    BenchReport,
    LoadPhase,
    LoadResult,
    MemoryResult,
    RowByRow,
    render_markdown,
)
from bench.store_figures import measure_store
from bench.targets import ratios, targets
from graph.embedded import EmbeddedStore
from graph.errors import CrmGraphError, StoreError
from graph.model import NodeLabel, NodeRecord
from graph.neo4j_launcher import launcher_available
from graph.settings import Settings
from graph.store import GraphStore
from loaders.generator import generate
from loaders.load import load_mapping
from queries.analytics import analyze, churn_risk, cross_sell
from queries.customers import MAX_QUERY_LENGTH, customer_360, search_customers
from queries.groups import household
from queries.network import related_customers

NEO4J_URI_VARIABLE = "CRM_GRAPH_BENCH_NEO4J_URI"
WARMUP_QUERIES = 10
ROLE_KINDS = {"customers": "customer_nodes", "nodes": "other_nodes", "ties": "ties"}

Question = Callable[[GraphStore, str], object]
QUESTIONS: dict[str, Question] = {
    "customer_360": customer_360,
    "network_2hop": lambda store, customer_id: related_customers(store, customer_id, depth=2),
    "household": household,
    "cross_sell": cross_sell,
    "churn_risk": churn_risk,
}
API_PATHS = (
    "/api/v1/customers/{id}",
    "/api/v1/customers/{id}/network?depth=2",
    "/api/v1/customers/{id}/household",
    "/api/v1/customers/{id}/recommendations",
    "/api/v1/customers/{id}/churn-risk",
)


@dataclass(frozen=True)
class BenchConfig:
    """What to run. ``neo4j_uri`` None starts a local Neo4j (``graph.neo4j_launcher``) for the run."""

    customers: int = 100_000
    queries: int = 1_000
    seed: int = 7
    skip_neo4j: bool = False
    neo4j_uri: str | None = None
    neo4j_heap: str | None = None
    """JVM heap of a Neo4j started for the run; None picks by bank size (see :func:`neo4j_memory`)."""
    neo4j_pagecache: str | None = None
    row_by_row_rows: int = 5_000
    api_concurrency: int = 16
    api_max_requests: int = 5_000
    api_max_seconds: float = 20.0
    api_paths: tuple[str, ...] = API_PATHS
    """The API requests of the mix, each asked about every sampled customer (``{id}``)."""
    work_dir: Path | None = None
    """Where the bank, the embedded store and load reports go; a temporary folder (removed) by default."""
    checkpoint: Path | None = None
    """If set, each backend's results are written here (JSON) as soon as they are measured, so a long run
    that fails later keeps what it measured."""
    settings: Settings = field(default_factory=Settings)


def run_bench(config: BenchConfig, progress: Progress | None = None) -> BenchReport:
    """Measure both backends on one generated bank and return the report (see :mod:`bench.report`)."""
    report_progress = progress or (lambda _stage, _done, _total: None)
    started = time.perf_counter()
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    with work_dir(config.work_dir) as work:
        report_progress("generate bank", 0, 0)
        bank = work / "bank"
        summary = generate(config.customers, config.seed, bank)
        report_progress("generate bank", 1, 1)
        settings = bench_settings(config.settings, work)
        backends: dict[str, BackendResult] = {}

        reset_peak()
        with EmbeddedStore(work / "embedded") as embedded:
            backends["embedded"], loaded = measure_backend(
                embedded, "embedded", bank, work, settings, config, None, report_progress
            )
            sample_ids = loaded.sample_ids
            row_sample = loaded.row_sample
            reset_peak()  # the backend's peak is read: what follows gets its own (after_peak_mib)
            churn = churn_baseline(embedded, settings, report_progress)
            initial = None
            if not config.skip_neo4j and launcher_available() is None:  # neo4j-admin runs from the launcher's jars
                initial = initial_import(embedded, work / "neo4j-initial", report_progress)
        figures = measure_store(work / "embedded", report_progress)
        figures = figures.model_copy(update={"after_peak_mib": process_peak_mib()})
        backends["embedded"] = backends["embedded"].model_copy(update={"store": figures})
        gc.collect()
        _checkpoint(config, backends)

        row_by_row: RowByRow | None = None
        neo4j_uri = config.neo4j_uri or os.environ.get(NEO4J_URI_VARIABLE)
        started_here = False
        if not config.skip_neo4j:
            reset_peak()
            with neo4j_server(neo4j_uri, config, report_progress) as (uri, jvm_pid):
                started_here = jvm_pid is not None
                neo4j_uri = uri
                from graph.neo4j_store import Neo4jStore

                with Neo4jStore(uri, None, timeout_seconds=settings.neo4j_timeout_seconds) as store:
                    if any(store.counts().nodes.values()):
                        raise StoreError(f"the benchmark needs an empty Neo4j database; {uri} holds data")
                    try:
                        backends["neo4j"], _ = measure_backend(
                            store, "neo4j", bank, work, settings, config, jvm_pid, report_progress, sample_ids
                        )
                        _checkpoint(config, backends)
                        row_by_row = row_by_row_baseline(store, row_sample, settings.batch_size, report_progress)
                    finally:
                        # A server started here goes with its data folder; only someone else's is emptied
                        # (at a million customers, deleting everything takes minutes).
                        if not started_here:
                            report_progress("clear neo4j", 0, 0)
                            store.clear()

        baselines = Baselines(
            neo4j_row_by_row=row_by_row,
            neo4j_initial_import=initial,
            churn_propagation=churn,
            embedded_vs_neo4j=ratios(backends),
        )
        meta = BenchMeta(
            started_at=started_at,
            customers=config.customers,
            seed=config.seed,
            queries_sampled=len(sample_ids),
            bank_rows=sum(summary.files.values()),
            generate_seconds=summary.seconds,
            cpus=os.cpu_count() or 1,
            memory_gib=round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
            python=platform.python_version(),
            neo4j_uri=neo4j_uri if not config.skip_neo4j else None,
            neo4j_started_here=started_here,
        )
        return BenchReport(
            meta=meta,
            backends=backends,
            baselines=baselines,
            targets=targets(backends, baselines),
            total_seconds=round(time.perf_counter() - started, 1),
        )


def bench_settings(settings: Settings, work: Path) -> Settings:
    """The settings a benchmark serves with: its own token and audit files in ``work``, no rate limit."""
    return settings.model_copy(
        update={
            "review_path": work / "review.json",
            "api_tokens_path": work / "api" / "tokens.sqlite",
            "api_audit_path": work / "api" / "audit.jsonl",
            "api_rate_per_second": 1_000_000.0,
            "api_rate_burst": 1_000_000,
        }
    )


def write_results(report: BenchReport, out: Path) -> tuple[Path, Path]:
    """Write ``bench-<customers>-<timestamp>.json`` and ``.md`` into ``out``; return both paths."""
    return write_report_files(out, f"bench-{report.meta.customers}", report, render_markdown(report))


def write_report_files(out: Path, name: str, report: BaseModel, markdown: str) -> tuple[Path, Path]:
    """Write ``<name>-<timestamp>.json`` (the report) and ``.md`` into ``out``; return both paths."""
    out.mkdir(parents=True, exist_ok=True)
    stem = out / f"{name}-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    json_path, markdown_path = stem.with_suffix(".json"), stem.with_suffix(".md")
    json_path.write_text(report.model_dump_json(indent=2) + "\n", encoding="utf-8")
    markdown_path.write_text(markdown, encoding="utf-8")
    return json_path, markdown_path


# -- one backend -----------------------------------------------------------------------------------


@dataclass
class Loaded:
    sample_ids: list[str]
    row_sample: list[NodeRecord]


def measure_backend(
    store: GraphStore,
    name: str,
    bank: Path,
    work: Path,
    settings: Settings,
    config: BenchConfig,
    jvm_pid: int | None,
    progress: Progress,
    sample_ids: list[str] | None = None,
) -> tuple[BackendResult, Loaded]:
    """Load the bank into ``store``, analyse it, time the queries and the API; the same steps on every backend."""
    load = measure_load(store, name, bank, work, settings, progress)
    loaded = Loaded(sample_ids or [], [])
    if sample_ids is None:
        customers = list(store.nodes(NodeLabel.CUSTOMER))
        chooser = random.Random(config.seed)
        loaded.sample_ids = sorted(chooser.sample([c.id for c in customers], min(config.queries, len(customers))))
        loaded.row_sample = chooser.sample(customers, min(config.row_by_row_rows, len(customers)))
        del customers
    progress(f"{name}: analyze", 0, 0)
    began = time.perf_counter()
    analysed = analyze(store, settings)
    analyze_result = AnalyzeResult(seconds=round(time.perf_counter() - began, 3), steps=analysed.seconds)
    queries = measure_queries(store, name, loaded.sample_ids, progress)
    api = measure_api(store, name, loaded.sample_ids, settings, config, progress)
    memory = MemoryResult(
        process_peak_mib=process_peak_mib() or 0.0,
        neo4j_peak_mib=process_peak_mib(jvm_pid) if jvm_pid is not None else None,
    )
    result = BackendResult(backend=name, load=load, analyze=analyze_result, queries=queries, api=api, memory=memory)
    return result, loaded


def measure_load(
    store: GraphStore, name: str, bank: Path, work: Path, settings: Settings, progress: Progress
) -> LoadResult:
    """Run ``load_mapping`` through a timing wrapper; split wall time by source kind and into loader and store."""
    timed = TimedStore(store)
    first_seen: dict[str, tuple[float, float]] = {}  # source -> (clock, store seconds so far) when it started

    def on_progress(source: str, done: int, total: int) -> None:
        first_seen.setdefault(source, (time.perf_counter(), timed.write_seconds))
        progress(f"{name}: load {source}", done, total)

    began = time.perf_counter()
    report = load_mapping(
        timed,
        bank / "mapping.yaml",
        work / f"load-{name}",
        on_progress,
        settings=settings,
        review_path=work / f"review-{name}.json",
    )
    ended, store_total = time.perf_counter(), timed.write_seconds
    seconds = ended - began
    kinds: dict[str, LoadPhase] = {}
    boundaries: list[tuple[str, float, float]] = []  # kind, clock, store seconds at its first source
    for source in report.sources:
        kind = ROLE_KINDS[source.role]
        if kind not in [b[0] for b in boundaries]:
            clock, store_seconds = (
                (began, 0.0) if kind == "customer_nodes" else first_seen.get(source.name, (ended, store_total))
            )
            boundaries.append((kind, clock, store_seconds))
    boundaries.sort(key=lambda item: item[1])
    for index, (kind, clock, store_seconds) in enumerate(boundaries):
        next_clock, next_store = (
            (boundaries[index + 1][1], boundaries[index + 1][2])
            if index + 1 < len(boundaries)
            else (ended, store_total)
        )
        rows = sum(source.rows_read for source in report.sources if ROLE_KINDS[source.role] == kind)
        phase_seconds = max(next_clock - clock, 1e-9)
        kinds[kind] = LoadPhase(
            rows=rows,
            seconds=round(phase_seconds, 3),
            rows_per_second=round(rows / phase_seconds, 1),
            store_seconds=round(next_store - store_seconds, 3),
        )
    for kind in LOAD_KINDS:
        kinds.setdefault(kind, LoadPhase(rows=0, seconds=0.0, rows_per_second=0.0, store_seconds=0.0))
    rows = sum(source.rows_read for source in report.sources)
    return LoadResult(
        rows=rows,
        seconds=round(seconds, 3),
        rows_per_second=round(rows / seconds, 1),
        loader_seconds=round(seconds - store_total, 3),
        store_seconds=round(store_total, 3),
        kinds=kinds,
    )


def measure_queries(store: GraphStore, name: str, customer_ids: list[str], progress: Progress) -> dict[str, Any]:
    """Latency of every question over the sampled customers, after a few unmeasured warm-up calls."""
    questions = {**QUESTIONS, "search": _search_by_name(store, customer_ids)}
    found = {}
    for question_name in QUERY_NAMES:
        question = questions[question_name]
        for customer_id in customer_ids[:WARMUP_QUERIES]:
            _ask(question, store, customer_id)
        durations = []
        stage = f"{name}: {question_name}"
        for done, customer_id in enumerate(customer_ids, start=1):
            began = time.perf_counter()
            _ask(question, store, customer_id)
            durations.append(time.perf_counter() - began)
            if done % 100 == 0 or done == len(customer_ids):
                progress(stage, done, len(customer_ids))
        found[question_name] = latency(durations)
    return found


def _search_by_name(store: GraphStore, customer_ids: list[str]) -> Question:
    """Search for each sampled customer by its full name, as a manager would; the names are read beforehand."""
    names: dict[str, str] = {}
    for customer_id in customer_ids:
        record = store.get_node(NodeLabel.CUSTOMER, customer_id)
        name = record.properties.get("name") if record is not None else None
        names[customer_id] = name if isinstance(name, str) and name.strip() else customer_id
    return lambda store, customer_id: search_customers(store, names[customer_id][:MAX_QUERY_LENGTH])


def _ask(question: Question, store: GraphStore, customer_id: str) -> None:
    # A refused question (no such customer, no score yet) is still an answer, and is timed.
    with contextlib.suppress(CrmGraphError):
        question(store, customer_id)


def measure_api(
    store: GraphStore, name: str, customer_ids: list[str], settings: Settings, config: BenchConfig, progress: Progress
) -> ApiResult:
    """Requests per second of a uvicorn server on a free loopback port, loaded by a separate process."""
    import uvicorn

    from api.access import Role
    from api.app import create_app
    from api.serving import server_config, server_name
    from api.tokens import TokenRegistry

    registry = TokenRegistry(settings.api_tokens_path)
    try:
        token, _ = registry.issue(Role.ADMIN, name=f"bench-{name}")
    finally:
        registry.close()
    app = create_app(settings, store)
    port = _free_port()
    server = uvicorn.Server(server_config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, name="bench-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise StoreError("the benchmark's API server did not start")
        time.sleep(0.05)
    paths = [template.format(id=customer_id) for customer_id in customer_ids for template in config.api_paths]
    plan = {
        "base_url": f"http://127.0.0.1:{port}",
        "paths": paths,
        "concurrency": config.api_concurrency,
        "max_requests": config.api_max_requests,
        "max_seconds": config.api_max_seconds,
    }
    progress(f"{name}: API load", 0, 0)
    server_before, client_before = _cpu_seconds(resource.RUSAGE_SELF), _cpu_seconds(resource.RUSAGE_CHILDREN)
    try:
        with tempfile.TemporaryDirectory(prefix="crm-graph-loadgen-") as folder:
            plan_file, result_file = Path(folder) / "plan.json", Path(folder) / "result.json"
            plan_file.write_text(json.dumps(plan), encoding="utf-8")
            completed = subprocess.run(
                [sys.executable, "-m", "bench.loadgen", str(plan_file), str(result_file)],
                capture_output=True,
                text=True,
                timeout=config.api_max_seconds + 120,
                env={**os.environ, "CRM_GRAPH_BENCH_TOKEN": token},
                cwd=Path(__file__).resolve().parents[1],
            )
            if completed.returncode != 0:
                raise StoreError(f"the load generator failed: {completed.stderr.strip()[-500:]}")
            measured = json.loads(result_file.read_text(encoding="utf-8"))
    finally:
        server_cpu = _cpu_seconds(resource.RUSAGE_SELF) - server_before
        client_cpu = _cpu_seconds(resource.RUSAGE_CHILDREN) - client_before
        server.should_exit = True
        thread.join(timeout=30)
    progress(f"{name}: API load", 1, 1)
    return ApiResult(
        requests=measured["requests"],
        errors=measured["errors"],
        seconds=round(measured["seconds"], 3),
        requests_per_second=round(measured["requests"] / max(measured["seconds"], 1e-9), 1),
        concurrency=config.api_concurrency,
        latency=latency(measured["durations"]),
        status_counts=measured["status_counts"],
        server=server_name(),
        server_cpu_ms_per_request=round(1000.0 * server_cpu / max(measured["requests"], 1), 3),
        client_cpu_ms_per_request=round(1000.0 * client_cpu / max(measured["requests"], 1), 3),
    )


def _cpu_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


# -- plumbing --------------------------------------------------------------------------------------


def _checkpoint(config: BenchConfig, backends: dict[str, BackendResult]) -> None:
    if config.checkpoint is not None:
        document = {"customers": config.customers, "backends": {n: r.model_dump() for n, r in backends.items()}}
        config.checkpoint.parent.mkdir(parents=True, exist_ok=True)
        config.checkpoint.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


@contextlib.contextmanager
def work_dir(path: Path | None) -> Iterator[Path]:
    """``path`` (created if missing, kept), or a temporary folder removed afterwards."""
    if path is not None:
        path.mkdir(parents=True, exist_ok=True)
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="crm-graph-bench-") as folder:
        yield Path(folder)


@contextlib.contextmanager
def neo4j_server(uri: str | None, config: BenchConfig, progress: Progress) -> Iterator[tuple[str, int | None]]:
    """The given server, or a local one started for the run: (Bolt URI, JVM pid when started here)."""
    if uri:
        yield uri, None
        return
    from graph.neo4j_launcher import LocalNeo4j

    heap, pagecache = neo4j_memory(config.customers)
    progress("start neo4j", 0, 0)
    with LocalNeo4j(
        heap=config.neo4j_heap or heap,
        settings={"server.memory.pagecache.size": config.neo4j_pagecache or pagecache},
    ) as server:
        progress("start neo4j", 1, 1)
        yield server.uri, server.pid


def neo4j_memory(customers: int) -> tuple[str, str]:
    """Heap and page cache for a local Neo4j: 2g each up to 250,000 customers, 4g and 6g beyond.

    A million customers make a store of several GiB; with a 2g page cache the queries would measure the disk.
    """
    return ("2g", "2g") if customers <= 250_000 else ("4g", "6g")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
