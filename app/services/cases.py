"""One service per action on a case. Each checks the transition table, changes the case,
appends to its event log and flushes; the caller commits.

Deadlines are computed here and stored: accept (5 working days from filing), dispatch (20
minutes after acceptance), sign (2 hours after dispatch), handling (policy days from filing,
or from the re-handling/escalation that restarted the clock).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import case as case_when
from sqlalchemy import or_, select, text
from sqlalchemy.orm import make_transient_to_detached, object_session

from app import deadlines as dl
from app import dispatch as rules
from app.clock import local_date
from app.enums import (
    AssignmentRole,
    AssignmentState,
    CaseType,
    Channel,
    DeclineReason,
    EvaluationSource,
    ExtensionState,
    FindingResult,
    Grade,
    Rating,
    RectificationState,
    RevisitMethod,
    Urgency,
)
from app.errors import IllegalMove, Invalid, NotAllowed, NotFound
from app.ids import as_id
from app.services import callbacks, jurisdictions, levels_rules
from app.services import notifications as outbox
from app.services.actor import SYSTEM, Actor
from app.services.bulk import in_select, insert_loaded
from app.services.calendar import load_calendar
from app.services.notices import raise_notice
from app.services.protection import new_reporter
from app.services.settings import get_settings
from app.services.visibility import (  # the one rule of who sees which case
    barred_departments,
    check_departments,
    department_cases_clause,
    not_about_clause,
    visible_cases_clause,
)
from app.supervision import NoticeCause
from app.workflow import (
    ACTION_LABELS,
    EVALUATION_TARGETS,
    N_,
    OFFICE_ROLES,
    OPEN_STATUSES,
    STATUS_LABELS,
    Action,
    Guard,
    Role,
    Status,
    Transition,
    allowed_actions,
    find_transition,
)
from models import (
    Assignment,
    Case,
    CaseEvent,
    Category,
    Department,
    ExtensionRequest,
    Jurisdiction,
    RevisitTask,
    ServiceWindow,
)

MAX_TITLE = 200
MAX_CONTENT = 20000
MAX_NOTE = 5000

GUARD_MESSAGES = {
    Guard.OWN_JURISDICTION: N_(
        "This case belongs to another office's jurisdiction: read and supervise it here, "
        "or take it over first."
    ),
    Guard.IN_LOWER_JURISDICTION: N_("Only an upper office takes over a case of an office under it."),
    Guard.HAS_PARENT_JURISDICTION: N_("This office has no higher office to refer the case to."),
    Guard.HAS_LOWER_JURISDICTION: N_("This office has no lower office to send the case to."),
    Guard.ASSIGNED_TO_ACTOR: N_("Your department is not handling this case."),
    Guard.LEAD_IS_ACTOR: N_("Only the lead department may do this."),
    Guard.UNSIGNED_FOR_ACTOR: N_("Your department has already signed for this case."),
    Guard.NO_PENDING_EXTENSION: N_("An extension request is already waiting for a decision."),
    Guard.PENDING_EXTENSION: N_("There is no extension request waiting for a decision."),
    Guard.REHANDLE_LEFT: N_(
        "This case has already been re-handled the allowed number of times; escalate it."
    ),
    Guard.HAS_HIGHER_LEVEL: N_(
        "The department has no higher level in this jurisdiction to escalate to; "
        "refer the case up to the higher office instead."
    ),
    Guard.VERIFIER_IS_ACTOR: N_(
        "Only the department (or office) verifying this complaint or report records its finding."
    ),
    Guard.FINDING_RECORDED: N_("Record the verification finding before replying to a complaint or report."),
    Guard.VERIFIED_FIRST: N_(
        "A B-grade report is verified by the supervisor's office before it is dispatched."
    ),
    Guard.OFFICE_FOUND_UNFOUNDED: N_(
        "The office answers a B-grade report itself only when it found it untrue or unverifiable."
    ),
    Guard.HANDLED_BY_DEPARTMENT: N_("No department is handling this case."),
    Guard.RECTIFICATION_AWAITING_PLAN: N_("There is no rectification waiting for its plan."),
    Guard.RECTIFICATION_PLANNED: N_("There is no rectification being carried out."),
    Guard.RECTIFICATION_SUBMITTED: N_("No rectification is waiting for its re-check."),
    Guard.NO_OPEN_RECTIFICATION: N_("The case cannot close while its rectification is open."),
    Guard.CLOCK_RUNNING: N_("The clock is already paused."),
    Guard.CLOCK_PAUSED: N_("The clock is not paused."),
    Guard.CO_HANDLER_IS_ACTOR: N_("Your department has no co-handling part of this case open."),
    Guard.NO_OPEN_DISPUTE: N_("A dispute over responsibility is already waiting for the office."),
    Guard.OPEN_DISPUTE: N_("There is no dispute over responsibility to decide."),
    Guard.REVISIT_DUE: N_("No revisit call is open on this case."),
}


# --- reading -------------------------------------------------------------------------------


def department_queue_clause(actor: Actor):
    """The cases the actor's own department is handling, among those the actor may see (one
    EXISTS for a handler: for them the two are the same)."""
    own = department_cases_clause(actor.department_id)
    if actor.sees_all_cases or Role.INTEGRATION not in actor.roles:
        return own & not_about_clause(actor.department_id)
    return own & visible_cases_clause(actor)


# Statuses in which the handling deadline runs (from acceptance until the reply).
HANDLING_STATUSES = (Status.ACCEPTED, Status.DISPATCHED, Status.RETURNED, Status.HANDLING)


# Statuses in which a case may be overdue: its acceptance decision, or its handling.
OVERDUE_STATUSES = (Status.SUBMITTED, *HANDLING_STATUSES)


def overdue_clause(now: datetime):
    """Open cases past their stored deadline: the decision on acceptance, or the handling one
    (not while its clock stands: the deadline moves when it restarts)."""
    # One status list (the predicate of the partial index ix_cases_overdue, which the list
    # walks in its due_at order: PostgreSQL proves a partial index from a plain conjunct, not
    # from an OR of two), one deadline per status; the paused cases (a few) are read once.
    deadline = case_when((Case.status == Status.SUBMITTED.value, Case.accept_due_at), else_=Case.due_at)
    paused = select(Assignment.case_id).where(Assignment.active.is_(True), Assignment.paused_at.is_not(None))
    return (
        Case.status.in_([s.value for s in OVERDUE_STATUSES])
        & (deadline < now)
        & ((Case.status == Status.SUBMITTED.value) | Case.id.not_in(paused))
    )


def awaiting_supervisor_clause():
    """Cases waiting for the supervisor: a reply to evaluate, an unsatisfied rating to decide,
    an extension request, or a dispute over responsibility."""
    # Indexed lookups OR'ed (the status index; the primary key for the few ids of the small
    # tables, as arrays): an OR with EXISTS, or an IN of one UNION, scanned every case.
    return or_(
        Case.status.in_([Status.REPLIED.value, Status.UNSATISFIED.value]),
        in_select(
            Case.id,
            select(ExtensionRequest.case_id).where(ExtensionRequest.state == ExtensionState.PENDING.value),
        ),
        in_select(Case.id, cohandling.open_dispute_case_ids()),
    )


def get_case(session, case_id: int, actor: Actor, *, for_update: bool = False) -> Case:
    """Load a case the actor may see; others answer 'not found' so ids cannot be probed."""
    case_id = as_id(case_id)
    if case_id is None:
        raise NotFound(N_("Case not found."))
    query = select(Case).where(Case.id == case_id, visible_cases_clause(actor))
    if for_update:
        query = query.with_for_update()
    case = session.execute(query).scalar_one_or_none()
    if case is None:
        raise NotFound(N_("Case not found."))
    return case


def facts_for(case: Case, actor: Actor, settings: dict[str, int]) -> set[Guard]:
    """Work out which guards of the transition table hold for this case and actor."""
    facts = {Guard.NONE} | jurisdiction_facts(case, actor)
    mine = [a for a in case.active_assignments if a.department_id == actor.department_id]
    lead = case.lead_assignment
    if actor.department_id is not None and mine:
        facts.add(Guard.ASSIGNED_TO_ACTOR)
        if any(a.state == AssignmentState.DISPATCHED for a in mine):
            facts.add(Guard.UNSIGNED_FOR_ACTOR)
        if lead is not None and lead.department_id == actor.department_id:
            facts.add(Guard.LEAD_IS_ACTOR)
        if any(a.role == AssignmentRole.CO and a.state in RUNNING_STATES for a in mine):
            facts.add(Guard.CO_HANDLER_IS_ACTOR)
    facts.add(Guard.PENDING_EXTENSION if case.pending_extension else Guard.NO_PENDING_EXTENSION)
    if case.rehandle_count < settings["max_rehandles"]:
        facts.add(Guard.REHANDLE_LEFT)
    lead_dept = case.lead_department
    if (
        lead_dept is not None
        and lead_dept.parent_id is not None
        and levels.department_in_scope(case, lead_dept.parent)  # else refer the case up
    ):
        facts.add(Guard.HAS_HIGHER_LEVEL)
    if lead is not None:
        facts.add(Guard.HANDLED_BY_DEPARTMENT)
    facts |= verification_facts(case, actor, facts)
    facts.add(Guard.CLOCK_PAUSED if case.open_pause else Guard.CLOCK_RUNNING)
    facts.add(Guard.OPEN_DISPUTE if case.open_dispute else Guard.NO_OPEN_DISPUTE)
    if any(task.done_at is None for task in case.revisits):
        facts.add(Guard.REVISIT_DUE)
    return facts


def jurisdiction_facts(case: Case, actor: Actor) -> set[Guard]:
    """Where the case stands among the levels of government, seen from the actor's office."""
    found = set()
    own = case.jurisdiction
    if not actor.roles & OFFICE_ROLES or jurisdictions.is_own(actor, own):
        found.add(Guard.OWN_JURISDICTION)
    if actor.roles & OFFICE_ROLES and jurisdictions.is_below(actor, own):
        found.add(Guard.IN_LOWER_JURISDICTION)
    if own is not None and own.parent_id is not None:
        found.add(Guard.HAS_PARENT_JURISDICTION)
    if own is not None and any(child.active for child in own.children):
        found.add(Guard.HAS_LOWER_JURISDICTION)
    return found


