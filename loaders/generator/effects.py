"""The world's mechanics: who takes up which product and who leaves, month by month over the window.

A *world* says which mechanisms run (chosen before any model was scored against them, and not tuned since):

* ``null``: no effect between customers at all. Product uptake and churn come from the customer's own
  attributes only: segment, age, tenure, the products already held, and an unobserved individual frailty.
* ``contagion``: on top of that, churn and product uptake spread along customer ties. Each tie type gets its
  own strength, drawn at random per seed (not in the registry's order: a type the registry weights low may
  matter most), and each product its own spreadability.
* ``confounded``: no spread from person to person, but shared causes: shocks that raise the churn of every
  customer of one employer, branch or city for some months, and homophily (a household's and an employer's
  shared taste for products and shared frailty), so tied customers look alike without influencing each other.
* ``mixed`` (the default): all of these.

Everything after the simulation is an outcome that a model can only predict from the past: accounts opened
in later months and customers leaving in later months. Nothing is held back from the exports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
from scipy import sparse

from graph.model import TieType
from graph.ties import DEFAULT_REGISTRY
from loaders.generator.bank import INDEX, PRODUCTS
from loaders.generator.common import MONTHS, BoolArray, FloatArray, IntArray, Ties


class WorldName(StrEnum):
    """The worlds a bank can be generated in (see the module docstring)."""

    NULL = "null"
    CONTAGION = "contagion"
    CONFOUNDED = "confounded"
    MIXED = "mixed"


WORLDS = tuple(world.value for world in WorldName)
DEFAULT_WORLD = WorldName.MIXED.value

# Own churn: monthly base hazard by segment (retail, private, corporate, sme), scaled by own attributes.
CHURN_BASE = (0.0025, 0.0015, 0.001, 0.002)
CHURN_FIRST_MONTH = 2  # the first months give every customer some history before anyone leaves
FRAILTY_SD = 0.6  # unobserved individual differences
# Contagion: the monthly hazard one recently churned neighbour adds, averaged over the tie types, and for how
# many months after the neighbour left it lasts. The average is the same for every seed; only how it is shared
# among the tie types is drawn. Set from an oracle given the true strengths, before any model was scored on it:
# with the earlier draw (the average itself random, 0.02-0.04) a third or fewer of the leavers after the cut
# left through a tie on most seeds, and even the oracle ranked leavers barely better with the network than
# without (noise-free lift ratio 1.0-1.2), so no target on the network's lift could be met or missed.
CHURN_SPREAD_MEAN = 0.08
CHURN_SPREAD_MONTHS = 3
# Confounding: shared frailty of a household and of an employer's staff; shocks by group.
HOUSEHOLD_FRAILTY_SD = 0.7
EMPLOYER_FRAILTY_SD = 0.5
SHOCK_MONTHS = 4
SHOCKS = {"employer": (0.04, 5.0), "branch": (0.10, 3.0), "city": (0.15, 2.0)}  # (share of groups hit, multiplier)
WARNING_SHARE = 0.65  # churners whose balances fall for some months before they leave
DECOY_SHARE = 0.04  # staying customers whose balances fall anyway

# Own uptake: monthly hazard = product base rate x UPTAKE_SCALE, higher where the customer holds a complement.
UPTAKE_SCALE = 0.012
COMPLEMENTS = {
    "W301": ("D201",),
    "F302": ("W301",),
    "I401": ("W301", "D201"),
    "C501": ("L601",),
    "X801": ("W301",),
    "L602": ("C501",),
}
COMPLEMENT_LIFT = 3.0
# Contagion: the largest monthly hazard one neighbour holding the product adds (times the product's spreadability).
UPTAKE_SPREAD_MAX = 0.03
SPREADABILITY = (0.3, 1.5)
TASTE_SD = 0.8  # homophily: a household's and an employer's shared log-taste for each product
PAYROLL_TAKE_UP = 0.9  # staff of an employer that pays salaries through the bank (a shared cause)


@dataclass(frozen=True)
class World:
    """Which mechanisms run and, where ties matter, how strongly each tie type carries them."""

    name: str
    contagion: bool
    confounded: bool
    churn_spread: dict[str, float] = field(default_factory=dict)  # tie type -> monthly hazard per churned neighbour
    uptake_spread: dict[str, float] = field(default_factory=dict)  # tie type -> monthly hazard per holding neighbour
    spreadability: dict[str, float] = field(default_factory=dict)  # product code -> factor on uptake_spread

    def describe(self) -> dict[str, object]:
        return {
            "world": self.name,
            "contagion": self.contagion,
            "confounded": self.confounded,
            "churn_hazard_per_recently_churned_neighbour_by_tie_type": self.churn_spread,
            "uptake_hazard_per_holding_neighbour_by_tie_type": self.uptake_spread,
            "product_spreadability": self.spreadability,
        }


def draw_world(name: str, rng: np.random.Generator) -> World:
    """The world's parameters for one seed; strengths per tie type are drawn, not taken from the registry."""
    if name not in WORLDS:
        raise ValueError(f"unknown world {name!r}; known: {', '.join(WORLDS)}")
    contagion = name in ("contagion", "mixed")
    confounded = name in ("confounded", "mixed")
    types = sorted(tie_spec.type.value for tie_spec in DEFAULT_REGISTRY.values() if tie_spec.between_customers)
    # Squared uniforms: a few strong types, several weak ones, in an order that changes with the seed.
    churn_shares = rng.random(len(types)) ** 2
    churn_draw = CHURN_SPREAD_MEAN * len(types) * churn_shares / churn_shares.sum()
    uptake_draw = UPTAKE_SPREAD_MAX * rng.random(len(types)) ** 2
    spread_draw = rng.uniform(*SPREADABILITY, len(PRODUCTS))
    if not contagion:
        return World(name, contagion, confounded)
    return World(
        name,
        contagion,
        confounded,
        {t: round(float(v), 4) for t, v in zip(types, churn_draw, strict=True)},
        {t: round(float(v), 4) for t, v in zip(types, uptake_draw, strict=True)},
        {p.code: round(float(v), 3) for p, v in zip(PRODUCTS, spread_draw, strict=True)},
    )


