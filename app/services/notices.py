"""Supervision notices: raised once per cause, numbered per year, acknowledged and answered by
the department, closed by the supervisor."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import false, or_, select, update
from sqlalchemy.sql.elements import True_

from app import deadlines as dl
from app import queue
from app.clock import LOCAL_TZ, local_date
from app.errors import IllegalMove, Invalid, NotAllowed, NotFound
from app.ids import as_id
from app.services import jurisdictions, notice_documents, visibility
from app.services import notifications as outbox
from app.services.actor import SYSTEM, Actor
from app.services.bulk import any_of, dialect_insert, insert_rows
from app.services.calendar import load_calendar
from app.services.notice_documents import Meeting
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
from models import Assignment, Case, Department, Jurisdiction, Notice, NoticeCounter
from models.supervision import notice_case


def _take_numbers(session, year: int, counts: dict[int, int]) -> dict[int, int]:
    """Take the next ``counts[office]`` numbers of each office's year and return the last one
    taken per office: one upsert for every office of the batch (the sweep issues notices for a
    hundred offices at once). The counter rows stay locked until commit, so numbers have no
    gaps and no duplicates even with concurrent sweeps; they are locked in office order, so
    two sweeps never deadlock."""
    insert = dialect_insert(session, NoticeCounter)
    upsert = insert.on_conflict_do_update(
        index_elements=["jurisdiction_id", "year"],
        set_={"last": NoticeCounter.last + insert.excluded.last},
    ).returning(NoticeCounter.jurisdiction_id, NoticeCounter.last)
    # The offices as parameter sets of one cached statement, sent as one multi-row INSERT in
    # office order (a VALUES clause built for each batch was compiled anew each time: 30 ms).
    rows = [{"jurisdiction_id": j, "year": year, "last": counts[j]} for j in sorted(counts)]
    return dict(session.execute(upsert, rows).all())


@dataclass(frozen=True)
class Draft:
    """A notice to raise: its cause and subject (together, its once-only key), the department
    it is addressed to, the text and the cases it concerns, and the office that issues it (its
    name, number series and calendar; None: the actor's own office, the root's for the system);
    an interview's arrangements; a reply deadline of its own (else the office's notice reply
    working days)."""

    cause: NoticeCause
    subject: str
    department_id: int
    details: str
    case_ids: tuple[int, ...] = ()
    jurisdiction_id: int | None = None
    meeting: Meeting | None = None
    reply_due_at: datetime | None = None


class Issued(NamedTuple):
    id: int
    cause_key: str
    number: str
    reply_due_at: datetime
    jurisdiction_id: int


def _issuers(session, drafts: Iterable[Draft], actor: Actor) -> dict[int, Jurisdiction]:
    """The issuing office of each draft's jurisdiction id (None resolved as the actor's)."""
    ids = {draft.jurisdiction_id or actor.jurisdiction_id for draft in drafts}
    found = {}
    if None in ids:
        ids.discard(None)
        root = jurisdictions.root(session)
        found[None] = root
    if ids:
        for row in session.execute(select(Jurisdiction).where(Jurisdiction.id.in_(ids))).scalars():
            found[row.id] = row
    missing = ids - set(found)
    if missing:
        raise Invalid(N_("Jurisdiction: choose an existing jurisdiction."))
    return found


def raise_notices(
    session,
    drafts: Iterable[Draft],
    *,
    now: datetime,
    actor: Actor = SYSTEM,
    settings=None,
    calendar=None,
    rules=None,
    announce: bool = True,
) -> list[Issued]:
    """Issue the notice of each draft whose cause has none yet; return the new notices. With
    ``announce`` the department is told of each (the sweep tells it in its own message).

    Each office numbers its own notices (石营商督〔2026〕1号, 长营商督〔2026〕1号) and gives the
    reply deadline by its own settings and calendar: those of ``rules`` (a
    ``levels_rules.RulesCache``, which the sweep keeps for its run), else ``settings`` and
    ``calendar`` when the caller has the issuing office's (drafts of one office only), else
    read here. A handful of statements whatever the number of drafts (the sweep
    raises hundreds at once). The cause key is unique, so a concurrent writer of the same cause
    makes the insert skip that row; the numbers are then closed up, so an office's year keeps
    no gap.

    Each notice is frozen as it is issued: its document (notice_documents, the Chinese text
    with the names, contact, 抄送 and seal of this moment) goes into the same INSERT, and its
    PDF is rendered from that document by a job once the transaction commits (without a
    queue, at its first download)."""
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
    issuers = _issuers(session, [draft for _, draft in fresh], actor)
    office_of = {key: issuers[draft.jurisdiction_id or actor.jurisdiction_id] for key, draft in fresh}
    fresh, moved = _never_to_itself(session, fresh, office_of)
    if not fresh:
        return []
    if moved:  # an office above issues some: the caller's calendar and settings are not its own
        calendar = settings = None
    offices = sorted({office.id: office for office in office_of.values()}.values(), key=lambda j: j.id)
    if (calendar is not None or settings is not None) and len(offices) > 1:
        raise ValueError("One office's calendar or settings were given for the notices of several offices.")
    today = local_date(now)
    table = Notice.__table__  # Core: the batch goes out in one multi-row INSERT
    rows, first_of, due_of = [], {}, {}
    own_of: dict[int, list] = {}
    for key, draft in fresh:
        own_of.setdefault(office_of[key].id, []).append((key, draft))
    last_of = _take_numbers(session, today.year, {office: len(own) for office, own in own_of.items()})
    facts = notice_documents.Facts(session, [draft for _, draft in fresh])
    for office in offices:
        own = own_of.get(office.id, [])
        first = last_of[office.id] - len(own) + 1
        if rules is not None:
            office_settings, office_calendar = rules.settings(office.id), rules.calendar(office.id)
        else:
            office_settings = settings or get_settings(session, office)
            office_calendar = calendar or load_calendar(session, office)
        reply_due_at = dl.working_day_deadline(
            office_calendar, now, office_settings["notice_reply_working_days"]
        ).due_at
        first_of[office.id], due_of[office.id] = first, reply_due_at
        for i, (key, draft) in enumerate(own):
            number = notice_number(office.doc_prefix, today.year, first + i)
            meeting = draft.meeting
            rows.append(
                {
                    "kind": KIND_OF_CAUSE[draft.cause],
                    "cause": draft.cause,
                    "cause_key": key,
                    "year": today.year,
                    "sequence": first + i,
                    "number": number,
                    "issued_on": today,
                    "issued_at": now,
                    "issued_by_id": actor.id,
                    "jurisdiction_id": office.id,
                    "department_id": draft.department_id,
                    "details": draft.details,
                    "reply_due_at": draft.reply_due_at or reply_due_at,
                    "state": NoticeState.ISSUED,
                    "meeting_at": meeting.at if meeting else None,
                    "meeting_place": meeting.place if meeting else None,
                    "attendees": meeting.attendees if meeting else None,
                    "materials": "\n".join(meeting.materials) if meeting else None,
                    "document": notice_documents.document_for(
                        facts,
                        draft,
                        office=office,
                        number=number,
                        now=now,
                        reply_due_at=draft.reply_due_at or reply_due_at,
                        calendar=office_calendar,
                        settings=office_settings,
                        meeting=meeting,
                    ),
                }
            )
    inserted = insert_rows(
        session,
        table,
        rows,
        skip_conflicts_on="cause_key",
        returning=[table.c.id, table.c.cause_key, table.c.sequence, table.c.jurisdiction_id],
    ).all()
    inserted.sort(key=lambda row: (row.jurisdiction_id, row.sequence))
    sequences = {row.id: row.sequence for row in inserted}
    if len(inserted) < len(fresh):  # lost a race for some causes: close up the numbers
        documents = {row["cause_key"]: row["document"] for row in rows}
        for office in offices:
            own = [row for row in inserted if row.jurisdiction_id == office.id]
            sequences.update(_close_up(session, office, today.year, first_of[office.id], own, documents))
    if inserted and queue.enabled():
        ids = [row.id for row in inserted]
        queue.enqueue_after_commit(session, "render_notices", ids, job_id=f"notices-{ids[0]}-{len(ids)}")
    prefixes = {office.id: office.doc_prefix for office in offices}
    due_by_key = {row["cause_key"]: row["reply_due_at"] for row in rows}
    drafts_by_key = dict(fresh)
    links = [
        {"notice_id": row.id, "case_id": case_id}
        for row in inserted
        for case_id in drafts_by_key[row.cause_key].case_ids
    ]
    if links:
        insert_rows(session, notice_case, links)
    issued = [
        Issued(
            row.id,
            row.cause_key,
            notice_number(prefixes[row.jurisdiction_id], today.year, sequences[row.id]),
            due_by_key[row.cause_key],
            row.jurisdiction_id,
        )
        for row in inserted
    ]
    if not announce:
        return issued
    with outbox.buffered(session):
        for notice in issued:
            draft = drafts_by_key[notice.cause_key]
            kind = KIND_OF_CAUSE[draft.cause]
            outbox.to_department(
                session,
                draft.department_id,
                key=f"notice:{notice.id}",
                template="notice_issued",
                now=now,
                params={
                    "kind": NOTICE_LABELS[kind],
                    "notice": notice.number,
                    "reply_due": outbox.when(notice.reply_due_at),
                },
            )
    return issued


def is_own_bureau(office: Jurisdiction, department_name: str | None) -> bool:
    """Whether a department is the office itself (its 营商环境 bureau, named as the office's
    issuing authority or office name): an office never addresses a notice to itself."""
    return bool(department_name) and department_name in {office.authority, office.office_name}


def _never_to_itself(session, fresh, office_of):
    """Drafts addressed to the issuing office's own bureau are issued by the office above it
    (supervision of the supervisor comes from above); at the top nobody issues them (the
    overdue alerts still go out). Returns the drafts kept and whether any changed office."""
    names = dict(
        session.execute(
            select(Department.id, Department.name).where(
                any_of(session, Department.id, list({draft.department_id for _, draft in fresh}))
            )
        ).all()
    )
    kept, moved = [], False
    for key, draft in fresh:
        office = office_of[key]
        while office is not None and is_own_bureau(office, names.get(draft.department_id)):
            office, moved = office.parent, True
        if office is None:
            del office_of[key]
            continue
        office_of[key] = office
        kept.append((key, draft))
    return kept, moved


def _close_up(session, office: Jurisdiction, year: int, first: int, inserted, documents) -> dict[int, int]:
    """Renumber an office's notices just inserted first, first + 1, ... (their documents too)
    and give the unused numbers back (the counter row is still locked by this transaction, so
    nobody took them)."""
    sequences = {}
    for offset, row in enumerate(inserted):  # ascending: each moves down into a free number
        sequence = first + offset
        if sequence != row.sequence:
            number = notice_number(office.doc_prefix, year, sequence)
            session.execute(
                update(Notice)
                .where(Notice.id == row.id)
                .values(
                    sequence=sequence, number=number, document={**documents[row.cause_key], "number": number}
                )
            )
        sequences[row.id] = sequence
    session.execute(
        update(NoticeCounter)
        .where(NoticeCounter.jurisdiction_id == office.id, NoticeCounter.year == year)
        .values(last=first + len(inserted) - 1)
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
    rules=None,
    load: bool = True,
    jurisdiction_id: int | None = None,
) -> Notice | None:
    """Issue the notice for one cause once; return None if that cause already has its notice.

    The issuing office is ``jurisdiction_id``, else a person's own office; a notice a rule
    raises (the system actor) is issued by the office of the case it concerns."""
    if jurisdiction_id is None and actor.id is None and cases:
        jurisdiction_id = cases[0].jurisdiction_id
    issued = raise_notices(
        session,
        [Draft(cause, subject, department_id, details, tuple(c.id for c in cases), jurisdiction_id)],
        now=now,
        actor=actor,
        settings=settings,
        calendar=calendar,
        rules=rules,
    )
    if not issued:
        return None
    return session.get(Notice, issued[0].id) if load else None


#: Office roles that read the notices of their scope (the others read their department's).
NOTICE_READERS = frozenset({Role.SUPERVISOR, Role.LEADER, Role.ADMIN})


def visible_notices_clause(actor: Actor):
    """A WHERE clause keeping the notices ``actor`` may see: an office (supervisor, leader,
    administrator) those issued by an office of its scope or addressed to a department of it
    (a city sees the province's notice to one of its counties' departments); anyone else those
    addressed to their own department."""
    if actor.roles & NOTICE_READERS:
        issued_in_scope = jurisdictions.scope_clause(Notice.jurisdiction_id, actor)
        if isinstance(issued_in_scope, True_):  # the root's office: every notice
            return issued_in_scope
        departments = select(Department.id).where(
            jurisdictions.scope_clause(Department.jurisdiction_id, actor)
        )
        return or_(issued_in_scope, Notice.department_id.in_(departments))
    if actor.department_id is None:
        return false()
    return Notice.department_id == actor.department_id


def notice_for(session, notice_id: int, actor: Actor) -> Notice:
    notice_id = as_id(notice_id)
    notice = (
        session.execute(select(Notice).where(Notice.id == notice_id, visible_notices_clause(actor))).scalar()
        if notice_id is not None
        else None
    )
    if notice is None:
        raise NotFound(N_("Notice not found."))
    return notice


def issuer_of(session, notice: Notice) -> Jurisdiction:
    """The office that issued a notice."""
    return notice.jurisdiction or jurisdictions.get(session, notice.jurisdiction_id)


def is_issued_in_scope(session, notice: Notice, actor: Actor) -> bool:
    """Whether the notice was issued by the actor's office or by one under it (that office
    closes it; an office that only sees it, as addressed to a department of its scope, does not)."""
    return jurisdictions.is_within(issuer_of(session, notice), actor.jurisdiction_path)


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
    if not is_issued_in_scope(session, notice, actor):
        raise NotAllowed(N_("Only the office that issued the notice (or one above it) closes it."))
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
        .filter(Notice.kind == NoticeKind.RECTIFICATION.value, visible_notices_clause(actor))
        .order_by(Notice.department_id, Notice.id)
        .all()
    )
    departments = interview_departments(session, actor)
    rows = [notice for notice in rows if notice.department_id in departments]
    found: dict[int, tuple[Department, list[Case]]] = {}
    for notice in rows:
        open_cases = [c for c in named_cases(session, notice, actor) if c.status in OPEN_STATUSES]
        if open_cases:
            department, cases = found.setdefault(notice.department_id, (notice.department, []))
            cases.extend(c for c in open_cases if c not in cases)
    return list(found.values())


def interview_departments(session, actor: Actor) -> dict[int, Department]:
    """The departments an office may summon to an interview: those of its jurisdiction and of
    the jurisdictions under it."""
    rows = session.execute(
        select(Department)
        .where(jurisdictions.scope_clause(Department.jurisdiction_id, actor))
        .order_by(Department.code)
    ).scalars()
    office = jurisdictions.get(session, actor.jurisdiction_id)
    return {department.id: department for department in rows if not is_own_bureau(office, department.name)}


def parse_meeting_at(text, *, now: datetime) -> datetime:
    """The meeting time typed on the form (local time, ``2026-08-06T09:30`` or ``2026-08-06 09:30``)
    as naive UTC; it must lie in the future."""
    text = (text or "").strip().replace("T", " ")
    try:
        local = datetime.strptime(text, "%Y-%m-%d %H:%M")
    except ValueError:
        raise Invalid(N_("Meeting time: give a date and time, e.g. 2026-08-06 09:30.")) from None
    try:
        moment = local.replace(tzinfo=LOCAL_TZ).astimezone(UTC).replace(tzinfo=None)
    except (OverflowError, ValueError):  # year 1 less eight hours: before the first date
        raise Invalid(N_("Meeting time: choose a time in the future.")) from None
    if moment <= now:
        raise Invalid(N_("Meeting time: choose a time in the future."))
    if moment > now + MEETING_WITHIN:
        raise Invalid(N_("Meeting time: choose a time within the coming year."))
    return moment


#: How far ahead an interview may be set.
MEETING_WITHIN = timedelta(days=366)


def _typed(value, msgid: str, limit: int) -> str:
    value = (value or "").strip()
    if not value:
        raise Invalid(msgid)
    if len(value) > limit:
        raise Invalid(N_("A text is too long (at most %(limit)s characters)."), limit=limit)
    return value


def issue_interview(
    session,
    *,
    actor: Actor,
    now: datetime,
    department_id,
    case_ids,
    details,
    meeting_at=None,
    place=None,
    attendees=None,
    materials=None,
) -> Notice:
    """The supervisor issues an interview notice (约谈通知书) to a department: the reasons, the
    cases it names, when (local time, in the future) and where the interview is held, who
    attends and what they bring (one material per line)."""
    if Role.SUPERVISOR not in actor.roles:
        raise NotAllowed(N_("Only the supervisor's office issues an interview notice."))
    details = _typed(details, N_("State the reasons for the interview."), 10000)
    department_id = as_id(department_id)
    department = session.get(Department, department_id) if department_id is not None else None
    ids = [i for i in map(as_id, case_ids or []) if i is not None]
    if department is None or department.id not in interview_departments(session, actor):
        raise Invalid(N_("Choose the department."))
    # The cases it names are the department's own (it was sent them): the issued document is
    # served whole to the department, so it never names a case the department may not see.
    cases = (
        session.query(Case)
        .filter(Case.id.in_(ids), visibility.visible_cases_clause(actor))
        .order_by(Case.id)
        .all()
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
    sent = set(
        session.execute(
            select(Assignment.case_id).where(
                Assignment.department_id == department.id, Assignment.case_id.in_([c.id for c in cases])
            )
        ).scalars()
    )
    if any(case.id not in sent for case in cases):
        raise Invalid(N_("Choose cases among those listed: cases the department was sent."))
    moment = parse_meeting_at(meeting_at, now=now)
    place = _typed(place, N_("Give the place of the interview."), 200)
    attendees = _typed(attendees, N_("Say who must attend the interview."), 1000)
    materials = tuple(notice_documents.lines(materials))
    if sum(len(m) for m in materials) > 5000:
        raise Invalid(N_("A text is too long (at most %(limit)s characters)."), limit=5000)
    # One interview of a department at one time: a second submit of the same form (a double
    # click, a replay) finds the notice the first one issued instead of a second number.
    subject = f"department:{department.id}:{moment.isoformat()}"
    issued = raise_notices(
        session,
        [
            Draft(
                NoticeCause.SUPERVISOR_DECISION,
                subject,
                department.id,
                details,
                tuple(c.id for c in cases),
                meeting=Meeting(moment, place, attendees, materials),
            )
        ],
        now=now,
        actor=actor,
    )
    if issued:
        return session.get(Notice, issued[0].id)
    return session.execute(
        select(Notice).where(Notice.cause_key == cause_key(NoticeCause.SUPERVISOR_DECISION, subject))
    ).scalar_one()
