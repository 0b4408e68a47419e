"""How the supervisor's office works an early warning: 派发 dispatch it as a case to the
department, 发函 issue a notice, or 排除 dismiss it with a reason (app.early_warning TRANSITIONS).

Each action appends a WarningEvent (who, what, when, from→to); a case made from a warning goes
the normal way (受理→分办→签收…), accepted and dispatched by the warning's office.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from app.early_warning import (
    LABELS,
    RULES,
    TRANSITIONS,
    PeriodKind,
    RuleType,
    WarningAction,
    find_move,
    thresholds,
)
from app.enums import CaseType, Channel
from app.errors import IllegalMove, Invalid, NotAllowed, NotFound
from app.ids import as_id
from app.services import cases as case_services
from app.services import jurisdictions, visibility
from app.services.actor import Actor
from app.services.notices import Draft, raise_notices
from app.supervision import NoticeCause
from app.workflow import N_, Role
from models import Case, Category, Department, Notice
from models.early_warning import EarlyWarning, WarningEvent

MIN_REASON, MAX_REASON, MAX_NOTE = 10, 2000, 2000
#: The roles that read warnings (the ones that act are those of TRANSITIONS).
READERS = frozenset({Role.SUPERVISOR, Role.LEADER, Role.ADMIN})
NOTICE_CAUSES = {"reminder": NoticeCause.WARNING_REMINDER, "rectification": NoticeCause.WARNING_RECTIFICATION}
# The category a case made from a warning is filed under (by the rule's code prefix); the
# office may reclassify it.
_CATEGORY_OF_RULE = {
    "window_repeated": "GOV04",
    "returns_bouncing": "GOV02",
    "inspections_repeated": "ENF05",
    "officer_repeated": "ENF05",
    "inspections_multi_unit": "ENF01",
    "inspections_unconfirmed": "ENF01",
    "rewards_unpaid": "POL01",
}
_DEFAULT_CATEGORY = "INT03"  # 不作为慢作为


def visible_warnings_clause(actor: Actor):
    """Warnings of the actor's jurisdiction and of those under it, for the office roles that
    read them; nothing for anyone else."""
    if not actor.roles & READERS:
        return EarlyWarning.id.is_(None)
    return jurisdictions.scope_clause(EarlyWarning.jurisdiction_id, actor)


def get_warning(session, warning_id, actor: Actor, *, for_update: bool = False) -> EarlyWarning:
    """A warning the actor may see; any other answers 'not found'."""
    warning_id = as_id(warning_id)
    warning = None
    if warning_id is not None:
        query = select(EarlyWarning).where(EarlyWarning.id == warning_id, visible_warnings_clause(actor))
        if for_update:
            query = query.with_for_update()
        warning = session.execute(query).scalar_one_or_none()
    if warning is None:
        raise NotFound(N_("Warning not found."))
    return warning


def _label(msgid: str) -> str:
    from flask_babel import gettext

    return gettext(msgid)


def _check(warning: EarlyWarning, action: WarningAction, actor: Actor):
    """Refuse the action unless the table allows it from the warning's state for the actor."""
    move = find_move(action, warning.state)
    if move is None:
        raise IllegalMove(
            N_("A warning that is “%(state)s” cannot be given the action “%(action)s”."),
            state=_label(LABELS[warning.state]),
            action=_label(LABELS[WarningAction(action)]),
        )
    if not move.roles & actor.roles:
        raise NotAllowed(
            N_("Your role may not perform “%(action)s”."), action=_label(LABELS[WarningAction(action)])
        )
    if not jurisdictions.is_within(warning.jurisdiction, actor.jurisdiction_path):
        raise NotFound(N_("Warning not found."))
    return move


def _record(session, warning: EarlyWarning, move, actor: Actor, now: datetime, note: str | None) -> None:
    warning.events.append(
        WarningEvent(
            action=str(move.action),
            from_state=str(move.source),
            to_state=str(move.target),
            at=now,
            actor_id=actor.id,
            actor_name=actor.name,
            note=note,
        )
    )
    warning.state, warning.worked_at, warning.worked_by_id = move.target, now, actor.id
    session.flush()


