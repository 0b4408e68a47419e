"""Supervision notices: raised once per cause, numbered per year, acknowledged and answered by
the department, closed by the supervisor."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from app import deadlines as dl
from app.clock import local_date
from app.errors import IllegalMove, Invalid, NotAllowed, NotFound
from app.services import notifications as outbox
from app.services.actor import SYSTEM, Actor
from app.services.calendar import load_calendar
from app.services.settings import get_settings
from app.supervision import (
    KIND_OF_CAUSE,
    NOTICE_LABELS,
    NoticeCause,
    NoticeKind,
    NoticeState,
    cause_key,
    notice_number,
)
from app.workflow import N_, OPEN_STATUSES, Role
from models import Case, Department, Notice, NoticeCounter
from models.supervision import notice_case


def _dialect_insert(session, table):
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def _next_number(session, year: int) -> int:
    """Take the next number of the year; the counter row stays locked until commit, so numbers
    have no gaps and no duplicates even with concurrent sweeps."""
    bump = (update(NoticeCounter).where(NoticeCounter.year == year)
            .values(last=NoticeCounter.last + 1).returning(NoticeCounter.last))
    number = session.execute(bump).scalar()
    if number is None:
        session.execute(_dialect_insert(session, NoticeCounter).values(year=year, last=0)
                        .on_conflict_do_nothing(index_elements=["year"]))
        number = session.execute(bump).scalar()
    return number


def raise_notice(session, *, cause: NoticeCause, subject: str, department_id: int,
                 cases: list[Case], details: str, now: datetime,
                 actor: Actor = SYSTEM, settings=None, calendar=None,
                 load: bool = True) -> Notice | None:
    """Issue the notice for a cause once; return None if that cause already has its notice.

    A few plain statements (the sweep raises many): the cause key is unique, so a concurrent
    writer of the same cause simply inserts nothing, and its number is given back."""
    key = cause_key(cause, subject)
    with session.no_autoflush:
        if session.execute(select(Notice.id).where(Notice.cause_key == key)).first():
            return None
    settings = settings or get_settings(session)
    calendar = calendar or load_calendar(session)
    kind = KIND_OF_CAUSE[cause]
    today = local_date(now)
    sequence = _next_number(session, today.year)
    reply_due_at = dl.working_day_deadline(calendar, now,
                                           settings["notice_reply_working_days"]).due_at
    notice_id = session.execute(
        _dialect_insert(session, Notice).values(
            kind=kind, cause=cause, cause_key=key, year=today.year, sequence=sequence,
            number=notice_number(today.year, sequence), issued_on=today, issued_at=now,
            issued_by_id=actor.id, department_id=department_id, details=details,
            reply_due_at=reply_due_at, state=NoticeState.ISSUED)
        .on_conflict_do_nothing(index_elements=["cause_key"]).returning(Notice.id)).scalar()
    if notice_id is None:  # lost a race for the same cause: give the number back
        session.execute(update(NoticeCounter).where(NoticeCounter.year == today.year)
                        .values(last=NoticeCounter.last - 1))
        return None
    if cases:
        session.execute(notice_case.insert(), [{"notice_id": notice_id, "case_id": c.id}
                                               for c in cases])
    outbox.to_department(session, department_id, key=f"notice:{notice_id}",
                         template="notice_issued", now=now,
                         params={"kind": NOTICE_LABELS[kind],
                                 "notice": notice_number(today.year, sequence),
                                 "reply_due": outbox.when(reply_due_at)})
    return session.get(Notice, notice_id) if load else None


def _notice_for(session, notice_id: int, actor: Actor) -> Notice:
    notice = session.get(Notice, notice_id)
    if notice is None:
        raise NotFound(N_("Notice not found."))
    if not (actor.roles & {Role.SUPERVISOR, Role.LEADER, Role.ADMIN}) and (
            notice.department_id != actor.department_id):
        raise NotFound(N_("Notice not found."))
    return notice


def acknowledge_notice(session, notice_id: int, *, actor: Actor, now: datetime) -> Notice:
    """The department confirms it received the notice."""
    notice = _notice_for(session, notice_id, actor)
    if Role.HANDLER not in actor.roles or notice.department_id != actor.department_id:
        raise NotAllowed(N_("Only the department the notice is addressed to acknowledges it."))
    if notice.state != NoticeState.ISSUED:
        raise IllegalMove(N_("This notice has already been acknowledged."))
    notice.state, notice.acknowledged_at = NoticeState.ACKNOWLEDGED, now
    session.flush()
    return notice


def answer_notice(session, notice_id: int, *, actor: Actor, now: datetime, answer) -> Notice:
    """The department reports what it has done about the notice."""
    notice = _notice_for(session, notice_id, actor)
    if Role.HANDLER not in actor.roles or notice.department_id != actor.department_id:
        raise NotAllowed(N_("Only the department the notice is addressed to answers it."))
    if notice.state not in (NoticeState.ISSUED, NoticeState.ACKNOWLEDGED):
        raise IllegalMove(N_("This notice can no longer be answered."))
    answer = (answer or "").strip()
    if not answer:
        raise Invalid(N_("Write what the department has done."))
    notice.acknowledged_at = notice.acknowledged_at or now
    notice.state, notice.answer, notice.answered_at = NoticeState.ANSWERED, answer[:10000], now
    session.flush()
    return notice


def close_notice(session, notice_id: int, *, actor: Actor, now: datetime, note=None) -> Notice:
    """The supervisor closes an answered notice."""
    notice = _notice_for(session, notice_id, actor)
    if Role.SUPERVISOR not in actor.roles:
        raise NotAllowed(N_("Only the supervisor's office closes a notice."))
    if notice.state != NoticeState.ANSWERED:
        raise IllegalMove(N_("A notice is closed once the department has answered it."))
    notice.state, notice.closed_at, notice.closing_note = NoticeState.CLOSED, now, note
    session.flush()
    return notice


def interview_candidates(session) -> list[tuple[Department, list[Case]]]:
    """Departments that qualify for an interview: a rectification notice on a case that is
    still open, per department (the supervisor decides)."""
    rows = (session.query(Notice).filter(Notice.kind == NoticeKind.RECTIFICATION.value)
            .order_by(Notice.department_id, Notice.id).all())
    found: dict[int, tuple[Department, list[Case]]] = {}
    for notice in rows:
        open_cases = [c for c in notice.cases if c.status in OPEN_STATUSES]
        if open_cases:
            department, cases = found.setdefault(notice.department_id, (notice.department, []))
            cases.extend(c for c in open_cases if c not in cases)
    return list(found.values())


def issue_interview(session, *, actor: Actor, now: datetime, department_id, case_ids,
                    details) -> Notice:
    """The supervisor issues an interview notice (约谈通知书) to a department."""
    if Role.SUPERVISOR not in actor.roles:
        raise NotAllowed(N_("Only the supervisor's office issues an interview notice."))
    details = (details or "").strip()
    if not details:
        raise Invalid(N_("State the reasons for the interview."))
    try:
        department = session.get(Department, int(department_id))
        ids = [int(i) for i in case_ids or []]
    except (TypeError, ValueError):
        department, ids = None, []
    if department is None:
        raise Invalid(N_("Choose the department."))
    cases = session.query(Case).filter(Case.id.in_(ids)).all() if ids else []
    notice = raise_notice(session, cause=NoticeCause.SUPERVISOR_DECISION,
                          subject=f"department:{department.id}:{now.isoformat()}",
                          department_id=department.id, cases=cases, details=details, now=now,
                          actor=actor)
    return notice
