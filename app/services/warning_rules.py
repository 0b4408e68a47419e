"""The evaluators of the early-warning rule types: one set-based query per rule (GROUP BY ...
HAVING), bounded by the period on an indexed time column, so the cost follows the period examined,
not the whole history (bench/warning_models.py)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, or_, select, union_all

from app.early_warning import RuleType, SubjectKind
from app.rewards import RewardState
from app.services.bulk import any_of, postgres
from app.workflow import Action
from models import Assignment, Case, CaseEvent, Department, ExtensionRequest, Reward, ServiceWindow
from models.inspection import EnforcementOfficer, Enterprise, Inspection, inspection_officer, inspection_unit

CASE_LINKS = 50  # cases linked to one warning, at most
INSPECTION_IDS = 50  # inspection ids listed in one warning's figures, at most


@dataclass
class Finding:
    """What a rule found about one subject: the figures that crossed the threshold."""

    subject_kind: SubjectKind
    subject_key: str
    subject_label: str
    department_id: int | None
    enterprise_id: int | None
    jurisdiction_id: int | None
    figures: dict = field(default_factory=dict)
    case_ids: list[int] = field(default_factory=list)


Evaluator = Callable[..., list[Finding]]
EVALUATORS: dict[RuleType, Evaluator] = {}


def evaluator(rule_type: RuleType):
    def register(fn):
        EVALUATORS[rule_type] = fn
        return fn

    return register


def _seconds(session, start, end):
    """Seconds from ``start`` to ``end`` (two datetime columns) in SQL."""
    if postgres(session):
        return func.extract("epoch", end - start)
    return (func.julianday(end) - func.julianday(start)) * 86400.0


def _rate(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


def _departments(session, ids) -> dict[int, tuple[str, int | None]]:
    ids = sorted({i for i in ids if i is not None})
    if not ids:
        return {}
    rows = session.execute(
        select(Department.id, Department.name, Department.jurisdiction_id).where(
            any_of(session, Department.id, ids)
        )
    )
    return {r.id: (r.name, r.jurisdiction_id) for r in rows}


def _rows_by_id(session, model, ids, *columns) -> dict:
    """{id: row} of ``model``'s ``columns`` for the given ids."""
    stmt = select(model.id, *columns).where(any_of(session, model.id, list(ids)))
    return {row.id: row for row in session.execute(stmt)}


def _grouped_ids(session, stmt, limit: int = CASE_LINKS) -> dict:
    """Run ``stmt`` (rows of group key, id) into {key: [ids, capped]}."""
    out: dict = defaultdict(list)
    for key, id_ in session.execute(stmt):
        if len(out[key]) < limit and id_ not in out[key]:
            out[key].append(id_)
    return out


def _department_finding(dept: int, depts: dict, figures: dict, case_ids: list[int]) -> Finding:
    """A finding about one department (``depts`` from ``_departments``)."""
    name, place = depts.get(dept, ("", None))
    return Finding(SubjectKind.DEPARTMENT, str(dept), name, dept, None, place, figures, case_ids)


def _rising_share(session, th, dept, id_, in_window, current, hit) -> list[Finding]:
    """Departments whose share of ``hit`` rows rose period on period. ``in_window`` spans the
    previous and the current period, ``current`` tells the current one; ``dept`` and ``id_`` are
    the department and case id columns of the rows counted."""
    rows = session.execute(
        select(dept, current, func.count(), func.sum(case((hit, 1), else_=0)))
        .where(in_window)
        .group_by(dept, current)
    ).all()
    counts: dict[int, dict] = defaultdict(lambda: {"now": [0, 0], "prev": [0, 0]})
    for department, is_current, total, hits in rows:
        slot = counts[department]["now" if is_current else "prev"]
        slot[0], slot[1] = int(total), int(hits or 0)
    flagged = {}
    for department, c in counts.items():
        (n, h), (pn, ph) = c["now"], c["prev"]
        rate, prev_rate = _rate(h, n), _rate(ph, pn)
        if n >= th["min_cases"] and rate - prev_rate >= th["rise_points"]:
            flagged[department] = {
                "cases": n,
                "hits": h,
                "rate": rate,
                "previous_cases": pn,
                "previous_hits": ph,
                "previous_rate": prev_rate,
                "rise_points": round(rate - prev_rate, 1),
            }
    if not flagged:
        return []
    names = _departments(session, flagged)
    ids = _grouped_ids(
        session,
        select(dept, id_).where(in_window, current, hit, any_of(session, dept, list(flagged))).order_by(id_),
    )
    return [_department_finding(d, names, figures, ids.get(d, [])) for d, figures in sorted(flagged.items())]


