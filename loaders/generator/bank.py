"""Products, holdings, accounts and month-end balances.

A holding is a (customer, product) pair; every holding becomes one account in the system that sells the
product. Balances are drawn per account in fixed-size chunks, each from its own seeded generator, so a
million accounts never sit in memory as text and the output does not depend on the chunking of the writer.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from loaders.generator.common import (
    AS_OF,
    MONTH_ENDS,
    MONTHS,
    WINDOW_START,
    BoolArray,
    Days,
    FloatArray,
    IntArray,
    child_rng,
    month_of,
)

SEGMENTS = ("retail", "private", "corporate", "sme")
RETAIL, PRIVATE, CORPORATE, SME = range(4)


@dataclass(frozen=True)
class Product:
    code: str
    name: str
    category: str  # deposit | investment | insurance | credit | loan | payroll | fx
    system: str  # the source system that keeps its accounts
    min_age: int
    base_rate: tuple[float, float, float, float]  # holding probability by segment; 0 = not sold to it
    level: float  # typical balance in yuan for a retail customer (log-normal median)

    @property
    def segments(self) -> list[str]:
        return [segment for segment, rate in zip(SEGMENTS, self.base_rate, strict=True) if rate > 0]


PRODUCTS: tuple[Product, ...] = (
    Product("D101", "活期存款", "deposit", "core", 0, (1.0, 1.0, 1.0, 1.0), 2.0e4),
    Product("D201", "定期存款", "deposit", "core", 0, (0.25, 0.6, 0.4, 0.3), 8.0e4),
    Product("W301", "理财产品", "investment", "wealth", 18, (0.08, 0.6, 0.25, 0.1), 1.5e5),
    Product("F302", "公募基金", "investment", "wealth", 18, (0.05, 0.4, 0.0, 0.0), 5.0e4),
    Product("I401", "代理保险", "insurance", "wealth", 18, (0.04, 0.3, 0.0, 0.0), 3.0e4),
    Product("C501", "信用卡", "credit", "cards", 18, (0.15, 0.5, 0.0, 0.0), 8.0e3),
    Product("L601", "个人住房贷款", "loan", "loans", 18, (0.10, 0.15, 0.0, 0.0), 6.0e5),
    Product("L602", "个人消费贷款", "loan", "loans", 18, (0.06, 0.03, 0.0, 0.0), 8.0e4),
    Product("L603", "经营贷款", "loan", "loans", 0, (0.0, 0.10, 0.35, 0.45), 1.2e6),
    Product("P701", "代发工资", "payroll", "core", 16, (0.002, 0.002, 0.3, 0.15), 1.2e4),
    Product("X801", "外汇存款", "fx", "core", 18, (0.02, 0.15, 0.2, 0.05), 3.0e4),
)
CODES = [product.code for product in PRODUCTS]
INDEX = {code: index for index, code in enumerate(CODES)}
# Pairs a customer may not hold together: a borrower gets either an unsecured consumer loan or a
# business loan, not both (a consumer loan must not fund a business). Mortgage + consumer loan is fine.
EXCLUSIVE_WITH: tuple[tuple[str, str], ...] = (("L602", "L603"),)
SEGMENT_LEVEL = np.array([1.0, 8.0, 30.0, 6.0])  # balance multiplier by segment
CURRENCIES = ("CNY", "USD", "EUR", "HKD", "JPY")


def holding_rates(segment: IntArray, age: FloatArray) -> FloatArray:
    """Probability of holding each product at the start of the window, from the segment's base rates and age."""
    rates = np.array([product.base_rate for product in PRODUCTS])[:, segment].T.copy()
    # Older customers keep time deposits; younger ones borrow and use credit cards.
    rates[:, INDEX["D201"]] *= np.where(age > 50, 1.5, 1.0)
    young = (age > 0) & (age < 40)
    for code in ("C501", "L602"):
        rates[:, INDEX[code]] *= np.where(young, 1.4, 0.8)
    return np.clip(rates, 0, 1)


def eligible(segment: IntArray, age: FloatArray, is_person: BoolArray) -> BoolArray:
    """Product rules: the segment must be served and persons must have reached the minimum age."""
    served = np.array([product.base_rate for product in PRODUCTS])[:, segment].T > 0
    min_age = np.array([product.min_age for product in PRODUCTS], dtype=np.float64)
    old_enough = ~is_person[:, None] | (age[:, None] >= min_age[None, :])
    return served & old_enough


def apply_exclusions(rng: np.random.Generator, holds: BoolArray) -> None:
    """Drop one product of each exclusive pair (at random which) where a customer holds both."""
    for first, second in EXCLUSIVE_WITH:
        a, b = INDEX[first], INDEX[second]
        both = np.flatnonzero(holds[:, a] & holds[:, b])
        drop_first = rng.random(len(both)) < 0.5
        holds[both[drop_first], a] = False
        holds[both[~drop_first], b] = False


@dataclass
class Accounts:
    """One account per holding, in customer order; balances are drawn lazily by :func:`balance_rows`."""

    owner: IntArray
    product: IntArray
    opened: Days
    closed: Days  # NaT while open
    currency: IntArray  # index into CURRENCIES
    level: FloatArray
    decline_from: IntArray  # first month of a fall in balance, or MONTHS for none
    decline_to: IntArray  # month the fall ends (churn month, or MONTHS)

    def __len__(self) -> int:
        return len(self.owner)

    def subset(self, rows: IntArray) -> Accounts:
        return Accounts(*(getattr(self, name)[rows] for name in self.__dataclass_fields__))


