"""Build the plain data of the bulletin and the assessment report from the database with
set-based queries (the same KPI definitions as the dashboard and the CSV), then render.

Each office issues its own: a bulletin covers the cases of its jurisdiction and of every one
under it and lists the notices their offices issued; an assessment ranks the departments of
its own government and (a city, the province) its lower offices. Both are issued in its name."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import timedelta

from flask import current_app
from flask_babel import gettext
from sqlalchemy import and_, func, select, true, tuple_
from sqlalchemy.orm import joinedload

from app.clock import local_date, to_local
from app.early_warning import WarningState
from app.enums import FOUNDED, LABELS, DeptLevel, RectificationState
from app.publication import ReportKind, TypicalKind, TypicalState
from app.services import assessment as kpi
from app.services import case_figures as figures_rules
from app.services import jurisdictions
from app.services import typical as typical_services
from app.supervision import NOTICE_LABELS, NoticeKind
from models import (
    Case,
    Category,
    Department,
    EarlyWarning,
    Finding,
    Jurisdiction,
    Notice,
    Rectification,
    TypicalCase,
    WarningModel,
)
from reports import bulletin as doc
from reports import drafting
from reports.pdf import cn_date


def _label(value) -> str:
    return gettext(LABELS[value]) if value in LABELS else str(value or "—")


_in = figures_rules.within


def cases_clause(jurisdiction: Jurisdiction | None):
    """The cases a document of ``jurisdiction`` covers: its own and those of every jurisdiction
    under it (the root's, or None: every case)."""
    if jurisdiction is None or jurisdiction.parent_id is None:
        return true()
    return Case.jurisdiction_id.in_(jurisdictions.subtree_ids_select(jurisdiction.path))


def area(session, jurisdiction: Jurisdiction) -> str:
    """The cases a bulletin covers, as its text names them: 全省, 石门市（含所辖县区）, 长河县."""
    if jurisdiction.parent_id is None and jurisdiction.level == DeptLevel.PROVINCE:
        return "全省"
    if jurisdiction.parent_id is None or jurisdictions.children(session, jurisdiction.id):
        lower = {DeptLevel.PROVINCE: "市县", DeptLevel.CITY: "县区"}.get(jurisdiction.level, "辖区")
        return f"{jurisdiction.name}（含所辖{lower}）"
    return jurisdiction.name


def own_departments_label(jurisdiction: Jurisdiction) -> str:
    """The departments of an office's own government, as documents call them: 清源省直, 石门市直."""
    return f"{jurisdiction.name}直"


def _counts(rows: dict, labels=None) -> list[doc.Count]:
    """A dimension's counts (``_dimensions``), most first."""
    ordered = sorted(rows.items(), key=lambda kv: (-kv[1], str(kv[0])))
    return [doc.Count((labels or _label)(key), n) for key, n in ordered]


def series_of(period: kpi.Period) -> str:
    """month, quarter or year: what the period is (its label says: 2026年11月, 2026年第3季度,
    2026年度)."""
    if period.label.endswith("年度"):
        return "year"
    if period.label.endswith("季度"):
        return "quarter"
    return "month"


def _same_kind(period: kpi.Period, back: int) -> kpi.Period:
    """The period of the same kind ``back`` periods before (a month, a quarter or a year)."""
    first = to_local(period.start)
    series = series_of(period)
    if series == "year":
        return kpi.Period.year(first.year - back)
    step = 3 if series == "quarter" else 1
    index = first.year * 12 + first.month - 1 - step * back
    year, month = divmod(index, 12)
    return kpi.Period.quarter(year, month // 3 + 1) if step == 3 else kpi.Period.month(year, month + 1)


def _year_before(period: kpi.Period) -> kpi.Period:
    return _same_kind(period, {"year": 1, "quarter": 4, "month": 12}[series_of(period)])


def _month_periods(period: kpi.Period, months: int = 6) -> list[kpi.Period]:
    last = local_date(period.end - timedelta(seconds=1))
    year, month, result = last.year, last.month, []
    for _ in range(months):
        result.append(kpi.Period.month(year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return list(reversed(result))


_flag = figures_rules.flag
FAVOURABLE, ON_TIME = figures_rules.FAVOURABLE, figures_rules.ON_TIME
UNDISPATCHED, DECLINED = figures_rules.UNDISPATCHED, figures_rules.DECLINED
LATE_MINIMUM = 3  # a department's on-time rate is compared from this many closed cases on
_closed_in = figures_rules.closed_in


def _count_where(condition):
    """A scalar subquery: how many cases ``condition`` keeps (an index scan of its period's
    column), never correlated with the statement it is in."""
    return select(func.count()).select_from(Case).where(condition).correlate(None).scalar_subquery()


def trend_months(period: kpi.Period) -> list[kpi.Period]:
    """The months a trend chart shows: a year's twelve, else the six up to the period's end."""
    return _month_periods(period, 12 if series_of(period) == "year" else 6)


def trend_range(period: kpi.Period) -> str:
    """The months of the trend chart as its caption names them: 2026年6月至11月."""
    months = trend_months(period)
    first, last = to_local(months[0].start), to_local(months[-1].start)
    if first.year == last.year:
        return f"{first.year}年{first.month}月至{last.month}月"
    return f"{first.year}年{first.month}月至{last.year}年{last.month}月"


LEVEL_ORDER = (DeptLevel.PROVINCE.value, DeptLevel.CITY.value, DeptLevel.COUNTY.value)


class LiveCounts:
    """The counts of the cases ``scope`` keeps, from the cases themselves (set-based queries)."""

    def __init__(self, session, scope):
        self.session, self.scope = session, scope

    def headline(self, period: kpi.Period) -> doc.Headline:
        """登记, 受理, 办结 and the on-time and satisfaction counts of the closed, in one
        statement: one index scan per period column (filed, accepted, closed;
        ``ix_cases_figures_*``) rather than one scan of every case matching any of them."""
        scope = self.scope
        row = self.session.execute(
            select(
                _count_where(_in(Case.created_at, period) & scope),
                _count_where(_in(Case.accepted_at, period) & scope),
                func.count(),
                _flag(ON_TIME),
                _flag(Case.rating.isnot(None)),
                _flag(Case.rating.in_(FAVOURABLE)),
            ).where(_closed_in(period), scope)
        ).one()
        return doc.Headline(*(int(value or 0) for value in row))

    def trend(self, period: kpi.Period) -> list[tuple[kpi.Period, int, int]]:
        """登记 and 办结 of each month of the chart."""
        return self.months_trend(trend_months(period))

    def months_trend(self, months: list[kpi.Period]) -> list[tuple[kpi.Period, int, int]]:
        """登记 and 办结 of each of ``months``, in two queries: one index scan of the filing dates
        and one of the closing dates over the months."""
        span = kpi.Period(min(p.start for p in months), max(p.end for p in months), "")
        scope = self.scope
        filed = select(*(_flag(_in(Case.created_at, p)) for p in months)).where(
            _in(Case.created_at, span), scope
        )
        closed = select(*(_flag(_closed_in(p)) for p in months)).where(_in(Case.closed_at, span), scope)
        created_row = self.session.execute(filed).one()
        closed_row = self.session.execute(closed).one()
        return [(p, int(created_row[i]), int(closed_row[i])) for i, p in enumerate(months)]

    def dimensions(self, period: kpi.Period, names) -> dict[str, dict]:
        """登记 of ``period`` per each key of ``names`` (``case_figures.dimension_keys``):
        {name: {key: n}}. On PostgreSQL one statement (GROUPING SETS: one index-only scan of the
        period's filed cases, ``ix_cases_figures_created``), elsewhere one GROUP BY per name."""
        keys = figures_rules.dimension_keys()
        base = figures_rules.with_dimension_joins(select().select_from(Case)).where(
            _in(Case.created_at, period), self.scope
        )
        found: dict[str, dict] = {name: {} for name in names}
        if self.session.get_bind().dialect.name == "postgresql" and len(names) > 1:
            columns = [keys[name] for name in names]
            rows = self.session.execute(
                base.add_columns(*columns, *(func.grouping(c) for c in columns), func.count()).group_by(
                    func.grouping_sets(*(tuple_(c) for c in columns))
                )
            ).all()
            for row in rows:
                # GROUPING(c) is 0 for the set grouped by c (1 for the others): says whose row it is
                i = list(row[len(names) : 2 * len(names)]).index(0)
                found[names[i]][_key(names[i], row[i])] = row[-1]
            return found
        for name in names:
            rows = self.session.execute(base.add_columns(keys[name], func.count()).group_by(keys[name])).all()
            found[name] = {_key(name, key): n for key, n in rows}
        return found

    def lead_closed(self, period: kpi.Period) -> dict[int, tuple[int, int]]:
        """Per lead department: its cases closed in the period on time, and all of them."""
        rows = self.session.execute(
            select(Case.lead_department_id, _flag(ON_TIME), func.count())
            .where(_closed_in(period), self.scope, Case.lead_department_id.isnot(None))
            .group_by(Case.lead_department_id)
        ).all()
        return {department_id: (int(on_time), int(n)) for department_id, on_time, n in rows}


def _key(name: str, value):
    """A breakdown's key as both sources give it: enum values as text, ids as ints."""
    if value is None:
        return None
    if name in ("category", "concerned"):
        return int(value)
    return str(getattr(value, "value", value))


class RollupCounts(LiveCounts):
    """The same counts from the case figures' rollup (``case_figures``) for the months it keeps
    of the jurisdictions ``keep`` keeps, added to those of the other months (being written
    to) counted from the cases themselves (``LiveCounts``, in ``scope``)."""

    def __init__(self, session, scope, keep):
        super().__init__(session, scope)
        self.keep, self._read = keep, {}

    def _rollup(self, period: kpi.Period):
        key = (period.start, period.end)  # (a year's trend is the year under another label)
        if key not in self._read:
            self._read[key] = figures_rules.read(self.session, period)
        return self._read[key]

    def headline(self, period):
        rollup = self._rollup(period)
        if rollup is None:
            return super().headline(period)
        t = rollup.total(self.keep)
        parts = [
            t["filed"],
            t["accepted"],
            t["closed"],
            t["closed_on_time"],
            t["closed_rated"],
            t["closed_favourable"],
        ]
        for span in rollup.live:
            live = super().headline(span)
            parts = [a + b for a, b in zip(parts, dataclasses.astuple(live)[:6], strict=True)]
        return doc.Headline(*parts)

    def trend(self, period):
        months = trend_months(period)
        rollup = self._rollup(kpi.Period(months[0].start, months[-1].end, ""))
        if rollup is None:
            return super().trend(period)
        kept = {m: kpi.month_of(m.start) in rollup.rows for m in months}
        others = [m for m in months if not kept[m]]
        live = {p: (filed, closed) for p, filed, closed in (self.months_trend(others) if others else [])}
        found = []
        for p in months:
            if kept[p]:
                t = rollup.total(self.keep, [kpi.month_of(p.start)])
                found.append((p, t["filed"], t["closed"]))
            else:
                found.append((p, *live[p]))
        return found

    def dimensions(self, period, names):
        rollup = self._rollup(period)
        if rollup is None:
            return super().dimensions(period, names)
        t = rollup.total(self.keep)
        found: dict[str, Counter] = {name: Counter() for name in names}
        for name in names:
            if name == "concerned":
                found[name].update(rollup.per_concerned(self.keep))
                continue
            prefix = f"{name}:"
            for key, n in t.items():
                if key.startswith(prefix):
                    found[name][_key(name, key[len(prefix) :] or None)] += n
        for span in rollup.live:
            for name, counts in super().dimensions(span, names).items():
                found[name].update(counts)
        return {name: {k: n for k, n in counts.items() if n} for name, counts in found.items()}

    def lead_closed(self, period):
        rollup = self._rollup(period)
        if rollup is None:
            return super().lead_closed(period)
        t = rollup.total(self.keep)
        found: dict[int, tuple[int, int]] = {}
        for key, n in t.items():
            if key.startswith("lead:") and key.endswith(":closed") and n:
                department_id = int(key.split(":")[1])
                found[department_id] = (t.get(f"lead:{department_id}:on_time", 0), n)
        for span in rollup.live:
            for department_id, (on_time, n) in super().lead_closed(span).items():
                before = found.get(department_id, (0, 0))
                found[department_id] = (before[0] + on_time, before[1] + n)
        return found


def counts_for(session, jurisdiction: Jurisdiction | None, ranked=None, live: bool = False) -> LiveCounts:
    """Where ``figures`` counts from: the rollup for whole jurisdictions, the cases themselves
    for a dashboard filtered to some lead departments (the rollup does not keep them apart)."""
    scope = cases_clause(jurisdiction)
    if ranked is not None:
        scope = and_(scope, Case.lead_department_id.in_([r.kpi.department_id for r in ranked] or [-1]))
    if ranked is not None or live:
        return LiveCounts(session, scope)
    ids = None
    if jurisdiction is not None and jurisdiction.parent_id is not None:
        ids = set(session.scalars(jurisdictions.subtree_ids_select(jurisdiction.path)))
    return RollupCounts(session, scope, figures_rules.visible_keep(ids))


def _by_level(rows: dict) -> list[doc.Count]:
    """登记 by the level of the lead department, with the cases not (yet) dispatched."""
    order = [*LEVEL_ORDER, UNDISPATCHED, DECLINED]
    keys = sorted(rows, key=lambda k: (order.index(k) if k in order else len(order), str(k)))
    return [doc.Count(k if k in (UNDISPATCHED, DECLINED) else _label(DeptLevel(k)), rows[k]) for k in keys]


def _late_departments(session, counts: LiveCounts, period, average: float | None) -> list[doc.DepartmentRate]:
    """The lead departments whose on-time rate is below ``average`` (lowest first, at most 5)."""
    if average is None:
        return []
    rows = {d: v for d, v in counts.lead_closed(period).items() if v[1] >= LATE_MINIMUM}
    names = dict(
        session.execute(select(Department.id, Department.name).where(Department.id.in_(list(rows)))).all()
    )
    found = [doc.DepartmentRate(names[d], on_time, n) for d, (on_time, n) in rows.items() if d in names]
    found = [d for d in found if d.rate is not None and d.rate < average]
    return sorted(found, key=lambda d: (d.rate, -d.closed, d.label))[:5]


def figures(
    session, period: kpi.Period, ranked=None, *, jurisdiction: Jurisdiction | None = None, live: bool = False
) -> doc.Figures:
    """The key figures of the cases of ``jurisdiction`` and those under it (None: every case),
    of the cases led by the ranked departments only when ``ranked`` is given (a filtered
    dashboard). One definition each: 登记 filed in the period, 受理 accepted in it, 办结 closed in
    it, 按时办结 of those closed, replied by the deadline, 满意 of those closed and rated. Every
    table counts the period's filed cases and adds up to 登记. ``live``: count from the cases
    themselves, never the rollup (the tests compare both)."""
    counts = counts_for(session, jurisdiction, ranked, live)
    now = counts.headline(period)
    series = series_of(period)
    year_ago = counts.headline(_year_before(period))
    previous = None if series == "year" else counts.headline(_same_kind(period, 1))

    parents = {c.id: c.name for c in session.query(Category).filter(Category.parent_id.is_(None))}
    counted = counts.dimensions(period, ("type", "channel", "category", "concerned", "level"))
    earlier = counts.dimensions(_same_kind(period, 1), ("category", "concerned"))
    categories, before = counted["category"], earlier["category"]
    by_category = sorted(categories.items(), key=lambda kv: (-kv[1], parents.get(kv[0], "")))
    hot_categories = [
        doc.HotItem(parents.get(k, "未分类") if k is not None else "未分类", n, before.get(k, 0))
        for k, n in by_category
        if k is not None
    ][:5]
    concerned = {k: n for k, n in counted["concerned"].items() if k is not None and n >= doc.HOT_MINIMUM}
    hot_departments = []
    if concerned:
        top = sorted(concerned.items(), key=lambda kv: -kv[1])[:5]
        names = dict(
            session.execute(
                select(Department.id, Department.name).where(Department.id.in_([k for k, _ in top]))
            ).all()
        )
        hot_departments = [doc.HotItem(names[k], n, earlier["concerned"].get(k, 0)) for k, n in top]
    return doc.Figures(
        **{f.name: getattr(now, f.name) for f in dataclasses.fields(now) if f.init},
        by_type=_counts(counted["type"]),
        by_channel=_counts(counted["channel"]),
        by_category=[
            doc.Count(parents.get(k, "未分类") if k is not None else "未分类", n) for k, n in by_category
        ],
        by_level=_by_level(counted["level"]),
        trend=[
            doc.TrendPoint(f"{to_local(p.start).month}月", filed, closed)
            for p, filed, closed in counts.trend(period)
        ],
        previous=previous,
        year_ago=year_ago,
        hot_categories=hot_categories,
        hot_departments=hot_departments,
        late_departments=_late_departments(session, counts, period, now.on_time_rate),
        **rectification_figures(session, period, jurisdiction),
    )


def rectification_figures(
    session, period: kpi.Period, jurisdiction: Jurisdiction | None = None
) -> dict[str, int]:
    """The month's 整改 facts from the records: the cases found 属实/部分属实 (a finding recorded
    in the month) and the rectifications accepted on re-check in the month (of the cases of
    ``jurisdiction`` and those under it)."""
    scope = cases_clause(jurisdiction)
    founded = session.scalar(
        select(func.count(func.distinct(Finding.case_id)))
        .join(Case, Case.id == Finding.case_id)
        .where(_in(Finding.recorded_at, period), Finding.result.in_([f.value for f in FOUNDED]), scope)
    )
    rectified = session.scalar(
        select(func.count())
        .select_from(Rectification)
        .join(Case, Case.id == Rectification.case_id)
        .where(
            _in(Rectification.reviewed_at, period),
            Rectification.state == RectificationState.ACCEPTED.value,
            scope,
        )
    )
    return {"founded": founded or 0, "rectified": rectified or 0}


def _ratio(rate: kpi.Rate) -> doc.Ratio:
    return doc.Ratio(rate.numerator, rate.denominator)


def ranking_rows(ranked) -> list[doc.RankingRow]:
    """The ranking (``assessment.RankedDepartment``) as document rows: each scored rate with its
    numerator, denominator and part of the score, each kind of notice with its deduction (the
    parts of ``assessment.breakdown``, the very numbers the score was computed from)."""
    rows = []
    for r in ranked:
        parts = {p.key: p for p in r.breakdown.parts} if r.breakdown else {}
        shares = kpi.rate_shares(r.weights or None)
        taken = r.breakdown.deductions if r.breakdown else kpi.deductions(r.kpi, r.weights or None)
        rows.append(
            doc.RankingRow(
                rank=r.rank,
                department=r.kpi.name,
                level=_label(r.kpi.level),
                handled=r.kpi.handled,
                rates=[
                    doc.ScoredRate(
                        key=key,
                        label=kpi.RATE_LABELS[key],
                        ratio=_ratio(r.kpi.rate(key)),
                        weight=shares[key],
                        points=parts[key].points if key in parts else None,
                        filled=key in parts and parts[key].filled,
                    )
                    for key in kpi.SCORED_RATES
                ],
                deductions=[
                    doc.NoticeDeduction(kpi.notice_name(d.key), d.count, d.per, d.points) for d in taken
                ],
                rehandle=_ratio(r.kpi.rehandle),
                returns=_ratio(r.kpi.returns),
                weighted=r.breakdown.weighted if r.breakdown else None,
                deducted=sum(d.points for d in taken),
                score=r.score,
            )
        )
    return rows


def office_rows(offices) -> list[doc.OfficeRow]:
    """The lower offices' ranking (``assessment.RankedOffice``) as document rows."""
    return [
        doc.OfficeRow(
            rank=r.rank,
            office=r.kpi.office,
            jurisdiction=r.kpi.name,
            level=_label(r.kpi.level),
            handled=r.kpi.handled,
            on_time=_ratio(r.kpi.on_time),
            satisfaction=_ratio(r.kpi.satisfaction),
            reminders=r.kpi.reminders,
            rectifications=r.kpi.rectifications,
            interviews=r.kpi.interviews,
        )
        for r in offices
    ]


def _typical(
    session, period: kpi.Period, kind: TypicalKind, jurisdiction: Jurisdiction | None = None
) -> list[doc.TypicalItem]:
    months = {
        to_local(p.start).strftime("%Y-%m")
        for p in _month_periods(period, 12)
        if p.start >= period.start and p.end <= period.end
    } or {to_local(period.start).strftime("%Y-%m")}
    rows = (
        session.query(TypicalCase)
        .join(Case, Case.id == TypicalCase.case_id)
        .options(joinedload(TypicalCase.case).joinedload(Case.lead_department))
        .filter(
            TypicalCase.state == TypicalState.APPROVED,
            TypicalCase.kind == kind,
            TypicalCase.published_month.in_(months),
            cases_clause(jurisdiction),
        )
        .order_by(TypicalCase.id)
        .all()
    )
    items = []
    for t in rows:
        if typical_services.findings(t):
            # approved before the check existed, or a reporter's identity learnt since: never printed
            current_app.logger.warning("typical case %s left out of the bulletin: personal data found", t.id)
            continue
        items.append(
            doc.TypicalItem(
                heading=typical_services.public_heading(t),
                # 承办单位: the department that led its handling; never the one it was about (the
                # concerned department is the case's secret: it never reaches that department)
                department=t.case.lead_department.name if t.case.lead_department else "—",
                summary=t.summary,
                rectification=typical_services.rectification_note(t.case),
            )
        )
    return items


NOTICE_KINDS = (NoticeKind.REMINDER, NoticeKind.RECTIFICATION, NoticeKind.INTERVIEW, NoticeKind.ASSIGNMENT)


def _notice_summary(session, period, issued_by) -> doc.NoticeSummary:
    """The period's notices by department and kind (one query), departments with most first."""
    rows = session.execute(
        select(Department.name, Notice.kind, func.count())
        .join(Department, Department.id == Notice.department_id)
        .where(_in(Notice.issued_at, period), issued_by)
        .group_by(Department.name, Notice.kind)
    ).all()
    kinds = [k for k in NOTICE_KINDS if any(kind == k for _, kind, _ in rows)]
    per: dict[str, dict] = {}
    for name, kind, n in rows:
        per.setdefault(name, {})[kind] = n
    table = sorted(
        ((name, [counts.get(k, 0) for k in kinds], sum(counts.values())) for name, counts in per.items()),
        key=lambda row: (-row[2], row[0]),
    )
    totals = [sum(row[1][i] for row in table) for i in range(len(kinds))]
    return doc.NoticeSummary([gettext(NOTICE_LABELS[k]) for k in kinds], table, totals, sum(totals))


def warnings_scope(jurisdiction: Jurisdiction | None):
    """The warnings a document of ``jurisdiction`` covers: those its office and the offices
    under it work (the root's, or None: every warning)."""
    if jurisdiction is None or jurisdiction.parent_id is None:
        return true()
    return EarlyWarning.jurisdiction_id.in_(jurisdictions.subtree_ids_select(jurisdiction.path))


WARNING_DEPARTMENTS = 10  # the departments with most warnings the bulletin names


def warning_summary(
    session, period: kpi.Period, now, jurisdiction: Jurisdiction | None = None
) -> doc.WarningSummary | None:
    """预警处置情况: the warnings raised in the period by model and what became of them by
    ``now`` (one query), and the departments with most of them (one query). Subjects are
    counted by their department only: a warning about an official (a name reporters typed)
    never puts that name in a public document."""
    where = (_in(EarlyWarning.created_at, period), warnings_scope(jurisdiction))
    state = EarlyWarning.state
    is_open = state == WarningState.OPEN.value
    rows = session.execute(
        select(
            WarningModel.name,
            func.count(),
            _flag(state == WarningState.DISPATCHED.value),
            _flag(state == WarningState.NOTICE_ISSUED.value),
            _flag(state == WarningState.DISMISSED.value),
            _flag(is_open),
            _flag(is_open & (EarlyWarning.due_at < now)),
        )
        .join(WarningModel, WarningModel.id == EarlyWarning.model_id)
        .where(*where)
        .group_by(WarningModel.id, WarningModel.name)
    ).all()
    if not rows:
        return None
    models = sorted(
        (doc.WarningModelCount(name, *(int(v) for v in values)) for name, *values in rows),
        key=lambda m: (-m.raised, m.model),
    )
    total = doc.WarningModelCount(
        "合计", *(sum(getattr(m, f.name) for m in models) for f in dataclasses.fields(models[0])[1:])
    )
    departments = session.execute(
        select(Department.name, func.count())
        .select_from(EarlyWarning)
        .join(Department, Department.id == EarlyWarning.department_id)
        .where(*where)
        .group_by(Department.id, Department.name)
        .order_by(func.count().desc(), Department.name)
        .limit(WARNING_DEPARTMENTS)
    ).all()
    return doc.WarningSummary(models, total, [doc.Count(name, int(n)) for name, n in departments])


def lines(text: str | None) -> list[str]:
    """What a person typed, one paragraph (or office) a line, blank lines dropped."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def issue_label(report) -> str:
    """2026年第11期: the report's place in its office's series (empty for a report never requested)."""
    if report.issue_year is None or report.issue_number is None:
        return ""
    return f"{report.issue_year}年第{report.issue_number}期"


def bulletin_data(
    session,
    period: kpi.Period,
    ranked,
    issued_on,
    jurisdiction: Jurisdiction | None = None,
    report=None,
    now=None,
) -> doc.BulletinData:
    """The bulletin of ``jurisdiction``'s office (None: the root's): the cases of its
    jurisdiction and of those under it, the notices their offices issued, the ranking of its
    own departments; with the archived ``report``'s number, texts and recipients (its analysis
    and requirements, else the ones the figures propose). The warnings' states are as of
    ``now`` (default: when the report was requested, else the period's end)."""
    jurisdiction = jurisdiction or jurisdictions.root(session)
    issued_by = (
        true()
        if jurisdiction.parent_id is None
        else Notice.jurisdiction_id.in_(jurisdictions.subtree_ids_select(jurisdiction.path))
    )
    series = series_of(period)
    summary, notices = None, []
    if series == "month":
        notices = (
            session.query(Notice)
            .options(joinedload(Notice.department))
            .filter(_in(Notice.issued_at, period), issued_by)
            .order_by(Notice.jurisdiction_id, Notice.year, Notice.sequence)
            .all()
        )
    else:
        summary = _notice_summary(session, period, issued_by)
    data = doc.BulletinData(
        title="营商环境投诉举报办理情况通报",
        issue=issue_label(report) if report is not None else "",
        period_label=period.label,
        issued_on=cn_date(issued_on),
        figures=figures(session, period, jurisdiction=jurisdiction),
        exemplary=_typical(session, period, TypicalKind.EXEMPLARY, jurisdiction),
        warning=_typical(session, period, TypicalKind.WARNING, jurisdiction),
        notices=[
            doc.NoticeItem(
                number=n.number,
                kind=gettext(NOTICE_LABELS[n.kind]),
                department=n.department.name,
                cause=gettext(NOTICE_LABELS[n.cause]),
                issued_on=n.issued_on,
            )
            for n in notices
        ],
        ranking=ranking_rows(ranked),
        issuer=jurisdiction.authority,
        area=area(session, jurisdiction),
        series=series,
        notice_summary=summary,
        trend_range=trend_range(period),
        warnings=warning_summary(
            session,
            period,
            now or (report.requested_at if report is not None else None) or period.end,
            jurisdiction,
        ),
    )
    analysis = requirements = None
    if report is not None:
        analysis, requirements = report.analysis, report.requirements
        data = dataclasses.replace(data, recipients=lines(report.recipients), copy_to=lines(report.copy_to))
    return dataclasses.replace(
        data,
        analysis=lines(analysis) if analysis is not None else drafting.analysis(data),
        requirements=lines(requirements) if requirements is not None else drafting.requirements(data),
    )


def assessment_data(
    period: kpi.Period, ranked, weights, issued_on, jurisdiction: Jurisdiction, offices=(), min_cases: int = 0
) -> doc.AssessmentData:
    """The assessment of ``jurisdiction``'s office: its own departments ranked, and its lower
    offices (``assessment.RankedOffice``) when it has some; departments and offices with fewer
    than ``min_cases`` cases are listed after the ranked ones, not ranked."""
    shares = kpi.rate_shares(weights)
    return doc.AssessmentData(
        title="营商环境投诉举报办理考核排名",
        period_label=period.label,
        issued_on=cn_date(issued_on),
        ranking=ranking_rows(ranked),
        weights={kpi.RATE_LABELS[k]: shares[k] / 100 for k in kpi.SCORED_RATES},
        deductions={kpi.DEDUCTION_LABELS[k]: weights[k] for k in kpi.DEDUCTIONS},
        formulas=kpi.formulas(weights, min_cases),
        tie_breaks=list(kpi.TIE_BREAKS),
        issuer=jurisdiction.authority,
        area=own_departments_label(jurisdiction),
        offices=office_rows(offices),
        office_tie_breaks=list(kpi.OFFICE_TIE_BREAKS) if offices else [],
        summary=kpi.score_summary(weights, min_cases),
        min_cases=min_cases,
    )


def build_files(session, report) -> dict[str, bytes]:
    """Everything a generated report consists of: the PDF, and CSV/XLSX for the assessment,
    issued by the report's office (None: the root's). A bulletin without an analysis or
    requirements yet gets the draft the figures propose (kept on the report, for the
    supervisor's office to edit)."""
    period = kpi.Period(report.period_start, report.period_end, report.period_label)
    jurisdiction = jurisdictions.get(session, report.jurisdiction_id)
    weights = kpi.weights_from_settings(session, jurisdiction)  # the office's own, else inherited
    own = kpi.office_department_ids(session, jurisdiction)
    min_cases = kpi.min_cases_from_settings(session, jurisdiction)  # fewer cases: not ranked
    ranked = kpi.rank(kpi.department_kpis(session, period, own), weights, min_cases)
    issued_on = local_date(report.requested_at)
    if report.kind == ReportKind.BULLETIN:
        data = bulletin_data(session, period, ranked, issued_on, jurisdiction, report)
        if report.analysis is None:
            report.analysis = "\n".join(data.analysis)
        if report.requirements is None:
            report.requirements = "\n".join(data.requirements)
        return {"pdf": doc.render_bulletin_pdf(data)}
    offices = kpi.lower_office_ranking(session, period, jurisdiction, min_cases)
    return {
        "pdf": doc.render_assessment_pdf(
            assessment_data(period, ranked, weights, issued_on, jurisdiction, offices, min_cases)
        ),
        "csv": kpi.to_csv(ranked).encode("utf-8"),
        "xlsx": kpi.to_xlsx(ranked, weights, offices),
    }