@dataclass
class Churn:
    month: IntArray  # month index of leaving (0..23), MONTHS if the customer stays
    contagious: BoolArray
    trigger: IntArray  # the churned neighbour whose tie carried it, or -1
    decline_from: IntArray
    decline_to: IntArray

    @property
    def churned(self) -> BoolArray:
        return self.month < MONTHS


@dataclass
class Groups:
    """The shared settings a customer lives in: household, employer, branch and city (-1: none)."""

    household: IntArray
    employer: IntArray
    branch: IntArray
    city: IntArray


@dataclass(frozen=True)
class Mechanism:
    """The true rates the simulation drew from, kept only when asked (``crm-graph eval``'s oracle reads them)."""

    own_churn_hazard: FloatArray  # monthly, before shocks and the discount for products held
    shock: FloatArray  # (n, months) factor on the own churn hazard
    can_churn: BoolArray
    churn_ties: sparse.csr_matrix  # log(1 - strength) per tie, as in :func:`tie_matrix`
    own_uptake: FloatArray  # (n, products) monthly base uptake hazard, taste included, before complements
    complement: BoolArray  # [held, candidate]
    uptake_ties: dict[str, sparse.csr_matrix]  # product code -> log(1 - strength) per tie


@dataclass
class Outcome:
    """What the simulation decided: final holdings, the month each was taken up, and churn."""

    holds: BoolArray
    taken_up: IntArray  # (n, products) month of uptake within the window, -1 before it, MONTHS never
    churn: Churn
    adopted_through_ties: int = 0
    mechanism: Mechanism | None = None


