"""Reporter protection: receipts, who may see an identity, and the record of every look.

Need to know (DOMAIN.md "Protection of reporters", seeds 000/004): a named reporter's identity
is shown only to the people investigating that case —

* the supervisor the case is assigned to (``Case.supervisor``, named by the dispatcher or the
  custodian, never by the supervisor themselves);
* discipline inspection (纪检监察, a department flag) for an A-grade report its department handles;
* the identity custodian (a role), who also decides the requests of everyone else;
* the handling department, to contact the reporter, only for named, non-confidential cases that
  are not reports;
* whoever holds an approved request for the case, until it expires.

Nobody sees a case the visibility rule keeps from them (app/services/visibility.py), whatever
their entitlement. Every look is appended to IdentityAccess with the entitlement it used, and
every request, approval, refusal and look is written to the audit log.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import or_, select
from sqlalchemy.orm import object_session

from app.enums import CaseType, Grade, IdentityRequestState
from app.errors import IllegalMove, Invalid, NotAllowed, NotFound
from app.ids import as_id
from app.receipts import code_hash, keyed_digest, new_query_code
from app.services import jurisdictions, visibility
from app.services.actor import Actor
from app.workflow import N_, Role
from models import Case, CaseEvent, IdentityAccess, IdentityRequest, Reporter, Staff

CREDIT_CODE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")
PHONE = re.compile(r"^\+?[0-9][0-9 \-]{5,19}$")
COMPANY_SUFFIXES = ("股份有限公司", "有限责任公司", "有限公司", "集团公司", "公司")


def _key() -> str:
    return current_app.config["QUERY_CODE_KEY"]


def normalize_company(name: str) -> str:
    """Compare company names blind to width, spaces and legal-form suffixes."""
    name = unicodedata.normalize("NFKC", name).replace(" ", "").strip()
    for suffix in COMPANY_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def new_reporter(
    *,
    receipt_number: str,
    now: datetime,
    anonymous: bool,
    confidential: bool,
    name=None,
    phone=None,
    company=None,
    credit_code=None,
) -> tuple[Reporter, str]:
    """Build a reporter with a fresh query code; return it with the code (shown once)."""
    if credit_code and not CREDIT_CODE.match(credit_code.upper()):
        raise Invalid(
            N_("The unified social credit code must have 18 characters (digits and capital letters).")
        )
    if phone and not PHONE.match(phone):
        raise Invalid(N_("Enter a valid phone number."))
    party = (credit_code or "").upper() or (normalize_company(company) if company else "")
    code = new_query_code()
    reporter = Reporter(
        anonymous=anonymous,
        confidential=confidential and not anonymous,
        name=None if anonymous else name,
        phone=None if anonymous else phone,
        company=None if anonymous else company,
        credit_code=None if anonymous else (credit_code or "").upper() or None,
        company_digest=keyed_digest(_key(), party) if party and not anonymous else None,
        receipt_number=receipt_number,
        code_hash=code_hash(_key(), receipt_number, code),
        created_at=now,
    )
    return reporter, code


def receipt_hash(number: str, code: str) -> str | None:
    return code_hash(_key(), number, code)


# Why someone may see who filed a case (recorded with each look).
ASSIGNED_SUPERVISOR = "assigned_supervisor"
DISCIPLINE_INSPECTION = "discipline_inspection"
CUSTODIAN = "custodian"
HANDLING_DEPARTMENT = "handling_department"
APPROVED_REQUEST = "approved_request"

#: Who may ask the custodian to see a reporter (staff working on cases; the clerk took the
#: call and the reporter's details themselves).
REQUEST_ROLES = frozenset({Role.SUPERVISOR, Role.HANDLER, Role.LEADER})
MAX_REASON = 2000


def _now(now: datetime | None) -> datetime:
    from app import clock

    return now or clock.utcnow()


def _handles(case: Case, actor: Actor) -> list:
    """The actor's department's active assignments on the case."""
    if actor.department_id is None:
        return []
    return [a for a in case.active_assignments if a.department_id == actor.department_id]


def active_grant(session, case: Case, actor: Actor, now: datetime | None = None) -> IdentityRequest | None:
    """The actor's approved, unexpired request for this case, if any."""
    if session is None or actor.id is None or case.id is None:
        return None
    return session.execute(
        select(IdentityRequest)
        .where(
            IdentityRequest.case_id == case.id,
            IdentityRequest.requested_by_id == actor.id,
            IdentityRequest.state == IdentityRequestState.APPROVED.value,
            IdentityRequest.expires_at > _now(now),
        )
        .order_by(IdentityRequest.expires_at.desc())
        .limit(1)
    ).scalar_one_or_none()


