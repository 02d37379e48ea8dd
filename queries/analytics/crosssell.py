"""Cross-selling, answered at request time from a customer's neighbourhood and what ``crm-graph analyze`` wrote.

When analyze fitted the cross-sell model (see ``crosssell_fit``), a product's score is the fitted probability
that the customer opens it within the model's horizon, with parts ``model`` (that probability), ``own`` (the
own-only twin's) and ``network`` (what the neighbours add, never below 0); evidence paths are the customer's
tied neighbours holding the product, each weighted by the product's fitted log-odds for its tie type (paths
whose tie type the model found no positive effect for are left out). A product analyze did not score (held
or not allowed then) is not recommended until the next run.

Otherwise (too little history, or analyze has not fitted one) the documented hand-set defaults:
score = network_weight x network + similar_weight x similar, over eligible products the customer does not hold.

* network: noisy-or over evidence paths. A tied customer holding the product gives the tie weight (from the
  registry); through a tied customer ``via``, the share of via's other ties that hold it gives
  w(first) x w(second) x ``hop_decay`` x holders / fanout, so a large employer counts by share, not headcount.
* similar: the highest confidence P(product | held product) over the customer's products, from co-holding
  counts ``crm-graph analyze`` stores on Product nodes; the product's holder share for a customer holding none.
* eligibility: a hard filter, reported as 1.0: the customer's segment among the product's ``segments`` (when
  listed), age from ``birth_date`` at least ``min_age`` (persons), no held product ``exclusive_with`` it
  either way. Without ``consent_marketing`` true there are no personalised recommendations at all.

Scores are rounded to 6 decimals and ties broken by product id, so both backends rank identically.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict

from graph.cancellation import checkpoint
from graph.errors import NotFound
from graph.settings import AnalyticsSettings
from graph.store import GraphStore, check_limit
from graph.ties import TieRegistry
from queries.analytics.fetch import (
    GET_CROSS_SELL_INPUTS,
    LIST_CUSTOMER_PROFILES,
    LIST_NEIGHBOUR_HOLDINGS,
    LIST_PRODUCT_PROSPECTS,
    LIST_PRODUCTS,
    LIST_SECOND_HOP_HOLDINGS,
)

MAX_EVIDENCE = 5
DECIMALS = 6


class EvidencePath(BaseModel):
    """A path from the customer to someone holding the product: node ids and the tie types between them."""

    model_config = ConfigDict(frozen=True)

    nodes: list[str]
    ties: list[str]
    contribution: float


class Recommendation(BaseModel):
    """A product to offer, its score and the parts it is made of, with the paths that support it."""

    model_config = ConfigDict(frozen=True)

    product_id: str
    score: float
    parts: dict[str, float]
    evidence: list[EvidencePath]


class Prospect(BaseModel):
    """A customer to approach in a campaign for one product."""

    model_config = ConfigDict(frozen=True)

    customer_id: str
    score: float
    parts: dict[str, float]
    evidence: list[EvidencePath]


@dataclass(frozen=True)
class Profile:
    customer_id: str
    kind: str
    segment: str | None
    birth_date: str | None
    consent: bool
    products: frozenset[str]
    fitted: Mapping[str, tuple[float, float]]  # product -> (model, own-only) probability analyze wrote

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Profile:
        scores = zip(row.get("cross_sell_scores") or [], row.get("cross_sell_own_scores") or [], strict=False)
        return cls(
            customer_id=row["customer_id"],
            kind=row["kind"],
            segment=row["segment"],
            birth_date=row["birth_date"],
            consent=row["consent_marketing"] is True,
            products=frozenset(row["products"] or ()),
            fitted=dict(zip(row.get("cross_sell_products") or [], scores, strict=False)),
        )


@dataclass(frozen=True)
class Catalogue:
    """Products with their eligibility rules and co-holding counts."""

    products: dict[str, dict[str, Any]]

    @classmethod
    def from_rows(cls, rows: list[dict[str, Any]]) -> Catalogue:
        return cls({row["product_id"]: row for row in rows})

    def confidence(self, held: str, candidate: str) -> float:
        """P(candidate | held) among customers holding ``held``."""
        row = self.products.get(held) or {}
        holders = row.get("holders") or 0
        if not holders:
            return 0.0
        counts = dict(zip(row.get("co_held_products") or [], row.get("co_held_counts") or [], strict=False))
        return float(counts.get(candidate, 0)) / float(holders)

    def name(self, product_id: str) -> str | None:
        """The product's catalogue name (None when it has none)."""
        name = (self.products.get(product_id) or {}).get("name")
        return name if isinstance(name, str) else None

    def tie_weights(self, product_id: str) -> dict[str, float]:
        """The fitted log-odds of one log-unit of holding neighbours, per tie type (empty when not fitted)."""
        row = self.products.get(product_id) or {}
        return dict(zip(row.get("cross_sell_tie_types") or [], row.get("cross_sell_tie_weights") or [], strict=False))