# Complaints and reports get a recorded finding (核查, seed 000) before the reply.
NEEDS_FINDING = (CaseType.COMPLAINT, CaseType.REPORT)
UNFOUNDED = (FindingResult.UNTRUE, FindingResult.UNVERIFIABLE)
RUNNING_STATES = (AssignmentState.DISPATCHED, AssignmentState.SIGNED)


def verification_facts(case: Case, actor: Actor, facts: set[Guard]) -> set[Guard]:
    """Who verifies (the lead department; for a B grade also the supervisor's office before
    dispatch), whether the finding a reply needs is there, and where rectification stands."""
    found = set()
    needs = case.case_type in NEEDS_FINDING
    office_first = case.grade == Grade.B
    if needs and (
        Guard.LEAD_IS_ACTOR in facts
        or (office_first and Role.SUPERVISOR in actor.roles and case.status == Status.ACCEPTED)
    ):
        found.add(Guard.VERIFIER_IS_ACTOR)
    if not needs or case.finding is not None:
        found.add(Guard.FINDING_RECORDED)
    if not office_first or case.finding is not None:
        found.add(Guard.VERIFIED_FIRST)
    if office_first and case.finding in UNFOUNDED and case.lead_department_id is None:
        found.add(Guard.OFFICE_FOUND_UNFOUNDED)
    open_one = case.open_rectification
    found.add(
        {
            None: Guard.NO_OPEN_RECTIFICATION,
            RectificationState.AWAITING_PLAN: Guard.RECTIFICATION_AWAITING_PLAN,
            RectificationState.PLANNED: Guard.RECTIFICATION_PLANNED,
            RectificationState.SUBMITTED: Guard.RECTIFICATION_SUBMITTED,
        }[open_one.state if open_one else None]
    )
    return found


def available_actions(session, case: Case, actor: Actor) -> list[Action]:
    """List the actions the actor may take on the case now (for buttons and the API)."""
    return allowed_actions(
        case.status, actor.roles, facts_for(case, actor, get_settings(session, case.jurisdiction))
    )


def _check(session, case: Case, action: Action, actor: Actor) -> Transition:
    """Refuse the action with a clear message unless the table allows it for this actor."""
    transition = find_transition(action, case.status)
    if transition is None:
        raise IllegalMove(
            N_("A case that is “%(status)s” cannot be given the action “%(action)s”."),
            status=_label(STATUS_LABELS[case.status]),
            action=_label(ACTION_LABELS[action]),
        )
    if not transition.roles & actor.roles:
        raise NotAllowed(N_("Your role may not perform “%(action)s”."), action=_label(ACTION_LABELS[action]))
    missing = set(transition.guards) - facts_for(case, actor, get_settings(session, case.jurisdiction))
    if missing:
        # The most basic missing fact speaks (the table's order): "only the lead department"
        # before "record the finding first".
        raise IllegalMove(GUARD_MESSAGES[min(missing, key=list(Guard).index)])
    return transition


def _label(msgid: str) -> str:
    from flask_babel import gettext

    return gettext(msgid)


def _record(
    case, action, actor, now, from_status, *, note=None, public_text=None, data=None, department_id=None
) -> CaseEvent:
    event = CaseEvent(
        action=str(action),
        from_status=str(from_status) if from_status else None,
        to_status=str(case.status),
        at=now,
        actor_id=actor.id,
        actor_name=actor.name,
        department_id=department_id if department_id is not None else actor.department_id,
        note=note,
        public_text=public_text,
        data=data,
    )
    case.events.append(event)
    callbacks.event_recorded(case, event)  # the connected system that filed it is told
    return event


