"""Inspections registered by scanning (入企扫码): register on entering, finish with the time out
and the result, confirm and rate (the enterprise), report a problem (files a case).

The flow is the pure table of app.inspections: every change asks find_move first.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from flask_babel import gettext
from sqlalchemy import func, select

from app.clock import local_date, to_local
from app.enums import CaseType, Channel, Rating
from app.errors import IllegalMove, Invalid, NotAllowed
from app.ids import as_id
from app.inspections import (
    MIN_OFFICERS,
    BasisKind,
    InspectionAction,
    InspectionResult,
    InspectionState,
    find_move,
)
from app.services.actor import Actor
from app.services.cases import clean_enum, clean_text
from app.workflow import N_, Role
from models import Case, Category, Department, EnforcementOfficer, Enterprise, Inspection, InspectionItem

#: 无事不扰: the reason an enterprise on the list is inspected all the same, for the supervisor.
MIN_NO_DISTURB_REASON = 10
#: Two inspections of the enterprise in this many days make a third a 重复检查 (ENF05).
REPEAT_DAYS = 30
REPEAT_TIMES = 2
MULTI_UNIT_CATEGORY, REPEATED_CATEGORY = "ENF01", "ENF05"
PROBLEM_CATEGORIES = (MULTI_UNIT_CATEGORY, REPEATED_CATEGORY)
MAX_NOTE = 2000
_SEPARATORS = re.compile(r"[\s,，;；、]+")


def officer_of(session, actor: Actor) -> EnforcementOfficer | None:
    """The active enforcement officer the account is linked to, if any."""
    if actor.id is None:
        return None
    return session.scalar(
        select(EnforcementOfficer).where(
            EnforcementOfficer.user_id == actor.id, EnforcementOfficer.active.is_(True)
        )
    )


def _inspector(session, actor: Actor) -> EnforcementOfficer:
    if Role.INSPECTOR not in actor.roles:
        raise NotAllowed(N_("Only an enforcement officer may register inspections."))
    officer = officer_of(session, actor)
    if officer is None:
        raise NotAllowed(N_("Your account is not linked to an active enforcement officer."))
    return officer


def _ids(values) -> list[int]:
    values = values if isinstance(values, list | tuple | set) else [values]
    found = []
    for value in values:
        if value in (None, ""):
            continue
        number = as_id(value)
        if number is None:
            raise Invalid(N_("The form has an invalid value; please choose again."))
        found.append(number)
    return found


def _certificates(values) -> list[str]:
    values = values if isinstance(values, list | tuple) else [values]
    return [c for v in values if isinstance(v, str) for c in _SEPARATORS.split(v.strip().upper()) if c]


def _officers_present(session, officer: EnforcementOfficer, data: dict) -> list[EnforcementOfficer]:
    present = {officer.id: officer}
    for officer_id in _ids(data.get("officer_ids") or []):
        other = session.get(EnforcementOfficer, officer_id)
        if other is None or not other.active or other.department_id != officer.department_id:
            raise Invalid(N_("Choose officers of your unit from the list."))
        present[other.id] = other
    for number in _certificates(data.get("certificate_nos") or []):
        other = session.scalar(
            select(EnforcementOfficer).where(func.upper(EnforcementOfficer.certificate_no) == number)
        )
        if other is None or not other.active:
            raise Invalid(N_("No active officer holds certificate number %(number)s."), number=number)
        present[other.id] = other
    if len(present) < MIN_OFFICERS:
        raise Invalid(N_("At least %(count)s officers must be present at an inspection."), count=MIN_OFFICERS)
    return sorted(present.values(), key=lambda o: o.id)


def _list_entry(session, entry_id, kind: BasisKind, msgid: str) -> InspectionItem:
    entry = session.get(InspectionItem, entry_id)
    if entry is None or not entry.active or entry.kind != kind:
        raise Invalid(msgid)
    return entry


def register_inspection(
    session, *, actor: Actor, now: datetime, enterprise: Enterprise, data: dict
) -> Inspection:
    """Register an inspection of ``enterprise`` on entering (time in = now), by the officer
    linked to the actor's account, with the officers present, basis and items."""
    officer = _inspector(session, actor)
    if enterprise is None or not enterprise.active:
        raise Invalid(N_("This enterprise is not in the registry any more."))
    officers = _officers_present(session, officer, data)
    basis_ids = _ids(data.get("basis_id"))
    if len(basis_ids) != 1:
        raise Invalid(N_("Choose the basis of the inspection."))
    basis = _list_entry(session, basis_ids[0], BasisKind.BASIS, N_("Choose the basis of the inspection."))
    items = [
        _list_entry(session, i, BasisKind.ITEM, N_("Choose the items inspected from the list."))
        for i in dict.fromkeys(_ids(data.get("item_ids") or []))
    ]
    if not items:
        raise Invalid(N_("Choose at least one item inspected."))
    joint = bool(data.get("joint"))
    partners: list[Department] = []
    if joint:
        for unit_id in dict.fromkeys(_ids(data.get("partner_unit_ids") or [])):
            unit = session.get(Department, unit_id)
            if unit is None or not unit.active:
                raise Invalid(N_("Choose the partner units from the list."))
            if unit.id != officer.department_id:
                partners.append(unit)
        if not partners:
            raise Invalid(N_("A joint inspection needs at least one other unit."))
    units = {officer.department_id, *(u.id for u in partners)}
    for present in officers:
        if present.department_id not in units:
            raise Invalid(
                N_("%(name)s is not of your unit or of a partner unit of this joint inspection."),
                name=present.name,
            )
    reason = clean_text(data.get("no_disturb_reason"), N_("Reason"), required=False, limit=MAX_NOTE)
    if enterprise.no_disturb:
        if not reason or len(reason) < MIN_NO_DISTURB_REASON:
            raise Invalid(
                N_(
                    "This enterprise is on the 无事不扰 list: give the reason for inspecting it "
                    "(at least %(count)s characters)."
                ),
                count=MIN_NO_DISTURB_REASON,
            )
    else:
        reason = None
    inspection = Inspection(
        number=f"T{secrets.token_hex(8)}",  # replaced once the id is known
        enterprise=enterprise,
        department_id=officer.department_id,
        jurisdiction_id=enterprise.jurisdiction_id,
        registered_by_id=actor.id,
        basis=basis,
        basis_note=clean_text(data.get("basis_note"), N_("Basis note"), required=False, limit=200),
        joint=joint,
        state=InspectionState.IN_PROGRESS,
        started_at=now,
        no_disturb_reason=reason,
        created_at=now,
        officers=officers,
        items=items,
        partner_units=partners,
    )
    session.add(inspection)
    session.flush()
    inspection.number = f"JC{local_date(now):%Y%m%d}{inspection.id:06d}"
    session.flush()
    return inspection


