"""Early warnings: the supervisor's queue and page of each warning (派发, 发函, 排除 as forms that
call app.services.warning_work), and the administrators' table of warning models."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_appbuilder import BaseView, ModelView, expose, has_access
from flask_appbuilder.forms import DynamicForm
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import select

from app import clock
from app.early_warning import LABELS, OPEN_STATES, RULES, PeriodKind, RuleType, WarningAction
from app.errors import DomainError
from app.extensions import db
from app.services import jurisdictions
from app.services import warning_work as work
from models import Department
from models.early_warning import EarlyWarning, WarningModel
from views.common import current_actor, local_time, run_posted


def _text(msgid) -> str:
    return gettext(msgid) if msgid else ""


def state_label(value) -> str:
    return _text(LABELS.get(value)) or str(value or "")


def period_label(value) -> str:
    return _text(LABELS.get(value)) or str(value or "")


def rule_label(value) -> str:
    rule = RULES.get(value) if value in set(RuleType) else None
    return gettext(rule.label) if rule else str(value or "")


def due_cell(moment) -> Markup | str:
    """The deadline, in red once it has passed."""
    if moment is None:
        return "—"
    if moment < clock.utcnow():
        return Markup('<span class="text-danger" style="font-weight:bold">{}</span>').format(
            local_time(moment)
        )
    return local_time(moment)


# How the figures the rules record are named on the page (a key not listed shows as it is).
FIGURE_LABELS = {
    "cases": _l("Cases"),
    "case_ids": _l("Linked cases (ids)"),
    "count": _l("Count"),
    "rate": _l("Rate (%)"),
    "previous_rate": _l("Rate of the previous period (%)"),
    "rise_points": _l("Rise in percentage points"),
    "overdue": _l("Cases overdue"),
    "unsatisfied": _l("Unsatisfied ratings"),
    "total": _l("Cases in the period"),
    "previous_total": _l("Cases in the previous period"),
    "returns": _l("Returns of one case"),
    "requests": _l("Extension requests in the period"),
    "rewards": _l("Rewards unpaid past their deadline"),
    "reward_ids": _l("Rewards"),
    "inspections": _l("Inspections"),
    "inspection_ids": _l("Inspections"),
    "units": _l("Different units"),
    "times": _l("Inspections"),
    "days": _l("Within days"),
    "minutes": _l("Minutes from signing to reply"),
    "thresholds": _l("Thresholds"),
}


def figure_rows(figures) -> list[tuple[str, str]]:
    """The figures as (label, value) rows of plain text (the template escapes them)."""
    rows = []
    for key, value in (figures or {}).items():
        if isinstance(value, dict):
            value = "；".join(f"{k}: {v}" for k, v in value.items())
        elif isinstance(value, list | tuple):
            value = "、".join(str(v) for v in value)
        name = FIGURE_LABELS.get(key)
        rows.append((str(name) if name is not None else str(key), str(value)))
    return rows


EVENT_LABELS = {"raise": _l("Raised"), **{a.value: None for a in WarningAction}}


def event_label(action) -> str:
    if action in set(WarningAction):
        return gettext(LABELS[WarningAction(action)])
    found = EVENT_LABELS.get(action)
    return str(found) if found is not None else str(action or "")


class VisibleWarningFilter(BaseFilter):
    """The warnings of the user's jurisdiction and those under it; open first, soonest due."""

    name = "visible_warnings"

    def apply(self, query, value):
        query = query.filter(work.visible_warnings_clause(current_actor()))
        state = request.args.get("state")
        if state == "open":
            query = query.filter(EarlyWarning.state.in_([str(s) for s in OPEN_STATES]))
        elif state == "worked":
            query = query.filter(EarlyWarning.state.not_in([str(s) for s in OPEN_STATES]))
        if request.args.get("_oc_WarningView"):
            return query
        return query.order_by(
            EarlyWarning.state.not_in([str(s) for s in OPEN_STATES]), EarlyWarning.due_at, EarlyWarning.id
        )


class WarningView(ModelView):
    datamodel = SQLAInterface(EarlyWarning)
    route_base = "/warnings"
    base_permissions = ["can_list", "can_show"]
    base_filters = [["id", VisibleWarningFilter, None]]
    base_order = None  # open first, by deadline (VisibleWarningFilter)
    list_template = "warnings/list.html"
    list_title = _l("Early warnings")
    show_title = _l("Early warning")
    list_columns = ["model", "subject_label", "department", "period_start", "state", "due_at", "created_at"]
    order_columns = ["period_start", "state", "due_at", "created_at"]
    search_columns = ["state", "model", "department", "subject_label", "period_start", "due_at", "created_at"]
    label_columns = {
        "model": _l("Warning model"),
        "subject_label": _l("Subject"),
        "department": _l("Department"),
        "period_start": _l("Period"),
        "state": _l("State"),
        "due_at": _l("Work by"),
        "created_at": _l("Raised at"),
    }
    formatters_columns = {
        "state": state_label,
        "due_at": due_cell,
        "created_at": local_time,
    }

    @expose("/show/<int:pk>")
    @has_access
    def show(self, pk):
        actor = current_actor()
        try:
            warning = work.get_warning(db.session, pk, actor)
        except DomainError:
            abort(404)
        moves = work.may_act(warning, actor)
        departments = []
        if WarningAction.DISPATCH in moves:
            departments = list(
                db.session.execute(
                    select(Department)
                    .where(
                        Department.active.is_(True),
                        jurisdictions.scope_clause(Department.jurisdiction_id, _office_scope(warning)),
                    )
                    .order_by(Department.code)
                ).scalars()
            )
        rule = RULES.get(warning.model.rule)
        return self.render_template(
            "warnings/show.html",
            warning=warning,
            rule_label=gettext(rule.label) if rule else str(warning.model.rule),
            rule_description=gettext(rule.description) if rule else "",
            subject_kind=_text(LABELS.get(warning.subject_kind)),
            figures=figure_rows(warning.figures),
            moves=[str(m) for m in moves],
            departments=departments,
            state_label=state_label,
            event_label=event_label,
            local_time=local_time,
            due_cell=due_cell,
            title=self.show_title,
            appbuilder=self.appbuilder,
        )


