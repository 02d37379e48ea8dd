"""``python -m bench.spark_stages STAGE PARQUET WORK``: one stage of ``analyze --engine spark`` in a process of
its own, for a bank whose whole run does not fit in one measurement window.

The stages, in order: ``rank`` (value, PageRank), ``churn``, ``cross-sell``, ``groups`` (clusters, co-holdings,
prospects, cluster summaries, and the write-back into the store the settings name). Each reads the export in
PARQUET, reads what the stages before it left in WORK (Parquet files and JSON), runs the engine's own functions
for its steps and leaves its results there; it prints, as one JSON object, each step's wall and CPU seconds (of
the Python driver and of Spark's JVM) and peak memory, the time taken to save its results apart (``save``).

What differs from one whole run, and so from its figures: every stage pays for starting Spark, reading the export
and warming the JIT compiler again (its ``read`` step says how much); a stage's inputs come from Parquet files
instead of Spark's memory; ``cross-sell`` builds the training month-end's frames again (in one run the churn step
has them). Only ``groups`` opens the store, so the other stages' driver peak is the driver's alone.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.spark import StepClock
from graph.factory import open_store
from graph.settings import Settings
from graph.ties import TieRegistry
from queries.analytics.model_card import ModelCard
from queries.analytics.spark import SparkSettings
from queries.analytics.spark.crosssell import SparkCrossSell, fitted_cross_sell_on_spark, product_rules
from queries.analytics.spark.engine import ScoredCustomers, grouped_results, write_back, write_sizes
from queries.analytics.spark.frames import SparkFrames, read_spark_frames
from queries.analytics.spark.network import pagerank
from queries.analytics.spark.session import spark_session
from queries.analytics.spark.training import SparkTrainingWindow, churn_step
from queries.analytics.spark.value import customer_value
from queries.analytics.threads import capped_threads

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

STAGES = ("rank", "churn", "cross-sell", "groups")
ANALYTICS_AT = "2026-01-01T00:00:00+00:00"  # the write-back's stamp: a fixed one, these runs are measurements


def run_stage(stage: str, parquet: Path, work: Path, settings: Settings, spark: SparkSettings) -> dict[str, Any]:
    """Run one stage (see the module's docstring) and give its figures."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}: one of {', '.join(STAGES)}")
    work.mkdir(parents=True, exist_ok=True)
    clock = StepClock(0.0, None)
    session = spark_session(spark.master, spark.driver_memory, spark.partitions)
    frames = read_spark_frames(
        session, parquet, TieRegistry.from_file(settings.tie_weights_path), settings.analytics.as_of
    )
    clock.step_ended("read")
    with capped_threads(settings.analytics):  # as analyze_on_spark fits its models
        _run(stage, frames, _Saved(session, work), settings, clock)
    if stage != "groups":
        clock.step_ended("save")
    session.catalog.clearCache()
    return {"stage": stage, "steps": [figures.model_dump() for figures in clock.figures.values()]}


def _run(stage: str, frames: SparkFrames, saved: _Saved, settings: Settings, clock: StepClock) -> None:
    analytics = settings.analytics
    if stage == "rank":
        value = customer_value(frames, analytics).localCheckpoint()
        clock.step_ended("value")
        rank = pagerank(frames.customers, frames.directed, analytics.pagerank_damping).localCheckpoint()
        clock.step_ended("pagerank")
        saved.frames(value=value, rank=rank)
    elif stage == "churn":
        value, rank = saved.frame("value"), saved.frame("rank")
        window, churn, card = churn_step(frames, value, analytics, rank)
        clock.step_ended("churn")
        if window is not None:
            saved.frames(before=window.before, now=window.now, default_at_cut=window.default_at_cut)
            if window.earlier is not None:
                saved.frames(earlier=window.earlier)
        saved.frames(churn=churn)
        saved.json(
            "window",
            None
            if window is None
            else {"cut": window.cut, "tie_types": window.tie_types, "earlier": window.earlier is not None},
        )
        saved.json("card", card.model_dump(mode="json"))
    elif stage == "cross-sell":
        cross_sell, cross_sell_card = fitted_cross_sell_on_spark(frames, _window(saved, frames), product_rules(frames))
        clock.step_ended("cross-sell")
        card = ModelCard.model_validate(saved.read_json("card")).model_copy(update={"cross_sell": cross_sell_card})
        saved.json("card", card.model_dump(mode="json"))
        if cross_sell is not None:
            saved.frames(candidates=cross_sell.candidates, lists=cross_sell.lists)
        saved.json("tie_weights", None if cross_sell is None else cross_sell.tie_weights)
    else:
        tie_weights = saved.read_json("tie_weights")
        cross_sell = (
            None
            if tie_weights is None
            else SparkCrossSell(saved.frame("candidates"), saved.frame("lists"), tie_weights)
        )
        scored = ScoredCustomers(
            saved.frame("value"),
            saved.frame("rank"),
            saved.frame("churn"),
            product_rules(frames),
            cross_sell,
            ModelCard.model_validate(saved.read_json("card")),
        )
        with open_store(settings) as store:
            results = grouped_results(frames, settings, store.registry, clock.step_ended, scored)
            sizes = write_sizes(store, settings)
            write_back(store, frames, results, ANALYTICS_AT, sizes, lambda _step, _done, _total: None)
            clock.step_ended("write")


def _window(saved: _Saved, frames: SparkFrames) -> SparkTrainingWindow | None:
    shape = saved.read_json("window")
    if shape is None:
        return None
    cut = int(shape["cut"])
    before_frames = frames.cut(cut).persisted(accounts=False)
    return SparkTrainingWindow(
        cut,
        shape["tie_types"],
        before_frames,
        saved.frame("before"),
        saved.frame("now"),
        saved.frame("earlier") if shape["earlier"] else None,
        saved.frame("default_at_cut"),
    )


class _Saved:
    """A stage's results as Parquet files (frames) and JSON files (the rest) in the work folder."""

    def __init__(self, session: SparkSession, work: Path) -> None:
        self.session, self.work = session, work

    def frames(self, **frames: DataFrame) -> None:
        for name, frame in frames.items():
            frame.write.mode("overwrite").parquet(str(self.work / f"{name}.parquet"))

    def frame(self, name: str) -> DataFrame:
        return self.session.read.parquet(str(self.work / f"{name}.parquet"))

    def json(self, name: str, value: Any) -> None:
        (self.work / f"{name}.json").write_text(json.dumps(value), encoding="utf-8")

    def read_json(self, name: str) -> Any:
        return json.loads((self.work / f"{name}.json").read_text(encoding="utf-8"))


def main(argv: list[str] | None = None) -> None:
    """The command line: settings from the environment (``CRM_GRAPH_*``), Spark's defaults."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 3:
        raise SystemExit(f"usage: python -m bench.spark_stages {{{'|'.join(STAGES)}}} PARQUET WORK")
    stage, parquet, work = args
    figures = run_stage(stage, Path(parquet), Path(work), Settings(), SparkSettings())
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