def as_list(value: Any) -> list[str]:
    """A list property; a pipe-separated string (as some loaders write lists) is split."""
    if value is None:
        return []
    if isinstance(value, str):
        return [part for part in value.split("|") if part]
    return [str(item) for item in value]


def age_on(birth_date: str | None, today: date) -> int | None:
    if not birth_date:
        return None
    try:
        born = date.fromisoformat(birth_date[:10])
    except ValueError:
        return None
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def eligible(profile: Profile, product: Mapping[str, Any], today: date) -> bool:
    """Segment, minimum age (persons) and exclusivity both ways."""
    segments = as_list(product.get("segments"))
    if segments and profile.segment not in segments:
        return False
    min_age = product.get("min_age")
    if min_age is not None and profile.kind == "Person":
        age = age_on(profile.birth_date, today)
        if age is None or age < int(min_age):
            return False
    return not set(as_list(product.get("exclusive_with"))) & profile.products


def similar_score(profile: Profile, product_id: str, catalogue: Catalogue) -> float:
    if not profile.products:
        return float(catalogue.products[product_id].get("holder_share") or 0.0)
    return max(catalogue.confidence(held, product_id) for held in profile.products)


def noisy_or(values: list[float]) -> float:
    remaining = 1.0
    for value in values:
        remaining *= 1.0 - min(max(value, 0.0), 1.0)
    return 1.0 - remaining


def score_product(
    profile: Profile,
    catalogue: Catalogue,
    product_id: str,
    paths: list[EvidencePath],
    settings: AnalyticsSettings,
    today: date,
) -> Recommendation | None:
    """One product scored for one customer, or None when it is held or not allowed (pure)."""
    product = catalogue.products[product_id]
    if product_id in profile.products or not eligible(profile, product, today):
        return None
    if any(
        product_id in as_list((catalogue.products.get(held) or {}).get("exclusive_with")) for held in profile.products
    ):
        return None
    if profile.fitted:
        return _fitted_recommendation(profile, catalogue, product_id, paths)
    evidence = sorted(paths, key=lambda path: (-path.contribution, path.nodes, path.ties))
    network = noisy_or([path.contribution for path in evidence])
    similar = similar_score(profile, product_id, catalogue)
    weights = settings.cross_sell_weights
    parts = {"network": round(network, DECIMALS), "similar": round(similar, DECIMALS), "eligibility": 1.0}
    score = round(weights.get("network", 0.0) * network + weights.get("similar", 0.0) * similar, DECIMALS)
    return Recommendation(product_id=product_id, score=score, parts=parts, evidence=evidence[:MAX_EVIDENCE])


def _fitted_recommendation(
    profile: Profile, catalogue: Catalogue, product_id: str, paths: list[EvidencePath]
) -> Recommendation | None:
    """The fitted model's probability, its parts, and the direct ties to holders weighted by the fitted terms."""
    if product_id not in profile.fitted:
        return None
    model, own = profile.fitted[product_id]
    weights = catalogue.tie_weights(product_id)
    direct = [path for path in paths if len(path.ties) == 1 and weights.get(path.ties[0], 0.0) > 0]
    per_type: dict[str, int] = {}
    for path in direct:
        per_type[path.ties[0]] = per_type.get(path.ties[0], 0) + 1
    # The model reads log(1 + holders) per tie type: the holders of one type share that term equally.
    evidence = [
        path.model_copy(
            update={
                "contribution": round(
                    weights[path.ties[0]] * math.log1p(per_type[path.ties[0]]) / per_type[path.ties[0]], DECIMALS
                )
            }
        )
        for path in direct
    ]
    evidence.sort(key=lambda path: (-path.contribution, path.nodes, path.ties))
    parts = {
        "model": round(model, DECIMALS),
        "own": round(own, DECIMALS),
        "network": round(max(model - own, 0.0), DECIMALS),
        "eligibility": 1.0,
    }
    return Recommendation(
        product_id=product_id, score=round(model, DECIMALS), parts=parts, evidence=evidence[:MAX_EVIDENCE]
    )