def move(
    session, case, action, actor, now, target=None, *, changes: dict | None = None, **event
) -> CaseEvent:
    """Check, change the status, and log: the single path every status change takes.

    ``changes`` are the fields the new status needs (a declined case's reason...): they are
    set together with the status, before anything can load or flush, so the row is never
    seen half-changed (an autoflush in between once broke ck_case_declined_reason)."""
    transition = _check(session, case, action, actor)
    source = case.status
    with session.no_autoflush:
        case.status = target or transition.target
        for field, value in (changes or {}).items():
            setattr(case, field, value)
        return _record(case, action, actor, now, source, **event)


# --- input checks ----------------------------------------------------------------------------


def clean_text(value, field: str, *, required: bool = True, limit: int = MAX_NOTE) -> str | None:
    value = (value or "").strip() if isinstance(value, str | type(None)) else None
    if value is None:
        raise Invalid(N_("%(field)s must be text."), field=_label(field))
    if required and not value:
        raise Invalid(N_("%(field)s is required."), field=_label(field))
    if len(value) > limit:
        raise Invalid(
            N_("%(field)s is too long (at most %(limit)s characters)."), field=_label(field), limit=limit
        )
    return value or None


def clean_enum(enum_cls, value, field: str, *, required: bool = True):
    if value in (None, ""):
        if required:
            raise Invalid(N_("%(field)s is required."), field=_label(field))
        return None
    try:
        return enum_cls(value)
    except ValueError:
        raise Invalid(N_("%(field)s has an invalid value."), field=_label(field)) from None


def _department(session, department_id, field: str = N_("Department")) -> Department:
    department_id = as_id(department_id)
    department = session.get(Department, department_id) if department_id is not None else None
    if department is None or not department.active:
        raise Invalid(N_("%(field)s: choose an existing department."), field=_label(field))
    return department


def _category(session, category_id) -> Category | None:
    if category_id in (None, ""):
        return None
    category_id = as_id(category_id)
    category = session.get(Category, category_id) if category_id is not None else None
    if category is None or not category.active:
        raise Invalid(N_("Category: choose an existing category."))
    return category


# --- deadlines -------------------------------------------------------------------------------


def _policies(session, jurisdiction=None) -> list[dl.Policy]:
    """The deadline policies in force in the jurisdiction (its own, else its parent's...)."""
    return levels_rules.deadline_policies(session, jurisdiction)


def _handling_days(session, case: Case, multi_department: bool, policies=None) -> int:
    return dl.select_policy(
        policies or _policies(session, case.jurisdiction), case.case_type, case.urgency, multi_department
    ).working_days


def _refresh_case_due(case: Case, calendar, session) -> None:
    """Store the case's handling deadline: the lead assignment's, or the policy's before dispatch."""
    lead = case.lead_assignment
    if lead is not None:
        case.due_at, case.due_provisional = lead.due_at, lead.due_provisional
    elif case.status not in (Status.SUBMITTED, Status.DECLINED, Status.CLOSED):
        deadline = dl.working_day_deadline(
            calendar, case.clock_start_at, _handling_days(session, case, False)
        )
        case.due_at, case.due_provisional = deadline.due_at, deadline.provisional
        if case.jurisdiction_due_at is not None and case.due_at > case.jurisdiction_due_at:
            case.due_at, case.due_provisional = case.jurisdiction_due_at, False  # 交办 deadline


def mark_first_response(case: Case, now: datetime) -> None:
    """The first time staff tell the reporter something (accepted, declined, merged, a
    message, a reply): the 24-hour first-response clock (seed 000) is met or missed then."""
    if case.first_responded_at is None:
        case.first_responded_at = now


def set_verify_due(case: Case, calendar, settings: dict[str, int]) -> None:
    """A complaint or report accepted gets its initial verification result due: 3 working days
    from acceptance (seed 000), 1 for a 12345 ticket (seed 004); other types have none."""
    if case.case_type not in NEEDS_FINDING or case.accepted_at is None:
        case.verify_due_at = None
        return
    days = settings[
        "verify_working_days_12345" if case.channel == Channel.PHONE_12345 else "verify_working_days"
    ]
    case.verify_due_at = dl.working_day_deadline(calendar, case.accepted_at, days).due_at


def _set_assignment_due(assignment: Assignment, calendar, cap: datetime | None = None) -> None:
    """Store the assignment's deadline; never past ``cap`` (default: the deadline the case's
    office was given when an upper office sent the case down, ``Case.jurisdiction_due_at``)."""
    deadline = dl.working_day_deadline(
        calendar,
        assignment.due_start_at,
        assignment.due_days + assignment.extension_days + assignment.pause_days,
    )
    assignment.due_at, assignment.due_provisional = deadline.due_at, deadline.provisional
    if cap is None and assignment.case is not None:
        cap = assignment.case.jurisdiction_due_at
    if cap is not None and assignment.due_at > cap:
        assignment.due_at, assignment.due_provisional = cap, False


def request_recompute(session) -> str:
    """After a calendar, policy or setting edit: recompute the open deadlines in a job once
    the edit commits, or right away in the same unit of work when there is no queue (or, if
    Redis is down at commit, in a unit of its own): the change is never lost."""
    from flask import current_app

    from app import queue
    from app.transaction import unit_of_work

    if not queue.enabled():
        recompute_open_deadlines(session)
        return "done"

    def now_instead():
        with current_app.app_context(), unit_of_work() as own:
            recompute_open_deadlines(own)

    queue.enqueue_after_commit(
        session, "recompute_deadlines", job_id="recompute-deadlines", job_timeout=1800, fallback=now_instead
    )
    return "queued"


def recompute_open_deadlines(session, case_ids=None) -> int:
    """Recompute every stored deadline of open cases (or of the cases ``case_ids``) from the
    current calendar of each case's jurisdiction, the policies and the settings (after an
    administrator edits one of them, or a case moves to another jurisdiction); return the
    number of cases."""
    rulebook = levels_rules.RulesCache(session)  # read once per jurisdiction, not per case
    query = session.query(Case).filter(Case.status.in_([s.value for s in OPEN_STATUSES]))
    if case_ids is not None:
        query = query.filter(Case.id.in_(list(case_ids)))
    count = 0
    for case in query:
        place = case.jurisdiction_id
        recompute_case_deadlines(
            session,
            case,
            settings=rulebook.settings(place),
            policies=rulebook.policies(place),
            calendar=rulebook.calendar(place),
        )
        count += 1
    verification.recompute_rectification_due(session, case_ids=case_ids, rulebook=rulebook)
    session.flush()
    return count


def recompute_case_deadlines(session, case: Case, *, settings=None, policies=None, calendar=None) -> None:
    """Recompute one open case's stored deadlines with the calendar, settings and policies of
    its jurisdiction."""
    calendar = calendar or load_calendar(session, case.jurisdiction)
    settings = settings or get_settings(session, case.jurisdiction)
    policies = policies or _policies(session, case.jurisdiction)
    if case.status == Status.SUBMITTED:
        case.accept_due_at = dl.working_day_deadline(
            calendar, case.created_at, settings["accept_working_days"]
        ).due_at
    running = [
        a for a in case.active_assignments if a.state in (AssignmentState.DISPATCHED, AssignmentState.SIGNED)
    ]
    # A multi-department problem stays one when a co-handler has returned its part: count
    # the departments the round was dispatched to, not those still on it.
    rounds = {a.round for a in running}
    multi = len([a for a in case.assignments if a.round in rounds]) > 1
    for assignment in running:
        assignment.due_days = _handling_days(session, case, multi, policies)
        assignment.due_start_at = (
            assignment.dispatched_at if settings["handling_counts_from_dispatch"] else case.clock_start_at
        )
        _set_assignment_due(assignment, calendar)
    _refresh_case_due(case, calendar, session)
    _recompute_other_clocks(case, calendar, settings)


