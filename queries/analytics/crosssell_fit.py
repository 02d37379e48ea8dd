"""The cross-sell model ``crm-graph analyze`` fits on the loaded bank, for the live cross-sell answers.

The recipe of ``crm-graph backtest`` (:func:`~queries.analytics.backtest.cross_sell_scores`): per product, a
regularised logistic regression of "opened it within ``HORIZON_MONTHS``" on features as of the month-end
``HORIZON_MONTHS`` before the latest (own features, products held, co-holding, segment share, neighbours
holding the product by tie type), then applied to today's features. A product opened by fewer than
``MIN_OPENED`` customers in that horizon scores its past take-up rate. The own-only twin (the same without
the neighbours) gives the part the network adds.

Written back: on each Customer, the eligible products not held today with the model's probability and the
own-only one (``cross_sell_products``, ``cross_sell_scores``, ``cross_sell_own_scores``); on each Product, the
fitted log-odds per holding neighbour of each tie type (``cross_sell_tie_types``, ``cross_sell_tie_weights``),
which weigh the evidence paths. Without enough history, or when no product was taken up often enough to fit,
the lists are written empty and the API scores with the documented hand-set weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from queries.analytics.backtest import Window, candidates, cross_sell_scores, opened_between
from queries.analytics.frames import FloatArray, GraphFrames
from queries.analytics.model_card import CrossSellCard
from queries.analytics.training import TrainingWindow, too_little_history

DECIMALS = 6
# A product's model is served only when at least this many customers opened it in the training horizon: a
# regression of some forty terms learned from fewer would mostly repeat their noise.
MIN_OPENED = 20


@dataclass(frozen=True)
class CrossSellFit:
    """(customers, products) probabilities, -inf where the product is not a candidate today."""

    products: list[str]
    model: FloatArray
    own: FloatArray
    tie_weights: dict[str, dict[str, float]]  # product -> tie type -> log-odds of one log-unit of holders


def fitted_cross_sell(frames: GraphFrames, window: TrainingWindow | None) -> tuple[CrossSellFit | None, CrossSellCard]:
    """Fit on the last ``HORIZON_MONTHS`` and score today, or None (and why not)."""
    if window is None:
        return None, CrossSellCard(model="hand-set defaults", reason=too_little_history(frames.months))
    before, now = window.before, window.now
    label = opened_between(frames, Window(window.cut, frames.months), now.products) & candidates(before)
    scores, fitted = cross_sell_scores(before, now, label)
    for number, product_id in enumerate(now.products):
        figures = fitted.get(product_id)
        if figures is not None and figures["taken_up"] < MIN_OPENED:
            # Too few openings to trust a fitted model's terms: the product scores its past take-up rate.
            rate = figures["taken_up"] / figures["candidates"]
            for name in ("model", "own_model"):
                column = scores[name][:, number]
                scores[name][:, number] = np.where(np.isfinite(column), rate, column)
            del fitted[product_id]
    card = fitted_card(fitted, window.features_as_of)
    if not fitted:
        return None, card
    weights = {product: figures["tie_weights"] for product, figures in fitted.items()}
    return CrossSellFit(now.products, scores["model"], scores["own_model"], weights), card


def fitted_card(fitted: dict[str, Any], features_as_of: str) -> CrossSellCard:
    """The card of the products fitted (product -> taken_up, candidates, tie_weights), or, with none, why the
    hand-set defaults score (both engines)."""
    if not fitted:
        return CrossSellCard(
            model="hand-set defaults",
            reason=f"no product was opened by {MIN_OPENED} or more customers after {features_as_of}; "
            "too few to fit a model",
        )
    return CrossSellCard(
        model="fitted: logistic regression per product",
        reason=f"trained on features as of {features_as_of} and the accounts opened since",
        features_as_of=features_as_of,
        products=fitted,
    )


def customer_properties(fit: CrossSellFit | None, number: int) -> dict[str, Any]:
    """The lists one Customer row carries: candidates today, best first (ties by product id)."""
    if fit is None:
        return {"cross_sell_products": [], "cross_sell_scores": [], "cross_sell_own_scores": []}
    row, own = fit.model[number], fit.own[number]
    chosen = [k for k in np.lexsort((np.arange(len(row)), -row)).tolist() if np.isfinite(row[k])]
    return {
        "cross_sell_products": [fit.products[k] for k in chosen],
        "cross_sell_scores": [round(float(row[k]), DECIMALS) for k in chosen],
        "cross_sell_own_scores": [round(float(own[k]), DECIMALS) for k in chosen],
    }


def customer_columns(fit: CrossSellFit | None, size: int, rows: slice = slice(None)) -> dict[str, pa.Array]:
    """:func:`customer_properties` of every customer at once (of ``rows`` of the ``size`` customers), as list
    columns (rounded by Python's ``round``, as the rows are: numpy's may differ in the last place)."""
    if fit is None:
        counts = np.zeros(len(range(size)[rows]), dtype=np.int64)
        products, scores, own = [], [], []
    else:
        model = fit.model[rows]
        # A stable sort of the negated scores breaks ties by product number, as the lexsort per row does.
        order = np.argsort(-model, axis=1, kind="stable")
        keep = np.isfinite(np.take_along_axis(model, order, axis=1))
        counts = keep.sum(axis=1)
        chosen, columns = np.repeat(np.arange(len(model)), counts), order[keep]
        products = np.asarray(fit.products, dtype=object)[columns].tolist()
        scores = [round(score, DECIMALS) for score in model[chosen, columns].tolist()]
        own = [round(score, DECIMALS) for score in fit.own[rows][chosen, columns].tolist()]
    offsets = pa.array(np.concatenate([[0], np.cumsum(counts)]), pa.int32())
    return {
        "cross_sell_products": pa.ListArray.from_arrays(offsets, pa.array(products, pa.string())),
        "cross_sell_scores": pa.ListArray.from_arrays(offsets, pa.array(scores, pa.float64())),
        "cross_sell_own_scores": pa.ListArray.from_arrays(offsets, pa.array(own, pa.float64())),
    }


def product_properties(fit: CrossSellFit | None, product_id: str) -> dict[str, Any]:
    """The fitted tie weights one Product row carries (empty without a fitted model for it)."""
    return tie_weight_properties(fit.tie_weights.get(product_id) if fit else None)


def tie_weight_properties(weights: dict[str, float] | None) -> dict[str, Any]:
    """A product's fitted tie weights as its Product row carries them (empty lists without any)."""
    weights = weights or {}
    return {
        "cross_sell_tie_types": sorted(weights),
        "cross_sell_tie_weights": [round(weights[tie_type], DECIMALS) for tie_type in sorted(weights)],
    }
