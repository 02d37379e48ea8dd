"""The benchmark harness end to end on a tiny bank, on both backends: every section is there and sane.

No timing is asserted: the machine running the tests is not the one the targets are for.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from bench.harness import BenchConfig, run_bench, write_results
from bench.report import LOAD_KINDS, QUERY_NAMES, BenchReport


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
    assert report.baselines.churn_propagation.customers > 0
    assert {"load", "network_2hop_p99", "analyze", "api"} <= set(report.baselines.embedded_vs_neo4j)
    assert {target.name for target in report.targets if target.met is None} == set()
    numbers = _numbers(document)
    assert numbers and all(math.isfinite(number) and number >= 0 for number in numbers)
    markdown = markdown_path.read_text(encoding="utf-8")
    assert "| network_2hop p99 (ms) |" in markdown and "## Baselines" in markdown and "## Targets" in markdown


def test_bench_without_neo4j_leaves_its_sections_empty(tmp_path: Path) -> None:
    report = run_bench(
        BenchConfig(
            customers=120,
            queries=15,
            skip_neo4j=True,
            api_concurrency=2,
            api_max_requests=20,
            api_max_seconds=3,
            work_dir=tmp_path,
        )
    )
    assert set(report.backends) == {"embedded"}
    assert report.baselines.neo4j_row_by_row is None
    assert report.baselines.embedded_vs_neo4j == {}
    assert all(result.count == 15 for result in report.backends["embedded"].queries.values())
