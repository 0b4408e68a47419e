"""Fixtures for the pure unit tests: no database, no Flask app."""

from __future__ import annotations

import pytest

from app.calendar import WorkingCalendar


def official_schedule() -> tuple[dict, dict, set[int]]:
    """The State Council schedule shipped with ``chinese_calendar``.

    Returns the holidays, the make-up workdays (调休) and the years the data covers.
    """
    from chinese_calendar.constants import holidays, workdays

    years = {day.year for day in holidays} | {day.year for day in workdays}
    return holidays, workdays, years


@pytest.fixture(scope="session")
def calendar() -> WorkingCalendar:
    """The working-day calendar seeded from the official years 2004–2026."""
    holidays, workdays, years = official_schedule()
    return WorkingCalendar.build(holidays, workdays, years)
