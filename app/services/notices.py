"""Supervision notices: raised once per cause, numbered per year, acknowledged and answered by
the department, closed by the supervisor."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import select, update

from app import deadlines as dl
from app.clock import local_date
from app.errors import IllegalMove, Invalid, NotAllowed, NotFound
from app.ids import as_id
from app.services import notifications as outbox
from app.services import visibility
from app.services.actor import SYSTEM, Actor
from app.services.bulk import any_of, dialect_insert, insert_rows
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


def _take_numbers(session, year: int, count: int) -> int:
    """Take the next ``count`` numbers of the year and return the last one. The counter row
    stays locked until commit, so numbers have no gaps and no duplicates even with concurrent
    sweeps."""
    bump = (
        update(NoticeCounter)
        .where(NoticeCounter.year == year)
        .values(last=NoticeCounter.last + count)
        .returning(NoticeCounter.last)
    )
    number = session.execute(bump).scalar()
    if number is None:
        session.execute(
            dialect_insert(session, NoticeCounter)
            .values(year=year, last=0)
            .on_conflict_do_nothing(index_elements=["year"])
        )
        number = session.execute(bump).scalar()
    return number


@dataclass(frozen=True)
class Draft:
    """A notice to raise: its cause and subject (together, its once-only key), the department
    it is addressed to, the text and the cases it concerns."""

    cause: NoticeCause
    subject: str
    department_id: int
    details: str
    case_ids: tuple[int, ...] = ()


class Issued(NamedTuple):
    id: int
    cause_key: str
    number: str
    reply_due_at: datetime


def raise_notices(
    session,
    drafts: Iterable[Draft],
    *,
    now: datetime,
    actor: Actor = SYSTEM,
    settings=None,
    calendar=None,
    announce: bool = True,
) -> list[Issued]:
    """Issue the notice of each draft whose cause has none yet; return the new notices. With
    ``announce`` the department is told of each (the sweep tells it in its own message).

    A handful of statements whatever the number of drafts (the sweep raises hundreds at once).
    The cause key is unique, so a concurrent writer of the same cause makes the insert skip that
    row; the numbers are then closed up, so the year's numbering keeps no gap."""
    by_key: dict[str, Draft] = {}
    for draft in drafts:
        by_key.setdefault(cause_key(draft.cause, draft.subject), draft)
    with session.no_autoflush:
        taken = (
            set(
                session.execute(
                    select(Notice.cause_key).where(any_of(session, Notice.cause_key, list(by_key)))
                ).scalars()
            )
            if by_key
            else set()
        )
    fresh = [(key, draft) for key, draft in by_key.items() if key not in taken]
    if not fresh:
        return []
    settings = settings or get_settings(session)
    calendar = calendar or load_calendar(session)
    today = local_date(now)
    first = _take_numbers(session, today.year, len(fresh)) - len(fresh) + 1
    reply_due_at = dl.working_day_deadline(calendar, now, settings["notice_reply_working_days"]).due_at
    table = Notice.__table__  # Core: the batch goes out in one multi-row INSERT
    rows = [
        {
            "kind": KIND_OF_CAUSE[draft.cause],
            "cause": draft.cause,
            "cause_key": key,
            "year": today.year,
            "sequence": first + i,
            "number": notice_number(today.year, first + i),
            "issued_on": today,
            "issued_at": now,
            "issued_by_id": actor.id,
            "department_id": draft.department_id,
            "details": draft.details,
            "reply_due_at": reply_due_at,
            "state": NoticeState.ISSUED,
        }
        for i, (key, draft) in enumerate(fresh)
    ]
    inserted = insert_rows(
        session,
        table,
        rows,
        skip_conflicts_on="cause_key",
        returning=[table.c.id, table.c.cause_key, table.c.sequence],
    ).all()
    inserted.sort(key=lambda row: row.sequence)
    sequences = {row.id: row.sequence for row in inserted}
    if len(inserted) < len(fresh):  # lost a race for some causes: close up the numbers
        sequences = _close_up(session, today.year, first, inserted)
    drafts_by_key = dict(fresh)
    links = [
        {"notice_id": row.id, "case_id": case_id}
        for row in inserted
        for case_id in drafts_by_key[row.cause_key].case_ids
    ]
    if links:
        insert_rows(session, notice_case, links)
    issued = [
        Issued(row.id, row.cause_key, notice_number(today.year, sequences[row.id]), reply_due_at)
        for row in inserted
    ]
    if not announce:
        return issued
    with outbox.buffered(session):
        for row in inserted:
            draft = drafts_by_key[row.cause_key]
            kind = KIND_OF_CAUSE[draft.cause]
            outbox.to_department(
                session,
                draft.department_id,
                key=f"notice:{row.id}",
                template="notice_issued",
                now=now,
                params={
                    "kind": NOTICE_LABELS[kind],
                    "notice": notice_number(today.year, sequences[row.id]),
                    "reply_due": outbox.when(reply_due_at),
                },
            )
    return issued


