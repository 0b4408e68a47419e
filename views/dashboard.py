"""The leaders' dashboard: live figures with charts (ECharts served by the project), filters by
period, level and department, the ranking with drill-down to the cases, and the early warnings
(what were its hot spots). It shows
one office (the reader's, or one under it: ``?jurisdiction=``): the cases of its jurisdiction and
of those under it, the ranking of its own departments and of its lower offices."""

from __future__ import annotations

from dataclasses import asdict
from types import SimpleNamespace

from flask import abort, jsonify, request
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_

from app import clock
from app.errors import DomainError
from app.extensions import db
from app.ids import as_id
from app.services import assessment as kpi
from app.services import jurisdictions
from app.services.dashboard import clock_figures, early_warnings, warnings_clause
from app.services.reports import parse_period
from app.services.visibility import rollup_keep, visible_cases_clause
from models import Case, Department
from reports.builders import cases_clause, figures, office_rows, ranking_rows
from views.common import current_actor, fixed_text, label


def _this_month():
    today = clock.local_date(clock.utcnow())
    return kpi.Period.month(today.year, today.month)


def _period():
    text = request.args.get("period")
    if not text:
        return _this_month()
    return parse_period(text)


def _departments_in_scope(actor):
    """The departments of the reader's jurisdiction and of those under it (for the ranking and
    the department filter)."""
    return db.session.query(Department).filter(jurisdictions.scope_clause(Department.jurisdiction_id, actor))


def _office(actor=None):
    """The office shown: the reader's own, or one under it (``?jurisdiction=``); drill-down
    follows the scope, so any other (a county asking for its city) is not found (404)."""
    return kpi.assessed_office(db.session, actor or current_actor(), request.args.get("jurisdiction"))


def _filtered() -> bool:
    return bool(request.args.get("level") or request.args.get("department"))


def _selection(period=None, actor=None, office=None):
    """The period and the departments ranked: the office's own departments (each office ranks
    those of its own government), or those chosen in the filters within its jurisdictions."""
    period = period or _period()
    actor = actor or current_actor()
    office = office or _office(actor)
    if not _filtered():
        return period, kpi.office_department_ids(db.session, office)
    query = _departments_in_scope(actor).with_entities(Department.id)
    query = query.filter(
        jurisdictions.scope_clause(Department.jurisdiction_id, SimpleNamespace(jurisdiction_path=office.path))
    )
    if request.args.get("level"):
        query = query.filter(Department.level == request.args["level"])
    if request.args.get("department"):
        query = query.filter(Department.id == as_id(request.args["department"]))
    return period, [i for (i,) in query]


def dashboard_data(period, department_ids, actor=None, office=None) -> dict:
    """The figures of the office's cases the reader may see (the visibility rule, within the
    jurisdiction shown and those under it), its departments' and its lower offices' rankings."""
    actor = actor or current_actor()
    office = office or _office(actor)
    scope = and_(visible_cases_clause(actor), cases_clause(office))
    weights = kpi.weights_from_settings(db.session, office)
    min_cases = kpi.min_cases_from_settings(db.session, office)  # fewer cases: listed, not ranked
    ranked = kpi.rank(kpi.department_kpis(db.session, period, department_ids), weights, min_cases)
    lower = kpi.lower_office_ranking(db.session, period, office, min_cases)
    return {
        "period": period.label,
        "min_cases": min_cases,
        "office": {"id": office.id, "name": office.name, "authority": office.authority},
        "figures": asdict(figures(db.session, period, ranked if _filtered() else None, jurisdiction=office)),
        "ranking": [
            {**asdict(row), "department_id": r.kpi.department_id}
            for row, r in zip(ranking_rows(ranked), ranked, strict=True)
        ],
        "offices": [
            {**asdict(row), "jurisdiction_id": r.kpi.jurisdiction_id}
            for row, r in zip(office_rows(lower), lower, strict=True)
        ],
        "warnings": early_warnings(db.session, period, clock.utcnow(), warnings_clause(actor, office)),
        "clocks": _clocks(period, scope, rollup_keep(db.session, actor, office)),
    }


def _clocks(period, scope=None, keep=None) -> dict:
    """The office's clocks in the period (as it stands now), for the page and the JSON."""
    found = clock_figures(db.session, period, clock.utcnow(), scope, keep)
    return {**found, "clocks": [c.as_dict() for c in found["clocks"]]}


class DashboardView(BaseView):
    route_base = "/dashboard"
    default_view = "index"

    @expose("/")
    @has_access
    def index(self):
        period_error, status = None, 200
        try:
            period = _period()
        except DomainError as error:
            # A mistyped period shows this month's dashboard, saying which formats work.
            period_error, status = error.message, 400
            period = _this_month()
        actor = current_actor()
        try:
            office = _office(actor)
        except DomainError:
            abort(404)
        period, department_ids = _selection(period, actor, office)
        data = dashboard_data(period, department_ids, actor, office)
        departments = _departments_in_scope(actor).order_by(Department.code).all()
        return self.render_template(
            "dashboard/index.html",
            data=data,
            title=_l("Dashboard"),
            departments=departments,
            args=request.args,
            label=label,
            fixed_text=fixed_text,
            period_error=period_error,
            appbuilder=self.appbuilder,
        ), status

    @expose("/data")
    @has_access
    def data(self):
        """The dashboard's figures as JSON (the charts read them; the same numbers as the CSV)."""
        try:
            office = _office()
        except DomainError:
            abort(404)
        try:
            period, department_ids = _selection(office=office)
        except DomainError as error:
            return jsonify(message=error.message), 400
        return jsonify(dashboard_data(period, department_ids, office=office))

    @expose("/drill")
    @has_access
    def drill(self):
        """The cases behind a figure of the ranking."""
        try:
            period = _period()
            department_id = as_id(request.args.get("department"))
            actor = current_actor()
            if (
                department_id is None
                or not _departments_in_scope(actor).filter(Department.id == department_id).count()
            ):
                abort(404)  # a department outside the reader's jurisdictions is not theirs to open
            metric = request.args.get("metric", "handled")
            case_ids = kpi.drilldown_case_ids(db.session, period, department_id, metric)
        except (DomainError, ValueError, KeyError):
            abort(404)
        cases = (
            db.session.query(Case)
            .filter(Case.id.in_(case_ids), visible_cases_clause(actor))  # the visibility rule
            .order_by(Case.id)
            .all()
        )
        return self.render_template(
            "dashboard/drill.html",
            cases=cases,
            label=label,
            metric=kpi.METRIC_LABELS.get(metric, metric),
            department=db.session.get(Department, department_id),
            period=period,
            title=_l("Cases behind the figure"),
            appbuilder=self.appbuilder,
        )