def _own_churn_hazard(segment: IntArray, age: FloatArray, tenure_years: FloatArray, frailty: FloatArray) -> FloatArray:
    """Monthly churn hazard from the customer's own attributes (products held are applied each month)."""
    logit = frailty.copy()
    logit += np.where((age > 0) & (age < 30), 0.5, 0.0) - np.where(age > 65, 0.3, 0.0)
    logit += np.where(tenure_years < 3, 0.6, 0.0)
    return np.array(CHURN_BASE)[segment] * np.exp(logit)


def _group_effect(rng: np.random.Generator, group: IntArray, sd: float, columns: int = 1) -> FloatArray:
    """A random effect per group (0 for customers outside any), shape (n, columns)."""
    size = int(group.max()) + 1 if len(group) and group.max() >= 0 else 0
    effect = rng.normal(0.0, sd, (size, columns))
    out = np.zeros((len(group), columns))
    member = group >= 0
    out[member] = effect[group[member]]
    return out


def _shock_multiplier(rng: np.random.Generator, groups: Groups) -> FloatArray:
    """(n, months) factor on churn hazard: shocks hit whole employers, branches or cities for some months."""
    n = len(groups.household)
    factor = np.ones((n, MONTHS))
    for name, (share, multiplier) in SHOCKS.items():
        group = getattr(groups, name)
        size = int(group.max()) + 1 if group.max() >= 0 else 0
        hit = rng.random(size) < share
        start = rng.integers(CHURN_FIRST_MONTH, MONTHS - 1, size)
        if not hit.any():
            continue
        # Every member of a hit group at once, not one pass over all customers per group hit (a million
        # customers have some 40,000 employers hit: 50 s). A customer is in one group of a kind, so no cell is
        # named twice in one step, and each cell is multiplied in the same order as before.
        rows = np.flatnonzero((group >= 0) & hit[np.maximum(group, 0)])
        first = start[group[rows]]
        for month in range(SHOCK_MONTHS):
            inside = first + month < MONTHS
            factor[rows[inside], first[inside] + month] *= multiplier
    return factor


def tie_matrix(n: int, ties: dict[TieType, Ties], strength: dict[str, float]) -> sparse.csr_matrix:
    """Symmetric n x n matrix of log(1 - strength) over every tie with a non-zero strength."""
    rows, cols, values = [], [], []
    for tie_type, tie in ties.items():
        value = strength.get(tie_type.value, 0.0)
        if value <= 0 or not len(tie):
            continue
        rows += [tie.source, tie.target]
        cols += [tie.target, tie.source]
        values.append(np.full(2 * len(tie), np.log1p(-value)))
    if not rows:
        return sparse.csr_matrix((n, n))
    return sparse.csr_matrix((np.concatenate(values), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))


