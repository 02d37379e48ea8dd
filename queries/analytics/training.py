"""The churn model ``crm-graph analyze`` fits on the loaded bank, and the model card that describes it.

With enough history (``HORIZON_MONTHS`` of outcomes plus ``MIN_HISTORY_MONTHS`` before them) analyze learns
from the bank itself: features as of the month-end ``HORIZON_MONTHS`` before the latest, labels = who left
since; the fitted model then scores every customer on today's features. With twice that history it also
backtests the same recipe one horizon earlier, the card carries those figures, and a fitted model that ranks
leavers worse there than the hand-set defaults (ROC AUC) is not used. Without enough history, with too few
customers leaving, or after such a backtest, the documented hand-set defaults score churn and the card says why.

Scores written back (:class:`~queries.analytics.models.ChurnModel`): ``churn_risk`` is the own + network
model's probability of leaving within the horizon, ``churn_risk_own`` the own-only trees', and
``churn_risk_network`` what the network adds (never below 0).
Contributors are the churned neighbours, each with its share of the positive log-odds the fitted terms give
it: a recently churned neighbour along a tie type brings that type's fitted weight, and the neighbours who left
within the last year share the "churned neighbours" term equally.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from graph.errors import InvalidRequest
from graph.settings import AnalyticsSettings
from queries.analytics.backtest import MIN_HISTORY_MONTHS, churn_backtest, tie_weights
from queries.analytics.churn import ChurnScores, top_contributors
from queries.analytics.features import CHURN_MEMORY_MONTHS, Snapshot, churned_within, recently_churned, snapshot
from queries.analytics.frames import FloatArray, GraphFrames
from queries.analytics.model_card import HORIZON_MONTHS, ModelCard
from queries.analytics.models import ChurnModel, fit_churn
from queries.analytics.value import CustomerValue

BACKTEST_SEED = 0


@dataclass(frozen=True)
class TrainingWindow:
    """The bank ``HORIZON_MONTHS`` before its latest month-end (features) and now (labels, and scoring)."""

    cut: int  # balance columns up to the training month-end
    before: Snapshot
    now: Snapshot

    @property
    def features_as_of(self) -> str:
        return f"{self.before.frames.as_of:%Y-%m}"


def training_window(
    frames: GraphFrames, settings: AnalyticsSettings, value: CustomerValue | None = None
) -> TrainingWindow | None:
    """Both snapshots the fitted models learn from; None without ``HORIZON_MONTHS + MIN_HISTORY_MONTHS``.
    ``value``: the customers' value as of ``frames`` when the caller has it (analyze's value step), shared by
    the snapshot of today rather than computed and held twice."""
    if frames.months < HORIZON_MONTHS + MIN_HISTORY_MONTHS:
        return None
    tie_types = sorted(set(frames.tie_type.tolist()))
    cut = frames.months - HORIZON_MONTHS
    now = snapshot(frames, settings, tie_types, value=value)
    return TrainingWindow(cut, snapshot(frames.cut(cut), settings, tie_types, now.ties), now)


def too_little_history(months: int) -> str:
    return f"{months} months of balances; fitting needs {HORIZON_MONTHS + MIN_HISTORY_MONTHS}"


def fitted_churn(
    frames: GraphFrames, settings: AnalyticsSettings, window: TrainingWindow | None
) -> tuple[ChurnScores | None, ModelCard]:
    """Churn scores from models fitted on the bank's last ``HORIZON_MONTHS`` months, or None (and why not)."""
    if window is None:
        return None, ModelCard(model="hand-set defaults", reason=too_little_history(frames.months))
    tie_types = window.before.tie_types
    ends = frames.month_ends()
    cut, before, now = window.cut, window.before, window.now
    rows = before.active
    label = now.value.churned[rows]
    # The table is not kept: at a million customers it would hold 290 MB through the backtest below.
    model = fit_churn(before.churn_table(rows), label, list(before.own.columns), list(before.network.columns))
    if model is None:
        return None, too_few_leavers(int(label.sum()), int(rows.sum()), ends[cut - 1])
    backtest = _backtest(frames, settings, tie_types, before, now)
    card = fitted_model_card(model, tie_types, ends[cut - 1], ends[-1], (int(rows.sum()), int(label.sum())), backtest)
    if card.model == "hand-set defaults":
        return None, card
    return scores_from(now, model), card


def too_few_leavers(churned: int, customers: int, features_as_of: date) -> ModelCard:
    """The card of a bank where too few customers left in the training horizon to fit a model."""
    return ModelCard(
        model="hand-set defaults",
        reason=f"{churned} of {customers} customers left after {features_as_of:%Y-%m}; too few to fit a model",
    )


