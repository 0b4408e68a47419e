"""Department assessment (考核): KPIs per department and period, a weighted score, the ranking,
drill-down to the cases behind each figure, and CSV / XLSX exports (DOMAIN.md "Assessment").

The unit is the *handling round*: one lead assignment (牵头承办任务) of a department, i.e. one case
given to it in one round. A re-handling (重办), an escalation (提级) or a re-dispatch after a return
(退单) opens a new round with its own deadline, so a case may count more than once, and for every
department that led it in the period ("a case counts for its lead department(s) of the period").

A round belongs to the period in which it was dispatched (``Assignment.dispatched_at``); its
outcome (replied, rated, closed, re-handled…) is taken as it stands when the figures are computed,
so the figures of a recent period settle as its cases finish.

Everything is computed with a handful of set-based queries (GROUP BY department with CASE
aggregates), never per case or per department:

1. the lead rounds of the period with their facts (finished, on time, rating of the reply, what
   followed the reply), aggregated per department;
2. signing of all the department's assignments (lead and co-handling) dispatched in the period;
3. the notices issued to the department in the period, by kind.

Rates keep their numerator and denominator (``Rate``); a rate with a zero denominator is None.
``drilldown_case_ids`` runs the same facts query filtered by one metric, so a figure and its list
can never disagree.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from types import SimpleNamespace

from sqlalchemy import Select, and_, case, delete, exists, func, literal, null, or_, select
from sqlalchemy.orm import aliased

from app.clock import LOCAL_TZ
from app.enums import (
    FOUNDED,
    OPEN_RECTIFICATION,
    AssignmentRole,
    AssignmentState,
    CaseType,
    Rating,
    RectificationState,
)
from app.supervision import NoticeKind
from app.workflow import Action
from models import Assignment, Case, CaseEvent, ClockPause, Department, EarlyWarning, Notice, Rectification
from models.kpi import FIGURES, ROUND_FIGURES, KpiBuiltMonth, KpiMonth, KpiStale, month_of
from models.supervision import notice_case

# --- periods --------------------------------------------------------------------------------


def _local_midnight_utc(year: int, month: int) -> datetime:
    """00:00 Asia/Shanghai on the first of ``month`` as a naive UTC datetime."""
    return datetime(year, month, 1, tzinfo=LOCAL_TZ).astimezone(UTC).replace(tzinfo=None)


def _month_after(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


@dataclass(frozen=True)
class Period:
    """A half-open interval [start, end) of naive UTC datetimes with a Chinese label; the
    constructors cut at 00:00 Beijing time."""

    start: datetime
    end: datetime
    label: str

    def __post_init__(self):
        if self.start >= self.end:
            raise ValueError("A period must end after it starts.")

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        if not 1 <= month <= 12:
            raise ValueError("month must be 1–12")
        return cls(
            _local_midnight_utc(year, month),
            _local_midnight_utc(*_month_after(year, month)),
            f"{year}年{month}月",
        )

    @classmethod
    def quarter(cls, year: int, q: int) -> Period:
        if not 1 <= q <= 4:
            raise ValueError("quarter must be 1–4")
        first, last = 3 * q - 2, 3 * q
        return cls(
            _local_midnight_utc(year, first),
            _local_midnight_utc(*_month_after(year, last)),
            f"{year}年第{q}季度",
        )

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(_local_midnight_utc(year, 1), _local_midnight_utc(year + 1, 1), f"{year}年度")

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


def _in_period(column, period: Period):
    return and_(column >= period.start, column < period.end)


# --- figures ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rate:
    """A rate with its parts (for drill-down); ``value`` is None when nothing is counted."""

    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    @property
    def percent(self) -> float | None:
        """The rate in percent, rounded to 2 decimals (as reported)."""
        return None if self.value is None else round(self.value * 100, 2)


@dataclass(frozen=True)
class DepartmentKpi:
    department_id: int
    code: str
    name: str
    level: str
    period: Period
    handled: int  # lead rounds dispatched to the department in the period
    finished: int  # of which replied (lead assignment done)
    on_time: Rate  # finished by the round's deadline / finished
    resolution: Rate  # founded problems whose rectification passed the re-check / founded ones replied
    satisfaction: Rate  # satisfied + basically satisfied / rated replies
    signing: Rate  # signed by the sign deadline / signed (lead and co-handling assignments)
    rehandle: Rate  # sent back for re-handling after the reply / finished
    returns: Rate  # returned (退单) by the department / handled
    reminders: int  # 提醒敦促函 issued to the department in the period
    rectifications: int  # 整改通知书
    interviews: int  # 约谈通知书
    # The initial verification result given in the department's round on time / given (seed 000).
    verification: Rate = Rate(0, 0)
    paused_days: int = 0  # working days its cases' clocks stood (停表), pauses begun in the period
    warnings: int = 0  # early warnings about the department raised in the period (预警)

    @property
    def late(self) -> int:
        return self.finished - self.on_time.numerator

    @property
    def notices(self) -> int:
        return self.reminders + self.rectifications + self.interviews

    def rate(self, key: str) -> Rate:
        return getattr(self, key)


# The rates that make up the score, and every rate of a KPI (attribute names of DepartmentKpi).
SCORED_RATES = ("on_time", "resolution", "satisfaction", "signing")
RATES = SCORED_RATES + ("rehandle", "returns")

RATE_LABELS = {
    "on_time": "按时办结率",
    "resolution": "问题解决率",
    "satisfaction": "满意率",
    "signing": "按时签收率",
    "rehandle": "重办率",
    "returns": "退单率",
}

# Drill-down metric names behind each rate: (numerator, denominator).
RATE_METRICS = {
    "on_time": ("on_time", "finished"),
    "resolution": ("resolved", "settled"),
    "satisfaction": ("satisfied", "rated"),
    "signing": ("signed_on_time", "signed"),
    "rehandle": ("rehandled", "finished"),
    "returns": ("returned", "handled"),
}

METRIC_LABELS = {
    "handled": "承办件",
    "finished": "已办结件",
    "unfinished": "未办结件（在办、退回或撤回）",
    "on_time": "按时办结件",
    "late": "超期办结件",
    "rated": "已评价件",
    "satisfied": "满意及基本满意件",
    "unsatisfied": "不满意件",
    "settled": "查实件（经核查属实或部分属实、已答复的投诉举报）",
    "resolved": "已解决件（整改经复核通过）",
    "unresolved": "未解决件（整改尚未复核通过）",
    "rehandled": "被重办件",
    "returned": "退单件",
    "signed": "已签收件",
    "signed_on_time": "按时签收件",
    "signed_late": "超时签收件",
    "reminders": "提醒敦促函涉及的工单",
    "rectifications": "整改通知书涉及的工单",
    "interviews": "约谈通知书涉及的工单",
}

# --- weights and the score ---------------------------------------------------------------------

# Rate weights (normalised by their sum, so they need not add up to 1) and deductions in points
# per notice on the 100-point scale. Interviews are counted and shown but deduct nothing by default:
# the seeds give no figure, and an interview follows a rectification notice that already deducted.
DEFAULT_WEIGHTS: dict[str, float] = {
    "on_time": 0.35,
    "resolution": 0.25,
    "satisfaction": 0.25,
    "signing": 0.15,
    "reminder": 0.5,
    "rectification": 2.0,
    "interview": 0.0,
    "warning": 0.0,  # 收到预警: counted and shown, deducts only when an administrator sets it
}

DEDUCTIONS = {
    "reminder": "reminders",
    "rectification": "rectifications",
    "interview": "interviews",
    "warning": "warnings",
}
DEDUCTION_LABELS = {
    "reminder": "提醒敦促函（每份）",
    "rectification": "整改通知书（每份）",
    "interview": "约谈通知书（每份）",
    "warning": "收到预警（每条）",
}
DEDUCTION_UNITS = {"warning": "条"}  # the others: 份

# Settings an administrator may add to change the weights without code (integers, as all settings
# are): weights in percent, deductions in tenths of a point. Absent keys keep the defaults.
WEIGHT_SETTINGS = {
    "on_time": ("assessment_weight_on_time", 100),
    "resolution": ("assessment_weight_resolution", 100),
    "satisfaction": ("assessment_weight_satisfaction", 100),
    "signing": ("assessment_weight_signing", 100),
    "reminder": ("assessment_deduction_reminder_tenths", 10),
    "rectification": ("assessment_deduction_rectification_tenths", 10),
    "interview": ("assessment_deduction_interview_tenths", 10),
    "warning": ("assessment_deduction_warning_tenths", 10),
}


def weights_from_settings(session, jurisdiction=None) -> dict[str, float]:
    """The weights in force in ``jurisdiction`` (None: the root's): its own, else its parent's
    ... else the settings table where an administrator set them, else the defaults."""
    from app.services.settings import get_settings

    settings = get_settings(session, jurisdiction)
    weights = dict(DEFAULT_WEIGHTS)
    for key, (setting, scale) in WEIGHT_SETTINGS.items():
        if setting in settings:
            weights[key] = settings[setting] / scale
    return weights


MIN_CASES_SETTING = "assessment_min_cases"


def min_cases_from_settings(session, jurisdiction=None) -> int:
    """The fewest lead rounds in the period a department (or a lower office) needs to be ranked
    in ``jurisdiction`` (its own setting, else inherited)."""
    from app.services.settings import get_settings

    return int(get_settings(session, jurisdiction)[MIN_CASES_SETTING])


def _weights(weights: Mapping[str, float] | None) -> dict[str, float]:
    merged = {**DEFAULT_WEIGHTS, **(weights or {})}
    unknown = set(merged) - set(DEFAULT_WEIGHTS)
    if unknown:
        raise ValueError(f"Unknown weights: {sorted(unknown)}")
    if any(value < 0 for value in merged.values()):
        raise ValueError("Weights and deductions must not be negative.")
    if sum(merged[k] for k in SCORED_RATES) <= 0:
        raise ValueError("At least one rate needs a positive weight.")
    return merged


def effective_rate(kpi: DepartmentKpi, key: str, averages: Mapping[str, float | None] | None = None) -> float:
    """The rate as scored: its value, or (no cases to compute it from) the average of the ranked
    departments, or full marks when no department has the figure either."""
    value = kpi.rate(key).value
    if value is None and averages is not None:
        value = averages.get(key)
    return 1.0 if value is None else value


def pooled_averages(kpis: Iterable[DepartmentKpi]) -> dict[str, float | None]:
    """Each rate over all the given departments together (sum of numerators / of denominators)."""
    kpis = list(kpis)
    averages = {}
    for key in RATES:
        denominator = sum(k.rate(key).denominator for k in kpis)
        averages[key] = sum(k.rate(key).numerator for k in kpis) / denominator if denominator else None
    return averages


@dataclass(frozen=True)
class ScoredPart:
    """One scored rate as the score counts it."""

    key: str  # SCORED_RATES
    rate: Rate  # the department's own figure (may be 0/0)
    weight: float  # its share of the score (the weights normalised by their sum), 0..1
    scored: float  # the rate as scored, 0..1: its value, else the average filled in, else 1
    filled: bool  # no case to compute it from: the average (or full marks) counted instead
    points: float  # 100 × weight × scored


@dataclass(frozen=True)
class DeductionPart:
    """The notices of one kind (``DEDUCTIONS``) and what they take off the score."""

    key: str  # reminder, rectification, interview
    count: int
    per: float  # points per notice
    points: float  # count × per


@dataclass(frozen=True)
class ScoreBreakdown:
    """The score and every part of it: ``total = max(0, weighted − deducted)``."""

    parts: tuple[ScoredPart, ...]
    deductions: tuple[DeductionPart, ...]
    weighted: float  # 100 × Σ weight × scored rate
    deducted: float  # Σ count × points per notice, every kind of ``DEDUCTIONS``
    total: float


def deductions(kpi, weights: Mapping[str, float] | None = None) -> tuple[DeductionPart, ...]:
    """The one definition of the deductions: every notice kind of ``DEDUCTIONS`` (提醒敦促函,
    整改通知书, 约谈通知书), its count and its points, whatever the points per notice (0 too)."""
    w = _weights(weights)
    return tuple(
        DeductionPart(key, getattr(kpi, attr), w[key], getattr(kpi, attr) * w[key])
        for key, attr in DEDUCTIONS.items()
    )


def breakdown(
    kpi: DepartmentKpi,
    weights: Mapping[str, float] | None = None,
    averages: Mapping[str, float | None] | None = None,
) -> ScoreBreakdown:
    """The weighted score on a 100-point scale, less the deductions for notices, never below 0,
    with its parts. A rate with no cases behind it counts as ``averages[rate]`` (``rank`` passes
    the pooled rate of all ranked departments), or full marks when no average is known."""
    w = _weights(weights)
    total = sum(w[k] for k in SCORED_RATES)
    parts = []
    for key in SCORED_RATES:
        scored = effective_rate(kpi, key, averages)
        share = w[key] / total
        filled = kpi.rate(key).value is None
        parts.append(ScoredPart(key, kpi.rate(key), share, scored, filled, 100 * share * scored))
    base = 100 * sum(w[k] * effective_rate(kpi, k, averages) for k in SCORED_RATES) / total
    taken = deductions(kpi, w)
    deducted = sum(d.points for d in taken)
    return ScoreBreakdown(
        tuple(parts), taken, round(base, 6), round(deducted, 6), round(max(0.0, base - deducted), 6)
    )


def score(
    kpi: DepartmentKpi,
    weights: Mapping[str, float] | None = None,
    averages: Mapping[str, float | None] | None = None,
) -> float:
    """The score of ``breakdown``."""
    return breakdown(kpi, weights, averages).total


@dataclass(frozen=True)
class RankedDepartment:
    rank: int | None  # dense: departments equal on every criterion but the code share a rank;
    # None: fewer lead rounds than the minimum (样本不足), listed after the ranked ones, no score
    position: int  # 1..n in the published order (the code decides among equals)
    score: float | None
    kpi: DepartmentKpi
    on_time_scored: float  # the rates as scored (missing ones filled in), used by the tie-breaks
    satisfaction_scored: float
    weights: dict[str, float] = field(default_factory=dict, compare=False)
    breakdown: ScoreBreakdown | None = field(default=None, compare=False)  # None when not ranked
    min_cases: int = field(default=0, compare=False)

    @property
    def ranked(self) -> bool:
        return self.rank is not None

    @property
    def code(self) -> str:
        return self.kpi.code

    @property
    def name(self) -> str:
        return self.kpi.name


TIE_BREAKS = [
    "综合得分相同的，按时办结率高者在前；",
    "仍相同的，满意率高者在前；",
    "仍相同的，收到督办通知（提醒敦促函、整改通知书、约谈通知书）少者在前；",
    "仍相同的，承办件数多者在前；",
    "以上均相同的，名次相同，按单位编码顺序排列。",
]


def too_few(handled: int, min_cases: int) -> bool:
    """A department or office with fewer lead rounds than ``min_cases`` is not ranked (样本不足)."""
    return handled < min_cases


def rank(
    kpis: Iterable[DepartmentKpi], weights: Mapping[str, float] | None = None, min_cases: int = 0
) -> list[RankedDepartment]:
    """Rank by score (high first), then on-time rate, satisfaction (high first), notices (few
    first), cases handled (many first) and finally the department code. Rank numbers are dense
    over every criterion but the code: departments equal on all of them share a rank.

    A department with fewer than ``min_cases`` lead rounds (``assessment_min_cases``) is not
    scored nor ranked: it is listed after the ranked ones, by code, with its figures; the
    averages that fill a missing rate pool the ranked departments only."""
    kpis = list(kpis)
    w = _weights(weights)
    eligible = [k for k in kpis if not too_few(k.handled, min_cases)]
    averages = pooled_averages(eligible)
    scored = []
    for kpi in eligible:
        on_time = effective_rate(kpi, "on_time", averages)
        satisfaction = effective_rate(kpi, "satisfaction", averages)
        parts = breakdown(kpi, w, averages)
        key = (-parts.total, -on_time, -satisfaction, kpi.notices, -kpi.handled)
        scored.append((key, kpi.code, kpi, on_time, satisfaction, parts))
    scored.sort(key=lambda item: (item[0], item[1]))
    ranked, previous, number = [], None, 0
    for position, (key, _, kpi, on_time, satisfaction, parts) in enumerate(scored, 1):
        if key != previous:
            number, previous = number + 1, key
        ranked.append(
            RankedDepartment(number, position, -key[0], kpi, on_time, satisfaction, w, parts, min_cases)
        )
    others = sorted((k for k in kpis if too_few(k.handled, min_cases)), key=lambda k: k.code)
    for position, kpi in enumerate(others, len(ranked) + 1):
        on_time = effective_rate(kpi, "on_time", averages)
        satisfaction = effective_rate(kpi, "satisfaction", averages)
        ranked.append(RankedDepartment(None, position, None, kpi, on_time, satisfaction, w, None, min_cases))
    return ranked


def _points(value: float) -> str:
    """A number of points or a percentage as printed: 0.5, 2, 33.33 (no trailing zeros)."""
    return f"{round(value, 2):g}"


def notice_name(key: str) -> str:
    """提醒敦促函, 整改通知书, 约谈通知书, 收到预警 (``DEDUCTIONS`` keys)."""
    return DEDUCTION_LABELS[key].removesuffix("（每份）").removesuffix("（每条）")


def rate_shares(weights: Mapping[str, float] | None = None) -> dict[str, float]:
    """Each scored rate's share of the score in percent (the weights normalised by their sum)."""
    w = _weights(weights)
    total = sum(w[k] for k in SCORED_RATES)
    return {k: 100 * w[k] / total for k in SCORED_RATES}


def score_summary(weights: Mapping[str, float] | None = None, min_cases: int = 0) -> str:
    """The scoring rule in one paragraph of Chinese, with the weights and points in force: the
    text above the ranking tables."""
    w = _weights(weights)
    shares = rate_shares(w)
    terms = " + ".join(f"{RATE_LABELS[k]}×{_points(shares[k])}%" for k in SCORED_RATES if w[k])
    minus = "".join(f" − {notice_name(k)}件数×{_points(w[k])}分" for k in DEDUCTIONS)
    free = [notice_name(k) for k in DEDUCTIONS if not w[k]]
    text = (
        f"综合得分 = 100×（{terms}）{minus}，最低0分。"
        "各项比率按“分子/分母”计算，分母为0的比率按全体参与排名单位该项的合计比率计（表中标“*”），"
        "全体单位均无时按满分计。"
    )
    if free:
        text += f"{'、'.join(free)}本期每件扣0分，件数照列。"
    if min_cases > 0:
        text += (
            f"考核期内承办件少于{min_cases}件的单位样本不足，不计分、不排名，列于排名单位之后，各项数据照列。"
        )
    return text + "各项得分保留两位小数，四舍五入后合计可能与综合得分相差0.01分。"


def formulas(weights: Mapping[str, float] | None = None, min_cases: int = 0) -> dict[str, str]:
    """The definitions, in Chinese, for the appendix of the assessment report."""
    w = _weights(weights)
    rate_terms = " + ".join(f"{RATE_LABELS[k]} × {w[k]:g}" for k in SCORED_RATES if w[k])
    deductions = "、".join(
        f"{notice_name(k)}每{DEDUCTION_UNITS.get(k, '份')}扣 {w[k]:g} 分" for k in DEDUCTIONS
    )
    return {
        "考核对象与期间": "考核期内有工单分派其牵头办理的单位。以每一轮牵头承办任务计件：工单按分派时间"
        "（北京时间）归入考核期；重办、提级或退单后重新分派的，另计一轮。各项结果按统计时"
        "工单的实际情况计算。",
        "承办件数": "考核期内分派给本单位牵头办理的工单轮次数（含其后被退回、撤回的）。",
        "办结件数": "承办件中本单位已答复（牵头任务已完成）的件数。",
        "按时办结率": "在办理时限（含批准的延期）截止前答复的件数 ÷ 办结件数 × 100%。",
        "问题解决率": "已解决件数 ÷ 查实件数 × 100%。查实件指经核查“属实”或“部分属实”、"
        "已由本单位答复的投诉和举报（重办、提级的工单只计最后一轮的牵头单位，每件计一次）；"
        "已解决件指其中整改已完成并经复核通过、没有未完成整改的件数。"
        "答复不等于解决：整改尚在进行或被退回重新整改的计为未解决，复核通过后计入已解决。"
        "核查结论为“不属实”“无法核实”的投诉举报没有需要整改的问题，咨询、求助、意见建议不作核查，"
        "均不计入本项。",
        "满意率": "评价为“满意”“基本满意”的答复件数 ÷ 已评价的答复件数 × 100%。每轮答复按对该次答复"
        "的评价计（重办前的不满意评价仍计入），未评价的不计入分母。",
        "按时签收率": "在签收时限内签收的件数 ÷ 已签收件数 × 100%；含牵头与协办任务。",
        "重办率": "答复后因不满意被退回重办的件数 ÷ 办结件数 × 100%。",
        "退单率": "本单位以不属本单位职责退回的件数 ÷ 承办件数 × 100%。",
        "按时告知核查结果率": "承办件中在本单位办理期间录入初步核查结论的投诉、举报件，"
        "在初步核查结果告知时限（默认受理后3个工作日，12345工单1个工作日）内录入的件数"
        " ÷ 初步核查件数 × 100%。",
        "停表工作日数": "考核期内本单位申请停表（等待诉求人补充材料）的各次停表所停的工作日合计。",
        "提醒敦促函、整改通知书、约谈通知书": "考核期内（按签发时间）向本单位发出的份数。",
        "收到预警": "考核期内（按预警生成时间）预警模型就本单位生成的预警条数，不论其后派发、发函或排除。",
        "综合得分": f"100 × ({rate_terms}) ÷ 权重合计，减去督办扣分（{deductions or '不扣分'}），"
        f"最低 0 分。某项比率没有可计算的工单（分母为 0）时，按全体参评单位该项的合计比率计；"
        f"全体单位均无时按满分计。",
        "样本量": f"考核期内承办件少于 {min_cases} 件的单位样本不足，不计分、不排名，列于排名单位之后，"
        "各项数据照列。"
        if min_cases > 0
        else "不设最低承办件数，所有参评单位均计分排名。",
        "排名": "".join(TIE_BREAKS),
        "比率为空": "分母为 0 的比率显示为空（—），不作 0 计。",
    }


FORMULAS = formulas()


# --- the queries ------------------------------------------------------------------------------

_LEAD = AssignmentRole.LEAD.value
_DONE = AssignmentState.DONE.value
_FAVOURABLE = (Rating.SATISFIED.value, Rating.BASICALLY_SATISFIED.value)


def _flag(condition):
    return case((condition, 1), else_=0)


def _lead_rounds(period: Period, department_ids: Iterable[int] | Select | None = None):
    """One row per lead round dispatched in the period, with 0/1 flags for every metric."""
    a = aliased(Assignment, name="a")
    nxt = aliased(Assignment, name="nxt")
    evaluation = aliased(CaseEvent, name="evaluation")
    # The rating of this round's reply: the first evaluation after it (each reply is rated once).
    rating = (
        select(evaluation.data["rating"].as_string())
        .where(
            evaluation.case_id == a.case_id,
            or_(
                evaluation.action == Action.EVALUATE.value,
                # A revisit call that reached the reporter rates the reply as an evaluation does.
                and_(
                    evaluation.action == Action.RECORD_REVISIT.value,
                    evaluation.data["rating"].as_string().isnot(None),
                ),
            ),
            evaluation.at >= a.done_at,
        )
        .order_by(evaluation.at, evaluation.id)
        .limit(1)
        .scalar_subquery()
    )
    # When the case was next given to a lead department (re-handling or escalation after a reply).
    next_round_at = (
        select(func.min(nxt.dispatched_at))
        .where(nxt.case_id == a.case_id, nxt.role == _LEAD, nxt.round > a.round)
        .scalar_subquery()
    )
    rounds = (
        select(
            a.id.label("assignment_id"),
            a.case_id,
            a.department_id,
            a.state,
            a.done_at,
            a.due_at,
            # A complaint or report found 属实/部分属实 (a small flag: the rows are sorted).
            _flag(
                and_(
                    Case.case_type.in_([CaseType.COMPLAINT.value, CaseType.REPORT.value]),
                    Case.finding.in_([f.value for f in FOUNDED]),
                )
            ).label("founded_case"),
            case((a.state == _DONE, rating), else_=null()).label("rating"),
            next_round_at.label("next_round_at"),
        )
        .join(Case, Case.id == a.case_id)
        .where(a.role == _LEAD, _in_period(a.dispatched_at, period))
    )
    if isinstance(department_ids, Select):  # a subquery of ids (an office's subtree)
        rounds = rounds.where(a.department_id.in_(department_ids))
    elif department_ids is not None:
        rounds = rounds.where(a.department_id.in_(list(department_ids)))
    r = rounds.subquery("rounds")

    rehandle = aliased(CaseEvent, name="rehandle")
    finished = r.c.state == _DONE
    moved_on = and_(finished, r.c.next_round_at.isnot(None))
    # Resolution (问题解决率): a founded complaint or report, answered in its last round, counts
    # for that round's department; it is resolved once its rectification passed the re-check.
    # (Cheap tests first: PostgreSQL stops at the first false one, and only then runs the
    # next-round and rectification subqueries.)
    founded = and_(finished, r.c.founded_case == 1, r.c.next_round_at.is_(None))
    # One look at the case's rectifications: 1 when one was accepted and none is open.
    state = Rectification.state
    rectified = (
        func.coalesce(
            select(
                func.min(
                    case(
                        (state.in_([s.value for s in OPEN_RECTIFICATION]), 0),
                        (state == RectificationState.ACCEPTED.value, 1),
                    )
                )
            )
            .where(Rectification.case_id == r.c.case_id)
            .scalar_subquery(),
            0,
        )
        == 1
    )
    sent_back = exists().where(
        rehandle.case_id == r.c.case_id,
        rehandle.action == Action.REHANDLE.value,
        rehandle.at >= r.c.done_at,
        rehandle.at <= r.c.next_round_at,
    )
    return select(
        r.c.assignment_id,
        r.c.case_id,
        r.c.department_id,
        r.c.rating,
        literal(1).label("handled"),
        _flag(finished).label("finished"),
        _flag(~finished & (r.c.state != AssignmentState.RETURNED.value)).label("unfinished"),
        _flag(finished & (r.c.done_at <= r.c.due_at)).label("on_time"),
        _flag(finished & (r.c.done_at > r.c.due_at)).label("late"),
        _flag(r.c.rating.isnot(None)).label("rated"),
        _flag(r.c.rating.in_(_FAVOURABLE)).label("satisfied"),
        _flag(r.c.rating == Rating.UNSATISFIED.value).label("unsatisfied"),
        _flag(founded).label("settled"),
        _flag(and_(founded, rectified)).label("resolved"),
        _flag(and_(founded, ~rectified)).label("unresolved"),
        _flag(and_(moved_on, sent_back)).label("rehandled"),
        _flag(r.c.state == AssignmentState.RETURNED.value).label("returned"),
    ).subquery("lead_rounds")


_ROUND_METRICS = ROUND_FIGURES  # the lead rounds' figures, as the rollup keeps them (models/kpi.py)


def _signing(period: Period, department_ids: Iterable[int] | None = None):
    """One row per assignment (lead or co-handling) dispatched in the period."""
    query = select(
        Assignment.case_id,
        Assignment.department_id,
        _flag(Assignment.signed_at.isnot(None)).label("signed"),
        _flag(Assignment.signed_at <= Assignment.sign_due_at).label("signed_on_time"),
        _flag(Assignment.signed_at > Assignment.sign_due_at).label("signed_late"),
    ).where(_in_period(Assignment.dispatched_at, period))
    if department_ids is not None:
        query = query.where(Assignment.department_id.in_(list(department_ids)))
    return query.subquery("signing")


_SIGNING_METRICS = ("signed", "signed_on_time", "signed_late")
_NOTICE_METRICS = {
    "reminders": NoticeKind.REMINDER,
    "rectifications": NoticeKind.RECTIFICATION,
    "interviews": NoticeKind.INTERVIEW,
}


def department_kpis(
    session, period: Period, department_ids: Iterable[int] | None = None, *, live: bool = False
) -> list[DepartmentKpi]:
    """The KPIs of every department that had a lead round dispatched in the period (optionally
    only those of ``department_ids``), ordered by department code.

    A period of several whole months (a quarter, a year) sums the monthly rollup
    (``models.kpi``: twelve rows per department for a year), computing live the months a change
    has marked stale; any other period (one month, a cut at another moment), or ``live``, runs
    the four queries over the rounds themselves. Both give the same figures."""
    ids = None if department_ids is None else list(department_ids)
    sums = None if live else rollup_sums(session, period, ids)
    if sums is None:
        return _live_department_kpis(session, period, ids)
    found = sorted(d for d, figures in sums.items() if figures["handled"] > 0)
    if not found:
        return []
    departments = session.execute(
        select(Department.id, Department.code, Department.name, Department.level)
        .where(Department.id.in_(found))
        .order_by(Department.code)
    ).all()
    notices = _notices_received(session, period, found)
    warnings = warnings_received(session, period, found)
    return [
        _kpi(row, period, sums[row.id], notices.get(row.id), warnings.get(row.id, 0)) for row in departments
    ]


def _kpi(department, period: Period, f: Mapping[str, int], notice, warnings: int) -> DepartmentKpi:
    """A department's KPIs from its additive figures (``models.kpi.FIGURES``) and notices."""
    return DepartmentKpi(
        department_id=department.id,
        code=department.code,
        name=department.name,
        level=str(department.level),
        period=period,
        handled=f["handled"],
        finished=f["finished"],
        on_time=Rate(f["on_time"], f["finished"]),
        resolution=Rate(f["resolved"], f["settled"]),
        satisfaction=Rate(f["satisfied"], f["rated"]),
        signing=Rate(f["signed_on_time"], f["signed"]),
        rehandle=Rate(f["rehandled"], f["finished"]),
        returns=Rate(f["returned"], f["handled"]),
        reminders=int(notice.reminders) if notice else 0,
        rectifications=int(notice.rectifications) if notice else 0,
        interviews=int(notice.interviews) if notice else 0,
        verification=Rate(f["verified_on_time"], f["verified"]),
        paused_days=f["paused_days"],
        warnings=warnings,
    )


def _notices_received(session, period: Period, department_ids: list[int]) -> dict:
    """The reminders, rectification and interview notices issued to each department in the
    period (read live: the notice table is small and written by bulk INSERTs)."""
    rows = session.execute(
        select(
            Notice.department_id,
            *[
                func.coalesce(func.sum(_flag(Notice.kind == kind.value)), 0).label(metric)
                for metric, kind in _NOTICE_METRICS.items()
            ],
        )
        .where(_in_period(Notice.issued_at, period), Notice.department_id.in_(department_ids))
        .group_by(Notice.department_id)
    )
    return {row.department_id: row for row in rows}


def _live_department_kpis(session, period: Period, ids: list[int] | None) -> list[DepartmentKpi]:
    """``department_kpis`` over the rounds themselves (four queries)."""
    rounds = _lead_rounds(period, ids)
    round_rows = session.execute(
        select(
            Department.id,
            Department.code,
            Department.name,
            Department.level,
            *[func.coalesce(func.sum(rounds.c[m]), 0).label(m) for m in _ROUND_METRICS],
        )
        .join(rounds, rounds.c.department_id == Department.id)
        .group_by(Department.id, Department.code, Department.name, Department.level)
        .order_by(Department.code)
    ).all()
    if not round_rows:
        return []
    found = [row.id for row in round_rows]

    signing = _signing(period, found)
    signed = {
        row.department_id: row
        for row in session.execute(
            select(
                signing.c.department_id,
                *[func.coalesce(func.sum(signing.c[m]), 0).label(m) for m in _SIGNING_METRICS],
                *_clock_columns(period, signing.c.department_id),  # every department leading has signed
            ).group_by(signing.c.department_id)
        )
    }
    notices = _notices_received(session, period, found)
    warnings = warnings_received(session, period, found)
    kpis = []
    for row in round_rows:  # one per department: assembling the figures, no per-case work
        sign = signed.get(row.id)
        figures = {m: int(getattr(row, m)) for m in _ROUND_METRICS}
        figures.update({m: int(getattr(sign, m)) if sign else 0 for m in _SIGNED_FIGURES})
        kpis.append(_kpi(row, period, figures, notices.get(row.id), warnings.get(row.id, 0)))
    return kpis


_SIGNED_FIGURES = _SIGNING_METRICS + ("verified", "verified_on_time", "paused_days")


def _verification_given(a, period: Period) -> tuple:
    """An initial verification result given in lead round ``a`` (an Assignment alias joined to
    its case) dispatched in the period: recorded while that round ran."""
    return (
        a.role == _LEAD,
        _in_period(a.dispatched_at, period),
        Case.verify_due_at.isnot(None),
        Case.verified_at >= a.dispatched_at,
        or_(a.done_at.is_(None), Case.verified_at <= a.done_at),
    )


def _clock_columns(period: Period, department_id) -> list:
    """Per department (correlated to ``department_id``): the initial verification results given
    in its lead rounds of the period (the round running when the result was recorded; the
    office's own before dispatch counts for no department), how many on time, and the working
    days paused of the pauses (停表) begun in the period."""
    from models import ClockPause

    a = aliased(Assignment, name="verifying")
    given = and_(a.department_id == department_id, *_verification_given(a, period))
    verified = select(func.count()).select_from(a).join(Case, Case.id == a.case_id).where(given)
    return [
        verified.scalar_subquery().label("verified"),
        verified.where(Case.verified_at <= Case.verify_due_at).scalar_subquery().label("verified_on_time"),
        select(func.coalesce(func.sum(ClockPause.working_days), 0))
        .where(ClockPause.department_id == department_id, _in_period(ClockPause.paused_at, period))
        .scalar_subquery()
        .label("paused_days"),
    ]


# --- the monthly rollup (models.kpi) ----------------------------------------------------------
#
# A period of whole months is the sum of its months: every figure counts rounds, assignments
# or pauses by when they were dispatched or begun, and each month's rows are computed by the
# very queries above restricted to that month. Readers never write: they compute the stale
# pairs (and a month never built) live, in memory; the refresh job and ``build_rollup`` write,
# one at a time (an advisory lock on PostgreSQL; SQLite has one writer anyway).

# A single month is read from the rollup too: at 1 million cases its four set-based queries took
# 1.6 s (the signing figures alone 0.9 s), reading its rows a few milliseconds (bench/reports.py,
# the monthly bulletin).
MIN_ROLLUP_MONTHS = 1
_ROLLUP_LOCK = 0x4B50_4931  # "KPI1": pg_advisory_xact_lock key of the rollup writers


def whole_months(period: Period) -> list[date] | None:
    """The months (their first days, Beijing time) that make up ``period`` exactly, else None."""
    first = month_of(period.start)
    year, month = first.year, first.month
    if Period.month(year, month).start != period.start:
        return None
    months = []
    while True:
        one = Period.month(year, month)
        months.append(date(year, month, 1))
        if one.end == period.end:
            return months
        if one.end > period.end:
            return None
        year, month = _month_after(year, month)


def month_period(month: date) -> Period:
    return Period.month(month.year, month.month)


def month_figures(session, period: Period, department_ids: Iterable[int] | None = None) -> dict[int, dict]:
    """Every department's additive figures (``models.kpi.FIGURES``) in ``period``, from the
    rounds themselves, for each department with any (four grouped queries)."""
    ids = None if department_ids is None else list(department_ids)
    result: dict[int, dict] = {}

    def add(rows, names):
        for row in rows:
            figures = result.setdefault(row.department_id, dict.fromkeys(FIGURES, 0))
            for name in names:
                figures[name] += int(getattr(row, name) or 0)

    rounds = _lead_rounds(period, ids)
    add(
        session.execute(
            select(
                rounds.c.department_id,
                *[func.coalesce(func.sum(rounds.c[m]), 0).label(m) for m in ROUND_FIGURES],
            ).group_by(rounds.c.department_id)
        ),
        ROUND_FIGURES,
    )
    signing = _signing(period, ids)
    add(
        session.execute(
            select(
                signing.c.department_id,
                *[func.coalesce(func.sum(signing.c[m]), 0).label(m) for m in _SIGNING_METRICS],
            ).group_by(signing.c.department_id)
        ),
        _SIGNING_METRICS,
    )
    a = aliased(Assignment, name="verifying")
    given = select(
        a.department_id,
        func.count().label("verified"),
        func.coalesce(func.sum(_flag(Case.verified_at <= Case.verify_due_at)), 0).label("verified_on_time"),
    ).join(Case, Case.id == a.case_id)
    given = given.where(*_verification_given(a, period))
    if ids is not None:
        given = given.where(a.department_id.in_(ids))
    add(session.execute(given.group_by(a.department_id)), ("verified", "verified_on_time"))
    pauses = select(
        ClockPause.department_id, func.coalesce(func.sum(ClockPause.working_days), 0).label("paused_days")
    ).where(_in_period(ClockPause.paused_at, period), ClockPause.department_id.isnot(None))
    if ids is not None:
        pauses = pauses.where(ClockPause.department_id.in_(ids))
    add(session.execute(pauses.group_by(ClockPause.department_id)), ("paused_days",))
    return result


def rollup_sums(
    session, period: Period, department_ids: Iterable[int] | None = None
) -> dict[int, dict] | None:
    """Each department's figures over ``period`` from the monthly rollup (None: the period is
    not made of whole months). Rows marked stale and months never built
    are computed live, so the sums are those of ``month_figures`` over the whole period,
    whatever the job did."""
    months = whole_months(period)
    if months is None or len(months) < MIN_ROLLUP_MONTHS:
        return None
    ids = None if department_ids is None else sorted(set(department_ids))

    def only(column, query):
        return query if ids is None else query.where(column.in_(ids))

    stale: dict[date, set[int]] = {}
    for department_id, month in session.execute(
        only(
            KpiStale.department_id,
            select(KpiStale.department_id, KpiStale.month).where(KpiStale.month.in_(months)),
        )
    ):
        stale.setdefault(month, set()).add(department_id)
    built = set(session.scalars(select(KpiBuiltMonth.month).where(KpiBuiltMonth.month.in_(months))))
    sums: dict[int, dict] = {}

    def add(department_id, figures):
        total = sums.setdefault(department_id, dict.fromkeys(FIGURES, 0))
        for name in FIGURES:
            total[name] += int(figures[name])

    columns = [KpiMonth.__table__.c[name] for name in FIGURES]
    for row in session.execute(  # plain rows, not ORM objects: 12 a department for a year
        only(
            KpiMonth.department_id,
            select(KpiMonth.department_id, KpiMonth.month, *columns).where(KpiMonth.month.in_(sorted(built))),
        )
    ):
        if row.department_id not in stale.get(row.month, ()):
            add(row.department_id, row._mapping)
    for month in months:
        if month not in built:
            wanted = ids
        elif month in stale:
            wanted = sorted(stale[month])
        else:
            continue
        for department_id, figures in month_figures(session, month_period(month), wanted).items():
            add(department_id, figures)
    return sums


def _lock_rollup(session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(_ROLLUP_LOCK)))


