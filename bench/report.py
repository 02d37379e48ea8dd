"""What a benchmark run measured (pydantic models) and its markdown; the verdicts drawn from it are in
:mod:`bench.targets`."""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict

QUERY_NAMES = ("customer_360", "network_2hop", "household", "cross_sell", "churn_risk", "search")
LOAD_KINDS = ("customer_nodes", "other_nodes", "ties")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Latency(_Model):
    count: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float


class LoadPhase(_Model):
    """One kind of source: rows read, wall seconds, and the part of them spent inside ``store.write``."""

    rows: int
    seconds: float
    rows_per_second: float
    store_seconds: float


class LoadResult(_Model):
    rows: int
    seconds: float
    rows_per_second: float
    loader_seconds: float
    """Wall time outside ``store.write`` (and the waits to hand a batch to the store's writer thread): reading
    files, transforming, resolving entities."""
    store_seconds: float
    kinds: dict[str, LoadPhase]


class AnalyzeResult(_Model):
    seconds: float
    steps: dict[str, float]


class ApiResult(_Model):
    requests: int
    errors: int
    seconds: float
    requests_per_second: float
    concurrency: int
    latency: Latency
    status_counts: dict[str, int]
    server: str | None = None
    """What served the API (uvicorn's version, HTTP parser and event loop); None in reports made before it was kept."""
    server_cpu_ms_per_request: float | None = None
    """CPU time of the serving process (every thread) over the requests answered: robust to a busy machine."""
    client_cpu_ms_per_request: float | None = None
    """The load generator's CPU time per request: it shares the machine's cores with the server."""


class MemoryResult(_Model):
    process_peak_mib: float
    """RSS high-water mark of the benchmark process while this backend was measured."""
    neo4j_peak_mib: float | None = None
    """RSS high-water mark of the Neo4j JVM (None for the embedded store or a server started elsewhere)."""


class OpenRun(_Model):
    """One read-only open of the embedded store in a fresh process."""

    seconds: float
    cpu_seconds: float
    rss_mib: float
    """Resident memory of that process once the store is open."""
    rss_added_mib: float
    """What opening added to it (the process had imported the store's code before)."""
    anon_added_mib: float | None = None
    """Of that, the process's own memory (None in reports made before it was kept) ..."""
    file_added_mib: float | None = None
    """... and pages of the memory-mapped snapshot files it touched: the operating system's file cache, shared
    with other processes mapping the same files and given back under memory pressure without being written."""
    first_lookup_ms: dict[str, float] | None = None
    """CPU milliseconds of the first node lookup by id of these labels after opening: it builds the label's id index
    when the snapshot holds none (None in reports made before it was kept)."""


class BulkWriteRun(_Model):
    """One ``bulk_write`` call of the store's whole content as prepared Arrow columns."""

    rows: int
    seconds: float
    cpu_seconds: float
    rows_per_second: float
    rows_per_cpu_second: float


class StoreFigures(_Model):
    """The embedded store's own figures (see :mod:`bench.store_figures`)."""

    nodes: int
    ties: int
    disk_mib: float
    opens: list[OpenRun]
    bulk_write_into_empty: BulkWriteRun
    bulk_write_unchanged: BulkWriteRun
    """The same tables written again: every row matched and found unchanged."""
    bulk_write_per_table: BulkWriteRun | None = None
    """The tables written into an empty store one call per label and tie type, as a loader's first load writes
    (see :func:`bench.store_figures.bulk_write_per_table`); None in reports made before it."""
    small_writes: BulkWriteRun | None = None
    """20 writes of 5,000 changed customers into the full store (see :func:`bench.store_figures.small_writes`);
    None in reports made before it and for a bank too small."""
    after_peak_mib: float | None = None
    """The benchmark process's peak resident memory from the embedded backend's own peak reading to the end of
    these figures (the churn baseline, the import files, the prepared columns and bulk writes): steps no other
    peak covers. None in reports made before it."""


class BackendResult(_Model):
    backend: str
    load: LoadResult
    analyze: AnalyzeResult
    queries: dict[str, Latency]
    api: ApiResult
    memory: MemoryResult
    store: StoreFigures | None = None
    """The embedded store's size, opening and bulk write; None for Neo4j and in reports made before them."""


class RowByRow(_Model):
    """Neo4j: the same customer rows merged one auto-commit transaction each, and in ``UNWIND`` batches."""

    rows: int
    row_by_row_rows_per_second: float
    batched_rows_per_second: float
    ratio: float
    bare_unwind_rows_per_second: float | None = None
    """The same rows through a bare ``UNWIND ... MERGE ... SET`` (no checks, no counts): the server's own rate,
    for reference against ``store.write``'s batches. None in reports made before it was measured."""


class InitialImport(_Model):
    """Neo4j's first load offline (``crm-graph load --initial``): the loaded embedded store written as import
    files, then ``neo4j-admin database import full`` (its JVM's start included) into a fresh folder."""

    nodes: int
    ties: int
    files_seconds: float
    import_seconds: float
    rows_per_second: float
    """Nodes and ties per second of the import tool's run."""


