"""Typical cases: a supervisor marks a closed case, the system drafts a redacted heading and
summary in the third person, the supervisor edits and submits them, a leader approves (publishes)
or returns them. Submission and approval are refused while the detector of personal data
(app.redaction.find_identity) still finds a name, company, phone, ID or credit code, account,
address, plate, e-mail, a first-person self-description or a case number in the heading or summary;
the refusal says what was found and where."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime

from app.clock import local_date
from app.enums import FindingResult, RectificationState
from app.errors import IllegalMove, Invalid, NotAllowed, NotFound
from app.ids import as_id
from app.publication import TypicalKind, TypicalState
from app.services import jurisdictions, visibility
from app.services.actor import Actor
from app.workflow import N_, Role, Status
from models import Case, TypicalCase

MAX_SUMMARY = 3000
MAX_HEADING = 100


def _parties(case: Case):
    """Who the case names: its named reporters (from the encrypted identity), the official and
    the departments concerned."""
    from app.redaction import KnownParties

    named = [r for r in case.reporters if not r.anonymous]
    return KnownParties(
        reporter_names=tuple(r.name for r in named if r.name),
        reporter_phones=tuple(r.phone for r in named if r.phone),
        reporter_companies=tuple(r.company for r in named if r.company),
        credit_codes=tuple(r.credit_code for r in named if r.credit_code),
        officials=(case.concerned_official,) if case.concerned_official else (),
        departments=tuple(d.name for d in (case.concerned_department, case.lead_department) if d),
    )


def _department(case: Case) -> str | None:
    department = case.concerned_department or case.lead_department
    return department.name if department else None


def accepted_rectifications(case: Case) -> list:
    """The case's rectifications that passed the office's re-check (复核), oldest first."""
    return [r for r in case.rectifications if r.state == RectificationState.ACCEPTED]


RECTIFICATION_PART = 300  # characters of the measures, and of the completion, in a draft
FINDING_WORDS = {FindingResult.TRUE: "属实", FindingResult.PARTLY_TRUE: "部分属实"}


def _part(text: str) -> str:
    text = " ".join((text or "").split())
    if len(text) > RECTIFICATION_PART:
        text = text[: RECTIFICATION_PART - 1] + "…"
    return text if not text or text[-1] in "。！？；…" else text + "。"


def rectification_paragraph(case: Case, kind: TypicalKind) -> str | None:
    """What was rectified, as the records say (seed 000: 核查-整改): the finding and, of each
    rectification accepted on re-check, its measures and completion as the department reported
    them, redacted for publication; never the responsible person's name. None without one."""
    from app.redaction import for_publication, third_person

    accepted = accepted_rectifications(case)
    if not accepted:
        return None
    warning, place = kind == TypicalKind.WARNING, _department(case) or "相关部门"
    # The person responsible is redacted as a reporter's name is (王某), in warning cases too.
    responsible = tuple(r.responsible.strip() for r in accepted if r.responsible and r.responsible.strip())
    parties = replace(_parties(case), reporter_names=_parties(case).reporter_names + responsible)

    def public(text: str | None) -> str:
        told = third_person(text or "", speaker=place, organisation=place)  # the department's own words
        return _part(for_publication(told, parties, warning=warning))

    said = f"经核查，反映问题{FINDING_WORDS[case.finding]}。" if case.finding in FINDING_WORDS else ""
    parts = []
    for r in accepted:
        measures, done = public(r.measures), public(r.completion)
        parts.append((f"整改措施：{measures}" if measures else "") + (f"完成情况：{done}" if done else ""))
    return f"三、整改情况。{said}{''.join(parts)}经{_office(case)}复核，整改已到位。"