def _write_month(session, month: date, figures: Mapping[int, Mapping[str, int]], department_ids=None) -> None:
    """Replace the rollup rows of ``month`` (of ``department_ids``; None: every department)."""
    gone = delete(KpiMonth).where(KpiMonth.month == month)
    if department_ids is not None:
        gone = gone.where(KpiMonth.department_id.in_(list(department_ids)))
    session.execute(gone)
    rows = [
        {"department_id": d, "month": month, **{n: int(f[n]) for n in FIGURES}}
        for d, f in sorted(figures.items())
        if any(f[n] for n in FIGURES)
    ]
    if rows:
        session.execute(KpiMonth.__table__.insert(), rows)


def refresh_rollup(session, *, now: datetime, months: Iterable[date] | None = None) -> int:
    """Recompute the stale rows (of ``months``; None: all) and build the months never built
    among ``months`` (None: ``now``'s month); return how many (department, month) pairs and
    whole months were computed. Deletes only the markers it read, so a change committed
    meanwhile keeps its own. The caller commits."""
    _lock_rollup(session)
    wanted = None if months is None else sorted(set(months))
    query = select(KpiStale.id, KpiStale.department_id, KpiStale.month)
    if wanted is not None:
        query = query.where(KpiStale.month.in_(wanted))
    markers = session.execute(query).all()
    built = set(session.scalars(select(KpiBuiltMonth.month)))
    to_build = [m for m in (wanted if wanted is not None else [month_of(now)]) if m not in built]
    stale: dict[date, set[int]] = {}
    for _, department_id, month in markers:
        if month not in to_build:
            stale.setdefault(month, set()).add(department_id)
    for month in to_build:
        _write_month(session, month, month_figures(session, month_period(month)))
        session.execute(KpiBuiltMonth.__table__.insert(), [{"month": month, "built_at": now}])
    for month, departments in sorted(stale.items()):
        if month in built:  # a month never built is computed whole at its first build
            figures = month_figures(session, month_period(month), sorted(departments))
            _write_month(session, month, figures, departments)
    ids = [marker.id for marker in markers]
    for start in range(0, len(ids), 1000):
        session.execute(delete(KpiStale).where(KpiStale.id.in_(ids[start : start + 1000])))
    return sum(len(d) for m, d in stale.items() if m in built) + len(to_build)