@evaluator(RuleType.OVERDUE_RATE_RISING)
def overdue_rate_rising(session, model, start, end, prev_start, th, now) -> list[Finding]:
    """Lead assignments due in the period: the share finished late or still open past due."""
    overdue = or_(
        Assignment.done_at > Assignment.due_at, and_(Assignment.done_at.is_(None), Assignment.due_at < now)
    )
    in_window = and_(Assignment.due_at >= prev_start, Assignment.due_at < end, Assignment.role == "lead")
    return _rising_share(
        session,
        th,
        Assignment.department_id,
        Assignment.case_id,
        in_window,
        Assignment.due_at >= start,
        overdue,
    )


@evaluator(RuleType.UNSATISFIED_RISING)
def unsatisfied_rising(session, model, start, end, prev_start, th, now) -> list[Finding]:
    """Rated cases replied in the period: the share rated unsatisfied, by lead department."""
    in_window = and_(
        Case.replied_at >= prev_start,
        Case.replied_at < end,
        Case.rating.is_not(None),
        Case.lead_department_id.is_not(None),
    )
    return _rising_share(
        session,
        th,
        Case.lead_department_id,
        Case.id,
        in_window,
        Case.replied_at >= start,
        Case.rating == "unsatisfied",
    )


@evaluator(RuleType.WINDOW_REPEATED)
def window_repeated(session, model, start, end, prev_start, th, now) -> list[Finding]:
    """Cases filed in the period about one service window."""
    where = and_(Case.created_at >= start, Case.created_at < end, Case.window_id.is_not(None))
    rows = session.execute(
        select(Case.window_id, func.count())
        .where(where)
        .group_by(Case.window_id)
        .having(func.count() >= th["cases"])
    ).all()
    if not rows:
        return []
    counts = dict(rows)
    windows = _rows_by_id(
        session, ServiceWindow, counts, ServiceWindow.name, ServiceWindow.hall, ServiceWindow.department_id
    )
    depts = _departments(session, [w.department_id for w in windows.values()])
    ids = _grouped_ids(
        session,
        select(Case.window_id, Case.id)
        .where(where, any_of(session, Case.window_id, list(counts)))
        .order_by(Case.id),
    )
    out = []
    for wid, n in sorted(counts.items()):
        w = windows.get(wid)
        dept = w.department_id if w else None
        label = f"{w.hall} {w.name}".strip() if w else str(wid)
        out.append(
            Finding(
                SubjectKind.WINDOW,
                str(wid),
                label,
                dept,
                None,
                depts.get(dept, ("", None))[1],
                {"cases": int(n)},
                ids.get(wid, []),
            )
        )
    return out


@evaluator(RuleType.OFFICIAL_NAMED)
def official_named(session, model, start, end, prev_start, th, now) -> list[Finding]:
    """Cases filed in the period naming the same official of one department."""
    official = func.trim(Case.concerned_official)
    where = and_(
        Case.created_at >= start,
        Case.created_at < end,
        Case.concerned_official.is_not(None),
        official != "",
    )
    rows = session.execute(
        select(Case.concerned_department_id, official, func.count())
        .where(where)
        .group_by(Case.concerned_department_id, official)
        .having(func.count() >= th["cases"])
    ).all()
    if not rows:
        return []
    depts = _departments(session, [r[0] for r in rows])
    ids = _grouped_ids(
        session,
        select(func.coalesce(Case.concerned_department_id, 0).concat(":").concat(official), Case.id)
        .where(where, official.in_({r[1] for r in rows}))
        .order_by(Case.id),
    )
    out = []
    for dept, name, n in rows:
        key = f"{dept or 0}:{name}"
        dept_name, place = depts.get(dept, ("", None))
        out.append(
            Finding(
                SubjectKind.OFFICIAL,
                key[:120],
                f"{dept_name} {name}".strip()[:200],
                dept,
                None,
                place,
                {"cases": int(n), "official": name},
                ids.get(key, []),
            )
        )
    return out