def simulate(
    rng: np.random.Generator,
    world: World,
    holds: BoolArray,
    allowed: BoolArray,
    segment: IntArray,
    age: FloatArray,
    joined_month: IntArray,
    tenure_years: FloatArray,
    groups: Groups,
    ties: dict[TieType, Ties],
    keep_mechanism: bool = False,
) -> Outcome:
    """Run the window month by month: customers leave, then those still here take up products.

    ``holds`` are the holdings at the start of the window; ``joined_month`` is -1 for customers who joined
    before it. Customers who joined within the window cannot leave (they are too new to have left).
    ``keep_mechanism`` keeps the true rates on the outcome (memory the size of the shocks and uptake rates).
    """
    n, products = holds.shape
    holds = holds.copy()
    taken_up = np.where(holds, -1, MONTHS).astype(np.int64)
    frailty = np.asarray(rng.normal(0.0, FRAILTY_SD, n), dtype=np.float64)
    taste = np.zeros((n, products))
    shock = np.ones((n, MONTHS))
    if world.confounded:
        frailty += _group_effect(rng, groups.household, HOUSEHOLD_FRAILTY_SD)[:, 0]
        frailty += _group_effect(rng, groups.employer, EMPLOYER_FRAILTY_SD)[:, 0]
        taste = _group_effect(rng, groups.household, TASTE_SD, products) + _group_effect(
            rng, groups.employer, TASTE_SD, products
        )
        shock = _shock_multiplier(rng, groups)
    own_hazard = _own_churn_hazard(segment, age, tenure_years, frailty)
    base = np.array([p.base_rate for p in PRODUCTS])[:, segment].T * UPTAKE_SCALE * np.exp(taste)
    complement = np.zeros((products, products), dtype=bool)  # [held, candidate]
    for candidate, held in COMPLEMENTS.items():
        for code in held:
            complement[INDEX[code], INDEX[candidate]] = True
    exclusive = np.zeros((products, products), dtype=bool)
    exclusive[INDEX["L602"], INDEX["L603"]] = exclusive[INDEX["L603"], INDEX["L602"]] = True
    churn_ties = tie_matrix(n, ties, world.churn_spread)
    uptake_ties = {
        code: tie_matrix(n, ties, {t: s * world.spreadability.get(code, 0.0) for t, s in world.uptake_spread.items()})
        for code in world.spreadability
    }
    month = np.full(n, MONTHS, dtype=np.int64)
    contagious = np.zeros(n, dtype=bool)
    can_churn = joined_month < 0
    adopted_through_ties = 0
    for m in range(MONTHS):
        present = (joined_month <= m) & (month == MONTHS)
        if m >= CHURN_FIRST_MONTH:
            product_count = holds.sum(axis=1)
            own = own_churn(own_hazard * shock[:, m], product_count)
            recent = ((month < m) & (month >= m - CHURN_SPREAD_MONTHS)).astype(np.float64)
            through_ties = 1.0 - np.exp(churn_ties @ recent)
            total = 1.0 - (1.0 - own) * (1.0 - through_ties)
            draw = rng.random(n)
            leaving = present & can_churn & (draw < total)
            # Attribute each leaver to the ties with the share of hazard they brought.
            contagious |= leaving & (draw < total * through_ties / np.maximum(own + through_ties, 1e-12))
            month[leaving] = m
        present &= month == MONTHS
        own_uptake, spread = uptake_hazards(base, complement, uptake_ties, holds)
        total_uptake = 1.0 - (1.0 - own_uptake) * (1.0 - spread)
        blocked = (holds.astype(np.float64) @ exclusive.astype(np.float64)) > 0
        can_take = present[:, None] & allowed & ~holds & ~blocked
        uptake_draw = rng.random((n, products))
        new = can_take & (uptake_draw < total_uptake)
        via_ties: FloatArray = spread / np.maximum(own_uptake + spread, 1e-12)
        adopted_through_ties += int((new & (uptake_draw < total_uptake * via_ties)).sum())
        holds |= new
        taken_up[new] = m
    trigger = _triggers(month, contagious, churn_ties)
    decline_from, decline_to = _warnings(rng, month)
    mechanism = (
        Mechanism(own_hazard, shock, can_churn, churn_ties, base, complement, uptake_ties) if keep_mechanism else None
    )
    churn = Churn(month, contagious, trigger, decline_from, decline_to)
    return Outcome(holds, taken_up, churn, adopted_through_ties, mechanism)


def own_churn(hazard: FloatArray, product_count: IntArray) -> FloatArray:
    """A month's own churn hazard: each product held beyond the first keeps the customer a little longer."""
    return np.clip(hazard * np.exp(-0.35 * np.clip(product_count - 1, 0, 4)), 0, 0.5)


def uptake_hazards(
    base: FloatArray, complement: BoolArray, uptake_ties: dict[str, sparse.csr_matrix], holds: BoolArray
) -> tuple[FloatArray, FloatArray]:
    """A month's (own, through ties) uptake hazards per customer and product, given what everyone holds."""
    held_complement = (holds.astype(np.float64) @ complement.astype(np.float64)) > 0
    own_uptake = np.clip(base * np.where(held_complement, COMPLEMENT_LIFT, 1.0), 0.0, 1.0)
    spread = np.zeros(holds.shape)
    for code, matrix in uptake_ties.items():
        spread[:, INDEX[code]] = 1.0 - np.exp(matrix @ holds[:, INDEX[code]].astype(np.float64))
    return own_uptake, spread


