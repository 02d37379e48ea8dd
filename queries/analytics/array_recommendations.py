"""Cross-sell recommendations for many customers at once, from the arrays ``crm-graph analyze`` already holds.

``crm-graph analyze`` picks every manager's opportunities from the recommendations of some fifty customers per
book. Asking the store for each customer's profile, neighbours and second-hop holders (what
:func:`~queries.analytics.crosssell.recommend` does per request) made that step as costly as the whole write-back.
Everything those fetches return is in :class:`~queries.analytics.frames.GraphFrames` and the fitted cross-sell
scores: :class:`ArrayRecommender` makes the same raw rows from them (customer facts, held products, direct
neighbours' holdings, and for a customer scored with the hand-set weights the second-hop holders) and hands them
to the same pure scoring (:func:`~queries.analytics.crosssell.network_paths`,
:func:`~queries.analytics.crosssell.score_products`), so the answers are the request-time ones; a test compares
the two for every customer of a generated bank.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np

from graph.settings import AnalyticsSettings
from graph.ties import TieRegistry
from queries.analytics.churn import DirectedTies
from queries.analytics.crosssell import Catalogue, Profile, Recommendation, network_paths, score_products
from queries.analytics.crosssell_fit import CrossSellFit, customer_properties
from queries.analytics.fetch import second_hop_rows
from queries.analytics.frames import GraphFrames
from queries.analytics.prospecting import holdings


class ArrayRecommender:
    """``recommend(store, customer_id, settings, today, catalogue=catalogue)`` for a store holding what analyze
    wrote (the fitted scores of ``fit``, the co-holdings and tie weights of ``catalogue``), from the arrays."""

    def __init__(
        self,
        frames: GraphFrames,
        fit: CrossSellFit | None,
        catalogue: Catalogue,
        registry: TieRegistry,
        settings: AnalyticsSettings,
        today: date,
    ) -> None:
        self._fit, self._catalogue, self._registry = fit, catalogue, registry
        self._settings, self._today = settings, today
        customers = frames.customers
        # Python lists: pandas' per-cell access costs more than the scoring itself.
        self._ids: list[str] = customers["id"].tolist()
        # Missing texts as None, as the store gives them (the frame holds them as NaN).
        segments, births = (
            customers[name].astype(object).where(customers[name].notna(), None) for name in ("segment", "birth_date")
        )
        self._facts = list(zip(customers["kind"], segments, births, strict=True))
        self._consent: list[bool] = customers["consent_marketing"].tolist()
        self._number = {customer_id: number for number, customer_id in enumerate(self._ids)}
        held, product_ids = holdings(frames)
        self._held = held.tocsr()
        self._product_ids = product_ids
        # Each tie read from both ends (a tie of a customer to itself twice, as the view reads it), grouped by
        # the end it is read from.
        ties = DirectedTies.from_frames(frames)
        order = np.argsort(ties.source, kind="stable")
        self._others: list[int] = ties.target[order].tolist()
        # the tie type names shared, not a new string per tie (200 MB more at a million customers)
        self._types: list[str] = [ties.type_names[code] for code in ties.type_code[order].tolist()]
        self._starts: list[int] = np.searchsorted(ties.source[order], np.arange(frames.size + 1)).tolist()

    def __call__(self, customer_id: str) -> list[Recommendation]:
        number = self._number[customer_id]
        kind, segment, birth_date = self._facts[number]
        fitted = self._fitted(number)
        profile = Profile(
            customer_id=customer_id,
            kind=kind,
            segment=segment,
            birth_date=birth_date,
            consent=bool(self._consent[number]),
            products=frozenset(self._products_of(number)),
            fitted=fitted,
        )
        if not profile.consent:
            return []
        # The fitted score reads only direct ties to holders of the products it scored; the hand-set one reads
        # every product's holders, one and two ties away.
        wanted = set(fitted) if fitted else None
        neighbours = self._neighbour_rows(number, wanted)
        second_hop = [] if fitted else self._second_hop_rows(number)
        paths = network_paths(customer_id, neighbours, second_hop, self._registry, self._settings.hop_decay)
        return score_products(profile, self._catalogue, paths, self._settings, self._today)

    def _fitted(self, number: int) -> dict[str, tuple[float, float]]:
        """The customer's fitted (model, own-only) scores as the Customer row stores them."""
        stored = customer_properties(self._fit, number)
        scores = zip(stored["cross_sell_scores"], stored["cross_sell_own_scores"], strict=True)
        return dict(zip(stored["cross_sell_products"], scores, strict=True))

    def _products_of(self, number: int) -> list[str]:
        held = self._held
        return [self._product_ids[column] for column in held.indices[held.indptr[number] : held.indptr[number + 1]]]

    def _ties_of(self, number: int) -> list[tuple[str, int]]:
        """(tie type, other customer) of each tie touching the customer, in either direction."""
        start, end = self._starts[number], self._starts[number + 1]
        return list(zip(self._types[start:end], self._others[start:end], strict=True))

    def _neighbour_rows(self, number: int, wanted: set[str] | None) -> list[dict[str, Any]]:
        """``LIST_NEIGHBOUR_HOLDINGS``' rows (only the ``wanted`` products when given)."""
        rows = [
            {
                "neighbour": self._ids[other],
                "tie_type": tie_type,
                "products": [p for p in self._products_of(other) if wanted is None or p in wanted],
            }
            for tie_type, other in self._ties_of(number)
            if other != number
        ]
        rows.sort(key=lambda row: (row["neighbour"], row["tie_type"]))
        return rows

    def _second_hop_rows(self, number: int) -> list[dict[str, Any]]:
        """``LIST_SECOND_HOP_HOLDINGS``' rows: per first-hop customer and tie type, the holders among its other
        ties by (tie type, product), its fanout and the smallest holder id."""
        rows: list[dict[str, Any]] = []
        seen: set[tuple[str, int]] = set()
        for first_type, via in self._ties_of(number):
            if via == number or (first_type, via) in seen:
                continue
            seen.add((first_type, via))
            second = [(tie_type, other) for tie_type, other in self._ties_of(via) if other != number]
            holders: dict[tuple[str, str], set[str]] = {}
            for second_type, holder in second:
                for product_id in self._products_of(holder):
                    holders.setdefault((second_type, product_id), set()).add(self._ids[holder])
            rows.extend(second_hop_rows(self._ids[via], first_type, len(second), holders))
        rows.sort(key=lambda row: (row["via"], row["first_type"], row["second_type"], row["product_id"]))
        return rows