@evaluator(RuleType.UNSIGNED_CASES)
def unsigned_cases(session, model, start, end, prev_start, th, now) -> list[Finding]:
    """Assignments whose signing deadline fell in the period (and has passed), signed late or not."""
    late = or_(Assignment.signed_at.is_(None), Assignment.signed_at > Assignment.sign_due_at)
    where = and_(Assignment.sign_due_at >= start, Assignment.sign_due_at < min(end, now), late)
    return _by_department(
        session,
        select(Assignment.department_id, func.count()).where(where).group_by(Assignment.department_id),
        th["cases"],
        "cases",
        lambda depts: (
            select(Assignment.department_id, Assignment.case_id)
            .where(where, any_of(session, Assignment.department_id, depts))
            .order_by(Assignment.case_id)
        ),
    )


@evaluator(RuleType.EXTENSIONS_REPEATED)
def extensions_repeated(session, model, start, end, prev_start, th, now) -> list[Finding]:
    """Extension requests made in the period, by the department that asked."""
    where = and_(ExtensionRequest.requested_at >= start, ExtensionRequest.requested_at < end)
    joined = select(Assignment.department_id).join(
        ExtensionRequest, ExtensionRequest.assignment_id == Assignment.id
    )
    return _by_department(
        session,
        joined.add_columns(func.count()).where(where).group_by(Assignment.department_id),
        th["requests"],
        "requests",
        lambda depts: (
            joined.add_columns(ExtensionRequest.case_id)
            .where(where, any_of(session, Assignment.department_id, depts))
            .order_by(ExtensionRequest.case_id)
        ),
    )


@evaluator(RuleType.QUICK_CLOSE)
def quick_close(session, model, start, end, prev_start, th, now) -> list[Finding]:
    """Cases replied in the period within the set minutes of the lead's signing."""
    where = and_(
        Case.replied_at >= start,
        Case.replied_at < end,
        Assignment.role == "lead",
        Assignment.signed_at.is_not(None),
        Assignment.signed_at <= Case.replied_at,
        _seconds(session, Assignment.signed_at, Case.replied_at) <= th["minutes"] * 60,
    )
    joined = select(Assignment.department_id).join(Case, Case.id == Assignment.case_id)
    return _by_department(
        session,
        joined.add_columns(func.count(func.distinct(Case.id)))
        .where(where)
        .group_by(Assignment.department_id),
        th["cases"],
        "cases",
        lambda depts: (
            joined.add_columns(Case.id)
            .where(where, any_of(session, Assignment.department_id, depts))
            .order_by(Case.id)
        ),
        extra={"minutes": th["minutes"]},
    )


def _by_department(session, counted, threshold, figure, linked, extra=None) -> list[Finding]:
    rows = [(d, int(n)) for d, n in session.execute(counted) if d is not None and n >= threshold]
    if not rows:
        return []
    depts = _departments(session, [d for d, _ in rows])
    ids = _grouped_ids(session, linked([d for d, _ in rows]))
    return [
        _department_finding(d, depts, {figure: n, **(extra or {})}, ids.get(d, [])) for d, n in sorted(rows)
    ]


@evaluator(RuleType.RETURNS_BOUNCING)
def returns_bouncing(session, model, start, end, prev_start, th, now) -> list[Finding]:
    """Cases returned as misrouted at least the set number of times in the period."""
    where = and_(CaseEvent.action == Action.RETURN.value, CaseEvent.at >= start, CaseEvent.at < end)
    rows = session.execute(
        select(CaseEvent.case_id, func.count())
        .where(where)
        .group_by(CaseEvent.case_id)
        .having(func.count() >= th["returns"])
    ).all()
    if not rows:
        return []
    counts = dict(rows)
    cases = _rows_by_id(session, Case, counts, Case.number, Case.jurisdiction_id)
    departments = _grouped_ids(
        session,
        select(CaseEvent.case_id, CaseEvent.department_id).where(
            where, any_of(session, CaseEvent.case_id, list(counts))
        ),
    )
    return [
        Finding(
            SubjectKind.CASE,
            str(cid),
            (cases[cid].number if cid in cases else None) or f"#{cid}",
            None,
            None,
            cases[cid].jurisdiction_id if cid in cases else None,
            {"returns": int(n), "departments": [d for d in departments.get(cid, []) if d is not None]},
            [cid],
        )
        for cid, n in sorted(counts.items())
    ]


