"""``crm-graph eval``: the backtest on freshly generated banks, in a chosen world and over several seeds.

The generator's world decides whether ties carry churn and product uptake (``contagion``), only share causes
(``confounded``), both (``mixed``) or neither (``null``). Each bank is generated, loaded into a fresh embedded
store through the normal loaders and backtested exactly as ``crm-graph backtest`` backtests any bank: cut at
month-end ``CUT_MONTH`` of 24, outcomes are the churn and the accounts opened after it. This module never reads
the generator's parameters or ground truth: it sees only what was loaded. The caller may hand it an ``oracle``
(the CLI passes the generator's true risks): its risks are matched to the loaded customers through their
source records and ranked beside the models, so that the report shows the best ranking the world allows.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from pydantic import BaseModel

from graph.model import TieType
from graph.settings import AnalyticsSettings
from graph.store import GraphStore
from queries.analytics.backtest import BacktestReport, Reference, backtest
from queries.analytics.frames import GraphFrames, read_frames

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
ORACLE_KEYS = (
    ("churn", "lift_at_5pct", "oracle_ratio"),
    ("churn", "lift_at_5pct", "own_plus_true_network_ratio"),
    ("cross_sell", "hit_at_5", "oracle_ratio"),
)


class TrueRisks(Protocol):
    """What an oracle knows, keyed by each customer's record in one source system (see :class:`Reference`)."""

    @property
    def source_system(self) -> str: ...
    @property
    def source_keys(self) -> list[str]: ...
    @property
    def churn_risk(self) -> np.ndarray: ...
    @property
    def churn_through_ties(self) -> np.ndarray: ...
    @property
    def product_ids(self) -> list[str]: ...
    @property
    def uptake(self) -> np.ndarray: ...


Oracle = Callable[[int, int, str, int], TrueRisks]  # (customers, seed, world, cut month) -> true risks


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
    oracle: Oracle | None = None,
) -> EvalReport:
    """Generate a bank in ``world``, load it into a fresh embedded store and backtest it (beside ``oracle``'s
    true risks, when given)."""
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
            frames = read_frames(store, settings.as_of)
            truth = aligned(oracle(customers, seed, world, CUT_MONTH), store, frames) if oracle else None
            result: BacktestReport = backtest(frames, settings, CUT_MONTH, seed, truth)
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


def aligned(truth: TrueRisks, store: GraphStore, frames: GraphFrames) -> Reference:
    """The oracle's risks in the frames' customer order, matched through the customers' source records (a
    customer none of whose records the oracle knows gets 0: it is ranked last)."""
    row_of_key = {key: row for row, key in enumerate(truth.source_keys)}
    prefix = truth.source_system + ":"
    row_of_customer = {
        tie.source: row_of_key[tie.target.removeprefix(prefix)]
        for tie in store.ties([TieType.FROM_SOURCE])
        if tie.target.startswith(prefix) and tie.target.removeprefix(prefix) in row_of_key
    }
    rows = np.array([row_of_customer.get(str(customer), -1) for customer in frames.customers["id"]], dtype=np.int64)
    known = rows >= 0

    def pick(values: np.ndarray) -> np.ndarray:
        out = np.zeros((len(rows), *values.shape[1:]))
        out[known] = values[rows[known]]
        return out

    return Reference(pick(truth.churn_risk), pick(truth.churn_through_ties), truth.product_ids, pick(truth.uptake))


def summarise(world: str, customers: int, runs: list[EvalReport]) -> EvalSummary:
    """Mean, lowest and highest of the headline figures over the runs (the oracle's too, when every run has it)."""
    summary: dict[str, dict[str, float]] = {}
    with_oracle = all("oracle_ratio" in run.churn["lift_at_5pct"] for run in runs)
    for section, measure, name in SUMMARY_KEYS + (ORACLE_KEYS if with_oracle else ()):
        values = [getattr(run, section)[measure][name] for run in runs]
        summary[f"{section}.{measure}.{name}"] = {
            "mean": round(statistics.fmean(values), 4),
            "min": round(min(values), 4),
            "max": round(max(values), 4),
        }
    return EvalSummary(world=world, customers=customers, seeds=[run.seed for run in runs], runs=runs, summary=summary)