def draft_for(case: Case, kind: TypicalKind) -> str:
    """The automatic, redacted draft in the third person (reporters' names, phones, ids, accounts,
    addresses, companies and case numbers removed; for warning cases the official and department
    concerned are kept). What was rectified comes from the accepted rectification records, never
    from a guess at the reply: a paragraph 三、整改情况 before the closing one (then 四)."""
    from app.redaction import draft_summary

    draft = draft_summary(
        title=case.title,
        content=case.content,
        reply=case.reply,
        category=str(case.category or ""),
        department=_department(case),
        official=case.concerned_official,
        parties=_parties(case),
        warning=kind == TypicalKind.WARNING,
    )
    rectified = rectification_paragraph(case, kind)
    if rectified:
        *body, closing = draft.split("\n\n")
        closing = "四、" + closing.removeprefix("三、")
        draft = "\n\n".join([*body, rectified, closing])
    return draft[:MAX_SUMMARY]


def rectification_note(case: Case) -> str | None:
    """The bulletin's line on a published case's rectification, from the records alone (no
    typed text): the finding and when the office's re-check accepted it."""
    accepted = accepted_rectifications(case)
    if not accepted:
        return None
    reviewed = local_date(max(r.reviewed_at or r.opened_at for r in accepted))
    finding = FINDING_WORDS.get(case.finding, "")
    return (
        f"经核查{finding}，" if finding else ""
    ) + f"已整改到位，{_office(case)}于{reviewed.year}年{reviewed.month}月{reviewed.day}日复核通过。"


def _office(case: Case) -> str:
    """The office that re-checked a case's rectification, as its documents name it."""
    jurisdiction = case.jurisdiction
    return jurisdiction.authority if jurisdiction is not None else "营商环境主管部门"


def heading_for(case: Case, kind: TypicalKind) -> str:
    """The automatic public heading: the redacted title in the third person (某企业反映…)."""
    from app.redaction import draft_heading

    return draft_heading(
        case.title,
        _parties(case),
        warning=kind == TypicalKind.WARNING,
        category=str(case.category or "") or None,
        department=_department(case),
    )[:MAX_HEADING]


def public_heading(typical: TypicalCase) -> str:
    """The heading a public document prints (drafted from the title for rows chosen before
    headings existed)."""
    return typical.heading or heading_for(typical.case, typical.kind)


