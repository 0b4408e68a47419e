"""The leaders' dashboard: the same figures as the bulletin and the assessment (one definition),
plus the early warnings the models raised (what were its hot spots: a window or an official
complained about repeatedly, a rising overdue rate are now warning models). Set-based queries only.

Every figure counts only the cases the reader may see: ``scope`` is the visibility rule's clause
(``visibility.visible_cases_clause``: a county's office its county, a city its city and its
counties, the province all), never a rule of its own; None counts every case (jobs, tests).
Warnings are not cases: their scope is ``warnings_clause`` (the office working them)."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, null, or_, select

from app.clock import to_local
from app.early_warning import WarningState
from app.enums import RectificationState
from app.services import assessment as kpi
from app.services import case_figures as rules
from app.services import jurisdictions
from app.workflow import N_
from models import Assignment, Case, ClockPause, Department, EarlyWarning, Rectification, WarningModel


def _cases_in(scope, period: kpi.Period):
    """The ids of the cases in scope, for rows of a case that happened in ``period``
    (assignments, rectifications, pauses): cases filed before the period's end, since nothing
    happens to a case before it is filed (a year at 1 million cases read the ids of every case
    without this bound, ``ix_cases_figures_created`` reads those filed up to its end)."""
    return select(Case.id).where(scope, Case.created_at < period.end)


def warnings_clause(actor, office) -> object:
    """The warnings a dashboard of ``office`` shows its reader: those worked by the office
    shown and the offices under it (``EarlyWarning.jurisdiction_id``), within the reader's own
    scope (the same jurisdiction rule as every list: ``jurisdictions.scope_clause``)."""
    clauses = [jurisdictions.scope_clause(EarlyWarning.jurisdiction_id, actor)]
    if office is not None and office.parent_id is not None:
        clauses.append(EarlyWarning.jurisdiction_id.in_(jurisdictions.subtree_ids_select(office.path)))
    return and_(*clauses)


def figures_summary(figures: dict | None, limit: int = 4) -> str:
    """The figures that triggered a warning in one short line (numbers and short texts only;
    lists of ids are left to the warning's own page)."""
    parts = [
        f"{key}：{value}"
        for key, value in (figures or {}).items()
        if isinstance(value, int | float | str) and not isinstance(value, bool)
    ]
    return "；".join(parts[:limit])


def early_warnings(session, period: kpi.Period, now: datetime, scope=None, limit: int = 10) -> dict:
    """The dashboard's warnings (what were its hot spots): per model, the warnings open now,
    those of them overdue (``due_at`` passed) and those raised in the period; then the ``limit``
    open ones due first, each with its subject, department, figures and due date. ``scope`` is
    ``warnings_clause``; None: every warning."""
    where = [] if scope is None else [scope]
    is_open = EarlyWarning.state == WarningState.OPEN.value
    rows = session.execute(
        select(
            WarningModel.id,
            WarningModel.name,
            _sum(is_open).label("open"),
            _sum(and_(is_open, EarlyWarning.due_at < now)).label("overdue"),
            _sum(_within(EarlyWarning.created_at, period)).label("raised"),
        )
        .join(WarningModel, WarningModel.id == EarlyWarning.model_id)
        .where(or_(is_open, _within(EarlyWarning.created_at, period)), *where)
        .group_by(WarningModel.id, WarningModel.name)
    ).all()
    models = sorted(
        (
            {
                "model_id": r.id,
                "model": r.name,
                "open": int(r.open),
                "overdue": int(r.overdue),
                "raised": int(r.raised),
            }
            for r in rows
        ),
        key=lambda m: (-m["open"], -m["raised"], m["model"]),
    )
    top = session.execute(
        select(EarlyWarning, WarningModel.name, Department.name)
        .join(WarningModel, WarningModel.id == EarlyWarning.model_id)
        .outerjoin(Department, Department.id == EarlyWarning.department_id)
        .where(is_open, *where)
        .order_by(EarlyWarning.due_at, EarlyWarning.id)
        .limit(limit)
    ).all()
    return {
        "models": models,
        "open": sum(m["open"] for m in models),
        "overdue": sum(m["overdue"] for m in models),
        "raised": sum(m["raised"] for m in models),
        "top": [
            {
                "id": w.id,
                "model": model_name,
                "subject": w.subject_label,
                "department": department or "",
                "figures": figures_summary(w.figures),
                "due_at": w.due_at.isoformat(),
                "due_on": to_local(w.due_at).strftime("%Y-%m-%d"),
                "overdue": w.due_at < now,
                "url": f"/warningview/show/{w.id}",
            }
            for w, model_name, department in top
        ],
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


def _within(column, period: kpi.Period):
    return and_(column >= period.start, column < period.end)


_sum = rules.flag


REPORT_WORK_MEM = "64MB"  # a year's assignments hashed against the cases in scope: in memory


@contextmanager
def _work_mem(session, amount: str = REPORT_WORK_MEM):
    """PostgreSQL: hash the joins of a year in memory (``work_mem``, 4 MB by default, spilled
    them to disk in batches) for these statements only, then back to what it was (``set_config``
    local to the transaction). Other databases: nothing."""
    if session.get_bind().dialect.name != "postgresql":
        yield
        return
    before = session.scalar(select(func.current_setting("work_mem")))
    session.execute(select(func.set_config("work_mem", amount, True)))
    try:
        yield
    finally:
        session.execute(select(func.set_config("work_mem", before, True)))


def clock_figures(session, period: kpi.Period, now: datetime, scope=None, keep=None) -> dict:
    """How the office kept every clock of the seeds in the period: first response, acceptance
    decision and (from acceptance) dispatch and initial verification of the cases filed or
    accepted in it; signing and handling of the assignments dispatched in it; the
    rectifications planned in it; and the pauses (停表) begun in it with their working days — of
    the cases in ``scope`` (module docstring). ``keep``: the same scope over the case figures'
    rollup rows (``visibility.rollup_keep``); with it, a period of whole months reads the six
    clocks of the seeds from the rollup (``case_figures``)."""
    with _work_mem(session):
        counts = None
        if keep is not None:
            rollup = rules.read(session, period)
            if rollup is not None:  # the months it keeps, the others as without it
                counts = rollup.total(keep)
                counts.update(rules.overdue_since(session, rollup, now, scope))
                for span in rollup.live:
                    counts.update(_live_clocks(session, span, now, scope))
        if counts is None:
            counts = _live_clocks(session, period, now, scope)
        return _clock_result(session, period, now, scope, counts)


def _live_clocks(session, period: kpi.Period, now: datetime, scope=None) -> dict:
    """The six clocks of the seeds from the cases and assignments themselves: one statement per
    anchor, one index-only scan each (``ix_cases_figures_created``, ``..._accepted``,
    ``ix_assignment_figures_dispatched``; an OR of the periods read every case)."""
    counts: dict = {}
    for anchor, column in rules.ANCHORS.items():
        keys = [key for key, c in rules.CLOCKS.items() if c.anchor == anchor]
        query = select(*(col for key in keys for col in rules.clock_columns(key, now))).where(
            _within(column, period)
        )
        if anchor == "dispatched" and scope is not None:
            query = query.where(Assignment.case_id.in_(_cases_in(scope, period)))
        elif scope is not None:
            query = query.where(scope)
        counts.update(session.execute(query).one()._mapping)
    return counts


def _clock_result(session, period: kpi.Period, now: datetime, scope, counts) -> dict:
    """The clocks of ``counts`` with the rectifications' clock and the pauses (live)."""
    reported = case(
        (
            Rectification.state.in_([RectificationState.SUBMITTED.value, RectificationState.ACCEPTED.value]),
            Rectification.completed_at,
        ),
        else_=null(),
    )
    # the rectifications' clock: planned in the period, reported by its due date (kept live)
    rectification = rules.Clock(
        "planned",
        Rectification.due_at.isnot(None),
        Rectification.due_at,
        reported,
        Rectification.state == RectificationState.PLANNED.value,
    )
    rectifications = session.execute(
        select(*rules.clock_columns("rectification", now, rectification)).where(
            _within(Rectification.planned_at, period),
            *([] if scope is None else [Rectification.case_id.in_(_cases_in(scope, period))]),
        )
    ).one()
    counts = {**counts, **rectifications._mapping}

    pauses = session.execute(
        select(
            func.count(ClockPause.id),
            func.coalesce(func.sum(ClockPause.working_days), 0),
            _sum(ClockPause.resumed_at.is_(None)),
        ).where(
            _within(ClockPause.paused_at, period),
            *([] if scope is None else [ClockPause.case_id.in_(_cases_in(scope, period))]),
        )
    ).one()
    return {
        "clocks": [
            ClockFigure(
                key,
                label,
                int(counts.get(f"{key}:on_time", 0)),
                int(counts.get(f"{key}:late", 0)),
                int(counts.get(f"{key}:overdue", 0)),
            )
            for key, label in CLOCK_LABELS.items()
        ],
        "pauses": int(pauses[0]),
        "paused_working_days": int(pauses[1]),
        "paused_now": int(pauses[2]),
    }
