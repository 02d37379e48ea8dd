"""Features of every customer as of a month-end, for the fitted churn and cross-sell models.

Own features come from the customer's own record (balances, tenure, products, contacts, age, segment);
network features from the ties as they stood at the same month-end (churned neighbours by tie type, degree
by tie type, relational-neighbour and spreading scores, neighbours' balance trend, PageRank; for cross-sell,
neighbours holding the product by tie type). Nothing here knows how the data were made.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from scipy import sparse

from graph.errors import InvalidRequest
from graph.settings import AnalyticsSettings
from queries.analytics.churn import DirectedTies, own_risk, relational_neighbour, spread_energy
from queries.analytics.crosssell import as_list
from queries.analytics.frames import BoolArray, FloatArray, GraphFrames, weighted_sum
from queries.analytics.value import CustomerValue, customer_value

SEGMENTS = ("retail", "private", "corporate", "sme")
RECENT_MONTHS = 3  # a neighbour who left within this many months before the cut counts as recent
# Older departures are not counted, so that "churned neighbours" means the same at every month-end and a model
# trained at an earlier one reads the features at a later one alike.
CHURN_MEMORY_MONTHS = 12
NO_CONTACT_MONTHS = 24.0


@dataclass(frozen=True)
class Snapshot:
    """The bank at one month-end: frames, values, holdings and both feature tables, rows aligned."""

    frames: GraphFrames
    value: CustomerValue
    holdings: BoolArray  # (customers, products) held through an open account
    products: list[str]
    own: pd.DataFrame
    network: pd.DataFrame
    ties: DirectedTies
    tie_types: list[str]

    @property
    def active(self) -> BoolArray:
        """Customers who had joined by the month-end and had not left."""
        since = self.frames.customers["customer_since"].fillna("").astype(str).to_numpy()
        return (since <= self.frames.as_of.isoformat()) & ~self.value.churned & self.holdings.any(axis=1)

    def churn_table(self, rows: BoolArray | None = None) -> pd.DataFrame:
        """Own and network features side by side, of every customer or of ``rows`` only (renumbered; picked
        before they are put side by side, not from a copy of every customer's)."""
        if rows is None:
            return pd.concat([self.own, self.network], axis=1)
        return pd.concat([self.own[rows].reset_index(drop=True), self.network[rows].reset_index(drop=True)], axis=1)


def holdings(frames: GraphFrames, products: list[str]) -> BoolArray:
    """Which products each customer holds through an open account owned as owner or joint holder."""
    column = {product_id: number for number, product_id in enumerate(products)}
    closed = frames.accounts["closed"].to_numpy(dtype=bool)
    account_product = frames.accounts["product_id"].map(column).fillna(-1).to_numpy(dtype=np.int64)
    keep = ~closed[frames.owner_account] & (account_product[frames.owner_account] >= 0)
    held = np.zeros((frames.size, len(products)), dtype=bool)
    held[frames.owner_customer[keep], account_product[frames.owner_account[keep]]] = True
    return held


def churn_dates(frames: GraphFrames) -> np.ndarray:
    """The day each customer's last account closed, for customers whose accounts are all closed (else NaT)."""
    closed_on = frames.accounts["closed_on"].to_numpy(dtype="datetime64[D]")
    closed = frames.accounts["closed"].to_numpy(dtype=bool)
    owner, account = frames.owner_customer, frames.owner_account
    last = np.full(frames.size, np.datetime64("NaT"), dtype="datetime64[D]")
    dated = closed[account] & ~np.isnat(closed_on[account])
    order = np.argsort(closed_on[account[dated]], kind="stable")
    last[owner[dated][order]] = closed_on[account[dated]][order]
    open_count = weighted_sum(owner, (~closed[account]).astype(np.float64), frames.size)
    return np.where(open_count == 0, last, np.datetime64("NaT"))


def churned_within(frames: GraphFrames, churned: BoolArray, months: int) -> BoolArray:
    """Customers who left within ``months`` months before ``frames.as_of``."""
    left = churn_dates(frames)
    since = np.datetime64(frames.as_of, "D") - np.timedelta64(round(months * 30.44), "D")
    return churned & ~np.isnat(left) & (left > since)


def recently_churned(frames: GraphFrames, churned: BoolArray) -> BoolArray:
    """Customers who left within ``RECENT_MONTHS`` before ``frames.as_of``."""
    return churned_within(frames, churned, RECENT_MONTHS)


def eligibility(frames: GraphFrames, held: BoolArray, products: list[str]) -> BoolArray:
    """(customers, products): segment served, persons old enough, no exclusive product held either way."""
    segment = frames.customers["segment"].to_numpy(dtype=object)
    is_person = frames.customers["kind"].to_numpy(dtype=object) != "Company"
    age = _age_years(frames)
    allowed = np.ones((frames.size, len(products)), dtype=bool)
    index = {product_id: number for number, product_id in enumerate(products)}
    for number, product_id in enumerate(products):
        row = frames.products.loc[product_id]
        segments = as_list(row.get("segments"))
        if segments:
            allowed[:, number] &= np.isin(segment, segments)
        min_age = row.get("min_age")
        if min_age is not None and not pd.isna(min_age):
            allowed[:, number] &= ~is_person | (~np.isnan(age) & (age >= float(min_age)))
        for other in as_list(row.get("exclusive_with")):
            if other in index:
                allowed[:, number] &= ~held[:, index[other]]
                allowed[:, index[other]] &= ~held[:, number]
    return allowed


def _age_years(frames: GraphFrames) -> FloatArray:
    born = pd.to_datetime(frames.customers["birth_date"], errors="coerce")
    days = (pd.Timestamp(frames.as_of) - born).dt.days.to_numpy(dtype=np.float64)
    return days / 365.25


def own_features(
    frames: GraphFrames, value: CustomerValue, held: BoolArray, settings: AnalyticsSettings
) -> pd.DataFrame:
    """Balance level and trend, recent change, tenure, products, closed share, contacts, age, segment, and the
    hand-set own risk (its clipped decline and inactivity signals are shapes a linear model cannot draw)."""
    totals = value.recent_totals
    latest = totals[:, -1] if totals.size else np.zeros(frames.size)
    earlier = totals[:, 0] if totals.size else np.zeros(frames.size)
    as_of = np.datetime64(frames.as_of, "D")
    contacts = frames.interaction_at
    recent = contacts > as_of - np.timedelta64(365, "D")
    last_contact = np.full(frames.size, np.datetime64("NaT"), dtype="datetime64[D]")
    order = np.argsort(contacts, kind="stable")
    last_contact[frames.interaction_customer[order]] = contacts[order]
    # NaT (never contacted) must stay NaN: cast to float it would be a huge negative number of days.
    idle = np.where(np.isnat(last_contact), np.nan, (as_of - last_contact).astype("timedelta64[D]").astype(np.float64))
    idle /= 30.44
    age = _age_years(frames)
    segment = frames.customers["segment"].to_numpy(dtype=object)
    table = {
        "balance_level": np.log1p(np.abs(latest)),
        "balance_trend": np.clip(value.trend, -2.0, 2.0),
        "balance_change_3m": np.log1p(np.abs(latest)) - np.log1p(np.abs(earlier)),
        "tenure": np.log1p(value.tenure_months),
        "products_held": held.sum(axis=1).astype(np.float64),
        "closed_share": value.closed_share,
        "contacts_12m": np.log1p(np.bincount(frames.interaction_customer[recent], minlength=frames.size)),
        "months_since_contact": np.where(np.isnan(idle), NO_CONTACT_MONTHS, np.clip(idle, 0, NO_CONTACT_MONTHS)),
        "age": np.nan_to_num(age, nan=0.0) / 100.0,
        "is_company": (frames.customers["kind"].to_numpy(dtype=object) == "Company").astype(np.float64),
        "hand_set_own_risk": own_risk(frames, value, settings),
    }
    for name in SEGMENTS:
        table[f"segment_{name}"] = (segment == name).astype(np.float64)
    return pd.DataFrame(table)


def network_features(
    frames: GraphFrames,
    value: CustomerValue,
    ties: DirectedTies,
    tie_types: list[str],
    settings: AnalyticsSettings,
    own_risk_values: FloatArray,
) -> pd.DataFrame:
    """Per tie type: recently churned neighbours (their fitted weights are the tie-type weights). Overall:
    degree, neighbours who left in the last ``CHURN_MEMORY_MONTHS`` and their share of the ties (exposure),
    relational-neighbour and spreading scores from them, neighbours' balance trend, and the own risk of the
    neighbours still here, summed and the riskiest one's (a neighbour whose balance is falling may leave next
    and take others along), PageRank.

    Per-type terms are kept to one per tie type: a bank sees tens or hundreds of leavers a horizon, and
    every further term per type is one more weight to learn from them."""
    n = frames.size
    left = churned_within(frames, value.churned, CHURN_MEMORY_MONTHS)
    churned = left.astype(np.float64)
    recent = recently_churned(frames, value.churned).astype(np.float64)
    at_risk = np.where(value.churned, 0.0, own_risk_values)
    table: dict[str, FloatArray] = {}
    for tie_type in tie_types:
        chosen = ties.of_type(tie_type)
        source, target = ties.source[chosen], ties.target[chosen]
        table[f"recently_churned_{tie_type}"] = weighted_sum(target, recent[source], n)
    degree = np.bincount(ties.target, minlength=n).astype(np.float64)
    churned_count = weighted_sum(ties.target, churned[ties.source], n)
    relational, _ = relational_neighbour(n, ties, left)
    received, _ = spread_energy(
        n, ties, churned, settings.spreading_factor, settings.spreading_threshold, settings.spreading_max_steps
    )
    trend_sum = weighted_sum(ties.target, np.clip(value.trend, -2.0, 2.0)[ties.source], n)
    riskiest = np.zeros(n)
    np.maximum.at(riskiest, ties.target, at_risk[ties.source])
    table["degree"] = np.log1p(degree)
    table["churned_neighbours"] = np.log1p(churned_count)
    table["churned_share"] = np.divide(churned_count, degree, out=np.zeros(n), where=degree > 0)
    table["relational_neighbour"] = relational
    table["spreading"] = 1.0 - np.exp(-received)
    table["neighbours_balance_trend"] = np.divide(trend_sum, degree, out=np.zeros(n), where=degree > 0)
    table["neighbours_at_risk"] = np.log1p(weighted_sum(ties.target, at_risk[ties.source], n))
    table["riskiest_neighbour"] = riskiest
    table["pagerank"] = np.log1p(ties.pagerank(n, settings.pagerank_damping) * n)
    return pd.DataFrame(table)


def snapshot(
    frames: GraphFrames,
    settings: AnalyticsSettings,
    tie_types: list[str],
    ties: DirectedTies | None = None,
    value: CustomerValue | None = None,
) -> Snapshot:
    """Everything the models read about the bank at ``frames.as_of``; ``ties``: the directed ties of another
    snapshot of the same bank, shared (a cut keeps every tie) instead of made again; ``value``: the
    :func:`customer_value` of these very frames, when the caller has it already."""
    value = customer_value(frames, settings) if value is None else value
    products = sorted(frames.products.index)
    held = holdings(frames, products)
    ties = DirectedTies.from_frames(frames) if ties is None else ties
    own = own_features(frames, value, held, settings)
    network = network_features(frames, value, ties, tie_types, settings, own["hand_set_own_risk"].to_numpy())
    return Snapshot(frames, value, held, products, own, network, ties, tie_types)


def neighbour_holders(shot: Snapshot, product: int) -> pd.DataFrame:
    """Cross-sell network features for one product: neighbours holding it, by tie type and overall."""
    n = shot.frames.size
    holds = shot.holdings[:, product].astype(np.float64)
    table: dict[str, FloatArray] = {}
    for tie_type in shot.tie_types:
        chosen = shot.ties.of_type(tie_type)
        table[f"holders_{tie_type}"] = np.log1p(
            weighted_sum(shot.ties.target[chosen], holds[shot.ties.source[chosen]], n)
        )
    degree = np.bincount(shot.ties.target, minlength=n).astype(np.float64)
    holding = weighted_sum(shot.ties.target, holds[shot.ties.source], n)
    table["holder_share_of_neighbours"] = np.divide(holding, degree, out=np.zeros(n), where=degree > 0)
    return pd.DataFrame(table)


def co_holding_confidence(held: BoolArray) -> FloatArray:
    """(customers, products): the highest P(product | a product the customer holds), from co-holding counts;
    the product's overall share for customers holding nothing."""
    matrix = sparse.csr_matrix(held.astype(np.float64))
    together = (matrix.T @ matrix).toarray()
    holders = np.diag(together).copy()
    confidence = np.divide(together, holders[:, None], out=np.zeros_like(together), where=holders[:, None] > 0)
    best = np.zeros(held.shape)
    for product in range(held.shape[1]):
        best = np.maximum(best, held[:, [product]] * confidence[product][None, :])
    share = held.mean(axis=0) if len(held) else np.zeros(held.shape[1])
    holds_any = np.asarray(held.any(axis=1))
    return np.where(holds_any[:, None], best, share[None, :])


def segment_share(frames: GraphFrames, held: BoolArray) -> FloatArray:
    """(customers, products): the share of the customer's segment holding each product."""
    segment = frames.customers["segment"].fillna("").astype(str).to_numpy()
    out = np.zeros(held.shape)
    for name in np.unique(segment):
        rows = segment == name
        out[rows] = held[rows].mean(axis=0)
    return out


def month_index(frames: GraphFrames, month: date) -> int:
    """The number of balance columns up to and including ``month``'s month-end (1 = the oldest)."""
    ends = frames.month_ends()
    for number, end in enumerate(ends, start=1):
        if (end.year, end.month) == (month.year, month.month):
            return number
    raise InvalidRequest(f"--cut {month:%Y-%m} is not within the data ({ends[0]:%Y-%m} to {ends[-1]:%Y-%m})")
