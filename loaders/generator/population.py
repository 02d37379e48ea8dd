"""The whole simulated bank in memory: customers, ties, holdings, churn, accounts, managers, interactions.

Files are written from this by the ``files_*`` modules; nothing here is text that a source system would
format differently, except names and addresses.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from graph.model import TieType
from loaders.generator import bank, companies, effects, network, people
from loaders.generator.common import (
    AS_OF,
    MONTHS,
    WINDOW_START,
    BoolArray,
    Days,
    FloatArray,
    IntArray,
    Progress,
    Ties,
    child_rng,
    iso_dates,
    month_of,
    padded,
)
from loaders.progress import Count

PERSON_SHARE = 0.85


@dataclass
class Staff:
    """Branches, relationship managers and their books."""

    branch_city: IntArray
    branch_name: list[str]
    manager_name: list[str]
    manager_branch: IntArray
    manages: Ties  # manager index -> customer index, props: since


@dataclass
class Bank:
    seed: int
    n: int
    n_person: int
    cust_no: list[str]
    name: list[str]  # customers; persons' names first
    segment: IntArray
    consent: BoolArray
    since: Days
    city: IntArray
    district: list[str]
    street: list[str]
    born: Days  # persons
    male: BoolArray
    resident_id: list[str]
    mobile: list[str]
    household: IntArray
    employer: IntArray
    firms: companies.Companies
    ties: dict[TieType, Ties]
    circles: list[list[int]]
    holds: BoolArray
    taken_up: IntArray  # (customers, products): month taken up within the window, -1 before it, MONTHS never
    world: effects.World
    churn: effects.Churn
    accounts: bank.Accounts
    staff: Staff
    measured: dict[str, object] = field(default_factory=dict)
    mechanism: effects.Mechanism | None = None  # the true rates, when built with ``keep_mechanism``

    @property
    def age(self) -> FloatArray:
        years = np.zeros(self.n)
        years[: self.n_person] = (AS_OF - self.born).astype(np.int64) / 365.25
        return years


def build(
    customers: int,
    seed: int,
    progress: Progress | None = None,
    world: str = effects.DEFAULT_WORLD,
    keep_mechanism: bool = False,
) -> Bank:
    """Simulate ``customers`` customers of the bank in one of ``effects.WORLDS``; deterministic for ``seed``.

    ``keep_mechanism`` keeps the simulation's true rates on the bank (for the evaluation's oracle)."""

    def report(step: str, done: int) -> None:
        # One stage of six steps, so that a log reads "simulate the bank: started, 6 steps to do".
        if progress is not None:
            progress("simulate the bank", done, Count(6, "steps"))

    n = max(customers, 20)
    n_person = round(n * PERSON_SHARE)
    n_company = n - n_person
    rng = child_rng(seed, "people")
    report("people", 0)
    homes = network.households(rng, n_person)
    # Households live together: one city, district and street address per household.
    home_city = people.pick(rng, people.CITY_NAMES, int(homes.household.max()) + 1, people.CITY_WEIGHTS)
    city = np.concatenate(
        [home_city[homes.household], people.pick(rng, people.CITY_NAMES, n_company, people.CITY_WEIGHTS)]
    )
    region, district_names = people.districts(rng, city)
    first_house = np.unique(homes.household, return_index=True)[1]
    home_member = first_house[homes.household]
    region[:n_person] = region[home_member]
    district = np.array(district_names, dtype=object)
    district[:n_person] = district[home_member]
    home_region = region[:n_person]
    # The ID's region is where the person was first registered: usually, not always, where they live now.
    elsewhere = rng.random(n_person) < 0.3
    id_region = np.where(elsewhere, rng.choice(region, n_person), home_region)
    surname_index = people.surnames(rng, n_person)[homes.father_line]
    given = people.given_names(rng, homes.male)
    names = [people.SURNAMES[s] + g for s, g in zip(surname_index.tolist(), given, strict=True)]
    resident_id = people.resident_ids(rng, id_region, homes.born, homes.male)
    mobile = people.mobiles(rng, n_person)
    address = people.addresses(rng, city, district.tolist())
    street = np.array(address.street, dtype=object)
    street[:n_person] = street[home_member]

    report("companies", 1)
    rng = child_rng(seed, "companies")
    firms = companies.companies(rng, n_company, city[n_person:], region[n_person:])
    segment = np.where(rng.random(n) < 0.05, bank.PRIVATE, bank.RETAIL)
    segment[n_person:] = np.where(firms.capital >= 5e6, bank.CORPORATE, bank.SME)
    consent = rng.random(n) < 0.62
    adult_at = homes.born + np.timedelta64(int(18 * 365.25), "D")
    earliest = np.concatenate([np.maximum(adult_at, np.datetime64("2000-01-01")), firms.established])
    span = np.maximum((AS_OF - earliest).astype(np.int64) - 30, 1)
    since = earliest + (rng.random(n) ** 0.7 * span).astype(np.int64).astype("m8[D]")

    report("network", 2)
    rng = child_rng(seed, "network")
    ties = dict(homes.ties)
    partner = np.full(n_person, -1, dtype=np.int64)
    spouses = ties[TieType.SPOUSE_OF]
    partner[spouses.source], partner[spouses.target] = spouses.target, spouses.source
    payroll_firms = rng.random(n_company) < np.where(segment[n_person:] == bank.CORPORATE, 0.3, 0.15)
    corporate, employer = network.corporate_ties(
        rng, n_person, n_company, homes.born, partner, firms.capital, payroll_firms
    )
    ties.update(corporate)
    ties[TieType.REFERRED] = network.referral_ties(rng, since)

    report("products", 3)
    staff = _staff(child_rng(seed, "staff"), n, city, segment, since)
    groups = _groups(n, n_person, homes.household, employer, city, staff)
    the_world = effects.draw_world(world, child_rng(seed, "world"))
    rng = child_rng(seed, "products")
    is_person = np.arange(n) < n_person
    age = np.zeros(n)
    age[:n_person] = (AS_OF - homes.born).astype(np.int64) / 365.25
    allowed = bank.eligible(segment, age, is_person)
    rates = bank.holding_rates(segment, age)
    if the_world.confounded:
        rates = effects.homophilous_start(rng, rates, groups)
    holds = (rng.random(rates.shape) < rates) & allowed
    holds[n_person:, bank.INDEX["P701"]] = payroll_firms
    if the_world.confounded:
        effects.assign_payroll(rng, holds, employer)
    bank.apply_exclusions(rng, holds)
    borrowers = np.flatnonzero(holds[n_person:, bank.INDEX["L603"]]) + n_person
    rep_of = np.full(n, -1, dtype=np.int64)
    reps = ties[TieType.LEGAL_REP_OF]
    rep_of[reps.target] = reps.source
    ties[TieType.GUARANTEES], circles = network.guarantee_ties(rng, borrowers, rep_of)

    report("effects", 4)
    joined_month = np.where(since < WINDOW_START, -1, month_of(since))
    tenure_years = (WINDOW_START - since).astype(np.int64) / 365.25
    outcome = effects.simulate(
        child_rng(seed, "effects"),
        the_world,
        holds,
        allowed,
        segment,
        age,
        joined_month,
        tenure_years,
        groups,
        ties,
        keep_mechanism,
    )
    churn = outcome.churn
    measured: dict[str, object] = {
        "churn": effects.neighbour_churn_rates(churn.month, ties),
        "churned": int(churn.churned.sum()),
        "churned_through_ties": int(churn.contagious.sum()),
        "taken_up_in_window": int(((outcome.taken_up >= 0) & (outcome.taken_up < MONTHS)).sum()),
        "taken_up_through_ties": outcome.adopted_through_ties,
    }

    report("accounts", 5)
    rng = child_rng(seed, "accounts")
    accounts = bank.accounts(
        rng, outcome.holds, outcome.taken_up, segment, since, churn.month, churn.decline_from, churn.decline_to
    )
    cust_no = padded(child_rng(seed, "keys").permutation(n) + 10**9, 12)
    report("done", 6)
    return Bank(
        seed,
        n,
        n_person,
        cust_no,
        names + firms.name,
        segment,
        consent,
        since,
        city,
        district.tolist(),
        street.tolist(),
        homes.born,
        homes.male,
        resident_id,
        mobile,
        homes.household,
        employer,
        firms,
        ties,
        circles,
        outcome.holds,
        outcome.taken_up,
        the_world,
        churn,
        accounts,
        staff,
        measured,
        outcome.mechanism,
    )


def _groups(
    n: int, n_person: int, household: IntArray, employer: IntArray, city: IntArray, staff: Staff
) -> effects.Groups:
    """Each customer's household, employer (a company is its own), branch (through its manager) and city."""
    household_of = np.full(n, -1, dtype=np.int64)
    household_of[:n_person] = household
    employer_of = np.arange(n, dtype=np.int64)
    employer_of[:n_person] = employer
    branch_of = np.full(n, -1, dtype=np.int64)
    branch_of[staff.manages.target] = staff.manager_branch[staff.manages.source]
    return effects.Groups(household_of, employer_of, branch_of, city)


