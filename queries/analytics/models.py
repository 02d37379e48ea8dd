"""Fitted models (scikit-learn): churn as boosted trees over own signals with the network as additive log-odds
terms on top (logistic regression), and per product a regularised logistic regression of uptake.

Every model is trained on an earlier window and applied forward in time: features as of a month-end, the
label what happened in the months after it. Features are standardised, so a fitted coefficient is the change
in log-odds per standard deviation; :attr:`FittedModel.weights` turns them back per unit of the raw feature,
which is how the fitted weight of each tie type is read.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from queries.analytics.frames import BoolArray, FloatArray

REGULARISATION = 0.1  # inverse strength (C) of the L2 penalty: strong enough that useless features stay near 0
# The network terms of churn learn from the few leavers of one horizon: a stronger penalty keeps them honest.
NETWORK_REGULARISATION = 0.03
MIN_POSITIVES = 5  # fewer positive examples than this and a model is not fitted
# Beyond this many training rows a model learns from a seeded uniform sample of them: its cost stops growing
# with the bank (a million customers would otherwise fit every product's model on a million rows).
MAX_TRAINING_ROWS = 200_000


def training_sample(table: pd.DataFrame, label: BoolArray) -> tuple[pd.DataFrame, BoolArray]:
    """All rows, or ``MAX_TRAINING_ROWS`` of them drawn uniformly (the same ones for the same data)."""
    if len(label) <= MAX_TRAINING_ROWS:
        return table, label
    chosen = np.sort(np.random.default_rng(0).choice(len(label), MAX_TRAINING_ROWS, replace=False))
    return table.iloc[chosen].reset_index(drop=True), label[chosen]


@dataclass(frozen=True)
class FittedModel:
    """A fitted pipeline and the names of the columns it reads."""

    pipeline: Pipeline
    columns: list[str]
    positives: int
    examples: int

    def predict(self, table: pd.DataFrame) -> FloatArray:
        return np.asarray(self.pipeline.predict_proba(table[self.columns].to_numpy())[:, 1], dtype=np.float64)

    @property
    def weights(self) -> dict[str, float]:
        """Coefficient per unit of each raw feature (log-odds)."""
        scaler: StandardScaler = self.pipeline.named_steps["standardscaler"]
        model: LogisticRegression = self.pipeline.named_steps["logisticregression"]
        scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
        return {name: round(float(c), 6) for name, c in zip(self.columns, model.coef_[0] / scale, strict=True)}


def fit(
    table: pd.DataFrame, label: BoolArray, columns: list[str], regularisation: float = REGULARISATION
) -> FittedModel | None:
    """Logistic regression of ``label`` on ``columns``; None when there are too few of either class."""
    table, label = training_sample(table, label)
    positives = int(label.sum())
    if positives < MIN_POSITIVES or len(label) - positives < MIN_POSITIVES:
        return None
    pipeline = make_pipeline(StandardScaler(), LogisticRegression(C=regularisation, max_iter=2000))
    pipeline.fit(table[columns].to_numpy(), label.astype(np.int64))
    return FittedModel(pipeline, list(columns), positives, len(label))


OWN_LOG_ODDS = "own_log_odds"
FOLDS = 3


def _boosted_trees() -> HistGradientBoostingClassifier:
    # Shallow, slow-learning and without early stopping: deterministic, and few leavers cannot overfit it much.
    return HistGradientBoostingClassifier(
        max_depth=3, learning_rate=0.05, max_iter=150, l2_regularization=1.0, early_stopping=False, random_state=0
    )


def _log_odds(probability: FloatArray) -> FloatArray:
    clipped = np.clip(probability, 1e-6, 1 - 1e-6)
    return np.asarray(np.log(clipped / (1 - clipped)), dtype=np.float64)


@dataclass(frozen=True)
class ChurnModel:
    """Own signals through boosted trees (their thresholds and interactions, e.g. a falling balance), and the
    network as a logistic regression on the own log-odds plus the network features: each network term adds
    its fitted log-odds, which is what explains a score through the neighbours."""

    own: HistGradientBoostingClassifier
    own_columns: list[str]
    network: FittedModel

    def predict_own(self, table: pd.DataFrame) -> FloatArray:
        return np.asarray(self.own.predict_proba(table[self.own_columns].to_numpy())[:, 1], dtype=np.float64)

    def predict(self, table: pd.DataFrame) -> FloatArray:
        stacked = table.assign(**{OWN_LOG_ODDS: _log_odds(self.predict_own(table))})
        return self.network.predict(stacked)

    @property
    def weights(self) -> dict[str, float]:
        """Log-odds per unit of the own log-odds and of each network feature."""
        return self.network.weights


def fit_churn(
    table: pd.DataFrame, label: BoolArray, own_columns: list[str], network_columns: list[str]
) -> ChurnModel | None:
    """The own model on every row; the network terms on out-of-fold own log-odds (in-sample ones would be
    overconfident and leave the network nothing to add). None when there are too few of either class."""
    table, label = training_sample(table, label)
    positives = int(label.sum())
    if positives < max(MIN_POSITIVES, FOLDS) or len(label) - positives < max(MIN_POSITIVES, FOLDS):
        return None
    features, target = table[own_columns].to_numpy(), label.astype(np.int64)
    own = _boosted_trees().fit(features, target)
    out_of_fold = cross_val_predict(
        _boosted_trees(), features, target, cv=StratifiedKFold(FOLDS), method="predict_proba"
    )[:, 1]
    stacked = table.assign(**{OWN_LOG_ODDS: _log_odds(out_of_fold)})
    network = fit(stacked, label, [OWN_LOG_ODDS, *network_columns], NETWORK_REGULARISATION)
    return None if network is None else ChurnModel(own, list(own_columns), network)
