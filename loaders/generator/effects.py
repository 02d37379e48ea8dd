"""Planted network effects with known strength: products spreading in households and workplaces, contagious
churn along family, corporate and referral ties, and the held-out holdings used to score cross-selling.

Each function returns what it planted so that ``ground_truth.json`` can state it and measure it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from graph.model import TieType
from graph.ties import spec
from loaders.generator.bank import INDEX
from loaders.generator.common import MONTHS, BoolArray, FloatArray, IntArray, Ties

# Extra holding probability when another household member holds the product.
HOUSEHOLD_LIFT = {"D201": 0.15, "W301": 0.2, "F302": 0.2, "I401": 0.2, "C501": 0.2, "X801": 0.15, "L602": 0.08}
# Extra holding probability per share of colleagues (same employer) holding the product.
COLLEAGUE_LIFT = {"C501": 0.5, "W301": 0.3, "F302": 0.3, "L602": 0.3}
SPREADING = sorted(set(HOUSEHOLD_LIFT) | set(COLLEAGUE_LIFT))
PAYROLL_TAKE_UP = 0.9  # staff of an employer that pays salaries through the bank

# Churn: spontaneous monthly-window rate by segment, and the chance that a churned customer takes a tied
# neighbour along, by tie category (employment is a weaker corporate tie).
SEED_CHURN = (0.035, 0.02, 0.015, 0.03)
CONTAGION = {"family": 0.12, "corporate": 0.08, "employment": 0.03, "referral": 0.10}
WARNING_SHARE = 0.65  # churners whose balances fall for some months before they leave
DECOY_SHARE = 0.04  # staying customers whose balances fall anyway
HELD_OUT_SHARE = 0.10


def spread_products(
    rng: np.random.Generator, holds: BoolArray, household: IntArray, employer: IntArray, allowed: BoolArray
) -> None:
    """Raise holding probabilities where a household member or colleagues hold the product (in place)."""
    n_person = len(household)
    persons = holds[:n_person]
    seed = persons.copy()
    with_employer = employer >= 0
    staff_count = np.bincount(employer[with_employer], minlength=len(holds))
    for code in SPREADING:
        k = INDEX[code]
        column = seed[:, k].astype(np.int64)
        gain = np.zeros(n_person)
        if code in HOUSEHOLD_LIFT:
            others = np.bincount(household, weights=column)[household] - column
            gain += np.where(others > 0, HOUSEHOLD_LIFT[code], 0.0)
        if code in COLLEAGUE_LIFT:
            holders = np.bincount(employer[with_employer], weights=column[with_employer], minlength=len(holds))
            share = np.zeros(n_person)
            colleagues = staff_count[employer[with_employer]] - 1
            share[with_employer] = (holders[employer[with_employer]] - column[with_employer]) / np.maximum(
                colleagues, 1
            )
            gain += COLLEAGUE_LIFT[code] * share
        persons[:, k] |= (rng.random(n_person) < gain) & allowed[:n_person, k]


def assign_payroll(rng: np.random.Generator, holds: BoolArray, employer: IntArray) -> None:
    """Staff of employers with a payroll agreement get a payroll account."""
    n_person = len(employer)
    k = INDEX["P701"]
    employer_pays = np.zeros(n_person, dtype=bool)
    has = employer >= 0
    employer_pays[has] = holds[employer[has], k]
    holds[:n_person, k] |= employer_pays & (rng.random(n_person) < PAYROLL_TAKE_UP)


def tie_category(tie_type: TieType) -> str:
    if tie_type is TieType.EMPLOYED_BY:
        return "employment"
    return str(spec(tie_type).category.value)


@dataclass
class Churn:
    month: IntArray  # month index of leaving (0..23), MONTHS if the customer stays
    contagious: BoolArray
    trigger: IntArray  # the churned neighbour that triggered it, or -1
    decline_from: IntArray
    decline_to: IntArray

    @property
    def churned(self) -> BoolArray:
        return self.month < MONTHS


def churn(
    rng: np.random.Generator, segment: IntArray, ties: dict[TieType, Ties], can_churn: BoolArray, waves: int = 3
) -> Churn:
    """Spontaneous churn, then waves of contagion along customer ties, then balance warnings and decoys."""
    n = len(segment)
    month = np.full(n, MONTHS, dtype=np.int64)
    seeds = (rng.random(n) < np.array(SEED_CHURN)[segment]) & can_churn
    month[seeds] = rng.integers(6, 21, int(seeds.sum()))
    contagious = np.zeros(n, dtype=bool)
    trigger = np.full(n, -1, dtype=np.int64)
    source, target, chance = _undirected(ties)
    frontier = seeds
    for _ in range(waves):
        live = frontier[source] & (month[target] == MONTHS) & can_churn[target] & (rng.random(len(source)) < chance)
        order = rng.permutation(np.flatnonzero(live))
        caught, first = np.unique(target[order], return_index=True)
        by = source[order][first]
        when = month[by] + rng.integers(1, 4, len(caught))
        keep = when < MONTHS  # whoever would leave after the window has not left yet
        caught, by, when = caught[keep], by[keep], when[keep]
        month[caught] = when
        contagious[caught] = True
        trigger[caught] = by
        frontier = np.zeros(n, dtype=bool)
        frontier[caught] = True
    churned = month < MONTHS
    decline_from = np.full(n, MONTHS, dtype=np.int64)
    decline_to = month.copy()
    warned = churned & (rng.random(n) < WARNING_SHARE)
    decline_from[warned] = np.maximum(month[warned] - rng.integers(3, 7, int(warned.sum())), 0)
    decoys = ~churned & (rng.random(n) < DECOY_SHARE)
    decline_from[decoys] = rng.integers(14, 22, int(decoys.sum()))
    decline_to[decoys] = decline_from[decoys] + rng.integers(5, 10, int(decoys.sum()))
    return Churn(month, contagious, trigger, decline_from, decline_to)


def _undirected(ties: dict[TieType, Ties]) -> tuple[IntArray, IntArray, FloatArray]:
    """Both directions of every customer tie, with the contagion chance of its category."""
    sources, targets, chances = [], [], []
    for tie_type, tie in ties.items():
        chance = CONTAGION.get(tie_category(tie_type))
        if chance is None:
            continue
        sources += [tie.source, tie.target]
        targets += [tie.target, tie.source]
        chances.append(np.full(2 * len(tie), chance))
    return np.concatenate(sources), np.concatenate(targets), np.concatenate(chances)


def neighbour_churn_rates(month: IntArray, ties: dict[TieType, Ties]) -> dict[str, float]:
    """Churn rate of customers who had a neighbour leave before them, and of all others (the planted lift).

    A customer is exposed when a tied neighbour churned in an earlier month than the customer did (or at
    all, for customers who stayed); counting later-churning neighbours would credit the infector with
    the churn it caused.
    """
    source, target, _ = _undirected(ties)
    exposed = np.zeros(len(month), dtype=bool)
    exposed[target[month[source] < month[target]]] = True
    churned = month < MONTHS
    rate_exposed = float(churned[exposed].mean()) if exposed.any() else 0.0
    rate_other = float(churned[~exposed].mean()) if (~exposed).any() else 0.0
    return {
        "churn_rate_with_churned_neighbour": round(rate_exposed, 4),
        "churn_rate_without_churned_neighbour": round(rate_other, 4),
        "customers_with_churned_neighbour": int(exposed.sum()),
        "lift": round(rate_exposed / rate_other, 2) if rate_other else 0.0,
    }


def household_product_rates(holds: BoolArray, household: IntArray) -> dict[str, dict[str, float]]:
    """Per spreading product: holding rate of persons whose household has another holder, and of the rest."""
    n_person = len(household)
    size = np.bincount(household)[household]
    shared = size > 1
    rates: dict[str, dict[str, float]] = {}
    for code in sorted(HOUSEHOLD_LIFT):
        column = holds[:n_person, INDEX[code]].astype(np.int64)
        others = (np.bincount(household, weights=column)[household] - column) > 0
        with_holder, without = shared & others, shared & ~others
        rates[code] = {
            "household_member_holds": round(float(column[with_holder].mean()) if with_holder.any() else 0.0, 4),
            "no_household_member_holds": round(float(column[without].mean()) if without.any() else 0.0, 4),
        }
    return rates


def hold_out(rng: np.random.Generator, holds: BoolArray, churned: BoolArray) -> tuple[IntArray, IntArray]:
    """Remove one spreading product from about 10% of staying customers; return (customers, products)."""
    n = len(holds)
    columns = np.array([INDEX[code] for code in SPREADING])
    candidates = np.flatnonzero(~churned & holds[:, columns].any(axis=1))
    size = min(len(candidates), round(HELD_OUT_SHARE * n))
    chosen = np.sort(rng.choice(candidates, size=size, replace=False))
    held = holds[chosen][:, columns]
    # One held spreading product per chosen customer, uniformly among the ones they hold.
    scores = np.where(held, rng.random(held.shape), -1.0)
    product = columns[np.argmax(scores, axis=1)]
    holds[chosen, product] = False
    return chosen, product
