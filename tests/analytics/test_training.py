"""analyze's fitted churn model: scores and contributors from the fitted terms, the card, and its fallback."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from graph.embedded import EmbeddedStore
from graph.model import NodeLabel
from graph.settings import AnalyticsSettings, Settings
from graph.store import GraphStore
from queries.analytics import analyze, cross_sell, models, prospects
from queries.analytics.crosssell import Recommendation
from queries.analytics.features import snapshot
from queries.analytics.frames import GraphFrames
from queries.analytics.model_card import read_model_card
from queries.analytics.models import fit_churn
from queries.analytics.prospecting import PRECOMPUTED_PROSPECTS, ranked_prospects
from queries.analytics.training import scores_from
from tests.analytics.bank import SETTINGS, small_bank


def test_fitted_scores_explain_themselves_through_the_fitted_tie_terms(
    generated_frames: GraphFrames, monkeypatch: pytest.MonkeyPatch
) -> None:
    # How a score splits over the network terms, given a model that keeps them (whether it keeps them is
    # the inner validation's call, tested below: on this small bank it leaves them out).
    monkeypatch.setattr(models, "EARNS_ITS_PLACE", float("-inf"))
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
            assert max(weights["churned_neighbours"], weights[f"recently_churned_{tie_type}"]) > 0


def test_analyze_fits_on_the_last_six_months_and_keeps_a_card(generated_bank: Path, tmp_path: Path) -> None:
    shutil.copytree(generated_bank / "store.sqlite", tmp_path / "store.sqlite")  # the embedded store is a folder
    settings = Settings(_env_file=None, model_card_path=tmp_path / "card.json")  # type: ignore[call-arg]
    with EmbeddedStore(tmp_path / "store.sqlite") as store:
        report = analyze(store, settings)
        served = _cross_sell_of_fitted_customers(store, settings.analytics)
        precomputed, live, fitted = _prospect_lists(store, settings.analytics)
    # The prospect lists analyze wrote rank by the fitted model, exactly as the request-time ranking does.
    assert precomputed == live and sum(map(len, precomputed.values())) > 500
    listed = [(customer, product, score) for product, found in precomputed.items() for customer, score in found]
    by_model = [
        fitted[(customer, product)] == score for customer, product, score in listed if (customer, product) in fitted
    ]
    # Only a customer the model scored no product for (e.g. one without an open account then) keeps hand-set scores.
    assert all(by_model) and len(by_model) > 0.9 * len(listed)
    card = read_model_card(tmp_path / "card.json")
    assert card.cross_sell is not None and card.cross_sell.model.startswith("fitted")
    assert card.cross_sell.features_as_of == "2024-06" and card.cross_sell.products
    assert all(set(figures["tie_weights"]) >= {"SPOUSE_OF"} for figures in card.cross_sell.products.values())
    # The live answers serve what analyze's fitted model wrote, best first, with its parts and weighted paths.
    assert served and any(
        recommendation.evidence for _, recommendations in served for recommendation in recommendations
    )
    for stored, recommendations in served:
        assert [(r.product_id, r.score) for r in recommendations] == [
            p for p in stored if p[0] in {r.product_id for r in recommendations}
        ]
        for recommendation in recommendations:
            parts = recommendation.parts
            assert set(parts) == {"model", "own", "network", "eligibility"} and parts["model"] == recommendation.score
            assert parts["network"] == pytest.approx(max(parts["model"] - parts["own"], 0.0), abs=2e-6)
            weights = dict(card.cross_sell.products.get(recommendation.product_id, {}).get("tie_weights", {}))
            for path in recommendation.evidence:
                assert len(path.ties) == 1 and weights[path.ties[0]] > 0 and path.contribution > 0
    assert card == report.churn_model
    assert (card.features_as_of, card.outcomes_until, card.horizon_months) == ("2024-06", "2024-12", 6)
    assert card.trained_on["churned"] > 0 and card.network_terms is not None
    # The network terms are features only when the inner validation kept them; left out, every tie weighs 0.
    assert ("recently_churned_SPOUSE_OF" in card.features) == card.network_terms["kept"]
    if not card.network_terms["kept"]:
        assert set(card.tie_weights.values()) == {0.0}
        assert "left out" in card.model or card.model == "hand-set defaults"
    assert set(card.tie_weights) >= {"SPOUSE_OF", "EMPLOYED_BY"} and "own_log_odds" in card.network_weights
    assert card.backtest is not None and {"lift_at_5pct", "auc"} <= set(card.backtest)
    if card.model == "hand-set defaults":  # the fitted model must earn its place in the backtest
        assert "backtested below the defaults" in card.reason
        assert card.backtest["auc"]["network"] < card.backtest["auc"]["default"]
    else:
        assert card.model.startswith("fitted") and "2024-06" in card.reason


def _prospect_lists(
    store: GraphStore, settings: AnalyticsSettings
) -> tuple[dict[str, list[tuple[str, float]]], dict[str, list[tuple[str, float]]], dict[tuple[str, str], float]]:
    """Per product, (analyze's list, the request-time ranking), and the fitted score analyze wrote per
    (customer, product)."""
    products = sorted(record.id for record in store.nodes(NodeLabel.PRODUCT))
    precomputed = {
        product: [
            (item.customer_id, item.score) for item in ranked_prospects(store, product, PRECOMPUTED_PROSPECTS) or []
        ]
        for product in products
    }
    live = {
        product: [
            (item.customer_id, item.score)
            for item in prospects(store, product, PRECOMPUTED_PROSPECTS, settings=settings, today=date(2024, 12, 31))
        ]
        for product in products
    }
    fitted = {
        (record.id, product): score
        for record in store.nodes(NodeLabel.CUSTOMER)
        for product, score in zip(
            record.properties.get("cross_sell_products") or [],
            record.properties.get("cross_sell_scores") or [],
            strict=True,
        )
    }
    return precomputed, live, fitted


def _cross_sell_of_fitted_customers(
    store: GraphStore, settings: AnalyticsSettings
) -> list[tuple[list[tuple[str, float]], list[Recommendation]]]:
    """(what analyze wrote, what the API answers) for consenting customers analyze scored."""
    found = []
    for record in store.nodes(NodeLabel.CUSTOMER):
        props = record.properties
        if props.get("consent_marketing") is not True or not props.get("cross_sell_products"):
            continue
        stored = list(zip(props["cross_sell_products"], props["cross_sell_scores"], strict=True))
        found.append((stored, cross_sell(store, record.id, 100, settings=settings, today=date(2024, 12, 31))))
        if len(found) == 40:
            break
    return found


def test_a_bank_with_too_few_leavers_keeps_the_defaults_and_says_why(store: GraphStore) -> None:
    small_bank().write(store)
    card = analyze(store, SETTINGS).churn_model
    assert card.model == "hand-set defaults" and "too few to fit" in card.reason
    assert card.tie_weights == {} and card.backtest is None
    # Too few accounts opened to fit cross-selling either: the live answers keep the hand-set weights.
    assert card.cross_sell is not None and card.cross_sell.model == "hand-set defaults"
    recommendations = cross_sell(store, "t3", settings=SETTINGS, today=date(2024, 12, 31))
    assert recommendations and all("similar" in r.parts for r in recommendations)


def test_large_banks_train_on_a_fixed_uniform_sample_of_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(models, "MAX_TRAINING_ROWS", 10)
    table = pd.DataFrame({"row": np.arange(25)})
    label = np.arange(25) % 2 == 0
    sample, sampled_label = models.training_sample(table, label)
    assert len(sample) == 10 and list(sample.index) == list(range(10))
    assert (sampled_label == (sample["row"].to_numpy() % 2 == 0)).all()  # rows and labels stay aligned
    assert models.training_sample(table, label)[0].equals(sample)  # the same rows every run
    small = table.iloc[:10]
    assert models.training_sample(small, label[:10])[0] is small


def _stacked(network: np.ndarray, own: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({models.OWN_LOG_ODDS: own, "churned_neighbours": network})


def test_network_terms_are_kept_only_when_they_improve_the_inner_validation() -> None:
    rng = np.random.default_rng(3)
    n = 4000
    own = rng.normal(size=n)
    tied = rng.poisson(0.3, size=n).astype(float)
    # Leavers driven by the own signal alone: a network column of noise must be left out.
    alone = rng.random(n) < 1 / (1 + np.exp(-(own * 1.2 - 3.5)))
    noise = models.choose_network_terms(_stacked(tied, own), alone, ["churned_neighbours"])
    assert not noise.kept and noise.regularisation is None
    # Leavers whose churned neighbours matter as much as their own signal: the term earns its place.
    spread = rng.random(n) < 1 / (1 + np.exp(-(own * 1.2 + tied * 1.5 - 3.5)))
    found = models.choose_network_terms(_stacked(tied, own), spread, ["churned_neighbours"])
    assert found.kept and found.regularisation in models.NETWORK_PENALTIES
    assert found.auc_network - found.auc_own > models.EARNS_ITS_PLACE * found.gain_standard_error


def test_a_model_without_network_terms_ranks_as_its_own_signals_and_names_no_contributors() -> None:
    rng = np.random.default_rng(4)
    n = 3000
    table = pd.DataFrame({"balance_trend": rng.normal(size=n), "churned_neighbours": rng.poisson(0.3, size=n) * 1.0})
    label = rng.random(n) < 1 / (1 + np.exp(-(table["balance_trend"].to_numpy() * 1.5 - 3.0)))
    model = fit_churn(table, label, ["balance_trend"], ["churned_neighbours"])
    assert model is not None and not model.network_terms.kept
    assert set(model.weights) == {models.OWN_LOG_ODDS}
    order_own = np.argsort(-model.predict_own(table), kind="stable")
    assert (np.diff(model.predict(table)[order_own]) <= 1e-12).all()  # the same order: a calibration only