def entitlement(
    case: Case, actor: Actor, reporter: Reporter | None = None, *, now: datetime | None = None
) -> str | None:
    """Why the actor may see who filed the case (a given reporter, or any of them), or None."""
    reporters = [reporter] if reporter else case.reporters
    named = [r for r in reporters if not r.anonymous]
    if not named or actor.id is None:
        return None
    session = object_session(case)
    if session is not None and not visibility.may_see(session, case, actor):
        return None
    if Role.CUSTODIAN in actor.roles:
        return CUSTODIAN
    # An A-grade report (an allegation against an official) is investigated by discipline
    # inspection (002): its reporter is theirs to know, not the office's supervisor's.
    if (
        Role.SUPERVISOR in actor.roles
        and case.supervisor_id is not None
        and case.supervisor_id == actor.id
        and case.grade != Grade.A
    ):
        return ASSIGNED_SUPERVISOR
    mine = _handles(case, actor)
    if case.grade == Grade.A and any(a.department.discipline_inspection for a in mine):
        return DISCIPLINE_INSPECTION
    if (
        Role.HANDLER in actor.roles
        and mine
        and case.case_type != CaseType.REPORT
        and any(not r.confidential for r in named)
    ):
        return HANDLING_DEPARTMENT
    if case.grade != Grade.A and active_grant(session, case, actor, now) is not None:
        return APPROVED_REQUEST  # an A grade's reporter is never lent out beyond discipline inspection
    return None


def can_see_identity(case: Case, actor: Actor, reporter: Reporter | None = None) -> bool:
    """Say whether the actor may see who filed the case (a given reporter, or any of them)."""
    return entitlement(case, actor, reporter) is not None


def reveal_identity(
    session, case: Case, *, actor: Actor, now: datetime, purpose: str = "view"
) -> list[Reporter]:
    """Return the named reporters the actor may see, recording the look (append-only) with the
    entitlement it used."""
    why = entitlement(case, actor, now=now)
    if why is None:
        raise NotAllowed(N_("You are not entitled to see who filed this case."))
    shown = [
        r for r in case.reporters if not r.anonymous and (why != HANDLING_DEPARTMENT or not r.confidential)
    ]
    grant = active_grant(session, case, actor, now) if why == APPROVED_REQUEST else None
    _record_look(
        session,
        case,
        actor,
        now,
        why,
        {
            "purpose": purpose,
            "entitlement": why,
            "reporters": len(shown),
            **({"request": grant.id} if grant else {}),
        },
    )
    return shown


def _record_look(session, case: Case, actor: Actor, now: datetime, purpose: str, details: dict) -> None:
    """Every look at who filed a case is kept: an append-only access row and the audit log."""
    from app.services import audit

    session.add(
        IdentityAccess(case_id=case.id, actor_id=actor.id, actor_name=actor.name, at=now, purpose=purpose)
    )
    audit.record(session, "identity_view", actor=actor, now=now, subject=case.number, details=details)
    session.flush()


# --- the number a revisit caller dials ----------------------------------------------------

REVISIT_CALL = "revisit_call"
REVISIT_CALLERS = frozenset({Role.CLERK, Role.SUPERVISOR})


def may_call_back(case: Case, actor: Actor) -> bool:
    """A revisit caller (a clerk or supervisor, 12345 seat) of the case's own office working an
    open revisit call on the case may be shown the number to dial."""
    return (
        bool(actor.roles & REVISIT_CALLERS)
        and jurisdictions.is_own(actor, case.jurisdiction)  # the case's own office calls back
        and any(t.done_at is None for t in case.revisits)
    )


def revisit_numbers(session, case: Case, *, actor: Actor, now: datetime) -> list[str]:
    """The phone numbers to dial for the case's open revisit call — only the numbers, not
    names or companies — recording the look like any other (append-only, audited). Those
    entitled to the identity get every named reporter's number; other callers those of named
    reporters who did not ask for confidentiality, never for an A-grade report (its reporter is
    discipline inspection's to contact)."""
    if not may_call_back(case, actor):
        raise NotAllowed(N_("Only the caller of an open revisit call is shown the number to dial."))
    entitled = can_see_identity(case, actor)
    numbers = [
        r.phone
        for r in case.reporters
        if not r.anonymous and r.phone and (entitled or (not r.confidential and case.grade != Grade.A))
    ]
    if not numbers:
        raise NotAllowed(
            N_(
                "No number can be shown to you for this call: the reporter is anonymous, asked for "
                "confidentiality, or gave no phone. The case's supervisor makes this call."
            )
        )
    details = {"purpose": REVISIT_CALL, "entitlement": "identity" if entitled else REVISIT_CALL}
    _record_look(session, case, actor, now, REVISIT_CALL, details)
    return numbers


