"""analyze's fitted churn model: scores and contributors from the fitted terms, the card, and its fallback."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from graph.embedded import EmbeddedStore
from graph.settings import AnalyticsSettings, Settings
from graph.store import GraphStore
from queries.analytics import analyze
from queries.analytics.features import snapshot
from queries.analytics.frames import GraphFrames
from queries.analytics.model_card import read_model_card
from queries.analytics.models import fit_churn
from queries.analytics.training import scores_from
from tests.analytics.bank import SETTINGS, small_bank


def test_fitted_scores_explain_themselves_through_the_fitted_tie_terms(generated_frames: GraphFrames) -> None:
    tie_types = sorted(set(generated_frames.tie_type.tolist()))
    settings = AnalyticsSettings()
    before = snapshot(generated_frames.cut(18), settings, tie_types)
    now = snapshot(generated_frames, settings, tie_types)
    table = before.own.join(before.network)[before.active].reset_index(drop=True)
    label = now.value.churned[before.active]
    model = fit_churn(table, label, list(before.own.columns), list(before.network.columns))
    assert model is not None
    scores = scores_from(now, model)
    churned = now.value.churned
    assert (scores.risk[churned] == 1.0).all() and (scores.network[churned] == 0.0).all()
    assert ((scores.risk >= 0) & (scores.risk <= 1)).all()
    assert np.allclose(scores.network[~churned], np.clip(scores.risk - scores.own, 0, 1)[~churned])
    ids = list(now.frames.customers["id"])
    explained = [i for i, names in enumerate(scores.contributors) if names]
    assert explained, "some customers have churned neighbours with a positive fitted term"
    weights = model.weights
    for i in explained:
        assert sum(scores.contributions[i]) == pytest.approx(1.0, abs=1e-5)
        for neighbour, tie_type in zip(scores.contributors[i], scores.contributor_ties[i], strict=True):
            assert churned[ids.index(neighbour)]
            assert max(weights[f"churned_{tie_type}"], weights[f"recently_churned_{tie_type}"]) > 0


def test_analyze_fits_on_the_last_six_months_and_keeps_a_card(generated_bank: Path, tmp_path: Path) -> None:
    shutil.copy(generated_bank / "store.sqlite", tmp_path / "store.sqlite")
    settings = Settings(_env_file=None, model_card_path=tmp_path / "card.json")  # type: ignore[call-arg]
    with EmbeddedStore(tmp_path / "store.sqlite") as store:
        report = analyze(store, settings)
    card = read_model_card(tmp_path / "card.json")
    assert card == report.churn_model
    assert (card.features_as_of, card.outcomes_until, card.horizon_months) == ("2024-06", "2024-12", 6)
    assert card.trained_on["churned"] > 0 and "recently_churned_SPOUSE_OF" in card.features
    assert set(card.tie_weights) >= {"SPOUSE_OF", "EMPLOYED_BY"} and "own_log_odds" in card.network_weights
    assert card.backtest is not None and {"lift_at_5pct", "auc"} <= set(card.backtest)
    if card.model == "hand-set defaults":  # the fitted model must earn its place in the backtest
        assert "backtested below the defaults" in card.reason
        assert card.backtest["auc"]["network"] < card.backtest["auc"]["default"]
    else:
        assert card.model.startswith("fitted") and "2024-06" in card.reason


def test_a_bank_with_too_few_leavers_keeps_the_defaults_and_says_why(store: GraphStore) -> None:
    small_bank().write(store)
    card = analyze(store, SETTINGS).churn_model
    assert card.model == "hand-set defaults" and "too few to fit" in card.reason
    assert card.tie_weights == {} and card.backtest is None
