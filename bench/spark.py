"""``crm-graph bench --engine spark``: time ``analyze --engine spark`` on a generated bank, with the peak memory of
the Python driver and of Spark's JVM.

The bank is loaded into Neo4j (started here unless ``CRM_GRAPH_BENCH_NEO4J_URI`` names an empty server), so the
Python process holds no graph: what its peak shows is the export's row groups and the write-back's batches,
which is what must stay flat as the bank grows. With ``--skip-neo4j`` the embedded store is measured instead;
its graph lives in the driver's process, so the driver's peak then includes the store.

``--loaded`` measures the bank already loaded in the store the settings name, as it is (nothing is generated,
loaded or cleared): a big bank is loaded once beforehand, and only analyze is timed. ``--parquet DIR`` reads an
export made beforehand (``crm-graph export --format parquet``), so that the export and the rest can be timed
apart.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from bench.harness import NEO4J_URI_VARIABLE, BenchConfig, measure_load, neo4j_server, work_dir, write_report_files
from bench.measure import Progress, process_cpu_seconds, process_peak_mib, reset_peak
from graph.embedded import EmbeddedStore
from graph.errors import StoreError
from graph.settings import Settings
from graph.store import GraphStore
from loaders.generator import generate
from queries.analytics.spark import SparkSettings, analyze_on_spark
from queries.analytics.spark.session import spark_jvm_pid


class SparkStepFigures(BaseModel):
    """One step of a measured run: its wall and CPU seconds, and the peaks reached during it."""

    model_config = ConfigDict(frozen=True)

    step: str
    seconds: float
    driver_cpu_seconds: float
    jvm_cpu_seconds: float | None
    driver_peak_mib: float
    jvm_peak_mib: float | None
    jobs: int | None = None
    """Spark jobs the step ran (each pays Spark's fixed costs: planning, code generation, scheduling)."""


class SparkBenchReport(BaseModel):
    """One run of the Spark engine on a generated bank."""

    model_config = ConfigDict(frozen=True)

    started_at: str
    customers: int
    seed: int | None
    """None for a bank loaded beforehand (``--loaded``)."""
    backend: str
    master: str
    spark_memory: str
    cpus: int
    load_seconds: float | None
    parquet: str | None = None
    """The export read instead of exporting the store in the run."""
    analyze_seconds: float
    steps: dict[str, float]
    driver_cpu_seconds: float | None = None
    """CPU seconds of the Python driver during analyze (its own, not Spark's Python workers')."""
    jvm_cpu_seconds: float | None = None
    """CPU seconds of Spark's JVM and of the Python workers it started (:func:`spark_cpu_seconds`), during
    analyze."""
    driver_before_mib: float
    driver_peak_mib: float
    jvm_peak_mib: float | None
    neo4j_peak_mib: float | None
    step_figures: dict[str, SparkStepFigures] = {}
    """Each step's own clocks and memory high-water marks (reset as each step ends)."""


def run_spark_bench(
    config: BenchConfig, spark: SparkSettings, progress: Progress | None = None, steps_log: Path | None = None
) -> SparkBenchReport:
    """Generate a bank, load it, and measure one ``analyze --engine spark`` on it."""
    report = progress or (lambda _stage, _done, _total: None)
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    with work_dir(config.work_dir) as work:
        report("generate bank", 0, 0)
        bank = work / "bank"
        generate(config.customers, config.seed, bank)
        report("generate bank", 1, 1)
        settings = config.settings.model_copy(
            update={"review_path": work / "review.json", "model_card_path": work / "model-card.json"}
        )
        if config.skip_neo4j:
            with EmbeddedStore(work / "embedded.sqlite") as store:
                return _measure(
                    store, "embedded", bank, work, settings, config, spark, None, started_at, report, steps_log
                )
        uri = config.neo4j_uri or os.environ.get(NEO4J_URI_VARIABLE)
        with neo4j_server(uri, config, report) as (bolt, jvm_pid):
            from graph.neo4j_store import Neo4jStore

            with Neo4jStore(bolt, None, timeout_seconds=max(settings.neo4j_timeout_seconds, 120)) as neo4j:
                if any(neo4j.counts().nodes.values()):
                    raise StoreError(f"the benchmark needs an empty Neo4j database; {bolt} holds data")
                try:
                    return _measure(
                        neo4j, "neo4j", bank, work, settings, config, spark, jvm_pid, started_at, report, steps_log
                    )
                finally:
                    if jvm_pid is None:
                        neo4j.clear()


def _measure(
    store: GraphStore,
    backend: str,
    bank: Path,
    work: Path,
    settings: Settings,
    config: BenchConfig,
    spark: SparkSettings,
    neo4j_pid: int | None,
    started_at: str,
    report: Progress,
    steps_log: Path | None,
) -> SparkBenchReport:
    load = measure_load(store, backend, bank, work, settings, report)
    measured = measure_spark_analyze(store, backend, settings, spark, report, neo4j_pid, steps_log)
    return measured.model_copy(update={"started_at": started_at, "seed": config.seed, "load_seconds": load.seconds})


def measure_spark_analyze(
    store: GraphStore,
    backend: str,
    settings: Settings,
    spark: SparkSettings,
    progress: Progress | None = None,
    neo4j_pid: int | None = None,
    steps_log: Path | None = None,
) -> SparkBenchReport:
    """One measured ``analyze --engine spark`` of the bank in ``store`` as it is (``--loaded``).

    With ``steps_log``, each step's figures are appended to that file as one JSON line as the step ends, so a run
    stopped before its end (a measurement window) still leaves the figures of the steps it finished."""
    report = progress or (lambda _stage, _done, _total: None)
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    reset_peak()
    before = process_peak_mib() or 0.0
    running = spark_jvm_pid()  # a session started earlier in this process: count only this run's CPU
    jvm_before = (spark_cpu_seconds(running) or 0.0) if running is not None else 0.0
    clock = StepClock(jvm_before, steps_log)
    began, cpu_began = time.perf_counter(), time.process_time()
    analysed = analyze_on_spark(store, settings, spark, report, step_ended=clock.step_ended)
    seconds, driver_cpu = time.perf_counter() - began, time.process_time() - cpu_began
    jvm = spark_jvm_pid()
    jvm_cpu = spark_cpu_seconds(jvm) if jvm is not None else None
    steps = list(clock.figures.values())
    jvm_peaks = [step.jvm_peak_mib for step in steps if step.jvm_peak_mib is not None]
    return SparkBenchReport(
        started_at=started_at,
        customers=analysed.customers,
        seed=None,
        backend=backend,
        master=spark.master,
        spark_memory=spark.driver_memory,
        cpus=os.cpu_count() or 1,
        load_seconds=None,
        parquet=str(spark.parquet) if spark.parquet else None,
        analyze_seconds=round(seconds, 3),
        steps=analysed.seconds,
        driver_cpu_seconds=round(driver_cpu, 2),
        jvm_cpu_seconds=None if jvm_cpu is None else round(jvm_cpu - jvm_before, 2),
        driver_before_mib=before,
        driver_peak_mib=max([before, process_peak_mib() or 0.0, *(step.driver_peak_mib for step in steps)]),
        jvm_peak_mib=max(jvm_peaks) if jvm_peaks else None,
        neo4j_peak_mib=process_peak_mib(neo4j_pid) if neo4j_pid is not None else None,
        step_figures=clock.figures,
    )


def spark_cpu_seconds(jvm_pid: int) -> float | None:
    """CPU seconds of Spark's JVM and of every process under it so far; None when the JVM's cannot be read.

    The Python workers (row UDFs, ``mapPartitions``) are children of PySpark's worker daemon, a child of the
    JVM that lives as long as the session: their CPU reaches the JVM's own clock only when the session ends,
    so a step's figure would leave it out. Reading the living descendants counts it as the step ends."""
    own = process_cpu_seconds(jvm_pid)
    if own is None:
        return None
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue  # gone meanwhile
            children.setdefault(parent, []).append(int(entry.name))
    total, waiting = own, list(children.get(jvm_pid, []))
    while waiting:
        pid = waiting.pop()
        total += process_cpu_seconds(pid) or 0.0  # its own and its reaped children's
        waiting.extend(children.get(pid, []))
    return round(total, 2)


def spark_jobs_started() -> int | None:
    """How many jobs the running session has started so far; None without a session.

    Job ids count up from 0, so the highest known one tells, even once Spark has forgotten old jobs (it keeps
    ``spark.ui.retainedJobs``)."""
    from pyspark.sql import SparkSession

    session = SparkSession.getActiveSession()
    if session is None:
        return None
    return max(session.sparkContext.statusTracker().getJobIdsForGroup(), default=-1) + 1


class StepClock:
    """Reads the driver's and the JVM's clocks and peaks as each step ends, then resets the peaks."""

    def __init__(self, jvm_cpu_before: float, log: Path | None) -> None:
        self.figures: dict[str, SparkStepFigures] = {}
        self.log = log
        self.wall, self.driver_cpu, self.jvm_cpu = time.perf_counter(), time.process_time(), jvm_cpu_before
        self.jobs = spark_jobs_started() or 0

    def step_ended(self, step: str) -> None:
        wall, driver_cpu = time.perf_counter(), time.process_time()
        jvm = spark_jvm_pid()  # none before the session starts (the export step)
        jvm_cpu = spark_cpu_seconds(jvm) if jvm is not None else None
        jobs = spark_jobs_started()
        figures = SparkStepFigures(
            step=step,
            seconds=round(wall - self.wall, 2),
            driver_cpu_seconds=round(driver_cpu - self.driver_cpu, 2),
            jvm_cpu_seconds=None if jvm_cpu is None else round(jvm_cpu - self.jvm_cpu, 2),
            driver_peak_mib=process_peak_mib() or 0.0,
            jvm_peak_mib=process_peak_mib(jvm) if jvm is not None else None,
            jobs=None if jobs is None else jobs - self.jobs,
        )
        self.figures[step] = figures
        if self.log is not None:
            with self.log.open("a", encoding="utf-8") as out:
                out.write(figures.model_dump_json() + "\n")
        reset_peak()
        if jvm is not None:
            reset_peak(jvm)
        self.jvm_cpu = jvm_cpu if jvm_cpu is not None else self.jvm_cpu
        self.jobs = jobs if jobs is not None else self.jobs
        self.wall, self.driver_cpu = time.perf_counter(), time.process_time()


def render_spark_markdown(result: SparkBenchReport) -> str:
    """The run as a short markdown table."""
    seed = "loaded beforehand" if result.seed is None else f"seed {result.seed}"
    rows = [
        ("bank", f"{result.customers:,} customers ({seed}) on {result.backend}"),
        ("Spark", f"{result.master}, driver JVM heap {result.spark_memory}, {result.cpus} CPUs"),
        ("load", "loaded beforehand" if result.load_seconds is None else f"{result.load_seconds:,.1f} s"),
        ("export", f"read beforehand from {result.parquet}" if result.parquet else "in the run (step export)"),
        ("analyze --engine spark", f"{result.analyze_seconds:,.1f} s"),
        *((f"  {step}", f"{seconds:,.1f} s") for step, seconds in result.steps.items()),
        (
            "CPU: Python driver / Spark JVM",
            f"{_seconds(result.driver_cpu_seconds)} / {_seconds(result.jvm_cpu_seconds)}",
        ),
        ("Python driver peak", f"{result.driver_peak_mib:,.0f} MiB (before: {result.driver_before_mib:,.0f} MiB)"),
        ("Spark JVM peak", "-" if result.jvm_peak_mib is None else f"{result.jvm_peak_mib:,.0f} MiB"),
        ("Neo4j JVM peak", "-" if result.neo4j_peak_mib is None else f"{result.neo4j_peak_mib:,.0f} MiB"),
    ]
    lines = [
        f"# Spark engine, {result.customers:,} customers ({result.started_at})",
        "",
        "| measure | value |",
        "|---|---|",
    ]
    lines.extend(f"| {name} | {value} |" for name, value in rows)
    if result.step_figures:
        lines += [
            "",
            "| step | wall s | driver CPU s | JVM CPU s | jobs | driver peak MiB | JVM peak MiB |",
            "|---|---|---|---|---|---|---|",
        ]
        lines.extend(
            f"| {step.step} | {step.seconds:,.1f} | {step.driver_cpu_seconds:,.1f} | {_number(step.jvm_cpu_seconds)} "
            f"| {_number(step.jobs, 0)} | {step.driver_peak_mib:,.0f} | {_number(step.jvm_peak_mib, 0)} |"
            for step in result.step_figures.values()
        )
    return "\n".join(lines) + "\n"


def _number(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f} s"


def write_spark_results(result: SparkBenchReport, out: Path) -> tuple[Path, Path]:
    """``bench-spark-<customers>-<timestamp>.json`` and ``.md`` in ``out``."""
    return write_report_files(out, f"bench-spark-{result.customers}", result, render_spark_markdown(result))
