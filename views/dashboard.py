"""The leaders' dashboard: live figures with charts (ECharts served by the project), filters by
period, level and department, the ranking with drill-down to the cases, and hot spots."""

from __future__ import annotations

from dataclasses import asdict

from flask import abort, jsonify, request
from flask_appbuilder import BaseView, expose, has_access
from flask_babel import lazy_gettext as _l

from app import clock
from app.errors import DomainError
from app.extensions import db
from app.ids import as_id
from app.services import assessment as kpi
from app.services.dashboard import clock_figures, hot_spots
from app.services.reports import parse_period
from app.services.visibility import visible_cases_clause
from models import Case, Department
from reports.builders import figures, ranking_rows
from views.common import current_actor, fixed_text, label


def _this_month():
    today = clock.local_date(clock.utcnow())
    return kpi.Period.month(today.year, today.month)


def _period():
    text = request.args.get("period")
    if not text:
        return _this_month()
    return parse_period(text)


def _selection(period=None):
    """The period and the departments chosen in the filters."""
    period = period or _period()
    query = db.session.query(Department.id)
    if request.args.get("level"):
        query = query.filter(Department.level == request.args["level"])
    if request.args.get("department"):
        query = query.filter(Department.id == as_id(request.args["department"]))
    filtered = bool(request.args.get("level") or request.args.get("department"))
    return period, ([i for (i,) in query] if filtered else None)


def dashboard_data(period, department_ids) -> dict:
    weights = kpi.weights_from_settings(db.session)
    ranked = kpi.rank(kpi.department_kpis(db.session, period, department_ids), weights)
    return {
        "period": period.label,
        "figures": asdict(figures(db.session, period, ranked)),
        "ranking": [
            {**asdict(row), "department_id": r.kpi.department_id}
            for row, r in zip(ranking_rows(ranked), ranked, strict=True)
        ],
        "hot_spots": hot_spots(db.session, period),
        "clocks": _clocks(period),
    }


def _clocks(period) -> dict:
    """The office's clocks in the period (as it stands now), for the page and the JSON."""
    found = clock_figures(db.session, period, clock.utcnow())
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
        period, department_ids = _selection(period)
        data = dashboard_data(period, department_ids)
        departments = db.session.query(Department).order_by(Department.code).all()
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
            period, department_ids = _selection()
        except DomainError as error:
            return jsonify(message=error.message), 400
        return jsonify(dashboard_data(period, department_ids))

    @expose("/drill")
    @has_access
    def drill(self):
        """The cases behind a figure of the ranking."""
        try:
            period = _period()
            department_id = as_id(request.args.get("department"))
            if department_id is None:
                abort(404)
            metric = request.args.get("metric", "handled")
            case_ids = kpi.drilldown_case_ids(db.session, period, department_id, metric)
        except (DomainError, ValueError, KeyError):
            abort(404)
        cases = (
            db.session.query(Case)
            .filter(Case.id.in_(case_ids), visible_cases_clause(current_actor()))  # the visibility rule
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