def _recompute_other_clocks(case: Case, calendar, settings: dict[str, int]) -> None:
    """The clocks still running besides handling and rectification (verification's own):
    first response, dispatch and the initial verification result."""
    if case.first_responded_at is None:
        case.first_response_due_at = dl.clock_deadline(
            case.created_at, hours=settings["first_response_hours"]
        ).due_at
    if case.status == Status.ACCEPTED and case.accepted_at is not None:
        minutes = settings["dispatch_minutes"]
        # From acceptance, or from when the case reached this office from another (levels.py).
        start = max(case.accepted_at, case.clock_start_at or case.accepted_at)
        case.dispatch_due_at = dl.clock_deadline(start, minutes=minutes).due_at
    if case.verified_at is None:
        set_verify_due(case, calendar, settings)


# --- what a filing reads of the reference data ----------------------------------------------

# A filing's jurisdiction, calendar and settings are read from a few rows (a thousand calendar
# days, a hundred offices, a few dozen settings) edited a few times a year: kept per process
# under the version of the reference data (models.reference.ReferenceVersion, renewed by
# triggers on any change of those tables), which each filing reads with its new case's id.
# (version, region) -> (jurisdiction row, calendar, settings).
_filing_reference: dict[tuple, tuple] = {}
# (A scalar subquery: a missing row reads as NULL, and nothing is kept under it.)
_VERSION = text("SELECT (SELECT version FROM reference_version WHERE id = 1)")
_VERSION_AND_ID = text(
    "SELECT (SELECT version FROM reference_version WHERE id = 1), "
    "nextval(pg_get_serial_sequence('cases', 'id'))"
)


def _reference_queries(session) -> tuple:
    """The version query with the new case's id (PostgreSQL: drawn from its sequence) and
    without."""
    on_postgres = session.get_bind().dialect.name == "postgresql"
    return (_VERSION_AND_ID if on_postgres else _VERSION), _VERSION


def _filing_reference_for(session, region: str) -> tuple[Jurisdiction, object, dict[str, int], int | None]:
    """The jurisdiction of a new case of ``region``, its calendar and settings, and (on
    PostgreSQL) the new case's id: one query while the reference data's version is the one
    they were read under (any edit in any process gives it a new value)."""
    with_id, without_id = _reference_queries(session)
    found = tuple(session.execute(with_id).one())
    version, case_id = found[0], (found[1:] or (None,))[0]
    known = _filing_reference.get((version, region)) if version is not None else None
    if known is not None:
        row, calendar, settings = known
        # A copy of the stored row: no SQL, and no object of another request's session.
        return session.merge(row, load=False), calendar, dict(settings), case_id
    jurisdiction = jurisdictions.for_region(session, region)
    calendar = load_calendar(session, jurisdiction)
    settings = get_settings(session, jurisdiction)
    # Kept only if nothing changed while it was read (each statement sees the latest commit).
    if version is not None and session.execute(without_id).scalar() == version:
        if len(_filing_reference) > 256:
            _filing_reference.clear()
        row = Jurisdiction(
            **{a.key: getattr(jurisdiction, a.key) for a in Jurisdiction.__mapper__.column_attrs}
        )
        make_transient_to_detached(row)
        _filing_reference[(version, region)] = (row, calendar, dict(settings))
    return jurisdiction, calendar, settings, case_id


# --- the actions -----------------------------------------------------------------------------


def create_case(session, *, actor: Actor, now: datetime, data: dict) -> Case:
    """File a case (taken by a clerk on behalf of a reporter, or from another channel)."""
    case_type = clean_enum(CaseType, data.get("case_type"), N_("Case type"))
    channel = clean_enum(Channel, data.get("channel"), N_("Channel"))
    urgency = clean_enum(Urgency, data.get("urgency") or Urgency.NORMAL, N_("Urgency"))
    grade = clean_enum(Grade, data.get("grade"), N_("Grade"), required=False)
    if grade and case_type != CaseType.REPORT:
        raise Invalid(N_("Only reports are graded A/B/C."))
    category = _category(session, data.get("category_id"))
    concerned = None
    if data.get("concerned_department_id") not in (None, ""):
        concerned = _department(session, data["concerned_department_id"], N_("Department concerned"))
    anonymous = bool(data.get("anonymous"))
    name = clean_text(data.get("reporter_name"), N_("Reporter name"), required=not anonymous, limit=64)
    phone = clean_text(data.get("reporter_phone"), N_("Reporter phone"), required=False, limit=32)
    if not anonymous and not phone:
        raise Invalid(N_("A named reporter needs a phone number so the department can reply."))
    window = None
    if data.get("window_id") not in (None, ""):
        window_id = as_id(data["window_id"])
        window = session.get(ServiceWindow, window_id) if window_id is not None else None
        if window is None or not window.active:
            raise Invalid(N_("This service window's code is no longer valid."))
    case = Case(
        status=Status.SUBMITTED,
        case_type=case_type,
        channel=channel,
        urgency=urgency,
        grade=grade,
        category=category,
        title=clean_text(data.get("title"), N_("Title"), limit=MAX_TITLE),
        content=clean_text(data.get("content"), N_("What happened"), limit=MAX_CONTENT),
        region=clean_text(data.get("region"), N_("Region"), required=False, limit=100) or "",
        location=clean_text(data.get("location"), N_("Window or office"), required=False, limit=200),
        concerned_department=concerned,
        concerned_official=clean_text(
            data.get("concerned_official"), N_("Official concerned"), required=False, limit=100
        ),
        created_at=now,
        clock_start_at=now,
        created_by_id=actor.id,
        window=window,
        reporters=[],
        attachments=[],  # known empty: adding to them later reads nothing
    )
    if window is not None:
        case.location = case.location or str(window)
        case.region = case.region or window.region
    company = clean_text(data.get("reporter_company"), N_("Company"), required=False, limit=200)
    credit_code = clean_text(
        data.get("credit_code"), N_("Unified social credit code"), required=False, limit=18
    )
    # On PostgreSQL the id comes first (with the reference check), so the number goes in with
    # the INSERT; case, event and reporter are written by three plain INSERTs (app.services.bulk:
    # the unit of work's flush was most of a filing's time), then told to the callbacks' outbox.
    case.jurisdiction, calendar, settings, case.id = _filing_reference_for(session, case.region)
    case.accept_due_at = dl.working_day_deadline(calendar, now, settings["accept_working_days"]).due_at
    case.first_response_due_at = dl.clock_deadline(now, hours=settings["first_response_hours"]).due_at
    event = _record(
        case,
        "file",
        actor,
        now,
        None,
        data={"channel": str(channel)},
        public_text=N_("Your case has been received."),
    )
    if case.id is None:  # SQLite has no sequence: the unit of work's INSERT gives the id
        session.add(case)
        callbacks.event_recorded(case, event)
        session.flush()
    case.number = f"YS{local_date(now):%Y%m%d}{case.id:06d}"
    reporter, code = new_reporter(
        receipt_number=case.number,
        now=now,
        anonymous=anonymous,
        confidential=bool(data.get("confidential")),
        name=name,
        phone=phone,
        company=company,
        credit_code=credit_code,
    )
    case.reporters.append(reporter)
    if case in session:
        session.flush()
    else:
        # (with the filer's callback subscriptions: the outbox then needs no query of its own)
        filer = actor.id is not None
        also, params = ((callbacks.SUBSCRIPTIONS_OF_USER,), {"subscriber": actor.id}) if filer else ((), None)
        selected = insert_loaded(session, case, event, reporter, also=also, also_params=params)
        if filer and selected is not None:
            callbacks.known_subscribers(session, actor.id, selected[0])
        callbacks.event_recorded(case, event)
        callbacks.write_outbox(session)
    case.query_code = code  # not a column: the plain code lives only until the receipt is shown
    return case


