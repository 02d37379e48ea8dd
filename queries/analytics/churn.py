"""Churn risk: a customer's own warning signs, and risk spreading from churned or leaving neighbours.

Network score (default): spreading activation after Dasgupta et al., "Social ties and their relevance to
churn in mobile telecom networks" (EDBT 2008). Every churned customer starts with energy 1 and every active
customer whose own risk reaches ``leaving_risk`` with energy equal to that risk. At each step a node passes a
share ``spreading_factor`` of the energy it received in the previous step to its neighbours, in proportion to
the tie weight (from the tie registry) over ``max(1, sum of its tie weights)``: weights keep their absolute
meaning for a node with few ties, while a hub cannot hand out more than it holds. Energy under
``spreading_threshold`` stops. A customer's network score is ``1 - exp(-energy received)``. Ties carry
influence both ways, whatever their stored direction.

The alternative, ``relational_neighbour`` (weighted-vote relational neighbour, Macskassy and Provost 2003),
scores a customer by the tie-weighted share of its neighbours that churned; ``crm-graph eval`` measures both.

``spread_energy`` (scipy sparse) and ``spread_energy_loop`` (plain Python) compute the same thing; a test
keeps them equal and the benchmark compares their speed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict
from scipy import sparse

from graph.errors import NotFound
from graph.model import NodeLabel
from graph.settings import AnalyticsSettings
from graph.store import GraphStore
from queries.analytics.community import directed_pagerank
from queries.analytics.frames import FloatArray, GraphFrames, IntArray, weighted_sum
from queries.analytics.value import CustomerValue

TOP_CONTRIBUTORS = 5
STAGE_SIGNAL = {"decline": 1.0, "acquisition": 0.3}
FULL_DECLINE = 0.5  # a fitted fall of half the average balance is the strongest decline signal


class ChurnRisk(BaseModel):
    """A customer's churn risk as ``crm-graph analyze`` wrote it."""

    model_config = ConfigDict(frozen=True)

    customer_id: str
    churn_risk: float
    churn_risk_own: float
    churn_risk_network: float
    contributors: list[Contributor]
    analytics_version: str | None
    analytics_at: str | None


class Contributor(BaseModel):
    """A neighbour whose churn raised ours: along which tie, and what share of our network score."""

    model_config = ConfigDict(frozen=True)

    customer_id: str
    tie_type: str
    share: float


ChurnRisk.model_rebuild()


@dataclass(frozen=True)
class ChurnScores:
    own: FloatArray
    network: FloatArray
    risk: FloatArray
    contributors: list[list[str]]
    contributor_ties: list[list[str]]
    contributions: list[list[float]]


@dataclass(frozen=True)
class DirectedTies:
    """Both directions of every customer tie: (source, target, tie type, weight). The tie type is held as a
    code into ``type_names`` (sorted): the names themselves took 56 bytes a directed tie (190 MB at a million
    customers) where a code takes one."""

    source: IntArray
    target: IntArray
    type_code: np.ndarray
    type_names: list[str]
    weight: FloatArray
    _ranks: dict[tuple[int, float], FloatArray] = field(default_factory=dict, repr=False, compare=False)
    """PageRank by (customers, damping): the snapshots of one bank share these ties, and so their PageRank."""

    @classmethod
    def of(cls, source: IntArray, target: IntArray, types: np.ndarray, weight: FloatArray) -> DirectedTies:
        """Directed ties with their tie types given by name."""
        names, codes = np.unique(np.asarray(types, dtype=str), return_inverse=True)
        return cls(source, target, codes.astype(np.min_scalar_type(max(len(names) - 1, 0))), names.tolist(), weight)

    @classmethod
    def from_frames(cls, frames: GraphFrames) -> DirectedTies:
        half = cls.of(frames.tie_source, frames.tie_target, frames.tie_type, frames.tie_weight)
        return cls(
            source=np.concatenate([frames.tie_source, frames.tie_target]),
            target=np.concatenate([frames.tie_target, frames.tie_source]),
            type_code=np.concatenate([half.type_code, half.type_code]),
            type_names=half.type_names,
            weight=np.concatenate([frames.tie_weight, frames.tie_weight]),
        )

    def of_type(self, tie_type: str) -> np.ndarray:
        """Which ties are of ``tie_type``."""
        if tie_type not in self.type_names:
            return np.zeros(len(self.type_code), dtype=bool)
        return np.asarray(self.type_code == self.type_names.index(tie_type))

    def types(self, chosen: np.ndarray) -> np.ndarray:
        """The tie type names of the ``chosen`` ties."""
        return np.asarray(self.type_names, dtype=str)[self.type_code[chosen]]

    def pagerank(self, n: int, damping: float) -> FloatArray:
        """Weighted PageRank of the ``n`` customers over these ties, computed once per damping."""
        if (n, damping) not in self._ranks:
            self._ranks[n, damping] = directed_pagerank(n, self.source, self.target, self.weight, damping)
        return self._ranks[n, damping]


