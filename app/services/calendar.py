"""The working-day calendar held in the database: loading, seeding, recomputing deadlines."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from app.calendar import WorkingCalendar
from app.errors import Invalid
from app.ids import as_id
from app.services.levels_rules import chain_of
from app.workflow import N_
from models import CalendarDay, CalendarYear, Jurisdiction, ReferenceVersion

# The calendars built in this process (one per jurisdiction chain) and the stored rows they
# are built from, under the version of the reference data (models.reference.ReferenceVersion:
# renewed by the database on any change of a stored day or year, so every process sees an
# edit at once; nothing to invalidate by hand).
_built: dict[tuple, WorkingCalendar] = {}
_built_key: list = [None]
_rows: dict[str, list] = {}


def _refresh(session) -> None:
    key = session.scalar(select(ReferenceVersion.version).where(ReferenceVersion.id == 1))
    if _built_key[0] != key or key is None:
        _built.clear()
        _rows.clear()
        _built_key[0] = key


def load_calendar(session, jurisdiction=None) -> WorkingCalendar:
    """The pure calendar of a jurisdiction: the State Council's days, then the regional days of
    each jurisdiction from the root down to it (a nearer one wins), and the official years.
    ``jurisdiction`` is the jurisdiction that handles the case (a Jurisdiction or its id; None:
    the national calendar). Rebuilt only when the stored days change: filing a case needs it,
    and building it costs more than the rest of the filing."""
    _refresh(session)
    return _calendar(session, chain_of(session, jurisdiction))


def calendars(session):
    """A function giving the calendar of a jurisdiction id, for work over the cases of many
    jurisdictions at once (the sweep): the stored days are checked for changes once."""
    _refresh(session)
    return lambda jurisdiction: _calendar(session, chain_of(session, jurisdiction))


def _calendar(session, chain: tuple[int, ...]) -> WorkingCalendar:
    if chain not in _built:
        _built[chain] = _build(session, chain)
    return _built[chain]


def _build(session, chain: tuple[int, ...]) -> WorkingCalendar:
    if not _rows:
        _rows["days"] = session.query(CalendarDay.day, CalendarDay.kind, CalendarDay.jurisdiction_id).all()
        _rows["years"] = [y for (y,) in session.query(CalendarYear.year).filter(CalendarYear.official)]
    days = _rows["days"]
    holidays = {d for d, k, j in days if j is None and k == "holiday"}
    workdays = {d for d, k, j in days if j is None and k == "workday"}
    for level in chain:  # root first: a nearer jurisdiction's day overrides
        for d, k, j in days:
            if j == level:
                (holidays if k == "holiday" else workdays).add(d)
                (workdays if k == "holiday" else holidays).discard(d)
    return WorkingCalendar.build(holidays=holidays, workdays=workdays, official_years=_rows["years"])


def regional_days(session, jurisdiction_id: int) -> list[CalendarDay]:
    """The days a jurisdiction keeps itself (not those it inherits), by date."""
    return list(
        session.execute(
            select(CalendarDay)
            .where(CalendarDay.jurisdiction_id == jurisdiction_id)
            .order_by(CalendarDay.day)
        ).scalars()
    )


MAX_PRESET_YEARS = 10


def apply_holiday_preset(session, preset: str, jurisdiction, years: Iterable[int]) -> int:
    """Add the days of a regional holiday preset (app.calendar.PRESETS) to ``jurisdiction``'s
    calendar for ``years``, keeping any day the jurisdiction already holds (an edit of an
    earlier application stays); then recompute the open deadlines of the jurisdiction and of
    those below it. Return the number of days added."""
    from app.calendar import PRESETS, preset_days
    from app.services import jurisdictions
    from app.services.levels_rules import recompute_below

    if preset not in PRESETS:
        raise Invalid(N_("Choose one of the regional holidays offered."))
    if not isinstance(jurisdiction, Jurisdiction):
        jurisdiction = jurisdictions.get(session, as_id(jurisdiction)) if as_id(jurisdiction) else None
    if jurisdiction is None:
        raise Invalid(N_("Jurisdiction: choose an existing jurisdiction."))
    try:
        years = sorted({int(y) for y in years})
    except (TypeError, ValueError):
        raise Invalid(N_("Give the years as whole numbers (2026 2027).")) from None
    covered = PRESETS[preset].years
    if not years or len(years) > MAX_PRESET_YEARS or not all(y in covered for y in years):
        raise Invalid(
            N_("Give one to %(most)s years between %(first)s and %(last)s."),
            most=MAX_PRESET_YEARS,
            first=covered.start,
            last=covered.stop - 1,
        )
    national = load_calendar(session)
    held = {d.day for d in regional_days(session, jurisdiction.id)}
    added = 0
    for year in years:
        for regional in preset_days(preset, year, national):
            if regional.day in held:
                continue
            session.add(
                CalendarDay(
                    day=regional.day, kind=regional.kind, name=regional.name, jurisdiction_id=jurisdiction.id
                )
            )
            held.add(regional.day)
            added += 1
    session.flush()
    if added:
        recompute_below(session, [jurisdiction.id])
    return added


def seed_official_calendar(session) -> int:
    """Store the State Council schedule for every year chinese-calendar knows; return days added."""
    import chinese_calendar
    from chinese_calendar.constants import Holiday

    names = {h.value: h.chinese for h in Holiday}
    known = {d for (d,) in session.query(CalendarDay.day).filter(CalendarDay.jurisdiction_id.is_(None))}
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