def classify_case(
    session,
    case: Case,
    *,
    actor: Actor,
    now: datetime,
    case_type,
    category_id,
    urgency,
    grade=None,
    note=None,
) -> Case:
    """Set type, category, urgency and (for reports) the A/B/C grade."""
    case_type = clean_enum(CaseType, case_type, N_("Case type"))
    urgency = clean_enum(Urgency, urgency, N_("Urgency"))
    grade = clean_enum(Grade, grade, N_("Grade"), required=False)
    if grade and case_type != CaseType.REPORT:
        raise Invalid(N_("Only reports are graded A/B/C."))
    category = _category(session, category_id)
    before = {
        "case_type": str(case.case_type),
        "urgency": str(case.urgency),
        "grade": str(case.grade) if case.grade else None,
        "category_id": case.category_id,
    }
    move(
        session,
        case,
        Action.CLASSIFY,
        actor,
        now,
        note=clean_text(note, N_("Note"), required=False),
        data={
            "before": before,
            "after": {
                "case_type": str(case_type),
                "urgency": str(urgency),
                "grade": str(grade) if grade else None,
                "category_id": category.id if category else None,
            },
        },
    )
    case.case_type, case.urgency, case.grade, case.category = case_type, urgency, grade, category
    calendar = load_calendar(session, case.jurisdiction)
    set_verify_due(case, calendar, get_settings(session, case.jurisdiction))
    _refresh_case_due(case, calendar, session)
    session.flush()
    return case


def discipline_inspection_for(session, case: Case) -> Department | None:
    """The discipline inspection department (纪检监察) closest to the case's region that the
    case may be sent to (never one it is about): where an A-grade report goes (002)."""
    excluded = barred_departments(session, case)
    excluded |= {a.department_id for a in case.assignments if a.state == AssignmentState.RETURNED}
    excluded |= levels.departments_outside(session, case)  # dispatch stays in the jurisdiction
    found = [
        d
        for d in session.query(Department).filter(
            Department.discipline_inspection.is_(True), Department.active.is_(True)
        )
        if d.id not in excluded
    ]
    region = case.region or ""

    def closeness(d: Department):
        own = d.region or ""
        covers = not own or region == own or region.startswith(own + "/")
        return (not covers, -len(own) if covers else 0, d.code)

    return min(found, key=closeness, default=None)


def check_grade_route(case: Case, departments: Iterable[Department]) -> None:
    """An A-grade report (a detailed allegation against an official) is handled by discipline
    inspection only (002, Qiu county): no other department leads or co-handles it."""
    if case.grade == Grade.A and not all(d.discipline_inspection for d in departments):
        raise Invalid(
            N_(
                "An A-grade report (a detailed allegation against an official) goes to discipline "
                "inspection only: choose a discipline inspection department."
            )
        )


def propose_department(session, case: Case) -> Department | None:
    """Ask the dispatch rules which department should handle the case (for an A-grade report,
    the discipline inspection department)."""
    if case.grade == Grade.A:
        return discipline_inspection_for(session, case)
    path, category = [], case.category
    while category is not None:
        path.append(category.id)
        category = category.parent
    excluded = barred_departments(session, case)
    excluded |= {a.department_id for a in case.assignments if a.state == AssignmentState.RETURNED}
    excluded |= levels.departments_outside(session, case)  # dispatch stays in the jurisdiction
    # The rules of the case's jurisdiction chain; a nearer office's rule wins a tie.
    active_rules = levels_rules.dispatch_rules(session, case.jurisdiction)
    facts = rules.CaseFacts(path, case.region, f"{case.title}\n{case.content}")
    winner = rules.propose_department(active_rules, facts, excluded)
    return session.get(Department, winner.department_id) if winner else None


def accept_case(session, case: Case, *, actor: Actor, now: datetime, note=None) -> Case:
    """Accept a classified case: start the dispatch clock and propose a department."""
    if case.category_id is None:
        raise Invalid(N_("Classify the case (category) before accepting it."))
    if case.case_type == CaseType.REPORT and case.grade is None:
        raise Invalid(N_("Grade the report (A/B/C) before accepting it."))
    move(
        session,
        case,
        Action.ACCEPT,
        actor,
        now,
        note=clean_text(note, N_("Note"), required=False),
        public_text=N_("Your case has been accepted."),
    )
    settings = get_settings(session, case.jurisdiction)
    calendar = load_calendar(session, case.jurisdiction)
    case.accepted_at = now
    mark_first_response(case, now)
    case.dispatch_due_at = dl.clock_deadline(now, minutes=settings["dispatch_minutes"]).due_at
    set_verify_due(case, calendar, settings)
    case.proposed_department = propose_department(session, case)
    _refresh_case_due(case, calendar, session)
    outbox.to_reporters(session, case, template="case_accepted", now=now, step="accept")
    session.flush()
    return case


def decline_case(session, case: Case, *, actor: Actor, now: datetime, reason, note=None) -> Case:
    """Decline a case with a reason (not in scope, duplicate, insufficient)."""
    reason = clean_enum(DeclineReason, reason, N_("Reason"))
    note = clean_text(note, N_("Explanation to the reporter"))
    move(
        session,
        case,
        Action.DECLINE,
        actor,
        now,
        public_text=note,
        data={"reason": str(reason)},
        changes={"decline_reason": reason, "decline_note": note, "closed_at": now, "due_at": None},
    )
    mark_first_response(case, now)
    session.flush()
    return case


