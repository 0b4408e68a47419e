"""The periodic sweep: finds in the database what has fallen due and acts once on each.

Each query uses an index on (state, deadline) and a 'done' column, so a sweep's cost grows
with the number of due items, not with the number of cases. Rows are locked with SKIP LOCKED
(PostgreSQL) and every effect has a unique key, so two sweeps at once cause no double effect.
"""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.enums import AssignmentState
from app.services import notifications as outbox
from app.services.calendar import load_calendar
from app.services.notices import raise_notice
from app.services.settings import get_settings
from app.supervision import NoticeCause
from app.workflow import Status
from models import Assignment, Case, Notification, RevisitTask

RUNNING = (AssignmentState.DISPATCHED.value, AssignmentState.SIGNED.value)
BATCH = 500


def _locked(session, query):
    """Yield the due rows batch by batch, locked (other sweeps skip them), until none is left."""
    entity = query.column_descriptions[0]["entity"]
    if entity is Assignment:
        query = query.options(joinedload(Assignment.case, innerjoin=True))
    while True:
        rows = session.execute(query.limit(BATCH).with_for_update(of=entity, skip_locked=True)
                               ).unique().scalars().all()
        yield from rows
        session.flush()  # the rows just handled no longer match: the next batch is new work
        if len(rows) < BATCH:
            return


def _params(case: Case, assignment: Assignment | None = None) -> dict:
    return {"number": case.number,
            "due": outbox.when(assignment.due_at if assignment else case.due_at),
            "sign_due": outbox.when(assignment.sign_due_at) if assignment else ""}


def _working_days_since(calendar, start: datetime, now: datetime) -> int:
    from app.clock import local_date

    return calendar.working_days_between(local_date(start), local_date(now))


def run_sweep(session, now: datetime) -> dict[str, int]:
    """Act on everything due at ``now``; return how many items each rule handled."""
    settings = get_settings(session)
    calendar = load_calendar(session)
    session.info.pop("staff_by_role", None)
    shared = {"settings": settings, "calendar": calendar}
    done = dict.fromkeys(["not_accepted", "unsigned", "due_soon", "overdue",
                          "still_overdue", "unrated"], 0)

    for case in _locked(session, select(Case).where(
            Case.status == Status.SUBMITTED.value, Case.accept_due_at < now,
            Case.accept_reminded_at.is_(None))):
        outbox.to_supervisors(session, key=f"not_accepted:{case.id}", template="not_accepted",
                              params={"number": case.number, "due": outbox.when(case.accept_due_at)},
                              now=now, case_id=case.id)
        case.accept_reminded_at = now
        done["not_accepted"] += 1

    for a in _locked(session, select(Assignment).where(
            Assignment.active.is_(True), Assignment.state == AssignmentState.DISPATCHED.value,
            Assignment.sign_due_at < now, Assignment.sign_reminded_at.is_(None))):
        raise_notice(session, cause=NoticeCause.UNSIGNED, subject=f"assignment:{a.id}",
                     department_id=a.department_id, cases=[a.case], now=now, load=False, **shared,
                     details=f"工单{a.case.number}已于{outbox.when(a.dispatched_at)}分办，"
                             f"未在{outbox.when(a.sign_due_at)}前签收。")
        a.sign_reminded_at = now
        done["unsigned"] += 1

    warn = timedelta(hours=settings["due_soon_hours"])
    for a in _locked(session, select(Assignment).where(
            Assignment.active.is_(True), Assignment.state.in_(RUNNING),
            Assignment.due_at >= now, Assignment.due_at < now + warn,
            Assignment.due_soon_notified_at.is_(None))):
        outbox.to_department(session, a.department_id, key=f"due_soon:{a.id}",
                             template="due_soon", params=_params(a.case, a), now=now,
                             case_id=a.case_id)
        a.due_soon_notified_at = now
        done["due_soon"] += 1

    for a in _locked(session, select(Assignment).where(
            Assignment.active.is_(True), Assignment.state.in_(RUNNING), Assignment.due_at < now,
            Assignment.overdue_reminded_at.is_(None))):
        raise_notice(session, cause=NoticeCause.OVERDUE, subject=f"assignment:{a.id}",
                     department_id=a.department_id, cases=[a.case], now=now, load=False, **shared,
                     details=f"工单{a.case.number}办理时限为{outbox.when(a.due_at)}，已逾期。")
        outbox.to_department(session, a.department_id, key=f"overdue:{a.id}",
                             template="overdue", params=_params(a.case, a), now=now,
                             case_id=a.case_id)
        a.overdue_reminded_at = now
        done["overdue"] += 1

    grace = settings["rectify_after_reminder_working_days"]
    for a in _locked(session, select(Assignment).where(
            Assignment.active.is_(True), Assignment.state.in_(RUNNING), Assignment.due_at < now,
            Assignment.overdue_reminded_at < now - timedelta(days=grace),
            Assignment.escalated_notice_at.is_(None))):
        if _working_days_since(calendar, a.overdue_reminded_at, now) < grace:
            continue
        raise_notice(session, cause=NoticeCause.OVERDUE_AFTER_REMINDER,
                     subject=f"assignment:{a.id}", department_id=a.department_id,
                     cases=[a.case], now=now, load=False, **shared,
                     details=f"工单{a.case.number}经提醒敦促后{grace}个工作日仍未办结。")
        a.escalated_notice_at = now
        done["still_overdue"] += 1

    wait = settings["revisit_after_working_days"]
    for case in _locked(session, select(Case).where(
            Case.status == Status.REPLIED.value, Case.replied_at < now - timedelta(days=wait),
            ~Case.id.in_(select(RevisitTask.case_id).where(RevisitTask.reason == "unrated")))):
        if _working_days_since(calendar, case.replied_at, now) < wait:
            continue
        add_revisit(session, case, reason="unrated", now=now)
        done["unrated"] += 1

    from app.services.rewards import sweep_unpaid

    done["unpaid_rewards"] = sweep_unpaid(session, now, **shared)
    session.flush()
    return done


