"""``crm-graph backtest``: does the network help on this bank's own history?

The data are cut at a month-end (``cut``). Models are trained one horizon earlier: features as of
``cut - horizon``, labels from what happened between then and the cut; they are then applied to the features
as of the cut and scored on what happened after it (``horizon`` = the months the data hold after the cut).

* Churn: boosted trees on own features only against the same with the network's fitted log-odds terms added
  (:class:`~queries.analytics.models.ChurnModel`); lift in the top 5%, ROC AUC, PR AUC and calibration (mean
  predicted against observed, Brier score).
* Cross-sell: per product, a logistic regression on own features, the customer's products, co-holding and
  neighbours holding the product, against three baselines that ignore the network: popularity, popularity
  within the customer's segment, and co-holding (the highest P(product | a product held)). Scored on the
  products customers actually opened after the cut: hit@5, recall@5, MAP@5.

Every figure comes with a 95% percentile bootstrap interval over the customers scored.

A :class:`Reference` (``crm-graph eval`` passes the generator's true risks) is ranked beside the models and
scored the same way: how far the models are from the best ranking the data allow.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel
from sklearn.metrics import brier_score_loss

from graph.errors import InvalidRequest
from graph.settings import AnalyticsSettings
from queries.analytics import resampling
from queries.analytics.churn import churn_terms
from queries.analytics.features import (
    Snapshot,
    co_holding_confidence,
    eligibility,
    neighbour_holders,
    segment_share,
    snapshot,
)
from queries.analytics.frames import BoolArray, FloatArray, GraphFrames
from queries.analytics.models import ChurnModel, FittedModel, fit, fit_churn, training_rows
from queries.analytics.threads import capped_threads
from queries.analytics.value import customer_value

TOP_SHARE = 0.05
TOP_K = 5
RESAMPLES = 200
MIN_HISTORY_MONTHS = 3
BASELINES = ("popularity", "segment", "cooccurrence")


@dataclass(frozen=True)
class Reference:
    """Risks known from outside the loaded data, rows aligned with the frames' customers: the true chance of
    leaving after the cut, the part of it ties carry, and of taking up each product (columns: ``product_ids``)."""

    churn_risk: FloatArray
    churn_through_ties: FloatArray
    product_ids: list[str]
    uptake: FloatArray


class BacktestReport(BaseModel):
    """Figures of one backtest; ``churn`` and ``cross_sell`` hold plain numbers keyed as the README lists."""

    cut: str
    train_cut: str
    horizon_months: int
    customers: int
    churn: dict[str, Any]
    cross_sell: dict[str, Any]


@dataclass(frozen=True)
class Window:
    """Month counts: features at ``start`` (columns kept), outcomes up to ``end``."""

    start: int
    end: int


def default_cut(months: int) -> int:
    """Keep the last third of the history (at least three months) for scoring."""
    return months - max(3, months // 3)


def windows(months: int, cut: int | None) -> tuple[Window, Window]:
    """(training window, scoring window) for data holding ``months`` month-ends cut after column ``cut``."""
    cut = default_cut(months) if cut is None else cut
    horizon = months - cut
    if horizon < 1:
        raise InvalidRequest("the cut must leave at least one month of data after it")
    if cut - horizon < MIN_HISTORY_MONTHS:
        raise InvalidRequest(
            f"a cut after month {cut} of {months} leaves too little history to train on: the models need "
            f"{horizon} months to learn from plus {MIN_HISTORY_MONTHS} before them; choose a later cut"
        )
    return Window(cut - horizon, cut), Window(cut, months)


def opened_between(frames: GraphFrames, window: Window, products: list[str]) -> BoolArray:
    """(customers, products): accounts opened after the month-end of ``window.start``, up to that of ``end``."""
    ends = frames.month_ends()
    start, end = np.datetime64(ends[window.start - 1], "D"), np.datetime64(ends[window.end - 1], "D")
    opened = frames.accounts["opened"].to_numpy(dtype="datetime64[D]")
    column = {product_id: number for number, product_id in enumerate(products)}
    product = frames.accounts["product_id"].map(column).fillna(-1).to_numpy(dtype=np.int64)
    account = frames.owner_account
    chosen = ~np.isnat(opened[account]) & (opened[account] > start) & (opened[account] <= end)
    chosen &= product[account] >= 0
    out = np.zeros((frames.size, len(products)), dtype=bool)
    out[frames.owner_customer[chosen], product[account[chosen]]] = True
    return out


# ---- churn ---------------------------------------------------------------------------------------------


def churn_backtest(
    train: Snapshot,
    test: Snapshot,
    churned_at_end: BoolArray,
    settings: AnalyticsSettings,
    seed: int,
    reference: Reference | None = None,
) -> dict[str, Any]:
    """Own-only against own + network logistic regression (and the documented hand-set defaults)."""
    train_rows, test_rows = train.active, test.active
    tables = ChurnBacktestTables(
        train=train.churn_table(train_rows),
        label=test.value.churned[train_rows],
        test=test.churn_table(test_rows),
        outcome=churned_at_end[test_rows],
        default=churn_terms(test.frames, test.value, settings, test.ties)[2][test_rows],
        ids=np.asarray(test.frames.customers["id"], dtype=str)[test_rows],
    )
    return churn_backtest_figures(
        tables, list(train.own.columns), list(train.network.columns), test.tie_types, seed, reference, test_rows
    )


@dataclass(frozen=True)
class ChurnBacktestTables:
    """What a churn backtest reads: features of the customers active at the training cut and whether they had
    left by the test cut; features of those active at the test cut, whether they left by the end, their
    hand-set default score and their ids (rows aligned, in id order)."""

    train: pd.DataFrame
    label: BoolArray
    test: pd.DataFrame
    outcome: BoolArray
    default: FloatArray
    ids: np.ndarray


def churn_backtest_figures(
    tables: ChurnBacktestTables,
    own_columns: list[str],
    network_columns: list[str],
    tie_types: list[str],
    seed: int,
    reference: Reference | None = None,
    reference_rows: BoolArray | None = None,
) -> dict[str, Any]:
    """The figures of :func:`churn_backtest` from its tables (the Spark engine builds them on its workers).

    With a ``reference`` (rows ``reference_rows`` of it are the test table's), its true risk is scored as
    ``oracle``, and the own model's score combined with the true risk ties carry as ``own_plus_true_network``:
    the most the network could add to this own model."""
    train_table, label, test_table, outcome = tables.train, tables.label, tables.test, tables.outcome
    model = fit_churn(train_table, label, own_columns, network_columns)
    if model is None or outcome.sum() == 0:
        raise InvalidRequest(
            f"too few customers left in the history to fit a churn model ({int(label.sum())} before the cut, "
            f"{int(outcome.sum())} after); load more history or choose another cut"
        )
    own, network = model.predict_both(test_table)
    scores = {"own": own, "network": network, "default": tables.default}
    if reference is not None:
        through_ties = reference.churn_through_ties[reference_rows]
        scores["oracle"] = reference.churn_risk[reference_rows]
        scores["own_plus_true_network"] = 1.0 - (1.0 - scores["own"]) * (1.0 - through_ties)
    ids = tables.ids
    order_key = np.argsort(np.argsort(ids, kind="stable"), kind="stable")  # rank of id: ties broken by id
    resamples = resampling.drawn_rows(np.random.default_rng(seed), len(outcome), RESAMPLES)
    draws = _ranking_draws(scores, outcome, order_key, resamples)
    lift, auc, pr_auc = draws["lift"], draws["auc"], draws["pr_auc"]
    ratios: dict[str, Any] = {}
    for name in ("network", *(("oracle", "own_plus_true_network") if reference is not None else ())):
        value, interval = _ratio(lift[name], lift["own"])
        prefix = "" if name == "network" else f"{name}_"
        ratios |= {f"{prefix}ratio": value, f"{prefix}ratio_ci": interval}
    return {
        "customers_scored": len(outcome),
        "churned_after_cut": int(outcome.sum()),
        "trained_on": {"customers": len(label), "churned": int(label.sum())},
        "lift_at_5pct": {**_figures(lift), **ratios},
        "auc": _figures(auc),
        "pr_auc": _figures(pr_auc),
        "calibration": {
            name: {
                "mean_predicted": round(float(scores[name].mean()), 4),
                "observed_rate": round(float(outcome.mean()), 4),
                "brier": round(float(brier_score_loss(outcome, scores[name])), 5),
            }
            for name in ("own", "network")
        },
        "fitted_tie_weights": tie_weights(model, tie_types),
        "network_terms": model.network_terms.model_dump(),
    }


def tie_weights(model: ChurnModel, tie_types: list[str]) -> dict[str, float]:
    """Log-odds per recently churned neighbour of each tie type: the fitted weight of the tie type (0 for every
    type when the network terms were left out)."""
    weights = model.weights
    return {tie_type: weights.get(f"recently_churned_{tie_type}", 0.0) for tie_type in tie_types}


def _ranking_draws(
    scores: dict[str, FloatArray], outcome: BoolArray, order_key: np.ndarray, resamples: Iterable[np.ndarray]
) -> dict[str, dict[str, FloatArray]]:
    """Per measure (lift in the top share, ROC AUC, PR AUC as average precision) and score: the full sample
    first, then each bootstrap resample (``resamples``: batches of drawn row numbers); NaN where a resample
    holds one class only."""
    top = max(1, round(TOP_SHARE * len(outcome)))
    places = {}  # per score: each row's place, best first, and the outcome in that order
    for name, score in scores.items():
        best_first = np.lexsort((order_key, -score))
        place = np.empty(len(outcome), dtype=np.int64)
        place[best_first] = np.arange(len(outcome))
        places[name] = (place, outcome[best_first])
    rankings = {name: resampling.Ranking.of(score, outcome) for name, score in scores.items()}
    parts: dict[str, dict[str, list[FloatArray]]] = {
        measure: {name: [] for name in scores} for measure in ("lift", "auc", "pr_auc")
    }
    batches = (resampling.Draws.of(drawn, outcome) for drawn in resamples)
    for draws in chain([resampling.Draws.everyone_once(outcome)], batches):
        for name in scores:
            parts["lift"][name].append(resampling.drawn_lift(*places[name], top, draws))
            runs = rankings[name].drawn_per_run(draws)  # shared by both measures
            parts["auc"][name].append(resampling.auc_of_runs(*runs))
            parts["pr_auc"][name].append(resampling.average_precision_of_runs(*runs))
    return {
        measure: {name: np.concatenate(drawn) for name, drawn in by_name.items()} for measure, by_name in parts.items()
    }


def _interval(draws: np.ndarray) -> list[float]:
    finite = draws[np.isfinite(draws)]
    if not len(finite):
        return [float("nan"), float("nan")]
    low, high = np.percentile(finite, [2.5, 97.5])
    return [round(float(low), 4), round(float(high), 4)]


def _figures(draws: dict[str, np.ndarray]) -> dict[str, Any]:
    """Each name's full-sample value and its interval over the resamples (first draw = full sample)."""
    out: dict[str, Any] = {}
    for name, values in draws.items():
        out[name] = round(float(values[0]), 4)
        out[f"{name}_ci"] = _interval(values[1:])
    return out


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> tuple[float, list[float]]:
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = numerator / denominator
    return round(float(ratios[0]), 4), _interval(ratios[1:])


# ---- cross-sell ----------------------------------------------------------------------------------------


def candidates(shot: Snapshot) -> BoolArray:
    """(customers, products): active customers and the eligible products they do not hold."""
    return shot.active[:, None] & eligibility(shot.frames, shot.holdings, shot.products) & ~shot.holdings


# Today's candidates for a product are scored this many at a time (the last piece takes the rest too): their
# feature table (some 40 float columns) and the model's copies of it stay this size whatever the bank's size.
# A power of two, and no short last piece: each piece then starts where the BLAS kernels' blocks of rows start
# in the whole table and ends where it ends, so every score is the same to the last bit (pieces of 97 rows, or
# a last piece of one row, moved some in the last place).
SCORED_AT_ONCE = 65_536


def _pieces(count: int, size: int) -> list[slice]:
    """Slices of ``size`` rows over ``count`` rows, the last one with the remainder as well (none for none)."""
    if not count:
        return []
    stops = [*range(size, count - size + 1, size), count]
    return [slice(start, stop) for start, stop in zip([0, *stops[:-1]], stops, strict=True)]


def _product_table(
    shot: Snapshot,
    product: int,
    confidence: FloatArray,
    share: FloatArray,
    rows: np.ndarray,
    neighbours: pd.DataFrame,
) -> pd.DataFrame:
    """The features one product's model reads, of the customers ``rows`` picks only (a mask or row numbers;
    renumbered from 0): a table of every customer per product and snapshot held some 40 float columns a
    customer (330 MB at a million customers) of which the fit or the scoring reads the candidates' alone.
    ``neighbours``: :func:`neighbour_holders` of the product in ``shot``."""
    columns = {name: values.to_numpy()[rows] for name, values in shot.own.items()}
    held = shot.holdings[rows]
    columns |= {f"holds_{p}": held[:, number].astype(np.float64) for number, p in enumerate(shot.products)}
    columns |= {"co_holding": confidence[rows, product], "segment_share": share[rows, product]}
    columns |= {name: values.to_numpy()[rows] for name, values in neighbours.items()}
    return pd.DataFrame(columns)


def cross_sell_scores(
    train: Snapshot, test: Snapshot, train_label: BoolArray
) -> tuple[dict[str, FloatArray], dict[str, Any]]:
    """(customers, products) scores of the fitted models and the baselines at the cut, and what was fitted."""
    train_candidates, test_candidates = candidates(train), candidates(test)
    train_confidence, test_confidence = co_holding_confidence(train.holdings), co_holding_confidence(test.holdings)
    train_share, test_share = segment_share(train.frames, train.holdings), segment_share(test.frames, test.holdings)
    scores = {
        "popularity": np.broadcast_to(test.holdings.mean(axis=0), test.holdings.shape).copy(),
        "segment": test_share,
        "cooccurrence": test_confidence,
        "model": np.zeros(test.holdings.shape),
        "own_model": np.zeros(test.holdings.shape),
    }
    fitted: dict[str, Any] = {}
    for number, product_id in enumerate(test.products):
        rows = train_candidates[:, number]
        if not rows.any():
            continue
        label = train_label[rows, number]
        # A product too rarely taken up to fit scores its past take-up rate: on the scale of the fitted ones.
        for name in ("model", "own_model"):
            scores[name][:, number] = label.mean()
        picked = training_rows(len(label))  # the rows the fits would draw, picked before the table is made
        if picked is not None:
            rows, label = np.flatnonzero(rows)[picked], label[picked]
        train_table = _product_table(
            train, number, train_confidence, train_share, rows, neighbour_holders(train, number)
        )
        network_columns = [c for c in train_table.columns if c.startswith("holders_") or c.startswith("holder_share")]
        own_columns = [c for c in train_table.columns if c not in network_columns]
        models: dict[str, FittedModel] = {}
        for name, columns in (("model", own_columns + network_columns), ("own_model", own_columns)):
            model = fit(train_table, label, columns)
            if model is not None:
                models[name] = model
                if name == "model":
                    weights = model.weights
                    fitted[product_id] = {
                        "taken_up": model.positives,
                        "candidates": model.examples,
                        "tie_weights": {t: weights[f"holders_{t}"] for t in train.tie_types},
                    }
        del train_table
        if not models:
            continue
        # Only today's candidates are scored: every other customer's score is set to -inf below.
        scored = np.flatnonzero(test_candidates[:, number])
        neighbours = neighbour_holders(test, number)
        for piece in _pieces(len(scored), SCORED_AT_ONCE):
            chunk = scored[piece]
            test_table = _product_table(test, number, test_confidence, test_share, chunk, neighbours)
            for name, model in models.items():
                scores[name][chunk, number] = model.predict(test_table)
    for values in scores.values():  # in place: each is this function's own array
        values[~test_candidates] = -np.inf
    return scores, fitted


def rank_quality(scores: FloatArray, relevant: BoolArray) -> dict[str, np.ndarray]:
    """Per customer: hit@5, recall@5 and average precision at 5 of the top five by score (ties by product)."""
    top = np.argsort(-scores, axis=1, kind="stable")[:, :TOP_K]
    picked = np.isfinite(np.take_along_axis(scores, top, axis=1))
    hits = np.take_along_axis(relevant, top, axis=1) & picked
    count = relevant.sum(axis=1)
    precision_at = np.cumsum(hits, axis=1) / np.arange(1, TOP_K + 1)[None, :]
    average_precision = (precision_at * hits).sum(axis=1) / np.minimum(count, TOP_K)
    return {"hit_at_5": hits.any(axis=1), "recall_at_5": hits.sum(axis=1) / count, "map_at_5": average_precision}


def cross_sell_backtest(
    train: Snapshot,
    test: Snapshot,
    opened: tuple[BoolArray, BoolArray],
    seed: int,
    reference: Reference | None = None,
) -> dict:
    """The fitted model against the three baselines on the products opened after the cut (and, with a
    ``reference``, its true uptake chances as ``oracle``)."""
    train_label = opened[0] & candidates(train)
    scores, fitted = cross_sell_scores(train, test, train_label)
    if reference is not None:
        column = {product_id: number for number, product_id in enumerate(reference.product_ids)}
        known = [column.get(product_id, -1) for product_id in test.products]
        uptake = np.where(np.array(known) >= 0, reference.uptake[:, known], 0.0)
        scores["oracle"] = np.where(candidates(test), uptake, -np.inf)
    relevant = opened[1] & candidates(test)
    rows = relevant.any(axis=1)
    if not rows.any():
        raise InvalidRequest("no customer opened a product after the cut: nothing to score cross-selling on")
    quality = {name: rank_quality(score[rows], relevant[rows]) for name, score in scores.items()}
    scored = int(rows.sum())
    resampled: dict[str, dict[str, list[FloatArray]]] = {
        measure: {name: [np.array([values[measure].mean()])] for name, values in quality.items()}
        for measure in ("hit_at_5", "recall_at_5", "map_at_5")
    }
    for drawn in resampling.drawn_rows(np.random.default_rng(seed), scored, RESAMPLES):
        for measure, by_name in resampled.items():
            for name, values in quality.items():
                by_name[name].append(values[measure][drawn].mean(axis=1))
    out: dict[str, Any] = {"customers_scored": scored, "products_opened": int(relevant.sum())}
    for measure, by_name in resampled.items():
        draws = {name: np.concatenate(parts) for name, parts in by_name.items()}
        figures = _figures(draws)
        best = max(BASELINES, key=lambda name: figures[name])
        out[measure] = {**figures, "best_baseline": figures[best], "best_baseline_is": best}
        for name in ("model", *(("oracle",) if reference is not None else ())):
            value, interval = _ratio(draws[name], draws[best])
            prefix = "" if name == "model" else f"{name}_"
            out[measure] |= {f"{prefix}ratio": value, f"{prefix}ratio_ci": interval}
    out["fitted_products"] = fitted
    return out


def backtest(
    frames: GraphFrames,
    settings: AnalyticsSettings,
    cut: int | None = None,
    seed: int = 0,
    reference: Reference | None = None,
) -> BacktestReport:
    """Train before ``cut`` (a month count, default: keep the last third), score after it."""
    with capped_threads(settings):
        return _backtest(frames, settings, cut, seed, reference)


def _backtest(
    frames: GraphFrames, settings: AnalyticsSettings, cut: int | None, seed: int, reference: Reference | None
) -> BacktestReport:
    train_window, test_window = windows(frames.months, cut)
    tie_types = sorted(set(frames.tie_type.tolist()))
    test = snapshot(frames.cut(test_window.start), settings, tie_types)
    train = snapshot(frames.cut(train_window.start), settings, tie_types, test.ties)
    churned_at_end = customer_value(frames, settings).churned
    opened = (opened_between(frames, train_window, test.products), opened_between(frames, test_window, test.products))
    ends = frames.month_ends()
    return BacktestReport(
        cut=ends[test_window.start - 1].isoformat()[:7],
        train_cut=ends[train_window.start - 1].isoformat()[:7],
        horizon_months=test_window.end - test_window.start,
        customers=frames.size,
        churn=churn_backtest(train, test, churned_at_end, settings, seed, reference),
        cross_sell=cross_sell_backtest(train, test, opened, seed, reference),
    )