def _text(value, field: str, *, required: bool, limit: int, minimum: int = 0) -> str | None:
    text = str(value or "").strip()
    if not text:
        if required:
            raise Invalid(N_("%(field)s: this field is required."), field=_label(field))
        return None
    if len(text) < minimum:
        raise Invalid(N_("%(field)s: write at least %(n)s characters."), field=_label(field), n=minimum)
    if len(text) > limit:
        raise Invalid(N_("%(field)s: at most %(n)s characters."), field=_label(field), n=limit)
    return text


def figures_text(warning: EarlyWarning) -> str:
    """The figures that triggered the warning, one "key: value" per line (plain text)."""
    out = []
    for key, value in (warning.figures or {}).items():
        if isinstance(value, list | tuple):
            value = "、".join(str(v) for v in value)
        out.append(f"{key}：{value}")
    return "\n".join(out)


def _office_actor(actor: Actor, warning: EarlyWarning) -> Actor:
    """The supervisor acting as the warning's office (受理 and 分办 are the office's moves)."""
    office = warning.jurisdiction
    return Actor(
        actor.id,
        actor.name,
        frozenset({Role.CLERK, Role.DISPATCHER}),
        None,
        office.id,
        office.path,
        None,
    )


def dispatch_warning(
    session, warning: EarlyWarning, *, actor: Actor, now: datetime, department_id, note=None
) -> Case:
    """Make the warning a case, accept it and dispatch it to ``department_id``."""
    move = _check(warning, WarningAction.DISPATCH, actor)
    department_id = as_id(department_id)
    department = session.get(Department, department_id) if department_id is not None else None
    if department is None or not department.active:
        raise Invalid(N_("Department: choose an existing department."))
    note = _text(note, N_("Note"), required=False, limit=MAX_NOTE)
    model = warning.model
    code = _CATEGORY_OF_RULE.get(str(model.rule), _DEFAULT_CATEGORY)
    category = session.execute(select(Category).where(Category.code == code)).scalar_one_or_none()
    if category is None:
        category = session.execute(
            select(Category).where(Category.code == _DEFAULT_CATEGORY)
        ).scalar_one_or_none()
    period = f"{warning.period_start.isoformat()}—{warning.period_end.isoformat()}"
    content = "\n".join(
        part
        for part in (
            f"预警模型“{model.name}”监测发现：{warning.subject_label}（{period}）。",
            figures_text(warning),
            f"督办意见：{note}" if note else "",
        )
        if part
    )
    # A case about a department never reaches it: name the department only when the case goes
    # to another one (the warning's own department handles what the warning found).
    concerned = None
    if warning.department_id is not None and department.id not in visibility.department_subtree(
        session, warning.department_id
    ):
        concerned = warning.department_id
    office = _office_actor(actor, warning)
    case = case_services.create_case(
        session,
        actor=office,
        now=now,
        data={
            "case_type": CaseType.COMPLAINT,
            "channel": Channel.WARNING,
            "anonymous": True,
            "title": f"预警：{model.name} {warning.subject_label}"[: case_services.MAX_TITLE],
            "content": content[: case_services.MAX_CONTENT],
            "region": warning.jurisdiction.region,
            "category_id": category.id if category is not None else None,
            "concerned_department_id": concerned,
        },
    )
    case_services.accept_case(session, case, actor=office, now=now, note=note)
    case_services.dispatch_case(
        session, case, actor=office, now=now, lead_department_id=department.id, note=note
    )
    warning.case_id = case.id
    if case not in warning.cases:
        warning.cases.append(case)
    _record(session, warning, move, actor, now, note)
    return case


def _notice_details(warning: EarlyWarning, details: str) -> str:
    """The facts of a warning's notice, in Chinese (documents are never translated)."""
    start, end = warning.period_start, warning.period_end
    head = (
        f"预警模型“{warning.model.name}”提示，你单位{start.year}年{start.month}月{start.day}日至"
        f"{end.year}年{end.month}月{end.day}日期间存在下列情形：{warning.subject_label}。"
    )
    return f"{head}{details}"


