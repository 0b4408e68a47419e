"""The inspection register and the counts and flags of inspections (入企扫码) for the supervisor's
office and the leaders: read-only, within the reader's jurisdictions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import quote

from flask import abort, flash, make_response, request
from flask_appbuilder import BaseView, ModelView, expose, has_access
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from app import clock
from app.extensions import db
from app.inspections import LABELS as INSPECTION_LABELS
from app.services import inspection_stats as stats
from app.services.settings import get_settings
from app.services.visibility import visible
from models import Inspection
from views.common import current_actor, label, local_time


def inspection_label(value) -> str:
    """The label of an inspection's state, result or basis kind."""
    return gettext(INSPECTION_LABELS[value]) if value in INSPECTION_LABELS else label(value)


def yes_no(value) -> str:
    return gettext("Yes") if value else gettext("No")


class InspectionScopeFilter(BaseFilter):
    """Keep the inspections of the reader's jurisdiction and of those under it."""

    name = "inspection_scope"

    def apply(self, query, value):
        scope = stats.scope_for(current_actor())
        return query if scope is None else query.filter(scope)


class InspectionView(ModelView):
    datamodel = SQLAInterface(Inspection)
    route_base = "/inspections"
    base_permissions = ["can_list", "can_show"]
    base_filters = [["id", InspectionScopeFilter, None]]
    base_order = ("started_at", "desc")
    list_title = _l("Inspection register")
    show_title = _l("Inspection")
    list_columns = [
        "number",
        "enterprise",
        "department",
        "started_at",
        "ended_at",
        "joint",
        "state",
        "result",
    ]
    search_columns = ["number", "enterprise", "department", "started_at", "joint"]
    label_columns = {
        "number": _l("Inspection number"),
        "enterprise": _l("Enterprise"),
        "department": _l("Inspecting unit"),
        "started_at": _l("Time in"),
        "ended_at": _l("Time out"),
        "joint": _l("Joint inspection"),
        "state": _l("State"),
        "result": _l("Result"),
    }
    formatters_columns = {
        "started_at": local_time,
        "ended_at": local_time,
        "joint": yes_no,
        "state": inspection_label,
        "result": inspection_label,
    }

    @expose("/show/<int:pk>")
    @has_access
    def show(self, pk):
        inspection = self.datamodel.get(pk, self._base_filters)
        if inspection is None:
            abort(404)
        return self.render_template(
            "inspections/show.html",
            inspection=inspection,
            cases=visible(db.session, inspection.problem_cases, current_actor()),
            label=inspection_label,
            any_label=label,
            local_time=local_time,
            yes_no=yes_no,
            title=inspection.number,
            appbuilder=self.appbuilder,
        )


@dataclass(frozen=True)
class Span:
    """The period shown: local dates ``first``..``last`` (inclusive) and their UTC bounds."""

    first: date
    last: date

    @property
    def start(self) -> datetime:
        return _utc_midnight(self.first)

    @property
    def end(self) -> datetime:
        return _utc_midnight(self.last + timedelta(days=1))

    @property
    def label(self) -> str:
        return f"{self.first.isoformat()}~{self.last.isoformat()}"

    def args(self) -> dict[str, str]:
        return {"from": self.first.isoformat(), "to": self.last.isoformat()}


def _utc_midnight(day: date) -> datetime:
    local = datetime(day.year, day.month, day.day, tzinfo=clock.LOCAL_TZ)
    return local.astimezone(UTC).replace(tzinfo=None)


def _month(year: int, month: int) -> Span:
    first = date(year, month, 1)
    following = date(year + (month == 12), month % 12 + 1, 1)
    return Span(first, following - timedelta(days=1))


#: The longest period one screen examines (the cost follows the period).
MAX_DAYS = 3 * 366


def _span() -> Span:
    """The period asked for (``?month=2026-11`` or ``?from=&to=``); anything unreadable is said
    in a flash message and the current month is shown."""
    today = clock.local_date(clock.utcnow())
    default = _month(today.year, today.month)
    month, first, last = (request.args.get(k, "").strip() for k in ("month", "from", "to"))
    try:
        if first or last:
            span = Span(date.fromisoformat(first or last), date.fromisoformat(last or first))
            if not (2000 <= span.first.year and span.last.year <= 2100):
                raise ValueError("outside the years the platform keeps")
            if span.first > span.last:
                flash(
                    gettext("The period's first day is after its last day: the current month is shown."),
                    "warning",
                )
                return default
            if (span.last - span.first).days > MAX_DAYS:
                flash(
                    gettext("Choose a period of at most three years: the current month is shown."), "warning"
                )
                return default
            return span
        if month:
            found = re.fullmatch(r"(\d{4})-(\d{1,2})", month)
            if found and 1 <= int(found[2]) <= 12 and 2000 <= int(found[1]) <= 2100:
                return _month(int(found[1]), int(found[2]))
            raise ValueError(month)
    except (ValueError, OverflowError):
        flash(
            gettext("Give dates as 2026-11-02 and a month as 2026-11: the current month is shown."), "warning"
        )
    return default


BY_LABELS = {
    "enterprise": _l("By enterprise"),
    "officer": _l("By officer"),
    "unit": _l("By unit"),
}


class InspectionStatsView(BaseView):
    route_base = "/inspections/stats"
    default_view = "index"

    def _context(self):
        actor = current_actor()
        return actor, stats.scope_for(actor), _span()

    @expose("/")
    @has_access
    def index(self):
        actor, scope, span = self._context()
        settings = get_settings(db.session, actor.jurisdiction_id)
        tables = {by: stats.counts_by(db.session, by, span.start, span.end, scope) for by in stats.BY}
        found = stats.flags(db.session, span.start, span.end, settings, clock.utcnow(), scope)
        return self.render_template(
            "inspections/stats.html",
            span=span,
            tables=tables,
            by_labels=BY_LABELS,
            flags=found,
            settings=settings,
            local_time=local_time,
            limit=stats.LIST_LIMIT,
            title=gettext("Inspection counts and flags"),
        )

    @expose("/drill/<by>/<int:subject_id>")
    @has_access
    def drill(self, by, subject_id):
        if by not in stats.BY:
            abort(404)
        _actor, scope, span = self._context()
        found = stats.drill(db.session, by, subject_id, span.start, span.end, scope)
        return self.render_template(
            "inspections/drill.html",
            span=span,
            by=by,
            by_label=BY_LABELS[by],
            inspections=found,
            limit=stats.LIST_LIMIT,
            label=inspection_label,
            local_time=local_time,
            yes_no=yes_no,
            title=gettext("Inspections behind the figures"),
        )

    @expose("/export/<by>.<fmt>")
    @has_access
    def export(self, by, fmt):
        if by not in stats.BY or fmt not in ("csv", "xlsx"):
            abort(404)
        _actor, scope, span = self._context()
        rows = stats.counts_by(db.session, by, span.start, span.end, scope)
        header, body = stats.export_rows(by, rows, span.label)
        filename = f"检查统计_{stats.SUBJECT_HEADER[by]}_{span.first:%Y%m%d}-{span.last:%Y%m%d}.{fmt}"
        if fmt == "csv":
            response = make_response(stats.to_csv(header, body))
            response.headers["Content-Type"] = "text/csv; charset=utf-8"
        else:
            response = make_response(stats.to_xlsx(header, body))
            response.headers["Content-Type"] = (
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            )
        response.headers["Content-Disposition"] = (
            f"attachment; filename=inspections-{by}.{fmt}; filename*=UTF-8''{quote(filename)}"
        )
        return response
