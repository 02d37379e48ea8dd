"""Balances, tiers, lifecycle stages and lifetime value, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from graph.model import NodeLabel
from graph.settings import AnalyticsSettings, Settings
from graph.store import GraphStore
from queries.analytics import ANALYTICS_VERSION, analyze
from queries.analytics.value import tiers
from tests.analytics.bank import SETTINGS, small_bank

NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture
def analysed(store: GraphStore) -> dict[str, dict]:
    small_bank().write(store)
    analyze(store, SETTINGS, now=NOW)
    return {record.id: record.properties for record in store.nodes(NodeLabel.CUSTOMER)}


def test_tiers_at_thresholds(analysed: dict[str, dict]) -> None:
    assert analysed["t1"]["tier"] == "private_banking"
    assert analysed["t2"]["tier"] == "diamond"
    assert analysed["t3"]["tier"] == "silver"
    assert analysed["t4"]["tier"] == "standard"
    assert analysed["t1"]["aum"] == 6_000_000.0


def test_tier_thresholds_are_configurable() -> None:
    import numpy as np

    custom = {"private_banking": 10.0, "gold": 5.0}
    assert tiers(np.array([10.0, 9.99, 5.0, 4.0]), custom) == ["private_banking", "gold", "gold", "standard"]
    with pytest.raises(ValueError, match="unknown tiers"):
        AnalyticsSettings(tier_thresholds={"bronze": 1.0})


def test_joint_accounts_count_in_full_and_loans_apart(analysed: dict[str, dict]) -> None:
    assert analysed["j1"]["aum"] == 200_000.0
    assert analysed["j2"]["aum"] == 200_000.0
    assert analysed["j1"]["deposits"] == 200_000.0
    assert analysed["j1"]["loans"] == 300_000.0
    assert analysed["j2"]["loans"] == 0.0


def test_lifecycle_stages(analysed: dict[str, dict]) -> None:
    stages = {customer: analysed[customer]["lifecycle_stage"] for customer in analysed if customer.startswith("s_")}
    assert stages == {
        "s_new": "acquisition",
        "s_grow": "growth",
        "s_fall": "decline",
        "s_flat": "maturity",
        "s_gone": "churned",
        "s_closed": "churned",
    }


def test_lifetime_value(analysed: dict[str, dict]) -> None:
    margin = Settings().analytics.margins["deposit"]
    flat = analysed["s_flat"]
    assert flat["ltv_historical"] == pytest.approx(80_000 * margin / 12 * 24, abs=0.01)
    assert flat["ltv_current"] == pytest.approx(80_000 * margin, abs=0.01)
    assert flat["ltv_potential"] > flat["ltv_current"]
    assert analysed["s_grow"]["ltv_potential"] / analysed["s_grow"]["ltv_current"] > (
        flat["ltv_potential"] / flat["ltv_current"]
    )
    assert analysed["s_gone"]["ltv_potential"] == 0.0
    assert analysed["s_gone"]["ltv_current"] == 0.0


def test_every_customer_is_stamped(analysed: dict[str, dict]) -> None:
    for props in analysed.values():
        assert props["analytics_version"] == ANALYTICS_VERSION
        assert props["analytics_at"] == "2025-01-02T03:04:05+00:00"
        assert 0.0 <= props["churn_risk"] <= 1.0
