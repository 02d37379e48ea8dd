"""What ``crm-graph analyze`` and ``bench`` need for ``--engine spark`` (PySpark is imported only when chosen)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from api.cli_support import console, fail
from api.progress import stage_bars
from graph.errors import CrmGraphError
from graph.settings import Settings
from graph.store import GraphStore

if TYPE_CHECKING:
    from api.progress import ProgressCallback
    from bench.harness import BenchConfig
    from loaders.matching import PairScorer
    from queries.analytics import AnalyzeReport


class Engine(StrEnum):
    """Where analyze computes: in this Python process, or on Spark."""

    LOCAL = "local"
    SPARK = "spark"


@dataclass(frozen=True)
class SparkOptions:
    """The command line's Spark options."""

    master: str
    memory: str
    parquet: Path | None


def analyze_on_spark_engine(
    store: GraphStore,
    settings: Settings,
    progress: ProgressCallback,
    master: str,
    spark_memory: str,
    parquet: Path | None,
) -> AnalyzeReport:
    """``analyze --engine spark``: export, compute on Spark, write back."""
    from queries.analytics.spark import SparkSettings, analyze_on_spark

    options = SparkSettings(master=master, driver_memory=spark_memory, parquet=parquet)
    return analyze_on_spark(store, settings, options, progress)


def pair_scorer(engine: Engine, settings: Settings, master: str, spark_memory: str) -> PairScorer | None:
    """How ``load`` scores the customer records entity resolution compares: in this process (None), or on Spark."""
    if engine is Engine.LOCAL:
        return None
    from loaders.spark_resolve import SparkPairScorer
    from queries.analytics.spark.session import spark_session

    return SparkPairScorer(settings.resolution_model_path, lambda: spark_session(master, spark_memory, partitions=8))


def bench_spark(
    config: BenchConfig, spark_options: SparkOptions, out: Path, as_json: bool, loaded: Settings | None
) -> None:
    """``bench --engine spark``: one measured Spark analyze of a generated bank (or, with ``loaded``, of the bank
    in that store as it is), written as JSON and markdown."""
    from bench.spark import measure_spark_analyze, render_spark_markdown, run_spark_bench, write_spark_results
    from graph.factory import open_store
    from queries.analytics.spark import SparkSettings

    spark = SparkSettings(
        master=spark_options.master, driver_memory=spark_options.memory, parquet=spark_options.parquet
    )
    # Each step's figures as it ends: what a run stopped before its end (a measurement window) leaves.
    out.mkdir(parents=True, exist_ok=True)
    steps_log = out / f"bench-spark-steps-{datetime.now(UTC):%Y%m%dT%H%M%S}.jsonl"
    try:
        with stage_bars(console, width=44) as progress:
            if loaded is None:
                result = run_spark_bench(config, spark, progress, steps_log)
            else:
                with open_store(loaded) as store:
                    result = measure_spark_analyze(
                        store, loaded.backend.value, loaded, spark, progress, steps_log=steps_log
                    )
    except CrmGraphError as error:
        raise fail(error) from None
    json_path, markdown_path = write_spark_results(result, out)
    steps_log.unlink(missing_ok=True)  # the results hold the same figures
    console.print(render_spark_markdown(result))
    console.print(f"results: {json_path} and {markdown_path}")
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
