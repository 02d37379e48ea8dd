"""What progress reports count: a total that names its unit, for the ``progress(stage, done, total)`` callbacks."""

from __future__ import annotations

from typing import Self


class Count(int):
    """A total that says what it counts (``Count(12, "exports")``); to everything else it is a plain int.

    The callbacks keep their ``(stage, done, total)`` shape, so callers that do not care need no change,
    while a log line can say ``12 exports to do`` instead of a bare 12.
    """

    unit: str

    def __new__(cls, value: int, unit: str) -> Self:
        count = super().__new__(cls, value)
        count.unit = unit
        return count