def build_rollup(session, *, now: datetime, rebuild: bool = False, limit: int | None = None) -> int:
    """Build the months from the first dispatch to ``now``'s not built yet, the latest first,
    at most ``limit`` of them (``ys init``, the bench seed, the refresh job on a migrated
    database; ``rebuild``: all of them again); return how many were built. The caller commits."""
    firsts = [
        session.scalar(select(func.min(Assignment.dispatched_at)).where(Assignment.role == role))
        for role in (AssignmentRole.LEAD.value, AssignmentRole.CO.value)  # (role, dispatched_at) index
    ]
    first = min((f for f in firsts if f is not None), default=None)
    if first is None:
        return 0
    months, month, last = [], month_of(first), month_of(now)
    while month <= last:
        months.append(month)
        year, number = _month_after(month.year, month.month)
        month = date(year, number, 1)
    _lock_rollup(session)
    if rebuild:
        session.execute(delete(KpiBuiltMonth).where(KpiBuiltMonth.month.in_(months)))
    built = set(session.scalars(select(KpiBuiltMonth.month)))
    missing = [m for m in reversed(months) if m not in built][:limit]
    if missing:
        refresh_rollup(session, now=now, months=missing)
    return len(missing)


METRICS = tuple(METRIC_LABELS)


def drilldown_case_ids(session, period: Period, department_id: int, metric: str) -> list[int]:
    """The case ids behind one figure of a department (``METRICS``), ascending.

    Round and signing metrics give one id per round / assignment, so the list is as long as the
    figure (a case the department handled twice in the period appears twice). Notice metrics give
    each case named in the notices once (an interview notice may name none)."""
    if metric in _ROUND_METRICS:
        rounds = _lead_rounds(period, [department_id])
        query = select(rounds.c.case_id).where(rounds.c[metric] == 1)
        order = (rounds.c.case_id, rounds.c.assignment_id)
    elif metric in _SIGNING_METRICS:
        signing = _signing(period, [department_id])
        query = select(signing.c.case_id).where(signing.c[metric] == 1)
        order = (signing.c.case_id,)
    elif metric in _NOTICE_METRICS:
        query = (
            select(notice_case.c.case_id)
            .distinct()
            .join(Notice, Notice.id == notice_case.c.notice_id)
            .where(
                Notice.department_id == department_id,
                Notice.kind == _NOTICE_METRICS[metric].value,
                _in_period(Notice.issued_at, period),
            )
        )
        order = (notice_case.c.case_id,)
    else:
        raise ValueError(f"Unknown metric {metric!r}; choose one of {', '.join(METRICS)}.")
    return list(session.execute(query.order_by(*order)).scalars())


