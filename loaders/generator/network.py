"""The customer network: households (spouses, parents, siblings), company ownership and staff, referrals.

Customers are internal indices: persons ``0 .. n_person-1``, then companies. Families are built first, so
that ages, genders and surnames agree with the ties (a child is 22-35 years younger than its parents and
usually carries the father's surname).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from graph.model import TieType
from loaders.generator.common import AS_OF, BoolArray, Days, FloatArray, IntArray, Ties, iso_dates


@dataclass
class Households:
    born: Days
    male: BoolArray
    household: IntArray  # household index of each person
    father_line: IntArray  # index of the person whose surname the person carries (self for adults)
    ties: dict[TieType, Ties]


def _as_days(years: FloatArray) -> Days:
    return np.round(years * 365.25).astype(np.int64).astype("m8[D]")


def households(rng: np.random.Generator, n_person: int) -> Households:
    """Group ``n_person`` persons into households of a head, maybe a spouse and up to two adult children."""
    spouse = rng.random(n_person) < 0.55
    children = rng.choice(3, size=n_person, p=[0.6, 0.28, 0.12])
    sizes = 1 + spouse + children
    ends = np.cumsum(sizes)
    count = int(np.searchsorted(ends, n_person)) + 1
    spouse, children, sizes = spouse[:count], children[:count], sizes[:count]
    start = ends[:count] - sizes
    member_household = np.repeat(np.arange(count), sizes)[:n_person]
    rank = np.arange(n_person) - start[member_household]
    has_spouse = spouse[member_household]
    role = np.where(rank == 0, 0, np.where(has_spouse & (rank == 1), 1, 2))

    # Heads with children are old enough for adult children; otherwise ages 20-85, most of working age.
    head_age = np.where(children > 0, rng.uniform(46, 82, count), rng.triangular(20, 38, 85, count))
    head_male = rng.random(count) < 0.5
    age = head_age[member_household].copy()
    spouse_rows = role == 1
    age[spouse_rows] += rng.normal(0, 3, int(spouse_rows.sum()))
    child_rows = role == 2
    age[child_rows] -= rng.uniform(22, 35, int(child_rows.sum()))
    age = np.clip(age, 18.2, 90)
    born = AS_OF - _as_days(age) - rng.integers(0, 300, n_person).astype("m8[D]")

    male = np.where(role == 0, head_male[member_household], ~head_male[member_household])
    male[child_rows] = rng.random(int(child_rows.sum())) < 0.5

    head = start[member_household]
    partner = np.where(has_spouse, head + 1, -1)
    father = np.where(head_male[member_household] | (partner < 0), head, partner)
    father_line = np.where(role == 2, father, np.arange(n_person))

    ties: dict[TieType, Ties] = {}
    ties[TieType.SPOUSE_OF] = Ties(head[spouse_rows], np.flatnonzero(spouse_rows))
    child = np.flatnonzero(child_rows)
    child_partner = partner[child]
    with_partner = child_partner >= 0
    ties[TieType.PARENT_OF] = Ties(
        np.concatenate([head[child], child_partner[with_partner]]), np.concatenate([child, child[with_partner]])
    )
    # Second children: the first child sits just before them in the same household.
    second = child[(child > 0) & np.isin(child - 1, child)]
    second = second[member_household[second] == member_household[second - 1]]
    ties[TieType.SIBLING_OF] = Ties(second - 1, second)
    # A few wider-family ties (cousins, in-laws) between households.
    relatives = rng.choice(n_person, size=(n_person // 60, 2))
    relatives = relatives[member_household[relatives[:, 0]] != member_household[relatives[:, 1]]]
    ties[TieType.RELATIVE_OF] = Ties(relatives[:, 0], relatives[:, 1])
    return Households(born, male, member_household, father_line, ties)


def corporate_ties(
    rng: np.random.Generator,
    n_person: int,
    n_company: int,
    born: Days,
    partner_of: IntArray,
    capital: FloatArray,
    payroll_companies: BoolArray,
) -> tuple[dict[TieType, Ties], IntArray]:
    """Owners, representatives, directors, staff, subsidiaries and suppliers; also each person's employer.

    ``partner_of`` gives each person's spouse (or -1): family businesses often have the spouse as the
    second shareholder. Returns the ties and the employer (company index, or -1) of each person.
    """
    company = np.arange(n_company) + n_person
    age = (AS_OF - born).astype(np.int64) / 365.25
    adults = np.flatnonzero((age >= 25) & (age <= 70))
    rep = adults[rng.integers(0, len(adults), n_company)]
    ties: dict[TieType, Ties] = {TieType.LEGAL_REP_OF: Ties(rep, company)}

    rep_ratio = np.round(rng.uniform(0.3, 1.0, n_company), 4)
    second = np.where(partner_of[rep] >= 0, partner_of[rep], adults[rng.integers(0, len(adults), n_company)])
    has_second = (rep_ratio < 0.95) & (rng.random(n_company) < 0.6) & (second != rep)
    second_ratio = np.round((1 - rep_ratio) * rng.uniform(0.3, 1.0, n_company), 4)
    # Some companies are partly held by another company (a holding or an investor).
    corporate_holder = rng.integers(0, n_company, n_company) + n_person
    has_corporate = (rng.random(n_company) < 0.08) & (corporate_holder != company)
    corporate_ratio = np.round((1 - rep_ratio - np.where(has_second, second_ratio, 0)) * 0.9, 4)
    has_corporate &= corporate_ratio > 0.01
    holder = np.concatenate([rep, second[has_second], corporate_holder[has_corporate]])
    held = np.concatenate([company, company[has_second], company[has_corporate]])
    ratio = np.concatenate([rep_ratio, second_ratio[has_second], corporate_ratio[has_corporate]])
    ties[TieType.SHAREHOLDER_OF] = Ties(holder, held, {"ratio": [f"{r:.4f}" for r in ratio.tolist()]})

    directors = rng.choice(3, size=n_company, p=[0.5, 0.35, 0.15])
    director_company = np.repeat(company, directors)
    director = adults[rng.integers(0, len(adults), len(director_company))]
    ties[TieType.DIRECTOR_OF] = Ties(director, director_company)

    parent = rng.integers(0, n_company, n_company) + n_person
    is_subsidiary = (rng.random(n_company) < 0.05) & (parent != company)
    sub_ratio = np.round(rng.uniform(0.51, 1.0, int(is_subsidiary.sum())), 4)
    ties[TieType.SUBSIDIARY_OF] = Ties(
        company[is_subsidiary], parent[is_subsidiary], {"ratio": [f"{r:.4f}" for r in sub_ratio.tolist()]}
    )
    supplier = rng.integers(0, n_company, int(n_company * 0.8)) + n_person
    buyer = rng.integers(0, n_company, len(supplier)) + n_person
    keep = supplier != buyer
    ties[TieType.SUPPLIES] = Ties(supplier[keep], buyer[keep])

    # Staff: about half of working-age persons work for a customer company, big companies employing more.
    working = np.flatnonzero((age >= 22) & (age <= 60) & (rng.random(n_person) < 0.5))
    weight = capital**0.6
    employer_of_staff = rng.choice(n_company, size=len(working), p=weight / weight.sum()) + n_person
    employer = np.full(n_person, -1, dtype=np.int64)
    employer[working] = employer_of_staff
    payroll = payroll_companies[employer_of_staff - n_person]
    ties[TieType.EMPLOYED_BY] = Ties(working, employer_of_staff, {"payroll": ["Y" if p else "N" for p in payroll]})
    return ties, employer


def guarantee_ties(rng: np.random.Generator, borrowers: IntArray, rep_of: IntArray) -> tuple[Ties, list[list[int]]]:
    """Guarantee chains among borrowing companies, some closed into circles, plus owners guaranteeing.

    Returns the ties and the circles (lists of internal indices) for the ground truth.
    """
    order = rng.permutation(borrowers)
    lengths = rng.integers(2, 6, max(1, len(order) // 4))
    ends = np.cumsum(lengths)
    lengths = lengths[ends <= len(order)]
    sources: list[int] = []
    targets: list[int] = []
    circles: list[list[int]] = []
    position = 0
    closing = rng.random(len(lengths)) < 0.25
    for length, close in zip(lengths.tolist(), closing.tolist(), strict=True):
        chain = order[position : position + length].tolist()
        position += length
        sources += chain[:-1]
        targets += chain[1:]
        if close and length >= 3:
            sources.append(chain[-1])
            targets.append(chain[0])
            circles.append(chain)
    owner_guarantees = borrowers[rng.random(len(borrowers)) < 0.3]
    source = np.concatenate([np.array(sources, dtype=np.int64), rep_of[owner_guarantees]])
    target = np.concatenate([np.array(targets, dtype=np.int64), owner_guarantees])
    amount = np.round(rng.lognormal(14.5, 0.8, len(source)), -4)
    return Ties(source, target, {"amount": [f"{a:.2f}" for a in amount.tolist()]}), circles


def referral_ties(rng: np.random.Generator, since: Days, share: float = 0.08) -> Ties:
    """Customers referred by someone who was a customer before them; ``at`` is the day they joined."""
    order = np.argsort(since, kind="stable")
    rank = np.empty(len(since), dtype=np.int64)
    rank[order] = np.arange(len(since))
    referred = np.flatnonzero((rng.random(len(since)) < share) & (rank > 10))
    referrer = order[(rng.random(len(referred)) * rank[referred]).astype(np.int64)]
    keep = since[referrer] < since[referred]
    referred, referrer = referred[keep], referrer[keep]
    return Ties(referrer, referred, {"at": iso_dates(since[referred])})
