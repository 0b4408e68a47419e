"""The case figures of a period (the dashboard, the bulletin, the assessment report), one
definition each, and their monthly rollup (``models.case_figures``).

A figure counts the cases filed, accepted or closed in the period, or the assignments dispatched
in it: each is additive over the months of the period and over the (jurisdiction, department
complained about) the cases belong to. ``month_rows`` computes one month grouped so; the rollup
keeps those rows per month, and ``read`` gives a period of whole months: the built months not
marked stale from their rows, the others as periods the reader counts from the cases in its own
scope (so a reader is exact whatever the refresh job did). A reader keeps the rows of its scope:
the jurisdictions shown, and, for the clocks, not the cases about the reader's own department or
one above it (the visibility rule).

The clocks' overdue counts (a clock not met whose deadline passed) move with time: a built
month holds them as of its ``built_at``; ``overdue_since`` counts live those whose deadline
passed since, through the partial indexes of the clocks not met."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import and_, case, delete, func, literal, null, select, true

from app.enums import AssignmentRole, AssignmentState, Rating
from app.services.assessment import Period, month_of, month_period, whole_months
from app.workflow import OPEN_STATUSES, Status
from models import Assignment, Case, CaseFigureBuilt, CaseFigureMonth, CaseFigureStale, Category, Department

# --- one definition of each figure ---------------------------------------------------------------

FAVOURABLE = (Rating.SATISFIED.value, Rating.BASICALLY_SATISFIED.value)
# 办结: closed in the period (and closed still); on time: its last reply by its handling deadline
# (extensions and pauses included, as the deadline is stored).
ON_TIME = Case.replied_at.isnot(None) & Case.due_at.isnot(None) & (Case.replied_at <= Case.due_at)
UNDISPATCHED, DECLINED = "尚未分办", "不予受理"


def within(column, period: Period):
    return (column >= period.start) & (column < period.end)


def closed_in(period: Period):
    return within(Case.closed_at, period) & (Case.status == Status.CLOSED.value)


def flag(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def dimension_keys() -> dict:
    """What the period's filed cases are counted by (登记 per ...): their type, their channel,
    their top-level category (None: not classified), the department complained about
    (被反映单位; None: none) and the level of the lead department (else not dispatched yet, or
    declined). Their joins: ``with_dimension_joins``."""
    return {
        "type": Case.case_type,
        "channel": Case.channel,
        "category": func.coalesce(Category.parent_id, Category.id),
        "concerned": Case.concerned_department_id,
        "level": case(
            (Case.lead_department_id.isnot(None), Department.level),
            (Case.status == Status.DECLINED.value, DECLINED),
            else_=UNDISPATCHED,
        ),
    }


def with_dimension_joins(query):
    return query.outerjoin(Category, Case.category_id == Category.id).outerjoin(
        Department, Case.lead_department_id == Department.id
    )


@dataclass(frozen=True)
class Clock:
    """A clock of the seeds: the rows it counts (``anchor``: the moment that puts a row in a
    period), its deadline, the moment it was met, and whether it may still be met."""

    anchor: str  # "filed", "accepted" (cases), "dispatched" (assignments), "planned" (rectifications)
    counted: object
    due: object
    done: object
    still_open: object


_RUNNING = (AssignmentState.DISPATCHED.value, AssignmentState.SIGNED.value)
_DECIDED = case(
    (Case.accepted_at.isnot(None), Case.accepted_at),
    (Case.status == Status.DECLINED.value, Case.closed_at),
    else_=null(),
)
_HANDLED = case((Assignment.state == AssignmentState.DONE.value, Assignment.done_at), else_=null())
CLOCKS = {
    "first_response": Clock("filed", True, Case.first_response_due_at, Case.first_responded_at, True),
    "acceptance": Clock("filed", True, Case.accept_due_at, _DECIDED, Case.status == Status.SUBMITTED.value),
    "dispatch": Clock(
        "accepted", True, Case.dispatch_due_at, Case.first_dispatched_at, Case.status == Status.ACCEPTED.value
    ),
    "verification": Clock(
        "accepted",
        Case.verify_due_at.isnot(None),
        Case.verify_due_at,
        Case.verified_at,
        Case.status.in_([s.value for s in OPEN_STATUSES]),
    ),
    "signing": Clock(
        "dispatched",
        True,
        Assignment.sign_due_at,
        Assignment.signed_at,
        and_(Assignment.active, Assignment.state == AssignmentState.DISPATCHED.value),
    ),
    "handling": Clock(
        "dispatched",
        Assignment.role == AssignmentRole.LEAD.value,
        Assignment.due_at,
        _HANDLED,
        and_(Assignment.active, Assignment.state.in_(_RUNNING), Assignment.paused_at.is_(None)),
    ),
}
ANCHORS = {"filed": Case.created_at, "accepted": Case.accepted_at, "dispatched": Assignment.dispatched_at}


def clock_columns(key: str, now: datetime, clock: Clock | None = None) -> list:
    """Three aggregates of a clock (``CLOCKS[key]``, or ``clock``): met on time, met late,
    overdue and not met yet (at ``now``)."""
    c = clock or CLOCKS[key]
    return [
        flag(and_(c.counted, c.done.isnot(None), c.done <= c.due)).label(f"{key}:on_time"),
        flag(and_(c.counted, c.done.isnot(None), c.done > c.due)).label(f"{key}:late"),
        flag(and_(c.counted, c.done.is_(None), c.due < now, c.still_open)).label(f"{key}:overdue"),
    ]


def _clocks_of(anchor: str) -> list[str]:
    return [key for key, c in CLOCKS.items() if c.anchor == anchor]


# --- one month, grouped by (jurisdiction, department complained about) -------------------------

Key = tuple[int | None, int | None]  # (jurisdiction_id, concerned_department_id)


def month_rows(session, period: Period, now: datetime) -> dict[Key, Counter]:
    """Every additive figure of the cases and assignments of ``period`` (a month), per
    (jurisdiction, department complained about): four grouped statements, one index scan of the
    month each (filed, accepted, closed, dispatched)."""
    rows: dict[Key, Counter] = defaultdict(Counter)
    dims = dimension_keys()
    names = ("type", "channel", "category", "level")
    filed_clocks = _clocks_of("filed")
    filed = with_dimension_joins(
        select(
            Case.jurisdiction_id,
            Case.concerned_department_id,
            *(dims[n].label(n) for n in names),
            func.count().label("n"),
            *(col for key in filed_clocks for col in clock_columns(key, now)),
        ).select_from(Case)
    ).where(within(Case.created_at, period))
    filed = filed.group_by(Case.jurisdiction_id, Case.concerned_department_id, *(dims[n] for n in names))
    # (a month is some thousands of groups: plain tuples, each figure's name made once)
    names_of: dict[tuple[int, object], str] = {}
    clock_names = [f"{key}:{part}" for key in filed_clocks for part in ("on_time", "late", "overdue")]
    first_clock = 3 + len(names)
    for row in session.execute(filed).tuples():
        figures = rows[(row[0], row[1])]
        n = row[2 + len(names)]
        figures["filed"] += n
        for i in range(len(names)):
            name = names_of.get((i, row[2 + i]))
            if name is None:
                name = names_of[(i, row[2 + i])] = f"{names[i]}:{_text(row[2 + i])}"
            figures[name] += n
        for i, name in enumerate(clock_names):
            figures[name] += row[first_clock + i] or 0

    accepted_clocks = _clocks_of("accepted")
    accepted = (
        select(
            Case.jurisdiction_id,
            Case.concerned_department_id,
            func.count().label("n"),
            *(col for key in accepted_clocks for col in clock_columns(key, now)),
        )
        .where(within(Case.accepted_at, period))
        .group_by(Case.jurisdiction_id, Case.concerned_department_id)
    )
    for row in session.execute(accepted):
        figures = rows[(row.jurisdiction_id, row.concerned_department_id)]
        figures["accepted"] += row.n
        _add_clocks(figures, row._mapping, accepted_clocks)

    closed = (
        select(
            Case.jurisdiction_id,
            Case.concerned_department_id,
            Case.lead_department_id,
            func.count().label("n"),
            flag(ON_TIME).label("on_time"),
            flag(Case.rating.isnot(None)).label("rated"),
            flag(Case.rating.in_(FAVOURABLE)).label("favourable"),
        )
        .where(closed_in(period))
        .group_by(Case.jurisdiction_id, Case.concerned_department_id, Case.lead_department_id)
    )
    for row in session.execute(closed):
        figures = rows[(row.jurisdiction_id, row.concerned_department_id)]
        figures["closed"] += row.n
        figures["closed_on_time"] += row.on_time
        figures["closed_rated"] += row.rated
        figures["closed_favourable"] += row.favourable
        if row.lead_department_id is not None:
            figures[f"lead:{row.lead_department_id}:closed"] += row.n
            figures[f"lead:{row.lead_department_id}:on_time"] += row.on_time

    dispatched_clocks = _clocks_of("dispatched")
    if session.get_bind().dialect.name == "postgresql":
        # each assignment's case by its key (LATERAL, fenced by OFFSET 0): the planner would
        # hash every case of the platform to join a month's assignments (365 ms against 45 ms
        # at 1 million cases)
        of_case = (
            select(Case.jurisdiction_id, Case.concerned_department_id)
            .where(Case.id == Assignment.case_id)
            .offset(0)
            .lateral("of_case")
        )
        source = select().select_from(Assignment).join(of_case, true())
        group = (of_case.c.jurisdiction_id, of_case.c.concerned_department_id)
    else:
        source = select().select_from(Assignment).join(Case, Case.id == Assignment.case_id)
        group = (Case.jurisdiction_id, Case.concerned_department_id)
    dispatched = (
        source.add_columns(*group, *(col for key in dispatched_clocks for col in clock_columns(key, now)))
        .where(within(Assignment.dispatched_at, period))
        .group_by(*group)
    )
    for row in session.execute(dispatched):
        _add_clocks(rows[(row[0], row[1])], row._mapping, dispatched_clocks)
    return {key: Counter({k: int(v) for k, v in figures.items() if v}) for key, figures in rows.items()}


def _text(value) -> str:
    return "" if value is None else str(getattr(value, "value", value))


def _add_clocks(figures: Counter, mapping, keys) -> None:
    for key in keys:
        for part in ("on_time", "late", "overdue"):
            figures[f"{key}:{part}"] += int(mapping[f"{key}:{part}"] or 0)


# --- the rollup ----------------------------------------------------------------------------------

MIN_ROLLUP_MONTHS = 1  # a month too: its rows are read in milliseconds, its cases in 0.1-0.5 s
_LOCK = 0x4346_4731  # "CFG1": pg_advisory_xact_lock key of the rollup's writers


@dataclass
class Rollup:
    """A period's months from the rollup: per month kept (built, not marked stale), per
    (jurisdiction, concerned department), its figures, whose overdue counts hold as of the
    month's build (``as_of``); ``live``: the periods of the other months (consecutive ones
    together), which the reader counts from the cases themselves, in its own scope."""

    rows: dict[date, dict[Key, Counter]]
    as_of: dict[date, datetime]
    live: list[Period] = field(default_factory=list)
    _totals: dict = field(default_factory=dict, repr=False)

    def total(self, keep=None, months: Iterable[date] | None = None) -> Counter:
        """The kept months' figures summed over the rows ``keep(jurisdiction_id, concerned_id)``
        keeps (a copy: the caller may add to it)."""
        months = tuple(self.rows if months is None else months)
        if (keep, months) not in self._totals:
            total: Counter = Counter()
            for month in months:
                for key, figures in self.rows.get(month, {}).items():
                    if keep is None or keep(*key):
                        total.update(figures)
            self._totals[(keep, months)] = total
        return Counter(self._totals[(keep, months)])

    def per_concerned(self, keep=None) -> Counter:
        """登记 of the kept months per department complained about (None: about none)."""
        found: Counter = Counter()
        for month_rows_ in self.rows.values():
            for (jurisdiction_id, concerned_id), figures in month_rows_.items():
                if (keep is None or keep(jurisdiction_id, concerned_id)) and figures.get("filed"):
                    found[concerned_id] += figures["filed"]
        return found


def read(session, period: Period) -> Rollup | None:
    """``period``'s months kept in the rollup (built, not marked stale), and the periods of the
    others (``Rollup.live``: counted from the cases, as without a rollup, so a month being
    written to costs what it always did); None when the period is not made of whole months."""
    months = whole_months(period)
    if months is None or len(months) < MIN_ROLLUP_MONTHS:
        return None
    marked = select(CaseFigureStale.id).where(CaseFigureStale.month == CaseFigureBuilt.month).exists()
    built, stale = {}, set()
    for month, built_at, is_stale in session.execute(
        select(CaseFigureBuilt.month, CaseFigureBuilt.built_at, marked).where(
            CaseFigureBuilt.month.in_(months)
        )
    ):
        built[month] = built_at
        if is_stale:
            stale.add(month)
    kept = [m for m in months if m in built and m not in stale]
    rows: dict[date, dict[Key, Counter]] = {m: {} for m in kept}
    if kept:
        for month, jurisdiction_id, concerned_id, figures in session.execute(
            select(
                CaseFigureMonth.month,
                CaseFigureMonth.jurisdiction_id,
                CaseFigureMonth.concerned_department_id,
                CaseFigureMonth.figures,
            ).where(CaseFigureMonth.month.in_(kept))
        ):
            rows[month][(jurisdiction_id, concerned_id)] = Counter(figures)
    live: list[Period] = []
    for month in months:  # the other months, consecutive ones as one period
        if month in rows:
            continue
        one = month_period(month)
        if live and live[-1].end == one.start:
            live[-1] = Period(live[-1].start, one.end, "")
        else:
            live.append(Period(one.start, one.end, ""))
    return Rollup(rows, {m: built[m] for m in kept}, live)


def overdue_since(session, rollup: Rollup, now: datetime, case_scope=None) -> Counter:
    """The clocks of the rollup's built months not met whose deadline passed after the month
    was built and before ``now`` (still open), per clock: what their stored overdue counts
    lack. ``case_scope``: a clause on the cases counted (None: all)."""
    built = {m: t for m, t in rollup.as_of.items() if t < now}
    found: Counter = Counter()
    if not built:
        return found
    since = min(built.values())
    counts = []
    for key, c in CLOCKS.items():
        anchor = ANCHORS[c.anchor]
        # the moment the month of the row's anchor was built (NULL: a month read live, or outside)
        built_at = case(
            *((within(anchor, month_period(m)), literal(t)) for m, t in sorted(built.items())), else_=null()
        )
        query = select(func.count()).where(
            c.counted,
            c.done.is_(None),
            c.still_open,
            c.due >= since,  # (the partial index of the clock not met, then the month's moment)
            c.due < now,
            c.due >= built_at,
        )
        if c.anchor == "dispatched":
            query = query.select_from(Assignment)
            if case_scope is not None:
                query = query.join(Case, Case.id == Assignment.case_id).where(case_scope)
        elif case_scope is not None:
            query = query.where(case_scope)
        counts.append(query.scalar_subquery().label(f"{key}:overdue"))
    row = session.execute(select(*counts)).one()  # one statement, an index scan per clock
    found.update({name: int(n or 0) for name, n in row._mapping.items()})
    return found


def _lock(session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(_LOCK)))


def _write_month(session, month: date, rows: dict[Key, Counter], now: datetime) -> None:
    session.execute(delete(CaseFigureMonth).where(CaseFigureMonth.month == month))
    values = [
        {"month": month, "jurisdiction_id": j, "concerned_department_id": c, "figures": dict(figures)}
        for (j, c), figures in rows.items()
        if figures
    ]
    if values:
        session.execute(CaseFigureMonth.__table__.insert(), values)
    session.execute(delete(CaseFigureBuilt).where(CaseFigureBuilt.month == month))
    session.execute(CaseFigureBuilt.__table__.insert(), [{"month": month, "built_at": now}])


def refresh(session, *, now: datetime, limit: int | None = None) -> int:
    """Recompute the months marked stale (the latest first, at most ``limit``) and build
    ``now``'s month if it never was; return how many months were computed. Deletes only the
    markers it read, so a change committed meanwhile keeps its own. The caller commits."""
    _lock(session)
    markers = session.execute(select(CaseFigureStale.id, CaseFigureStale.month)).all()
    built = set(session.scalars(select(CaseFigureBuilt.month)))
    months = sorted({m for _, m in markers if m in built}, reverse=True)[:limit]
    current = month_of(now)
    if current not in built and current not in months:
        months.insert(0, current)
    for month in months:
        _write_month(session, month, month_rows(session, month_period(month), now), now)
    done = set(months)
    _forget_markers(session, [i for i, m in markers if m in done or m not in built])  # (never built: no use)
    return len(months)


def build(session, *, now: datetime, rebuild: bool = False, limit: int | None = None) -> int:
    """Build the months from the January of the year before the first case filed to ``now``'s
    not built yet (a year's figures are compared with the year before: those months are read
    too, empty as they are), the latest first, at most ``limit`` (``ys init``, the bench seed,
    the refresh job on a migrated database; ``rebuild``: all again); return how many were
    built. The caller commits."""
    first = session.scalar(select(func.min(Case.created_at)))
    if first is None:
        return 0
    _lock(session)
    months, month, last = [], date(month_of(first).year - 1, 1, 1), month_of(now)
    while month <= last:
        months.append(month)
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    built = set() if rebuild else set(session.scalars(select(CaseFigureBuilt.month)))
    missing = [m for m in reversed(months) if m not in built][:limit]
    # the markers already written of these months are of no use once they are computed (read
    # first: one committed while they are computed keeps its month stale)
    markers = session.scalars(select(CaseFigureStale.id).where(CaseFigureStale.month.in_(missing))).all()
    for month in missing:
        _write_month(session, month, month_rows(session, month_period(month), now), now)
    _forget_markers(session, markers)
    return len(missing)


def _forget_markers(session, ids) -> None:
    ids = list(ids)
    for start in range(0, len(ids), 1000):
        session.execute(delete(CaseFigureStale).where(CaseFigureStale.id.in_(ids[start : start + 1000])))


def visible_keep(jurisdiction_ids: set[int] | None, hidden_concerned: set[int] = frozenset()):
    """A row filter: the jurisdictions shown (None: all), not about the hidden departments."""

    def keep(jurisdiction_id, concerned_id) -> bool:
        return (jurisdiction_ids is None or jurisdiction_id in jurisdiction_ids) and (
            concerned_id is None or concerned_id not in hidden_concerned
        )

    return keep
