"""Verification (核查) and rectification (整改), seed 000: 受理-核查-整改-反馈-公示.

A complaint or report gets a recorded finding (属实/部分属实/不属实/无法核实) with the facts and
evidence; the reporter is told the initial result. A founded finding opens a rectification:
the department plans it (measures, responsible person, working-day deadline), reports it done
with evidence, and the supervisor's office re-checks (复核): accepts or sends it back. A case
does not close while its rectification is open (Guard.NO_OPEN_RECTIFICATION).

What the reporter hears is neutral: the initial result the verifier writes for them, that the
problem is being rectified, and once the office accepts it, that the rectification was
completed. The facts, the measures, the people and the re-check notes stay internal.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from app import deadlines as dl
from app.enums import FOUNDED, FindingResult, RectificationState
from app.errors import IllegalMove, Invalid
from app.services import cases as core
from app.services import notifications as outbox
from app.services.actor import Actor
from app.services.calendar import load_calendar
from app.services.settings import get_settings
from app.workflow import N_, Action, Status
from models import Case, Finding, Rectification

MAX_RESPONSIBLE = 100  # Rectification.responsible

# Attachment.purpose of staff evidence (ref_id: the Finding's or the Rectification's id).
FINDING_EVIDENCE = "finding"
RECTIFICATION_EVIDENCE = "rectification"

# What the reporter's timeline says (fixed msgids, translated when shown).
PLANNED_TEXT = N_("The problem found is being rectified.")
RECTIFIED_TEXT = N_("The rectification has been completed and re-checked.")


# --- helpers ---------------------------------------------------------------------------------


def _working_days(session, value, field: str, *, required: bool = True, jurisdiction=None) -> int:
    """A number of working days between 1 and the setting max_rectification_working_days
    (of the case's jurisdiction)."""
    limit = get_settings(session, jurisdiction)["max_rectification_working_days"]
    if value in (None, "") and not required:
        return 0
    try:
        days = int(str(value).strip())
    except ValueError:
        days = 0
    if not 1 <= days <= limit:
        raise Invalid(
            N_("%(field)s must be between 1 and %(limit)s working days."),
            field=core._label(field),
            limit=limit,
        )
    return days


def _check_files(files) -> list[tuple[str, bytes]]:
    """Refuse unacceptable evidence before anything is saved (as the filing does)."""
    from app.services import reporting  # reporting builds on cases, which imports this module

    files = () if files is None else files
    if not isinstance(files, list | tuple):
        raise Invalid(N_("Attach the evidence as files."))
    files = list(files)
    if not all(
        isinstance(f, list | tuple) and len(f) == 2 and isinstance(f[0], str) and isinstance(f[1], bytes)
        for f in files
    ):  # e.g. text sent through the API instead of uploaded files
        raise Invalid(N_("Attach the evidence as files."))
    if files:
        reporting.check_files(files)
    return [(name, data) for name, data in files]


def _attach(case: Case, files, *, actor: Actor, now: datetime, purpose: str, ref_id: int) -> None:
    """Store staff evidence through the filing's machinery: the original kept and hashed, the
    copy without hidden data made by the cleaning job; marked with what it is evidence for."""
    if not files:
        return
    from app.services import reporting

    reporting.attach_files(case, files, now=now, staff=actor, purpose=purpose, ref_id=ref_id)


def evidence(case: Case, purpose: str, ref_id: int) -> list:
    """The evidence files of one finding or rectification (for the case page)."""
    return [a for a in case.attachments if a.purpose == purpose and a.ref_id == ref_id]


def _set_due(rectification: Rectification, calendar) -> None:
    deadline = dl.working_day_deadline(calendar, rectification.due_start_at, rectification.due_days)
    rectification.due_at, rectification.due_provisional = deadline.due_at, deadline.provisional


def recompute_rectification_due(session, calendar=None, *, case_ids=None, rulebook=None) -> int:
    """Recompute the deadline of every rectification being carried out or waiting for its
    re-check (of the cases ``case_ids``, or all) from the current calendar of its case's
    jurisdiction (after the calendar changes); return how many. ``calendar``: one calendar
    for them all instead."""
    from app.services.levels_rules import RulesCache

    rulebook = rulebook or RulesCache(session)
    query = (
        select(Rectification, Case.jurisdiction_id)
        .join(Case, Case.id == Rectification.case_id)
        .where(
            Rectification.state.in_([RectificationState.PLANNED.value, RectificationState.SUBMITTED.value]),
            Rectification.due_start_at.is_not(None),
            Rectification.due_days.is_not(None),
        )
    )
    if case_ids is not None:
        query = query.where(Rectification.case_id.in_(list(case_ids)))
    count = 0
    for rectification, jurisdiction_id in session.execute(query).all():
        _set_due(rectification, calendar or rulebook.calendar(jurisdiction_id))
        count += 1
    session.flush()
    return count


def _open(case: Case) -> Rectification:
    return case.open_rectification


def _department_name(case: Case, rectification: Rectification) -> str:
    department = rectification.department or case.lead_department
    return department.name if department is not None else ""


# --- the 交办函 of a C-grade report (002, Qiu county) ---------------------------------------------


def issue_assignment_letter(session, case: Case, *, actor: Actor, now: datetime):
    """Hand a C-grade report (an ordinary business problem) to its lead department with a
    numbered 交办函 carrying the duty to verify and rectify, answerable by the case's handling
    deadline; the case records it. Once per case and department (a re-dispatch to the same
    department issues none). Return the notice, or None if it was issued before."""
    from app.clock import to_local
    from app.services.notices import Draft, raise_notices
    from app.supervision import NoticeCause, cause_key
    from models import Notice

    lead = case.lead_assignment
    from app.supervision import NoticeState

    for earlier in session.query(Notice).filter(
        Notice.cause == NoticeCause.GRADE_C_ASSIGNMENT.value,
        Notice.cause_key.like(f"%:case:{case.id}:%"),
        Notice.department_id != lead.department_id,
        Notice.state != NoticeState.CLOSED.value,
    ):  # the department no longer leads: its letter is withdrawn
        earlier.state, earlier.closed_at = NoticeState.CLOSED, now
        earlier.closing_note = f"工单{case.number}已改由其他单位牵头办理，本交办函撤回。"
    due = to_local(lead.due_at)
    details = (
        f"工单{case.number}反映的问题经分级认定为一般性营商环境问题（C类），现交由你单位办理。"
        f"你单位负有核查整改责任：应核实反映的问题，对查实的问题明确整改措施、责任人和整改时限并整改到位，"
        f"于{due.year}年{due.month}月{due.day}日前通过平台答复核查和整改情况。"
    )
    draft = Draft(
        NoticeCause.GRADE_C_ASSIGNMENT,
        f"case:{case.id}:{lead.department_id}",
        lead.department_id,
        details,
        (case.id,),
        case.jurisdiction_id,  # in the name of the office that handles the case
        reply_due_at=lead.due_at,  # answered with the case, by its handling deadline
    )
    issued = raise_notices(session, [draft], now=now, actor=actor, announce=False)
    if not issued:  # this department had a letter: withdrawn when it stopped leading, it stands again
        again = session.query(Notice).filter_by(cause_key=cause_key(draft.cause, draft.subject)).one_or_none()
        if again is None or again.state != NoticeState.CLOSED:
            return None
        again.state, again.closed_at, again.reply_due_at = NoticeState.ISSUED, None, lead.due_at
        again.closing_note = None
        core._record(
            case, "assignment_letter", actor, now, case.status, note=again.number, data={"notice": again.id}
        )
        return again
    notice = session.get(Notice, issued[0].id)
    core._record(
        case,
        "assignment_letter",
        actor,
        now,
        case.status,
        note=notice.number,
        data={"notice": notice.id, "number": notice.number, "department": lead.department_id},
    )
    session.flush()
    outbox.to_department(
        session,
        lead.department_id,
        key=f"assignment_letter:{notice.id}",
        template="assignment_letter",
        now=now,
        case_id=case.id,
        params={"notice": notice.number, "number": case.number, "due": outbox.when(lead.due_at)},
    )
    return notice


# --- the actions -------------------------------------------------------------------------------


def record_finding(
    session, case: Case, *, actor: Actor, now: datetime, result, facts, summary, files=()
) -> Case:
    """Record the verification finding: the facts stay internal, the reporter is told
    ``summary`` (the initial result, seed 000). A founded finding (属实/部分属实) opens a
    rectification unless one is open already. A later finding supersedes the earlier one: if
    it is no longer founded, a rectification still waiting for its plan is dropped (recorded);
    one already under way cannot be undone that way (the office's re-check decides it)."""
    result = core.clean_enum(FindingResult, result, N_("Finding"))
    facts = core.clean_text(facts, N_("Facts established"), limit=core.MAX_CONTENT)
    summary = core.clean_text(summary, N_("Initial result for the reporter"), limit=core.MAX_CONTENT)
    files = _check_files(files)
    core._check(session, case, Action.RECORD_FINDING, actor)
    open_one = _open(case)
    if result not in FOUNDED and open_one is not None and open_one.state != RectificationState.AWAITING_PLAN:
        raise IllegalMove(
            N_(
                "The rectification of this case is already under way: a finding that it is untrue or "
                "cannot be verified can no longer replace the founded one. The office's re-check decides it."
            )
        )
    stage = "preliminary" if case.status == Status.ACCEPTED else "handling"
    event = core.move(
        session,
        case,
        Action.RECORD_FINDING,
        actor,
        now,
        note=facts,
        public_text=summary,
        data={"result": str(result), "stage": stage},
    )
    finding = Finding(
        result=result,
        facts=facts,
        summary=summary,
        stage=stage,
        department_id=actor.department_id,
        recorded_at=now,
        recorded_by_id=actor.id,
    )
    case.findings.append(finding)
    case.finding = result
    if case.verified_at is None:
        case.verified_at = now
    core.mark_first_response(case, now)
    if stage == "preliminary":  # a B grade waits for the office: its dispatch clock starts now
        minutes = core.get_settings(session, case.jurisdiction)["dispatch_minutes"]
        case.dispatch_due_at = core.dl.clock_deadline(now, minutes=minutes).due_at
        case.dispatch_reminded_at = None
    if result in FOUNDED and open_one is None:
        case.rectifications.append(
            Rectification(
                finding=finding,
                department_id=case.lead_department_id,
                state=RectificationState.AWAITING_PLAN,
                opened_at=now,
                due_provisional=False,
                send_backs=0,
            )
        )
    session.flush()
    event.data = {**event.data, "finding": finding.id}
    if result not in FOUNDED and open_one is not None:  # waiting for its plan: nothing was done yet
        core._record(
            case,
            "drop_rectification",
            actor,
            now,
            case.status,
            data={"rectification": open_one.id, "finding": finding.id},
        )
        case.rectifications.remove(open_one)  # delete-orphan: the row goes
    _attach(case, files, actor=actor, now=now, purpose=FINDING_EVIDENCE, ref_id=finding.id)
    session.flush()
    outbox.to_reporters(session, case, template="case_verified", now=now, step=f"finding:{finding.id}")
    return case


def plan_rectification(
    session, case: Case, *, actor: Actor, now: datetime, measures, responsible, days
) -> Case:
    """Set the rectification's measures, responsible person and deadline in working days
    (1 to the setting max_rectification_working_days, counted from now)."""
    core._check(session, case, Action.PLAN_RECTIFICATION, actor)
    measures = core.clean_text(measures, N_("Rectification measures"), limit=core.MAX_CONTENT)
    responsible = core.clean_text(responsible, N_("Person responsible"), limit=MAX_RESPONSIBLE)
    days = _working_days(session, days, N_("The rectification period"), jurisdiction=case.jurisdiction)
    rectification = _open(case)
    event = core.move(
        session,
        case,
        Action.PLAN_RECTIFICATION,
        actor,
        now,
        note=measures,
        public_text=PLANNED_TEXT,
        data={"rectification": rectification.id, "days": days, "responsible": responsible},
    )
    rectification.measures, rectification.responsible = measures, responsible
    rectification.department_id = actor.department_id or rectification.department_id
    rectification.due_days, rectification.due_start_at, rectification.planned_at = days, now, now
    rectification.overdue_reminded_at = None
    _set_due(rectification, load_calendar(session, case.jurisdiction))
    rectification.state = RectificationState.PLANNED
    event.data = {**event.data, "due_at": rectification.due_at.isoformat()}
    session.flush()
    return case


def report_rectification(session, case: Case, *, actor: Actor, now: datetime, completion, files=()) -> Case:
    """Report the rectification done, with evidence of completion; the office is told."""
    core._check(session, case, Action.REPORT_RECTIFICATION, actor)
    completion = core.clean_text(completion, N_("What was rectified"), limit=core.MAX_CONTENT)
    files = _check_files(files)
    rectification = _open(case)
    core.move(
        session,
        case,
        Action.REPORT_RECTIFICATION,
        actor,
        now,
        note=completion,
        data={"rectification": rectification.id, "files": len(files)},
    )
    rectification.completion, rectification.completed_at = completion, now
    rectification.state = RectificationState.SUBMITTED
    _attach(case, files, actor=actor, now=now, purpose=RECTIFICATION_EVIDENCE, ref_id=rectification.id)
    session.flush()
    outbox.to_supervisors(
        session,
        key=f"rectification_reported:{rectification.id}:{rectification.send_backs}",
        template="rectification_reported",
        now=now,
        case_id=case.id,
        params={"number": case.number, "department": _department_name(case, rectification)},
    )
    return case


def accept_rectification(session, case: Case, *, actor: Actor, now: datetime, note=None) -> Case:
    """The office's re-check (复核) accepts the rectification; the reporter may hear that it
    was completed (in neutral words), the department that it was accepted."""
    core._check(session, case, Action.ACCEPT_RECTIFICATION, actor)
    note = core.clean_text(note, N_("Re-check note"), required=False)
    rectification = _open(case)
    core.move(
        session,
        case,
        Action.ACCEPT_RECTIFICATION,
        actor,
        now,
        note=note,
        public_text=RECTIFIED_TEXT,
        data={"rectification": rectification.id},
    )
    rectification.state = RectificationState.ACCEPTED
    rectification.reviewed_at, rectification.reviewed_by_id, rectification.review_note = now, actor.id, note
    session.flush()
    if rectification.department_id is not None:
        outbox.to_department(
            session,
            rectification.department_id,
            key=f"rectification_accepted:{rectification.id}",
            template="rectification_accepted",
            now=now,
            case_id=case.id,
            params={"number": case.number},
        )
    outbox.to_reporters(
        session, case, template="case_rectified", now=now, step=f"rectification:{rectification.id}"
    )
    return case


def reject_rectification(session, case: Case, *, actor: Actor, now: datetime, note, days=None) -> Case:
    """The office's re-check sends the rectification back with the reason (and, optionally,
    more working days added to its period); the department is told the new deadline."""
    core._check(session, case, Action.REJECT_RECTIFICATION, actor)
    note = core.clean_text(note, N_("Why the rectification is sent back"))
    extra = _working_days(
        session,
        days,
        N_("The additional rectification period"),
        required=False,
        jurisdiction=case.jurisdiction,
    )
    rectification = _open(case)
    event = core.move(
        session,
        case,
        Action.REJECT_RECTIFICATION,
        actor,
        now,
        note=note,
        data={"rectification": rectification.id, "days": extra},
    )
    rectification.state = RectificationState.PLANNED
    rectification.send_backs += 1
    rectification.reviewed_at, rectification.reviewed_by_id, rectification.review_note = now, actor.id, note
    rectification.completed_at = None  # the completion reported was not accepted
    rectification.due_days += extra
    _set_due(rectification, load_calendar(session, case.jurisdiction))
    if rectification.due_at > now:
        rectification.overdue_reminded_at = None  # a new deadline: remind again if it is missed
    event.data = {**event.data, "due_at": rectification.due_at.isoformat()}
    session.flush()
    department_id = rectification.department_id or case.lead_department_id
    if department_id is not None:
        outbox.to_department(
            session,
            department_id,
            key=f"rectification_sent_back:{rectification.id}:{rectification.send_backs}",
            template="rectification_sent_back",
            now=now,
            case_id=case.id,
            params={"number": case.number, "due": outbox.when(rectification.due_at)},
        )
    return case