# --- requests to the custodian --------------------------------------------------------------


def pending_request(session, case: Case, actor: Actor) -> IdentityRequest | None:
    if actor.id is None:
        return None
    return session.execute(
        select(IdentityRequest).where(
            IdentityRequest.case_id == case.id,
            IdentityRequest.requested_by_id == actor.id,
            IdentityRequest.state == IdentityRequestState.PENDING.value,
        )
    ).scalar_one_or_none()


def may_request_identity(session, case: Case, actor: Actor) -> bool:
    """Staff who may see the case but not its reporter may ask the custodian (once at a time)."""
    return (
        actor.id is not None
        and bool(actor.roles & REQUEST_ROLES)
        and case.grade != Grade.A  # restricted to discipline inspection (002)
        and any(not r.anonymous for r in case.reporters)
        and not can_see_identity(case, actor)
        and visibility.may_see(session, case, actor)
        and pending_request(session, case, actor) is None
    )


def request_identity(session, case_id, *, actor: Actor, now: datetime, reason) -> IdentityRequest:
    """Ask the custodian to see who filed a case, saying why."""
    from app.services import audit
    from app.services import notifications as outbox
    from app.services.cases import clean_text, get_case

    case = get_case(session, case_id, actor)
    reason = clean_text(reason, N_("Reason"), limit=MAX_REASON)
    if can_see_identity(case, actor):
        raise IllegalMove(N_("You may already see who filed this case."))
    if pending_request(session, case, actor) is not None:
        raise IllegalMove(N_("Your request for this case is already waiting for the custodian."))
    if not may_request_identity(session, case, actor):
        raise NotAllowed(N_("You cannot ask to see who filed this case."))
    request = IdentityRequest(
        case_id=case.id,
        requested_by_id=actor.id,
        requested_by_name=actor.name,
        reason=reason,
        requested_at=now,
        state=IdentityRequestState.PENDING,
    )
    session.add(request)
    session.flush()
    audit.record(
        session,
        "identity_request",
        actor=actor,
        now=now,
        subject=case.number,
        details={"request": request.id, "reason": reason},
    )
    outbox.to_office(
        session,
        Role.CUSTODIAN,
        key=f"identity_requested:{request.id}",
        template="identity_requested",
        now=now,
        case_id=case.id,
        params={"number": case.number, "requester": actor.name},
    )
    return request


def get_request(session, request_id) -> IdentityRequest:
    request_id = as_id(request_id)
    request = session.get(IdentityRequest, request_id) if request_id is not None else None
    if request is None:
        raise NotFound(N_("Request not found."))
    return request


def decide_identity_request(
    session, request_id, *, actor: Actor, now: datetime, approve: bool, note=None
) -> IdentityRequest:
    """The custodian approves a request (its holder may see the reporter for the hours of the
    setting) or refuses it with a reason; nobody decides their own request."""
    from app.services import audit
    from app.services import notifications as outbox
    from app.services.cases import clean_text
    from app.services.settings import get_settings

    if Role.CUSTODIAN not in actor.roles:
        raise NotAllowed(N_("Only the identity custodian decides these requests."))
    request = get_request(session, request_id)
    if not visibility.may_see(session, request.case, actor):
        raise NotFound(N_("Request not found."))
    if request.requested_by_id == actor.id:
        raise NotAllowed(N_("Nobody decides their own request."))
    if request.state != IdentityRequestState.PENDING:
        raise IllegalMove(N_("This request has already been decided."))
    note = clean_text(note, N_("Decision note"), required=not approve, limit=MAX_REASON)
    if approve:
        requester = session.get(Staff, request.requested_by_id)
        if (
            requester is None
            or not requester.active
            or not visibility.may_see(session, request.case, Actor.from_user(requester))
        ):
            raise IllegalMove(N_("The person who asked may no longer see this case."))
        hours = get_settings(session)["identity_grant_hours"]
        request.expires_at = now + timedelta(hours=hours)
    request.state = IdentityRequestState.APPROVED if approve else IdentityRequestState.REFUSED
    request.decided_by_id, request.decided_by_name = actor.id, actor.name
    request.decided_at, request.decision_note = now, note
    session.flush()
    audit.record(
        session,
        "identity_request_approved" if approve else "identity_request_refused",
        actor=actor,
        now=now,
        subject=request.case.number,
        details={
            "request": request.id,
            "requested_by": request.requested_by_name,
            "note": note,
            **({"expires_at": request.expires_at.isoformat()} if approve else {}),
        },
    )
    template = "identity_request_approved" if approve else "identity_request_refused"
    requester = session.get(Staff, request.requested_by_id)
    outbox.to_staff(
        session,
        [(requester.id, requester.email)] if requester is not None else [],
        key=f"{template}:{request.id}",
        template=template,
        now=now,
        case_id=request.case_id,
        params={"number": request.case.number, "until": outbox.when(request.expires_at)},
    )
    return request


