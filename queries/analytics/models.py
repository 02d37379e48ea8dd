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
from pydantic import BaseModel, ConfigDict
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from queries.analytics.frames import BoolArray, FloatArray
from queries.analytics.resampling import Draws, Ranking, auc_of_runs, drawn_rows

REGULARISATION = 0.1  # inverse strength (C) of the L2 penalty: strong enough that useless features stay near 0
# The network terms of churn learn from the few leavers of one horizon: a stronger penalty keeps them honest.
NETWORK_REGULARISATION = 0.03
MIN_POSITIVES = 5  # fewer positive examples than this and a model is not fitted
# Beyond this many training rows a model learns from a seeded uniform sample of them: its cost stops growing
# with the bank (a million customers would otherwise fit every product's model on a million rows).
MAX_TRAINING_ROWS = 200_000


def training_rows(rows: int) -> np.ndarray | None:
    """The row numbers (sorted) a model learns from when given ``rows`` rows: None for all of them, else
    ``MAX_TRAINING_ROWS`` drawn uniformly (the same ones for the same count), so that a caller can make the
    table of those rows alone."""
    if rows <= MAX_TRAINING_ROWS:
        return None
    return np.sort(np.random.default_rng(0).choice(rows, MAX_TRAINING_ROWS, replace=False))


def training_sample(table: pd.DataFrame, label: BoolArray) -> tuple[pd.DataFrame, BoolArray]:
    """All rows, or ``MAX_TRAINING_ROWS`` of them drawn uniformly (the same ones for the same data)."""
    chosen = training_rows(len(label))
    if chosen is None:
        return table, label
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


def _logistic(regularisation: float) -> Pipeline:
    """Standardised features, L2-penalised logistic regression (``regularisation`` is its C)."""
    return make_pipeline(StandardScaler(), LogisticRegression(C=regularisation, max_iter=2000))


def fit(
    table: pd.DataFrame, label: BoolArray, columns: list[str], regularisation: float = REGULARISATION
) -> FittedModel | None:
    """Logistic regression of ``label`` on ``columns``; None when there are too few of either class."""
    table, label = training_sample(table, label)
    positives = int(label.sum())
    if positives < MIN_POSITIVES or len(label) - positives < MIN_POSITIVES:
        return None
    pipeline = _logistic(regularisation)
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


# The network terms' penalties the inner validation tries (inverse strength C; smaller shrinks them harder).
NETWORK_PENALTIES = (0.003, 0.01, 0.03, 0.1)
INNER_FOLDS = 5
INNER_RESAMPLES = 100
# The network terms are kept only when their out-of-fold gain in ROC AUC is this many (bootstrap) standard
# errors above nothing: on a bank where ties carry no churn, noise fitted on a few hundred leavers must not
# reorder the customers the own signals rank. Rank, not log-likelihood: the penalty that tames the network
# terms also shrinks the own log-odds' coefficient, which costs likelihood without changing the order.
EARNS_ITS_PLACE = 2.0


class NetworkTerms(BaseModel):
    """What the inner validation on the training window decided about the network terms, and on what figures."""

    model_config = ConfigDict(frozen=True)

    kept: bool
    regularisation: float | None  # the chosen penalty (C); None when the terms were left out
    auc_own: float  # out-of-fold ROC AUC of the own log-odds alone
    auc_network: float  # ... and with the network terms at the chosen penalty
    gain_standard_error: float
    validation: str