def _triggers(month: IntArray, contagious: BoolArray, matrix: sparse.csr_matrix) -> IntArray:
    """For each contagious leaver, the recently churned neighbour with the strongest tie."""
    trigger = np.full(len(month), -1, dtype=np.int64)
    coo = matrix.tocoo()
    candidates = (
        contagious[coo.row]
        & (month[coo.col] < month[coo.row])
        & (month[coo.col] >= month[coo.row] - CHURN_SPREAD_MONTHS)
    )
    order = np.argsort(coo.data[candidates], kind="stable")  # most negative log-survival = strongest tie first
    rows, cols = coo.row[candidates][order], coo.col[candidates][order]
    first = np.unique(rows, return_index=True)[1]
    trigger[rows[first]] = cols[first]
    return trigger


def _warnings(rng: np.random.Generator, month: IntArray) -> tuple[IntArray, IntArray]:
    """Falling balances before most departures, and in a few customers who stay anyway."""
    n = len(month)
    churned = month < MONTHS
    decline_from = np.full(n, MONTHS, dtype=np.int64)
    decline_to = month.copy()
    warned = churned & (rng.random(n) < WARNING_SHARE)
    decline_from[warned] = np.maximum(month[warned] - rng.integers(3, 7, int(warned.sum())), 0)
    decoys = ~churned & (rng.random(n) < DECOY_SHARE)
    decline_from[decoys] = rng.integers(6, 22, int(decoys.sum()))
    decline_to[decoys] = decline_from[decoys] + rng.integers(5, 10, int(decoys.sum()))
    return decline_from, decline_to


def assign_payroll(rng: np.random.Generator, holds: BoolArray, employer: IntArray) -> None:
    """Staff of employers with a payroll agreement get a payroll account (in place)."""
    n_person = len(employer)
    k = INDEX["P701"]
    employer_pays = np.zeros(n_person, dtype=bool)
    has = employer >= 0
    employer_pays[has] = holds[employer[has], k]
    holds[:n_person, k] |= employer_pays & (rng.random(n_person) < PAYROLL_TAKE_UP)


def homophilous_start(rng: np.random.Generator, rates: FloatArray, groups: Groups) -> FloatArray:
    """Holding probabilities at the start of the window raised or lowered by a household and employer taste."""
    taste = _group_effect(rng, groups.household, TASTE_SD, rates.shape[1]) + _group_effect(
        rng, groups.employer, TASTE_SD, rates.shape[1]
    )
    return np.clip(rates * np.exp(taste), 0.0, 0.95)


def neighbour_churn_rates(month: IntArray, ties: dict[TieType, Ties]) -> dict[str, float]:
    """Churn rate of customers who had a neighbour leave before them, and of all others.

    A customer is exposed when a tied neighbour churned in an earlier month than the customer did (or at
    all, for customers who stayed); counting later-churning neighbours would credit the infector with
    the churn it caused.
    """
    sources = np.concatenate([t.source for t in ties.values()] + [t.target for t in ties.values()])
    targets = np.concatenate([t.target for t in ties.values()] + [t.source for t in ties.values()])
    exposed = np.zeros(len(month), dtype=bool)
    exposed[targets[month[sources] < month[targets]]] = True
    churned = month < MONTHS
    rate_exposed = float(churned[exposed].mean()) if exposed.any() else 0.0
    rate_other = float(churned[~exposed].mean()) if (~exposed).any() else 0.0
    return {
        "churn_rate_with_churned_neighbour": round(rate_exposed, 4),
        "churn_rate_without_churned_neighbour": round(rate_other, 4),
        "customers_with_churned_neighbour": int(exposed.sum()),
        "lift": round(rate_exposed / rate_other, 2) if rate_other else 0.0,
    }
