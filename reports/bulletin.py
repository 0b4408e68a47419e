"""月度通报 (营商环境投诉举报办理情况通报) and 考核排名报告, as PDF.

Both take plain frozen dataclasses that the statistics code fills; every label arrives in Chinese.
Rates are fractions (0..1) or None when there is nothing to measure; they print as ``92.9%`` and
``—``. Charts are pygal SVGs (:mod:`reports.charts`) embedded as ``data:`` URIs, greyscale and
directly labelled so a black-and-white print reads the same.

Timing (warm process): a bulletin with a 100-department ranking and five long cases per list (11
pages) renders in ~1.4 s, the 100-department assessment report (7 pages, 5 of them landscape) in
~1.4 s. Render in a job, never in a request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from markupsafe import Markup

from reports.charts import grouped_bar_chart, horizontal_bar_chart
from reports.pdf import render_pdf

DASH = "—"


@dataclass(frozen=True)
class Count:
    label: str
    value: int


@dataclass(frozen=True)
class TrendPoint:
    label: str  # e.g. "11月" (the caption names the months' range)
    filed: int
    closed: int


@dataclass(frozen=True)
class Headline:
    """One period's headline figures, each with one definition (see the bulletin's 口径说明):
    登记 cases filed in the period, 受理 cases accepted in it, 办结 cases closed in it; the
    on-time and satisfaction counts are parts of the closed ones (the same population)."""

    filed: int
    accepted: int
    closed: int
    on_time: int  # of the closed: the last reply made by the handling deadline
    rated: int  # of the closed: those rated (满意/基本满意/不满意)
    satisfied: int  # of the rated: 满意 or 基本满意
    # on_time / closed and satisfied / rated (None with nothing to count), kept as fields so
    # that asdict (the dashboard's JSON) carries them
    on_time_rate: float | None = field(init=False)
    satisfaction_rate: float | None = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "on_time_rate", self.on_time / self.closed if self.closed else None)
        object.__setattr__(self, "satisfaction_rate", self.satisfied / self.rated if self.rated else None)


@dataclass(frozen=True)
class HotItem:
    """A hot issue (a category) or a department complained about: this period's count and the
    previous period's (None: no base to compare with)."""

    label: str
    value: int
    previous: int | None = None


@dataclass(frozen=True)
class DepartmentRate:
    """A lead department's cases closed in the period and how many of them on time."""

    label: str
    on_time: int
    closed: int

    @property
    def rate(self) -> float | None:
        return self.on_time / self.closed if self.closed else None


@dataclass(frozen=True)
class Figures(Headline):
    by_type: list[Count] = field(default_factory=list)  # each table: the period's filed cases
    by_channel: list[Count] = field(default_factory=list)
    by_category: list[Count] = field(default_factory=list)
    by_level: list[Count] = field(default_factory=list)  # with 尚未分办 and 不予受理 rows
    trend: list[TrendPoint] = field(default_factory=list)  # months, oldest first, current last
    # 整改, from the records (Finding, Rectification): complaints and reports found 属实/部分属实
    # in the month, and rectifications the office's re-check accepted in the month.
    founded: int = 0
    rectified: int = 0
    previous: Headline | None = None  # the period before (环比)
    year_ago: Headline | None = None  # the same period a year before (同比)
    hot_categories: list[HotItem] = field(default_factory=list)
    hot_departments: list[HotItem] = field(default_factory=list)  # 被反映单位, at least HOT_MINIMUM cases
    # the lead departments whose on-time rate (of at least LATE_MINIMUM closed) is below the average
    late_departments: list[DepartmentRate] = field(default_factory=list)


@dataclass(frozen=True)
class TypicalItem:
    """A published typical case: no case number and no title the reporter typed, only the heading
    and summary written for publication (redacted, third person, checked by the detector)."""

    heading: str
    department: str  # 承办单位: the department that led its handling (never the one it was about)
    summary: str
    # What the records say of its rectification (finding, accepted on re-check and when); no typed text.
    rectification: str | None = None


@dataclass(frozen=True)
class NoticeItem:
    number: str
    kind: str
    department: str
    cause: str
    issued_on: date


@dataclass(frozen=True)
class NoticeSummary:
    """The notices of a longer period by department and kind (a pivot table)."""

    kinds: list[str]
    rows: list[tuple[str, list[int], int]]  # department, count per kind, total
    totals: list[int]
    total: int


@dataclass(frozen=True)
class Ratio:
    """A rate with its parts, printed ``94.9%（37/39）``; no value when the denominator is 0."""

    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None


@dataclass(frozen=True)
class ScoredRate:
    """One scored rate of a department and what it adds to the score."""

    key: str  # on_time, resolution, satisfaction, signing
    label: str  # e.g. "按时办结率"
    ratio: Ratio
    weight: float  # its share of the score in percent, e.g. 35
    points: float | None  # 100 × weight × the rate counted; None: not scored (样本不足)
    filled: bool = False  # 0/0: the ranked departments' pooled rate was counted (marked *)


