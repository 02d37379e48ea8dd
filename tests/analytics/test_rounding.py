"""Rounding a column at once gives Python's ``round`` of each number, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from queries.analytics.analyze import ROUNDED
from queries.analytics.rounding import round_like_python


def _python(values: np.ndarray, digits: int) -> np.ndarray:
    return np.array([round(number, digits) for number in values.tolist()], dtype=np.float64)


@pytest.mark.parametrize("digits", sorted(set(ROUNDED.values())))
def test_every_number_rounds_as_python_rounds_it(digits: int) -> None:
    generator = np.random.default_rng(7)
    spread = np.concatenate([(generator.random(20_000) - 0.3) * 10.0**power for power in range(-9, 13, 3)])
    halves = (np.floor(spread * 10.0**digits) + 0.5) / 10.0**digits  # as near a half as doubles get
    special = np.array([0.0, -0.0, -1e-300, 5e-324, 0.125, 2.675, 0.5, 1.5, 2.5, 1e300, np.nan, np.inf, -np.inf])
    values = np.concatenate([spread, halves, np.round(spread, digits + 1), special])
    found, expected = round_like_python(values, digits), _python(values, digits)
    # the bits: -0.0 against 0.0 and NaN against NaN count too
    assert np.array_equal(found.view(np.int64), expected.view(np.int64))
    # numpy's rounding, which scales and scales back, differs from Python's on such numbers: the check can fail
    ordinary = np.concatenate([spread, halves])
    assert not np.array_equal(np.round(ordinary, digits), _python(ordinary, digits))


def test_digits_out_of_range_are_refused() -> None:
    with pytest.raises(ValueError, match="digits"):
        round_like_python(np.array([1.0]), 23)
