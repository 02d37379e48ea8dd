"""Fitted models: regularised logistic regression (scikit-learn) for churn and, per product, for uptake.

Every model is trained on an earlier window and applied forward in time: features as of a month-end, the
label what happened in the months after it. Features are standardised, so a fitted coefficient is the change
in log-odds per standard deviation; :attr:`FittedModel.weights` turns them back per unit of the raw feature,
which is how the fitted weight of each tie type is read.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from queries.analytics.frames import BoolArray, FloatArray

REGULARISATION = 0.1  # inverse strength (C) of the L2 penalty: strong enough that useless features stay near 0
MIN_POSITIVES = 5  # fewer positive examples than this and a model is not fitted


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


def fit(table: pd.DataFrame, label: BoolArray, columns: list[str]) -> FittedModel | None:
    """Logistic regression of ``label`` on ``columns``; None when there are too few of either class."""
    positives = int(label.sum())
    if positives < MIN_POSITIVES or len(label) - positives < MIN_POSITIVES:
        return None
    pipeline = make_pipeline(StandardScaler(), LogisticRegression(C=REGULARISATION, max_iter=2000))
    pipeline.fit(table[columns].to_numpy(), label.astype(np.int64))
    return FittedModel(pipeline, list(columns), positives, len(label))
