"""Shared pieces of the generator: the reference date, the month-end calendar, seeded randomness, formatting.

All dates are numpy ``datetime64[D]`` day numbers while generating; they become text only when written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

# The data describe the bank as of this day; a fixed date (not today) keeps output reproducible.
AS_OF = np.datetime64("2024-12-31", "D")
MONTHS = 24
WINDOW_START = np.datetime64("2023-01-01", "D")  # the first day the month-end balances cover
# Month ends oldest first: 2023-01-31 ... 2024-12-31.
MONTH_ENDS: NDArray[np.datetime64] = (
    np.arange(np.datetime64("2023-02", "M"), np.datetime64("2025-01", "M") + 1).astype("M8[D]") - 1
)

IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]
FloatArray = NDArray[np.float64]
Days = NDArray[np.datetime64]
Progress = Callable[[str, int, int], None]


def child_rng(seed: int, *stage: int | str) -> np.random.Generator:
    """A generator for one stage, independent of how much randomness earlier stages drew."""
    words = [seed] + [sum(ord(char) * 31**i for i, char in enumerate(str(part))) % 2**32 for part in stage]
    return np.random.default_rng(np.random.SeedSequence(words))


def ymd(days: Days) -> tuple[IntArray, IntArray, IntArray]:
    """Year, month and day of each date."""
    years = days.astype("M8[Y]")
    months = days.astype("M8[M]")
    year = years.astype(np.int64) + 1970
    month = (months - years.astype("M8[M]")).astype(np.int64) + 1
    day = (days - months.astype("M8[D]")).astype(np.int64) + 1
    return year, month, day


def yyyymmdd_int(days: Days) -> IntArray:
    year, month, day = ymd(days)
    return year * 10000 + month * 100 + day


def iso_dates(days: Days) -> list[str]:
    """'YYYY-MM-DD' for each date; NaT becomes an empty cell."""
    return [text if text != "NaT" else "" for text in np.datetime_as_string(days, unit="D").tolist()]


def compact_dates(days: Days) -> list[str]:
    """'YYYYMMDD' for each date (the core system's style); NaT becomes an empty cell."""
    missing = np.isnat(days).tolist()
    return ["" if gone else str(value) for value, gone in zip(yyyymmdd_int(days).tolist(), missing, strict=True)]


def padded(values: IntArray, width: int, prefix: str = "") -> list[str]:
    """Zero-padded decimal strings; keys keep their leading zeros so they can never pass as numbers."""
    return [f"{prefix}{value:0{width}d}" for value in values.tolist()]


def pick(rng: np.random.Generator, choices: list[str], size: int, weights: list[float] | None = None) -> IntArray:
    """Indices into ``choices``, optionally weighted."""
    if weights is None:
        return rng.integers(0, len(choices), size)
    probabilities = np.asarray(weights, dtype=np.float64)
    return rng.choice(len(choices), size=size, p=probabilities / probabilities.sum())


def take(choices: list[str], index: IntArray) -> list[str]:
    return [choices[i] for i in index.tolist()]


def month_of(days: Days) -> IntArray:
    """First month-end index (0..23) on or after each date: 0 for dates before the window, 24 after it."""
    return np.searchsorted(MONTH_ENDS, days, side="left").astype(np.int64)


@dataclass
class Ties:
    """Ties of one type between internal customer indices, with optional per-tie properties."""

    source: IntArray
    target: IntArray
    props: dict[str, list[str]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.source)