def own_risk(frames: GraphFrames, value: CustomerValue, settings: AnalyticsSettings) -> FloatArray:
    """Weighted sum of own signals, each in [0, 1]: balance decline, share of closed accounts, time since the
    last interaction, lifecycle stage. Churned customers score 1."""
    n = frames.size
    decline = np.clip(-value.trend / FULL_DECLINE, 0.0, 1.0)
    last_contact = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    if len(frames.interaction_customer):
        order = np.argsort(frames.interaction_at, kind="stable")
        last_contact[frames.interaction_customer[order]] = frames.interaction_at[order]
    idle_days = (np.datetime64(frames.as_of, "D") - last_contact).astype("timedelta64[D]").astype(np.float64)
    inactivity = np.where(np.isnat(last_contact), 1.0, np.clip(idle_days / settings.inactivity_days, 0.0, 1.0))
    stage = np.array([STAGE_SIGNAL.get(name, 0.0) for name in value.stage])
    weights = settings.own_weights
    score = (
        weights.get("decline", 0.0) * decline
        + weights.get("closed", 0.0) * value.closed_share
        + weights.get("inactivity", 0.0) * inactivity
        + weights.get("stage", 0.0) * stage
    )
    return np.where(value.churned, 1.0, np.clip(score, 0.0, 1.0))


def initial_energy(own: FloatArray, churned: np.ndarray, leaving_risk: float) -> FloatArray:
    """1 for churned customers, own risk for active ones at or above ``leaving_risk``, else 0."""
    energy = np.where(own >= leaving_risk, own, 0.0)
    return np.where(churned, 1.0, energy)


def spread_energy(
    n: int, ties: DirectedTies, initial: FloatArray, factor: float, threshold: float, max_steps: int
) -> tuple[FloatArray, FloatArray]:
    """Spreading activation with scipy sparse matrices: (energy received, energy passed on) per node."""
    scale = np.maximum(weighted_sum(ties.source, ties.weight, n), 1.0)
    transfer = sparse.csr_matrix((ties.weight / scale[ties.source], (ties.target, ties.source)), shape=(n, n))
    frontier = np.where(initial >= threshold, initial, 0.0)
    received = np.zeros(n)
    passed = np.zeros(n)
    for _ in range(max_steps):
        if not frontier.any():
            break
        passing = factor * frontier
        passed += passing
        incoming = transfer @ passing
        received += incoming
        frontier = np.where(incoming >= threshold, incoming, 0.0)
    return received, passed


def spread_energy_loop(
    n: int, ties: DirectedTies, initial: list[float], factor: float, threshold: float, max_steps: int
) -> tuple[list[float], list[float]]:
    """The same spreading activation in plain Python: the reference the sparse version is tested against."""
    neighbours: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    total_weight = [0.0] * n
    for source, target, weight in zip(ties.source.tolist(), ties.target.tolist(), ties.weight.tolist(), strict=True):
        neighbours[source].append((target, weight))
        total_weight[source] += weight
    frontier = {node: energy for node, energy in enumerate(initial) if energy >= threshold}
    received = [0.0] * n
    passed = [0.0] * n
    for _ in range(max_steps):
        if not frontier:
            break
        incoming: dict[int, float] = {}
        for node, energy in frontier.items():
            passing = factor * energy
            passed[node] += passing
            scale = max(total_weight[node], 1.0)
            for other, weight in neighbours[node]:
                incoming[other] = incoming.get(other, 0.0) + passing * weight / scale
        for node, energy in incoming.items():
            received[node] += energy
        frontier = {node: energy for node, energy in incoming.items() if energy >= threshold}
    return received, passed


def relational_neighbour(n: int, ties: DirectedTies, churned: np.ndarray) -> tuple[FloatArray, FloatArray]:
    """Weighted-vote relational neighbour: (score, per-tie contribution) with score = sum of weights of
    churned neighbours over the sum of all neighbour weights."""
    total = weighted_sum(ties.target, ties.weight, n)
    contribution = ties.weight * churned[ties.source]
    contribution = np.divide(
        contribution, total[ties.target], out=np.zeros(len(contribution)), where=total[ties.target] > 0
    )
    return weighted_sum(ties.target, contribution, n), contribution


def churn_scores(frames: GraphFrames, value: CustomerValue, settings: AnalyticsSettings) -> ChurnScores:
    """Own, network and combined churn risk of every customer, with the top contributing neighbours."""
    ties = DirectedTies.from_frames(frames)
    own, network, risk, contribution = churn_terms(frames, value, settings, ties)
    contributors, contributor_ties, shares = top_contributors(frames, ties, contribution, value.churned)
    return ChurnScores(own, network, risk, contributors, contributor_ties, shares)