def _open_assignments(
    session,
    case,
    now,
    lead: Department,
    co: Iterable[Department],
    *,
    department_template: str = "new_case",
    reporter_template: str = "case_dispatched",
    actor: Actor = SYSTEM,
) -> None:
    """Withdraw the current assignments and give the case to ``lead`` (and co-handlers); tell
    the departments (a new case, a re-handling, an escalation) and the reporters. A C-grade
    report's new lead gets its own 交办函 (002); a letter to a department no longer leading
    is withdrawn."""
    settings = get_settings(session, case.jurisdiction)
    calendar = load_calendar(session, case.jurisdiction)
    clocks.end_pause(session, case, now, SYSTEM)  # a new round: the old one's pause ends
    pending = case.pending_extension
    if pending is not None:  # asked for the old round: the new department asks its own
        pending.state, pending.decided_at = ExtensionState.WITHDRAWN, now
    for old in case.active_assignments:
        old.active = False
        if old.state in (AssignmentState.DISPATCHED, AssignmentState.SIGNED):
            old.state = AssignmentState.WITHDRAWN
    co = list(co)
    days = _handling_days(session, case, multi_department=bool(co))
    round_no = max((a.round for a in case.assignments), default=0) + 1
    for department, role in [(lead, AssignmentRole.LEAD)] + [(d, AssignmentRole.CO) for d in co]:
        # Active and dispatched from the start, not only once flushed (the column defaults):
        # the case's deadline below is read from its active lead assignment.
        assignment = Assignment(
            department=department,
            role=role,
            round=round_no,
            dispatched_at=now,
            active=True,
            state=AssignmentState.DISPATCHED,
            sign_due_at=dl.clock_deadline(now, hours=settings["sign_hours"]).due_at,
            # From filing (or the re-handling that restarted the clock), or from receipt by
            # the department where the setting says so (Gangnan, seed 004).
            due_start_at=now if settings["handling_counts_from_dispatch"] else case.clock_start_at,
            due_days=days,
            extension_days=0,
            pause_days=0,
        )
        _set_assignment_due(assignment, calendar, cap=case.jurisdiction_due_at)
        case.assignments.append(assignment)
    case.lead_department = lead
    case.dispatched_at = now
    case.first_dispatched_at = case.first_dispatched_at or now
    _refresh_case_due(case, calendar, session)
    session.flush()
    for assignment in case.active_assignments:
        outbox.to_department(
            session,
            assignment.department_id,
            key=f"{department_template}:{assignment.id}",
            template=department_template,
            now=now,
            case_id=case.id,
            params={
                "number": case.number,
                "due": outbox.when(assignment.due_at),
                "sign_due": outbox.when(assignment.sign_due_at),
            },
        )
    outbox.to_reporters(
        session, case, template=reporter_template, now=now, step=f"dispatch:{round_no}", department=lead.name
    )
    if case.grade == Grade.C:  # to the functional department with a 交办函 (002)
        verification.issue_assignment_letter(session, case, actor=actor, now=now)


def _check_not_concerned(case: Case, departments: Iterable[Department]) -> None:
    departments = list(departments)
    check_departments(object_session(case), case, departments)
    levels.check_departments_in_scope(object_session(case), case, departments)
    check_grade_route(case, departments)


def dispatch_case(
    session, case: Case, *, actor: Actor, now: datetime, lead_department_id, co_department_ids=(), note=None
) -> Case:
    """Send a case to its lead department and any co-handling departments."""
    _check(session, case, Action.DISPATCH, actor)
    lead = _department(session, lead_department_id, N_("Lead department"))
    co_by_id = {
        d.id: d
        for d in (
            _department(session, i, N_("Co-handling departments"))
            for i in co_department_ids or ()
            if str(i).strip()
        )
    }
    co = [co_by_id[i] for i in sorted(co_by_id) if i != lead.id]
    _check_not_concerned(case, [lead, *co])
    move(
        session,
        case,
        Action.DISPATCH,
        actor,
        now,
        note=clean_text(note, N_("Note"), required=False),
        public_text=N_("Your case has been sent to the responsible department."),
        data={"lead": lead.id, "co": [d.id for d in co]},
    )
    _open_assignments(session, case, now, lead, co, actor=actor)
    session.flush()
    return case


def _my_assignment(case: Case, actor: Actor) -> Assignment:
    return next(a for a in case.active_assignments if a.department_id == actor.department_id)


def sign_case(session, case: Case, *, actor: Actor, now: datetime, note=None) -> Case:
    """Sign for (签收) the case on behalf of the actor's department."""
    move(session, case, Action.SIGN, actor, now, note=clean_text(note, N_("Note"), required=False))
    assignment = _my_assignment(case, actor)
    assignment.state, assignment.signed_at = AssignmentState.SIGNED, now
    session.flush()
    return case


def add_note(session, case: Case, *, actor: Actor, now: datetime, note) -> Case:
    """Record what the department did (internal; never shown to the reporter)."""
    move(session, case, Action.ADD_NOTE, actor, now, note=clean_text(note, N_("Handling note")))
    session.flush()
    return case


def reply_case(session, case: Case, *, actor: Actor, now: datetime, reply, note=None) -> Case:
    """Answer the reporter; the reply is public, the note stays internal."""
    reply = clean_text(reply, N_("Reply to the reporter"), limit=MAX_CONTENT)
    move(
        session,
        case,
        Action.REPLY,
        actor,
        now,
        public_text=reply,
        note=clean_text(note, N_("Internal note"), required=False),
    )
    clocks.end_pause(session, case, now, actor)  # a reply ends the wait for material
    mark_first_response(case, now)
    for assignment in case.active_assignments:
        if assignment.state in (AssignmentState.DISPATCHED, AssignmentState.SIGNED):
            assignment.state, assignment.done_at = AssignmentState.DONE, now
    case.reply, case.replied_at = reply, now
    # No department held it: the office answered a B-grade report it found untrue itself.
    template = "case_replied" if case.lead_department_id else "case_replied_by_office"
    outbox.to_reporters(session, case, template=template, now=now, step=f"reply:{len(case.events)}")
    session.flush()
    return case


def request_extension(session, case: Case, *, actor: Actor, now: datetime, days, reason) -> Case:
    """Ask the supervisor's office for more working days, before the deadline."""
    try:
        days = int(days)
    except (TypeError, ValueError):
        days = 0
    limit = get_settings(session, case.jurisdiction)["max_extension_days"]
    if not 1 <= days <= limit:
        raise Invalid(N_("An extension must be between 1 and %(limit)s working days."), limit=limit)
    reason = clean_text(reason, N_("Reason"))
    lead = case.lead_assignment
    if lead is not None and now > lead.due_at:
        raise Invalid(N_("An extension must be requested before the deadline."))
    move(session, case, Action.REQUEST_EXTENSION, actor, now, note=reason, data={"days": days})
    request = ExtensionRequest(
        assignment_id=lead.id,
        days=days,
        reason=reason,
        requested_at=now,
        requested_by_id=actor.id,
        state=ExtensionState.PENDING,
    )
    case.extensions.append(request)
    session.flush()
    outbox.to_supervisors(
        session,
        key=f"extension_requested:{request.id}",
        template="extension_requested",
        now=now,
        case_id=case.id,
        params={
            "number": case.number,
            "department": lead.department.name,
            "days": days,
            "due": outbox.when(case.due_at),
            "new_due": outbox.when(extended_due(session, case)),
        },
    )
    return case


