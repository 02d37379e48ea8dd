"""The benchmark harness end to end on a tiny bank, on both backends: every section is there and sane.

No timing is asserted: the machine running the tests is not the one the targets are for.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from api.cli import app
from bench.growth import growth_rows, read_report, render_growth
from bench.harness import BenchConfig, run_bench, write_results
from bench.report import LOAD_KINDS, QUERY_NAMES, BackendResult, BenchReport, render_store
from tests.bench.conftest import BenchRun


def _numbers(value: Any) -> list[float]:
    if isinstance(value, bool):
        return []
    if isinstance(value, int | float):
        return [float(value)]
    if isinstance(value, dict):
        return [number for item in value.values() for number in _numbers(item)]
    if isinstance(value, list):
        return [number for item in value for number in _numbers(item)]
    return []


@pytest.mark.slow
def test_bench_runs_end_to_end_on_both_backends(neo4j_uri: str, tmp_path: Path) -> None:
    config = BenchConfig(
        customers=300,
        queries=40,
        neo4j_uri=neo4j_uri,
        row_by_row_rows=50,
        api_concurrency=4,
        api_max_requests=60,
        api_max_seconds=5,
        work_dir=tmp_path / "work",
    )
    report = run_bench(config)
    json_path, markdown_path = write_results(report, tmp_path / "results")

    document = json.loads(json_path.read_text(encoding="utf-8"))
    assert BenchReport.model_validate(document) == report
    assert set(document) == {"meta", "backends", "baselines", "targets", "total_seconds"}
    assert set(document["backends"]) == {"embedded", "neo4j"}
    for result in report.backends.values():
        assert result.load.rows > 0 and result.load.rows_per_second > 0
        assert {kind: result.load.kinds[kind].rows > 0 for kind in LOAD_KINDS} == dict.fromkeys(LOAD_KINDS, True)
        assert set(result.queries) == set(QUERY_NAMES)
        for measured in result.queries.values():
            assert measured.count == 40
            assert 0 < measured.p50_ms <= measured.p95_ms <= measured.p99_ms <= measured.max_ms
        assert result.analyze.seconds > 0
        assert result.api.requests > 0 and result.api.errors == 0 and result.api.requests_per_second > 0
        assert result.memory.process_peak_mib > 0
    assert report.backends["embedded"].memory.neo4j_peak_mib is None
    row_by_row = report.baselines.neo4j_row_by_row
    assert row_by_row is not None and row_by_row.rows > 0 and row_by_row.ratio > 0
    assert row_by_row.bare_unwind_rows_per_second is not None and row_by_row.bare_unwind_rows_per_second > 0
    initial = report.baselines.neo4j_initial_import
    assert initial is not None and initial.rows_per_second > 0
    assert initial.nodes > 0 and initial.ties > 0
    assert report.baselines.churn_propagation.customers > 0
    assert {"load", "network_2hop_p99", "analyze", "api"} <= set(report.baselines.embedded_vs_neo4j)
    assert {target.name for target in report.targets if target.met is None} == set()
    numbers = _numbers(document)
    assert numbers and all(math.isfinite(number) and number >= 0 for number in numbers)
    markdown = markdown_path.read_text(encoding="utf-8")
    assert "| network_2hop p99 (ms) |" in markdown and "## Baselines" in markdown and "## Targets" in markdown


@pytest.fixture(scope="module")
def embedded_only(embedded_bench: BenchRun) -> BenchReport:
    return embedded_bench.report


def test_bench_without_neo4j_leaves_its_sections_empty(embedded_only: BenchReport) -> None:
    report = embedded_only
    assert set(report.backends) == {"embedded"}
    assert report.baselines.neo4j_row_by_row is None
    assert report.baselines.neo4j_initial_import is None
    assert report.baselines.embedded_vs_neo4j == {}
    assert all(result.count == 15 for result in report.backends["embedded"].queries.values())
    store = report.backends["embedded"].store
    assert store is not None and store.after_peak_mib is not None and store.after_peak_mib > 0
    assert any(line.startswith("| peak resident memory of the benchmark process after") for line in render_store(store))


def test_each_backend_is_kept_as_soon_as_it_is_measured(embedded_bench: BenchRun) -> None:
    # The fixture's run wrote its checkpoint after the embedded store; a failure later would have kept it.
    embedded_only = embedded_bench.report
    document = json.loads(embedded_bench.checkpoint.read_text(encoding="utf-8"))
    assert document["customers"] == 120
    assert BackendResult.model_validate(document["backends"]["embedded"]) == embedded_only.backends["embedded"]


def test_growth_table_divides_the_larger_run_by_the_smaller(embedded_only: BenchReport, tmp_path: Path) -> None:
    small = embedded_only
    large = small.model_copy(deep=True)
    large.meta.customers = small.meta.customers * 10
    result = large.backends["embedded"]
    result.analyze.seconds = small.backends["embedded"].analyze.seconds * 3
    result.queries["network_2hop"].p99_ms = small.backends["embedded"].queries["network_2hop"].p99_ms * 1.5
    (tmp_path / "small.json").write_text(small.model_dump_json(), encoding="utf-8")

    factors = {(label, backend): factor for label, backend, _b, _a, factor in growth_rows(small, large)}
    assert factors[("analyze (s)", "embedded")] == pytest.approx(3.0)
    assert factors[("network_2hop p99 (ms)", "embedded")] == pytest.approx(1.5)
    assert factors[("load, all rows (rows/s)", "embedded")] == pytest.approx(1.0)
    assert ("peak RSS, Neo4j JVM (MiB)", "embedded") not in factors  # not measured on the embedded store
    table = render_growth(read_report(tmp_path / "small.json"), large)
    assert f"| {small.meta.customers:,} | {large.meta.customers:,} | growth |" in table
    assert "| analyze (s) | embedded |" in table and "3.00x |" in table
    with pytest.raises(ValueError, match="smaller bank"):
        render_growth(large, small)

    (tmp_path / "large.json").write_text(large.model_dump_json(), encoding="utf-8")
    runner = CliRunner()
    written = tmp_path / "growth.md"
    result = runner.invoke(
        app, ["bench-growth", str(tmp_path / "small.json"), str(tmp_path / "large.json"), "--out", str(written)]
    )
    assert result.exit_code == 0, result.output
    assert written.read_text(encoding="utf-8") == table
    result = runner.invoke(app, ["bench-growth", str(tmp_path / "large.json"), str(tmp_path / "small.json")])
    assert result.exit_code == 1 and "smaller bank" in result.output
