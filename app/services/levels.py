"""Moves of a case across the levels of government (issue 15, DOMAIN.md "Levels and jurisdictions").

- 提级办理 (``refer_up``): the case's own office refers a difficult case to the office of the
  parent jurisdiction (county → city → province); it waits in that office's dispatch queue.
- 上收 (``pull_up``): an upper office takes over a case of any jurisdiction under it. A case not
  yet accepted stays so, in the upper office's intake queue; any other waits in its dispatch
  queue.
- 交办 (``send_down``): an office sends an accepted (or returned) case of its own down to one of
  its child jurisdictions with a deadline in working days, counted on the child's calendar
  (``Case.jurisdiction_due_at``): the lower office's handling deadline never runs past it.

Each move checks the transition table, withdraws the departments' assignments (a pending
extension request is withdrawn, a paused clock ends, an open dispute over responsibility falls),
hands the case to the new office (its rules propose a department, its calendar recomputes the
open deadlines), records the move with where it came from and where it went, and tells the
receiving office, the departments that lose the case and the reporter (neutrally).

Dispatch stays inside the case's jurisdiction: a case is sent only to departments of its own
jurisdiction or of one under it (``check_departments_in_scope``; the dispatch proposal keeps to
the same rule through ``departments_outside``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import or_, select

from app import deadlines as dl
from app.enums import AssignmentState, DisputeState, ExtensionState
from app.errors import Invalid
from app.ids import as_id
from app.services import cases as core
from app.services import clocks, jurisdictions
from app.services import notifications as outbox
from app.services.actor import Actor
from app.services.calendar import load_calendar
from app.services.settings import get_settings
from app.workflow import N_, Action, Role, Status
from models import Case, Department, Jurisdiction, Staff

#: The moves of this module (the history shows them as "石门市 → 清源省").
LEVEL_ACTIONS = (Action.REFER_UP, Action.PULL_UP, Action.SEND_DOWN)
#: Who in an office is told that a case has reached it.
RECEIVING_ROLES = (Role.DISPATCHER, Role.SUPERVISOR)
RUNNING = (AssignmentState.DISPATCHED, AssignmentState.SIGNED)

REFERRED_TEXT = N_("Your case has been referred to a higher office for handling.")
PULLED_TEXT = N_("Your case is now handled by a higher office.")
SENT_DOWN_TEXT = N_("Your case has been passed to the local office for handling.")


# --- the scope of dispatch ---------------------------------------------------------------------


def department_in_scope(case: Case, department: Department) -> bool:
    """Whether the case may be sent to ``department``: one of the case's jurisdiction or of a
    jurisdiction under it (a department of no jurisdiction is the root's)."""
    own = case.jurisdiction
    if own is None or own.parent_id is None:  # the root's case: every department of the province
        return True
    place = department.jurisdiction
    return place is not None and place.path.startswith(own.path)


def departments_outside(session, case: Case) -> set[int]:
    """The ids of the departments the case may not be sent to from its jurisdiction (for the
    dispatch proposal; one query on the department table, none for the root's cases)."""
    own = case.jurisdiction
    if own is None or own.parent_id is None:
        return set()
    inside = jurisdictions.subtree_ids_select(own.path)
    return set(
        session.execute(
            select(Department.id).where(
                or_(Department.jurisdiction_id.is_(None), Department.jurisdiction_id.not_in(inside))
            )
        ).scalars()
    )


def check_departments_in_scope(session, case: Case, departments: Iterable[Department]) -> None:
    """Refuse to send a case to a department outside its jurisdiction: a county office never to
    a city's or a sibling county's department (it refers the case up instead); an upper office
    may send its own case to a department of a jurisdiction under it."""
    outside = [d for d in departments if d is not None and not department_in_scope(case, d)]
    if outside:
        raise Invalid(
            N_(
                "%(department)s is not in the jurisdiction of %(jurisdiction)s, which handles this "
                "case: choose a department of this jurisdiction or of one under it, or refer the "
                "case up to the higher office."
            ),
            department=outside[0].name,
            jurisdiction=case.jurisdiction.name,
        )


# --- who is told --------------------------------------------------------------------------------


def office_staff(session, jurisdiction: Jurisdiction, roles: Iterable[Role] = RECEIVING_ROLES):
    """The active staff of a jurisdiction's office with one of ``roles``, as (id, e-mail) (an
    account of no jurisdiction belongs to the root)."""
    own = Staff.jurisdiction_id == jurisdiction.id
    if jurisdiction.parent_id is None:
        own = or_(own, Staff.jurisdiction_id.is_(None))
    query = (
        select(Staff.id, Staff.email)
        .where(Staff.active.is_(True), own, or_(*(Staff.roles.any(name=r.value) for r in roles)))
        .order_by(Staff.id)
    )
    return [tuple(row) for row in session.execute(query)]


def _tell_office(session, jurisdiction: Jurisdiction, *, template: str, case: Case, now, step, params):
    outbox.to_staff(
        session,
        office_staff(session, jurisdiction),
        key=f"{template}:{case.id}:{step}",
        template=template,
        now=now,
        case_id=case.id,
        params={"number": case.number, **params},
    )


# --- the common part of every move ---------------------------------------------------------------


def _hand_over(session, case: Case, target: Jurisdiction, *, actor: Actor, now: datetime) -> list[int]:
    """Take the case from its departments and give it to ``target``'s office: the assignments
    are withdrawn (with a pending extension request, a paused clock and an open dispute), the
    lead and proposed departments cleared, the handling clock restarted for the new office, and
    its deadlines recomputed on the new jurisdiction's calendar. Return the ids of the
    departments that held the case."""
    clocks.end_pause(session, case, now, actor)
    pending = case.pending_extension
    if pending is not None:  # asked of the old office: the new department asks its own
        pending.state, pending.decided_at = ExtensionState.WITHDRAWN, now
    dispute = case.open_dispute
    if dispute is not None:  # the departments disputing it no longer hold the case
        dispute.state, dispute.decided_at, dispute.decided_by_id = DisputeState.DECIDED, now, actor.id
        dispute.decision_note = f"工单已移交{target.name}办理，争议不再处理。"
    held = sorted({a.department_id for a in case.active_assignments})
    for assignment in case.active_assignments:
        assignment.active = False
        if assignment.state in RUNNING:
            assignment.state = AssignmentState.WITHDRAWN
    case.lead_department = None
    case.proposed_department = None
    case.jurisdiction = target
    if case.status != Status.SUBMITTED:
        # A new office handles it: its handling and dispatch clocks start now (as an escalation's).
        case.clock_start_at = now
        case.dispatch_reminded_at = None
        case.rating = case.rating_source = case.rating_reason = None
        case.proposed_department = core.propose_department(session, case)
    session.flush()
    core.recompute_case_deadlines(session, case)
    return held


def _tell_departments(session, case: Case, held: list[int], target: Jurisdiction, *, now, step) -> None:
    for department_id in held:
        outbox.to_department(
            session,
            department_id,
            key=f"case_withdrawn:{case.id}:{step}:{department_id}",
            template="case_withdrawn",
            now=now,
            case_id=case.id,
            params={"number": case.number, "office": target.authority},
        )


def _tell_reporters(session, case: Case, target: Jurisdiction, *, now, step) -> None:
    outbox.to_reporters(
        session, case, template="case_office_changed", now=now, step=f"office:{step}", office=target.authority
    )


def _data(source: Jurisdiction, target: Jurisdiction, **more) -> dict:
    return {"from": source.id, "to": target.id, "from_name": source.name, "to_name": target.name, **more}


# --- the actions -------------------------------------------------------------------------------


def _active_parent(case: Case) -> Jurisdiction:
    """The nearest active jurisdiction above the case's."""
    parent = case.jurisdiction.parent
    while parent is not None and not parent.active:
        parent = parent.parent
    if parent is None:
        raise Invalid(N_("This office has no higher office to refer the case to."))
    return parent


def refer_up(session, case: Case, *, actor: Actor, now: datetime, note) -> Case:
    """提级办理: the case's own office refers a difficult case, with the reason, to the office
    of the jurisdiction above; it waits in that office's dispatch queue with its history."""
    core._check(session, case, Action.REFER_UP, actor)  # who may, before what they wrote
    note = core.clean_text(note, N_("Reason"))
    source, target = case.jurisdiction, _active_parent(case)
    core.move(
        session,
        case,
        Action.REFER_UP,
        actor,
        now,
        target=Status.ACCEPTED,
        note=note,
        public_text=REFERRED_TEXT,
        data=_data(source, target),
    )
    case.is_difficult = True
    case.jurisdiction_due_at = None  # a deadline set from above for the lower office ends here
    held = _hand_over(session, case, target, actor=actor, now=now)
    step = len(case.events)
    _tell_office(
        session,
        target,
        template="case_referred_up",
        case=case,
        now=now,
        step=step,
        params={"office": source.authority},
    )
    _tell_departments(session, case, held, target, now=now, step=step)
    _tell_reporters(session, case, target, now=now, step=step)
    session.flush()
    return case


def pull_up(session, case: Case, *, actor: Actor, now: datetime, note) -> Case:
    """上收: an upper office takes over a case of a jurisdiction under it, with the reason. A case
    not yet accepted waits in its intake queue; any other in its dispatch queue. The lower office
    that had it is told."""
    core._check(session, case, Action.PULL_UP, actor)  # who may, before what they wrote
    note = core.clean_text(note, N_("Reason"))
    source, target = case.jurisdiction, jurisdictions.get(session, actor.jurisdiction_id)
    core.move(
        session,
        case,
        Action.PULL_UP,
        actor,
        now,
        target=Status.SUBMITTED if case.status == Status.SUBMITTED else Status.ACCEPTED,
        note=note,
        public_text=PULLED_TEXT,
        data=_data(source, target),
    )
    case.jurisdiction_due_at = None
    held = _hand_over(session, case, target, actor=actor, now=now)
    step = len(case.events)
    _tell_office(
        session,
        target,
        template="case_pulled_up",
        case=case,
        now=now,
        step=step,
        params={"office": source.name},
    )
    _tell_office(
        session,
        source,
        template="case_taken_over",
        case=case,
        now=now,
        step=step,
        params={"office": target.authority},
    )
    _tell_departments(session, case, held, target, now=now, step=step)
    _tell_reporters(session, case, target, now=now, step=step)
    session.flush()
    return case


def _child(session, case: Case, jurisdiction_id) -> Jurisdiction:
    found = session.get(Jurisdiction, as_id(jurisdiction_id)) if as_id(jurisdiction_id) is not None else None
    if found is None or not found.active or found.parent_id != case.jurisdiction_id:
        raise Invalid(N_("Lower office: choose one of the jurisdictions directly under this office's."))
    return found


def _working_days(session, case: Case, value) -> int:
    """The working days asked, within the sending office's limit (a setting of its own)."""
    limit = get_settings(session, case.jurisdiction)["send_down_max_working_days"]
    text = str(value).strip() if isinstance(value, int | str) and not isinstance(value, bool) else ""
    days = int(text) if text.isdigit() and text.isascii() and len(text) < 10 else 0
    if not 1 <= days <= limit:
        raise Invalid(N_("The deadline must be between 1 and %(limit)s working days."), limit=limit)
    return days


def send_down(
    session, case: Case, *, actor: Actor, now: datetime, jurisdiction_id, working_days, note=None
) -> Case:
    """交办: an office sends an accepted or returned case of its own down to one of its child
    jurisdictions, to be handled within ``working_days`` working days of the child's calendar
    (never past a deadline the office itself was given from above). The lower office's
    dispatch gives its departments no more time than that."""
    core._check(session, case, Action.SEND_DOWN, actor)
    target = _child(session, case, jurisdiction_id)
    days = _working_days(session, case, working_days)
    note = core.clean_text(note, N_("Note"), required=False)
    due = dl.working_day_deadline(load_calendar(session, target), now, days).due_at
    if case.jurisdiction_due_at is not None:  # the office's own deadline from above still holds
        due = min(due, case.jurisdiction_due_at)
    source = case.jurisdiction
    core.move(
        session,
        case,
        Action.SEND_DOWN,
        actor,
        now,
        target=Status.ACCEPTED,
        note=note,
        public_text=SENT_DOWN_TEXT,
        data=_data(source, target, working_days=days, due_at=due.isoformat()),
    )
    case.jurisdiction_due_at = due
    held = _hand_over(session, case, target, actor=actor, now=now)
    step = len(case.events)
    _tell_office(
        session,
        target,
        template="case_sent_down",
        case=case,
        now=now,
        step=step,
        params={"office": source.authority, "due": outbox.when(due)},
    )
    _tell_departments(session, case, held, target, now=now, step=step)
    _tell_reporters(session, case, target, now=now, step=step)
    session.flush()
    return case