@evaluator(RuleType.REWARDS_UNPAID)
def rewards_unpaid(session, model, start, end, prev_start, th, now) -> list[Finding]:
    """Approved rewards whose payment deadline fell in the period, passed, and are still unpaid."""
    where = and_(
        Reward.status.in_([RewardState.APPROVED.value, RewardState.CLAIMED.value]),
        Reward.payment_due_at >= start,
        Reward.payment_due_at < min(end, now),
        Reward.paid_at.is_(None),
    )
    joined = select(Case.jurisdiction_id).join(Case, Case.id == Reward.case_id)
    rows = session.execute(
        joined.add_columns(func.count(), func.coalesce(func.sum(Reward.amount_yuan), 0))
        .where(where)
        .group_by(Case.jurisdiction_id)
        .having(func.count() >= th["rewards"])
    ).all()
    if not rows:
        return []
    from models import Jurisdiction

    names = dict(
        session.execute(
            select(Jurisdiction.id, Jurisdiction.name).where(
                any_of(session, Jurisdiction.id, [r[0] for r in rows])
            )
        ).all()
    )
    ids = _grouped_ids(
        session,
        joined.add_columns(Reward.case_id).where(
            where, any_of(session, Case.jurisdiction_id, [r[0] for r in rows])
        ),
    )
    return [
        Finding(
            SubjectKind.OFFICE,
            str(j),
            names.get(j, str(j)),
            None,
            None,
            j,
            {"rewards": int(n), "amount_yuan": int(total)},
            ids.get(j, []),
        )
        for j, n, total in rows
    ]


def _window(th, end: datetime, now: datetime) -> tuple[datetime, datetime]:
    """The ``days`` window ending at the evaluation time, limited to the period's end."""
    stop = min(end, now)
    return stop - timedelta(days=th["days"]), stop


def _enterprise_findings(session, counts: dict[int, dict], inspection_where) -> list[Finding]:
    if not counts:
        return []
    enterprises = _rows_by_id(session, Enterprise, counts, Enterprise.name, Enterprise.jurisdiction_id)
    flagged = and_(inspection_where, any_of(session, Inspection.enterprise_id, list(counts)))
    inspections = _grouped_ids(
        session,
        select(Inspection.enterprise_id, Inspection.id).where(flagged).order_by(Inspection.started_at),
        INSPECTION_IDS,
    )
    cases = _grouped_ids(
        session,
        select(Inspection.enterprise_id, Case.id)
        .join(Case, Case.inspection_id == Inspection.id)
        .where(flagged),
    )
    out = []
    for eid, figures in sorted(counts.items()):
        e = enterprises.get(eid)
        out.append(
            Finding(
                SubjectKind.ENTERPRISE,
                str(eid),
                e.name if e else str(eid),
                None,
                eid,
                e.jurisdiction_id if e else None,
                {**figures, "inspection_ids": inspections.get(eid, [])},
                cases.get(eid, []),
            )
        )
    return out


@evaluator(RuleType.INSPECTIONS_REPEATED)
def inspections_repeated(session, model, start, end, prev_start, th, now) -> list[Finding]:
    """Enterprises inspected more than ``times`` times within ``days``."""
    since, until = _window(th, end, now)
    where = and_(Inspection.started_at >= since, Inspection.started_at < until)
    rows = session.execute(
        select(Inspection.enterprise_id, func.count())
        .where(where)
        .group_by(Inspection.enterprise_id)
        .having(func.count() > th["times"])
    ).all()
    counts = {eid: {"inspections": int(n), "days": th["days"]} for eid, n in rows}
    return _enterprise_findings(session, counts, where)


