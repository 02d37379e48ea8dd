"""The backtest on a small generated bank: what it reports, what it may see, and the command line."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from api.backtest_tables import backtest_table
from graph.embedded import EmbeddedStore
from graph.errors import InvalidRequest
from graph.neo4j_store import Neo4jStore
from graph.settings import AnalyticsSettings
from queries.analytics.backtest import BacktestReport, backtest, opened_between, rank_quality, windows
from queries.analytics.frames import GraphFrames, read_frames
from tests.analytics.generated import fitted_scores_of, load_generated_bank

SETTINGS = AnalyticsSettings()


@pytest.fixture(scope="module")
def report(generated_frames: GraphFrames) -> BacktestReport:
    return backtest(generated_frames, SETTINGS, cut=16)


def _interval_holds(figures: dict, name: str) -> None:
    low, high = figures[f"{name}_ci"]
    assert low <= high, name


def test_churn_compares_own_only_with_own_plus_network(report: BacktestReport) -> None:
    assert (report.cut, report.train_cut, report.horizon_months) == ("2024-04", "2023-08", 8)
    churn = report.churn
    assert churn["churned_after_cut"] > 0 and churn["trained_on"]["churned"] > 0
    lift = churn["lift_at_5pct"]
    for name in ("own", "network", "default", "ratio"):
        _interval_holds(lift, name)
    assert lift["ratio"] == pytest.approx(lift["network"] / lift["own"], abs=1e-3)
    for measure in ("auc", "pr_auc"):
        assert 0.0 <= churn[measure]["own"] <= 1.0 and 0.0 <= churn[measure]["network"] <= 1.0
    calibration = churn["calibration"]["network"]
    assert 0 < calibration["mean_predicted"] < 1 and calibration["brier"] < 0.25
    assert set(churn["fitted_tie_weights"]) >= {"SPOUSE_OF", "EMPLOYED_BY", "REFERRED"}
    terms = churn["network_terms"]
    assert terms["kept"] == (terms["regularisation"] is not None)
    if not terms["kept"]:  # left out: the network model ranks as the own one
        assert set(churn["fitted_tie_weights"].values()) == {0.0} and lift["network"] == lift["own"]


def test_cross_sell_compares_the_model_with_three_baselines(report: BacktestReport) -> None:
    cross_sell = report.cross_sell
    assert cross_sell["customers_scored"] > 0 and cross_sell["products_opened"] >= cross_sell["customers_scored"]
    for measure in ("hit_at_5", "recall_at_5", "map_at_5"):
        figures = cross_sell[measure]
        for name in ("model", "own_model", "popularity", "segment", "cooccurrence", "ratio"):
            _interval_holds(figures, name)
        assert figures["best_baseline"] == max(figures[b] for b in ("popularity", "segment", "cooccurrence"))
        assert figures["ratio"] == pytest.approx(figures["model"] / figures["best_baseline"], abs=1e-3)
        assert 0.0 <= figures["model"] <= 1.0


def test_the_cut_forgets_accounts_opened_after_it(generated_frames: GraphFrames) -> None:
    frames = generated_frames
    cut = frames.cut(16)
    opened = cut.accounts["opened"].to_numpy(dtype="datetime64[D]")[cut.owner_account]
    assert (opened[~np.isnat(opened)] <= np.datetime64("2024-04-30")).all()
    assert len(cut.owner_account) < len(frames.owner_account)
    later = opened_between(frames, windows(24, 16)[1], sorted(frames.products.index))
    assert later.any()


def test_a_cut_without_enough_history_or_future_is_refused() -> None:
    with pytest.raises(InvalidRequest, match="too little history"):
        windows(24, 10)
    with pytest.raises(InvalidRequest, match="at least one month"):
        windows(24, 24)
    assert windows(24, None)[1].start == 16


def test_rank_quality_counts_hits_recall_and_average_precision() -> None:
    scores = np.array([[0.9, 0.8, 0.7, 0.6, 0.5, 0.4, -np.inf], [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]])
    relevant = np.array(
        [[False, True, False, False, False, True, False], [True, False, False, False, False, False, False]]
    )
    quality = rank_quality(scores, relevant)
    assert quality["hit_at_5"].tolist() == [True, False]
    assert quality["recall_at_5"].tolist() == [0.5, 0.0]
    assert quality["map_at_5"][0] == pytest.approx((1 / 2) / 2)


def test_backtest_command_prints_json_and_refuses_a_bad_cut(generated_bank: Path) -> None:
    env = {**os.environ, "CRM_GRAPH_EMBEDDED_PATH": str(generated_bank / "store.sqlite"), "COLUMNS": "60"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "api.cli", "backtest", *args], capture_output=True, text=True, env=env, timeout=900
        )

    printed = run("--json", "--cut", "2024-04")
    assert printed.returncode == 0, printed.stderr
    body = json.loads(printed.stdout)
    assert body["cut"] == "2024-04" and not math.isnan(body["churn"]["lift_at_5pct"]["ratio"])
    for bad, reason in (("2019-01", "not within the data"), ("April", "YYYY-MM"), ("2023-02", "too little history")):
        refused = run("--cut", bad)
        assert refused.returncode == 1 and reason in refused.stderr and "Traceback" not in refused.stderr


def test_the_backtest_table_fits_a_narrow_terminal(report: BacktestReport) -> None:
    console = Console(width=60, record=True, force_terminal=False)
    console.print(backtest_table("backtest", report.churn, report.cross_sell))
    text = console.export_text()
    assert all(word in text for word in ("hit@5", "MAP@5", "ROC", "Brier", "ratio", "network terms"))
    assert max(len(line) for line in text.splitlines()) <= 60


@pytest.mark.neo4j
def test_backtest_and_fitted_scores_agree_across_backends(
    generated_bank: Path, report: BacktestReport, neo4j_store: Neo4jStore
) -> None:
    load_generated_bank(neo4j_store, generated_bank, "report-neo4j")
    assert backtest(read_frames(neo4j_store), SETTINGS, cut=16) == report
    with EmbeddedStore(generated_bank / "store.sqlite", read_only=True) as embedded:
        embedded_scores = fitted_scores_of(read_frames(embedded))
    assert fitted_scores_of(read_frames(neo4j_store)) == embedded_scores
