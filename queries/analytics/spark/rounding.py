"""Python's ``round(number, digits)`` as a Spark column, to the bit (the Spark twin of
:func:`queries.analytics.rounding.round_like_python`).

Spark's ``round`` and ``bround`` round the shortest decimal text of a double (``0.0078125`` half up to
``0.007813``, where Python's exact binary value halves to even, ``0.007812``; ``2.675`` is ``2.67499...`` to
Python). Python rounds the exact binary value, so here the exact product of the number and the power of ten is
compared with the nearest half: the rounded product and its rounding error (Dekker's exact product, with plain
double arithmetic: Java's is IEEE's) tell on which side of the half the exact value lies, and an exact half goes
to the even integer. That integer divided by the exact power of ten is one correctly rounded division: the
double nearest to the decimal, which is what Python returns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import Column

SPLITTER = 2.0**27 + 1.0
"""Veltkamp's constant: splits a double into two halves of 26 bits whose products with a short number are exact."""
LARGEST_SCALED = 2.0**50
"""Past this a scaled number has no fractional bits to round: the number is given back as it is."""
MAX_DIGITS = 11
"""10**digits must have at most 26 significant bits (5**11 < 2**26) for the split products to be exact."""


def rounded_like_python(value: Column, digits: int) -> Column:
    """``round(value, digits)`` as Python rounds a double, for ``0 <= digits <= 11``; null stays null, and a
    number too large to have decimals to round (or not finite) is given back unchanged."""
    from pyspark.sql import functions as F

    if not 0 <= digits <= MAX_DIGITS:
        raise ValueError(f"digits must be in [0, {MAX_DIGITS}], got {digits}")
    scale = 10.0**digits
    number = value.cast("double")
    scaled = number * F.lit(scale)
    # Dekker: number = high + low exactly, each product with the scale exact, so scaled + error is exact.
    big = number * F.lit(SPLITTER)
    high = big - (big - number)
    low = number - high
    error = (high * F.lit(scale) - scaled) + low * F.lit(scale)
    below = F.floor(scaled).cast("double")
    # The sign of (exact product - (below + 1/2)): the first difference is exact near the half, and adding the
    # error keeps the sign of the exact sum.
    past_half = (scaled - (below + F.lit(0.5))) + error
    integer = (
        F.when(past_half > 0, below + F.lit(1.0))
        .when(past_half < 0, below)
        .otherwise(below + F.pmod(below, F.lit(2.0)))  # a half: to the even neighbour
    )
    return F.when(F.abs(scaled) < F.lit(LARGEST_SCALED), integer / F.lit(scale)).otherwise(number)
