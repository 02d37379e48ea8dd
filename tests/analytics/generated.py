"""A small generated bank for the backtest and training tests, and the fitted scores analyze would write."""

from __future__ import annotations

from pathlib import Path

from graph.settings import AnalyticsSettings
from graph.store import GraphStore
from loaders.load import load_mapping
from queries.analytics.features import snapshot
from queries.analytics.frames import GraphFrames
from queries.analytics.models import fit_churn
from queries.analytics.training import scores_from

CUSTOMERS = 1500
SEED = 5


def load_generated_bank(store: GraphStore, folder: Path, report: str) -> None:
    load_mapping(store, folder / "mapping.yaml", folder / report)


def fitted_scores_of(frames: GraphFrames) -> dict[str, list]:
    """Churn scores of models fitted on the last six months, applied today (as analyze does when it trains)."""
    tie_types = sorted(set(frames.tie_type.tolist()))
    settings = AnalyticsSettings()
    before, now = snapshot(frames.cut(frames.months - 6), settings, tie_types), snapshot(frames, settings, tie_types)
    table = before.own.join(before.network)[before.active].reset_index(drop=True)
    label = now.value.churned[before.active]
    model = fit_churn(table, label, list(before.own.columns), list(before.network.columns))
    assert model is not None
    scores = scores_from(now, model)
    return {
        "risk": scores.risk.round(9).tolist(),
        "own": scores.own.round(9).tolist(),
        "contributors": scores.contributors,
        "ties": scores.contributor_ties,
        "shares": scores.contributions,
    }
