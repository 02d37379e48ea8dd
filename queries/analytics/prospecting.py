"""Prospect lists made by ``crm-graph analyze``, so that a campaign's list is read, not recomputed per request.

A product's prospects are scored exactly as :func:`queries.analytics.crosssell.prospects` scores them at request
time (consenting, active, eligible customers not holding the product, tied to one who holds it), but for every
product at once from the arrays analyze already holds, with ages counted at the analysis date. With a fitted
cross-sell model a prospect's score is the model's probability that they open the product (a customer the model
gave no candidate product at all keeps the hand-set score, as the request-time answer does); without one, the
hand-set score: network part from direct ties to holders, similar part from co-holdings. Each Product node keeps
its best ``PRECOMPUTED_PROSPECTS`` as two parallel lists, ``prospect_ids`` and ``prospect_scores``, best first
(ties by id).

At request time :func:`ranked_prospects` reads them; a customer who withdrew consent since then is still dropped
by the API, which checks every prospect it shows against the customer as stored now.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict
from scipy import sparse

from graph.errors import NotFound
from graph.model import NodeLabel
from graph.settings import AnalyticsSettings
from graph.store import GraphStore, check_limit
from queries.analytics.crosssell import DECIMALS, as_list
from queries.analytics.crosssell_fit import CrossSellFit
from queries.analytics.frames import BoolArray, FloatArray, GraphFrames

PRECOMPUTED_PROSPECTS = 10_000
"""Prospects kept per product: the most a prospect list pages through."""


class RankedProspect(BaseModel):
    """A customer to approach for a product, and the score analyze gave them."""

    model_config = ConfigDict(frozen=True)

    customer_id: str
    score: float


def holdings(frames: GraphFrames) -> tuple[sparse.csr_matrix, list[str]]:
    """Which customer holds which product (rows customers, columns ``frames.products``' ids, 1.0 where held)
    through an open account owned as owner or joint holder; several accounts of one product are one holding."""
    product_ids = list(frames.products.index)
    column = {product_id: number for number, product_id in enumerate(product_ids)}
    closed = frames.accounts["closed"].to_numpy(dtype=bool)
    account_product = frames.accounts["product_id"].map(column).fillna(-1).to_numpy(dtype=np.int64)
    keep = ~closed[frames.owner_account] & (account_product[frames.owner_account] >= 0)
    rows, cols = frames.owner_customer[keep], account_product[frames.owner_account[keep]]
    holds = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(frames.size, len(product_ids)))
    holds.sum_duplicates()
    holds.data[:] = 1.0
    return holds, product_ids


def _ages(frames: GraphFrames) -> FloatArray:
    """Age in whole years at ``frames.as_of``; NaN for a missing or unreadable birth date."""
    born = pd.to_datetime(frames.customers["birth_date"].astype("string").str[:10], errors="coerce", format="%Y-%m-%d")
    today = frames.as_of
    before_birthday = (born.dt.month > today.month) | ((born.dt.month == today.month) & (born.dt.day > today.day))
    return (today.year - born.dt.year - before_birthday.astype(float)).to_numpy(dtype=float)


def _eligible(
    frames: GraphFrames, holds: sparse.csr_matrix, product_ids: list[str], column: int, ages: FloatArray
) -> BoolArray:
    """Segment, minimum age (persons) and exclusivity either way, as ``crosssell.eligible`` decides them."""
    customers = frames.customers
    product = frames.products.loc[product_ids[column]]
    allowed = np.ones(frames.size, dtype=bool)
    segments = as_list(product["segments"])
    if segments:
        allowed &= customers["segment"].isin(segments).to_numpy()
    min_age = product["min_age"]
    if min_age is not None and not pd.isna(min_age):
        person = (customers["kind"] == NodeLabel.PERSON.value).to_numpy()
        allowed &= ~person | (~np.isnan(ages) & (np.nan_to_num(ages, nan=-1.0) >= int(min_age)))
    excluded = set(as_list(product["exclusive_with"]))
    excluded |= {
        other for other in product_ids if product_ids[column] in as_list(frames.products.loc[other, "exclusive_with"])
    }
    excluded_columns = [number for number, other in enumerate(product_ids) if other in excluded]
    if excluded_columns:
        allowed &= np.asarray(holds[:, excluded_columns].sum(axis=1)).ravel() == 0
    return allowed


def _fitted_scores(
    cross_sell: CrossSellFit, product_id: str, chosen: np.ndarray, hand_set: FloatArray
) -> tuple[np.ndarray, FloatArray]:
    """(prospects kept, their scores): the fitted probability, rounded as the customer row stores it; the
    hand-set score for a customer the model scored no product for; dropped where it did not score this one."""
    fitted = cross_sell.model[chosen, cross_sell.products.index(product_id)]
    scored_any = np.isfinite(cross_sell.model[chosen]).any(axis=1)
    keep = ~scored_any | np.isfinite(fitted)
    # Python's round, as the customer row stores it: numpy's may differ in the last place and reorder ties.
    rounded = np.array([round(value, DECIMALS) for value in fitted[keep].tolist()], dtype=np.float64)
    return chosen[keep], np.where(scored_any[keep], rounded, hand_set[keep])


def prospect_rows(
    frames: GraphFrames, settings: AnalyticsSettings, cross_sell: CrossSellFit | None = None
) -> list[dict[str, Any]]:
    """A Product node row per product with its best prospects, from the fitted cross-sell model when given (pure)."""
    holds, product_ids = holdings(frames)
    together = (holds.T @ holds).toarray()
    holders = np.diag(together)
    customers = frames.customers
    reachable = customers["consent_marketing"].to_numpy(dtype=bool) & (customers["status"] != "churned").to_numpy()
    holds_none = np.asarray(holds.sum(axis=1)).ravel() == 0
    # Ties read both ways: a tie between a holder and another customer is evidence for the other.
    source = np.concatenate([frames.tie_source, frames.tie_target])
    target = np.concatenate([frames.tie_target, frames.tie_source])
    with np.errstate(divide="ignore"):
        kept = np.log1p(-np.clip(np.concatenate([frames.tie_weight, frames.tie_weight]), 0.0, 1.0))
    weights = settings.cross_sell_weights
    ids = np.asarray(frames.ids, dtype=object)
    ages = _ages(frames)
    rows = []
    for column, product_id in enumerate(product_ids):
        held = np.asarray(holds[:, column].todense()).ravel() > 0
        from_holder = held[source] & (source != target)
        tied = np.bincount(target[from_holder], minlength=frames.size) > 0
        network = 1.0 - np.exp(np.bincount(target[from_holder], weights=kept[from_holder], minlength=frames.size))
        confidence = np.divide(together[:, column], holders, out=np.zeros(len(product_ids)), where=holders > 0)
        similar = holds.multiply(confidence[np.newaxis, :]).tocsr().max(axis=1).toarray().ravel()
        similar[holds_none] = round(float(holders[column]) / max(frames.size, 1), 6)  # the stored holder share
        chosen = np.flatnonzero(tied & reachable & ~held & _eligible(frames, holds, product_ids, column, ages))
        scored = weights.get("network", 0.0) * network[chosen] + weights.get("similar", 0.0) * similar[chosen]
        scores = np.round(scored, DECIMALS)
        if cross_sell is not None:
            chosen, scores = _fitted_scores(cross_sell, product_id, chosen, scores)
        order = np.lexsort((ids[chosen], -scores))[:PRECOMPUTED_PROSPECTS]  # best first, ties by id
        rows.append(
            {
                "label": NodeLabel.PRODUCT,
                "id": product_id,
                "properties": {
                    "prospect_ids": [str(ids[chosen[at]]) for at in order],
                    "prospect_scores": [float(scores[at]) for at in order],
                },
            }
        )
    return rows


def ranked_prospects(store: GraphStore, product_id: str, limit: int = 100) -> list[RankedProspect] | None:
    """The product's best ``limit`` prospects as analyze last ranked them; None when analyze has not ranked
    them yet (a store analysed by an older version); ``NotFound`` for an unknown product."""
    check_limit(limit, PRECOMPUTED_PROSPECTS)
    record = store.get_node(NodeLabel.PRODUCT, product_id)
    if record is None:
        raise NotFound(f"no product with id {product_id!r}")
    found = record.properties.get("prospect_ids")
    if found is None:
        return None
    scores = record.properties.get("prospect_scores") or []
    return [
        RankedProspect(customer_id=customer_id, score=score)
        for customer_id, score in zip(found[:limit], scores[:limit], strict=True)
    ]
