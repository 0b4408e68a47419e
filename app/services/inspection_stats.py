"""Counts and flags of inspections (入企扫码, seed 002) by enterprise, officer, unit and period.

Every figure is one grouped query bounded by the period on ``Inspection.started_at`` (the
indexes ``ix_inspection_*_started``), limited by ``scope`` (a clause on the inspections the
reader may see: ``scope_for(actor)``). The sliding windows of the flags read only the start
times of the enterprises (or officer/enterprise pairs) that already pass the threshold over the
whole period, so the cost follows the period examined, not the history.

The flags (settings of app/services/settings.py):

- repeated: more than ``inspection_repeat_times`` inspections of one enterprise within any
  ``inspection_repeat_days`` days;
- 多头检查: more than ``inspection_multi_units`` different lead units (``Inspection.department_id``)
  within those days: the partner units of a joint inspection are one visit, the remedy, not the
  fault, so they are not counted;
- the same officer: ``inspection_officer_repeat_times`` or more inspections of one enterprise
  by one officer within those days;
- unconfirmed: finished more than ``inspection_confirm_days`` days before ``now`` and still not
  confirmed by the enterprise;
- the share of joint inspections;
- the inspections of enterprises on the 无事不扰 list, with the reason the officer gave.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Integer, and_, case, distinct, func, or_, select

from app.errors import Invalid
from app.inspections import InspectionState
from app.services import jurisdictions
from app.workflow import N_
from models import Department, EnforcementOfficer, Enterprise, Inspection
from models.inspection import inspection_officer

BY = ("enterprise", "officer", "unit")
#: The most rows a list of flags or a drill-down shows (the count says how many there are).
LIST_LIMIT = 500


@dataclass(frozen=True)
class CountRow:
    id: int
    name: str
    inspections: int
    joint: int
    confirmed: int
    unconfirmed: int  # finished, not confirmed yet
    distinct: int  # units (by enterprise) or enterprises (by officer or unit)

    @property
    def joint_share(self) -> float | None:
        return _percent(self.joint, self.inspections)


@dataclass(frozen=True)
class WindowFlag:
    """A subject (an enterprise, or an officer at an enterprise) and its busiest window."""

    enterprise_id: int
    enterprise: str
    count: int  # inspections (or different units) in the window
    first_at: datetime
    last_at: datetime
    officer_id: int | None = None
    officer: str | None = None


@dataclass(frozen=True)
class InspectionLine:
    id: int
    number: str
    enterprise_id: int
    enterprise: str
    unit: str
    started_at: datetime
    ended_at: datetime | None
    reason: str | None = None


@dataclass
class Flags:
    repeated: list[WindowFlag] = field(default_factory=list)
    multi_units: list[WindowFlag] = field(default_factory=list)
    same_officer: list[WindowFlag] = field(default_factory=list)
    unconfirmed: list[InspectionLine] = field(default_factory=list)
    unconfirmed_total: int = 0
    inspections: int = 0
    joint: int = 0
    no_disturb: list[InspectionLine] = field(default_factory=list)
    no_disturb_total: int = 0

    @property
    def joint_share(self) -> float | None:
        return _percent(self.joint, self.inspections)


def _percent(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def scope_for(actor):
    """The inspections ``actor`` may read: those of their jurisdiction and of those under it
    (None: not limited, the root's office)."""
    path = getattr(actor, "jurisdiction_path", None)
    if path is None or path.count("/") <= 2:
        return None
    return jurisdictions.scope_clause(Inspection.jurisdiction_id, actor)


def _where(start: datetime, end: datetime, scope) -> list:
    clauses = [Inspection.started_at >= start, Inspection.started_at < end]
    return clauses if scope is None else [*clauses, scope]


def _sum(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0).cast(Integer)


def counts_by(session, by: str, start: datetime, end: datetime, scope=None) -> list[CountRow]:
    """The inspections begun in [start, end) grouped by enterprise, officer or unit, the most
    inspected first (ties by name)."""
    if by not in BY:
        raise Invalid(N_("Unknown grouping."))
    figures = [
        func.count(distinct(Inspection.id)),
        _sum(Inspection.joint.is_(True)),
        _sum(Inspection.state == InspectionState.CONFIRMED),
        _sum(Inspection.state == InspectionState.FINISHED),
    ]
    if by == "enterprise":
        key, name = Enterprise.id, Enterprise.name
        query = select(key, name, *figures, func.count(distinct(Inspection.department_id))).join(
            Enterprise, Enterprise.id == Inspection.enterprise_id
        )
    elif by == "officer":
        # one row per (inspection, officer): each officer counts the inspections they were at
        key, name = EnforcementOfficer.id, EnforcementOfficer.name
        query = (
            select(key, name, *figures, func.count(distinct(Inspection.enterprise_id)))
            .select_from(Inspection)
            .join(inspection_officer, inspection_officer.c.inspection_id == Inspection.id)
            .join(EnforcementOfficer, EnforcementOfficer.id == inspection_officer.c.officer_id)
        )
    else:
        key, name = Department.id, Department.name
        query = select(key, name, *figures, func.count(distinct(Inspection.enterprise_id))).join(
            Department, Department.id == Inspection.department_id
        )
    query = query.where(*_where(start, end, scope)).group_by(key, name)
    query = query.order_by(func.count(distinct(Inspection.id)).desc(), name, key)
    return [CountRow(*row) for row in session.execute(query)]


def _busiest(times: Sequence[datetime], days: int) -> tuple[int, datetime, datetime]:
    """The most start times in any ``days``-long window of sorted ``times``, and its bounds."""
    span, best, lo = timedelta(days=days), (0, times[0], times[0]), 0
    for hi, moment in enumerate(times):
        while moment - times[lo] >= span:
            lo += 1
        if hi - lo + 1 > best[0]:
            best = (hi - lo + 1, times[lo], moment)
    return best


def _busiest_units(visits: Sequence[tuple[datetime, int]], days: int) -> tuple[int, datetime, datetime]:
    """The most different units in any ``days``-long window of sorted (time, unit) visits."""
    span, best, lo, units = timedelta(days=days), (0, visits[0][0], visits[0][0]), 0, {}
    for moment, unit in visits:
        units[unit] = units.get(unit, 0) + 1
        while moment - visits[lo][0] >= span:
            old = visits[lo][1]
            units[old] -= 1
            if not units[old]:
                del units[old]
            lo += 1
        if len(units) > best[0]:
            best = (len(units), visits[lo][0], moment)
    return best


def _group_times(rows: Iterable) -> dict:
    grouped: dict = {}
    for *key, moment in rows:
        grouped.setdefault(tuple(key), []).append(moment)
    return grouped


def _repeated(session, start, end, scope, times: int, days: int) -> list[WindowFlag]:
    candidates = (
        select(Inspection.enterprise_id)
        .where(*_where(start, end, scope))
        .group_by(Inspection.enterprise_id)
        .having(func.count() > times)
    )
    rows = session.execute(
        select(Inspection.enterprise_id, Enterprise.name, Inspection.started_at)
        .join(Enterprise, Enterprise.id == Inspection.enterprise_id)
        .where(*_where(start, end, scope), Inspection.enterprise_id.in_(candidates))
        .order_by(Inspection.enterprise_id, Inspection.started_at)
    )
    found = []
    for (enterprise_id, name), moments in _group_times(rows).items():
        count, first, last = _busiest(moments, days)
        if count > times:
            found.append(WindowFlag(enterprise_id, name, count, first, last))
    return sorted(found, key=lambda f: (-f.count, f.enterprise, f.enterprise_id))


def _multi_units(session, start, end, scope, units: int, days: int) -> list[WindowFlag]:
    candidates = (
        select(Inspection.enterprise_id)
        .where(*_where(start, end, scope))
        .group_by(Inspection.enterprise_id)
        .having(func.count(distinct(Inspection.department_id)) > units)
    )
    rows = session.execute(
        select(Inspection.enterprise_id, Enterprise.name, Inspection.started_at, Inspection.department_id)
        .join(Enterprise, Enterprise.id == Inspection.enterprise_id)
        .where(*_where(start, end, scope), Inspection.enterprise_id.in_(candidates))
        .order_by(Inspection.enterprise_id, Inspection.started_at)
    )
    grouped: dict = {}
    for enterprise_id, name, moment, unit in rows:
        grouped.setdefault((enterprise_id, name), []).append((moment, unit))
    found = []
    for (enterprise_id, name), visits in grouped.items():
        count, first, last = _busiest_units(visits, days)
        if count > units:
            found.append(WindowFlag(enterprise_id, name, count, first, last))
    return sorted(found, key=lambda f: (-f.count, f.enterprise, f.enterprise_id))


def _same_officer(session, start, end, scope, times: int, days: int) -> list[WindowFlag]:
    pairs = (
        select(inspection_officer.c.officer_id, Inspection.enterprise_id)
        .join(Inspection, Inspection.id == inspection_officer.c.inspection_id)
        .where(*_where(start, end, scope))
        .group_by(inspection_officer.c.officer_id, Inspection.enterprise_id)
        .having(func.count() >= times)
        .subquery()
    )
    rows = session.execute(
        select(
            Inspection.enterprise_id,
            Enterprise.name,
            EnforcementOfficer.id,
            EnforcementOfficer.name,
            Inspection.started_at,
        )
        .select_from(Inspection)
        .join(inspection_officer, inspection_officer.c.inspection_id == Inspection.id)
        .join(
            pairs,
            and_(
                pairs.c.officer_id == inspection_officer.c.officer_id,
                pairs.c.enterprise_id == Inspection.enterprise_id,
            ),
        )
        .join(Enterprise, Enterprise.id == Inspection.enterprise_id)
        .join(EnforcementOfficer, EnforcementOfficer.id == inspection_officer.c.officer_id)
        .where(*_where(start, end, scope))
        .order_by(Inspection.enterprise_id, EnforcementOfficer.id, Inspection.started_at)
    )
    found = []
    for (enterprise_id, name, officer_id, officer), moments in _group_times(rows).items():
        count, first, last = _busiest(moments, days)
        if count >= times:
            found.append(WindowFlag(enterprise_id, name, count, first, last, officer_id, officer))
    return sorted(found, key=lambda f: (-f.count, f.enterprise, f.officer or "", f.enterprise_id))


def _lines(session, clause, start, end, scope) -> tuple[list[InspectionLine], int]:
    base = [*_where(start, end, scope), clause]
    total = session.execute(
        select(func.count(Inspection.id))
        .join(Enterprise, Enterprise.id == Inspection.enterprise_id)
        .where(*base)
    ).scalar_one()
    rows = session.execute(
        select(
            Inspection.id,
            Inspection.number,
            Enterprise.id,
            Enterprise.name,
            Department.name,
            Inspection.started_at,
            Inspection.ended_at,
            Inspection.no_disturb_reason,
        )
        .join(Enterprise, Enterprise.id == Inspection.enterprise_id)
        .join(Department, Department.id == Inspection.department_id)
        .where(*base)
        .order_by(Inspection.started_at, Inspection.id)
        .limit(LIST_LIMIT)
    )
    return [InspectionLine(*row) for row in rows], total


def flags(
    session, start: datetime, end: datetime, settings: dict, now: datetime | None = None, scope=None
) -> Flags:
    """The flags of the inspections begun in [start, end) (module docstring); ``now`` (default:
    the end of the period) dates the unconfirmed ones."""
    now = now or end
    days = max(1, int(settings["inspection_repeat_days"]))
    found = Flags()
    found.repeated = _repeated(session, start, end, scope, int(settings["inspection_repeat_times"]), days)
    found.multi_units = _multi_units(
        session, start, end, scope, int(settings["inspection_multi_units"]), days
    )
    found.same_officer = _same_officer(
        session, start, end, scope, max(1, int(settings["inspection_officer_repeat_times"])), days
    )
    late = now - timedelta(days=int(settings["inspection_confirm_days"]))
    found.unconfirmed, found.unconfirmed_total = _lines(
        session,
        and_(Inspection.state == InspectionState.FINISHED, Inspection.ended_at < late),
        start,
        end,
        scope,
    )
    found.inspections, found.joint = session.execute(
        select(func.count(Inspection.id), _sum(Inspection.joint.is_(True))).where(*_where(start, end, scope))
    ).one()
    found.no_disturb, found.no_disturb_total = _lines(
        session,
        or_(Enterprise.no_disturb.is_(True), Inspection.no_disturb_reason.isnot(None)),
        start,
        end,
        scope,
    )
    return found


def drill(session, by: str, subject_id: int, start: datetime, end: datetime, scope=None) -> list[Inspection]:
    """The inspections behind one row of ``counts_by`` (the latest first)."""
    if by not in BY:
        raise Invalid(N_("Unknown grouping."))
    if by == "enterprise":
        clause = Inspection.enterprise_id == subject_id
    elif by == "unit":
        clause = Inspection.department_id == subject_id
    else:
        clause = Inspection.id.in_(
            select(inspection_officer.c.inspection_id).where(inspection_officer.c.officer_id == subject_id)
        )
    query = (
        select(Inspection)
        .where(*_where(start, end, scope), clause)
        .order_by(Inspection.started_at.desc(), Inspection.id.desc())
        .limit(LIST_LIMIT)
    )
    return list(session.execute(query).scalars())


# The export's columns (Chinese headers: the file goes to the office's spreadsheets as it is).
SUBJECT_HEADER = {"enterprise": "企业名称", "officer": "执法人员", "unit": "检查单位"}
DISTINCT_HEADER = {"enterprise": "检查单位数", "officer": "涉及企业数", "unit": "涉及企业数"}


def export_rows(by: str, rows: Iterable[CountRow], period_label: str) -> tuple[list[str], list[list]]:
    """The header and the rows of an export of ``counts_by``."""
    header = [
        SUBJECT_HEADER[by],
        "检查次数",
        "联合检查次数",
        "联合检查占比(%)",
        "企业已确认次数",
        "已结束未确认次数",
        DISTINCT_HEADER[by],
        "统计期间",
    ]
    body = [
        [r.name, r.inspections, r.joint, r.joint_share, r.confirmed, r.unconfirmed, r.distinct, period_label]
        for r in rows
    ]
    return header, body


def safe_cell(value):
    """Keep a spreadsheet from reading a text as a formula (CSV/formula injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def to_csv(header: Sequence[str], body: Iterable[Sequence]) -> bytes:
    """CSV encoded as UTF-8 with a BOM (so Excel reads the Chinese)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in body:
        writer.writerow(["" if v is None else safe_cell(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(header: Sequence[str], body: Iterable[Sequence], title: str = "检查统计") -> bytes:
    """An XLSX workbook of one sheet (openpyxl), texts guarded like the CSV."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    sheet.append(list(header))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in body:
        sheet.append([safe_cell(v) for v in row])
    for index, name in enumerate(header, 1):
        sheet.column_dimensions[get_column_letter(index)].width = 28 if index == 1 else max(10, len(name) * 2)
    sheet.freeze_panes = "B2"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
