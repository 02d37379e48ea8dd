"""The ceiling of ``crm-graph eval``: each customer's true churn risk and product uptake, from the world's mechanism.

A model sees only what was loaded; this oracle rebuilds the same bank (same seed and world, so the same
simulation) and reads the rates the simulation drew from. At a cut after month ``cut`` it gives, for every
customer, the chance of leaving in the months after the cut with everything known at the cut (frailty,
shocks, products held, who had left when) and the part of it ties carry, from neighbours who had left by then
or who leave later (the months after the cut are run many times), and for every product the chance of taking
it up given what everyone held at the cut. The analytics never import this module (a test
checks it); only the evaluation ranks customers by it, beside the models, to show what ranking is reachable.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from loaders.generator import effects, population
from loaders.generator.bank import PRODUCTS
from loaders.generator.common import MONTHS, FloatArray, child_rng
from loaders.generator.files_accounts import PRODUCT_ID_PREFIX

CUSTOMER_SYSTEM = "core"  # the system whose key (cust_no) every generated customer has
RUNS = 200  # runs of the months after the cut: the chance of leaving is an average over them


@dataclass(frozen=True)
class TrueRisk:
    """True risks keyed by the core system's customer number and by product id."""

    source_system: str
    source_keys: list[str]  # cust_no, rows aligned with the arrays
    churn_risk: FloatArray  # chance of leaving after the cut
    churn_through_ties: FloatArray  # the part of it ties carry
    product_ids: list[str]
    uptake: FloatArray  # (customers, products) chance of taking the product up after the cut


def true_risk(customers: int, seed: int, world: str, cut: int) -> TrueRisk:
    """The true risks of the bank ``generate(customers, seed, world=world)`` makes, after month-end ``cut``."""
    data = population.build(customers, seed, world=world, keep_mechanism=True)
    mechanism = data.mechanism
    assert mechanism is not None
    held = data.taken_up < cut  # taken up before the cut's month (-1: before the window)
    risk, through_ties = _churn(mechanism, data.churn.month, held.sum(axis=1), cut, child_rng(seed, "oracle"))
    own_uptake, spread = effects.uptake_hazards(mechanism.own_uptake, mechanism.complement, mechanism.uptake_ties, held)
    monthly = 1.0 - (1.0 - own_uptake) * (1.0 - spread)
    return TrueRisk(
        source_system=CUSTOMER_SYSTEM,
        source_keys=list(data.cust_no),
        churn_risk=risk,
        churn_through_ties=through_ties,
        product_ids=[PRODUCT_ID_PREFIX + product.code for product in PRODUCTS],
        uptake=1.0 - (1.0 - monthly) ** (MONTHS - cut),
    )


def _churn(
    mechanism: effects.Mechanism, month: np.ndarray, product_count: np.ndarray, cut: int, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray]:
    """(own, through ties) chance of leaving in months ``cut`` .. the last.

    Neighbours who leave after the cut pass churn on too, so the months after the cut are run ``RUNS`` times
    with the simulation's hazards; each customer's chance of staying is averaged over the runs' neighbour
    departures (not counted from its own draws: that would add the noise of a few hundred coin flips).
    """
    own_by_month = [
        effects.own_churn(mechanism.own_churn_hazard * mechanism.shock[:, m], product_count) * mechanism.can_churn
        for m in range(cut, MONTHS)
    ]
    stay_own = np.prod([1.0 - own for own in own_by_month], axis=0)
    left = np.repeat(np.where(month < cut, month, MONTHS)[:, None], RUNS, axis=1)
    log_stay = np.zeros(left.shape)
    for m, own in zip(range(cut, MONTHS), own_by_month, strict=True):
        recent = ((left < m) & (left >= m - effects.CHURN_SPREAD_MONTHS)).astype(np.float64)
        through_ties = (1.0 - np.exp(mechanism.churn_ties @ recent)) * mechanism.can_churn[:, None]
        leaving = 1.0 - (1.0 - own[:, None]) * (1.0 - through_ties)
        log_stay += np.log1p(-np.minimum(leaving, 1.0 - 1e-12))
        left[(left == MONTHS) & (rng.random(left.shape) < leaving)] = m
    risk = 1.0 - np.exp(log_stay).mean(axis=1)
    # The part ties carry, stated so that own and ties combine as independent risks: 1 - (1 - own)(1 - ties).
    return risk, np.clip(1.0 - (1.0 - risk) / np.maximum(stay_own, 1e-12), 0.0, 1.0)