class ChurnPropagation(_Model):
    customers: int
    ties: int
    loop_seconds: float
    sparse_seconds: float
    ratio: float


class Baselines(_Model):
    neo4j_row_by_row: RowByRow | None
    neo4j_initial_import: InitialImport | None = None
    churn_propagation: ChurnPropagation
    embedded_vs_neo4j: dict[str, float]
    """Neo4j time over embedded time (load: embedded rows/s over Neo4j rows/s); above 1 means embedded is faster."""


class Target(_Model):
    name: str
    target: str
    measured: float | None
    unit: str
    met: bool | None
    """None when the backend was not measured."""


class BenchMeta(_Model):
    started_at: str
    customers: int
    seed: int
    queries_sampled: int
    bank_rows: int
    generate_seconds: float
    cpus: int
    memory_gib: float
    python: str
    neo4j_uri: str | None
    neo4j_started_here: bool


class BenchReport(_Model):
    meta: BenchMeta
    backends: dict[str, BackendResult]
    baselines: Baselines
    targets: list[Target]
    total_seconds: float


class LoadedStoreReport(_Model):
    """``bench --loaded`` of an embedded store: its own figures, the queries and the API, no load or analyze."""

    started_at: str
    customers: int
    queries_sampled: int
    cpus: int
    python: str
    store: StoreFigures
    queries: dict[str, Latency]
    api: ApiResult
    targets: list[Target]
    total_seconds: float


