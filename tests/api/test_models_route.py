"""GET /api/v1/models: the churn model card, for risk and admin tokens."""

from __future__ import annotations

from graph.settings import Settings
from queries.analytics.model_card import ModelCard, write_model_card
from tests.api.conftest import CheckedClient, auth


def test_models_before_and_after_analyze(client: CheckedClient, tokens: dict[str, str], api_settings: Settings) -> None:
    before = client.get("/api/v1/models", headers=auth(tokens["risk"]))
    assert before.status_code == 200
    assert before.json()["churn"]["model"] == "none" and "has not run" in before.json()["churn"]["reason"]
    card = ModelCard(
        model="fitted: boosted trees on own signals, logistic network terms",
        reason="trained on features as of 2024-06 and who left by 2024-12",
        features_as_of="2024-06",
        outcomes_until="2024-12",
        trained_on={"customers": 900, "churned": 30},
        tie_weights={"SPOUSE_OF": 1.5, "EMPLOYED_BY": -0.2},
        backtest={"auc": {"own": 0.7, "network": 0.74, "default": 0.72}},
    )
    write_model_card(api_settings.model_card_path, card)
    after = client.get("/api/v1/models", headers=auth(tokens["admin"]))
    assert after.status_code == 200 and ModelCard.model_validate(after.json()["churn"]) == card
    refused = client.get("/api/v1/models", headers=auth(tokens["manager"]))
    assert refused.status_code == 403 and refused.headers["content-type"].startswith("application/problem+json")