def _check(inspection: Inspection, action: InspectionAction, roles) -> None:
    move = find_move(action, inspection.state)
    if move is None:
        raise IllegalMove(N_("This cannot be done in the inspection's present state."))
    if not move.roles & frozenset(roles):
        raise NotAllowed(N_("You may not do this."))


def may_finish(session, inspection: Inspection, actor: Actor) -> bool:
    """Whether the actor is one of the officers present at an inspection still in progress."""
    officer = officer_of(session, actor) if Role.INSPECTOR in actor.roles else None
    return (
        officer is not None
        and find_move(InspectionAction.FINISH, inspection.state) is not None
        and officer in inspection.officers
    )


def finish_inspection(
    session, inspection: Inspection, *, actor: Actor, now: datetime, data: dict
) -> Inspection:
    """Record the time out and the result (an officer who was present)."""
    _check(inspection, InspectionAction.FINISH, actor.roles)
    officer = _inspector(session, actor)
    if officer not in inspection.officers:
        raise NotAllowed(N_("Only an officer present at the inspection may finish it."))
    result = clean_enum(InspectionResult, data.get("result"), N_("Result"))
    note = clean_text(data.get("result_note"), N_("Result note"), required=False, limit=MAX_NOTE)
    with session.no_autoflush:
        inspection.state = InspectionState.FINISHED
        inspection.result = result
        inspection.result_note = note
        inspection.ended_at = max(now, inspection.started_at)
    session.flush()
    return inspection


def confirm_inspection(session, inspection: Inspection, *, now: datetime, rating, note=None) -> Inspection:
    """The enterprise confirms a finished inspection and rates it."""
    _check(inspection, InspectionAction.CONFIRM, {Role.REPORTER})
    inspection.rating = clean_enum(Rating, rating, N_("Rating"))
    inspection.rating_note = clean_text(note, N_("Note"), required=False, limit=MAX_NOTE)
    inspection.state = InspectionState.CONFIRMED
    inspection.confirmed_at = now
    session.flush()
    return inspection


