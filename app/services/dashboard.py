"""The leaders' dashboard: the same figures as the bulletin and the assessment (one definition),
plus hot spots — rising categories and departments, repeated complaints about one window or one
official. Set-based queries only.

Every figure counts only the cases the reader may see: ``scope`` is the visibility rule's clause
(``visibility.visible_cases_clause``: a county's office its county, a city its city and its
counties, the province all), never a rule of its own; None counts every case (jobs, tests)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, null, or_, select

from app.enums import AssignmentRole, AssignmentState, RectificationState
from app.services import assessment as kpi
from app.workflow import N_, OPEN_STATUSES, Status
from models import Assignment, Case, Category, ClockPause, Department, Rectification, ServiceWindow


def previous_period(period: kpi.Period) -> kpi.Period:
    length = period.end - period.start
    return kpi.Period(period.start - length, period.start, "")


def _scoped(query, scope):
    return query if scope is None else query.where(scope)


def _cases_in(scope):
    """The ids of the cases in scope, for rows that belong to a case (assignments, pauses)."""
    return select(Case.id).where(scope)


def _counts(session, column, period: kpi.Period, scope=None) -> dict:
    rows = session.execute(
        _scoped(
            select(column, func.count()).where(
                column.isnot(None), Case.created_at >= period.start, Case.created_at < period.end
            ),
            scope,
        ).group_by(column)
    ).all()
    return dict(rows)


def _rising(now: dict, before: dict, names: dict, limit: int = 5) -> list[dict]:
    rows = [
        {
            "name": names.get(key, str(key)),
            "id": key,
            "now": count,
            "before": before.get(key, 0),
            "change": count - before.get(key, 0),
        }
        for key, count in now.items()
        if count >= 2 and count > before.get(key, 0)
    ]
    return sorted(rows, key=lambda r: (-r["change"], -r["now"], str(r["name"])))[:limit]


def hot_spots(session, period: kpi.Period, scope=None) -> dict[str, list[dict]]:
    """What rises among the cases in ``scope`` (see the module docstring)."""
    before = previous_period(period)
    categories = {c.id: str(c) for c in session.query(Category)}
    departments = {d.id: d.name for d in session.query(Department)}
    windows = {w.id: str(w) for w in session.query(ServiceWindow)}
    department_column = func.coalesce(Case.concerned_department_id, Case.lead_department_id)
    windows_now = _counts(session, Case.window_id, period, scope)
    officials_now = _counts(session, Case.concerned_official, period, scope)
    return {
        "categories": _rising(
            _counts(session, Case.category_id, period, scope),
            _counts(session, Case.category_id, before, scope),
            categories,
        ),
        "departments": _rising(
            _counts(session, department_column, period, scope),
            _counts(session, department_column, before, scope),
            departments,
        ),
        "windows": sorted(
            ({"name": windows.get(k, str(k)), "id": k, "now": n} for k, n in windows_now.items() if n >= 2),
            key=lambda r: (-r["now"], r["name"]),
        )[:5],
        "officials": sorted(
            ({"name": k, "now": n} for k, n in officials_now.items() if n >= 2),
            key=lambda r: (-r["now"], r["name"]),
        )[:5],
    }


# --- the clocks of the seeds, office-wide -------------------------------------------------------


@dataclass(frozen=True)
class ClockFigure:
    """One clock over the period: met by its deadline, met after it, and still not met with
    the deadline passed (now); the rate is met on time / met."""

    key: str
    label: str  # msgid
    on_time: int
    late: int
    overdue: int

    @property
    def rate(self) -> kpi.Rate:
        return kpi.Rate(self.on_time, self.on_time + self.late)

    def as_dict(self) -> dict:
        return {
            "key": self.key,
            "label": self.label,
            "on_time": self.on_time,
            "late": self.late,
            "overdue": self.overdue,
            "rate": self.rate.value,
        }


CLOCK_LABELS = {
    "first_response": N_("First response within 24 hours"),
    "acceptance": N_("Decision on acceptance on time"),
    "dispatch": N_("Dispatched on time"),
    "signing": N_("Signed on time"),
    "verification": N_("Initial verification result on time"),
    "handling": N_("Handled on time"),
    "rectification": N_("Rectified on time"),
}
_RUNNING = (AssignmentState.DISPATCHED.value, AssignmentState.SIGNED.value)


def _within(column, period: kpi.Period):
    return and_(column >= period.start, column < period.end)


def _sum(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _clock_columns(key: str, counted, due, done, still_open, now: datetime) -> list:
    """Three aggregates of a clock: met on time, met late, overdue and not met yet."""
    return [
        _sum(and_(counted, done.isnot(None), done <= due)).label(f"{key}_on_time"),
        _sum(and_(counted, done.isnot(None), done > due)).label(f"{key}_late"),
        _sum(and_(counted, done.is_(None), due < now, still_open)).label(f"{key}_overdue"),
    ]


def clock_figures(session, period: kpi.Period, now: datetime, scope=None) -> dict:
    """How the office kept every clock of the seeds in the period (four aggregate queries):
    first response, acceptance decision and (from acceptance) dispatch and initial
    verification of the cases filed or accepted in it; signing and handling of the
    assignments dispatched in it; the rectifications planned in it; and the pauses (停表)
    begun in it with their working days — of the cases in ``scope`` (module docstring)."""
    filed = _within(Case.created_at, period)
    accepted = _within(Case.accepted_at, period)
    first_dispatch = (
        select(func.min(Assignment.dispatched_at))
        .where(Assignment.case_id == Case.id)
        .correlate(Case)
        .scalar_subquery()
    )
    decided = case(
        (Case.accepted_at.isnot(None), Case.accepted_at),
        (Case.status == Status.DECLINED.value, Case.closed_at),
        else_=null(),
    )
    open_statuses = [s.value for s in OPEN_STATUSES]
    cases = session.execute(
        select(
            *_clock_columns(
                "first_response", filed, Case.first_response_due_at, Case.first_responded_at, True, now
            ),
            *_clock_columns(
                "acceptance", filed, Case.accept_due_at, decided, Case.status == Status.SUBMITTED.value, now
            ),
            *_clock_columns(
                "dispatch",
                accepted,
                Case.dispatch_due_at,
                first_dispatch,
                Case.status == Status.ACCEPTED.value,
                now,
            ),
            *_clock_columns(
                "verification",
                and_(accepted, Case.verify_due_at.isnot(None)),
                Case.verify_due_at,
                Case.verified_at,
                Case.status.in_(open_statuses),
                now,
            ),
        ).where(or_(filed, accepted), *([] if scope is None else [scope]))
    ).one()

    dispatched = _within(Assignment.dispatched_at, period)
    lead = Assignment.role == AssignmentRole.LEAD.value
    handled = case((Assignment.state == AssignmentState.DONE.value, Assignment.done_at), else_=null())
    assignments = session.execute(
        select(
            *_clock_columns(
                "signing",
                True,
                Assignment.sign_due_at,
                Assignment.signed_at,
                and_(Assignment.active, Assignment.state == AssignmentState.DISPATCHED.value),
                now,
            ),
            *_clock_columns(
                "handling",
                lead,
                Assignment.due_at,
                handled,
                and_(Assignment.active, Assignment.state.in_(_RUNNING), Assignment.paused_at.is_(None)),
                now,
            ),
        ).where(dispatched, *([] if scope is None else [Assignment.case_id.in_(_cases_in(scope))]))
    ).one()

    reported = case(
        (
            Rectification.state.in_([RectificationState.SUBMITTED.value, RectificationState.ACCEPTED.value]),
            Rectification.completed_at,
        ),
        else_=null(),
    )
    rectifications = session.execute(
        select(
            *_clock_columns(
                "rectification",
                Rectification.due_at.isnot(None),
                Rectification.due_at,
                reported,
                Rectification.state == RectificationState.PLANNED.value,
                now,
            )
        ).where(
            _within(Rectification.planned_at, period),
            *([] if scope is None else [Rectification.case_id.in_(_cases_in(scope))]),
        )
    ).one()

    pauses = session.execute(
        select(
            func.count(ClockPause.id),
            func.coalesce(func.sum(ClockPause.working_days), 0),
            _sum(ClockPause.resumed_at.is_(None)),
        ).where(
            _within(ClockPause.paused_at, period),
            *([] if scope is None else [ClockPause.case_id.in_(_cases_in(scope))]),
        )
    ).one()

    rows = {**cases._mapping, **assignments._mapping, **rectifications._mapping}
    return {
        "clocks": [
            ClockFigure(
                key, label, int(rows[f"{key}_on_time"]), int(rows[f"{key}_late"]), int(rows[f"{key}_overdue"])
            )
            for key, label in CLOCK_LABELS.items()
        ],
        "pauses": int(pauses[0]),
        "paused_working_days": int(pauses[1]),
        "paused_now": int(pauses[2]),
    }