def score_products(
    profile: Profile,
    catalogue: Catalogue,
    paths: dict[str, list[EvidencePath]],
    settings: AnalyticsSettings,
    today: date,
) -> list[Recommendation]:
    """Every eligible product the customer does not hold, scored and ranked (pure; both backends share it)."""
    found = [
        scored
        for product_id in sorted(catalogue.products)
        if (scored := score_product(profile, catalogue, product_id, paths.get(product_id, []), settings, today))
    ]
    found.sort(key=lambda item: (-item.score, item.product_id))
    return found


def network_paths(
    customer_id: str,
    neighbours: list[dict[str, Any]],
    second_hop: list[dict[str, Any]],
    registry: TieRegistry,
    hop_decay: float,
) -> dict[str, list[EvidencePath]]:
    """Evidence paths per product from the two fetches' raw rows (pure)."""
    weights = registry.weights()
    paths: dict[str, list[EvidencePath]] = {}
    for row in neighbours:
        weight = weights.get(row["tie_type"], 0.0)
        for product_id in row["products"] or []:
            paths.setdefault(product_id, []).append(
                EvidencePath(
                    nodes=[customer_id, row["neighbour"]],
                    ties=[row["tie_type"]],
                    contribution=round(weight, DECIMALS),
                )
            )
    for row in second_hop:
        share = row["holders"] / max(row["fanout"], 1)
        contribution = weights.get(row["first_type"], 0.0) * weights.get(row["second_type"], 0.0) * hop_decay * share
        paths.setdefault(row["product_id"], []).append(
            EvidencePath(
                nodes=[customer_id, row["via"], row["example"]],
                ties=[row["first_type"], row["second_type"]],
                contribution=round(contribution, DECIMALS),
            )
        )
    return paths


def cross_sell(
    store: GraphStore,
    customer_id: str,
    limit: int = 10,
    *,
    settings: AnalyticsSettings | None = None,
    today: date | None = None,
) -> list[Recommendation]:
    """Products to offer a customer, best first; empty when the customer has not consented to marketing."""
    check_limit(limit, 100)
    inputs = cross_sell_inputs(store, customer_id)
    return inputs.recommend(store.registry, settings or AnalyticsSettings(), today or date.today())[:limit]


@dataclass(frozen=True)
class CrossSellInputs:
    """What one customer's recommendations are scored from, read in one query (``GET_CROSS_SELL_INPUTS``).

    The catalogue and the network are read only for a customer who consented to marketing: the others get
    no personalised recommendations, so they are left empty.
    """

    facts: Mapping[str, Any]
    """What decides whether the customer gets offers at all: ``status``, ``lifecycle_stage``,
    ``consent_marketing``, and ``analytics_as_of`` (the day analyze scored it)."""
    profile: Profile
    catalogue: Catalogue
    neighbours: list[dict[str, Any]]
    second_hop: list[dict[str, Any]]

    def recommend(self, registry: TieRegistry, settings: AnalyticsSettings, today: date) -> list[Recommendation]:
        """Every recommendation, ranked; empty when the customer has not consented to marketing."""
        if not self.profile.consent:
            return []
        paths = network_paths(self.profile.customer_id, self.neighbours, self.second_hop, registry, settings.hop_decay)
        return score_products(self.profile, self.catalogue, paths, settings, today)


def cross_sell_inputs(store: GraphStore, customer_id: str) -> CrossSellInputs:
    """One customer's :class:`CrossSellInputs` (one statement on Neo4j); ``NotFound`` when there is no such
    customer."""
    rows = store.run(GET_CROSS_SELL_INPUTS, {"customer_id": customer_id})
    if not rows:
        raise NotFound(f"no customer with id {customer_id!r}")
    row = rows[0]
    return CrossSellInputs(
        facts={name: row[name] for name in ("status", "lifecycle_stage", "consent_marketing", "analytics_as_of")},
        profile=Profile.from_row(row),
        catalogue=Catalogue.from_rows(row["catalogue"]),
        neighbours=row["neighbours"],
        second_hop=row["second_hop"],
    )