class _Scope:
    """The scope of the warning's office, for the departments a case may go to."""

    def __init__(self, path):
        self.jurisdiction_path = path
        self.jurisdiction_scope = None


def _office_scope(warning: EarlyWarning) -> _Scope:
    return _Scope(warning.jurisdiction.path)


# Each move: the service, the form fields it takes (by their keyword names) and what it says done.
_MOVES = {
    "dispatch": (
        work.dispatch_warning,
        ("department_id", "note"),
        _l("The warning has been dispatched as a case."),
    ),
    "notice": (work.issue_warning_notice, ("kind", "details"), _l("The notice has been issued.")),
    "dismiss": (work.dismiss_warning, ("reason",), _l("The warning has been dismissed.")),
}


class WarningActionView(BaseView):
    """The supervisor's three moves on a warning, one permission each (can_dispatch, ...)."""

    route_base = "/warnings/act"

    def _do(self, warning_id, move):
        service, fields, message = _MOVES[move]
        values = {f: request.form.get(f) for f in fields}

        def run(actor, now):
            warning = work.get_warning(db.session, warning_id, actor, for_update=True)
            return service(db.session, warning, actor=actor, now=now, **values)

        return run_posted(run, message, url_for("WarningView.show", pk=warning_id))

    @expose("/<int:warning_id>/dispatch", methods=["POST"])
    @has_access
    def dispatch(self, warning_id):
        return self._do(warning_id, "dispatch")

    @expose("/<int:warning_id>/notice", methods=["POST"])
    @has_access
    def notice(self, warning_id):
        return self._do(warning_id, "notice")

    @expose("/<int:warning_id>/dismiss", methods=["POST"])
    @has_access
    def dismiss(self, warning_id):
        return self._do(warning_id, "dismiss")


class WarningModelView(ModelView):
    """The models the engine runs: an administrator switches them on or off and sets their
    thresholds (one field per threshold of the model's rule type) and period."""

    datamodel = SQLAInterface(WarningModel)
    route_base = "/warningmodels"
    base_permissions = ["can_list", "can_show", "can_edit"]
    base_order = ("code", "asc")
    list_title = _l("Warning models")
    show_title = _l("Warning model")
    edit_title = _l("Warning model: edit")
    # The code is an identifier (English words): the name and the rule type say what a model is.
    list_columns = ["name", "rule", "period", "active", "handle_working_days", "last_run_at"]
    search_columns = ["name", "active"]
    label_columns = {
        "code": _l("Code"),
        "name": _l("Name"),
        "rule": _l("Rule type"),
        "period": _l("Period"),
        "active": _l("Active"),
        "handle_working_days": _l("Working days to work a warning"),
        "last_run_at": _l("Last run at"),
        "thresholds": _l("Thresholds"),
    }
    formatters_columns = {"rule": rule_label, "period": period_label, "last_run_at": local_time}

    @expose("/show/<int:pk>")
    @has_access
    def show(self, pk):
        return redirect(url_for("WarningModelView.edit", pk=pk))

    @expose("/edit/<int:pk>", methods=["GET", "POST"])
    @has_access
    def edit(self, pk):
        model = db.session.get(WarningModel, pk)
        if model is None:
            abort(404)
        rule = RULES.get(model.rule)
        values = dict(request.form) if request.method == "POST" else {}
        errors: dict[str, str] = {}
        if request.method == "POST":
            if not DynamicForm().validate_on_submit():
                flash(_l("The form could not be submitted; please try again."), "danger")
            else:
                errors = work.update_warning_model(db.session, model, form=request.form)
                if not errors:
                    flash(_l("The warning model has been saved."), "success")
                    return redirect(url_for("WarningModelView.list"))
        thresholds = dict(model.thresholds or {})
        params = [
            {
                "key": p.key,
                "label": gettext(p.label),
                "minimum": p.minimum,
                "maximum": p.maximum,
                "value": values.get(f"threshold_{p.key}", thresholds.get(p.key, p.default)),
            }
            for p in (rule.params if rule else ())
        ]
        return self.render_template(
            "warnings/model_edit.html",
            model=model,
            rule_label=gettext(rule.label) if rule else str(model.rule),
            rule_description=gettext(rule.description) if rule else "",
            params=params,
            periods=[(p.value, gettext(LABELS[p])) for p in PeriodKind],
            values=values,
            errors=errors,
            title=self.edit_title,
            appbuilder=self.appbuilder,
        )
