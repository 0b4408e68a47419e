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

from reports.charts import grouped_bar_chart, horizontal_bar_chart
from reports.pdf import render_pdf

DASH = "—"


@dataclass(frozen=True)
class Count:
    label: str
    value: int


@dataclass(frozen=True)
class TrendPoint:
    label: str  # e.g. "2026-06"
    filed: int
    closed: int


@dataclass(frozen=True)
class Figures:
    filed: int
    accepted: int
    closed: int
    on_time_rate: float | None  # 0..1
    satisfaction_rate: float | None  # 0..1
    by_type: list[Count]
    by_channel: list[Count]
    by_category: list[Count]
    by_level: list[Count]
    trend: list[TrendPoint]  # previous months, oldest first, current last
    # 整改, from the records (Finding, Rectification): complaints and reports found 属实/部分属实
    # in the month, and rectifications the office's re-check accepted in the month.
    founded: int = 0
    rectified: int = 0


@dataclass(frozen=True)
class TypicalItem:
    """A published typical case: no case number and no title the reporter typed, only the heading
    and summary written for publication (redacted, third person, checked by the detector)."""

    heading: str
    department: str
    summary: str
    # What the records say of its rectification (finding, accepted on re-check and when); no typed text.
    rectification: str | None = None


@dataclass(frozen=True)
class NoticeItem:
    number: str
    kind: str
    department: str
    cause: str
    issued_on: str


@dataclass(frozen=True)
class RankingRow:
    rank: int
    department: str
    level: str
    handled: int
    on_time_rate: float | None
    resolution_rate: float | None
    satisfaction_rate: float | None
    signing_rate: float | None
    reminders: int
    rectifications: int
    rehandle_rate: float | None
    return_rate: float | None
    score: float


@dataclass(frozen=True)
class OfficeRow:
    """One lower office (a city's county, the province's city) ranked by its upper office, over
    the cases of its jurisdiction and of those under it."""

    rank: int
    office: str  # e.g. "长河县营商环境建设局"
    jurisdiction: str  # e.g. "长河县"
    level: str
    handled: int
    on_time_rate: float | None
    satisfaction_rate: float | None
    supervision: int  # 督办 received: reminders, rectification and interview notices


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


def pct(rate: float | None) -> str:
    """A 0..1 rate as ``92.9%``; ``—`` for None."""
    return DASH if rate is None else f"{rate * 100:.1f}%"


def share(value: int, total: int) -> str:
    """``value`` as a percentage of ``total``; ``—`` when the total is 0."""
    return pct(value / total) if total else DASH


def number(value: float) -> str:
    """A count or a point value without trailing zeros: 2, 0.5, 1.25."""
    return f"{value:g}"


def score(value: float) -> str:
    return f"{value:.2f}"


def _helpers() -> dict:
    return {
        "pct": pct,
        "share": share,
        "number": number,
        "score": score,
        "DASH": DASH,
    }


def _charts(figures: Figures) -> dict[str, str | None]:
    trend = None
    if figures.trend:
        trend = grouped_bar_chart(
            [point.label for point in figures.trend],
            [
                ("登记量", [point.filed for point in figures.trend]),
                ("办结量", [point.closed for point in figures.trend]),
            ],
        )
    by_type = None
    if figures.by_type:
        by_type = horizontal_bar_chart([c.label for c in figures.by_type], [c.value for c in figures.by_type])
    return {"trend": trend, "by_type": by_type}


def render_bulletin_pdf(data: BulletinData) -> bytes:
    """The monthly bulletin (A4 portrait, cover page plus sections 一 to 五) as PDF bytes."""
    return render_pdf("bulletin.html", {"b": data, "charts": _charts(data.figures), **_helpers()})


def render_assessment_pdf(data: AssessmentData) -> bytes:
    """The assessment ranking report (title page, landscape ranking table, appendix) as PDF bytes."""
    return render_pdf("assessment.html", {"a": data, **_helpers()})
