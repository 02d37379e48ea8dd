"""The day the data describe (queries.as_of)."""

from __future__ import annotations

from datetime import date

from queries.as_of import as_of_date


def test_configured_then_latest_stamp_then_today() -> None:
    assert as_of_date(date(2023, 1, 2), ["2024-12-31"]) == date(2023, 1, 2)
    assert as_of_date(None, ["2024-11-30", None, "2024-12-31", 7, ""]) == date(2024, 12, 31)
    assert as_of_date(None, ["2024-12-31T00:00:00"]) == date(2024, 12, 31)
    assert as_of_date(None, [None]) == date.today()