def _staff(rng: np.random.Generator, n: int, city: IntArray, segment: IntArray, since: Days) -> Staff:
    """Branches in every city (more where customers are), managers at branches, books of customers."""
    n_city = len(people.CITIES)
    customers_in = np.bincount(city, minlength=n_city).astype(np.float64)
    n_branch = max(n_city, n // 3000)
    extra = rng.choice(n_city, size=n_branch - n_city, p=customers_in / customers_in.sum())
    branch_city = np.sort(np.concatenate([np.arange(n_city), extra]))
    roads = people.pick(rng, people.ROADS, n_branch)
    branch_name = [f"{people.CITY_NAMES[c]}{people.ROADS[r][:-1]}支行" for c, r in zip(branch_city, roads, strict=True)]
    n_manager = max(n_branch, n // 500)
    manager_branch = np.sort(np.concatenate([np.arange(n_branch), rng.integers(0, n_branch, n_manager - n_branch)]))
    male = rng.random(n_manager) < 0.5
    manager_name = [
        people.SURNAMES[s] + g
        for s, g in zip(people.surnames(rng, n_manager).tolist(), people.given_names(rng, male), strict=True)
    ]
    # Companies and private-banking clients all have a manager; a fifth of retail customers do.
    managed = np.flatnonzero((segment != 0) | (rng.random(n) < 0.2))
    manager = np.zeros(len(managed), dtype=np.int64)
    manager_city = branch_city[manager_branch]
    for c in range(n_city):
        rows = np.flatnonzero(city[managed] == c)
        pool = np.flatnonzero(manager_city == c)
        manager[rows] = pool[rng.integers(0, len(pool), len(rows))]
    start = np.maximum(since[managed], AS_OF - np.timedelta64(5 * 365, "D"))
    span = np.maximum((AS_OF - start).astype(np.int64), 1)
    assigned = start + (rng.random(len(managed)) * span).astype(np.int64).astype("m8[D]")
    return Staff(
        branch_city, branch_name, manager_name, manager_branch, Ties(manager, managed, {"since": iso_dates(assigned)})
    )
