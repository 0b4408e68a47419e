"""The working-day calendar (DOMAIN.md, "Counting rule"): weekends off except make-up workdays
(调休), statutory holidays off even on weekdays, the start day not counted, and a year without an
official schedule counted Monday–Friday and marked provisional."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.calendar import WorkingCalendar
from tests.unit.conftest import official_schedule


def test_the_seeded_calendar_holds_the_official_years_2004_to_2026(calendar):
    assert calendar.official_years == frozenset(range(2004, 2027))


# --- the two examples of DOMAIN.md -----------------------------------------------------------


def test_complaint_filed_before_national_day_is_due_on_oct_20(calendar):
    assert calendar.add_working_days(date(2026, 9, 30), 10) == (date(2026, 10, 20), False)


def test_help_request_filed_before_spring_festival_is_due_on_feb_27(calendar):
    assert calendar.add_working_days(date(2026, 2, 13), 5) == (date(2026, 2, 27), False)


# --- which days are working days -------------------------------------------------------------


@pytest.mark.parametrize("saturday", [date(2026, 10, 10), date(2026, 2, 14), date(2026, 2, 28)])
def test_make_up_saturdays_are_working_days(calendar, saturday):
    assert saturday.weekday() == 5
    assert calendar.is_workday(saturday)


@pytest.mark.parametrize(
    "weekday_holiday",
    [
        date(2026, 10, 1),
        date(2026, 10, 2),
        date(2026, 10, 5),
        date(2026, 10, 6),
        date(2026, 10, 7),
        date(2026, 2, 16),
        date(2026, 2, 17),
        date(2026, 2, 23),
        date(2026, 1, 1),
        date(2026, 5, 1),
    ],
)
def test_statutory_holidays_are_off_even_on_weekdays(calendar, weekday_holiday):
    assert weekday_holiday.weekday() < 5
    assert not calendar.is_workday(weekday_holiday)


@pytest.mark.parametrize("weekend", [date(2026, 10, 17), date(2026, 10, 18), date(2026, 3, 7)])
def test_ordinary_weekends_are_off(calendar, weekend):
    assert not calendar.is_workday(weekend)


def test_ordinary_weekdays_are_working_days(calendar):
    assert calendar.is_workday(date(2026, 3, 4))  # a Wednesday in March


def test_national_day_break_2026_ends_on_oct_7_so_thursday_oct_8_is_a_working_day(calendar):
    # The official 2026 schedule gives Oct 1-7 off (DOMAIN.md's "Oct 1-8" is one day too long;
    # the Oct 20 due date it gives is only right if Oct 8 is worked).
    assert not calendar.is_workday(date(2026, 10, 7))
    assert calendar.is_workday(date(2026, 10, 8))


def test_a_make_up_saturday_can_itself_be_the_due_day(calendar):
    # Fri Feb 13 + 6 working days: Sat 14, Tue 24 ... Fri 27, then Sat 28 (调休).
    assert calendar.add_working_days(date(2026, 2, 13), 6) == (date(2026, 2, 28), False)
    assert calendar.add_working_days(date(2026, 2, 13), 1) == (date(2026, 2, 14), False)


# --- the start day is not counted ------------------------------------------------------------


def test_the_start_day_is_not_counted(calendar):
    assert calendar.add_working_days(date(2026, 3, 2), 1) == (date(2026, 3, 3), False)


def test_one_working_day_after_a_friday_is_the_next_monday(calendar):
    assert calendar.add_working_days(date(2026, 3, 6), 1) == (date(2026, 3, 9), False)


def test_a_case_filed_on_a_holiday_starts_counting_after_the_break(calendar):
    assert calendar.add_working_days(date(2026, 10, 1), 1) == (date(2026, 10, 8), False)


def test_zero_working_days_ends_on_the_start_day(calendar):
    assert calendar.add_working_days(date(2026, 3, 4), 0) == (date(2026, 3, 4), False)


def test_negative_working_days_are_refused(calendar):
    with pytest.raises(ValueError):
        calendar.add_working_days(date(2026, 3, 4), -1)


# --- years without an official schedule ------------------------------------------------------


def test_a_year_without_official_data_is_counted_monday_to_friday(calendar):
    assert calendar.is_workday(date(2027, 1, 1))  # a Friday: no data says it is New Year's Day
    assert not calendar.is_workday(date(2027, 1, 2))  # Saturday
    assert not calendar.is_workday(date(2027, 1, 3))  # Sunday


def test_a_deadline_crossing_into_2027_is_counted_monday_to_friday_and_provisional(calendar):
    # Thu 2026-12-31 + 3: Fri Jan 1, Mon Jan 4, Tue Jan 5 (2027 has no official data yet).
    assert calendar.add_working_days(date(2026, 12, 31), 3) == (date(2027, 1, 5), True)


def test_entering_the_2027_schedule_moves_the_deadline_and_clears_provisional():
    holidays, workdays, years = official_schedule()
    with_2027 = WorkingCalendar.build(set(holidays) | {date(2027, 1, 1)}, workdays, years | {2027})
    # New Year's Day 2027 is now off: Mon Jan 4, Tue Jan 5, Wed Jan 6.
    assert with_2027.add_working_days(date(2026, 12, 31), 3) == (date(2027, 1, 6), False)


def test_a_deadline_entirely_inside_official_years_is_not_provisional(calendar):
    assert calendar.add_working_days(date(2026, 12, 1), 20) == (date(2026, 12, 29), False)


def test_zero_days_from_a_day_without_official_data_is_provisional(calendar):
    assert calendar.add_working_days(date(2027, 3, 1), 0) == (date(2027, 3, 1), True)


def test_an_empty_calendar_counts_monday_to_friday_and_every_result_is_provisional():
    empty = WorkingCalendar()
    assert empty.add_working_days(date(2026, 9, 30), 10) == (date(2026, 10, 14), True)


# --- counting working days between two dates -------------------------------------------------


def test_working_days_between_the_national_day_example_is_ten(calendar):
    assert calendar.working_days_between(date(2026, 9, 30), date(2026, 10, 20)) == 10


def test_working_days_between_the_spring_festival_example_is_five(calendar):
    assert calendar.working_days_between(date(2026, 2, 13), date(2026, 2, 27)) == 5


def test_golden_week_holds_no_working_days(calendar):
    assert calendar.working_days_between(date(2026, 9, 30), date(2026, 10, 7)) == 0


def test_working_days_between_a_day_and_itself_is_zero(calendar):
    assert calendar.working_days_between(date(2026, 3, 4), date(2026, 3, 4)) == 0


def test_working_days_between_counts_the_end_day_but_not_the_start_day(calendar):
    # Mon -> Fri of an ordinary week: Tue, Wed, Thu, Fri.
    assert calendar.working_days_between(date(2026, 3, 2), date(2026, 3, 6)) == 4


@pytest.mark.parametrize(
    "start",
    [
        date(2026, 9, 30),
        date(2026, 2, 13),
        date(2025, 12, 31),
        date(2024, 9, 13),
        date(2026, 4, 30),
    ],
)
@pytest.mark.parametrize("days", [1, 3, 5, 10, 15])
def test_counting_between_a_start_and_its_deadline_gives_back_the_period(calendar, start, days):
    due, _ = calendar.add_working_days(start, days)
    assert calendar.working_days_between(start, due) == days


# --- regional holidays: the presets an administrator applies (issue 15) ---------------------
# A preset gives the days its rule yields in a year; 2027 has no State Council schedule yet,
# so its weekdays count as working days there.


def days_of(code, year, calendar):
    from app.calendar import preset_days

    return [(d.day, d.kind) for d in preset_days(code, year, calendar)]


def holidays(*days):
    return [(d, "holiday") for d in days]


@pytest.mark.parametrize(
    "year, third, fourth",
    [
        (2024, date(2024, 4, 11), date(2024, 4, 12)),  # Thu, Fri
        (2025, date(2025, 3, 31), date(2025, 4, 1)),  # Mon, Tue
        (2026, date(2026, 4, 19), date(2026, 4, 20)),  # Sun, Mon
        (2027, date(2027, 4, 9), date(2027, 4, 10)),  # Fri, Sat
    ],
)
def test_sanyuesan_is_the_third_and_fourth_day_of_the_third_lunar_month(calendar, year, third, fourth):
    assert days_of("guangxi-sanyuesan", year, calendar) == holidays(third, fourth)


def test_a_weekend_day_of_sanyuesan_is_not_made_up(calendar):
    # 2026: 三月初三 is a Sunday; the two days stay the two days, no Tuesday is added.
    days = days_of("guangxi-sanyuesan", 2026, calendar)
    assert len(days) == 2 and date(2026, 4, 21) not in {d for d, _ in days}


@pytest.mark.parametrize(
    "year, expected",
    [
        # The 2025 notice: "6月6日（周五）是古尔邦节，6月6日（周五）至10日（周二）放假，共5天".
        (2025, holidays(date(2025, 6, 6), date(2025, 6, 9), date(2025, 6, 10))),
        # 2022: the festival was announced for Sunday 10 July (a day after Umm al-Qura's):
        # "7月9日至13日放假调休" — Monday to Wednesday off.
        (2022, holidays(date(2022, 7, 11), date(2022, 7, 12), date(2022, 7, 13))),
        (2024, holidays(date(2024, 6, 17), date(2024, 6, 18), date(2024, 6, 19))),  # Sun 16 June
        (2026, holidays(date(2026, 5, 27), date(2026, 5, 28), date(2026, 5, 29))),  # Wed 27 May
        (2027, holidays(date(2027, 5, 17), date(2027, 5, 18), date(2027, 5, 19))),  # Sun 16 May
    ],
)
def test_kurban_gives_three_working_days_off_from_the_day_of_the_festival(calendar, year, expected):
    assert days_of("xinjiang-kurban", year, calendar) == expected


def test_kurban_falls_on_10_dhu_al_hijjah_by_umm_al_qura_unless_announced_otherwise():
    from app.calendar import kurban_day

    assert kurban_day(2005) == date(2005, 1, 21)  # as the 2005 notice of the region says
    assert kurban_day(2016) == date(2016, 9, 11)
    assert kurban_day(2022) == date(2022, 7, 10)  # Umm al-Qura: 9 July
    assert kurban_day(2025) == date(2025, 6, 6)


def test_losar_2025_is_the_four_days_of_lhasas_notice(calendar):
    # "2月27日至3月4日，共6天，其中放假4天、周末2天，不调休"
    assert days_of("tibet-losar", 2025, calendar) == holidays(
        date(2025, 2, 27), date(2025, 2, 28), date(2025, 3, 3), date(2025, 3, 4)
    )


def test_losar_2026_extends_the_spring_festival_to_26_february(calendar):
    # "2月15日至2月26日放假调休": the State Council's break ends on 23 February.
    assert days_of("tibet-losar", 2026, calendar) == holidays(
        date(2026, 2, 24), date(2026, 2, 25), date(2026, 2, 26)
    )


def test_losar_2023_brings_its_make_up_weekend_as_regional_workdays(calendar):
    days = days_of("tibet-losar", 2023, calendar)
    assert [d for d, kind in days if kind == "workday"] == [date(2023, 2, 18), date(2023, 2, 19)]
    assert [d for d, kind in days if kind == "holiday"] == [date(2023, 2, d) for d in range(20, 25)]


def test_losar_without_a_notice_gives_the_seven_days_from_the_tibetan_new_years_eve(calendar):
    # 2027: 藏历正月初一 on Sunday 7 February; the seven days run Sat 6 to Fri 12; without a
    # State Council schedule for 2027 its weekdays Mon 8 to Fri 12 are the ones added.
    assert days_of("tibet-losar", 2027, calendar) == holidays(*(date(2027, 2, d) for d in range(8, 13)))
    # 2024: 初一 on 10 February, in the Spring Festival break: only the eve (a working day) is added.
    assert days_of("tibet-losar", 2024, calendar) == holidays(date(2024, 2, 9))


@pytest.mark.parametrize(
    "code, year", [("tibet-losar", 2031), ("tibet-losar", 2022), ("guangxi-sanyuesan", 2100)]
)
def test_a_year_a_preset_cannot_give_is_refused(calendar, code, year):
    from app.calendar import preset_days

    with pytest.raises(LookupError):
        preset_days(code, year, calendar)


def test_every_preset_names_its_holiday_and_the_years_it_gives(calendar):
    from app.calendar import PRESETS

    assert {p.name for p in PRESETS.values()} == {"壮族三月三", "古尔邦节", "藏历新年"}
    for preset in PRESETS.values():
        for year in (2024, 2025, 2026, 2027):
            assert year in preset.years
            assert all(d.name.startswith(preset.name) for d in preset.days(year, calendar))


# --- counting working days at once (the sweep counts thousands of notices per run) ----------


def _one_by_one(calendar: WorkingCalendar, start: date, end: date) -> int:
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        count += calendar.is_workday(day)
    return count


def test_working_days_between_counts_as_day_by_day_over_holidays_make_up_days_and_unofficial_years(calendar):
    import random

    rng = random.Random(18)
    starts = [date(2003, 12, 20) + timedelta(days=rng.randrange(0, 8500)) for _ in range(400)]
    for start in starts + [date(2026, 9, 30), date(2026, 2, 13), date(2026, 2, 14)]:
        end = start + timedelta(days=rng.choice([0, 1, 2, 6, 7, 8, 13, 30, 400, 2000]))
        assert calendar.working_days_between(start, end) == _one_by_one(calendar, start, end), (start, end)
    # the national day break: Oct 1-7 off, Sat Oct 10 worked
    assert calendar.working_days_between(date(2026, 9, 30), date(2026, 10, 10)) == 3
    assert calendar.working_days_between(date(2026, 10, 10), date(2026, 9, 30)) == 0


def test_working_days_between_holds_a_holiday_given_as_a_make_up_day_too_as_a_workday():
    # is_workday: a day listed as both counts as worked; the fast count must agree.
    friday, saturday = date(2026, 3, 6), date(2026, 3, 7)
    both = WorkingCalendar.build([friday, saturday], [saturday], [2026])
    assert (
        both.working_days_between(date(2026, 3, 5), date(2026, 3, 8))
        == 1
        == _one_by_one(both, date(2026, 3, 5), date(2026, 3, 8))
    )
    unofficial = WorkingCalendar.build([friday], [saturday], [2025])  # 2026 counted Monday-Friday
    assert unofficial.working_days_between(date(2026, 3, 5), date(2026, 3, 8)) == 1
