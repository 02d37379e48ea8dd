"""Churn risk: own signals, spreading along ties, the reference implementation, and reading it back."""

from __future__ import annotations

import numpy as np
import pytest

from graph.errors import NotFound
from graph.store import GraphStore
from queries.analytics import analyze, churn_risk
from queries.analytics.churn import DirectedTies, relational_neighbour, spread_energy, spread_energy_loop
from tests.analytics.bank import SETTINGS, small_bank


@pytest.fixture
def analysed(store: GraphStore) -> GraphStore:
    small_bank().write(store)
    analyze(store, SETTINGS)
    return store


def test_churn_spreads_along_a_chain_and_decays_with_hops(analysed: GraphStore) -> None:
    h1, h2, h3 = (churn_risk(analysed, customer) for customer in ("h1", "h2", "h3"))
    assert h1.churn_risk_own == h2.churn_risk_own == h3.churn_risk_own
    assert h1.churn_risk_network > h2.churn_risk_network > h3.churn_risk_network > 0.0
    assert h1.churn_risk > h2.churn_risk > h3.churn_risk
    assert h1.contributors[0].customer_id == "h0"
    assert h1.contributors[0].tie_type == "SPOUSE_OF"
    assert h1.contributors[0].share > 0.5
    assert [c.customer_id for c in h3.contributors] == ["h2"]
    assert sum(c.share for c in h1.contributors) == pytest.approx(1.0, abs=1e-5)


def test_churn_spreading_respects_tie_weights(analysed: GraphStore) -> None:
    spouse, relative = churn_risk(analysed, "w1"), churn_risk(analysed, "w2")
    assert spouse.churn_risk_network > relative.churn_risk_network > 0.0
    assert spouse.contributors[0].tie_type == "SPOUSE_OF"
    assert relative.contributors[0].tie_type == "RELATIVE_OF"


def test_churned_customers_score_one_and_others_without_ties_no_network(analysed: GraphStore) -> None:
    gone = churn_risk(analysed, "h0")
    assert gone.churn_risk == 1.0
    assert gone.contributors == []
    alone = churn_risk(analysed, "t1")
    assert alone.churn_risk_network == 0.0
    assert alone.churn_risk == alone.churn_risk_own
    assert churn_risk(analysed, "s_fall").churn_risk_own > churn_risk(analysed, "s_flat").churn_risk_own


def test_churn_risk_of_an_unknown_customer_is_not_found(analysed: GraphStore) -> None:
    with pytest.raises(NotFound):
        churn_risk(analysed, "nobody")


def _random_ties(n: int, edges: int, seed: int) -> DirectedTies:
    rng = np.random.default_rng(seed)
    source = rng.integers(0, n, edges)
    target = (source + rng.integers(1, n, edges)) % n
    weight = rng.choice([0.3, 0.4, 0.5, 0.6, 0.8, 0.9], edges)
    types = np.array(["SPOUSE_OF"] * edges)
    return DirectedTies.of(
        np.concatenate([source, target]),
        np.concatenate([target, source]),
        np.concatenate([types, types]),
        np.concatenate([weight, weight]),
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sparse_spreading_equals_the_loop_reference(seed: int) -> None:
    n = 300
    ties = _random_ties(n, 900, seed)
    initial = np.zeros(n)
    initial[np.random.default_rng(seed).choice(n, 20, replace=False)] = 1.0
    initial[5] = 0.7
    sparse_received, sparse_passed = spread_energy(n, ties, initial, 0.8, 0.01, 10)
    loop_received, loop_passed = spread_energy_loop(n, ties, initial.tolist(), 0.8, 0.01, 10)
    np.testing.assert_allclose(sparse_received, loop_received, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(sparse_passed, loop_passed, rtol=1e-12, atol=1e-12)
    assert sparse_received.sum() > 0


def test_relational_neighbour_is_the_weighted_share_of_churned_neighbours() -> None:
    ties = DirectedTies.of(
        np.array([0, 1, 0, 2]), np.array([1, 0, 2, 0]), np.array(["SPOUSE_OF"] * 4), np.array([0.9, 0.9, 0.3, 0.3])
    )
    score, _ = relational_neighbour(3, ties, np.array([False, True, False]))
    assert score.tolist() == pytest.approx([0.9 / 1.2, 0.0, 0.0])
