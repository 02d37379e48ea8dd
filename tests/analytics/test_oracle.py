"""``crm-graph eval``'s oracle: the generator's true risks, matched to the loaded customers and ranked beside the
models, so that a report shows how far the models are from the best ranking the world allows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from api.backtest_tables import backtest_table
from graph.embedded import EmbeddedStore
from graph.settings import AnalyticsSettings
from loaders.generator import population
from loaders.generator.common import MONTHS
from loaders.generator.oracle import TrueRisk, true_risk
from queries.analytics.backtest import BacktestReport, backtest
from queries.analytics.evaluate import CUT_MONTH, aligned
from queries.analytics.frames import GraphFrames
from tests.analytics.generated import CUSTOMERS, SEED


@pytest.fixture(scope="module")
def truth() -> TrueRisk:
    return true_risk(CUSTOMERS, SEED, "mixed", CUT_MONTH)


@pytest.fixture(scope="module")
def report_with_oracle(generated_bank: Path, generated_frames: GraphFrames, truth: TrueRisk) -> BacktestReport:
    with EmbeddedStore(generated_bank / "store.sqlite", read_only=True) as store:
        reference = aligned(truth, store, generated_frames)
    assert (reference.uptake.sum(axis=1) > 0).mean() > 0.95  # nearly every customer found through its core record
    return backtest(generated_frames, AnalyticsSettings(), CUT_MONTH, reference=reference)


def test_keeping_the_mechanism_does_not_change_the_bank() -> None:
    kept, plain = population.build(600, 3, keep_mechanism=True), population.build(600, 3)
    assert plain.mechanism is None and kept.mechanism is not None
    assert np.array_equal(kept.churn.month, plain.churn.month) and np.array_equal(kept.taken_up, plain.taken_up)


def test_true_churn_risk_is_close_to_what_happened_after_the_cut(truth: TrueRisk) -> None:
    data = population.build(CUSTOMERS, SEED)
    present = (data.churn.month >= CUT_MONTH) & data.holds.any(axis=1)
    left = (data.churn.month < MONTHS)[present]
    risk = truth.churn_risk[present]
    # About fifty departures among 1,300 customers, partly in clusters (contagion): a loose band.
    assert 0.7 * left.mean() < risk.mean() < 1.4 * left.mean()
    assert risk[left].mean() > 1.5 * risk[~left].mean()
    assert ((truth.churn_through_ties >= 0) & (truth.churn_through_ties <= truth.churn_risk)).all()
    assert (truth.uptake >= 0).all() and (truth.uptake <= 1).all()


def test_without_contagion_ties_carry_no_risk() -> None:
    null = true_risk(600, 3, "null", CUT_MONTH)
    assert null.churn_through_ties.max() < 1e-9 and null.churn_risk.any()


def test_eval_scores_the_oracle_like_the_models(report_with_oracle: BacktestReport) -> None:
    lift = report_with_oracle.churn["lift_at_5pct"]
    for name in ("oracle", "own_plus_true_network"):
        assert lift[f"{name}_ratio"] == pytest.approx(lift[name] / lift["own"], abs=1e-3)
        low, high = lift[f"{name}_ratio_ci"]
        assert low <= high
        assert 0.5 < report_with_oracle.churn["auc"][name] <= 1.0
    hit = report_with_oracle.cross_sell["hit_at_5"]
    assert hit["oracle_ratio"] == pytest.approx(hit["oracle"] / hit["best_baseline"], abs=1e-3)
    assert hit["oracle"] > hit["popularity"]  # the true uptake chances rank better than popularity
    console = Console(width=60, record=True, force_terminal=False)
    churn, cross_sell = report_with_oracle.churn, report_with_oracle.cross_sell
    console.print(backtest_table("eval", churn, cross_sell))
    text = console.export_text()
    assert "own_plus_true_network" in text and "ratio oracle" in text