# --- per level: an office's own departments, and its lower offices --------------------------
#
# Each office (jurisdiction) ranks the departments of its own government; a city also ranks its
# counties' offices and the province its cities, one row per child jurisdiction, over the
# rounds led by the departments of that child's subtree (a round counts where it was handled,
# even after the case moved up or down), and the supervision that subtree received.


def office_department_ids(session, jurisdiction) -> list[int]:
    """The departments an office ranks: those of its own government (the root's office also
    those of no jurisdiction)."""
    own = Department.jurisdiction_id == jurisdiction.id
    if jurisdiction.parent_id is None:
        own = or_(own, Department.jurisdiction_id.is_(None))
    return list(session.execute(select(Department.id).where(own).order_by(Department.id)).scalars())


@dataclass(frozen=True)
class OfficeKpi:
    """A lower office's figures over its jurisdiction and those under it."""

    jurisdiction_id: int
    code: str
    name: str  # the jurisdiction, e.g. 长河县
    office: str  # the issuing authority, e.g. 长河县营商环境建设局
    level: str
    period: Period
    handled: int  # lead rounds dispatched in the period to departments of the subtree
    finished: int
    on_time: Rate
    satisfaction: Rate
    reminders: int  # supervision received (see ``office_kpis``), by kind
    rectifications: int
    interviews: int

    @property
    def supervision(self) -> int:
        return self.reminders + self.rectifications + self.interviews

    def rate(self, key: str) -> Rate:
        return getattr(self, key)