def _number(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


def _ratio(report: BenchReport, name: str) -> str:
    value = report.baselines.embedded_vs_neo4j.get(name)
    return "–" if value is None else f"{value:,.2f}x"


def render_markdown(report: BenchReport) -> str:
    """The run as markdown: one row per measure, a column per backend, and the Neo4j / embedded ratio."""
    meta = report.meta
    embedded = report.backends.get("embedded")
    neo4j = report.backends.get("neo4j")
    lines = [
        f"# crm-graph benchmark, {meta.customers:,} customers",
        "",
        f"Run {meta.started_at}; {meta.cpus} CPUs, {meta.memory_gib:.0f} GiB; Python {meta.python}; "
        f"seed {meta.seed}; {meta.bank_rows:,} source rows generated in {meta.generate_seconds:.1f} s; "
        f"latencies over {meta.queries_sampled:,} sampled customers; whole run {report.total_seconds:.0f} s.",
        "",
        "| measure | embedded | neo4j | neo4j / embedded |",
        "|---|---:|---:|---:|",
    ]

    def row(label: str, pick: object, key: str, digits: int = 1) -> None:
        values = [pick(result) if result is not None else None for result in (embedded, neo4j)]  # type: ignore[operator]
        lines.append(
            f"| {label} | {_number(values[0], digits)} | {_number(values[1], digits)} | {_ratio(report, key)} |"
        )

    row("load, all rows (rows/s)", lambda r: r.load.rows_per_second, "load", 0)
    for kind in LOAD_KINDS:
        row(
            f"load, {kind.replace('_', ' ')} (rows/s)",
            lambda r, k=kind: r.load.kinds[k].rows_per_second,
            f"load_{kind}",
            0,
        )
    row("load, share in store.write (%)", lambda r: 100.0 * r.load.store_seconds / r.load.seconds, "-", 0)
    for name in QUERY_NAMES:
        for pct in ("p50", "p95", "p99"):
            row(f"{name} {pct} (ms)", lambda r, n=name, p=pct: getattr(r.queries[n], f"{p}_ms"), f"{name}_{pct}", 2)
    row("analyze (s)", lambda r: r.analyze.seconds, "analyze", 1)
    row("API (requests/s)", lambda r: r.api.requests_per_second, "api", 0)
    row("API p99 (ms)", lambda r: r.api.latency.p99_ms, "api_p99", 1)
    row("peak RSS, benchmark process (MiB)", lambda r: r.memory.process_peak_mib, "-", 0)
    row("peak RSS, Neo4j JVM (MiB)", lambda r: r.memory.neo4j_peak_mib, "-", 0)

    if embedded is not None:
        lines += ["", *render_api_cpu(embedded.api, "embedded")]
    if neo4j is not None:
        lines += render_api_cpu(neo4j.api, "Neo4j")
    if embedded is not None and embedded.store is not None:
        lines += ["", *render_store(embedded.store)]

    lines += ["", "## Baselines", "", "| baseline | slow | fast | ratio |", "|---|---:|---:|---:|"]
    rbr = report.baselines.neo4j_row_by_row
    if rbr is not None:
        lines.append(
            f"| Neo4j MERGE, {rbr.rows:,} customer rows: one auto-commit per row vs `UNWIND` batches (rows/s) "
            f"| {_number(rbr.row_by_row_rows_per_second, 0)} | {_number(rbr.batched_rows_per_second, 0)} "
            f"| {rbr.ratio:,.1f}x |"
        )
        if rbr.bare_unwind_rows_per_second is not None:
            lines.append(
                f"| Neo4j, the same rows: bare `UNWIND ... MERGE` vs `store.write` batches (checks, counts) (rows/s) "
                f"| {_number(rbr.batched_rows_per_second, 0)} | {_number(rbr.bare_unwind_rows_per_second, 0)} "
                f"| {rbr.bare_unwind_rows_per_second / max(rbr.batched_rows_per_second, 1e-9):,.2f}x |"
            )
    initial = report.baselines.neo4j_initial_import
    if initial is not None:
        lines.append(
            f"| Neo4j first load of {initial.nodes + initial.ties:,} nodes and ties: `store.write` load vs "
            f"neo4j-admin import, its start included (rows/s; files written in {initial.files_seconds:.1f} s) "
            f"| {_number(neo4j.load.rows_per_second if neo4j else None, 0)} | {_number(initial.rows_per_second, 0)} "
            f"| {initial.rows_per_second / neo4j.load.rows_per_second if neo4j else math.nan:,.1f}x |"
        )
    churn = report.baselines.churn_propagation
    lines.append(
        f"| churn spreading over {churn.customers:,} customers, {churn.ties:,} ties: Python loop vs scipy sparse (s) "
        f"| {churn.loop_seconds:.3f} | {churn.sparse_seconds:.3f} | {churn.ratio:,.1f}x |"
    )

    lines += ["", *render_targets(report.targets)]
    return "\n".join(lines) + "\n"


def render_targets(found: list[Target]) -> list[str]:
    lines = ["## Targets (set for 1,000,000 customers)", "", "| target | measured | met |", "|---|---:|---|"]
    for target in found:
        met = "–" if target.met is None else ("yes" if target.met else "**no**")
        lines.append(f"| {target.name}: {target.target} | {_number(target.measured, 1)} {target.unit} | {met} |")
    return lines


def render_api_cpu(api: ApiResult, backend: str) -> list[str]:
    """One line on what the API's requests cost in CPU time (robust to a busy machine, unlike requests/s)."""
    if api.server_cpu_ms_per_request is None:
        return []
    return [
        f"API on {backend}: {api.requests:,} requests by {api.concurrency} clients ({api.server or 'uvicorn'}); "
        f"server CPU {api.server_cpu_ms_per_request:.2f} ms a request, load generator "
        f"{api.client_cpu_ms_per_request or 0:.2f} ms.",
    ]


def _split(run: OpenRun) -> str:
    if run.anon_added_mib is None or run.file_added_mib is None:
        return ""
    return f": {run.anon_added_mib:,.0f} own, {run.file_added_mib:,.0f} mapped file pages"


def render_store(store: StoreFigures) -> list[str]:
    """The embedded store's size, opening (each run) and bulk write as a table."""
    opens = "; ".join(f"{run.seconds:,.2f} s ({run.cpu_seconds:,.2f} s CPU)" for run in store.opens)
    resident = "; ".join(f"{run.rss_mib:,.0f} ({run.rss_added_mib:,.0f} added{_split(run)})" for run in store.opens)
    lines = [
        f"## Embedded store: {store.nodes:,} nodes, {store.ties:,} ties",
        "",
        "| measure | value |",
        "|---|---:|",
        f"| size on disk (MiB) | {store.disk_mib:,.1f} |",
        f"| open, read-only, in a fresh process | {opens} |",
        f"| resident memory after open (MiB) | {resident} |",
    ]
    if store.after_peak_mib is not None:
        lines.append(
            "| peak resident memory of the benchmark process after the embedded backend's figures "
            f"(churn baseline, import files, these figures) (MiB) | {store.after_peak_mib:,.0f} |"
        )
    lookups = [run.first_lookup_ms for run in store.opens if run.first_lookup_ms]
    if lookups:
        each = "; ".join(", ".join(f"{label} {ms:,.2f}" for label, ms in found.items()) for found in lookups)
        lines.append(f"| first lookup of a node by id after open (CPU ms) | {each} |")
    runs = [
        ("bulk write of every row into an empty store", store.bulk_write_into_empty),
        ("bulk write of the same rows again (unchanged)", store.bulk_write_unchanged),
    ]
    if store.bulk_write_per_table is not None:
        runs.append(("bulk write into an empty store, one call per label and tie type", store.bulk_write_per_table))
    if store.small_writes is not None:
        runs.append(("20 bulk writes of changed customers into the full store", store.small_writes))
    for label, run in runs:
        lines.append(
            f"| {label}: {run.rows:,} rows in {run.seconds:,.2f} s ({run.cpu_seconds:,.2f} s CPU) "
            f"| {run.rows_per_second:,.0f} rows/s ({run.rows_per_cpu_second:,.0f} per CPU s) |"
        )
    return lines
