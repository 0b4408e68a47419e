"""Deadlines (DOMAIN.md, "Case types and deadlines"): the policy table, the due moment at the end
(23:59:59 Asia/Shanghai) of the Nth working day, clock-time deadlines, and the deadline state.

Times are stored as naive UTC; Beijing is UTC+8 all year."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.calendar import WorkingCalendar
from app.deadlines import (
    DEFAULT_POLICIES,
    Deadline,
    Policy,
    clock_deadline,
    deadline_state,
    select_policy,
    working_day_deadline,
)
from app.enums import CaseType, DeadlineState, Urgency
from tests.unit.conftest import official_schedule


def beijing(text: str) -> datetime:
    """A naive UTC datetime from 'YYYY-MM-DD HH:MM' Beijing time."""
    local = datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=ZoneInfo("Asia/Shanghai"))
    return local.astimezone(UTC).replace(tzinfo=None)


def end_of_beijing_day(year: int, month: int, day: int) -> datetime:
    """23:59:59 Beijing of a day, as naive UTC (15:59:59 UTC the same date)."""
    return datetime(year, month, day, 15, 59, 59)


def test_beijing_helper_converts_to_naive_utc():
    assert beijing("2026-09-30 10:00") == datetime(2026, 9, 30, 2, 0)


# --- the due moment of a working-day period --------------------------------------------------


def test_complaint_filed_before_national_day_is_due_on_oct_20(calendar):
    deadline = working_day_deadline(calendar, datetime(2026, 9, 30, 2, 0), 10)
    assert deadline == Deadline(due_at=end_of_beijing_day(2026, 10, 20), provisional=False)


def test_help_request_filed_before_spring_festival_is_due_on_feb_27(calendar):
    deadline = working_day_deadline(calendar, beijing("2026-02-13 10:00"), 5)
    assert deadline == Deadline(due_at=end_of_beijing_day(2026, 2, 27), provisional=False)


def test_the_deadline_is_the_end_of_the_beijing_day_whatever_the_filing_hour(calendar):
    morning = working_day_deadline(calendar, beijing("2026-09-30 08:01"), 10)
    evening = working_day_deadline(calendar, beijing("2026-09-30 21:45"), 10)
    assert morning == evening
    assert morning.due_at == datetime(2026, 10, 20, 15, 59, 59)


def test_a_filing_late_in_the_beijing_evening_counts_from_that_beijing_date(calendar):
    # 23:30 Beijing on Fri Feb 13 is 15:30 UTC the same date: still Feb 13, due Feb 27.
    filed = beijing("2026-02-13 23:30")
    assert filed == datetime(2026, 2, 13, 15, 30)
    assert working_day_deadline(calendar, filed, 5).due_at == end_of_beijing_day(2026, 2, 27)


def test_a_filing_whose_utc_date_is_the_day_before_counts_from_the_beijing_date(calendar):
    # 07:30 Beijing on Fri Feb 13 is 23:30 UTC on Thu Feb 12. Counting from the UTC date would
    # give Feb 26; the Beijing date gives Feb 27.
    filed = beijing("2026-02-13 07:30")
    assert filed == datetime(2026, 2, 12, 23, 30)
    assert working_day_deadline(calendar, filed, 5).due_at == end_of_beijing_day(2026, 2, 27)


def test_a_deadline_crossing_into_2027_is_provisional(calendar):
    deadline = working_day_deadline(calendar, beijing("2026-12-31 10:00"), 3)
    assert deadline == Deadline(due_at=end_of_beijing_day(2027, 1, 5), provisional=True)


def test_entering_the_2027_schedule_changes_the_deadline_and_clears_provisional():
    holidays, workdays, years = official_schedule()
    with_2027 = WorkingCalendar.build(set(holidays) | {date(2027, 1, 1)}, workdays, years | {2027})
    deadline = working_day_deadline(with_2027, beijing("2026-12-31 10:00"), 3)
    assert deadline == Deadline(due_at=end_of_beijing_day(2027, 1, 6), provisional=False)


def test_a_negative_period_is_refused(calendar):
    with pytest.raises(ValueError):
        working_day_deadline(calendar, beijing("2026-03-04 10:00"), -1)


# --- clock-time deadlines --------------------------------------------------------------------


def test_a_department_has_two_hours_to_sign_for_a_dispatched_case():
    dispatched = beijing("2026-03-04 10:15")
    assert clock_deadline(dispatched, hours=2) == Deadline(beijing("2026-03-04 12:15"), False)


def test_a_case_must_be_dispatched_twenty_minutes_after_acceptance():
    accepted = beijing("2026-03-04 23:50")
    assert clock_deadline(accepted, minutes=20) == Deadline(beijing("2026-03-05 00:10"), False)


def test_clock_deadlines_run_through_holidays_and_nights():
    # Clock time, not working time: a dispatch on National Day is due two hours later.
    dispatched = beijing("2026-10-01 23:00")
    assert clock_deadline(dispatched, hours=2).due_at == beijing("2026-10-02 01:00")


# --- the state of a stored deadline ----------------------------------------------------------

DUE = datetime(2026, 10, 20, 15, 59, 59)
WARN = timedelta(days=1)


def test_no_deadline_has_no_state():
    assert deadline_state(None, DUE, WARN) == DeadlineState.NONE


def test_a_deadline_far_ahead_is_on_time():
    assert deadline_state(DUE, DUE - timedelta(days=3), WARN) == DeadlineState.ON_TIME


def test_a_deadline_within_the_warning_period_is_due_soon():
    assert deadline_state(DUE, DUE - timedelta(hours=5), WARN) == DeadlineState.DUE_SOON
    assert deadline_state(DUE, DUE - WARN, WARN) == DeadlineState.DUE_SOON


def test_a_deadline_is_not_overdue_at_its_last_second():
    assert deadline_state(DUE, DUE, WARN) == DeadlineState.DUE_SOON


def test_a_deadline_is_overdue_the_moment_after_it_passes():
    assert deadline_state(DUE, DUE + timedelta(seconds=1), WARN) == DeadlineState.OVERDUE
    assert deadline_state(DUE, DUE + timedelta(days=30), WARN) == DeadlineState.OVERDUE


# --- the policy table ------------------------------------------------------------------------


def days_for(case_type, urgency=Urgency.NORMAL, multi_department=False, policies=DEFAULT_POLICIES):
    return select_policy(policies, case_type, urgency, multi_department).working_days


@pytest.mark.parametrize(
    ("case_type", "days"),
    [
        (CaseType.CONSULTATION, 3),
        (CaseType.HELP, 5),
        (CaseType.SUGGESTION, 5),
        (CaseType.COMPLAINT, 10),
        (CaseType.REPORT, 10),
    ],
)
def test_a_single_department_case_gets_its_types_period(case_type, days):
    assert days_for(case_type) == days


@pytest.mark.parametrize("case_type", list(CaseType))
def test_a_multi_department_case_gets_fifteen_working_days(case_type):
    assert days_for(case_type, multi_department=True) == 15


@pytest.mark.parametrize(
    ("urgency", "days"),
    [
        (Urgency.IMMEDIATE, 1),
        (Urgency.THREE_DAY, 3),
        (Urgency.SEVEN_DAY, 7),
    ],
)
@pytest.mark.parametrize("case_type", list(CaseType))
@pytest.mark.parametrize("multi_department", [False, True])
def test_an_urgency_label_sets_the_period_whatever_the_type(case_type, urgency, days, multi_department):
    assert days_for(case_type, urgency, multi_department) == days


def test_a_more_specific_policy_beats_a_shorter_general_one():
    policies = (Policy(1, id=1), Policy(10, case_type=CaseType.COMPLAINT, id=2))
    assert days_for(CaseType.COMPLAINT, policies=policies) == 10


def test_the_general_policy_applies_when_nothing_more_specific_matches():
    policies = (Policy(8, id=1), Policy(10, case_type=CaseType.COMPLAINT, id=2))
    assert days_for(CaseType.HELP, policies=policies) == 8


def test_policies_with_the_same_criteria_resolve_to_the_shorter_period():
    policies = (Policy(10, case_type=CaseType.COMPLAINT, id=1), Policy(7, case_type=CaseType.COMPLAINT, id=2))
    assert select_policy(policies, CaseType.COMPLAINT, Urgency.NORMAL, False).id == 2


def test_policies_with_the_same_criteria_and_period_resolve_to_the_lower_id():
    policies = (
        Policy(10, case_type=CaseType.COMPLAINT, id=9),
        Policy(10, case_type=CaseType.COMPLAINT, id=4),
    )
    assert select_policy(policies, CaseType.COMPLAINT, Urgency.NORMAL, False).id == 4
    assert select_policy(policies[::-1], CaseType.COMPLAINT, Urgency.NORMAL, False).id == 4


def test_an_urgency_label_outweighs_a_policy_for_the_type_and_multi_department_together():
    policies = (
        Policy(20, case_type=CaseType.COMPLAINT, multi_department=True, id=1),
        Policy(7, urgency=Urgency.SEVEN_DAY, id=2),
    )
    assert days_for(CaseType.COMPLAINT, Urgency.SEVEN_DAY, True, policies=policies) == 7


def test_the_multi_department_rule_outweighs_the_case_type_even_when_longer():
    policies = (Policy(3, case_type=CaseType.CONSULTATION, id=1), Policy(15, multi_department=True, id=2))
    assert days_for(CaseType.CONSULTATION, multi_department=True, policies=policies) == 15


def test_a_policy_for_the_type_and_the_urgency_beats_one_for_the_urgency_alone():
    policies = (
        Policy(1, urgency=Urgency.IMMEDIATE, id=1),
        Policy(2, case_type=CaseType.REPORT, urgency=Urgency.IMMEDIATE, id=2),
    )
    assert days_for(CaseType.REPORT, Urgency.IMMEDIATE, policies=policies) == 2
    assert days_for(CaseType.HELP, Urgency.IMMEDIATE, policies=policies) == 1


def test_a_policy_for_single_department_cases_does_not_apply_to_multi_department_ones():
    policies = (Policy(10, id=1), Policy(3, multi_department=False, id=2))
    assert days_for(CaseType.COMPLAINT, policies=policies) == 3
    assert days_for(CaseType.COMPLAINT, multi_department=True, policies=policies) == 10


def test_no_matching_policy_is_an_error():
    with pytest.raises(LookupError):
        select_policy((Policy(3, case_type=CaseType.CONSULTATION),), CaseType.REPORT, Urgency.NORMAL, False)
