"""``crm-graph eval``: the backtest on freshly generated banks, in a chosen world and over several seeds.

The generator's world decides whether ties carry churn and product uptake (``contagion``), only share causes
(``confounded``), both (``mixed``) or neither (``null``). Each bank is generated, loaded into a fresh embedded
store through the normal loaders and backtested exactly as ``crm-graph backtest`` backtests any bank: cut at
month-end ``CUT_MONTH`` of 24, outcomes are the churn and the accounts opened after it. This module never reads
the generator's parameters or ground truth: it sees only what was loaded.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from graph.settings import AnalyticsSettings
from queries.analytics.backtest import BacktestReport, backtest
from queries.analytics.frames import read_frames

CUT_MONTH = 16  # features as of the 16th of 24 month-ends: 8 months of outcomes to predict
Progress = Callable[[str, int, int], None]
SUMMARY_KEYS = (
    ("churn", "lift_at_5pct", "own"),
    ("churn", "lift_at_5pct", "network"),
    ("churn", "lift_at_5pct", "ratio"),
    ("churn", "auc", "own"),
    ("churn", "auc", "network"),
    ("cross_sell", "hit_at_5", "model"),
    ("cross_sell", "hit_at_5", "best_baseline"),
    ("cross_sell", "hit_at_5", "ratio"),
)


class EvalReport(BaseModel):
    """One generated bank's backtest."""

    world: str
    customers: int
    seed: int
    cut: str
    churn: dict[str, Any]
    cross_sell: dict[str, Any]
    seconds: dict[str, float]


class EvalSummary(BaseModel):
    """Several seeds of one world: each run, and the mean and range of the headline figures."""

    world: str
    customers: int
    seeds: list[int]
    runs: list[EvalReport]
    summary: dict[str, dict[str, float]]


def evaluate(
    customers: int,
    seed: int,
    world: str = "mixed",
    settings: AnalyticsSettings | None = None,
    work_dir: Path | None = None,
    progress: Progress | None = None,
) -> EvalReport:
    """Generate a bank in ``world``, load it into a fresh embedded store and backtest it."""
    from graph.embedded import EmbeddedStore
    from loaders.generator import generate
    from loaders.load import load_mapping

    settings = settings or AnalyticsSettings()
    report = progress or (lambda _step, _done, _total: None)
    seconds: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="crm-graph-eval-") as scratch:
        root = work_dir or Path(scratch)
        started = time.perf_counter()
        report("generate", 0, 3)
        generate(customers, seed, root / "data", world=world)
        seconds["generate"] = round(time.perf_counter() - started, 2)
        with EmbeddedStore(root / "store.sqlite") as store:
            report("load", 1, 3)
            started = time.perf_counter()
            load_mapping(store, root / "data" / "mapping.yaml", root / "report")
            seconds["load"] = round(time.perf_counter() - started, 2)
            report("backtest", 2, 3)
            started = time.perf_counter()
            result: BacktestReport = backtest(read_frames(store, settings.as_of), settings, CUT_MONTH, seed)
            seconds["backtest"] = round(time.perf_counter() - started, 2)
            report("done", 3, 3)
    return EvalReport(
        world=world,
        customers=customers,
        seed=seed,
        cut=result.cut,
        churn=result.churn,
        cross_sell=result.cross_sell,
        seconds=seconds,
    )


def summarise(world: str, customers: int, runs: list[EvalReport]) -> EvalSummary:
    """Mean, lowest and highest of the headline figures over the runs."""
    summary: dict[str, dict[str, float]] = {}
    for section, measure, name in SUMMARY_KEYS:
        values = [getattr(run, section)[measure][name] for run in runs]
        summary[f"{section}.{measure}.{name}"] = {
            "mean": round(statistics.fmean(values), 4),
            "min": round(min(values), 4),
            "max": round(max(values), 4),
        }
    return EvalSummary(world=world, customers=customers, seeds=[run.seed for run in runs], runs=runs, summary=summary)
