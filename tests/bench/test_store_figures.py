"""The embedded store's own figures in the benchmark, and ``bench --loaded`` on a store made beforehand.

No timing is asserted: only that every figure is there, and that the columns the bulk write is timed on hold
the store's content.
"""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from api.cli import app
from bench.harness import BenchConfig
from bench.loaded import run_loaded_bench, write_loaded_results
from bench.report import QUERY_NAMES, LoadedStoreReport
from bench.store_figures import SMALL_WRITES, bulk_write_per_table, bulk_write_twice, prepared_columns
from graph.embedded import EmbeddedStore
from graph.model import PRIMARY_LABELS, TieType
from graph.settings import Settings
from tests.bench.conftest import BenchRun


def test_the_bench_reports_the_embedded_store_figures(embedded_bench: BenchRun) -> None:
    report = embedded_bench.report
    embedded = report.backends["embedded"]
    figures = embedded.store
    assert figures is not None
    with EmbeddedStore(embedded_bench.work / "embedded", read_only=True) as store:
        counts = store.counts()
    nodes = sum(counts.nodes.get(label.value, 0) for label in PRIMARY_LABELS)
    assert (figures.nodes, figures.ties) == (nodes, sum(counts.ties.values()))
    assert figures.disk_mib > 0
    assert len(figures.opens) == 1
    assert all(run.seconds > 0 and run.rss_mib > run.rss_added_mib > 0 for run in figures.opens)
    assert all(run.first_lookup_ms and set(run.first_lookup_ms) == {"Customer", "Account"} for run in figures.opens)
    assert figures.bulk_write_per_table is not None
    for run in (figures.bulk_write_into_empty, figures.bulk_write_unchanged, figures.bulk_write_per_table):
        assert run.rows == figures.nodes + figures.ties
        assert run.seconds > 0 and run.rows_per_second > 0 and run.rows_per_cpu_second > 0
    small = figures.small_writes
    assert small is not None and small.rows == SMALL_WRITES * (counts.nodes["Customer"] // SMALL_WRITES)
    assert small.seconds > 0 and small.rows_per_cpu_second > 0
    assert embedded.api.server_cpu_ms_per_request is not None and embedded.api.server_cpu_ms_per_request > 0
    assert embedded.api.client_cpu_ms_per_request is not None and embedded.api.client_cpu_ms_per_request > 0
    measured = {target.name for target in report.targets if target.met is not None}
    assert {"embedded store open", "embedded bulk write on prepared columns", "API on the embedded store"} <= measured


def test_the_timed_bulk_write_writes_the_store_s_whole_content(embedded_bench: BenchRun, tmp_path: Path) -> None:
    source_path = embedded_bench.work / "embedded"
    nodes, ties = prepared_columns(source_path)
    bulk_write_twice(tmp_path / "copy", nodes, ties)
    bulk_write_per_table(tmp_path / "per-table", nodes, ties)
    for written in ("copy", "per-table"):
        with EmbeddedStore(source_path, read_only=True) as source, EmbeddedStore(tmp_path / written) as copy:
            for label in PRIMARY_LABELS:
                assert sorted(copy.nodes(label), key=lambda r: r.id) == sorted(source.nodes(label), key=lambda r: r.id)
            for tie_type in TieType:
                key = lambda tie: (tie.source, tie.target)  # noqa: E731
                assert sorted(copy.ties([tie_type]), key=key) == sorted(source.ties([tie_type]), key=key)


def test_bench_of_a_loaded_store_measures_it_as_it_is(embedded_bench: BenchRun, tmp_path: Path) -> None:
    config = BenchConfig(queries=10, api_concurrency=2, api_max_requests=20, api_max_seconds=3)
    report = run_loaded_bench(embedded_bench.work / "embedded", Settings(), config, lambda *_: None)
    json_path, markdown_path = write_loaded_results(report, tmp_path / "results")

    assert LoadedStoreReport.model_validate(json.loads(json_path.read_text(encoding="utf-8"))) == report
    assert report.customers == 120 and report.queries_sampled == 10
    assert report.store.nodes == embedded_bench.report.backends["embedded"].store.nodes  # type: ignore[union-attr]
    assert set(report.queries) == set(QUERY_NAMES)
    assert report.api.requests > 0 and report.api.errors == 0
    markdown = markdown_path.read_text(encoding="utf-8")
    assert "## Embedded store" in markdown and "| network_2hop |" in markdown and "## Targets" in markdown


def test_bench_loaded_refuses_neo4j() -> None:
    result = CliRunner().invoke(app, ["bench", "--loaded", "--backend", "neo4j"])
    assert result.exit_code == 2
    assert "--loaded measures an embedded store" in result.output
