"""The working-day calendar held in the database: loading, seeding, recomputing deadlines."""

from __future__ import annotations

from sqlalchemy import String, cast, func, select

from app.calendar import WorkingCalendar
from app.services.bulk import postgres
from models import CalendarDay, CalendarYear

# The last calendar built in this process, under the fingerprint of the rows it was built from.
_built: dict[tuple, WorkingCalendar] = {}


def _fingerprint(session) -> tuple:
    """A short value that changes whenever a stored day or official year is added, removed or
    edited (every process sees an edit at once; nothing to invalidate by hand)."""
    days = select(
        func.aggregate_strings(cast(CalendarDay.day, String) + CalendarDay.kind + ";", "")
    ).scalar_subquery()
    years = (
        select(func.aggregate_strings(cast(CalendarYear.year, String) + ";", ""))
        .where(CalendarYear.official)
        .scalar_subquery()
    )
    if postgres(session):  # send 32 characters, not 40 KB
        days, years = func.md5(days), func.md5(years)
    return tuple(session.execute(select(days, years)).one())


def load_calendar(session) -> WorkingCalendar:
    """The pure calendar of the stored days and official years (rebuilt only when they
    change: filing a case needs it, and building it costs more than the rest of the filing)."""
    key = _fingerprint(session)
    if key not in _built:
        _built.clear()
        _built[key] = _build(session)
    return _built[key]


def _build(session) -> WorkingCalendar:
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
