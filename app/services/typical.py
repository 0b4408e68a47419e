"""Typical cases: a supervisor marks a closed case, the system drafts a redacted summary, the
supervisor edits and submits it, a leader approves (publishes) or returns it."""

from __future__ import annotations

from datetime import datetime

from app.clock import local_date
from app.errors import IllegalMove, Invalid, NotAllowed, NotFound
from app.ids import as_id
from app.publication import TypicalKind, TypicalState
from app.services.actor import Actor
from app.workflow import N_, Role, Status
from models import Case, TypicalCase

MAX_SUMMARY = 3000


def draft_for(case: Case, kind: TypicalKind) -> str:
    """The automatic, redacted draft (reporters' names, phones, ids, accounts, addresses and
    companies removed; for warning cases the official and department concerned are kept)."""
    from app.redaction import KnownParties, draft_summary

    named = [r for r in case.reporters if not r.anonymous]
    parties = KnownParties(
        reporter_names=tuple(r.name for r in named if r.name),
        reporter_phones=tuple(r.phone for r in named if r.phone),
        reporter_companies=tuple(r.company for r in named if r.company),
        credit_codes=tuple(r.credit_code for r in named if r.credit_code),
        officials=(case.concerned_official,) if case.concerned_official else (),
        departments=tuple(d.name for d in (case.concerned_department, case.lead_department) if d),
    )
    return draft_summary(
        title=case.title,
        content=case.content,
        reply=case.reply,
        category=str(case.category or ""),
        department=case.concerned_department.name
        if case.concerned_department
        else (case.lead_department.name if case.lead_department else None),
        official=case.concerned_official,
        parties=parties,
        warning=kind == TypicalKind.WARNING,
    )[:MAX_SUMMARY]


def may_mark(case: Case, actor: Actor) -> bool:
    """The supervisor's office chooses typical cases among closed ones."""
    return Role.SUPERVISOR in actor.roles and case.status == Status.CLOSED


def mark_typical(session, case_id: int, *, actor: Actor, now: datetime, kind) -> TypicalCase:
    from app.services.cases import get_case

    if Role.SUPERVISOR not in actor.roles:
        raise NotAllowed(N_("Only the supervisor's office chooses typical cases."))
    try:
        kind = TypicalKind(kind)
    except ValueError:
        raise Invalid(N_("Choose typical, exemplary or warning.")) from None
    case = get_case(session, case_id, actor)
    if not may_mark(case, actor):
        raise Invalid(N_("Only closed cases can be chosen as typical."))
    if session.query(TypicalCase.id).filter_by(case_id=case.id).first():
        raise IllegalMove(N_("This case has already been chosen."))
    typical = TypicalCase(
        case_id=case.id,
        kind=kind,
        state=TypicalState.DRAFT,
        summary=draft_for(case, kind),
        marked_at=now,
        marked_by_id=actor.id,
    )
    session.add(typical)
    session.flush()
    return typical


def _typical(session, typical_id) -> TypicalCase:
    typical_id = as_id(typical_id)
    typical = session.get(TypicalCase, typical_id) if typical_id is not None else None
    if typical is None:
        raise NotFound(N_("Typical case not found."))
    return typical


def edit_summary(
    session, typical_id, *, actor: Actor, now: datetime, summary, submit: bool = False
) -> TypicalCase:
    """The supervisor edits the draft (and may submit it to a leader)."""
    typical = _typical(session, typical_id)
    if Role.SUPERVISOR not in actor.roles:
        raise NotAllowed(N_("Only the supervisor's office edits typical cases."))
    if typical.state not in (TypicalState.DRAFT, TypicalState.RETURNED):
        raise IllegalMove(N_("Only a draft or a returned summary can be edited."))
    summary = (summary or "").strip()
    if not summary:
        raise Invalid(N_("The summary cannot be empty."))
    typical.summary, typical.edited_at = summary[:MAX_SUMMARY], now
    typical.state = TypicalState.SUBMITTED if submit else TypicalState.DRAFT
    session.flush()
    return typical


def decide(session, typical_id, *, actor: Actor, now: datetime, approve: bool, note=None) -> TypicalCase:
    """A leader approves (publishes in this month's bulletin) or returns the summary."""
    typical = _typical(session, typical_id)
    if Role.LEADER not in actor.roles:
        raise NotAllowed(N_("Only a leader approves the publication of typical cases."))
    if typical.state != TypicalState.SUBMITTED:
        raise IllegalMove(N_("Only a submitted summary can be approved or returned."))
    note = (note or "").strip() or None
    if not approve and not note:
        raise Invalid(N_("Say what must be revised."))
    typical.decided_at, typical.decided_by_id, typical.decision_note = now, actor.id, note
    if approve:
        typical.state = TypicalState.APPROVED
        typical.published_month = local_date(now).strftime("%Y-%m")
    else:
        typical.state = TypicalState.RETURNED
    session.flush()
    return typical


def published(session, month: str, kind: TypicalKind | None = None) -> list[TypicalCase]:
    """Approved summaries of a month (only these are ever published)."""
    query = session.query(TypicalCase).filter_by(state=TypicalState.APPROVED, published_month=month)
    if kind is not None:
        query = query.filter_by(kind=kind)
    return query.order_by(TypicalCase.id).all()