def _extended_assignments(case: Case) -> list[Assignment]:
    """The assignments an approved extension moves: every running one of the current round,
    so the case keeps one deadline (the lead's) that its co-handlers share."""
    return [
        a for a in case.active_assignments if a.state in (AssignmentState.DISPATCHED, AssignmentState.SIGNED)
    ]


def extended_due(session, case: Case, calendar=None) -> datetime | None:
    """The deadline the pending extension would give the case if approved (the lead's
    deadline moved by the working days asked), or None without a pending request."""
    request, lead = case.pending_extension, case.lead_assignment
    if request is None or lead is None:
        return None
    due = dl.working_day_deadline(
        calendar or load_calendar(session, case.jurisdiction),
        lead.due_start_at,
        lead.due_days + lead.extension_days + lead.pause_days + request.days,
    ).due_at
    return min(due, case.jurisdiction_due_at) if case.jurisdiction_due_at is not None else due


def decide_extension(session, case: Case, *, actor: Actor, now: datetime, approve: bool, note=None) -> Case:
    """Approve (moving the deadline by the working days asked, once) or refuse the pending
    extension request; the department is told, and the reporter when the deadline moves."""
    action = Action.APPROVE_EXTENSION if approve else Action.REFUSE_EXTENSION
    note = clean_text(note, N_("Decision note"), required=not approve)
    _check(session, case, action, actor)
    request = case.pending_extension
    event = move(session, case, action, actor, now, note=note, data={"days": request.days})
    request.state = ExtensionState.APPROVED if approve else ExtensionState.REFUSED
    request.decided_at, request.decided_by_id, request.decision_note = now, actor.id, note
    told = [case.lead_assignment.department_id]
    if approve:
        calendar = load_calendar(session, case.jurisdiction)
        extended = _extended_assignments(case)
        for assignment in extended:
            assignment.extension_days += request.days
            _set_assignment_due(assignment, calendar)
        _refresh_case_due(case, calendar, session)
        event.public_text = N_("The handling period of your case has been extended.")
        event.data = {"days": request.days, "due_at": case.due_at.isoformat()}
        told += [a.department_id for a in extended]
        outbox.to_reporters(session, case, template="case_extended", now=now, step=f"extension:{request.id}")
    template = "extension_approved" if approve else "extension_refused"
    for department_id in dict.fromkeys(told):
        outbox.to_department(
            session,
            department_id,
            key=f"{template}:{request.id}",
            template=template,
            now=now,
            case_id=case.id,
            params={"number": case.number, "days": request.days, "due": outbox.when(case.due_at)},
        )
    session.flush()
    return case


def approve_extension(session, case: Case, *, actor: Actor, now: datetime, note=None) -> Case:
    """Approve the pending extension request."""
    return decide_extension(session, case, actor=actor, now=now, approve=True, note=note)


def refuse_extension(session, case: Case, *, actor: Actor, now: datetime, note=None) -> Case:
    """Refuse the pending extension request (a reason is required)."""
    return decide_extension(session, case, actor=actor, now=now, approve=False, note=note)


def return_case(session, case: Case, *, actor: Actor, now: datetime, reason) -> Case:
    """Return a misrouted case to the dispatcher with a reason (退单)."""
    reason = clean_text(reason, N_("Reason"))
    move(session, case, Action.RETURN, actor, now, note=reason)
    clocks.end_pause(session, case, now, actor)
    for assignment in case.active_assignments:
        assignment.active = False
        assignment.state = AssignmentState.RETURNED
        assignment.done_at = now
    department = case.lead_department
    case.lead_department = None
    case.proposed_department = propose_department(session, case)
    _refresh_case_due(case, load_calendar(session, case.jurisdiction), session)
    returns = sum(1 for e in case.events if e.action == Action.RETURN)
    told = {
        "key": f"case_returned:{case.id}:{returns}",
        "template": "case_returned",
        "now": now,
        "case_id": case.id,
        "params": {"number": case.number, "department": department.name},
    }
    outbox.to_supervisors(session, **told)
    outbox.to_office(session, Role.DISPATCHER, **told)
    limit = get_settings(session, case.jurisdiction)["returns_for_rectification"]
    if returns >= limit and actor.department_id:
        raise_notice(
            session,
            cause=NoticeCause.REPEATED_RETURNS,
            subject=f"case:{case.id}",
            department_id=actor.department_id,
            cases=[case],
            now=now,
            actor=SYSTEM,
            details=f"工单{case.number}已被退回{returns}次，存在推诿扯皮。",
        )
    session.flush()
    return case


def evaluate_case(
    session, case: Case, *, actor: Actor, now: datetime, rating, source, reason=None, method=None
) -> Case:
    """Record the reporter's rating (or a revisit, with how it was made: phone, text message,
    in person, video); unsatisfied needs a reason. Nothing is assumed: no default rating."""
    rating = clean_enum(Rating, rating, N_("Rating"))
    source = clean_enum(EvaluationSource, source, N_("Evaluation source"))
    method = clean_enum(
        RevisitMethod,
        method,
        N_("How the revisit was made"),
        required=source == EvaluationSource.REVISIT_CALL,
    )
    if source != EvaluationSource.REVISIT_CALL:
        method = None
    reason = clean_text(reason, N_("Reason"), required=rating == Rating.UNSATISFIED)
    record_rating(
        session,
        case,
        Action.EVALUATE,
        actor,
        now,
        target=EVALUATION_TARGETS[rating],
        rating=rating,
        source=source,
        reason=reason,
        method=method,
    )
    session.flush()
    return case


# The actions whose event may carry a rating that became the case's rating.
RATING_ACTIONS = (Action.EVALUATE, Action.RECORD_REVISIT)


def record_rating(
    session,
    case: Case,
    action: Action,
    actor: Actor,
    now: datetime,
    *,
    target: Status,
    rating: Rating,
    source: EvaluationSource,
    reason: str | None,
    method: RevisitMethod | None,
    changes: dict | None = None,
    data: dict | None = None,
) -> CaseEvent:
    """Make a (checked) rating the case's rating through ``action`` (an evaluation, or a revisit
    call): the move, the unrated-reply calls it answers, and the rectification notice at the
    second unsatisfied result on the case (004)."""
    data = {**(data or {}), "rating": str(rating), "source": str(source)}
    if method:
        data["method"] = str(method)
    event = move(session, case, action, actor, now, target=target, note=reason, data=data, changes=changes)
    case.rating, case.rating_source, case.rating_reason = rating, source, reason
    for task in session.query(RevisitTask).filter(
        RevisitTask.case_id == case.id, RevisitTask.reason.like("unrated%"), RevisitTask.done_at.is_(None)
    ):
        task.done_at, task.done_by_id = now, actor.id
        task.outcome = f"{rating}:{method}" if method else str(rating)
    unsatisfied = sum(
        1
        for e in case.events
        if e.action in RATING_ACTIONS and (e.data or {}).get("rating") == Rating.UNSATISFIED
    )
    if unsatisfied >= 2 and case.lead_department_id:
        raise_notice(
            session,
            cause=NoticeCause.TWO_UNSATISFIED,
            subject=f"case:{case.id}",
            department_id=case.lead_department_id,
            cases=[case],
            now=now,
            actor=SYSTEM,
            details=f"工单{case.number}两次答复均被评价为不满意。",
        )
    return event