@evaluator(RuleType.INSPECTIONS_MULTI_UNIT)
def inspections_multi_unit(session, model, start, end, prev_start, th, now) -> list[Finding]:
    """Enterprises inspected by more than ``units`` different units (lead or joint) within ``days``."""
    since, until = _window(th, end, now)
    where = and_(Inspection.started_at >= since, Inspection.started_at < until)
    units = union_all(
        select(Inspection.enterprise_id.label("enterprise_id"), Inspection.department_id.label("unit")).where(
            where
        ),
        select(Inspection.enterprise_id, inspection_unit.c.department_id)
        .join(inspection_unit, inspection_unit.c.inspection_id == Inspection.id)
        .where(where),
    ).subquery()
    rows = session.execute(
        select(units.c.enterprise_id, func.count(func.distinct(units.c.unit)))
        .group_by(units.c.enterprise_id)
        .having(func.count(func.distinct(units.c.unit)) > th["units"])
    ).all()
    counts = {eid: {"units": int(n), "days": th["days"]} for eid, n in rows}
    return _enterprise_findings(session, counts, where)


@evaluator(RuleType.OFFICER_REPEATED)
def officer_repeated(session, model, start, end, prev_start, th, now) -> list[Finding]:
    """One officer inspecting the same enterprise at least ``times`` times within ``days``."""
    since, until = _window(th, end, now)
    where = and_(Inspection.started_at >= since, Inspection.started_at < until)
    joined = select(inspection_officer.c.officer_id, Inspection.enterprise_id).join(
        inspection_officer, inspection_officer.c.inspection_id == Inspection.id
    )
    rows = session.execute(
        joined.add_columns(func.count())
        .where(where)
        .group_by(inspection_officer.c.officer_id, Inspection.enterprise_id)
        .having(func.count() >= th["times"])
    ).all()
    if not rows:
        return []
    officers = _rows_by_id(
        session,
        EnforcementOfficer,
        {r[0] for r in rows},
        EnforcementOfficer.name,
        EnforcementOfficer.department_id,
    )
    enterprises = _rows_by_id(
        session, Enterprise, {r[1] for r in rows}, Enterprise.name, Enterprise.jurisdiction_id
    )
    depts = _departments(session, [o.department_id for o in officers.values()])
    pair = Inspection.enterprise_id
    inspections = _grouped_ids(
        session,
        select(inspection_officer.c.officer_id.concat(":").concat(pair), Inspection.id)
        .join(inspection_officer, inspection_officer.c.inspection_id == Inspection.id)
        .where(where, any_of(session, inspection_officer.c.officer_id, list(officers)))
        .order_by(Inspection.started_at),
        INSPECTION_IDS,
    )
    out = []
    for oid, eid, n in sorted(rows):
        o, e = officers.get(oid), enterprises.get(eid)
        dept = o.department_id if o else None
        key = f"{oid}:{eid}"
        place = depts.get(dept, ("", None))[1] or (e.jurisdiction_id if e else None)
        ins = inspections.get(key, [])
        cases = (
            list(
                session.execute(
                    select(Case.id).where(any_of(session, Case.inspection_id, ins)).limit(CASE_LINKS)
                ).scalars()
            )
            if ins
            else []
        )
        out.append(
            Finding(
                SubjectKind.OFFICER,
                key,
                f"{o.name if o else oid} → {e.name if e else eid}"[:200],
                dept,
                eid,
                place,
                {"inspections": int(n), "days": th["days"], "inspection_ids": ins},
                cases,
            )
        )
    return out


@evaluator(RuleType.INSPECTIONS_UNCONFIRMED)
def inspections_unconfirmed(session, model, start, end, prev_start, th, now) -> list[Finding]:
    """Finished inspections started in the period the enterprise has not confirmed ``days`` after."""
    where = and_(
        Inspection.started_at >= start,
        Inspection.started_at < end,
        Inspection.ended_at.is_not(None),
        Inspection.confirmed_at.is_(None),
        Inspection.ended_at < now - timedelta(days=th["days"]),
    )
    rows = [
        (d, int(n))
        for d, n in session.execute(
            select(Inspection.department_id, func.count())
            .where(where)
            .group_by(Inspection.department_id)
            .having(func.count() >= th["inspections"])
        )
    ]
    if not rows:
        return []
    depts = _departments(session, [d for d, _ in rows])
    flagged = and_(where, any_of(session, Inspection.department_id, [d for d, _ in rows]))
    inspections = _grouped_ids(
        session,
        select(Inspection.department_id, Inspection.id).where(flagged).order_by(Inspection.id),
        INSPECTION_IDS,
    )
    return [
        _department_finding(
            d, depts, {"inspections": n, "days": th["days"], "inspection_ids": inspections.get(d, [])}, []
        )
        for d, n in sorted(rows)
    ]