@dataclass(frozen=True)
class RankedOffice:
    rank: int | None  # dense over every criterion but the code; None: too few cases (样本不足)
    position: int
    kpi: OfficeKpi
    on_time_scored: float  # the rates as ranked (a missing one filled in)
    satisfaction_scored: float
    min_cases: int = field(default=0, compare=False)

    @property
    def ranked(self) -> bool:
        return self.rank is not None


OFFICE_TIE_BREAKS = [
    "下级辖区按其辖区内（含再下级辖区）各单位牵头办理的工单计算，按时办结率高者在前；",
    "按时办结率相同的，满意率高者在前；",
    "仍相同的，收到督办通知（提醒敦促函、整改通知书、约谈通知书）少者在前；",
    "仍相同的，办理量多者在前；",
    "以上均相同的，名次相同，按辖区编码顺序排列。",
    "某项比率没有可计算的工单的，按全体下级辖区该项的合计比率计；均无时按满分计。",
]


def _subtree_pairs(child_ids: list[int], name: str = "subtree"):
    """(jurisdiction, child): each jurisdiction paired with the given one whose subtree holds
    it (a join on the small jurisdiction table, by the materialised paths)."""
    from models import Jurisdiction

    inner, child = aliased(Jurisdiction, name=f"{name}_inner"), aliased(Jurisdiction, name=f"{name}_child")
    return (
        select(inner.id.label("jurisdiction_id"), child.id.label("child_id"))
        .join(child, inner.path.like(child.path + "%"))
        .where(child.id.in_(child_ids))
        .subquery(name)
    )


