"""The flow of a case: statuses, actions, who may take them, and the one transition table (pure).

受理 accept → 分办 dispatch → 签收 sign → 办理 handle → 答复 reply → 评价 evaluate → 办结 close
(DOMAIN.md, seeds 000/001/004). Services consult this table before changing anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


def N_(text: str) -> str:
    """Mark a label for translation; views translate it when they show it."""
    return text


SAME = "same"  # a move that keeps the status


class Status(StrEnum):
    SUBMITTED = "submitted"
    DECLINED = "declined"
    ACCEPTED = "accepted"
    DISPATCHED = "dispatched"
    RETURNED = "returned"
    HANDLING = "handling"
    REPLIED = "replied"
    UNSATISFIED = "unsatisfied"
    EVALUATED = "evaluated"
    CLOSED = "closed"


STATUS_LABELS = {
    Status.SUBMITTED: N_("Awaiting acceptance"),
    Status.DECLINED: N_("Declined"),
    Status.ACCEPTED: N_("Accepted, awaiting dispatch"),
    Status.DISPATCHED: N_("Dispatched, awaiting signature"),
    Status.RETURNED: N_("Returned by department"),
    Status.HANDLING: N_("Being handled"),
    Status.REPLIED: N_("Replied, awaiting evaluation"),
    Status.UNSATISFIED: N_("Unsatisfied, awaiting decision"),
    Status.EVALUATED: N_("Evaluated, awaiting closing"),
    Status.CLOSED: N_("Closed"),
}

# What the reporter is shown on the tracking page: the staff's working labels ("unsatisfied,
# awaiting decision") are theirs, not the reporter's.
REPORTER_STATUS_LABELS = {
    Status.SUBMITTED: N_("Awaiting acceptance"),
    Status.DECLINED: N_("Declined"),
    Status.ACCEPTED: N_("Accepted"),
    Status.DISPATCHED: N_("Sent to the responsible department"),
    Status.RETURNED: N_("Being sent to the responsible department"),
    Status.HANDLING: N_("Being handled"),
    Status.REPLIED: N_("Answered, awaiting your rating"),
    Status.UNSATISFIED: N_("Rated; the supervisor's office is deciding the next step"),
    Status.EVALUATED: N_("Rated, about to be closed"),
    Status.CLOSED: N_("Closed"),
}

OPEN_STATUSES = frozenset(Status) - {Status.DECLINED, Status.CLOSED}


class Role(StrEnum):
    """Workflow roles; the security roles of the same names grant them."""

    ADMIN = "Admin"
    CLERK = "Clerk"
    DISPATCHER = "Dispatcher"
    HANDLER = "Handler"
    SUPERVISOR = "Supervisor"
    LEADER = "Leader"
    REPORTER = "Reporter"  # the public, acting through a receipt (never a staff account)
    INTEGRATION = "Integration"  # a connected system (e.g. a 12345 platform) with an API key
    FINANCE = "Finance"  # pays rewards; the only staff who see payment details
    CUSTODIAN = "Custodian"  # keeps reporters' identities: decides who else may see one
    INSPECTOR = "Inspector"  # a law-enforcement officer registering inspections (入企扫码)


ROLE_LABELS = {
    Role.ADMIN: N_("Administrator"),
    Role.CLERK: N_("Intake clerk"),
    Role.DISPATCHER: N_("Dispatcher"),
    Role.HANDLER: N_("Handler"),
    Role.SUPERVISOR: N_("Supervisor"),
    Role.LEADER: N_("Leader"),
    Role.REPORTER: N_("Reporter"),
    Role.INTEGRATION: N_("Connected system"),
    Role.FINANCE: N_("Finance"),
    Role.CUSTODIAN: N_("Identity custodian"),
    Role.INSPECTOR: N_("Enforcement officer"),
}


class Action(StrEnum):
    CLASSIFY = "classify"
    ACCEPT = "accept"
    DECLINE = "decline"
    DISPATCH = "dispatch"
    SIGN = "sign"
    ADD_NOTE = "add_note"
    REPLY = "reply"
    REQUEST_EXTENSION = "request_extension"
    APPROVE_EXTENSION = "approve_extension"
    REFUSE_EXTENSION = "refuse_extension"
    RETURN = "return"
    EVALUATE = "evaluate"
    REHANDLE = "rehandle"
    ESCALATE = "escalate"
    CLOSE = "close"
    MERGE = "merge"
    # Verification (核查) and rectification (整改), seed 000: 受理-核查-整改-反馈-公示.
    RECORD_FINDING = "record_finding"
    PLAN_RECTIFICATION = "plan_rectification"
    REPORT_RECTIFICATION = "report_rectification"
    ACCEPT_RECTIFICATION = "accept_rectification"
    REJECT_RECTIFICATION = "reject_rectification"
    # The clock stops while the department waits for the reporter's material (停表).
    PAUSE_CLOCK = "pause_clock"
    RESUME_CLOCK = "resume_clock"
    # Co-handling (004): a co-handler returns or answers its own part; disputes go to the office.
    RETURN_PART = "return_part"
    REPLY_PART = "reply_part"
    RAISE_DISPUTE = "raise_dispute"
    DECIDE_DISPUTE = "decide_dispute"
    # The office refuses a reply as an improper request to close (办结审核不通过).
    REJECT_REPLY = "reject_reply"
    # A revisit call worked from the queue (reached or not, the rating, notes).
    RECORD_REVISIT = "record_revisit"
    # Across the levels of government (issue 15): 提级办理 to the office above, an upper
    # office taking a lower one's case over (上收), and sending a case down (交办) with a deadline.
    REFER_UP = "refer_up"
    PULL_UP = "pull_up"
    SEND_DOWN = "send_down"


ACTION_LABELS = {
    Action.CLASSIFY: N_("Classify"),
    Action.ACCEPT: N_("Accept"),
    Action.DECLINE: N_("Decline"),
    Action.DISPATCH: N_("Dispatch"),
    Action.SIGN: N_("Sign for"),
    Action.ADD_NOTE: N_("Record handling note"),
    Action.REPLY: N_("Reply to reporter"),
    Action.REQUEST_EXTENSION: N_("Request extension"),
    Action.APPROVE_EXTENSION: N_("Approve extension"),
    Action.REFUSE_EXTENSION: N_("Refuse extension"),
    Action.RETURN: N_("Return as misrouted"),
    Action.EVALUATE: N_("Record evaluation"),
    Action.REHANDLE: N_("Send back for re-handling"),
    Action.ESCALATE: N_("Escalate to next level"),
    Action.CLOSE: N_("Close"),
    Action.MERGE: N_("Merge into another case"),
    Action.RECORD_FINDING: N_("Record verification finding"),
    Action.PLAN_RECTIFICATION: N_("Set rectification plan"),
    Action.REPORT_RECTIFICATION: N_("Report rectification completed"),
    Action.ACCEPT_RECTIFICATION: N_("Accept rectification after re-check"),
    Action.REJECT_RECTIFICATION: N_("Send rectification back"),
    Action.PAUSE_CLOCK: N_("Pause the clock"),
    Action.RESUME_CLOCK: N_("Resume the clock"),
    Action.RETURN_PART: N_("Return our part"),
    Action.REPLY_PART: N_("Answer our part to the lead"),
    Action.RAISE_DISPUTE: N_("Dispute responsibility"),
    Action.DECIDE_DISPUTE: N_("Decide the dispute"),
    Action.REJECT_REPLY: N_("Refuse the reply"),
    Action.RECORD_REVISIT: N_("Record revisit call"),
    Action.REFER_UP: N_("Refer up to the higher office"),
    Action.PULL_UP: N_("Take over from the lower office"),
    Action.SEND_DOWN: N_("Send down to a lower office"),
}

# Lines of a case's history that change no status (not actions of the table).
EVENT_LABELS = {
    "file": N_("Filed"),
    "add_material": N_("Material added by the reporter"),
    "merge_in": N_("Duplicate merged in"),
    "rate": N_("Rated by a reporter"),
    "assign_supervisor": N_("Supervisor named"),
    "resume_on_material": N_("Clock resumed: the reporter sent material"),
    "assignment_letter": N_("Assignment letter issued"),
    "drop_rectification": N_("Rectification dropped: the revised finding found nothing to rectify"),
}


class Guard(StrEnum):
    """Facts about a case, besides its status, that some moves depend on."""

    NONE = "none"
    # The case is the office's own jurisdiction's (or the actor acts for a department, not an
    # office): every office row of the table carries it, so an upper office reads a lower one's
    # case and can take it over, but does not act on it in its place.
    OWN_JURISDICTION = "own_jurisdiction"
    IN_LOWER_JURISDICTION = "in_lower_jurisdiction"  # the case is an office under the actor's
    HAS_PARENT_JURISDICTION = "has_parent_jurisdiction"  # the case's office has one above it
    HAS_LOWER_JURISDICTION = "has_lower_jurisdiction"  # the case's office has offices under it
    ASSIGNED_TO_ACTOR = "assigned_to_actor"  # actor's department holds an active assignment
    LEAD_IS_ACTOR = "lead_is_actor"  # actor's department is the lead department
    UNSIGNED_FOR_ACTOR = "unsigned_for_actor"  # actor's department has not signed yet
    NO_PENDING_EXTENSION = "no_pending_extension"
    PENDING_EXTENSION = "pending_extension"
    REHANDLE_LEFT = "rehandle_left"  # fewer re-handlings than the configured maximum
    HAS_HIGHER_LEVEL = "has_higher_level"  # the lead department has a parent to escalate to
    # Verification: who verifies (the lead department; the supervisor's office for B grades)
    # and whether the finding a reply needs is there.
    VERIFIER_IS_ACTOR = "verifier_is_actor"  # a complaint or report the actor is to verify
    FINDING_RECORDED = "finding_recorded"  # no finding is needed, or one is recorded
    VERIFIED_FIRST = "verified_first"  # not a B grade, or the office's preliminary finding is in
    OFFICE_FOUND_UNFOUNDED = "office_found_unfounded"  # B grade the office found untrue/unverifiable
    HANDLED_BY_DEPARTMENT = "handled_by_department"  # a lead department holds the case
    RECTIFICATION_AWAITING_PLAN = "rectification_awaiting_plan"
    RECTIFICATION_PLANNED = "rectification_planned"
    RECTIFICATION_SUBMITTED = "rectification_submitted"
    NO_OPEN_RECTIFICATION = "no_open_rectification"
    CLOCK_RUNNING = "clock_running"
    CLOCK_PAUSED = "clock_paused"
    CO_HANDLER_IS_ACTOR = "co_handler_is_actor"  # actor's department has a running co-handling part
    NO_OPEN_DISPUTE = "no_open_dispute"
    OPEN_DISPUTE = "open_dispute"
    REVISIT_DUE = "revisit_due"  # an open revisit call on the case


@dataclass(frozen=True)
class Transition:
    action: Action
    source: Status
    target: Status | None  # None: decided by the outcome (see EVALUATION_TARGETS)
    roles: frozenset[Role]
    guards: tuple[Guard, ...] = ()


def _t(action, sources, target, roles, *guards):
    return [Transition(action, s, s if target == SAME else target, frozenset(roles), guards) for s in sources]


_S, _R, _A = Status, Role, Action
# Statuses in which a rectification is planned, carried out and re-checked.
RECTIFYING = [_S.HANDLING, _S.REPLIED, _S.UNSATISFIED, _S.EVALUATED]
TRANSITIONS: tuple[Transition, ...] = tuple(
    _t(_A.CLASSIFY, [_S.SUBMITTED, _S.ACCEPTED, _S.RETURNED], SAME, [_R.CLERK])
    + _t(_A.ACCEPT, [_S.SUBMITTED], _S.ACCEPTED, [_R.CLERK])
    + _t(_A.DECLINE, [_S.SUBMITTED], _S.DECLINED, [_R.CLERK])
    + _t(_A.MERGE, [_S.SUBMITTED], _S.DECLINED, [_R.CLERK])
    + _t(_A.DISPATCH, [_S.ACCEPTED, _S.RETURNED], _S.DISPATCHED, [_R.DISPATCHER], Guard.VERIFIED_FIRST)
    + _t(
        _A.SIGN,
        [_S.DISPATCHED, _S.HANDLING],
        _S.HANDLING,
        [_R.HANDLER],
        Guard.ASSIGNED_TO_ACTOR,
        Guard.UNSIGNED_FOR_ACTOR,
    )
    + _t(_A.ADD_NOTE, [_S.HANDLING], SAME, [_R.HANDLER], Guard.ASSIGNED_TO_ACTOR)
    + _t(_A.REPLY, [_S.HANDLING], _S.REPLIED, [_R.HANDLER], Guard.LEAD_IS_ACTOR, Guard.FINDING_RECORDED)
    + _t(
        _A.REQUEST_EXTENSION,
        [_S.HANDLING],
        SAME,
        [_R.HANDLER],
        Guard.LEAD_IS_ACTOR,
        Guard.NO_PENDING_EXTENSION,
    )
    + _t(_A.APPROVE_EXTENSION, [_S.HANDLING], SAME, [_R.SUPERVISOR], Guard.PENDING_EXTENSION)
    + _t(_A.REFUSE_EXTENSION, [_S.HANDLING], SAME, [_R.SUPERVISOR], Guard.PENDING_EXTENSION)
    + _t(_A.RETURN, [_S.DISPATCHED, _S.HANDLING], _S.RETURNED, [_R.HANDLER], Guard.LEAD_IS_ACTOR)
    + _t(_A.EVALUATE, [_S.REPLIED], None, [_R.SUPERVISOR, _R.REPORTER])
    + _t(_A.REHANDLE, [_S.UNSATISFIED], _S.DISPATCHED, [_R.SUPERVISOR], Guard.REHANDLE_LEFT)
    + _t(_A.ESCALATE, [_S.UNSATISFIED, _S.HANDLING], _S.DISPATCHED, [_R.SUPERVISOR], Guard.HAS_HIGHER_LEVEL)
    + _t(_A.CLOSE, [_S.EVALUATED, _S.UNSATISFIED], _S.CLOSED, [_R.SUPERVISOR], Guard.NO_OPEN_RECTIFICATION)
    # Verification: the lead department (or, for B grades, the office before dispatch).
    + _t(
        _A.RECORD_FINDING,
        [_S.ACCEPTED, _S.HANDLING],
        SAME,
        [_R.HANDLER, _R.SUPERVISOR],
        Guard.VERIFIER_IS_ACTOR,
    )
    # A B-grade report the office found untrue or unverifiable is answered by the office.
    + _t(_A.REPLY, [_S.ACCEPTED], _S.REPLIED, [_R.SUPERVISOR], Guard.OFFICE_FOUND_UNFOUNDED)
    # Rectification runs alongside the reply and the rating; the case does not close before it.
    + _t(
        _A.PLAN_RECTIFICATION,
        RECTIFYING,
        SAME,
        [_R.HANDLER],
        Guard.LEAD_IS_ACTOR,
        Guard.RECTIFICATION_AWAITING_PLAN,
    )
    + _t(
        _A.REPORT_RECTIFICATION,
        RECTIFYING,
        SAME,
        [_R.HANDLER],
        Guard.LEAD_IS_ACTOR,
        Guard.RECTIFICATION_PLANNED,
    )
    + _t(_A.ACCEPT_RECTIFICATION, RECTIFYING, SAME, [_R.SUPERVISOR], Guard.RECTIFICATION_SUBMITTED)
    + _t(_A.REJECT_RECTIFICATION, RECTIFYING, SAME, [_R.SUPERVISOR], Guard.RECTIFICATION_SUBMITTED)
    + _t(_A.PAUSE_CLOCK, [_S.HANDLING], SAME, [_R.HANDLER], Guard.LEAD_IS_ACTOR, Guard.CLOCK_RUNNING)
    + _t(_A.RESUME_CLOCK, [_S.HANDLING], SAME, [_R.HANDLER], Guard.LEAD_IS_ACTOR, Guard.CLOCK_PAUSED)
    + _t(_A.RETURN_PART, [_S.DISPATCHED, _S.HANDLING], SAME, [_R.HANDLER], Guard.CO_HANDLER_IS_ACTOR)
    + _t(_A.REPLY_PART, [_S.HANDLING], SAME, [_R.HANDLER], Guard.CO_HANDLER_IS_ACTOR)
    + _t(
        _A.RAISE_DISPUTE,
        [_S.DISPATCHED, _S.HANDLING],
        SAME,
        [_R.HANDLER],
        Guard.ASSIGNED_TO_ACTOR,
        Guard.NO_OPEN_DISPUTE,
    )
    # None: the office's decision keeps the lead (same status) or names another (dispatched).
    + _t(
        _A.DECIDE_DISPUTE,
        [_S.DISPATCHED, _S.HANDLING],
        None,
        [_R.DISPATCHER, _R.SUPERVISOR],
        Guard.OPEN_DISPUTE,
    )
    + _t(_A.REJECT_REPLY, [_S.REPLIED], _S.HANDLING, [_R.SUPERVISOR], Guard.HANDLED_BY_DEPARTMENT)
    # None: decided by the call (not reached: same; a rating: as an evaluation would).
    + _t(
        _A.RECORD_REVISIT,
        [_S.REPLIED, _S.EVALUATED, _S.CLOSED],
        None,
        [_R.SUPERVISOR, _R.CLERK],
        Guard.REVISIT_DUE,
    )
)

# Moves across levels: refer up or send down one's own case; take over a lower office's.
_CROSSABLE = [_S.ACCEPTED, _S.RETURNED, _S.DISPATCHED, _S.HANDLING, _S.UNSATISFIED]
TRANSITIONS += tuple(
    _t(_A.REFER_UP, _CROSSABLE, _S.ACCEPTED, [_R.DISPATCHER, _R.SUPERVISOR], Guard.HAS_PARENT_JURISDICTION)
    # None: a case not yet accepted stays so (the upper office's clerk accepts it); else accepted.
    + _t(
        _A.PULL_UP,
        [_S.SUBMITTED, *_CROSSABLE],
        None,
        [_R.DISPATCHER, _R.SUPERVISOR],
        Guard.IN_LOWER_JURISDICTION,
    )
    + _t(
        _A.SEND_DOWN,
        [_S.ACCEPTED, _S.RETURNED],
        _S.ACCEPTED,
        [_R.DISPATCHER, _R.SUPERVISOR],
        Guard.HAS_LOWER_JURISDICTION,
    )
)

#: The roles of an office (the others act for a department, a reporter or a connected system).
OFFICE_ROLES = frozenset(
    {Role.ADMIN, Role.CLERK, Role.DISPATCHER, Role.SUPERVISOR, Role.LEADER, Role.CUSTODIAN}
)
# The one move an office makes on a case that is not its own jurisdiction's.
ACROSS_JURISDICTIONS = frozenset({Action.PULL_UP})
TRANSITIONS = tuple(
    t
    if t.action in ACROSS_JURISDICTIONS or not t.roles & OFFICE_ROLES
    else Transition(t.action, t.source, t.target, t.roles, (Guard.OWN_JURISDICTION, *t.guards))
    for t in TRANSITIONS
)

_BY_KEY = {(t.action, t.source): t for t in TRANSITIONS}

# The statuses the evaluation can lead to (decided by the rating).
EVALUATION_TARGETS = {
    "satisfied": Status.EVALUATED,
    "basically_satisfied": Status.EVALUATED,
    "unsatisfied": Status.UNSATISFIED,
}


def find_transition(action: Action, source: Status) -> Transition | None:
    """Return the table row for ``action`` from ``source``, if there is one."""
    return _BY_KEY.get((Action(action), Status(source)))


def allowed_actions(
    status: Status, roles: set[Role] | frozenset[Role], facts: set[Guard] | frozenset[Guard]
) -> list[Action]:
    """List the actions a holder of ``roles`` may take on a case in ``status`` given ``facts``."""
    return [
        t.action
        for t in TRANSITIONS
        if t.source == status and t.roles & set(roles) and set(t.guards) <= set(facts)
    ]