def _close_up(session, year: int, first: int, inserted) -> dict[int, int]:
    """Renumber the notices just inserted first, first + 1, ... and give the unused numbers
    back (the counter row is still locked by this transaction, so nobody took them)."""
    sequences = {}
    for offset, row in enumerate(inserted):  # ascending: each moves down into a free number
        sequence = first + offset
        if sequence != row.sequence:
            session.execute(
                update(Notice)
                .where(Notice.id == row.id)
                .values(sequence=sequence, number=notice_number(year, sequence))
            )
        sequences[row.id] = sequence
    session.execute(
        update(NoticeCounter).where(NoticeCounter.year == year).values(last=first + len(inserted) - 1)
    )
    return sequences


def raise_notice(
    session,
    *,
    cause: NoticeCause,
    subject: str,
    department_id: int,
    cases: list[Case],
    details: str,
    now: datetime,
    actor: Actor = SYSTEM,
    settings=None,
    calendar=None,
    load: bool = True,
) -> Notice | None:
    """Issue the notice for one cause once; return None if that cause already has its notice."""
    issued = raise_notices(
        session,
        [Draft(cause, subject, department_id, details, tuple(c.id for c in cases))],
        now=now,
        actor=actor,
        settings=settings,
        calendar=calendar,
    )
    if not issued:
        return None
    return session.get(Notice, issued[0].id) if load else None


def notice_for(session, notice_id: int, actor: Actor) -> Notice:
    notice_id = as_id(notice_id)
    notice = session.get(Notice, notice_id) if notice_id is not None else None
    if notice is None:
        raise NotFound(N_("Notice not found."))
    if not (actor.roles & {Role.SUPERVISOR, Role.LEADER, Role.ADMIN}) and (
        notice.department_id != actor.department_id
    ):
        raise NotFound(N_("Notice not found."))
    return notice


def acknowledge_notice(session, notice_id: int, *, actor: Actor, now: datetime) -> Notice:
    """The department confirms it received the notice."""
    notice = notice_for(session, notice_id, actor)
    if Role.HANDLER not in actor.roles or notice.department_id != actor.department_id:
        raise NotAllowed(N_("Only the department the notice is addressed to acknowledges it."))
    if notice.state != NoticeState.ISSUED:
        raise IllegalMove(N_("This notice has already been acknowledged."))
    notice.state, notice.acknowledged_at = NoticeState.ACKNOWLEDGED, now
    session.flush()
    return notice


def answer_notice(session, notice_id: int, *, actor: Actor, now: datetime, answer) -> Notice:
    """The department reports what it has done about the notice."""
    notice = notice_for(session, notice_id, actor)
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
    notice = notice_for(session, notice_id, actor)
    if Role.SUPERVISOR not in actor.roles:
        raise NotAllowed(N_("Only the supervisor's office closes a notice."))
    if notice.state != NoticeState.ANSWERED:
        raise IllegalMove(N_("A notice is closed once the department has answered it."))
    notice.state, notice.closed_at, notice.closing_note = NoticeState.CLOSED, now, note
    session.flush()
    return notice


def named_cases(session, notice: Notice, actor: Actor) -> list[Case]:
    """The cases a notice names, as its page and its PDF show them: never a case about the
    department it is addressed to (or one above it), nor one the reader may not see."""
    readable = visibility.visible(session, notice.cases, actor)
    return visibility.reaching(session, readable, [notice.department_id])


def interview_candidates(session, actor: Actor) -> list[tuple[Department, list[Case]]]:
    """Departments that qualify for an interview: a rectification notice on a case that is
    still open, per department (the supervisor decides)."""
    rows = (
        session.query(Notice)
        .filter(Notice.kind == NoticeKind.RECTIFICATION.value)
        .order_by(Notice.department_id, Notice.id)
        .all()
    )
    found: dict[int, tuple[Department, list[Case]]] = {}
    for notice in rows:
        open_cases = [c for c in named_cases(session, notice, actor) if c.status in OPEN_STATUSES]
        if open_cases:
            department, cases = found.setdefault(notice.department_id, (notice.department, []))
            cases.extend(c for c in open_cases if c not in cases)
    return list(found.values())


def issue_interview(session, *, actor: Actor, now: datetime, department_id, case_ids, details) -> Notice:
    """The supervisor issues an interview notice (约谈通知书) to a department."""
    if Role.SUPERVISOR not in actor.roles:
        raise NotAllowed(N_("Only the supervisor's office issues an interview notice."))
    details = (details or "").strip()
    if not details:
        raise Invalid(N_("State the reasons for the interview."))
    department_id = as_id(department_id)
    department = session.get(Department, department_id) if department_id is not None else None
    ids = [i for i in map(as_id, case_ids or []) if i is not None]
    if department is None:
        raise Invalid(N_("Choose the department."))
    cases = (
        session.query(Case).filter(Case.id.in_(ids), visibility.visible_cases_clause(actor)).all()
        if ids
        else []
    )
    if len(cases) < len(set(ids)):
        raise Invalid(N_("Choose cases among those listed."))
    if visibility.reaching(session, cases, [department.id]) != cases:
        raise Invalid(
            N_(
                "An interview notice never names a case about the department it is addressed to "
                "(or about one above it): remove that case."
            )
        )
    notice = raise_notice(
        session,
        cause=NoticeCause.SUPERVISOR_DECISION,
        subject=f"department:{department.id}:{now.isoformat()}",
        department_id=department.id,
        cases=cases,
        details=details,
        now=now,
        actor=actor,
    )
    return notice
