"""Working-day calendar: holidays and make-up workdays are data, not code (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta


@dataclass(frozen=True)
class WorkingCalendar:
    """The official schedule as data.

    ``holidays`` are days off even on weekdays, ``workdays`` are make-up workdays (调休) on
    weekends, ``official_years`` are the years whose schedule has been entered. A day in any
    other year is counted Monday–Friday and marks the result provisional.
    """

    holidays: frozenset[date] = field(default_factory=frozenset)
    workdays: frozenset[date] = field(default_factory=frozenset)
    official_years: frozenset[int] = field(default_factory=frozenset)

    @classmethod
    def build(
        cls, holidays: Iterable[date], workdays: Iterable[date], official_years: Iterable[int]
    ) -> WorkingCalendar:
        return cls(frozenset(holidays), frozenset(workdays), frozenset(official_years))

    def is_official(self, day: date) -> bool:
        return day.year in self.official_years

    def is_workday(self, day: date) -> bool:
        """Say whether ``day`` is a working day (weekends off unless 调休, holidays off)."""
        if self.is_official(day):
            if day in self.workdays:
                return True
            if day in self.holidays:
                return False
        return day.weekday() < 5

    def add_working_days(self, start: date, days: int) -> tuple[date, bool]:
        """Return the Nth working day after ``start`` and whether any year crossed lacks data.

        The start day itself is not counted (common administrative practice).
        """
        if days < 0:
            raise ValueError("days must not be negative")
        day = start
        provisional = not self.is_official(start) and days == 0
        counted = 0
        while counted < days:
            day += timedelta(days=1)
            if not self.is_official(day):
                provisional = True
            if self.is_workday(day):
                counted += 1
        return day, provisional

    def working_days_between(self, start: date, end: date) -> int:
        """Count working days after ``start`` up to and including ``end``."""
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            count += self.is_workday(day)
        return count
