"""Supervision notices: raised once per cause, numbered per year, acknowledged and answered by
the department, closed by the supervisor."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError

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


def _next_number(session, year: int) -> int:
    """Take the next number of the year (the counter row is locked until commit)."""
    counter = session.query(NoticeCounter).filter_by(year=year).with_for_update().one_or_none()
    if counter is None:
        try:
            with session.begin_nested():
                session.add(NoticeCounter(year=year, last=0))
        except IntegrityError:
            pass
        counter = session.query(NoticeCounter).filter_by(year=year).with_for_update().one()
    counter.last += 1
    return counter.last


def raise_notice(session, *, cause: NoticeCause, subject: str, department_id: int,
                 cases: list[Case], details: str, now: datetime,
                 actor: Actor = SYSTEM) -> Notice | None:
    """Issue the notice for a cause once; return None if that cause already has its notice."""
    key = cause_key(cause, subject)
    if session.query(Notice.id).filter_by(cause_key=key).first() is not None:
        return None
    settings = get_settings(session)
    kind = KIND_OF_CAUSE[cause]
    today = local_date(now)
    try:
        with session.begin_nested():  # a concurrent sweep may win the same cause: skip it then
            notice = Notice(
                kind=kind, cause=cause, cause_key=key, year=today.year,
                sequence=_next_number(session, today.year), issued_on=today, issued_at=now,
                issued_by_id=actor.id, department_id=department_id, details=details,
                reply_due_at=dl.working_day_deadline(load_calendar(session), now,
                                                     settings["notice_reply_working_days"]).due_at,
                state=NoticeState.ISSUED)
            notice.number = notice_number(notice.year, notice.sequence)
            notice.cases = list(cases)
            session.add(notice)
            session.flush()
    except IntegrityError:
        return None
    outbox.to_department(session, department_id, key=f"notice:{notice.id}",
                         template="notice_issued", now=now,
                         params={"kind": NOTICE_LABELS[kind], "notice": notice.number,
                                 "reply_due": outbox.when(notice.reply_due_at)})
    return notice


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
