"""Bootstrap figures from one sort equal the same figures computed on each resample's rows."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from queries.analytics import resampling
from queries.analytics.resampling import (
    Draws,
    Ranking,
    auc_of_runs,
    average_precision,
    average_precision_of_runs,
    draw_counts,
    drawn_lift,
    drawn_rows,
    lift,
    roc_auc,
)

ROWS = 600
RESAMPLES = 40
TOP = 30


def _data(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scores with many ties (rounded), a rare outcome, and bootstrap row draws."""
    rng = np.random.default_rng(seed)
    score = np.round(rng.random(ROWS), 2)
    outcome = rng.random(ROWS) < 0.05 + 0.2 * score
    samples = rng.integers(0, ROWS, (RESAMPLES, ROWS))
    return score, outcome, samples


def _all(metric: object, samples: np.ndarray, *args: object) -> np.ndarray:
    return metric(*args, draw_counts(samples, ROWS))  # type: ignore[operator,no-any-return]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_auc_and_average_precision_equal_scikit_learn_on_each_resample(seed: int) -> None:
    score, outcome, samples = _data(seed)
    ranking = Ranking.of(score, outcome)
    expected_auc = [roc_auc_score(outcome[rows], score[rows]) for rows in samples]
    expected_precision = [average_precision_score(outcome[rows], score[rows]) for rows in samples]
    np.testing.assert_allclose(_all(roc_auc, samples, ranking), expected_auc, rtol=0, atol=1e-12)
    np.testing.assert_allclose(_all(average_precision, samples, ranking), expected_precision, rtol=0, atol=1e-12)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_lift_equals_the_top_rows_of_each_resample_sorted_on_its_own(seed: int) -> None:
    score, outcome, samples = _data(seed)
    tie_break = np.random.default_rng(seed).permutation(ROWS)
    expected = []
    for rows in samples:
        top = np.lexsort((tie_break[rows], -score[rows]))[:TOP]
        expected.append(outcome[rows][top].mean() / outcome[rows].mean())
    best_first = np.lexsort((tie_break, -score))
    np.testing.assert_allclose(_all(lift, samples, best_first, outcome, TOP), expected, rtol=1e-12)


def test_a_resample_of_one_class_has_no_figure() -> None:
    score = np.array([0.1, 0.2, 0.3, 0.4])
    outcome = np.array([False, False, True, True])
    samples = np.array([[0, 1, 0, 1], [2, 3, 3, 2], [0, 2, 1, 3]])
    ranking = Ranking.of(score, outcome)
    weights = draw_counts(samples, 4)
    assert np.isnan(roc_auc(ranking, weights)[:2]).all() and roc_auc(ranking, weights)[2] == 1.0
    assert np.isnan(average_precision(ranking, weights)[:2]).all()
    assert np.isnan(lift(np.argsort(-score), outcome, 1, weights)[0])


def test_batches_of_resamples_give_the_same_figures(monkeypatch: pytest.MonkeyPatch) -> None:
    score, outcome, samples = _data(4)
    ranking = Ranking.of(score, outcome)
    whole = _all(roc_auc, samples, ranking)
    monkeypatch.setattr(resampling, "CELLS_AT_ONCE", 7 * ROWS)  # 7 resamples a batch, the last one short
    rng = np.random.default_rng(4)
    rng.random(ROWS), rng.random(ROWS)  # the draws _data made before its samples
    batches = [draw_counts(drawn, ROWS) for drawn in drawn_rows(rng, ROWS, RESAMPLES)]
    assert len(batches) == 6
    np.testing.assert_array_equal(np.concatenate([roc_auc(ranking, weights) for weights in batches]), whole)


@pytest.mark.parametrize("rows", [1, 7, 600, 90_001])
def test_draws_in_batches_are_the_draws_made_at_once(monkeypatch: pytest.MonkeyPatch, rows: int) -> None:
    """Batching keeps the random stream: the bootstrap intervals of a seed are those of the draws made at once."""
    at_once = np.random.default_rng(11).integers(0, rows, (RESAMPLES, rows))
    monkeypatch.setattr(resampling, "CELLS_AT_ONCE", 3 * rows)
    batches = list(drawn_rows(np.random.default_rng(11), rows, RESAMPLES))
    assert [len(batch) for batch in batches] == [3] * 13 + [1]
    np.testing.assert_array_equal(np.concatenate(batches), at_once)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_figures_counted_from_the_draws_equal_those_from_the_weights(seed: int) -> None:
    """The backtest counts each score's runs and places straight from the rows drawn: the same integers, so
    the same figures to the last bit, the full sample included."""
    score, outcome, samples = _data(seed)
    ranking = Ranking.of(score, outcome)
    best_first = np.lexsort((np.random.default_rng(seed).permutation(ROWS), -score))
    place = np.empty(ROWS, dtype=np.int64)
    place[best_first] = np.arange(ROWS)
    for rows, draws in (
        (samples, Draws.of(samples, outcome)),
        (np.arange(ROWS)[None, :], Draws.everyone_once(outcome)),
    ):
        weights = draw_counts(rows, ROWS)
        for got, expected in zip(ranking.drawn_per_run(draws), ranking.per_run(weights), strict=True):
            np.testing.assert_array_equal(got, expected)
        runs = ranking.drawn_per_run(draws)
        np.testing.assert_array_equal(auc_of_runs(*runs), roc_auc(ranking, weights))
        np.testing.assert_array_equal(average_precision_of_runs(*runs), average_precision(ranking, weights))
        for top in (1, TOP, ROWS // 2, ROWS):  # a top reached at once, after doubling, and only at the end
            np.testing.assert_array_equal(
                drawn_lift(place, outcome[best_first], top, draws), lift(best_first, outcome, top, weights)
            )