# --- the case's supervisor ------------------------------------------------------------------

ASSIGN_SUPERVISOR_ROLES = frozenset({Role.DISPATCHER, Role.CUSTODIAN, Role.ADMIN})


def may_assign_supervisor(actor: Actor, case: Case | None = None) -> bool:
    """The dispatcher (or administrator) of the case's own office, or the custodian."""
    if not actor.roles & ASSIGN_SUPERVISOR_ROLES:
        return False
    return case is None or Role.CUSTODIAN in actor.roles or jurisdictions.is_own(actor, case.jurisdiction)


def supervisors_for(session, case: Case) -> list[Staff]:
    """Active supervisors who may see the case (the choices for its supervisor): those of its
    jurisdiction's office and of the offices above it (an account of no jurisdiction is the
    root's), each checked by the visibility rule."""
    offices = jurisdictions.chain_ids(case.jurisdiction)
    staff = (
        session.query(Staff)
        .filter(
            Staff.active.is_(True),
            Staff.roles.any(name=Role.SUPERVISOR.value),
            or_(Staff.jurisdiction_id.in_(offices), Staff.jurisdiction_id.is_(None)),
        )
        .order_by(Staff.id)
        .all()
    )
    return [s for s in staff if visibility.may_see(session, case, Actor.from_user(s))]


def assign_supervisor(session, case_id, *, actor: Actor, now: datetime, supervisor_id) -> Case:
    """Name the supervisor who investigates the case (the dispatcher or the custodian; nobody
    names themselves). The supervisor must be one who may see the case."""
    from app.services import audit
    from app.services.cases import get_case

    if not may_assign_supervisor(actor):
        raise NotAllowed(N_("Only the dispatcher or the identity custodian names a case's supervisor."))
    case = get_case(session, case_id, actor)
    if Role.CUSTODIAN not in actor.roles and not jurisdictions.is_own(actor, case.jurisdiction):
        raise NotAllowed(N_("The dispatcher of the case's own office names its supervisor."))
    supervisor_id = as_id(supervisor_id)
    supervisor = session.get(Staff, supervisor_id) if supervisor_id is not None else None
    if supervisor is None or supervisor not in supervisors_for(session, case):
        raise Invalid(N_("Choose a supervisor who may see this case."))
    if supervisor.id == actor.id:
        raise NotAllowed(N_("Nobody names themselves the supervisor of a case."))
    before = case.supervisor_id
    if before == supervisor.id:
        return case
    supervisor_actor = Actor.from_user(supervisor)
    case.supervisor_id = supervisor.id
    case.events.append(
        CaseEvent(
            action="assign_supervisor",
            from_status=str(case.status),
            to_status=str(case.status),
            at=now,
            actor_id=actor.id,
            actor_name=actor.name,
            department_id=actor.department_id,
            note=supervisor_actor.name,
            data={"supervisor": supervisor.id, "before": before},
        )
    )
    session.flush()
    audit.record(
        session,
        "supervisor_assigned",
        actor=actor,
        now=now,
        subject=case.number,
        details={"supervisor": supervisor.id, "before": before},
    )
    return case


def may_decide(request: IdentityRequest, actor: Actor) -> bool:
    """Whether the actor may approve or refuse this request now (buttons; the service checks)."""
    return (
        Role.CUSTODIAN in actor.roles
        and request.state == IdentityRequestState.PENDING
        and request.requested_by_id != actor.id
    )
