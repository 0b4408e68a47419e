"""The working-day calendar held in the database: loading, seeding, recomputing deadlines."""

from __future__ import annotations

from app.calendar import WorkingCalendar
from models import CalendarDay, CalendarYear


def load_calendar(session) -> WorkingCalendar:
    """Build the pure calendar from the stored days and official years."""
    days = session.query(CalendarDay.day, CalendarDay.kind).all()
    years = [y for (y,) in session.query(CalendarYear.year).filter(CalendarYear.official)]
    return WorkingCalendar.build(
        holidays=(d for d, k in days if k == "holiday"),
        workdays=(d for d, k in days if k == "workday"),
        official_years=years,
    )


def seed_official_calendar(session) -> int:
    """Store the State Council schedule for every year chinese-calendar knows; return days added."""
    import chinese_calendar
    from chinese_calendar.constants import Holiday

    names = {h.value: h.chinese for h in Holiday}
    known = {d for (d,) in session.query(CalendarDay.day)}
    added = 0
    for kind, source in (("holiday", chinese_calendar.holidays), ("workday", chinese_calendar.workdays)):
        for day, english in source.items():
            if day not in known:
                name = names.get(english, english) + ("调休上班" if kind == "workday" else "")
                session.add(CalendarDay(day=day, kind=kind, name=name))
                added += 1
    years = {d.year for d in chinese_calendar.holidays}
    stored = {y for (y,) in session.query(CalendarYear.year)}
    for year in sorted(years - stored):
        session.add(CalendarYear(year=year, official=True, note="国务院办公厅公布的节假日安排"))
    session.flush()
    return added
