"""Bootstrap figures of a ranking, all resamples at once: lift in the top share, ROC AUC and average precision.

A bootstrap resample of rows drawn with replacement is the same as the full rows each weighted by how often it
was drawn, and a weighted ranking needs no new sort: rows are sorted once by score, and every resample only
weighs them. ROC AUC is then the Mann-Whitney count (a tied negative counts one half), average precision the
step-wise sum scikit-learn's ``average_precision_score`` takes over distinct scores, and lift the outcomes of
the first ``top`` rows in a fixed order: each equal to the metric on the resampled rows, without a sort per
resample (a churn backtest scores some 1,000 resamples).

A batch of resamples can also be given as the rows it drew (:class:`Draws`): each score's weights per run
and in its order are then counted straight from the draws, with no (resamples, rows) weights to reorder, and
lift looks at the first places only, as far as the top share reaches.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from queries.analytics.frames import BoolArray, FloatArray

# Resamples drawn and weighed together: bounds the (resamples, rows) draws and weights in memory to about 8 MB
# each at any bank size. The figures are computed per resample, some ten arrays of the batch's size at once (at
# four million cells they were the churn step's top, about 220 MiB); the batch size changes none of them.
CELLS_AT_ONCE = 1_000_000


@dataclass(frozen=True)
class Draws:
    """A batch of bootstrap resamples as the row numbers each drew (a row of ``rows`` per resample), and whether
    each drawn row has the outcome."""

    rows: np.ndarray
    positive: BoolArray

    @classmethod
    def of(cls, rows: np.ndarray, outcome: BoolArray) -> Draws:
        return cls(rows, outcome[rows])

    @classmethod
    def everyone_once(cls, outcome: BoolArray) -> Draws:
        """The full sample: every row drawn once."""
        return cls.of(np.arange(len(outcome))[None, :], outcome)


@dataclass(frozen=True)
class Ranking:
    """Rows sorted once by ascending score, where each run of equal scores starts, the outcome in that order,
    and each row's run (by row number)."""

    order: np.ndarray
    run_starts: np.ndarray
    outcome: BoolArray
    run_of: np.ndarray

    @classmethod
    def of(cls, score: FloatArray, outcome: BoolArray) -> Ranking:
        order = np.argsort(score, kind="stable")
        ordered = score[order]
        starts = np.concatenate([[True], ordered[1:] != ordered[:-1]])
        run_of = np.empty(len(score), dtype=np.int64)
        run_of[order] = np.cumsum(starts) - 1
        return cls(order, np.flatnonzero(starts), outcome[order], run_of)

    def per_run(self, weights: np.ndarray) -> tuple[FloatArray, FloatArray]:
        """(positives, negatives) weight of each run of equal scores, per resample (rows of ``weights``)."""
        ordered = weights[:, self.order]
        everyone = np.add.reduceat(ordered, self.run_starts, axis=1)
        positives = np.add.reduceat(ordered * self.outcome, self.run_starts, axis=1)
        return positives.astype(np.float64), (everyone - positives).astype(np.float64)

    def drawn_per_run(self, draws: Draws) -> tuple[FloatArray, FloatArray]:
        """:meth:`per_run` of the resamples ``draws`` holds: the draws counted by run (the same integers)."""
        runs = len(self.run_starts)
        keys = self.run_of[draws.rows] + np.arange(len(draws.rows))[:, None] * runs
        everyone = np.bincount(keys.ravel(), minlength=len(keys) * runs)
        positives = np.bincount(keys[draws.positive], minlength=len(keys) * runs)
        shape = (len(keys), runs)
        return positives.reshape(shape).astype(np.float64), (everyone - positives).reshape(shape).astype(np.float64)


def roc_auc(ranking: Ranking, weights: np.ndarray) -> FloatArray:
    """ROC AUC per resample; NaN where a resample holds only one class."""
    return auc_of_runs(*ranking.per_run(weights))


def average_precision(ranking: Ranking, weights: np.ndarray) -> FloatArray:
    """Average precision per resample; NaN where a resample holds only one class."""
    return average_precision_of_runs(*ranking.per_run(weights))