def churn_terms(
    frames: GraphFrames, value: CustomerValue, settings: AnalyticsSettings, ties: DirectedTies
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """(own, network, combined) risk of every customer and what each directed tie of ``ties`` (those of
    ``frames``) contributes, without naming the contributors: a backtest scores the risk alone."""
    n = frames.size
    own = own_risk(frames, value, settings)
    if settings.network_method == "relational_neighbour":
        network, contribution = relational_neighbour(n, ties, value.churned)
    else:
        energy = initial_energy(own, value.churned, settings.leaving_risk)
        received, passed = spread_energy(
            n, ties, energy, settings.spreading_factor, settings.spreading_threshold, settings.spreading_max_steps
        )
        scale = np.maximum(weighted_sum(ties.source, ties.weight, n), 1.0)
        contribution = passed[ties.source] * ties.weight / scale[ties.source]
        network = 1.0 - np.exp(-received)
    network = np.where(value.churned, 0.0, np.clip(network, 0.0, 1.0))
    risk = np.where(value.churned, 1.0, 1.0 - (1.0 - own) * (1.0 - settings.network_weight * network))
    return own, network, risk, contribution


def top_contributors(
    frames: GraphFrames, ties: DirectedTies, contribution: FloatArray, churned: np.ndarray
) -> tuple[list[list[str]], list[list[str]], list[list[float]]]:
    """For each customer, the five ties that brought the most network score: neighbour ids, tie types and
    shares of everything received (rounded to 6 decimals); ties in contribution broken by neighbour id."""
    n = frames.size
    # Customers without contributors (most of them) share one empty list, which nothing appends to: a list
    # each took 56 bytes three times a customer (some 170 MB at a million), held to the end of analyze.
    none: list[Any] = []
    empty: tuple[list[list[str]], list[list[str]], list[list[float]]] = ([none] * n, [none] * n, [none] * n)
    keep = (contribution > 0) & ~churned[ties.target]
    if not keep.any():
        return empty
    edges = pd.DataFrame(
        {
            "target": ties.target[keep],
            "source": ties.source[keep],
            "type": ties.types(keep),
            "contribution": contribution[keep],
        }
    )
    total = edges.groupby("target")["contribution"].transform("sum")
    edges["share"] = (edges["contribution"] / total).round(6)
    edges = edges.sort_values(["target", "contribution", "source", "type"], ascending=[True, False, True, True])
    top = edges.groupby("target", sort=False).head(TOP_CONTRIBUTORS)
    contributors, contributor_ties, shares = empty
    # Plain arrays sliced per target: a pandas group per customer cost minutes at a million customers.
    targets = top["target"].to_numpy()
    sources = np.asarray(frames.customers["id"].take(top["source"].to_numpy()), dtype=object)  # these ids only
    types = top["type"].astype(str).to_numpy(dtype=object)
    top_shares = top["share"].to_numpy(dtype=float)
    starts = np.flatnonzero(np.r_[True, targets[1:] != targets[:-1]])
    for start, end in zip(starts.tolist(), [*starts[1:].tolist(), len(targets)], strict=True):
        index = int(targets[start])
        contributors[index] = sources[start:end].tolist()
        contributor_ties[index] = types[start:end].tolist()
        shares[index] = top_shares[start:end].tolist()
    return contributors, contributor_ties, shares


def churn_risk(store: GraphStore, customer_id: str) -> ChurnRisk:
    """The churn risk ``crm-graph analyze`` last wrote for a customer; ``NotFound`` if none was written."""
    record = store.get_node(NodeLabel.CUSTOMER, customer_id)
    if record is None:
        raise NotFound(f"no customer with id {customer_id!r}")
    props = record.properties
    if "churn_risk" not in props:
        raise NotFound(f"customer {customer_id!r} has no churn risk yet; run crm-graph analyze")
    contributors = [
        Contributor(customer_id=other, tie_type=tie_type, share=float(share))
        for other, tie_type, share in zip(
            props.get("churn_contributors") or [],
            props.get("churn_contributor_ties") or [],
            props.get("churn_contributions") or [],
            strict=True,
        )
    ]
    return ChurnRisk(
        customer_id=customer_id,
        churn_risk=float(props["churn_risk"]),
        churn_risk_own=float(props.get("churn_risk_own", 0.0)),
        churn_risk_network=float(props.get("churn_risk_network", 0.0)),
        contributors=contributors,
        analytics_version=props.get("analytics_version"),
        analytics_at=props.get("analytics_at"),
    )
