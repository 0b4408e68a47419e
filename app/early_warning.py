"""Early warning (seed 003: 52 models, about 40,000 warnings): the rule types an administrator
builds models from, their thresholds, the period a model examines, and the flow of a warning
(pure).

A model is a rule type with thresholds and a period; run on a schedule it raises one warning
per model, subject and period (never twice), with the figures that triggered it. A warning is
work for the supervisor's office: 派发 dispatch it as a case to the department, 发函 issue a
notice, or 排除 dismiss it with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from app.workflow import N_, Role


class WarningState(StrEnum):
    OPEN = "open"
    DISPATCHED = "dispatched"  # made into a case sent to the department
    NOTICE_ISSUED = "notice_issued"  # a supervision notice was issued on it
    DISMISSED = "dismissed"  # dismissed with a reason


class WarningAction(StrEnum):
    DISPATCH = "dispatch"
    ISSUE_NOTICE = "issue_notice"
    DISMISS = "dismiss"


@dataclass(frozen=True)
class WarningMove:
    action: WarningAction
    source: WarningState
    target: WarningState
    roles: frozenset[Role]


_S, _A = WarningState, WarningAction
TRANSITIONS: tuple[WarningMove, ...] = (
    WarningMove(_A.DISPATCH, _S.OPEN, _S.DISPATCHED, frozenset({Role.SUPERVISOR})),
    WarningMove(_A.ISSUE_NOTICE, _S.OPEN, _S.NOTICE_ISSUED, frozenset({Role.SUPERVISOR})),
    WarningMove(_A.DISMISS, _S.OPEN, _S.DISMISSED, frozenset({Role.SUPERVISOR})),
)
_BY_KEY = {(m.action, m.source): m for m in TRANSITIONS}
OPEN_STATES = frozenset({WarningState.OPEN})


def find_move(action: WarningAction, source: WarningState) -> WarningMove | None:
    """Return the table row for ``action`` from ``source``, if there is one."""
    return _BY_KEY.get((WarningAction(action), WarningState(source)))


def allowed_moves(state: WarningState, roles) -> list[WarningAction]:
    """List the actions a holder of ``roles`` may take on a warning in ``state``."""
    return [m.action for m in TRANSITIONS if m.source == state and m.roles & set(roles)]


class PeriodKind(StrEnum):
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"


def period_bounds(kind: PeriodKind, day: date) -> tuple[date, date]:
    """The calendar period of ``kind`` holding ``day``, as [start, end) local dates."""
    kind = PeriodKind(kind)
    if kind == PeriodKind.WEEK:
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=7)
    if kind == PeriodKind.MONTH:
        start = day.replace(day=1)
    else:
        start = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    months = 1 if kind == PeriodKind.MONTH else 3
    y, m = divmod(start.month - 1 + months, 12)
    return start, date(start.year + y, m + 1, 1)


def previous_period(kind: PeriodKind, start: date) -> tuple[date, date]:
    """The period of ``kind`` just before the one starting on ``start``."""
    return period_bounds(kind, start - timedelta(days=1))


class SubjectKind(StrEnum):
    DEPARTMENT = "department"
    WINDOW = "window"
    OFFICIAL = "official"
    CASE = "case"
    OFFICE = "office"  # a jurisdiction's supervisor's office (e.g. rewards it left unpaid)
    ENTERPRISE = "enterprise"
    OFFICER = "officer"


class RuleType(StrEnum):
    OVERDUE_RATE_RISING = "overdue_rate_rising"
    WINDOW_REPEATED = "window_repeated"
    OFFICIAL_NAMED = "official_named"
    UNSIGNED_CASES = "unsigned_cases"
    UNSATISFIED_RISING = "unsatisfied_rising"
    RETURNS_BOUNCING = "returns_bouncing"
    EXTENSIONS_REPEATED = "extensions_repeated"
    QUICK_CLOSE = "quick_close"
    REWARDS_UNPAID = "rewards_unpaid"
    INSPECTIONS_REPEATED = "inspections_repeated"
    INSPECTIONS_MULTI_UNIT = "inspections_multi_unit"
    OFFICER_REPEATED = "officer_repeated"
    INSPECTIONS_UNCONFIRMED = "inspections_unconfirmed"


@dataclass(frozen=True)
class Param:
    """One threshold of a rule type: its key, default, bounds and label (msgid)."""

    key: str
    default: int
    minimum: int
    maximum: int
    label: str


@dataclass(frozen=True)
class Rule:
    """A rule type: what it looks at (label, description: msgids), what a warning is about,
    its thresholds and its default period."""

    type: RuleType
    label: str
    description: str
    subject: SubjectKind
    params: tuple[Param, ...]
    period: PeriodKind = PeriodKind.MONTH


_MIN_CASES = Param("min_cases", 5, 1, 100000, N_("Fewest cases in the period for the rate to count"))
RULES: dict[RuleType, Rule] = {
    r.type: r
    for r in (
        Rule(
            RuleType.OVERDUE_RATE_RISING,
            N_("Overdue rate rising"),
            N_("A department's share of cases overdue rose period on period by at least the set points."),
            SubjectKind.DEPARTMENT,
            (Param("rise_points", 10, 1, 100, N_("Rise in percentage points")), _MIN_CASES),
        ),
        Rule(
            RuleType.WINDOW_REPEATED,
            N_("Repeated complaints about one window"),
            N_("One service window or hall is complained about at least the set number of times."),
            SubjectKind.WINDOW,
            (Param("cases", 3, 2, 100000, N_("Complaints in the period")),),
        ),
        Rule(
            RuleType.OFFICIAL_NAMED,
            N_("One official named in several cases"),
            N_("The same official of one department is named in at least the set number of cases."),
            SubjectKind.OFFICIAL,
            (Param("cases", 2, 2, 100000, N_("Cases naming the official")),),
            PeriodKind.QUARTER,
        ),
        Rule(
            RuleType.UNSIGNED_CASES,
            N_("Cases left unsigned"),
            N_(
                "A department left at least the set number of dispatched cases unsigned past the signing deadline."  # noqa: E501
            ),
            SubjectKind.DEPARTMENT,
            (Param("cases", 3, 1, 100000, N_("Cases signed late or not at all")),),
            PeriodKind.WEEK,
        ),
        Rule(
            RuleType.UNSATISFIED_RISING,
            N_("Unsatisfied ratings rising"),
            N_(
                "A department's share of unsatisfied ratings rose period on period by at least the set points."  # noqa: E501
            ),
            SubjectKind.DEPARTMENT,
            (Param("rise_points", 10, 1, 100, N_("Rise in percentage points")), _MIN_CASES),
        ),
        Rule(
            RuleType.RETURNS_BOUNCING,
            N_("Returns bouncing between departments"),
            N_("One case was returned as misrouted at least the set number of times."),
            SubjectKind.CASE,
            (Param("returns", 2, 2, 100, N_("Returns of one case")),),
        ),
        Rule(
            RuleType.EXTENSIONS_REPEATED,
            N_("Extensions requested repeatedly"),
            N_("One department requested at least the set number of extensions."),
            SubjectKind.DEPARTMENT,
            (Param("requests", 3, 1, 100000, N_("Extension requests in the period")),),
        ),
        Rule(
            RuleType.QUICK_CLOSE,
            N_("Replies followed at once by a close request"),
            N_(
                "A department replied within the set minutes of signing (asking to close without handling) at least the set number of times."  # noqa: E501
            ),
            SubjectKind.DEPARTMENT,
            (
                Param("minutes", 30, 1, 10080, N_("Minutes from signing to reply")),
                Param("cases", 3, 1, 100000, N_("Such replies in the period")),
            ),
        ),
        Rule(
            RuleType.REWARDS_UNPAID,
            N_("Rewards unpaid"),
            N_(
                "An office has at least the set number of approved rewards unpaid past their payment deadline."  # noqa: E501
            ),
            SubjectKind.OFFICE,
            (Param("rewards", 1, 1, 100000, N_("Rewards unpaid past their deadline")),),
        ),
        Rule(
            RuleType.INSPECTIONS_REPEATED,
            N_("One enterprise inspected repeatedly"),
            N_("One enterprise was inspected more than the set number of times within the set days."),
            SubjectKind.ENTERPRISE,
            (
                Param("times", 3, 1, 1000, N_("Inspections allowed")),
                Param("days", 30, 1, 366, N_("Within days")),
            ),
        ),
        Rule(
            RuleType.INSPECTIONS_MULTI_UNIT,
            N_("One enterprise inspected by many units"),
            N_(
                "One enterprise was inspected by more than the set number of different units within the set days (多头检查)."  # noqa: E501
            ),
            SubjectKind.ENTERPRISE,
            (
                Param("units", 2, 1, 1000, N_("Different units allowed")),
                Param("days", 30, 1, 366, N_("Within days")),
            ),
        ),
        Rule(
            RuleType.OFFICER_REPEATED,
            N_("The same officer inspecting one enterprise repeatedly"),
            N_(
                "One officer inspected the same enterprise at least the set number of times within the set days."  # noqa: E501
            ),
            SubjectKind.OFFICER,
            (
                Param("times", 3, 2, 1000, N_("Inspections by the officer")),
                Param("days", 90, 1, 366, N_("Within days")),
            ),
            PeriodKind.QUARTER,
        ),
        Rule(
            RuleType.INSPECTIONS_UNCONFIRMED,
            N_("Inspections not confirmed by the enterprise"),
            N_(
                "A unit has at least the set number of finished inspections the enterprise has not confirmed after the set days."  # noqa: E501
            ),
            SubjectKind.DEPARTMENT,
            (
                Param("inspections", 3, 1, 100000, N_("Unconfirmed inspections")),
                Param("days", 3, 1, 60, N_("Days after finishing")),
            ),
        ),
    )
}


def thresholds(rule_type: RuleType, given: dict | None) -> dict[str, int]:
    """The thresholds of a model: the rule's defaults overlaid with ``given``, each an integer
    within its bounds; raise ValueError naming the first bad one."""
    rule = RULES[RuleType(rule_type)]
    given = dict(given or {})
    unknown = set(given) - {p.key for p in rule.params}
    if unknown:
        raise ValueError(f"unknown threshold {sorted(unknown)[0]}")
    values = {}
    for p in rule.params:
        value = given.get(p.key, p.default)
        if isinstance(value, bool) or not isinstance(value, int):
            try:
                value = int(str(value).strip())
            except ValueError:
                raise ValueError(p.key) from None
        if not p.minimum <= value <= p.maximum:
            raise ValueError(p.key)
        values[p.key] = value
    return values


def warning_key(model_id: int, subject_kind: SubjectKind, subject_key: str, period_start: date) -> str:
    """The once-only key of a warning: one per model, subject and period."""
    return f"{model_id}:{subject_kind}:{subject_key}:{period_start.isoformat()}"


LABELS = {
    WarningState.OPEN: N_("Open"),
    WarningState.DISPATCHED: N_("Dispatched as a case"),
    WarningState.NOTICE_ISSUED: N_("Notice issued"),
    WarningState.DISMISSED: N_("Dismissed"),
    WarningAction.DISPATCH: N_("Dispatch as a case"),
    WarningAction.ISSUE_NOTICE: N_("Issue a notice"),
    WarningAction.DISMISS: N_("Dismiss with a reason"),
    PeriodKind.WEEK: N_("Week"),
    PeriodKind.MONTH: N_("Month"),
    PeriodKind.QUARTER: N_("Quarter"),
    SubjectKind.DEPARTMENT: N_("Department"),
    SubjectKind.WINDOW: N_("Service window"),
    SubjectKind.OFFICIAL: N_("Official"),
    SubjectKind.CASE: N_("Case"),
    SubjectKind.OFFICE: N_("Supervisor's office"),
    SubjectKind.ENTERPRISE: N_("Enterprise"),
    SubjectKind.OFFICER: N_("Enforcement officer"),
}