def paragraphs(summary: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n|\n", summary or "") if p.strip()]


def findings(typical: TypicalCase, heading: str | None = None, summary: str | None = None) -> list:
    """What the detector still finds in the heading and summary (the stored ones, or those given),
    as (where, paragraph number, Finding) with where "heading" or "summary"."""
    from app.redaction import find_identity

    parties, warning = _parties(typical.case), typical.kind == TypicalKind.WARNING
    heading = public_heading(typical) if heading is None else heading
    summary = typical.summary if summary is None else summary
    found = [("heading", None, f) for f in find_identity(heading, parties, warning=warning)]
    for n, paragraph in enumerate(paragraphs(summary), 1):
        found += [("summary", n, f) for f in find_identity(paragraph, parties, warning=warning)]
    return found


class FoundList:
    """The findings as the refusal shows them, translated when the message is shown:
    姓名“张建国”（标题）；电话号码“13812345678”（摘要第1段）."""

    def __init__(self, found) -> None:
        self.found = found

    def __str__(self) -> str:
        from flask_babel import gettext

        from app.publication import FOUND_IN_HEADING, FOUND_IN_PARAGRAPH, FOUND_ITEM, FOUND_LABELS

        items = []
        for where, n, finding in self.found:
            place = gettext(FOUND_IN_HEADING) if where == "heading" else gettext(FOUND_IN_PARAGRAPH, n=n)
            items.append(
                gettext(FOUND_ITEM, what=gettext(FOUND_LABELS[finding.kind]), text=finding.text, where=place)
            )
        return "；".join(items)


def _refuse_personal_data(typical: TypicalCase) -> None:
    found = findings(typical)
    if found:
        raise Invalid(
            N_(
                "This cannot be published while the heading or summary still holds personal data: "
                "%(found)s. Remove it or rewrite it in the third person (e.g. 某企业反映…, 反映人称…)."
            ),
            found=FoundList(found),
        )


def may_mark(case: Case, actor: Actor) -> bool:
    """The supervisor's office chooses typical cases among its own jurisdiction's closed ones
    (an upper office's bulletin covers the jurisdictions under it: it reads theirs)."""
    return (
        Role.SUPERVISOR in actor.roles
        and case.status == Status.CLOSED
        and jurisdictions.is_own(actor, case.jurisdiction)
    )


def _check_own_office(case: Case, actor: Actor) -> None:
    if not jurisdictions.is_own(actor, case.jurisdiction):
        raise NotAllowed(
            N_("A typical case is chosen and decided by the office of the case's own jurisdiction.")
        )


def mark_typical(session, case_id: int, *, actor: Actor, now: datetime, kind) -> TypicalCase:
    from app.services.cases import get_case

    if Role.SUPERVISOR not in actor.roles:
        raise NotAllowed(N_("Only the supervisor's office chooses typical cases."))
    try:
        kind = TypicalKind(kind)
    except ValueError:
        raise Invalid(N_("Choose typical, exemplary or warning.")) from None
    case = get_case(session, case_id, actor)
    _check_own_office(case, actor)
    if not may_mark(case, actor):
        raise Invalid(N_("Only closed cases can be chosen as typical."))
    if session.query(TypicalCase.id).filter_by(case_id=case.id).first():
        raise IllegalMove(N_("This case has already been chosen."))
    typical = TypicalCase(
        case_id=case.id,
        kind=kind,
        state=TypicalState.DRAFT,
        heading=heading_for(case, kind),
        summary=draft_for(case, kind),
        marked_at=now,
        marked_by_id=actor.id,
    )
    session.add(typical)
    session.flush()
    return typical


def _typical(session, typical_id, actor: Actor) -> TypicalCase:
    """A typical case whose case the actor may see, of the actor's own office."""
    typical_id = as_id(typical_id)
    typical = session.get(TypicalCase, typical_id) if typical_id is not None else None
    if typical is None or not visibility.may_see(session, typical.case, actor):
        raise NotFound(N_("Typical case not found."))
    _check_own_office(typical.case, actor)
    return typical


def edit_summary(
    session, typical_id, *, actor: Actor, now: datetime, summary, heading=None, submit: bool = False
) -> TypicalCase:
    """The supervisor edits the draft heading and summary (and may submit them to a leader, which
    is refused while they hold personal data). ``heading=None`` keeps the heading."""
    typical = _typical(session, typical_id, actor)
    if Role.SUPERVISOR not in actor.roles:
        raise NotAllowed(N_("Only the supervisor's office edits typical cases."))
    if typical.state not in (TypicalState.DRAFT, TypicalState.RETURNED):
        raise IllegalMove(N_("Only a draft or a returned summary can be edited."))
    summary = (summary or "").strip()
    if not summary:
        raise Invalid(N_("The summary cannot be empty."))
    heading = re.sub(r"\s+", " ", public_heading(typical) if heading is None else str(heading)).strip()
    if not heading:
        raise Invalid(N_("The heading cannot be empty."))
    if len(heading) > MAX_HEADING:
        raise Invalid(N_("The heading may have at most %(n)s characters."), n=MAX_HEADING)
    typical.heading, typical.summary, typical.edited_at = heading, summary[:MAX_SUMMARY], now
    if submit:
        _refuse_personal_data(typical)  # the refusal rolls the edit back with the request
    typical.state = TypicalState.SUBMITTED if submit else TypicalState.DRAFT
    session.flush()
    return typical


def decide(session, typical_id, *, actor: Actor, now: datetime, approve: bool, note=None) -> TypicalCase:
    """A leader approves (publishes in this month's bulletin) or returns the summary."""
    typical = _typical(session, typical_id, actor)
    if Role.LEADER not in actor.roles:
        raise NotAllowed(N_("Only a leader approves the publication of typical cases."))
    if typical.state != TypicalState.SUBMITTED:
        raise IllegalMove(N_("Only a submitted summary can be approved or returned."))
    note = (note or "").strip() or None
    if not approve and not note:
        raise Invalid(N_("Say what must be revised."))
    if approve:
        _refuse_personal_data(typical)
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