def office_kpis(session, period: Period, offices: Iterable, *, live: bool = False) -> list[OfficeKpi]:
    """The figures of each given jurisdiction over itself and every jurisdiction under it, in
    the order given. Three grouped queries whatever the number of offices and cases; the
    rounds' figures of a period of whole months come from the monthly rollup (unless ``live``).

    Supervision received: the reminders, rectification and interview notices issued in the
    period to a department of the subtree, and those an upper office issued about a case of
    the subtree (to whichever department); each notice counts once."""
    from models import Jurisdiction

    offices = list(offices)
    if not offices:
        return []
    ids = [office.id for office in offices]
    root_id = session.scalar(
        select(Jurisdiction.id).where(Jurisdiction.parent_id.is_(None)).order_by(Jurisdiction.id)
    )
    pairs = _subtree_pairs(ids)
    department_j = func.coalesce(Department.jurisdiction_id, root_id)
    # Only the rounds of the subtrees' departments are computed (not the whole province's).
    within = _subtree_pairs(ids, "within")
    subtree_departments = select(Department.id).join(within, within.c.jurisdiction_id == department_j)
    sums = None
    if not live and len(whole_months(period) or ()) >= MIN_ROLLUP_MONTHS:
        sums = rollup_sums(session, period, session.scalars(subtree_departments).all())
    if sums is not None:  # the rollup's departments, added up per office (a small join)
        round_rows = {}
        for department_id, child_id in session.execute(
            select(Department.id, pairs.c.child_id).join(pairs, pairs.c.jurisdiction_id == department_j)
        ):
            if department_id in sums:
                total = round_rows.setdefault(child_id, dict.fromkeys(_OFFICE_METRICS, 0))
                for m in _OFFICE_METRICS:
                    total[m] += sums[department_id][m]
        round_rows = {k: SimpleNamespace(**v) for k, v in round_rows.items()}
    else:
        rounds = _lead_rounds(period, subtree_departments)
        round_rows = {
            row.child_id: row
            for row in session.execute(
                select(
                    pairs.c.child_id,
                    *[func.coalesce(func.sum(rounds.c[m]), 0).label(m) for m in _OFFICE_METRICS],
                )
                .select_from(rounds)
                .join(Department, Department.id == rounds.c.department_id)
                .join(pairs, pairs.c.jurisdiction_id == department_j)
                .group_by(pairs.c.child_id)
            )
        }

    kinds = [kind.value for kind in _NOTICE_METRICS.values()]
    received = and_(_in_period(Notice.issued_at, period), Notice.kind.in_(kinds))
    to_departments = (
        select(Notice.id.label("notice_id"), Notice.kind.label("kind"), pairs.c.child_id)
        .join(Department, Department.id == Notice.department_id)
        .join(pairs, pairs.c.jurisdiction_id == department_j)
        .where(received)
    )
    child, issuer = aliased(Jurisdiction, name="child_o"), aliased(Jurisdiction, name="issuer_o")
    from_above = (
        select(Notice.id.label("notice_id"), Notice.kind.label("kind"), pairs.c.child_id)
        .join(notice_case, notice_case.c.notice_id == Notice.id)
        .join(Case, Case.id == notice_case.c.case_id)
        .join(pairs, pairs.c.jurisdiction_id == Case.jurisdiction_id)
        .join(child, child.id == pairs.c.child_id)
        .join(issuer, issuer.id == Notice.jurisdiction_id)
        .where(received, issuer.id != child.id, child.path.like(issuer.path + "%"))
    )
    both = to_departments.union(from_above).subquery("received")  # UNION: each notice once
    notices = {
        row.child_id: row
        for row in session.execute(
            select(
                both.c.child_id,
                *[
                    func.coalesce(func.sum(_flag(both.c.kind == kind.value)), 0).label(metric)
                    for metric, kind in _NOTICE_METRICS.items()
                ],
            ).group_by(both.c.child_id)
        )
    }

    def value(metric: str, source) -> int:
        return int(getattr(source, metric)) if source is not None else 0

    kpis = []
    for office in offices:
        row, notice = round_rows.get(office.id), notices.get(office.id)
        kpis.append(
            OfficeKpi(
                jurisdiction_id=office.id,
                code=office.code,
                name=office.name,
                office=office.authority,
                level=str(office.level),
                period=period,
                handled=value("handled", row),
                finished=value("finished", row),
                on_time=Rate(value("on_time", row), value("finished", row)),
                satisfaction=Rate(value("satisfied", row), value("rated", row)),
                reminders=value("reminders", notice),
                rectifications=value("rectifications", notice),
                interviews=value("interviews", notice),
            )
        )
    return kpis


