"""Early-warning models and their evaluation: each active model examines its current and previous
period and raises one warning per subject and period, never twice (key unique)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from sqlalchemy import select

from app.clock import LOCAL_TZ, local_date
from app.deadlines import working_day_deadline
from app.early_warning import (
    RULES,
    PeriodKind,
    RuleType,
    WarningState,
    period_bounds,
    previous_period,
    warning_key,
)
from app.early_warning import thresholds as rule_thresholds
from app.services import jurisdictions
from app.services.bulk import any_of, dialect_insert
from app.services.calendar import calendars
from app.services.settings import get_settings
from app.services.warning_rules import EVALUATORS
from models import EarlyWarning, WarningEvent, WarningModel
from models.early_warning import early_warning_case

SYSTEM = "系统"

# The built-in models' names (Chinese; the rule labels are msgids shown through gettext).
NAMES = {
    RuleType.OVERDUE_RATE_RISING: "部门超期率上升",
    RuleType.WINDOW_REPEATED: "同一窗口重复被投诉",
    RuleType.OFFICIAL_NAMED: "同一工作人员多次被反映",
    RuleType.UNSIGNED_CASES: "派发后超时未签收",
    RuleType.UNSATISFIED_RISING: "不满意率上升",
    RuleType.RETURNS_BOUNCING: "案件反复退回",
    RuleType.EXTENSIONS_REPEATED: "反复申请延期",
    RuleType.QUICK_CLOSE: "签收即答复申请办结",
    RuleType.REWARDS_UNPAID: "奖励逾期未兑付",
    RuleType.INSPECTIONS_REPEATED: "同一企业频繁被检查",
    RuleType.INSPECTIONS_MULTI_UNIT: "多头检查",
    RuleType.OFFICER_REPEATED: "同一执法人员反复检查同一企业",
    RuleType.INSPECTIONS_UNCONFIRMED: "检查未经企业确认",
}


def seed_models(session) -> int:
    """Add one built-in model per rule type (its defaults), leaving existing codes alone."""
    have = set(session.execute(select(WarningModel.code)).scalars())
    added = 0
    for rule_type, rule in RULES.items():
        if rule_type.value in have:
            continue
        session.add(
            WarningModel(
                code=rule_type.value,
                name=NAMES[rule_type],
                rule=rule_type,
                thresholds=rule_thresholds(rule_type, None),
                period=rule.period,
                active=True,
            )
        )
        added += 1
    session.flush()
    return added


def _utc(day: date) -> datetime:
    """00:00 Asia/Shanghai of ``day`` as a naive UTC datetime (as assessment.Period cuts)."""
    return datetime.combine(day, time(), tzinfo=LOCAL_TZ).astimezone(UTC).replace(tzinfo=None)


def periods(kind: PeriodKind, now: datetime) -> list[tuple[date, date, date]]:
    """The current and the previous period of ``kind`` as (start, end, the start of the one before)."""
    start, end = period_bounds(kind, local_date(now))
    prev_start, prev_end = previous_period(kind, start)
    before, _ = previous_period(kind, prev_start)
    return [(start, end, prev_start), (prev_start, prev_end, before)]


def evaluate(session, *, now: datetime, model_ids=None) -> list[int]:
    """Run each active model (or those of ``model_ids``, active or not) over its current and
    previous period; return the ids of the warnings newly raised."""
    query = select(WarningModel).order_by(WarningModel.id)
    query = (
        query.where(any_of(session, WarningModel.id, list(model_ids)))
        if model_ids
        else query.where(WarningModel.active)
    )
    models = session.execute(query).scalars().all()
    if not models:
        return []
    settings = get_settings(session)
    days = settings.get("warning_work_working_days", 5)
    calendar_of = calendars(session)
    root = None
    raised: list[int] = []
    for model in models:
        rule_type = RuleType(model.rule)
        try:
            th = rule_thresholds(rule_type, model.thresholds)
        except ValueError:
            th = rule_thresholds(rule_type, None)
        found = []
        for start, end, prev_start in periods(model.period, now):
            for f in EVALUATORS[rule_type](session, model, _utc(start), _utc(end), _utc(prev_start), th, now):
                found.append((warning_key(model.id, f.subject_kind, f.subject_key, start), start, end, f))
        model.last_run_at = now
        if not found:
            continue
        keys = [k for k, *_ in found]
        existing = set(
            session.execute(select(EarlyWarning.key).where(any_of(session, EarlyWarning.key, keys))).scalars()
        )
        rows, links = [], {}
        for key, start, end, f in found:
            if key in existing:
                continue
            existing.add(key)
            if f.jurisdiction_id is None:
                root = root or jurisdictions.root_id(session)
            place = f.jurisdiction_id or root
            rows.append(
                {
                    "key": key,
                    "model_id": model.id,
                    "subject_kind": f.subject_kind.value,
                    "subject_key": f.subject_key[:120],
                    "subject_label": (f.subject_label or f.subject_key)[:200],
                    "department_id": f.department_id,
                    "enterprise_id": f.enterprise_id,
                    "jurisdiction_id": place,
                    "period_start": start,
                    "period_end": end,
                    "figures": f.figures,
                    "state": WarningState.OPEN.value,
                    "created_at": now,
                    "due_at": working_day_deadline(calendar_of(place), now, days).due_at,
                }
            )
            links[key] = f.case_ids
        if not rows:
            continue
        stmt = (
            dialect_insert(session, EarlyWarning.__table__)
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(EarlyWarning.__table__.c.id, EarlyWarning.__table__.c.key)
        )
        new = {key: id_ for id_, key in session.execute(stmt.values(rows)).all()}
        if not new:
            continue
        case_rows = [
            {"warning_id": new[k], "case_id": c} for k, ids in links.items() if k in new for c in ids
        ]
        if case_rows:
            session.execute(early_warning_case.insert(), case_rows)
        session.execute(
            WarningEvent.__table__.insert(),
            [
                {
                    "warning_id": i,
                    "action": "raise",
                    "from_state": None,
                    "to_state": WarningState.OPEN.value,
                    "at": now,
                    "actor_id": None,
                    "actor_name": SYSTEM,
                }
                for i in new.values()
            ],
        )
        raised.extend(sorted(new.values()))
    session.flush()
    return raised