def is_repeated(session, inspection: Inspection, now: datetime) -> bool:
    """Whether the enterprise had REPEAT_TIMES inspections or more in the last REPEAT_DAYS days."""
    count = session.scalar(
        select(func.count(Inspection.id)).where(
            Inspection.enterprise_id == inspection.enterprise_id,
            Inspection.started_at >= now - timedelta(days=REPEAT_DAYS),
        )
    )
    return count >= REPEAT_TIMES


def suggested_category(session, inspection: Inspection, now: datetime) -> str:
    return REPEATED_CATEGORY if is_repeated(session, inspection, now) else MULTI_UNIT_CATEGORY


def report_problem(session, inspection: Inspection, *, now: datetime, data: dict) -> Case:
    """File the enterprise's problem with an inspection as a complaint linked to it (多头检查,
    or 重复检查 when it was inspected repeatedly; the enterprise may choose between the two)."""
    from app.services.cases import create_case
    from app.services.reporting import REPORTER

    _check(inspection, InspectionAction.REPORT_PROBLEM, {Role.REPORTER})
    code = data.get("category") or suggested_category(session, inspection, now)
    if code not in PROBLEM_CATEGORIES:
        raise Invalid(N_("Category: choose an existing category."))
    category = session.scalar(select(Category).where(Category.code == code))
    what = clean_text(data.get("content"), N_("What happened"), limit=MAX_NOTE)
    clean_text(data.get("reporter_name"), N_("Contact name"), limit=64)
    clean_text(data.get("reporter_phone"), N_("Contact phone"), limit=32)
    enterprise = inspection.enterprise
    about = gettext(
        "Inspection %(number)s by %(unit)s, started %(time)s.",
        number=inspection.number,
        unit=inspection.department.name,
        time=f"{to_local(inspection.started_at):%Y-%m-%d %H:%M}",
    )
    case = create_case(
        session,
        actor=REPORTER,
        now=now,
        data={
            "case_type": CaseType.COMPLAINT,
            "channel": Channel.INSPECTION,
            "category_id": category.id if category is not None else None,
            "title": f"{enterprise.name} · {inspection.number}"[:200],
            "content": f"{what}\n\n{about}",
            "region": enterprise.region,
            "concerned_department_id": inspection.department_id,
            "reporter_name": data.get("reporter_name"),
            "reporter_phone": data.get("reporter_phone"),
            "reporter_company": enterprise.name,
            "credit_code": enterprise.credit_code,
        },
    )
    case.inspection_id = inspection.id
    session.flush()
    return case


def recent_for_enterprise(session, enterprise: Enterprise, now: datetime, days: int = 90) -> list[Inspection]:
    """The enterprise's inspections of the last ``days`` days, newest first."""
    return list(
        session.scalars(
            select(Inspection)
            .where(
                Inspection.enterprise_id == enterprise.id, Inspection.started_at >= now - timedelta(days=days)
            )
            .order_by(Inspection.started_at.desc(), Inspection.id.desc())
        )
    )


def unit_inspections(session, actor: Actor, officer: EnforcementOfficer, limit: int = 50) -> list[Inspection]:
    """The unit's recent inspections and those the officer attended, the actor's own first."""
    from models.inspection import inspection_officer

    attended = select(inspection_officer.c.inspection_id).where(inspection_officer.c.officer_id == officer.id)
    mine = (Inspection.registered_by_id == actor.id) | Inspection.id.in_(attended)
    rows = session.scalars(
        select(Inspection)
        .where((Inspection.department_id == officer.department_id) | Inspection.id.in_(attended))
        .order_by(Inspection.started_at.desc(), Inspection.id.desc())
        .limit(limit)
    ).all()
    own = set(session.scalars(select(Inspection.id).where(mine, Inspection.id.in_([r.id for r in rows]))))
    return sorted(rows, key=lambda r: r.id not in own)


def may_see(session, inspection: Inspection, actor: Actor) -> bool:
    officer = officer_of(session, actor)
    return officer is not None and (
        inspection.department_id == officer.department_id or officer in inspection.officers
    )
