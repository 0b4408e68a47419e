"""Build the plain data of the bulletin and the assessment report from the database with
set-based queries (the same KPI definitions as the dashboard and the CSV), then render.

Each office issues its own: a bulletin covers the cases of its jurisdiction and of every one
under it and lists the notices their offices issued; an assessment ranks the departments of
its own government and (a city, the province) its lower offices. Both are issued in its name."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask_babel import gettext
from sqlalchemy import func, select, true

from app.clock import local_date, to_local
from app.enums import FOUNDED, LABELS, DeptLevel, RectificationState
from app.publication import ReportKind, TypicalKind, TypicalState
from app.services import assessment as kpi
from app.services import jurisdictions
from app.services import typical as typical_services
from app.supervision import NOTICE_LABELS
from models import Case, Category, Department, Finding, Jurisdiction, Notice, Rectification, TypicalCase
from reports import bulletin as doc


def _label(value) -> str:
    return gettext(LABELS[value]) if value in LABELS else str(value or "—")


def _in(column, period: kpi.Period):
    return (column >= period.start) & (column < period.end)


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


def _counts(session, column, period, labels=None, scope=None) -> list[doc.Count]:
    rows = session.execute(
        select(column, func.count())
        .where(_in(Case.created_at, period), true() if scope is None else scope)
        .group_by(column)
        .order_by(func.count().desc())
    ).all()
    return [doc.Count((labels or _label)(key), n) for key, n in rows]


def _month_periods(period: kpi.Period, months: int = 6) -> list[kpi.Period]:
    last = local_date(period.end - timedelta(seconds=1))
    year, month, result = last.year, last.month, []
    for _ in range(months):
        result.append(kpi.Period.month(year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return list(reversed(result))


def figures(
    session, period: kpi.Period, ranked=None, *, jurisdiction: Jurisdiction | None = None
) -> doc.Figures:
    """The key figures of the cases of ``jurisdiction`` and those under it (None: every case).
    The on-time and satisfaction rates pool the given ranked departments, or (``ranked`` None)
    every round led by a department of the jurisdiction's subtree."""
    scope = cases_clause(jurisdiction)

    def count(where):
        return session.scalar(select(func.count()).select_from(Case).where(where, scope)) or 0

    parents = {c.id: c.name for c in session.query(Category).filter(Category.parent_id.is_(None))}
    by_category_rows = session.execute(
        select(Category.parent_id, func.count())
        .select_from(Case)
        .join(Category, Case.category_id == Category.id)
        .where(_in(Case.created_at, period), scope)
        .group_by(Category.parent_id)
        .order_by(func.count().desc())
    ).all()
    by_level_rows = session.execute(
        select(Department.level, func.count())
        .select_from(Case)
        .join(Department, Case.lead_department_id == Department.id)
        .where(_in(Case.created_at, period), scope)
        .group_by(Department.level)
    ).all()
    if ranked is not None:
        pooled = kpi.pooled_averages([r.kpi for r in ranked])
    else:
        whole = kpi.office_kpis(session, period, [jurisdiction or jurisdictions.root(session)])[0]
        pooled = {"on_time": whole.on_time.value, "satisfaction": whole.satisfaction.value}
    trend = [
        doc.TrendPoint(
            to_local(p.start).strftime("%Y-%m"),
            count(_in(Case.created_at, p)),
            count(_in(Case.closed_at, p) & (Case.status == "closed")),
        )
        for p in _month_periods(period)
    ]
    return doc.Figures(
        filed=count(_in(Case.created_at, period)),
        accepted=count(_in(Case.accepted_at, period)),
        closed=count(_in(Case.closed_at, period) & (Case.status == "closed")),
        on_time_rate=pooled.get("on_time"),
        satisfaction_rate=pooled.get("satisfaction"),
        by_type=_counts(session, Case.case_type, period, scope=scope),
        by_channel=_counts(session, Case.channel, period, scope=scope),
        by_category=[doc.Count(parents.get(k, "—"), n) for k, n in by_category_rows],
        by_level=[doc.Count(_label(k), n) for k, n in by_level_rows],
        trend=trend,
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


def ranking_rows(ranked) -> list[doc.RankingRow]:
    return [
        doc.RankingRow(
            rank=r.rank,
            department=r.kpi.name,
            level=_label(r.kpi.level),
            handled=r.kpi.handled,
            on_time_rate=r.kpi.on_time.value,
            resolution_rate=r.kpi.resolution.value,
            satisfaction_rate=r.kpi.satisfaction.value,
            signing_rate=r.kpi.signing.value,
            reminders=r.kpi.reminders,
            rectifications=r.kpi.rectifications,
            rehandle_rate=r.kpi.rehandle.value,
            return_rate=r.kpi.returns.value,
            score=r.score,
        )
        for r in ranked
    ]


def office_rows(offices) -> list[doc.OfficeRow]:
    """The lower offices' ranking (``assessment.RankedOffice``) as document rows."""
    return [
        doc.OfficeRow(
            rank=r.rank,
            office=r.kpi.office,
            jurisdiction=r.kpi.name,
            level=_label(r.kpi.level),
            handled=r.kpi.handled,
            on_time_rate=r.kpi.on_time.value,
            satisfaction_rate=r.kpi.satisfaction.value,
            supervision=r.kpi.supervision,
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
                department=(t.case.concerned_department or t.case.lead_department or "—").__str__(),
                summary=t.summary,
                rectification=typical_services.rectification_note(t.case),
            )
        )
    return items


def bulletin_data(
    session, period: kpi.Period, ranked, issued_on, jurisdiction: Jurisdiction | None = None
) -> doc.BulletinData:
    """The bulletin of ``jurisdiction``'s office (None: the root's): the cases of its
    jurisdiction and of those under it, the notices their offices issued, the ranking of its
    own departments."""
    jurisdiction = jurisdiction or jurisdictions.root(session)
    issued_by = (
        true()
        if jurisdiction.parent_id is None
        else Notice.jurisdiction_id.in_(jurisdictions.subtree_ids_select(jurisdiction.path))
    )
    notices = (
        session.query(Notice)
        .filter(_in(Notice.issued_at, period), issued_by)
        .order_by(Notice.jurisdiction_id, Notice.year, Notice.sequence)
        .all()
    )
    return doc.BulletinData(
        title="营商环境投诉举报办理情况通报",
        issue=f"{issued_on.year}年第{issued_on.month}期",
        period_label=period.label,
        issued_on=f"{issued_on.year}年{issued_on.month}月{issued_on.day}日",
        figures=figures(session, period, jurisdiction=jurisdiction),
        exemplary=_typical(session, period, TypicalKind.EXEMPLARY, jurisdiction),
        warning=_typical(session, period, TypicalKind.WARNING, jurisdiction),
        notices=[
            doc.NoticeItem(
                number=n.number,
                kind=gettext(NOTICE_LABELS[n.kind]),
                department=n.department.name,
                cause=gettext(NOTICE_LABELS[n.cause]),
                issued_on=n.issued_on.isoformat(),
            )
            for n in notices
        ],
        ranking=ranking_rows(ranked),
        issuer=jurisdiction.authority,
        area=area(session, jurisdiction),
    )


def assessment_data(
    period: kpi.Period, ranked, weights, issued_on, jurisdiction: Jurisdiction, offices=()
) -> doc.AssessmentData:
    """The assessment of ``jurisdiction``'s office: its own departments ranked, and its lower
    offices (``assessment.RankedOffice``) when it has some."""
    return doc.AssessmentData(
        title="营商环境投诉举报办理考核排名",
        period_label=period.label,
        issued_on=f"{issued_on.year}年{issued_on.month}月{issued_on.day}日",
        ranking=ranking_rows(ranked),
        weights={kpi.RATE_LABELS[k]: weights[k] for k in kpi.SCORED_RATES},
        deductions={kpi.DEDUCTION_LABELS[k]: weights[k] for k in kpi.DEDUCTIONS},
        formulas=kpi.formulas(weights),
        tie_breaks=list(kpi.TIE_BREAKS),
        issuer=jurisdiction.authority,
        area=own_departments_label(jurisdiction),
        offices=office_rows(offices),
        office_tie_breaks=list(kpi.OFFICE_TIE_BREAKS) if offices else [],
    )


def build_files(session, report) -> dict[str, bytes]:
    """Everything a generated report consists of: the PDF, and CSV/XLSX for the assessment,
    issued by the report's office (None: the root's)."""
    period = kpi.Period(report.period_start, report.period_end, report.period_label)
    jurisdiction = jurisdictions.get(session, report.jurisdiction_id)
    weights = kpi.weights_from_settings(session, jurisdiction)  # the office's own, else inherited
    own = kpi.office_department_ids(session, jurisdiction)
    ranked = kpi.rank(kpi.department_kpis(session, period, own), weights)
    issued_on = local_date(report.requested_at)
    if report.kind == ReportKind.BULLETIN:
        data = bulletin_data(session, period, ranked, issued_on, jurisdiction)
        return {"pdf": doc.render_bulletin_pdf(data)}
    offices = kpi.lower_office_ranking(session, period, jurisdiction)
    return {
        "pdf": doc.render_assessment_pdf(
            assessment_data(period, ranked, weights, issued_on, jurisdiction, offices)
        ),
        "csv": kpi.to_csv(ranked).encode("utf-8"),
        "xlsx": kpi.to_xlsx(ranked, weights, offices),
    }