def recommend(
    store: GraphStore,
    customer_id: str,
    settings: AnalyticsSettings,
    today: date,
    *,
    catalogue: Catalogue | None = None,
) -> list[Recommendation]:
    """Every recommendation for a customer, ranked (``catalogue``: one read before, for many customers)."""
    return recommend_each(store, [customer_id], settings, today, catalogue=catalogue)[customer_id]


def recommend_each(
    store: GraphStore,
    customer_ids: Sequence[str],
    settings: AnalyticsSettings,
    today: date,
    *,
    catalogue: Catalogue | None = None,
) -> dict[str, list[Recommendation]]:
    """:func:`recommend` for each customer, their profiles and neighbours read in one statement each (not one per
    customer: a manager's book is scored in a handful of round trips on Neo4j); ``NotFound`` names the first
    unknown customer."""
    profiles = {
        row["customer_id"]: Profile.from_row(row)
        for row in store.run(LIST_CUSTOMER_PROFILES, {"customer_ids": list(customer_ids)})
    }
    if unknown := [customer_id for customer_id in customer_ids if customer_id not in profiles]:
        raise NotFound(f"no customer with id {unknown[0]!r}")
    offered = [customer_id for customer_id, profile in profiles.items() if profile.consent]
    if not offered:
        return {customer_id: [] for customer_id in customer_ids}
    catalogue = catalogue or Catalogue.from_rows(store.run(LIST_PRODUCTS))
    neighbours: dict[str, list[dict[str, Any]]] = {customer_id: [] for customer_id in offered}
    for row in store.run(LIST_NEIGHBOUR_HOLDINGS, {"customer_ids": offered}):
        neighbours[row.pop("customer_id")].append(row)
    found: dict[str, list[Recommendation]] = {}
    for customer_id in customer_ids:
        profile = profiles[customer_id]
        if not profile.consent:
            found[customer_id] = []
            continue
        # The fitted score reads only direct ties to holders (_fitted_recommendation), so the second hop, the
        # costliest read, is fetched for the hand-set score alone (as the array recommender does).
        second_hop = [] if profile.fitted else store.run(LIST_SECOND_HOP_HOLDINGS, {"customer_id": customer_id})
        paths = network_paths(customer_id, neighbours[customer_id], second_hop, store.registry, settings.hop_decay)
        found[customer_id] = score_products(profile, catalogue, paths, settings, today)
    return found


def prospects(
    store: GraphStore,
    product_id: str,
    limit: int = 100,
    *,
    settings: AnalyticsSettings | None = None,
    today: date | None = None,
) -> list[Prospect]:
    """Customers to approach for a product: consenting, active, eligible, not holding it, tied to a holder.

    Ranked like :func:`cross_sell` (network part from direct ties to holders only), ties broken by id.
    """
    check_limit(limit, 10_000)
    settings = settings or AnalyticsSettings()
    catalogue = Catalogue.from_rows(store.run(LIST_PRODUCTS))
    if product_id not in catalogue.products:
        raise NotFound(f"no product with id {product_id!r}")
    weights = store.registry.weights()
    by_candidate: dict[str, list[EvidencePath]] = {}
    for row in store.run(LIST_PRODUCT_PROSPECTS, {"product_id": product_id}):
        by_candidate.setdefault(row["candidate"], []).append(
            EvidencePath(
                nodes=[row["candidate"], row["holder"]],
                ties=[row["tie_type"]],
                contribution=round(weights.get(row["tie_type"], 0.0), DECIMALS),
            )
        )
    profiles = store.run(LIST_CUSTOMER_PROFILES, {"customer_ids": sorted(by_candidate)})
    found = []
    for row in profiles:
        checkpoint()
        profile = Profile.from_row(row)
        paths = by_candidate[profile.customer_id]
        scored = score_product(profile, catalogue, product_id, paths, settings, today or date.today())
        if scored is not None and profile.consent:
            found.append(
                Prospect(
                    customer_id=profile.customer_id, score=scored.score, parts=scored.parts, evidence=scored.evidence
                )
            )
    found.sort(key=lambda item: (-item.score, item.customer_id))
    return found[:limit]
