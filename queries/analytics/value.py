"""Balances, tiers, lifecycle stages and lifetime value: per-customer numbers from owned accounts.

Joint accounts count in full for every owner and joint holder (an authorized signatory gets nothing): a
relationship manager serves each of them for the whole balance, and the tier must not drop when a couple
opens a joint account. Bank-wide totals therefore cannot be summed from ``aum``; they come from accounts.
Closed accounts count zero. Everything here is vectorised: one pass over the holdings, no Python loops.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from graph.settings import AnalyticsSettings
from queries.analytics.frames import BoolArray, FloatArray, GraphFrames, weighted_sum

AUM_CATEGORIES = ("deposit", "investment", "insurance")
DEPOSIT_CATEGORIES = ("deposit",)
LOAN_CATEGORIES = ("loan", "credit")
TIERS = ("private_banking", "diamond", "platinum", "gold", "silver")
STANDARD = "standard"
ACCOUNTS_AT_ONCE = 65_536
MONTHS_KEPT = 4  # month-ends of a customer's total balance kept: the latest and three months before it (features)


@dataclass(frozen=True)
class CustomerValue:
    """Per-customer arrays, aligned with ``GraphFrames.customers``."""

    aum: FloatArray
    deposits: FloatArray
    loans: FloatArray
    recent_totals: FloatArray
    """(n, up to ``MONTHS_KEPT``) total month-end balance over owned accounts of every category, the last
    month-ends, oldest first (the whole series is not kept: it cost 192 MB a copy at a million customers)."""
    trend: FloatArray
    """Fitted relative change of the total balance over the trend window (-0.2 = fell by a fifth)."""
    tenure_months: FloatArray
    churned: BoolArray
    closed_share: FloatArray
    tier: list[str]
    stage: list[str]
    ltv_historical: FloatArray
    ltv_current: FloatArray
    ltv_potential: FloatArray


def customer_value(frames: GraphFrames, settings: AnalyticsSettings) -> CustomerValue:
    """Balances, tier, stage and lifetime value of every customer."""
    n = frames.size
    owner, account = frames.owner_customer, frames.owner_account
    closed = frames.accounts["closed"].to_numpy(dtype=bool)
    category = frames.accounts["category"].to_numpy(dtype=object)
    latest = np.where(closed, 0.0, frames.balances[:, -1])

    def total(categories: tuple[str, ...]) -> FloatArray:
        chosen = np.isin(category, categories)[account]
        return weighted_sum(owner[chosen], latest[account[chosen]], n)

    series = _monthly_totals(owner, account, frames.balances, n)
    trend = relative_trend(series, settings.trend_months)
    held = np.bincount(owner, minlength=n)
    closed_count = weighted_sum(owner, closed[account].astype(np.float64), n)
    closed_share = np.divide(closed_count, held, out=np.zeros(n), where=held > 0)
    churned = (frames.customers["status"].to_numpy() == "churned") | ((held > 0) & (closed_count == held))
    tenure = tenure_months(frames.customers["customer_since"], frames.as_of)

    aum = total(AUM_CATEGORIES)
    stage = lifecycle_stages(tenure, trend, churned, settings)
    historical, current, potential = lifetime_value(frames, closed, trend, tenure, churned, settings)
    return CustomerValue(
        aum=aum,
        deposits=total(DEPOSIT_CATEGORIES),
        loans=total(LOAN_CATEGORIES),
        recent_totals=series[:, -MONTHS_KEPT:].copy(),
        trend=trend,
        tenure_months=tenure,
        churned=churned,
        closed_share=closed_share,
        tier=tiers(aum, settings.tier_thresholds),
        stage=stage,
        ltv_historical=historical,
        ltv_current=current,
        ltv_potential=potential,
    )


def _monthly_totals(owner: np.ndarray, account: np.ndarray, balances: FloatArray, n: int) -> FloatArray:
    """(n, months): each customer's sum of the absolute month-end balances of the accounts he holds (``owner``
    and ``account`` aligned), a month at a time: no (holdings, months) copy of the balances."""
    out = np.zeros((n, balances.shape[1]))
    for month in range(balances.shape[1]):
        out[:, month] = weighted_sum(owner, np.abs(balances[account, month]), n)
    return out


def tiers(aum: FloatArray, thresholds: dict[str, float]) -> list[str]:
    """The highest tier whose threshold ``aum`` reaches (thresholds are inclusive), else 'standard'."""
    ordered = sorted(thresholds.items(), key=lambda item: -item[1])
    names = np.array([name for name, _ in ordered] + [STANDARD], dtype=object)
    bounds = np.array([bound for _, bound in ordered])
    # Number of thresholds strictly above aum = position of the first tier reached.
    position = (aum[:, None] < bounds[None, :]).sum(axis=1) if len(bounds) else np.zeros(len(aum), dtype=int)
    return list(names[position])


def relative_trend(series: FloatArray, window: int) -> FloatArray:
    """Least-squares slope over the last ``window`` months times the window length, over the mean level.

    -0.3 means the fitted line fell by 30% of the average balance across the window; 0 for empty series.
    """
    if series.shape[1] < 2:
        return np.zeros(series.shape[0])
    tail = series[:, -min(window, series.shape[1]) :]
    x = np.arange(tail.shape[1], dtype=np.float64)
    centred = x - x.mean()
    slope = tail @ centred / float(centred @ centred)
    level = tail.mean(axis=1)
    return np.divide(slope * (tail.shape[1] - 1), level, out=np.zeros(len(level)), where=level > 1e-9)


def tenure_months(customer_since: pd.Series, as_of: object) -> FloatArray:
    """Months from ``customer_since`` to ``as_of``; 0 when unknown."""
    since = pd.to_datetime(customer_since, errors="coerce")
    days = (pd.Timestamp(as_of) - since).dt.days.to_numpy(dtype=np.float64)
    return np.clip(np.nan_to_num(days / 30.4375, nan=0.0), 0.0, None)


def lifecycle_stages(
    tenure: FloatArray, trend: FloatArray, churned: BoolArray, settings: AnalyticsSettings
) -> list[str]:
    """churned > acquisition (tenure below ``acquisition_months``) > decline > growth > maturity."""
    stage = np.full(len(tenure), "maturity", dtype=object)
    stage[trend >= settings.growth_trend] = "growth"
    stage[trend <= settings.decline_trend] = "decline"
    stage[tenure < settings.acquisition_months] = "acquisition"
    stage[churned] = "churned"
    return list(stage)


def lifetime_value(
    frames: GraphFrames,
    closed: BoolArray,
    trend: FloatArray,
    tenure: FloatArray,
    churned: BoolArray,
    settings: AnalyticsSettings,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(historical, current, potential) contribution in CNY (``closed`` accounts count zero).

    historical: sum over recorded months of month-end balance x annual category margin / 12;
    current: the latest month-end balances x annual margin (this year's run rate);
    potential: current grown by the customer's trend (capped at ``max_growth`` a year, floored at
    -``max_growth``) over the expected remaining tenure, discounted at ``discount_rate``; 0 once churned.
    """
    n = frames.size
    owner, account = frames.owner_customer, frames.owner_account
    margin = frames.accounts["category"].map(settings.margins).fillna(0.0).to_numpy(dtype=np.float64)
    per_account_history, per_account_current = np.zeros(len(margin)), np.zeros(len(margin))
    # A block of accounts at a time: the (accounts, months) temporaries of all of them at once took 1 GB and
    # more at a million customers; each row's figures are the same either way.
    for start in range(0, len(margin), ACCOUNTS_AT_ONCE):
        rows = slice(start, start + ACCOUNTS_AT_ONCE)
        balances = np.where(closed[rows, None], 0.0, frames.balances[rows])
        monthly = np.abs(balances) * margin[rows, None] / 12.0
        per_account_history[rows] = monthly.sum(axis=1)
        per_account_current[rows] = monthly[:, -1] * 12.0
    historical = weighted_sum(owner, per_account_history[account], n)
    current = weighted_sum(owner, per_account_current[account], n)
    years_observed = max(min(settings.trend_months, frames.months) - 1, 1) / 12.0
    growth = np.clip(trend / years_observed, -settings.max_growth, settings.max_growth)
    remaining = np.clip(settings.expected_tenure_years - tenure / 12.0, 1.0, None)
    horizon = int(np.ceil(remaining.max())) if n else 0
    potential = np.zeros(n)
    for year in range(1, horizon + 1):
        share = np.clip(remaining - (year - 1), 0.0, 1.0)  # part of this year still within the tenure
        potential += share * current * ((1 + growth) / (1 + settings.discount_rate)) ** year
    potential[churned] = 0.0
    return historical, np.where(churned, 0.0, current), potential
