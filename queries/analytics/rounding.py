"""Python's ``round(number, digits)`` over a whole column at once, to the bit.

Python rounds the exact binary value to ``digits`` decimals, halves to even, and returns the double nearest to
that decimal; numpy's ``round`` scales, rounds and scales back, which can differ in the last place. Scaling
errs by at most half a unit in the last place of the scaled number, so where the scaled number is farther than
that from a half, rounding it gives Python's integer, and dividing that integer (exact below 2**53) by the exact
power of ten is one correctly rounded division: the double nearest to the decimal, as Python gives. The few
numbers too close to a half to tell, too large, or not finite are rounded by Python itself.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

LARGEST_SCALED = 2.0**50
"""Past this a scaled number has no fractional bits to speak of: Python rounds it."""
SCALING_ERROR = 2.0**-50
"""Bound on the scaled number's error relative to its size (half a unit in the last place is 2**-53)."""


def round_like_python(values: npt.NDArray[np.float64], digits: int) -> npt.NDArray[np.float64]:
    """``[round(value, digits) for value in values]`` as an array, equal bit for bit (``0 <= digits <= 22``)."""
    if not 0 <= digits <= 22:
        raise ValueError(f"digits must be in [0, 22] (powers of ten exact as doubles), got {digits}")
    values = np.asarray(values, dtype=np.float64)
    scale = 10.0**digits
    with np.errstate(over="ignore", invalid="ignore"):
        scaled = values * scale
        rounded = np.rint(scaled) / scale
        magnitude = np.abs(scaled)
        unsure = ~(magnitude < LARGEST_SCALED) | (np.abs(scaled - np.floor(scaled) - 0.5) <= magnitude * SCALING_ERROR)
    for index in np.flatnonzero(unsure):
        rounded[index] = round(float(values[index]), digits)
    return rounded
