"""Co-handling that works (004): a co-handling department returns or answers its own part; a
dispute over who is responsible goes to the office, which names the lead; the office refuses a
reply as an improper request to close (办结审核), and repeated refusals bring a 整改通知书.

A co-handler's part is its assignment: returned (退回, inactive) or done (its answer to the lead
is an internal note of the event, never shown to the reporter). The lead's assignment and the
case's deadline are not touched by a co-handler. A dispute is a row of its own (``Dispute``),
open until the office decides it; while one is open no second one is raised
(Guard.NO_OPEN_DISPUTE) and the case waits in the supervision and dispatch queues.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select

from app.enums import AssignmentRole, AssignmentState, DisputeState
from app.errors import IllegalMove
from app.services import cases as core
from app.services import notifications as outbox
from app.services.actor import SYSTEM, Actor
from app.services.bulk import in_select
from app.services.notices import raise_notice
from app.services.settings import get_settings
from app.supervision import NoticeCause
from app.workflow import N_, Action, Role, Status
from models import Assignment, Case, Dispute, RevisitTask

RUNNING = (AssignmentState.DISPATCHED, AssignmentState.SIGNED)


# --- reading -------------------------------------------------------------------------------


def open_dispute_case_ids():
    """The ids of the cases with a dispute waiting for the office (a small table)."""
    return select(Dispute.case_id).where(Dispute.state == DisputeState.OPEN.value)


def dispatch_queue_clause():
    """What waits for the dispatcher: accepted and returned cases, and the cases whose
    responsibility is disputed (indexed lookups OR'ed, as the supervision queue)."""
    return or_(
        Case.status.in_([Status.ACCEPTED.value, Status.RETURNED.value]),
        in_select(Case.id, open_dispute_case_ids()),
    )


def refused_reply_event_ids(case: Case) -> set[int]:
    """The reply events the office refused as improper requests to close: not the answer."""
    return {
        (e.data or {}).get("reply_event")
        for e in case.events
        if e.action == Action.REJECT_REPLY and (e.data or {}).get("reply_event")
    }


def refused_replies(case: Case) -> int:
    """How many replies of the case the office has refused."""
    return sum(1 for e in case.events if e.action == Action.REJECT_REPLY)


# --- helpers -------------------------------------------------------------------------------


def _my_co_part(case: Case, actor: Actor) -> Assignment | None:
    """The actor's department's running co-handling assignment, if any."""
    return next(
        (
            a
            for a in case.active_assignments
            if a.department_id == actor.department_id and a.role == AssignmentRole.CO and a.state in RUNNING
        ),
        None,
    )


def _to_office(session, *, key: str, template: str, now: datetime, case: Case, params: dict) -> None:
    """Tell the dispatchers and the supervisors (the office)."""
    told = {"key": key, "template": template, "now": now, "case_id": case.id, "params": params}
    outbox.to_office(session, Role.DISPATCHER, **told)
    outbox.to_supervisors(session, **told)


def _department_name(session, department_id: int | None) -> str:
    from models import Department

    department = session.get(Department, department_id) if department_id is not None else None
    return department.name if department else ""


# --- the actions ---------------------------------------------------------------------------


def return_part(session, case: Case, *, actor: Actor, now: datetime, reason) -> Case:
    """A co-handling department returns its own part, with a reason: its assignment ends
    (returned); the lead keeps the case and its deadline; the lead, the dispatchers and the
    supervisors are told."""
    reason = core.clean_text(reason, N_("Reason"))
    event = core.move(session, case, Action.RETURN_PART, actor, now, note=reason)
    part = _my_co_part(case, actor)
    part.state, part.active, part.done_at = AssignmentState.RETURNED, False, now
    event.data = {"assignment": part.id, "department": part.department_id}
    session.flush()
    params = {"number": case.number, "department": part.department.name}
    key = f"part_returned:{part.id}"
    if case.lead_department_id is not None:
        outbox.to_department(
            session,
            case.lead_department_id,
            key=key,
            template="part_returned",
            now=now,
            case_id=case.id,
            params=params,
        )
    _to_office(session, key=key, template="part_returned", now=now, case=case, params=params)
    return case


def reply_part(session, case: Case, *, actor: Actor, now: datetime, part_answer) -> Case:
    """A co-handling department that has signed answers its part to the lead department (an
    internal answer, not shown to the reporter): its part is done; the lead is told."""
    answer = core.clean_text(
        part_answer, N_("Our part's answer to the lead department"), limit=core.MAX_CONTENT
    )
    part = _my_co_part(case, actor)
    if part is not None and part.state == AssignmentState.DISPATCHED and Role.HANDLER in actor.roles:
        raise IllegalMove(N_("Sign for the case before answering your part to the lead department."))
    event = core.move(session, case, Action.REPLY_PART, actor, now, note=answer)
    part = _my_co_part(case, actor)
    part.state, part.done_at = AssignmentState.DONE, now
    event.data = {"assignment": part.id, "department": part.department_id}
    session.flush()
    if case.lead_department_id is not None:
        outbox.to_department(
            session,
            case.lead_department_id,
            key=f"part_answered:{part.id}",
            template="part_answered",
            now=now,
            case_id=case.id,
            params={"number": case.number, "department": part.department.name},
        )
    return case


def raise_dispute(session, case: Case, *, actor: Actor, now: datetime, reason) -> Case:
    """A department handling the case (lead or co-handler) disputes who is responsible, with
    a reason; the office (dispatchers, supervisors) is told and decides."""
    reason = core.clean_text(reason, N_("Reason"))
    event = core.move(session, case, Action.RAISE_DISPUTE, actor, now, note=reason)
    dispute = Dispute(
        department_id=actor.department_id,
        reason=reason,
        raised_at=now,
        raised_by_id=actor.id,
        state=DisputeState.OPEN,
    )
    case.disputes.append(dispute)
    session.flush()
    event.data = {"dispute": dispute.id}
    session.flush()
    _to_office(
        session,
        key=f"dispute_raised:{dispute.id}",
        template="dispute_raised",
        now=now,
        case=case,
        params={"number": case.number, "department": _department_name(session, actor.department_id)},
    )
    return case


def decide_dispute(session, case: Case, *, actor: Actor, now: datetime, lead_department_id, note) -> Case:
    """The office names the lead department and records the decision. The current lead named:
    nothing else changes. Another department named: the case is dispatched to it as the lead,
    the other departments of the current round staying as co-handlers (new deadlines, each told)."""
    note = core.clean_text(note, N_("Decision note"))
    core._check(session, case, Action.DECIDE_DISPUTE, actor)
    lead = core._department(session, lead_department_id, N_("Lead department"))
    dispute = case.open_dispute
    keeps = lead.id == case.lead_department_id
    co = [] if keeps else [a.department for a in case.active_assignments if a.department_id != lead.id]
    core._check_not_concerned(case, [lead, *co])  # the visibility rule and the grade's route
    told = sorted({a.department_id for a in case.active_assignments} | {dispute.department_id, lead.id})
    data = {"dispute": dispute.id, "lead": lead.id, "from": case.lead_department_id, "co": [d.id for d in co]}
    if keeps:
        core.move(session, case, Action.DECIDE_DISPUTE, actor, now, target=case.status, note=note, data=data)
    else:
        core.move(
            session,
            case,
            Action.DECIDE_DISPUTE,
            actor,
            now,
            target=Status.DISPATCHED,
            note=note,
            public_text=N_("Your case has been sent to the responsible department."),
            data=data,
        )
    dispute.state, dispute.decided_at, dispute.decided_by_id = DisputeState.DECIDED, now, actor.id
    dispute.lead_department_id, dispute.decision_note = lead.id, note
    if not keeps:
        core._open_assignments(session, case, now, lead, co, actor=actor)
    session.flush()
    for department_id in told:
        outbox.to_department(
            session,
            department_id,
            key=f"dispute_decided:{dispute.id}:{department_id}",
            template="dispute_decided",
            now=now,
            case_id=case.id,
            params={"number": case.number, "department": lead.name},
        )
    return case


def reject_reply(session, case: Case, *, actor: Actor, now: datetime, reason) -> Case:
    """The office refuses a reply as an improper request to close: the case goes back to the
    department (handling), the parts the reply ended run again, the reply is no longer the
    answer (kept in the history only) and its clock is open again. The refusals of one case
    reaching the setting bring one 整改通知书 (seed 004)."""
    reason = core.clean_text(reason, N_("Reason"))
    replied_at = case.replied_at
    reply_event = next((e for e in reversed(case.events) if e.action == Action.REPLY), None)
    refusals = refused_replies(case) + 1
    department_id = case.lead_department_id
    core.move(
        session,
        case,
        Action.REJECT_REPLY,
        actor,
        now,
        note=reason,
        public_text=N_(
            "The reply was not accepted by the supervisor's office; your case is being handled further."
        ),
        data={
            "reply_event": reply_event.id if reply_event else None,
            "department": department_id,
            "refusals": refusals,
        },
    )
    for assignment in case.active_assignments:
        if assignment.state == AssignmentState.DONE and assignment.done_at == replied_at:
            assignment.done_at = None
            assignment.state = AssignmentState.SIGNED if assignment.signed_at else AssignmentState.DISPATCHED
    case.reply, case.replied_at = None, None
    # A revisit call waiting for the refused reply's rating has nothing left to ask.
    for task in session.query(RevisitTask).filter(
        RevisitTask.case_id == case.id, RevisitTask.reason.like("unrated%"), RevisitTask.done_at.is_(None)
    ):
        task.done_at, task.done_by_id, task.outcome = now, actor.id, "reply_refused"
    session.flush()
    if department_id is not None:
        outbox.to_department(
            session,
            department_id,
            key=f"reply_refused:{case.id}:{refusals}",
            template="reply_refused",
            now=now,
            case_id=case.id,
            params={"number": case.number, "count": refusals},
        )
    # The reporter was told of the reply; the refused reply is gone from their page: say why.
    outbox.to_reporters(session, case, template="case_reply_withdrawn", now=now, step=f"refused:{refusals}")
    limit = get_settings(session, case.jurisdiction)["improper_replies_for_rectification"]
    if department_id is not None and refusals >= limit:
        raise_notice(
            session,
            cause=NoticeCause.IMPROPER_CLOSE_REQUESTS,
            subject=f"case:{case.id}",
            department_id=department_id,
            cases=[case],
            now=now,
            actor=SYSTEM,
            details=f"工单{case.number}的答复已{refusals}次被{case.jurisdiction.authority}认定为不当办结申请并退回。",
        )
    session.flush()
    return case
