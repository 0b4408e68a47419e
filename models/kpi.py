"""The KPI rollup: each department's additive assessment figures per calendar month (Beijing
time), so a year is twelve rows per department instead of every lead round (issue 18).

``KpiMonth`` holds the numerators and denominators of ``assessment.department_kpis`` for one
(department, month); the month is its first day, local time. A row is exact only while no
``KpiStale`` marker names its pair and its month is in ``KpiBuiltMonth``: every flush that
changes an input of those figures appends a marker in the same transaction (the hook at the
end of this module), and the assessment service recomputes the marked pairs before summing.

Markers are appended, never upserted: a refresh deletes exactly the markers it read, so a
change committed while it ran keeps its own marker (and no two writers wait on one hot row)."""

from __future__ import annotations

from datetime import date, datetime

from flask_appbuilder import Model
from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, event, inspect, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.clock import to_local
from models.case import Assignment, Case

# The additive figures of a (department, month), in the order of the table's columns.
ROUND_FIGURES = (
    "handled",
    "finished",
    "unfinished",
    "on_time",
    "late",
    "rated",
    "satisfied",
    "unsatisfied",
    "settled",
    "resolved",
    "unresolved",
    "rehandled",
    "returned",
)
OTHER_FIGURES = ("signed", "signed_on_time", "signed_late", "verified", "verified_on_time", "paused_days")
FIGURES = ROUND_FIGURES + OTHER_FIGURES


class KpiMonth(Model):
    """One department's figures of one month (lead rounds and assignments dispatched in it,
    pauses begun in it)."""

    __tablename__ = "kpi_month"

    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)  # the 1st, Asia/Shanghai
    handled: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    finished: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    unfinished: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    on_time: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    late: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    rated: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    satisfied: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    unsatisfied: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    settled: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    resolved: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    unresolved: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    rehandled: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    returned: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    signed: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    signed_on_time: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    signed_late: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    verified: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    verified_on_time: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    paused_days: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")

    __table_args__ = (Index("ix_kpi_month_month", "month"),)


class KpiStale(Model):
    """A (department, month) whose ``KpiMonth`` row no longer holds (append-only)."""

    __tablename__ = "kpi_stale"

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(Integer, nullable=False)
    month: Mapped[date] = mapped_column(Date, nullable=False)

    __table_args__ = (Index("ix_kpi_stale_month", "month", "department_id"),)


class KpiBuiltMonth(Model):
    """A month whose rows were computed for every department (absent: computed at first read)."""

    __tablename__ = "kpi_built_month"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    built_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)


# --- covering indexes of the figures of a period (dashboard, bulletin, assessment) ------------
#
# Each figure counts the cases filed, accepted or closed in a period (or the assignments
# dispatched in it): one index-only scan of the period's column, with every column the
# figures and the reader's scope read (reports.builders.figures, dashboard.clock_figures).
# PostgreSQL only (INCLUDE); the columns stay in the same order in the migration.

FIGURE_INDEXES = {
    "ix_cases_figures_created": (
        Case.__table__,
        "created_at",
        (
            "jurisdiction_id",
            "concerned_department_id",
            "status",
            "case_type",
            "channel",
            "category_id",
            "lead_department_id",
            "first_response_due_at",
            "first_responded_at",
            "accept_due_at",
            "accepted_at",
            "closed_at",
        ),
    ),
    "ix_cases_figures_accepted": (
        Case.__table__,
        "accepted_at",
        (
            "id",
            "jurisdiction_id",
            "concerned_department_id",
            "status",
            "dispatch_due_at",
            "verify_due_at",
            "verified_at",
            "first_dispatched_at",
        ),
    ),
    "ix_cases_figures_closed": (
        Case.__table__,
        "closed_at",
        (
            "jurisdiction_id",
            "concerned_department_id",
            "status",
            "replied_at",
            "due_at",
            "rating",
            "lead_department_id",
        ),
    ),
    "ix_assignment_figures_dispatched": (
        Assignment.__table__,
        "dispatched_at",
        ("case_id", "role", "state", "active", "paused_at", "sign_due_at", "signed_at", "due_at", "done_at"),
    ),
    "ix_assignment_case_dispatched": (Assignment.__table__, ("case_id", "dispatched_at"), ()),
}