def rehandle_case(session, case: Case, *, actor: Actor, now: datetime, note, lead_department_id=None) -> Case:
    """Send an unsatisfied case back for re-handling (二次分办) with a new deadline."""
    note = clean_text(note, N_("Reason"))
    _check(session, case, Action.REHANDLE, actor)
    last_round = max((x.round for x in case.assignments), default=0)
    previous = [a for a in case.assignments if a.round == last_round]
    lead = (
        _department(session, lead_department_id, N_("Lead department"))
        if lead_department_id not in (None, "")
        else case.lead_department
    )
    if lead is None:  # the office answered it itself (a B grade found untrue): name a department
        raise Invalid(N_("Choose the lead department that is to handle the case again."))
    co = [a.department for a in previous if a.role == AssignmentRole.CO and a.department_id != lead.id]
    _check_not_concerned(case, [lead, *co])
    move(
        session,
        case,
        Action.REHANDLE,
        actor,
        now,
        note=note,
        public_text=N_("Your case is being handled again."),
    )
    case.rehandle_count += 1
    case.clock_start_at = now
    case.rating = case.rating_source = case.rating_reason = None
    _open_assignments(
        session,
        case,
        now,
        lead,
        co,
        department_template="rehandle",
        reporter_template="case_rehandled",
        actor=actor,
    )
    session.flush()
    return case


def escalate_case(session, case: Case, *, actor: Actor, now: datetime, note) -> Case:
    """Escalate a difficult case to the next level up (提级办理)."""
    note = clean_text(note, N_("Reason"))
    _check(session, case, Action.ESCALATE, actor)
    higher = case.lead_department.parent
    _check_not_concerned(case, [higher])
    move(
        session,
        case,
        Action.ESCALATE,
        actor,
        now,
        note=note,
        public_text=N_("Your case has been escalated to a higher level."),
        data={"from": case.lead_department_id, "to": higher.id},
    )
    case.escalation_count += 1
    case.is_difficult = True
    case.clock_start_at = now
    case.rating = case.rating_source = case.rating_reason = None
    previous = {a.department_id for a in case.active_assignments} - {higher.id}
    _open_assignments(
        session,
        case,
        now,
        higher,
        [],
        department_template="escalated_to",
        reporter_template="case_escalated",
        actor=actor,
    )
    key = f"escalated:{case.id}:{case.escalation_count}"
    told = {
        "template": "escalated",
        "now": now,
        "case_id": case.id,
        "params": {"number": case.number, "department": higher.name},
    }
    outbox.to_supervisors(session, key=key, **told)
    for department_id in sorted(previous):  # the departments that handled it so far
        outbox.to_department(session, department_id, key=f"{key}:from:{department_id}", **told)
    session.flush()
    return case


def close_case(session, case: Case, *, actor: Actor, now: datetime, note=None) -> Case:
    """Close an evaluated case (an unsatisfied one only with the reason it is not re-handled)."""
    note = clean_text(note, N_("Reason"), required=case.status == Status.UNSATISFIED)
    move(session, case, Action.CLOSE, actor, now, note=note, public_text=N_("Your case has been closed."))
    case.closed_at = now
    outbox.to_reporters(session, case, template="case_closed", now=now, step="close")
    session.flush()
    return case


def merge_case(session, case: Case, *, actor: Actor, now: datetime, into_case, note=None) -> Case:
    """Merge a duplicate into the case it repeats (see reporting.merge_case)."""
    from app.services import reporting  # reporting builds on this module

    return reporting.merge_case(session, case, actor=actor, now=now, into_case=into_case, note=note)


# The services of the handling steps build on this module's checks and moves.
from app.services import clocks, cohandling, levels, revisits, verification  # noqa: E402

ACTION_SERVICES = {
    Action.CLASSIFY: classify_case,
    Action.ACCEPT: accept_case,
    Action.DECLINE: decline_case,
    Action.DISPATCH: dispatch_case,
    Action.SIGN: sign_case,
    Action.ADD_NOTE: add_note,
    Action.REPLY: reply_case,
    Action.REQUEST_EXTENSION: request_extension,
    Action.APPROVE_EXTENSION: approve_extension,
    Action.REFUSE_EXTENSION: refuse_extension,
    Action.RETURN: return_case,
    Action.EVALUATE: evaluate_case,
    Action.REHANDLE: rehandle_case,
    Action.ESCALATE: escalate_case,
    Action.CLOSE: close_case,
    Action.MERGE: merge_case,
    Action.RECORD_FINDING: verification.record_finding,
    Action.PLAN_RECTIFICATION: verification.plan_rectification,
    Action.REPORT_RECTIFICATION: verification.report_rectification,
    Action.ACCEPT_RECTIFICATION: verification.accept_rectification,
    Action.REJECT_RECTIFICATION: verification.reject_rectification,
    Action.PAUSE_CLOCK: clocks.pause_clock,
    Action.RESUME_CLOCK: clocks.resume_clock,
    Action.RETURN_PART: cohandling.return_part,
    Action.REPLY_PART: cohandling.reply_part,
    Action.RAISE_DISPUTE: cohandling.raise_dispute,
    Action.DECIDE_DISPUTE: cohandling.decide_dispute,
    Action.REJECT_REPLY: cohandling.reject_reply,
    Action.RECORD_REVISIT: revisits.record_revisit,
    Action.REFER_UP: levels.refer_up,
    Action.PULL_UP: levels.pull_up,
    Action.SEND_DOWN: levels.send_down,
}


def perform(
    session,
    case_id: int,
    action: Action | str,
    *,
    actor: Actor,
    now: datetime,
    params: dict | None = None,
    **more,
) -> Case:
    """Run one action on a case the actor can see (the entry point for screens, API and jobs).
    ``params`` are the action's own parameters (a JSON body): who acts and when are never
    among them."""
    try:
        action = Action(action)
    except ValueError:
        raise NotFound(N_("Unknown action.")) from None
    service = ACTION_SERVICES[action]
    case = get_case(session, case_id, actor, for_update=True)  # an unseen case is just 404
    params = {**(params or {}), **more}
    try:
        if params.keys() & {"session", "case", "actor", "now"}:
            raise TypeError
        signature = inspect.signature(service)
        signature.bind(session, case, actor=actor, now=now, **params)
    except TypeError:
        expected = [
            name
            for name, p in inspect.signature(service).parameters.items()
            if p.kind == p.KEYWORD_ONLY and name not in ("actor", "now")
        ]
        raise Invalid(
            N_("Invalid parameters for this action; it takes: %(names)s."), names=", ".join(expected) or "—"
        ) from None
    return service(session, case, actor=actor, now=now, **params)


def due_soon_window(session, jurisdiction=None) -> timedelta:
    """How long before a deadline a case counts as due soon (a setting of the jurisdiction;
    None: the root's)."""
    return timedelta(hours=get_settings(session, jurisdiction)["due_soon_hours"])