@dataclass(frozen=True)
class NoticeDeduction:
    """The notices of one kind a department received and the points they take off."""

    label: str  # 提醒敦促函, 整改通知书, 约谈通知书
    count: int
    per: float  # points per notice
    points: float  # count × per


@dataclass(frozen=True)
class RankingRow:
    """One department of the ranking: every scored rate with its numerator and denominator and
    its part of the score, the notices deducted, ``score = max(0, weighted − deducted)``. A
    department with too few cases (样本不足) has no rank and no score, its figures still shown."""

    rank: int | None  # None: not ranked (样本不足)
    department: str
    level: str
    handled: int
    rates: list[ScoredRate]
    deductions: list[NoticeDeduction]
    rehandle: Ratio
    returns: Ratio
    weighted: float | None  # Σ the rates' points
    deducted: float  # Σ the deductions' points
    score: float | None

    def _rate(self, key: str) -> float | None:
        return next((r.ratio.value for r in self.rates if r.key == key), None)

    def _count(self, label: str) -> int:
        return next((d.count for d in self.deductions if d.label == label), 0)

    @property
    def on_time_rate(self) -> float | None:
        return self._rate("on_time")

    @property
    def resolution_rate(self) -> float | None:
        return self._rate("resolution")

    @property
    def satisfaction_rate(self) -> float | None:
        return self._rate("satisfaction")

    @property
    def signing_rate(self) -> float | None:
        return self._rate("signing")

    @property
    def reminders(self) -> int:
        return self._count("提醒敦促函")

    @property
    def rectifications(self) -> int:
        return self._count("整改通知书")

    @property
    def interviews(self) -> int:
        return self._count("约谈通知书")

    @property
    def warnings(self) -> int:
        return self._count("收到预警")

    @property
    def rehandle_rate(self) -> float | None:
        return self.rehandle.value

    @property
    def return_rate(self) -> float | None:
        return self.returns.value


@dataclass(frozen=True)
class OfficeRow:
    """One lower office (a city's county, the province's city) ranked by its upper office, over
    the cases of its jurisdiction and of those under it; no rank when it had too few cases."""

    rank: int | None  # None: not ranked (样本不足)
    office: str  # e.g. "长河县营商环境建设局"
    jurisdiction: str  # e.g. "长河县"
    level: str
    handled: int
    on_time: Ratio
    satisfaction: Ratio
    reminders: int  # 督办 received, by kind
    rectifications: int
    interviews: int

    @property
    def supervision(self) -> int:
        return self.reminders + self.rectifications + self.interviews

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time.value

    @property
    def satisfaction_rate(self) -> float | None:
        return self.satisfaction.value


@dataclass(frozen=True)
class WarningModelCount:
    """One early-warning model's warnings raised in the period and what became of them (as the
    bulletin was made): dispatched as cases, notices issued, dismissed, still open, and of the
    open ones those past the office's deadline."""

    model: str  # the model's name, e.g. "同一窗口被反复投诉"
    raised: int
    dispatched: int
    notices: int
    dismissed: int
    open: int
    overdue: int


@dataclass(frozen=True)
class WarningSummary:
    """预警处置情况: per model, with the totals and the departments with most warnings (never
    a person: a warning about an official is counted under the official's department)."""

    models: list[WarningModelCount]
    total: WarningModelCount
    departments: list[Count] = field(default_factory=list)


@dataclass(frozen=True)
class BulletinData:
    title: str  # e.g. "营商环境投诉举报办理情况通报"
    issue: str  # e.g. "2026年第11期"
    period_label: str  # e.g. "2026年10月"
    issued_on: str  # e.g. "2026年11月1日"
    figures: Figures
    exemplary: list[TypicalItem]
    warning: list[TypicalItem]
    notices: list[NoticeItem]
    ranking: list[RankingRow]
    issuer: str  # the issuing office, e.g. "石门市营商环境建设局"
    area: str  # the cases it covers, e.g. "石门市（含所辖县区）"
    series: str = "month"  # month, quarter or year: what 上期 and 去年同期 mean
    notice_summary: NoticeSummary | None = None  # a quarter or a year: notices by department and kind
    analysis: list[str] = field(default_factory=list)  # 问题分析, one string a paragraph
    requirements: list[str] = field(default_factory=list)  # 下一步工作要求, one string a paragraph
    recipients: list[str] = field(default_factory=list)  # 主送, one office a line
    copy_to: list[str] = field(default_factory=list)  # 抄送
    trend_range: str = ""  # e.g. "2026年6月至11月"
    warnings: WarningSummary | None = None  # 预警处置情况 (None: no warning raised in the period)