def fitted_model_card(
    model: ChurnModel,
    tie_types: list[str],
    features_as_of: date,
    outcomes_until: date,
    trained_on: tuple[int, int],
    backtest: dict[str, Any] | None,
) -> ModelCard:
    """The card of a fitted model (``trained_on``: customers, churned); a model whose backtest ranks leavers
    worse than the hand-set defaults (ROC AUC) is not used, and the card says so."""
    terms = model.network_terms
    card = ModelCard(
        model="fitted: boosted trees on own signals, logistic network terms"
        if terms.kept
        else "fitted: boosted trees on own signals; network terms left out",
        reason=f"trained on features as of {features_as_of:%Y-%m} and who left by {outcomes_until:%Y-%m}"
        + ("" if terms.kept else "; the network terms gained too little in the inner validation to be kept"),
        features_as_of=f"{features_as_of:%Y-%m}",
        outcomes_until=f"{outcomes_until:%Y-%m}",
        trained_on={"customers": trained_on[0], "churned": trained_on[1]},
        features=[*model.own_columns, *model.network.columns],
        tie_weights=tie_weights(model, tie_types),
        network_weights={
            name: weight for name, weight in model.weights.items() if not name.startswith("recently_churned_")
        },
        network_terms=terms.model_dump(),
        backtest=backtest,
    )
    auc = (card.backtest or {}).get("auc")
    if auc and auc["network"] < auc["default"]:
        # A fitted model that ranks leavers worse than the documented defaults did must not replace them.
        return card.model_copy(
            update={
                "model": "hand-set defaults",
                "reason": f"the model fitted on features as of {features_as_of:%Y-%m} backtested below the "
                f"defaults (ROC AUC {auc['network']:.3f} against {auc['default']:.3f}); defaults kept",
            }
        )
    return card


def _backtest(
    frames: GraphFrames, settings: AnalyticsSettings, tie_types: list[str], test: Snapshot, now: Snapshot
) -> dict[str, Any] | None:
    """The same recipe one horizon earlier, scored on the last horizon; None without the history for it."""
    start = frames.months - 2 * HORIZON_MONTHS
    if start < MIN_HISTORY_MONTHS:
        return None
    train = snapshot(frames.cut(start), settings, tie_types, test.ties)
    try:
        figures = churn_backtest(train, test, now.value.churned, settings, BACKTEST_SEED)
    except InvalidRequest as error:  # too few leavers in a window: the card says so instead of figures
        return {"not_scored": str(error)}
    return card_backtest(figures)


def card_backtest(figures: dict[str, Any]) -> dict[str, Any]:
    """The part of a churn backtest's figures the model card carries."""
    return {key: figures[key] for key in ("customers_scored", "churned_after_cut", "lift_at_5pct", "auc", "pr_auc")}


def scores_from(shot: Snapshot, model: ChurnModel) -> ChurnScores:
    """Scores and contributors of every customer from the fitted models (churned customers score 1)."""
    table = shot.churn_table()
    churned = shot.value.churned
    own_only, with_network = model.predict_both(table)
    risk = np.where(churned, 1.0, with_network)
    own = np.where(churned, 1.0, own_only)
    network = np.where(churned, 0.0, np.clip(risk - own, 0.0, 1.0))
    contribution = _tie_contributions(shot, model)
    contributors, contributor_ties, shares = top_contributors(shot.frames, shot.ties, contribution, churned)
    return ChurnScores(own, network, risk, contributors, contributor_ties, shares)


def _tie_contributions(shot: Snapshot, model: ChurnModel) -> FloatArray:
    """Positive log-odds each directed tie from a churned neighbour brings its target through the fitted terms:
    its tie type's weight if the neighbour left recently, plus an equal share of the "churned neighbours" term
    if within the last year."""
    weights = model.weights
    ties, n = shot.ties, shot.frames.size
    churned = shot.value.churned
    recent = recently_churned(shot.frames, churned)
    chosen = churned_within(shot.frames, churned, CHURN_MEMORY_MONTHS)[ties.source]
    count = np.bincount(ties.target[chosen], minlength=n).astype(np.float64)
    # log1p(count) split equally among the customer's churned neighbours
    share = np.divide(np.log1p(count), count, out=np.zeros(n), where=count > 0)
    per_type = np.array([max(weights.get(f"recently_churned_{t}", 0.0), 0.0) for t in ties.type_names])
    per_recent = per_type[ties.type_code] if len(ties.type_names) else np.zeros(len(ties.source))
    pooled = max(weights.get("churned_neighbours", 0.0), 0.0)
    contribution = pooled * share[ties.target] + per_recent * recent[ties.source]
    return np.where(chosen, contribution, 0.0)
