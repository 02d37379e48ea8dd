"""The model card: which churn model ``crm-graph analyze`` used, on which months, with which terms and figures,
and which cross-sell model the live answers score with.

Kept as a JSON file (``CRM_GRAPH_MODEL_CARD_PATH``) beside the store's other files; ``GET /api/v1/models``
serves it to risk and admin tokens.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel

from graph.errors import NotFound

HORIZON_MONTHS = 6


class CrossSellCard(BaseModel):
    """What the live cross-sell answers score with: the fitted per-product model or the hand-set weights."""

    model: str
    reason: str
    features_as_of: str | None = None
    horizon_months: int = HORIZON_MONTHS
    products: dict[str, dict[str, Any]] = {}  # product -> taken_up, candidates, tie_weights


class ModelCard(BaseModel):
    """What analyze's churn model is: fitted or the defaults, on which months, with which terms and figures."""

    model: str  # "fitted" or "hand-set defaults"
    reason: str
    features_as_of: str | None = None
    outcomes_until: str | None = None
    horizon_months: int = HORIZON_MONTHS
    trained_on: dict[str, int] = {}
    features: list[str] = []
    tie_weights: dict[str, float] = {}
    network_weights: dict[str, float] = {}
    network_terms: dict[str, Any] | None = None  # the inner validation's decision: kept, penalty, gain and its error
    backtest: dict[str, Any] | None = None
    cross_sell: CrossSellCard | None = None


def write_model_card(path: Path, card: ModelCard) -> None:
    """Replace the card at ``path`` (written whole, then renamed, so a reader never sees half of one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(card.model_dump_json(indent=2), encoding="utf-8")
    partial.replace(path)


def read_model_card(path: Path) -> ModelCard:
    """The card ``crm-graph analyze`` last wrote; ``NotFound`` before the first run."""
    if not path.is_file():
        raise NotFound("no churn model card yet; run crm-graph analyze")
    return ModelCard.model_validate_json(path.read_text(encoding="utf-8"))
