"""Every clock the seeds name, and the stop of the handling clock (停表).

First response 24 hours (000); acceptance decision 5 working days (001); dispatch 20 minutes
after acceptance (002); signing 2 hours (002); initial verification result 3 working days, a
12345 ticket 1 (000, 004); handling by type and by single/multi-department (004, 002), counted
from filing or from dispatch (a setting); rectification by its plan. A pause moves the handling
deadline by the working days paused (Znuny's EscalationSuspend): the working days after the
day it was paused up to and including the day it resumes, by the official calendar (a 调休
Saturday counts, a holiday does not). While paused, the sweep sends no due-soon or overdue
reminder for the case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.clock import local_date
from app.enums import AssignmentRole, AssignmentState, RectificationState
from app.services import cases as core
from app.services import notifications as outbox
from app.services.actor import Actor
from app.services.calendar import load_calendar
from app.workflow import N_, Action, Status
from models import Case, ClockPause

RUNNING = (AssignmentState.DISPATCHED, AssignmentState.SIGNED)
REPORTED = (RectificationState.SUBMITTED, RectificationState.ACCEPTED)

PAUSED_TEXT = N_(
    "The handling clock of your case is paused while the department waits for material from you; "
    "it runs again when you add the material on this page."
)
RESUMED_TEXT = N_("The handling clock of your case runs again.")


def _running(case: Case):
    """The running assignments of the current round (the clock of each is paused and moved)."""
    return [a for a in case.active_assignments if a.state in RUNNING]


def pause_clock(session, case: Case, *, actor: Actor, now: datetime, reason) -> Case:
    """Stop the handling clock while waiting for the reporter's material, with a reason."""
    reason = core.clean_text(reason, N_("Reason"))
    event = core.move(session, case, Action.PAUSE_CLOCK, actor, now, note=reason, public_text=PAUSED_TEXT)
    case.pauses.append(
        ClockPause(reason=reason, paused_at=now, paused_by_id=actor.id, department_id=actor.department_id)
    )
    for assignment in _running(case):
        assignment.paused_at = now
    session.flush()
    event.data = {"pause": case.pauses[-1].id}
    outbox.to_reporters(session, case, template="case_paused", now=now, step=f"pause:{case.pauses[-1].id}")
    session.flush()
    return case


def resume_clock(session, case: Case, *, actor: Actor, now: datetime, note=None) -> Case:
    """Restart the clock; the deadline moves by the working days paused."""
    note = core.clean_text(note, N_("Note"), required=False)
    event = core.move(session, case, Action.RESUME_CLOCK, actor, now, note=note, public_text=RESUMED_TEXT)
    pause = end_pause(session, case, now, actor)
    event.data = _pause_data(case, pause)
    session.flush()
    return case


def end_pause(session, case: Case, now: datetime, actor: Actor) -> ClockPause | None:
    """End the open pause, if any (a resume, the reporter's material, a reply, a return, a
    re-dispatch): count its working days, add them to the deadline of every running assignment
    and store the case's deadline anew. Return the pause ended (None if the clock was running)."""
    pause = case.open_pause
    if pause is None:
        return None
    calendar = load_calendar(session, case.jurisdiction)
    days = calendar.working_days_between(local_date(pause.paused_at), local_date(now))
    pause.resumed_at, pause.resumed_by_id, pause.working_days = now, actor.id, days
    for assignment in case.assignments:
        if assignment.paused_at is None:
            continue
        if assignment.active and assignment.state in RUNNING:
            assignment.pause_days += days
            core._set_assignment_due(assignment, calendar)
        assignment.paused_at = None
    core._refresh_case_due(case, calendar, session)
    session.flush()
    return pause


def _pause_data(case: Case, pause: ClockPause | None) -> dict:
    data = {"pause": pause.id if pause else None, "working_days": pause.working_days if pause else 0}
    if case.due_at is not None:
        data["due_at"] = case.due_at.isoformat()
    return data


def resume_on_material(session, case: Case, *, actor: Actor, now: datetime):
    """The reporter's material ends the pause it waited for: the clock runs again (an event
    of its own; the handling department is told)."""
    pause = end_pause(session, case, now, actor)
    if pause is None:
        return None
    event = core._record(
        case,
        "resume_on_material",
        actor,
        now,
        case.status,
        public_text=RESUMED_TEXT,
        data=_pause_data(case, pause),
    )
    if case.lead_department_id is not None:
        outbox.to_department(
            session,
            case.lead_department_id,
            key=f"clock_resumed_on_material:{pause.id}",
            template="clock_resumed_on_material",
            now=now,
            case_id=case.id,
            params={"number": case.number, "due": outbox.when(case.due_at), "days": pause.working_days},
        )
    session.flush()
    return event


# --- the clocks of one case, for its page ---------------------------------------------------


@dataclass(frozen=True)
class ClockRow:
    """One clock of a case: what it is, for whom, when due and when met (None: not yet)."""

    name: str  # msgid
    due_at: datetime | None
    done_at: datetime | None
    department: str = ""
    detail: dict | None = None  # extension_days, pause_days
    paused: bool = False
    open: bool = True  # False: it can no longer be met (withdrawn, returned unsigned)


def _decided_at(case: Case) -> datetime | None:
    if case.accepted_at is not None:
        return case.accepted_at
    return case.closed_at if case.status == Status.DECLINED else None


def case_clocks(case: Case) -> list[ClockRow]:
    """Every clock of the case in the order the steps come: first response, acceptance,
    dispatch, signing (each assignment), initial verification, handling (each lead round),
    rectification."""
    rows = [
        ClockRow(N_("First response to the reporter"), case.first_response_due_at, case.first_responded_at),
        ClockRow(N_("Decision on acceptance"), case.accept_due_at, _decided_at(case)),
    ]
    first_dispatch = min((a.dispatched_at for a in case.assignments), default=None)
    if case.dispatch_due_at is not None:
        rows.append(ClockRow(N_("Dispatch"), case.dispatch_due_at, first_dispatch))
    for a in case.assignments:
        rows.append(
            ClockRow(
                N_("Signing"),
                a.sign_due_at,
                a.signed_at,
                department=a.department.name,
                open=a.signed_at is not None or a.active,
            )
        )
    if case.verify_due_at is not None:
        rows.append(ClockRow(N_("Initial verification result"), case.verify_due_at, case.verified_at))
    for a in case.assignments:
        if a.role != AssignmentRole.LEAD:
            continue
        finished = a.done_at if a.state == AssignmentState.DONE else None
        rows.append(
            ClockRow(
                N_("Handling"),
                a.due_at,
                finished,
                department=a.department.name,
                detail={"extension_days": a.extension_days, "pause_days": a.pause_days},
                paused=a.paused_at is not None,
                open=finished is not None or (a.active and a.state in RUNNING),
            )
        )
    for r in case.rectifications:
        if r.due_at is None:
            continue
        # A rectification sent back is being carried out again: its clock runs again.
        done = r.completed_at if r.state in REPORTED else None
        rows.append(
            ClockRow(
                N_("Rectification"),
                r.due_at,
                done,
                department=r.department.name if r.department else "",
                open=done is not None or r.state == RectificationState.PLANNED,
            )
        )
    return rows
