"""Deadline policies and the computation of a due moment (pure).

Defaults (DOMAIN.md): consultation 3, help request and suggestion 5, complaint and report 10
working days (Gangnan, seed 004); multi-department problems 15 (Chengde, seed 002); urgency
labels 立即查处 / 3日办结 / 7日跟进 (seed 000).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.calendar import WorkingCalendar
from app.clock import end_of_local_day_utc, local_date
from app.enums import CaseType, DeadlineState, Urgency


@dataclass(frozen=True)
class Policy:
    """One row of the deadline policy table; ``None`` criteria match anything."""

    working_days: int
    case_type: CaseType | None = None
    urgency: Urgency | None = None
    multi_department: bool | None = None
    id: int = 0

    def matches(self, case_type: CaseType, urgency: Urgency, multi_department: bool) -> bool:
        return (
            self.case_type in (None, case_type)
            and self.urgency in (None, urgency)
            and self.multi_department in (None, multi_department)
        )

    @property
    def specificity(self) -> int:
        """Weigh the criteria: an urgency label beats multi-department, which beats the type."""
        return (
            4 * (self.urgency is not None)
            + 2 * (self.multi_department is not None)
            + (self.case_type is not None)
        )


DEFAULT_POLICIES: tuple[Policy, ...] = (
    Policy(10),
    Policy(3, case_type=CaseType.CONSULTATION),
    Policy(5, case_type=CaseType.HELP),
    Policy(5, case_type=CaseType.SUGGESTION),
    Policy(10, case_type=CaseType.COMPLAINT),
    Policy(10, case_type=CaseType.REPORT),
    Policy(15, multi_department=True),
    Policy(1, urgency=Urgency.IMMEDIATE),
    Policy(3, urgency=Urgency.THREE_DAY),
    Policy(7, urgency=Urgency.SEVEN_DAY),
)


def select_policy(
    policies: Iterable[Policy], case_type: CaseType, urgency: Urgency, multi_department: bool
) -> Policy:
    """Pick the most specific matching policy (urgency > multi-department > case type);
    ties go to the shorter period, then the lower id."""
    candidates = [p for p in policies if p.matches(case_type, urgency, multi_department)]
    if not candidates:
        raise LookupError("no deadline policy matches")
    return min(candidates, key=lambda p: (-p.specificity, p.working_days, p.id))


@dataclass(frozen=True)
class Deadline:
    due_at: datetime  # naive UTC
    provisional: bool


def working_day_deadline(calendar: WorkingCalendar, start_at: datetime, days: int) -> Deadline:
    """Return the end (23:59:59 Asia/Shanghai) of the Nth working day after ``start_at``."""
    day, provisional = calendar.add_working_days(local_date(start_at), days)
    return Deadline(end_of_local_day_utc(day), provisional)


def clock_deadline(start_at: datetime, *, hours: float = 0, minutes: float = 0) -> Deadline:
    """Return a deadline in clock time (e.g. 2 hours to sign, 20 minutes to dispatch)."""
    return Deadline(start_at + timedelta(hours=hours, minutes=minutes), False)


def deadline_state(
    due_at: datetime | None,
    now: datetime,
    warn_before: timedelta,
    finished_at: datetime | None = None,
) -> DeadlineState:
    """Classify a stored deadline as on time, due soon or overdue at ``now``; once the step is
    finished, as met or missed."""
    if due_at is None:
        return DeadlineState.NONE
    if finished_at is not None:
        return DeadlineState.MET if finished_at <= due_at else DeadlineState.MISSED
    if now > due_at:
        return DeadlineState.OVERDUE
    if now >= due_at - warn_before:
        return DeadlineState.DUE_SOON
    return DeadlineState.ON_TIME