def accounts(
    rng: np.random.Generator,
    holds: BoolArray,
    taken_up: IntArray,
    segment: IntArray,
    since: Days,
    churn_month: IntArray,
    decline_from: IntArray,
    decline_to: IntArray,
) -> Accounts:
    """Accounts for all holdings, closing when the customer churned.

    ``taken_up`` gives the month of each holding within the window (-1: held at its start). Holdings from
    before the window open between joining and the window's start (at joining for later joiners); the first
    current account opens with the customer; a holding taken up in month m opens within that month.
    """
    owner, product = np.nonzero(holds)
    owner, product = owner.astype(np.int64), product.astype(np.int64)
    n = len(owner)
    joined = since[owner]
    month_taken = taken_up[owner, product]
    before = np.minimum(WINDOW_START, AS_OF)
    span = np.maximum((before - joined).astype(np.int64) - 30, 1)
    opened = joined + (rng.random(n) * span).astype(np.int64).astype("m8[D]")
    opened = np.where((product == INDEX["D101"]) | (joined >= before), joined, opened)
    # Short loans (3-5 year terms) still running were drawn down in the last years before the window.
    short_loan = (product == INDEX["L602"]) | (product == INDEX["L603"])
    recent = before - np.timedelta64(600, "D")
    opened = np.where(
        short_loan & (opened < recent), recent + ((opened - joined).astype(np.int64) % 540).astype("m8[D]"), opened
    )
    month_start = (MONTH_ENDS[np.clip(month_taken, 0, MONTHS - 1)].astype("M8[M]")).astype("M8[D]")
    in_window = month_start + rng.integers(0, 28, n).astype("m8[D]")
    opened = np.where(month_taken >= 0, np.maximum(in_window, joined), opened)
    month = churn_month[owner]
    churned = month < MONTHS
    closed = np.full(n, np.datetime64("NaT"), dtype="M8[D]")
    month_start = (MONTH_ENDS[np.minimum(month, MONTHS - 1)].astype("M8[M]")).astype("M8[D]")
    closed_day = month_start + rng.integers(0, 28, n).astype("m8[D]")
    closed[churned] = np.maximum(closed_day[churned], opened[churned] + np.timedelta64(1, "D"))
    currency = np.zeros(n, dtype=np.int64)
    fx = product == INDEX["X801"]
    currency[fx] = rng.choice([1, 2, 3, 4], size=int(fx.sum()), p=[0.6, 0.15, 0.2, 0.05])
    base = np.array([p.level for p in PRODUCTS])[product] * SEGMENT_LEVEL[segment[owner]]
    level = np.round(base * rng.lognormal(0, 0.8, n), 2)
    return Accounts(owner, product, opened, closed, currency, level, decline_from[owner], decline_to[owner])


LOANS = np.array([product.category == "loan" for product in PRODUCTS])


def balance_matrix(seed: int, stream: str, chunk: int, accounts: Accounts, rows: slice) -> FloatArray:
    """Month-end balances (rows x 24) for a slice of accounts, oldest month first."""
    rng = child_rng(seed, "balances", stream, chunk)
    n = rows.stop - rows.start
    level = accounts.level[rows]
    walk = np.exp(np.cumsum(rng.normal(0.0, 0.06, (n, MONTHS)), axis=1))
    balance = level[:, None] * walk
    # Loans amortise: the outstanding balance falls steadily from the principal.
    is_loan = LOANS[accounts.product[rows]]
    months = np.arange(MONTHS)[None, :]
    first = month_of(accounts.opened[rows])
    months_on_book = (MONTH_ENDS[None, :] - accounts.opened[rows][:, None]).astype(np.int64) / 30.44
    amortised = level[:, None] * np.clip(1.0 - months_on_book / 240.0, 0.05, 1.0)
    balance = np.where(is_loan[:, None], amortised, balance)
    # A fall before leaving (or a scare that passes): balances slide down to a fifth over the fall months.
    start, stop = accounts.decline_from[rows], accounts.decline_to[rows]
    length = np.maximum(stop - start, 1)
    progress = np.clip((months - start[:, None] + 1) / length[:, None], 0.0, 1.0)
    balance *= np.where(months >= start[:, None], 1.0 - 0.8 * progress, 1.0)
    balance[months < first[:, None]] = 0.0
    closed_month = month_of(accounts.closed[rows])  # NaT sorts last: 24, never closed in the window
    balance[months >= closed_month[:, None]] = 0.0
    return np.round(balance, 2)


def balance_rows(seed: int, stream: str, accounts: Accounts, chunk_size: int = 100_000) -> Iterator[str]:
    """The ``;``-separated balance text of each account, in account order."""
    for chunk, begin in enumerate(range(0, len(accounts), chunk_size)):
        rows = slice(begin, min(begin + chunk_size, len(accounts)))
        for row in balance_matrix(seed, stream, chunk, accounts, rows).tolist():
            yield ";".join(map(str, row))
