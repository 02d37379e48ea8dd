"""The day the data describe: what the API means by "today" (overdue follow-ups, ages for eligibility).

A bank's exports end on some day; a demo bank generated up to 2024-12-31 read on the calendar's today would show
every follow-up two years late. So the as-of date is the configured ``analytics.as_of`` when set, else the
latest ``analytics_as_of`` that ``crm-graph analyze`` stamped on the customers concerned (the latest date in the
data when it ran; a contact logged since does not move it), else, for customers never analysed, the calendar's
today.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date


def as_of_date(configured: date | None, stamps: Iterable[object]) -> date:
    """The as-of date from the configured one, else the latest ISO date among ``stamps``, else today."""
    if configured is not None:
        return configured
    stamped = [stamp[:10] for stamp in stamps if isinstance(stamp, str) and stamp]
    return date.fromisoformat(max(stamped)) if stamped else date.today()