_OFFICE_METRICS = ("handled", "finished", "on_time", "rated", "satisfied")


def rank_offices(kpis: Iterable[OfficeKpi], min_cases: int = 0) -> list[RankedOffice]:
    """Rank lower offices: on-time rate, then satisfaction (high first), supervision received
    (few first), cases handled (many first), and finally the code (``OFFICE_TIE_BREAKS``).
    An office whose subtree led fewer than ``min_cases`` rounds is listed after the ranked ones,
    by code, without a rank (样本不足); the averages pool the ranked offices only."""
    kpis = list(kpis)
    eligible = [k for k in kpis if not too_few(k.handled, min_cases)]
    averages = {}
    for key in ("on_time", "satisfaction"):
        denominator = sum(k.rate(key).denominator for k in eligible)
        averages[key] = sum(k.rate(key).numerator for k in eligible) / denominator if denominator else None

    def scored(kpi, key):
        value = kpi.rate(key).value
        value = averages[key] if value is None else value
        return 1.0 if value is None else value

    keyed = sorted(
        (
            ((-scored(k, "on_time"), -scored(k, "satisfaction"), k.supervision, -k.handled), k.code, k)
            for k in eligible
        ),
        key=lambda item: (item[0], item[1]),
    )
    ranked, previous, number = [], None, 0
    for position, (key, _, kpi) in enumerate(keyed, 1):
        if key != previous:
            number, previous = number + 1, key
        ranked.append(RankedOffice(number, position, kpi, -key[0], -key[1], min_cases))
    others = sorted((k for k in kpis if too_few(k.handled, min_cases)), key=lambda k: k.code)
    for position, kpi in enumerate(others, len(ranked) + 1):
        ranked.append(
            RankedOffice(None, position, kpi, scored(kpi, "on_time"), scored(kpi, "satisfaction"), min_cases)
        )
    return ranked


def lower_office_ranking(session, period: Period, jurisdiction, min_cases: int = 0) -> list[RankedOffice]:
    """The ranking of an office's child jurisdictions (none for a county)."""
    from app.services import jurisdictions

    children = jurisdictions.children(session, jurisdiction.id)
    return rank_offices(office_kpis(session, period, children), min_cases)


def assessed_office(session, actor, jurisdiction_id=None):
    """The office whose assessment ``actor`` asks for: their own (the root's for an account of
    no jurisdiction), or one under it. Drill-down follows the scope: any other is not found (a
    county cannot open its city's ranking, nor a sibling county's)."""
    from app.errors import NotFound
    from app.ids import as_id
    from app.services import jurisdictions
    from app.workflow import N_
    from models import Jurisdiction

    if jurisdiction_id in (None, ""):
        return jurisdictions.get(session, actor.jurisdiction_id)
    wanted = as_id(jurisdiction_id)
    found = session.get(Jurisdiction, wanted) if wanted is not None else None
    if found is None or not jurisdictions.is_within(found, actor.jurisdiction_path):
        raise NotFound(N_("Jurisdiction not found."))
    return found