def auc_of_runs(positives: FloatArray, negatives: FloatArray) -> FloatArray:
    """ROC AUC per resample from its positives' and negatives' weight per run of equal scores (ascending)."""
    below = np.cumsum(negatives, axis=1) - negatives
    pairs = positives.sum(axis=1) * negatives.sum(axis=1)
    won = (positives * (below + 0.5 * negatives)).sum(axis=1)
    return _ratio_or_nan(won, pairs)


def average_precision_of_runs(positives: FloatArray, negatives: FloatArray) -> FloatArray:
    """Average precision per resample (precision at each distinct score, from the highest, weighted by the
    recall it adds) from its weights per run, as :func:`auc_of_runs`."""
    # from the highest score down: true and false positives at or above each run
    true_above = np.cumsum(positives[:, ::-1], axis=1)[:, ::-1]
    flagged = true_above + np.cumsum(negatives[:, ::-1], axis=1)[:, ::-1]
    precision = np.divide(true_above, flagged, out=np.zeros_like(flagged), where=flagged > 0)
    total = positives.sum(axis=1)
    summed = (positives * precision).sum(axis=1)
    return np.where(negatives.sum(axis=1) > 0, _ratio_or_nan(summed, total), np.nan)


def lift(order: np.ndarray, outcome: BoolArray, top: int, weights: np.ndarray) -> FloatArray:
    """Rate of the outcome among the first ``top`` rows (``order``: best first, ties already broken) over its
    rate among all, per resample; a row drawn several times fills as many places."""
    ordered = weights[:, order]
    before = np.cumsum(ordered, axis=1) - ordered
    taken = np.clip(top - before, 0, ordered)
    hits = np.where(outcome[order], taken, 0).sum(axis=1)
    rate = np.where(outcome[order], ordered, 0).sum(axis=1) / weights.sum(axis=1)
    return _ratio_or_nan(hits / top, rate)


def drawn_lift(place: np.ndarray, outcome: BoolArray, top: int, draws: Draws) -> FloatArray:
    """:func:`lift` of the resamples ``draws`` holds (``place``: each row's place, best first; ``outcome`` in
    that order). Only the first places are counted, doubling them until every resample's draws there fill the
    top: a place after that takes nothing, so the integers summed are those of :func:`lift`."""
    rows = draws.rows.shape[1]
    ordered = draw_counts(place[draws.rows], rows)
    width = min(rows, 2 * top)
    while True:
        before = np.cumsum(ordered[:, :width], axis=1)
        if width == rows or (before[:, -1] >= top).all():
            break
        width = min(rows, 2 * width)
    before -= ordered[:, :width]
    taken = np.clip(top - before, 0, ordered[:, :width])
    hits = np.where(outcome[:width], taken, 0).sum(axis=1)
    rate = draws.positive.sum(axis=1) / np.full(len(ordered), rows)
    return _ratio_or_nan(hits / top, rate)


def drawn_rows(rng: np.random.Generator, rows: int, resamples: int) -> Iterator[np.ndarray]:
    """Bootstrap draws, one resample a row of ``rows`` row numbers, a batch of resamples at a time: the same
    numbers in the same order as ``rng.integers(0, rows, (resamples, rows))`` drawn at once, which would hold
    1.5 GiB for 200 resamples of a million customers."""
    batch = max(1, CELLS_AT_ONCE // max(rows, 1))
    for start in range(0, resamples, batch):
        yield rng.integers(0, rows, (min(batch, resamples - start), rows))


def draw_counts(drawn: np.ndarray, rows: int) -> np.ndarray:
    """Per resample (rows of ``drawn``, drawn row numbers), how often each of ``rows`` rows was drawn."""
    offsets = np.arange(len(drawn))[:, None] * rows
    return np.bincount((drawn + offsets).ravel(), minlength=len(drawn) * rows).reshape(len(drawn), rows)


def _ratio_or_nan(numerator: np.ndarray, denominator: np.ndarray) -> FloatArray:
    return np.divide(numerator, denominator, out=np.full(len(numerator), np.nan), where=denominator > 0)