for _name, (_table, _keys, _include) in FIGURE_INDEXES.items():
    _keys = (_keys,) if isinstance(_keys, str) else _keys
    Index(_name, *(_table.c[k] for k in _keys), postgresql_include=list(_include))


def month_of(moment: datetime | None) -> date | None:
    """The first day of ``moment``'s month in Beijing time (naive UTC in, as stored)."""
    if moment is None:
        return None
    local = to_local(moment)
    return date(local.year, local.month, 1)


# --- marking: what can change a past figure ---------------------------------------------------
#
# The figures read (assessment._lead_rounds, _signing, _clock_columns): every assignment of the
# department dispatched in the month; of its case the type, finding and verification clock;
# the case's evaluation, revisit-rating and re-handling events; its rectifications' states; the
# later lead rounds of the case; the pauses the department began in the month. A change to one
# of those marks every (department, month) of the case's assignments (a case has a handful).

_CASE_COLUMNS = ("case_type", "finding", "verify_due_at", "verified_at")
_RATING_ACTIONS = ("evaluate", "record_revisit", "rehandle")


def _changed(obj, names) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in names)


def _old_and_new(obj, name) -> list:
    history = inspect(obj).attrs[name].history
    return [v for v in (*history.deleted, *history.unchanged, *history.added) if v is not None]


def _pairs_of_flush(session: Session) -> tuple[set[tuple[int, date]], set[int]]:
    """The (department, month) pairs a flush touches directly, and the cases whose every
    assignment's pair it touches."""
    from models import Assignment, Case, CaseEvent, ClockPause, Rectification

    pairs: set[tuple[int, date]] = set()
    cases: set[int] = set()
    new_cases: set[int] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Assignment):
            # old and new department/dispatch too: a re-pointed row leaves its old month
            for dept in _old_and_new(obj, "department_id"):
                for at in _old_and_new(obj, "dispatched_at"):
                    pairs.add((dept, month_of(at)))
            cases.add(obj.case_id)
        elif isinstance(obj, Case):
            if obj in session.new:
                new_cases.add(obj.id)
            elif obj in session.deleted or _changed(obj, _CASE_COLUMNS):
                cases.add(obj.id)
        elif isinstance(obj, CaseEvent):
            if str(obj.action) in _RATING_ACTIONS:
                cases.add(obj.case_id)
        elif isinstance(obj, Rectification):
            cases.add(obj.case_id)
        elif isinstance(obj, ClockPause):
            for dept in _old_and_new(obj, "department_id"):
                for at in _old_and_new(obj, "paused_at"):
                    pairs.add((dept, month_of(at)))
    # A case filed in this very flush has no assignment but those just added (already counted).
    with_assignments = {obj.case_id for obj in session.new if isinstance(obj, Assignment)}
    return pairs, {c for c in cases if c is not None and (c not in new_cases or c in with_assignments)}


@event.listens_for(Session, "after_flush")
def _mark_stale(session: Session, _context) -> None:
    """Append a ``KpiStale`` marker for every (department, month) the flush may have changed,
    in the flush's own transaction."""
    if not (session.new or session.dirty or session.deleted):
        return
    pairs, cases = _pairs_of_flush(session)
    if not pairs and not cases:
        return
    from models import Assignment

    connection = session.connection()
    if cases:
        rows = connection.execute(
            select(Assignment.department_id, Assignment.dispatched_at).where(
                Assignment.case_id.in_(sorted(cases))
            )
        )
        pairs.update((dept, month_of(at)) for dept, at in rows if at is not None)
    pairs = {(dept, month) for dept, month in pairs if dept is not None and month is not None}
    if pairs:
        connection.execute(
            KpiStale.__table__.insert(), [{"department_id": d, "month": m} for d, m in sorted(pairs)]
        )