def add_revisit(session, case: Case, *, reason: str, now: datetime) -> RevisitTask | None:
    """Create a revisit call task once per case and reason, and tell the supervisors."""
    if session.query(RevisitTask.id).filter_by(case_id=case.id, reason=reason).first():
        return None
    task = RevisitTask(case_id=case.id, reason=reason, created_at=now,
                       due_at=now + timedelta(days=2))
    session.add(task)
    outbox.to_supervisors(session, key=f"revisit:{reason}:{case.id}", template="revisit",
                          params={"number": case.number, "reason": reason}, now=now,
                          case_id=case.id)
    return task


def sample_closed_cases(session, *, week_start: datetime, now: datetime,
                        seed: int | None = None) -> int:
    """Sample at least the configured share of the cases closed in the week before
    ``week_start`` for a quality revisit; running it again adds nothing."""
    percent = get_settings(session)["sample_percent"]
    closed = session.execute(select(Case.id).where(
        Case.status == Status.CLOSED.value, Case.closed_at >= week_start - timedelta(days=7),
        Case.closed_at < week_start).order_by(Case.id)).scalars().all()
    if not closed:
        return 0
    target = math.ceil(len(closed) * percent / 100)
    sampled = set(session.execute(select(RevisitTask.case_id).where(
        RevisitTask.reason == "sample", RevisitTask.case_id.in_(closed))).scalars())
    missing = target - len(sampled)
    if missing <= 0:
        return 0
    rng = random.Random(seed if seed is not None else week_start.toordinal())
    chosen = rng.sample([c for c in closed if c not in sampled], missing)
    for case in session.query(Case).filter(Case.id.in_(chosen)):
        add_revisit(session, case, reason="sample", now=now)
    session.flush()
    return missing


def pending_notifications(session, now: datetime, limit: int = 1000) -> list[int]:
    """Ids of outbox messages waiting for (another) delivery attempt."""
    return session.execute(select(Notification.id).where(
        Notification.status == "pending", Notification.next_attempt_at <= now)
        .order_by(Notification.id).limit(limit)).scalars().all()