@dataclass(frozen=True)
class AssessmentData:
    title: str
    period_label: str
    issued_on: str
    ranking: list[RankingRow]
    weights: dict[str, float]  # e.g. {"按时办结率": 0.35, ...}
    deductions: dict[str, float]  # e.g. {"提醒敦促函（每份）": 0.5, "整改通知书（每份）": 2}
    formulas: dict[str, str]  # Chinese definitions for the appendix
    tie_breaks: list[str]  # Chinese, in order
    issuer: str  # the issuing office
    area: str  # e.g. "石门市本级"
    offices: list[OfficeRow] = field(default_factory=list)  # its lower offices, ranked
    office_tie_breaks: list[str] = field(default_factory=list)
    summary: str = ""  # the scoring rule in one paragraph, with the weights in force
    min_cases: int = 0  # fewer cases than this: not ranked (样本不足)


def pct(rate: float | None) -> str:
    """A 0..1 rate as ``92.9%``; ``—`` for None."""
    return DASH if rate is None else f"{rate * 100:.1f}%"


def share(value: int, total: int) -> str:
    """``value`` as a percentage of ``total``; ``—`` when the total is 0."""
    return pct(value / total) if total else DASH


def change(current: int | None, base: int | None) -> str:
    """A count against its base: 上升 12.5% / 下降 3.0% / 持平; ``—`` with no base (none, or 0)."""
    if current is None or not base:
        return DASH
    if current == base:
        return "持平"
    return f"{'上升' if current > base else '下降'}{abs(current - base) / base * 100:.1f}%"


def point_change(rate: float | None, base: float | None) -> str:
    """A rate against its base in percentage points: 上升 1.2 个百分点; ``—`` with no base. The
    difference of the two rates as printed (82.1% against 86.1% is 4.0 points, whatever the
    unrounded rates give), so a reader can check it."""
    if rate is None or base is None:
        return DASH
    points = round(float(pct(rate)[:-1]) - float(pct(base)[:-1]), 1)
    if points == 0:
        return "持平"
    return f"{'上升' if points > 0 else '下降'}{abs(points):.1f}个百分点"


HOT_MINIMUM = 3  # a department complained about is named in the bulletin from this many cases on


def text_mm(texts: list[str], points: float) -> float:
    """The width (mm) of the widest of ``texts`` set at ``points``: a CJK character or a
    full-width bracket a full em, anything else half (for columns that never wrap)."""
    widths = [sum(1 if ord(ch) > 0x2000 else 0.55 for ch in text) for text in texts] or [0]
    return round(max(widths) * points * 25.4 / 72, 1)


def number(value: float) -> str:
    """A count or a point value without trailing zeros: 2, 0.5, 1.25."""
    return f"{value:g}"


def score(value: float | None) -> str:
    """Points with two decimals; ``—`` for None (not scored)."""
    return DASH if value is None else f"{value:.2f}"


def nd(ratio: Ratio) -> Markup:
    """A rate with its parts: ``94.9%（37/39）``, each half kept on one line (digits only)."""
    return Markup('<span class="nw">{}</span><wbr><span class="nw">（{}/{}）</span>').format(
        pct(ratio.value), ratio.numerator, ratio.denominator
    )


def _helpers() -> dict:
    return {
        "pct": pct,
        "share": share,
        "number": number,
        "score": score,
        "nd": nd,
        "change": change,
        "text_mm": text_mm,
        "hot_minimum": HOT_MINIMUM,
        "point_change": point_change,
        "DASH": DASH,
    }


TREND_SIZE = (900, 400)  # px; printed across the type area (156 mm)
BY_TYPE_WIDTH, BY_TYPE_PRINT_MM = 640, 125  # printed at 80% of it


def _charts(figures: Figures) -> dict[str, str | float | None]:
    """The charts as data: URIs, with the height (mm) each prints at (so the page layout keeps
    a chart whole on the page it fits)."""
    trend = trend_mm = None
    if figures.trend:
        width, height = TREND_SIZE
        trend = grouped_bar_chart(
            [point.label for point in figures.trend],
            [
                ("登记量", [point.filed for point in figures.trend]),
                ("办结量", [point.closed for point in figures.trend]),
            ],
            width=width,
            height=height,
            print_mm=156,
        )
        trend_mm = round(156 * height / width, 1)
    by_type = by_type_mm = None
    if figures.by_type:
        by_type, height = horizontal_bar_chart(
            [c.label for c in figures.by_type],
            [c.value for c in figures.by_type],
            width=BY_TYPE_WIDTH,
            print_mm=BY_TYPE_PRINT_MM,
            with_height=True,
        )
        by_type_mm = round(BY_TYPE_PRINT_MM * height / BY_TYPE_WIDTH, 1)
    return {"trend": trend, "trend_mm": trend_mm, "by_type": by_type, "by_type_mm": by_type_mm}


def render_bulletin_pdf(data: BulletinData) -> bytes:
    """The monthly bulletin (A4 portrait, cover page plus sections 一 to 五) as PDF bytes."""
    return render_pdf("bulletin.html", {"b": data, "charts": _charts(data.figures), **_helpers()})


def render_assessment_pdf(data: AssessmentData) -> bytes:
    """The assessment ranking report (title page, landscape ranking table, appendix) as PDF bytes."""
    return render_pdf("assessment.html", {"a": data, **_helpers()})