def warnings_received(session, period: Period, department_ids: Iterable[int] | None = None) -> dict[int, int]:
    """The early warnings about each department (``EarlyWarning.department_id``) raised in the
    period, whatever became of them (one query)."""
    query = (
        select(EarlyWarning.department_id, func.count())
        .where(_in_period(EarlyWarning.created_at, period), EarlyWarning.department_id.isnot(None))
        .group_by(EarlyWarning.department_id)
    )
    if department_ids is not None:
        query = query.where(EarlyWarning.department_id.in_(list(department_ids)))
    return {department_id: int(n) for department_id, n in session.execute(query)}


# --- exports ---------------------------------------------------------------------------------


def _percent(key: str) -> Callable[[RankedDepartment], float | None]:
    return lambda r: r.kpi.rate(key).percent


def _count(attr: str) -> Callable[[RankedDepartment], int]:
    return lambda r: getattr(r.kpi, attr)


def _part(key: str, part: str) -> Callable[[RankedDepartment], int]:
    return lambda r: getattr(r.kpi.rate(key), part)


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _deducted(r: RankedDepartment, key: str) -> float | None:
    """The points one kind of notice took off (None for a department not scored)."""
    if r.breakdown is None:
        return None
    return round(next(d.points for d in r.breakdown.deductions if d.key == key), 2)


def not_ranked_note(min_cases: int) -> str:
    return f"样本不足（承办件少于{min_cases}件），不计分、不排名"


def _not_ranked(r) -> str:
    return "" if r.ranked else not_ranked_note(r.min_cases)


# (header, value, kind): kind "text", "int", "percent" (already ×100, 2 decimals) or "score".
COLUMNS: list[tuple[str, Callable[[RankedDepartment], object], str]] = [
    ("名次", lambda r: r.rank, "int"),
    ("单位编码", lambda r: r.kpi.code, "text"),
    ("单位名称", lambda r: r.kpi.name, "text"),
    ("综合得分", lambda r: _rounded(r.score), "score"),
    ("加权得分小计", lambda r: _rounded(r.breakdown.weighted) if r.breakdown else None, "score"),
    *[(f"{notice_name(k)}扣分", lambda r, k=k: _deducted(r, k), "score") for k in DEDUCTIONS],
    ("督办扣分合计", lambda r: _rounded(r.breakdown.deducted) if r.breakdown else None, "score"),
    ("承办件数", _count("handled"), "int"),
    ("办结件数", _count("finished"), "int"),
    ("按时办结件数", _part("on_time", "numerator"), "int"),
    ("按时办结率(%)", _percent("on_time"), "percent"),
    ("查实件数", _part("resolution", "denominator"), "int"),
    ("已解决件数", _part("resolution", "numerator"), "int"),
    ("问题解决率(%)", _percent("resolution"), "percent"),
    ("已评价件数", _part("satisfaction", "denominator"), "int"),
    ("满意及基本满意件数", _part("satisfaction", "numerator"), "int"),
    ("满意率(%)", _percent("satisfaction"), "percent"),
    ("已签收件数", _part("signing", "denominator"), "int"),
    ("按时签收件数", _part("signing", "numerator"), "int"),
    ("按时签收率(%)", _percent("signing"), "percent"),
    ("重办件数", _part("rehandle", "numerator"), "int"),
    ("重办率(%)", _percent("rehandle"), "percent"),
    ("退单件数", _part("returns", "numerator"), "int"),
    ("退单率(%)", _percent("returns"), "percent"),
    ("初步核查件数", _part("verification", "denominator"), "int"),
    ("按时告知核查结果率(%)", _percent("verification"), "percent"),
    ("停表工作日数", _count("paused_days"), "int"),
    ("提醒敦促函", _count("reminders"), "int"),
    ("整改通知书", _count("rectifications"), "int"),
    ("约谈通知书", _count("interviews"), "int"),
    ("收到预警", _count("warnings"), "int"),
    ("考核期间", lambda r: r.kpi.period.label, "text"),
    ("排名说明", lambda r: _not_ranked(r), "text"),
]
HEADERS = [header for header, _, _ in COLUMNS]


def rows(ranked: Iterable[RankedDepartment]) -> list[list[object]]:
    """The export table (without the header): one list per department, None for an empty rate."""
    return [[value(r) for _, value, _ in COLUMNS] for r in ranked]


def _safe_text(value):
    """Keep a spreadsheet from reading a name as a formula (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def to_csv(ranked: Iterable[RankedDepartment]) -> str:
    """The ranking as CSV text starting with a BOM, so Excel opens the Chinese correctly (write
    it encoded as UTF-8). An empty rate is an empty cell."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADERS)
    for row in rows(ranked):
        writer.writerow(["" if v is None else _safe_text(v) for v in row])
    return out.getvalue()


# The ranking of the lower offices (a sheet of its own in the XLSX).
OFFICE_COLUMNS: list[tuple[str, Callable[[RankedOffice], object], str]] = [
    ("名次", lambda r: r.rank, "int"),
    ("辖区编码", lambda r: r.kpi.code, "text"),
    ("辖区", lambda r: r.kpi.name, "text"),
    ("营商环境工作机构", lambda r: r.kpi.office, "text"),
    ("承办件数", lambda r: r.kpi.handled, "int"),
    ("办结件数", lambda r: r.kpi.finished, "int"),
    ("按时办结件数", lambda r: r.kpi.on_time.numerator, "int"),
    ("按时办结率(%)", lambda r: r.kpi.on_time.percent, "percent"),
    ("已评价件数", lambda r: r.kpi.satisfaction.denominator, "int"),
    ("满意及基本满意件数", lambda r: r.kpi.satisfaction.numerator, "int"),
    ("满意率(%)", lambda r: r.kpi.satisfaction.percent, "percent"),
    ("提醒敦促函", lambda r: r.kpi.reminders, "int"),
    ("整改通知书", lambda r: r.kpi.rectifications, "int"),
    ("约谈通知书", lambda r: r.kpi.interviews, "int"),
    ("收到督办合计", lambda r: r.kpi.supervision, "int"),
    ("考核期间", lambda r: r.kpi.period.label, "text"),
    ("排名说明", lambda r: _not_ranked(r), "text"),
]


def _table_sheet(sheet, columns, ranked, freeze: str) -> None:
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    sheet.append([header for header, _, _ in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    formats = {"int": "0", "percent": "0.00", "score": "0.00"}
    for r in ranked:
        sheet.append([_safe_text(value(r)) for _, value, _ in columns])
        for cell, (_, _, kind) in zip(sheet[sheet.max_row], columns, strict=True):
            if kind in formats:
                cell.number_format = formats[kind]
    for index, (header, _, kind) in enumerate(columns, 1):
        wide = header in ("单位名称", "营商环境工作机构")
        width = 28 if wide else 12 if kind == "text" else max(8, len(header) * 2)
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = freeze


def to_xlsx(
    ranked: Iterable[RankedDepartment],
    weights: Mapping[str, float] | None = None,
    offices: Iterable[RankedOffice] = (),
) -> bytes:
    """The ranking as an XLSX workbook: the table, the lower offices' ranking when there is
    one, and a sheet with the definitions."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    ranked = list(ranked)
    if weights is None and ranked:
        weights = ranked[0].weights or None
    min_cases = ranked[0].min_cases if ranked else 0
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "考核排名"
    _table_sheet(sheet, COLUMNS, ranked, "D2")
    offices = list(offices)
    if offices:
        _table_sheet(workbook.create_sheet("下级辖区排名"), OFFICE_COLUMNS, offices, "E2")

    notes = workbook.create_sheet("指标说明")
    notes.append(["指标", "计算方法"])
    for cell in notes[1]:
        cell.font = Font(bold=True)
    notes.append(["计分公式", score_summary(weights, min_cases)])
    for name, text in formulas(weights, min_cases).items():
        notes.append([name, text])
    if offices:
        notes.append(["下级辖区排名", "".join(OFFICE_TIE_BREAKS)])
    notes.column_dimensions["A"].width = 24
    notes.column_dimensions["B"].width = 100
    for (cell,) in notes.iter_rows(min_row=2, min_col=2, max_col=2):
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
