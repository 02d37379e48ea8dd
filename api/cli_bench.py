"""``crm-graph bench --loaded`` on the embedded store: the figures of the store as it is, no bank generated."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from api.cli_support import console, fail
from api.progress import stage_bars
from graph.errors import ConfigurationError, CrmGraphError
from graph.settings import Backend, Settings

if TYPE_CHECKING:
    from bench.harness import BenchConfig


def bench_loaded_store(config: BenchConfig, settings: Settings, out: Path, as_json: bool) -> None:
    """Measure the embedded store ``settings`` name (size, opening, bulk write, queries, API); write the results."""
    from bench.loaded import render_loaded_markdown, run_loaded_bench, write_loaded_results

    if settings.backend is not Backend.EMBEDDED:
        raise fail(ConfigurationError("--loaded measures an embedded store; on Neo4j add --engine spark"), code=2)
    try:
        with stage_bars(console, width=44) as progress:
            report = run_loaded_bench(settings.embedded_path, settings, config, progress)
    except CrmGraphError as error:
        raise fail(error) from None
    json_path, markdown_path = write_loaded_results(report, out)
    console.print(render_loaded_markdown(report))
    console.print(f"results: {json_path} and {markdown_path}")
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
