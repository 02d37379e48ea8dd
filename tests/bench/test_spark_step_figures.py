"""The Spark benchmark's per-step figures: written as each step ends (so a run stopped early leaves them), and
shown in the markdown report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bench.measure import process_cpu_seconds
from bench.spark import SparkBenchReport, SparkStepFigures, StepClock, render_spark_markdown, spark_cpu_seconds


def test_each_step_is_logged_as_it_ends(tmp_path: Path) -> None:
    log = tmp_path / "steps.jsonl"
    clock = StepClock(0.0, log)
    clock.step_ended("export")
    sum(range(200_000))  # some CPU for the second step
    clock.step_ended("read")
    lines = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert [line["step"] for line in lines] == ["export", "read"] == list(clock.figures)
    for line in lines:
        figures = SparkStepFigures.model_validate(line)
        assert figures.seconds >= 0 and figures.driver_cpu_seconds >= 0 and figures.driver_peak_mib > 0
        assert figures.jvm_cpu_seconds is None and figures.jvm_peak_mib is None  # no Spark session in this process
        assert figures.jobs is None


def test_each_step_counts_the_spark_jobs_it_ran(tmp_path: Path) -> None:
    from queries.analytics.spark.session import spark_session

    session = spark_session("local[1]", "512m", 2)
    try:
        frame = session.range(100)
        frame.count()  # a job before the clock starts is not the step's
        clock = StepClock(0.0, None)
        frame.collect()
        frame.where("id > 50").collect()
        clock.step_ended("two")
        clock.step_ended("none")
    finally:
        session.stop()
    assert clock.figures["two"].jobs == 2
    assert clock.figures["none"].jobs == 0


def test_the_markdown_has_a_row_per_step() -> None:
    step = SparkStepFigures(
        step="pagerank",
        seconds=124.93,
        driver_cpu_seconds=0.58,
        jvm_cpu_seconds=88.5,
        driver_peak_mib=613.1,
        jvm_peak_mib=2570.5,
        jobs=41,
    )
    report = SparkBenchReport(
        started_at="2026-11-30T06:24:54+00:00",
        customers=100_000,
        seed=None,
        backend="embedded",
        master="local[*]",
        spark_memory="2g",
        cpus=2,
        load_seconds=None,
        analyze_seconds=200.0,
        steps={"pagerank": 124.93},
        driver_before_mib=612.5,
        driver_peak_mib=613.1,
        jvm_peak_mib=2570.5,
        neo4j_peak_mib=None,
        step_figures={"pagerank": step},
    )
    markdown = render_spark_markdown(report)
    assert "| step | wall s | driver CPU s | JVM CPU s | jobs | driver peak MiB | JVM peak MiB |" in markdown
    assert "| pagerank | 124.9 | 0.6 | 88.5 | 41 | 613 | 2,570 |" in markdown


def test_spark_cpu_counts_the_living_processes_under_the_jvm() -> None:
    """As Spark's Python workers run under the JVM: a living child's CPU is counted, not only reaped ones'."""
    parent = os.getpid()  # this process stands in for the JVM
    burn = "sum(range(30_000_000)); print('done', flush=True); import time; time.sleep(60)"
    with subprocess.Popen([sys.executable, "-c", burn], stdout=subprocess.PIPE, text=True) as child:
        try:
            assert child.stdout is not None and child.stdout.readline().strip() == "done"
            own, child_cpu = process_cpu_seconds(parent), process_cpu_seconds(child.pid)
            tree = spark_cpu_seconds(parent)
            assert own is not None and child_cpu is not None and tree is not None
            assert child_cpu > 0.1
            assert tree >= own + child_cpu - 0.05  # clock ticks between the readings
        finally:
            child.kill()
    assert spark_cpu_seconds(2**22 + 12345) is None  # no such process