@dataclass(frozen=True)
class ChurnModel:
    """Own signals through boosted trees (their thresholds and interactions, e.g. a falling balance), and the
    network as a logistic regression on the own log-odds plus the network features: each network term adds
    its fitted log-odds, which is what explains a score through the neighbours. When the network terms did not
    earn their place in the inner validation, the regression reads the own log-odds alone (its calibration)."""

    own: HistGradientBoostingClassifier
    own_columns: list[str]
    network: FittedModel
    network_terms: NetworkTerms

    def predict_own(self, table: pd.DataFrame) -> FloatArray:
        return np.asarray(self.own.predict_proba(table[self.own_columns].to_numpy())[:, 1], dtype=np.float64)

    def predict(self, table: pd.DataFrame) -> FloatArray:
        return self.predict_both(table)[1]

    def predict_both(self, table: pd.DataFrame) -> tuple[FloatArray, FloatArray]:
        """(own-only, own + network) probabilities from one pass of the trees: the network's regression reads
        the own log-odds, and a second pass over every customer cost as much as the first."""
        own = self.predict_own(table)
        stacked = table.assign(**{OWN_LOG_ODDS: _log_odds(own)})
        return own, self.network.predict(stacked)

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
    terms = choose_network_terms(stacked, label, network_columns)
    columns = [OWN_LOG_ODDS, *network_columns] if terms.kept else [OWN_LOG_ODDS]
    network = fit(stacked, label, columns, terms.regularisation or NETWORK_REGULARISATION)
    return None if network is None else ChurnModel(own, list(own_columns), network, terms)


def _out_of_fold_probability(
    features: np.ndarray, target: np.ndarray, folds: list[tuple[np.ndarray, np.ndarray]], regularisation: float
) -> FloatArray:
    """Each row's probability under a logistic regression fitted on the other folds."""
    probability = np.zeros(len(target))
    for train_rows, held_out in folds:
        pipeline = _logistic(regularisation)
        pipeline.fit(features[train_rows], target[train_rows])
        probability[held_out] = pipeline.predict_proba(features[held_out])[:, 1]
    return probability


def _auc_gain_standard_error(target: np.ndarray, better: FloatArray, alone: FloatArray) -> float:
    """Bootstrap standard error of the paired difference in ROC AUC (rows resampled, seeded)."""
    outcome = target.astype(bool)
    with_network, own_alone = Ranking.of(better, outcome), Ranking.of(alone, outcome)
    batches = (Draws.of(drawn, outcome) for drawn in drawn_rows(np.random.default_rng(0), len(target), INNER_RESAMPLES))
    gains = np.concatenate(
        [
            auc_of_runs(*with_network.drawn_per_run(draws)) - auc_of_runs(*own_alone.drawn_per_run(draws))
            for draws in batches
        ]
    )
    gains = gains[np.isfinite(gains)]  # a resample holding one class only has no AUC
    return float(np.std(gains, ddof=1)) if len(gains) > 1 else float("inf")


def choose_network_terms(stacked: pd.DataFrame, label: BoolArray, network_columns: list[str]) -> NetworkTerms:
    """Inner cross-validation on the training window: the own log-odds alone against them plus the network
    terms at each of ``NETWORK_PENALTIES``; the best penalty's terms are kept only if they gain
    ``EARNS_ITS_PLACE`` standard errors of out-of-fold ROC AUC."""
    target = label.astype(np.int64)
    folds = list(StratifiedKFold(INNER_FOLDS).split(np.zeros(len(target)), target))
    alone = _out_of_fold_probability(stacked[[OWN_LOG_ODDS]].to_numpy(), target, folds, NETWORK_REGULARISATION)
    auc_alone = float(roc_auc_score(target, alone))
    features = stacked[[OWN_LOG_ODDS, *network_columns]].to_numpy()
    tried = []  # (out-of-fold AUC, penalty, probabilities)
    for penalty in NETWORK_PENALTIES:
        probability = _out_of_fold_probability(features, target, folds, penalty)
        tried.append((float(roc_auc_score(target, probability)), penalty, probability))
    auc, penalty, probability = max(tried, key=lambda found: (found[0], found[1]))
    error = _auc_gain_standard_error(target, probability, alone)
    kept = bool(network_columns) and auc - auc_alone > EARNS_ITS_PLACE * error
    return NetworkTerms(
        kept=kept,
        regularisation=penalty if kept else None,
        auc_own=round(auc_alone, 4),
        auc_network=round(auc, 4),
        gain_standard_error=round(error, 4),
        validation=f"{INNER_FOLDS}-fold out-of-fold ROC AUC on the training window, own log-odds alone against "
        f"them plus the network terms; kept when the gain exceeds {EARNS_ITS_PLACE:g} bootstrap standard errors",
    )