def issue_warning_notice(
    session, warning: EarlyWarning, *, actor: Actor, now: datetime, kind, details
) -> Notice:
    """Issue a reminder letter or a rectification notice to the warning's department."""
    move = _check(warning, WarningAction.ISSUE_NOTICE, actor)
    cause = NOTICE_CAUSES.get(str(kind or ""))
    if cause is None:
        raise Invalid(N_("Kind: choose a reminder letter or a rectification notice."))
    if warning.department_id is None:
        raise Invalid(N_("This warning concerns no department: dispatch it as a case or dismiss it."))
    details = _text(details, N_("Details"), required=True, limit=MAX_NOTE)
    issued = raise_notices(
        session,
        [
            Draft(
                cause=cause,
                subject=f"warning:{warning.id}",
                department_id=warning.department_id,
                details=_notice_details(warning, details),
                case_ids=tuple(c.id for c in warning.cases),
                jurisdiction_id=warning.jurisdiction_id,
            )
        ],
        now=now,
        actor=actor,
    )
    if not issued:
        raise IllegalMove(N_("A notice has already been issued on this warning."))
    warning.notice_id = issued[0].id
    _record(session, warning, move, actor, now, details)
    return session.get(Notice, issued[0].id)


def dismiss_warning(session, warning: EarlyWarning, *, actor: Actor, now: datetime, reason) -> EarlyWarning:
    """Dismiss the warning, saying why (at least 10 characters)."""
    move = _check(warning, WarningAction.DISMISS, actor)
    reason = _text(reason, N_("Reason"), required=True, limit=MAX_REASON, minimum=MIN_REASON)
    warning.reason = reason
    _record(session, warning, move, actor, now, reason)
    return warning


def may_act(warning: EarlyWarning, actor: Actor) -> list[WarningAction]:
    """The actions the actor may take on the warning now (for the forms on its page)."""
    if not jurisdictions.is_within(warning.jurisdiction, actor.jurisdiction_path):
        return []
    return [m.action for m in TRANSITIONS if m.source == warning.state and m.roles & actor.roles]


def update_warning_model(session, model, *, form) -> dict[str, str]:
    """Save an administrator's changes to a model (name, on/off, period, working days to work a
    warning, one value per threshold of its rule type); return the errors by field, translated
    (nothing is saved when there is one)."""
    from flask_babel import gettext

    errors: dict[str, str] = {}
    name = str(form.get("name") or "").strip()
    if not name or len(name) > 100:
        errors["name"] = gettext("Name: write 1 to 100 characters.")
    try:
        period = PeriodKind(str(form.get("period") or ""))
    except ValueError:
        period = None
        errors["period"] = gettext("Period: choose a week, a month or a quarter.")
    days_text = str(form.get("handle_working_days") or "").strip()
    days = int(days_text) if days_text.isascii() and days_text.isdigit() and len(days_text) < 4 else None
    if days is None or not 1 <= days <= 60:
        errors["handle_working_days"] = gettext(
            "Working days to work a warning: a whole number from %(low)s to %(high)s.", low=1, high=60
        )
    rule = RULES[RuleType(model.rule)]
    given = {p.key: str(form.get(f"threshold_{p.key}") or "").strip() for p in rule.params}
    values = None
    try:
        values = thresholds(model.rule, given)
    except ValueError as error:
        key = str(error)
        param = next((p for p in rule.params if p.key == key), None)
        if param is not None:
            errors[f"threshold_{key}"] = gettext(
                "%(field)s: a whole number from %(low)s to %(high)s.",
                field=gettext(param.label),
                low=param.minimum,
                high=param.maximum,
            )
        else:
            errors["thresholds"] = gettext("Thresholds: an unknown threshold was given.")
    if errors:
        return errors
    model.name, model.period, model.handle_working_days = name, period, days
    model.active = str(form.get("active") or "") in ("y", "on", "1", "true")
    model.thresholds = values
    session.flush()
    return {}
