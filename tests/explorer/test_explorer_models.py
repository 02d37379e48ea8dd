"""The panel shows the fitted tie weights and the model's backtest beside the churn score, to roles that may
read the models, and nothing of them to others."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.explorer.conftest import Bank, shot, sign_in
from tests.explorer.test_explorer import open_customer

pytestmark = pytest.mark.browser


def test_the_panel_shows_the_fitted_weights_and_backtest_to_admin(page: Any, bank: Bank) -> None:
    with bank.api("admin") as api:
        card = api.get("/models").json()
    customer_id = bank.dense_customer
    sign_in(page, bank.tokens["admin"])
    page.click("#lang-toggle")  # English, to compare the tie names as the page writes them
    open_customer(page, customer_id)
    page.wait_for_selector("#model-kind")
    churn = card["churn"]
    assert page.inner_text("#model-kind") == f"{churn['model']}: {churn['reason']}"
    positive = sorted(((-w, t) for t, w in churn["tie_weights"].items() if w > 0))[:5]
    shown = page.locator("#model-tie-weights li")
    assert shown.count() == len(positive)
    for i, (weight, tie) in enumerate(positive):
        assert shown.nth(i).get_attribute("data-tie") == tie
        assert shown.nth(i).locator(".score").inner_text() == f"+{-weight:.2f}"
    if churn["backtest"] and "lift_at_5pct" in churn["backtest"]:
        assert f"{churn['backtest']['lift_at_5pct']['ratio']:.2f}" in page.inner_text("#model-backtest")
    assert card["cross_sell"]["model"] in page.inner_text("#model-cross-sell")
    shot(page, "model-panel")

    # In Chinese the same facts, none of the API's English sentence.
    page.click("#lang-toggle")
    page.wait_for_function("() => /[\u4e00-\u9fff]/.test(document.querySelector('#model-kind')?.textContent ?? '')")
    kind = page.inner_text("#model-kind") + page.inner_text("#model-cross-sell")
    assert not re.search(r"[a-z]{3,}", kind.replace("ROC AUC", "")), kind
    if churn["model"].startswith("fitted"):
        assert churn["features_as_of"] in kind and churn["outcomes_until"] in kind
    shot(page, "model-panel-chinese")


def test_a_relationship_manager_sees_the_score_without_the_models(page: Any, bank: Bank) -> None:
    sign_in(page, bank.tokens["manager"])
    open_customer(page, bank.dense_customer)
    page.wait_for_selector("#churn-why")
    assert page.locator("#model-kind").count() == 0
