"""Administrator screens for reference data (plain CRUD is fine here: no case status lives here)."""

from __future__ import annotations

from flask import current_app, flash, make_response, redirect
from flask_appbuilder import BaseView, ModelView, expose, has_access
from flask_appbuilder.actions import action
from flask_appbuilder.fieldwidgets import Select2Widget
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, StringField
from wtforms.validators import NumberRange, Optional, ValidationError

from app.enums import CaseType, DeptLevel, Urgency
from app.errors import DomainError
from app.extensions import db
from app.ids import as_id
from app.services.jurisdictions import check_department_jurisdiction
from app.services.reference import validate_department
from app.services.settings import MAX_POLICY_WORKING_DAYS, check_setting
from app.services.windows import new_window_token, window_filing_url
from models import (
    CalendarDay,
    CalendarYear,
    Category,
    DeadlinePolicy,
    Department,
    DispatchRule,
    IneligiblePerson,
    RewardTier,
    ServiceWindow,
    Setting,
)
from views.common import label
from views.forms import LazySelectField, StrictSelectField, enum_select
from views.jurisdictions import OwnOrBelowJurisdictionFilter, field_error

COMMON_LABELS = {
    "name": _l("Name"),
    "code": _l("Code"),
    "level": _l("Level"),
    "parent": _l("Parent"),
    "head": _l("Head"),
    "region": _l("Region"),
    "active": _l("Active"),
    "description": _l("Description"),
    "sort_order": _l("Order"),
    "year": _l("Year"),
    "official": _l("Official schedule entered"),
    "note": _l("Note"),
    "day": _l("Date"),
    "kind": _l("Kind"),
    "case_type": _l("Case type"),
    "urgency": _l("Urgency"),
    "multi_department": _l("Multi-department"),
    "working_days": _l("Working days"),
    "category": _l("Category"),
    "keywords": _l("Keywords"),
    "department": _l("Department"),
    "priority": _l("Priority"),
    "key": _l("Setting"),
    "value": _l("Value"),
    "children": _l("Lower levels"),
    "jurisdiction": _l("Jurisdiction"),
    "jurisdiction_id": _l("Jurisdiction"),
}


# How a rule without a jurisdiction is shown: the default of every jurisdiction.
EVERY_JURISDICTION = _l("All jurisdictions (default)")
NATIONWIDE = _l("Nationwide (State Council schedule)")
OVERRIDE_HELP = _l(
    "Empty: the rule of every jurisdiction. A jurisdiction: its own rule for that combination, "
    "which replaces the one it inherits; the jurisdictions below it inherit it in turn."
)


def every_jurisdiction_or(jurisdiction) -> str:
    return str(jurisdiction) if jurisdiction else str(EVERY_JURISDICTION)


def jurisdiction_choices() -> list[tuple[str, str]]:
    """The jurisdictions in tree order, indented by level (长河县 under 石门市 under 清源省)."""
    from models import Jurisdiction

    rows = db.session.query(Jurisdiction.id, Jurisdiction.name, Jurisdiction.path).all()

    def depth(path: str) -> list[int]:
        return [int(p) for p in (path or "").strip("/").split("/") if p]

    return [
        (str(i), "\u3000" * (len(depth(path)) - 1) + name)
        for i, name, path in sorted(rows, key=lambda r: depth(r[2]))
    ]


class JurisdictionField(StrictSelectField):
    """A jurisdiction chosen by id, or none (shown with ``blank``: every jurisdiction, the State
    Council...)."""

    def __init__(self, blank, **kwargs):
        super().__init__(
            _l("Jurisdiction"),
            choices_factory=lambda: [("", str(blank))] + jurisdiction_choices(),
            coerce=as_id,  # an id no row can have is none (pre_validate refuses what was sent)
            widget=Select2Widget(),
            **kwargs,
        )

    def pre_validate(self, form):
        raw = (self.raw_data or [""])[0]
        if raw not in ("", None) and raw not in {v for v, _ in self.choices}:
            raise ValidationError(str(_l("Choose one of the values offered.")))


def _edited_pk() -> int | None:
    from flask import request

    return as_id((request.view_args or {}).get("pk"))


def _check_day_once(form, field) -> None:
    """One row per day in each calendar (the State Council's, or a jurisdiction's)."""
    if field.data is None:
        return
    jurisdiction_id = form.jurisdiction_id.data if "jurisdiction_id" in form else None
    query = db.session.query(CalendarDay.id).filter(
        CalendarDay.day == field.data,
        CalendarDay.jurisdiction_id.is_(None)
        if jurisdiction_id is None
        else CalendarDay.jurisdiction_id == jurisdiction_id,
    )
    if query.filter(CalendarDay.id != (_edited_pk() or 0)).first():
        raise ValidationError(str(_l("This calendar already has an entry for that day: edit it instead.")))


def _check_tier_code(form, field) -> None:
    """A tier's code once among the tiers of every jurisdiction, and once in each jurisdiction."""
    jurisdiction_id = form.jurisdiction_id.data if "jurisdiction_id" in form else None
    query = db.session.query(RewardTier.id).filter(
        RewardTier.code == (field.data or "").strip(),
        RewardTier.jurisdiction_id.is_(None)
        if jurisdiction_id is None
        else RewardTier.jurisdiction_id == jurisdiction_id,
    )
    if query.filter(RewardTier.id != (_edited_pk() or 0)).first():
        raise ValidationError(str(_l("A tier with this code already exists there: edit it instead.")))


class _Reference(ModelView):
    """Reference data (every change is audited by app.services.audit, in its transaction)."""

    label_columns = COMMON_LABELS
    page_size = 50


def _check_department(form, field) -> None:
    """The department rules (level under its parent, no cycle) as a form validator."""
    from types import SimpleNamespace

    from flask import request
    from wtforms.validators import ValidationError

    from app.errors import DomainError

    pk = (request.view_args or {}).get("pk")
    candidate = SimpleNamespace(
        id=int(pk) if str(pk or "").isascii() and str(pk or "").isdigit() else None,
        level=form.level.data or None,
        parent=field.data,
        parent_id=None,
    )
    try:
        validate_department(db.session, candidate)
    except DomainError as error:
        raise ValidationError(error.message) from None


def _check_setting(field) -> None:
    """The setting's range (app.services.settings.check_setting) as a form validator."""
    from flask import request
    from wtforms.validators import ValidationError

    from app.errors import DomainError

    if field.data is None:
        return  # not a whole number: the field has said so
    try:
        check_setting(db.session, str((request.view_args or {}).get("pk")), field.data)
    except DomainError as error:
        raise ValidationError(error.message) from None


def _region_choices() -> list[tuple[str, str]]:
    """The regions of the province → city → county tree, from the departments' regions and
    every level above them (a region is chosen, not typed)."""
    from views.jurisdictions import region_choices

    return region_choices()  # the jurisdictions' regions too (a district may have no department yet)


def _check_department_jurisdiction(form, field) -> None:
    """The department's region lies inside its jurisdiction's region (as a form validator)."""
    from app.errors import DomainError

    try:
        check_department_jurisdiction(form.region.data, field.data)
    except DomainError as error:
        raise field_error(error) from None


class DepartmentView(_Reference):
    datamodel = SQLAInterface(Department)
    list_title = _l("Departments")
    add_title, edit_title = _l("Add department"), _l("Edit department")
    show_title = _l("Department details")
    list_columns = [
        "code",
        "name",
        "level",
        "parent",
        "head",
        "region",
        "jurisdiction",
        "active",
        "discipline_inspection",
    ]
    add_columns = edit_columns = [
        "code",
        "name",
        "level",
        "parent",
        "head",
        "region",
        "jurisdiction",
        "active",
        "discipline_inspection",
    ]
    search_columns = ["code", "name", "level", "parent", "region", "jurisdiction"]
    label_columns = {
        **COMMON_LABELS,
        "discipline_inspection": _l("Discipline inspection"),
        "jurisdiction": _l("Jurisdiction"),
    }
    description_columns = {
        "jurisdiction": _l(
            "The jurisdiction whose government the department belongs to; "
            "empty: the jurisdiction of its region."
        )
    }
    formatters_columns = {"level": label}

    # Checked as a form validator, not in pre_add: a refusal then shows the form again with
    # what was typed (FAB's pre_add refusal redirects and loses it).
    validators_columns = {
        "parent": [lambda form, field: _check_department(form, field)],
        "jurisdiction": [lambda form, field: _check_department_jurisdiction(form, field)],
    }
    add_form_query_rel_fields = edit_form_query_rel_fields = search_form_query_rel_fields = {
        "jurisdiction": [["id", OwnOrBelowJurisdictionFilter, None]]
    }
    add_form_extra_fields = edit_form_extra_fields = {
        "level": enum_select(DeptLevel, _l("Level"), blank=False),
        "region": LazySelectField(
            _l("Region"), choices_factory=lambda: _region_choices(), widget=Select2Widget()
        ),
        # FAB makes a NOT NULL boolean "required", so a department could never be deactivated
        "active": BooleanField(_l("Active"), default=True),
        "discipline_inspection": BooleanField(_l("Discipline inspection"), default=False),
    }
    search_form_extra_fields = {"level": enum_select(DeptLevel, _l("Level"), blank=False)}
    base_order = ("code", "asc")

    def pre_add(self, item):
        """A department left without a jurisdiction belongs to the jurisdiction of its region."""
        from app.services import jurisdictions

        if item.jurisdiction is None:
            with db.session.no_autoflush:  # the new department is not in the session yet
                item.jurisdiction = jurisdictions.for_region(db.session, item.region)

    pre_update = pre_add


class CategoryView(_Reference):
    datamodel = SQLAInterface(Category)
    list_title = _l("Categories")
    add_title, edit_title = _l("Add category"), _l("Edit category")
    show_title = _l("Category details")
    list_columns = ["code", "name", "parent", "active"]
    add_columns = edit_columns = ["code", "name", "parent", "description", "sort_order", "active"]
    search_columns = ["code", "name", "parent"]
    base_order = ("code", "asc")


class _RecomputesDeadlines(_Reference):
    """Editing the calendar, a policy or a setting recomputes the open deadlines it concerns:
    every case's for a rule of every jurisdiction (or of the root), only those of a
    jurisdiction and the ones below it for that jurisdiction's own rule (and, when a rule moves
    to another jurisdiction, those of the one it left)."""

    def pre_update(self, item):
        from flask import g
        from sqlalchemy import inspect

        state = inspect(item).attrs
        before = state["jurisdiction_id"].history.deleted if "jurisdiction_id" in state else ()
        g.rules_jurisdictions_before = set(before)

    def post_add(self, item):
        from flask import g

        from app.services.levels_rules import recompute_below

        concerned = {getattr(item, "jurisdiction_id", None)} | g.pop("rules_jurisdictions_before", set())
        recompute_below(db.session, concerned)

    post_update = post_delete = post_add


class CalendarYearView(_RecomputesDeadlines):
    datamodel = SQLAInterface(CalendarYear)
    list_title = _l("Calendar years")
    add_title, edit_title = _l("Add calendar year"), _l("Edit calendar year")
    show_title = _l("Calendar year details")
    list_columns = ["year", "official", "note"]
    add_columns = edit_columns = ["year", "official", "note"]
    base_order = ("year", "desc")


class CalendarDayView(_RecomputesDeadlines):
    datamodel = SQLAInterface(CalendarDay)
    list_title = _l("Holidays and make-up workdays")
    add_title = _l("Add holiday or make-up workday")
    edit_title = _l("Edit holiday or make-up workday")
    show_title = _l("Holiday or make-up workday details")
    list_columns = ["day", "kind", "name", "jurisdiction"]
    add_columns = edit_columns = ["day", "kind", "name", "jurisdiction_id"]
    show_columns = ["day", "kind", "name", "jurisdiction"]
    search_columns = ["day", "kind", "name", "jurisdiction"]
    formatters_columns = {
        "kind": lambda k: str(_l("Holiday") if k == "holiday" else _l("Make-up workday")),
        "jurisdiction": lambda j: str(j) if j else str(NATIONWIDE),
    }
    add_form_extra_fields = edit_form_extra_fields = {
        "kind": StrictSelectField(
            _l("Kind"),
            widget=Select2Widget(),
            choices_factory=lambda: [
                ("holiday", str(_l("Holiday"))),
                ("workday", str(_l("Make-up workday"))),
            ],
        ),
        "jurisdiction_id": JurisdictionField(NATIONWIDE),
    }
    description_columns = {
        "jurisdiction_id": _l(
            "Empty: a day of the State Council's schedule. A jurisdiction: a regional holiday or "
            "make-up workday of that jurisdiction, kept by the jurisdictions below it too."
        )
    }
    validators_columns = {"day": [lambda form, field: _check_day_once(form, field)]}
    base_order = ("day", "desc")


class TriStateField(StrictSelectField):
    """A yes / no / either select over a nullable Boolean column."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.coerce = lambda value: {"1": True, "0": False, "True": True, "False": False}.get(str(value))

    def _value(self):
        return {True: "1", False: "0"}.get(self.data, "")

    def pre_validate(self, form):
        if self.raw_data and self.raw_data[0] not in ("", "0", "1"):
            raise ValidationError(str(_l("Choose one of the values offered.")))

    def iter_choices(self):
        current = self._value()
        for value, text in self.choices:
            yield (value, text, value == current, {})


def _departments_label(multi) -> str:
    return {True: str(_l("Several departments")), False: str(_l("One department"))}.get(multi, "—")


class DeadlinePolicyView(_RecomputesDeadlines):
    datamodel = SQLAInterface(DeadlinePolicy)
    list_title = _l("Deadline policies")
    add_title, edit_title = _l("Add deadline policy"), _l("Edit deadline policy")
    show_title = _l("Deadline policy details")
    list_columns = ["case_type", "urgency", "multi_department", "working_days", "jurisdiction", "note"]
    add_columns = edit_columns = [
        "case_type",
        "urgency",
        "multi_department",
        "working_days",
        "jurisdiction_id",
        "note",
    ]
    show_columns = ["case_type", "urgency", "multi_department", "working_days", "jurisdiction", "note"]
    search_columns = ["case_type", "urgency", "jurisdiction"]
    formatters_columns = {
        "case_type": label,
        "urgency": label,
        "multi_department": _departments_label,
        "jurisdiction": every_jurisdiction_or,
    }
    add_form_extra_fields = edit_form_extra_fields = {
        "jurisdiction_id": JurisdictionField(EVERY_JURISDICTION),
        "case_type": enum_select(CaseType, _l("Case type")),
        "urgency": enum_select(Urgency, _l("Urgency")),
        # Three answers, not a checkbox: an unticked box would restrict a policy to
        # single-department cases (Chengde's 3 days single / 15 multi-department, seed 002).
        "multi_department": TriStateField(
            _l("Departments handling"),
            choices_factory=lambda: [
                ("", str(_l("One or several"))),
                ("0", str(_l("One department"))),
                ("1", str(_l("Several departments"))),
            ],
            widget=Select2Widget(),
        ),
    }
    validators_columns = {"working_days": [NumberRange(0, MAX_POLICY_WORKING_DAYS)]}
    description_columns = {
        "case_type": _l("Leave empty to apply to every case type"),
        "urgency": _l("Leave empty to apply to every urgency"),
        "multi_department": _l("Leave empty to apply whether or not several departments handle"),
        "jurisdiction_id": OVERRIDE_HELP,
    }


class DispatchRuleView(_Reference):
    datamodel = SQLAInterface(DispatchRule)
    list_title = _l("Dispatch rules")
    add_title, edit_title = _l("Add dispatch rule"), _l("Edit dispatch rule")
    show_title = _l("Dispatch rule details")
    list_columns = ["category", "region", "keywords", "department", "priority", "jurisdiction", "active"]
    add_columns = edit_columns = [
        "category",
        "region",
        "keywords",
        "department",
        "priority",
        "jurisdiction_id",
        "active",
        "note",
    ]
    show_columns = [*add_columns[:5], "jurisdiction", "active", "note"]
    search_columns = ["category", "region", "keywords", "department", "jurisdiction"]
    formatters_columns = {"jurisdiction": every_jurisdiction_or}
    add_form_extra_fields = edit_form_extra_fields = {
        "jurisdiction_id": JurisdictionField(EVERY_JURISDICTION)
    }
    description_columns = {
        "jurisdiction_id": _l(
            "Empty: a rule for the cases of every jurisdiction. A jurisdiction: a rule for its "
            "cases and those below it; between rules equally specific, the nearer "
            "jurisdiction's wins."
        )
    }


class SettingView(_RecomputesDeadlines):
    datamodel = SQLAInterface(Setting)
    base_permissions = ["can_list", "can_show", "can_edit"]
    list_title = _l("Settings")
    edit_title, show_title = _l("Edit setting"), _l("Setting details")
    list_columns = ["description", "value"]
    show_columns = ["description", "value"]
    edit_columns = ["value"]
    formatters_columns = {"description": lambda d: str(_l(d)) if d else ""}
    validators_columns = {"value": [lambda form, field: _check_setting(field)]}


class ServiceWindowView(_Reference):
    """Service windows and halls; each has a QR code that opens the filing page preset."""

    datamodel = SQLAInterface(ServiceWindow)
    list_title = _l("Service windows and QR codes")
    add_title, edit_title = _l("Add service window"), _l("Edit service window")
    show_title = _l("Service window details")
    list_columns = ["hall", "name", "department", "region", "active", "token"]
    add_columns = edit_columns = ["hall", "name", "department", "region", "active"]
    show_columns = ["hall", "name", "department", "region", "active", "token"]
    search_columns = ["hall", "name", "department", "region"]
    label_columns = {**COMMON_LABELS, "hall": _l("Hall"), "token": _l("Filing link")}
    formatters_columns = {"token": lambda token: window_filing_url(token)}

    def pre_add(self, item):
        item.token = new_window_token()

    @action("qr_sheet", _l("Print QR sheets (PDF)"), icon="fa-qrcode", single=False)
    def qr_sheet(self, items):
        """Render printable QR sheets, one window a page, for the selected windows."""
        from reports.qr import QrWindowData, render_qr_sheet_pdf

        items = [w for w in (items if isinstance(items, list) else [items]) if w.active]
        if not items:
            flash(_l("Choose at least one active window."), "warning")
            return redirect(self.get_redirect())
        pdf = render_qr_sheet_pdf(
            [
                QrWindowData(
                    name=w.name, hall=w.hall, department=w.department.name, url=window_filing_url(w.token)
                )
                for w in items
            ],
            hotline=current_app.config.get("PUBLIC_HOTLINE", ""),
        )
        response = make_response(pdf)
        response.headers["Content-Type"] = "application/pdf"
        response.headers["Content-Disposition"] = 'attachment; filename="qr-sheets.pdf"'
        return response


class RewardTierView(_Reference):
    datamodel = SQLAInterface(RewardTier)
    list_title = _l("Reward tiers")
    list_columns = ["code", "name", "min_yuan", "max_yuan", "jurisdiction", "active"]
    add_columns = edit_columns = ["code", "name", "min_yuan", "max_yuan", "jurisdiction_id", "active"]
    show_columns = ["code", "name", "min_yuan", "max_yuan", "jurisdiction", "active"]
    search_columns = ["code", "name", "jurisdiction"]
    label_columns = {
        **COMMON_LABELS,
        "min_yuan": _l("Lowest amount (yuan)"),
        "max_yuan": _l("Highest amount (yuan)"),
    }
    formatters_columns = {"jurisdiction": every_jurisdiction_or}
    add_form_extra_fields = edit_form_extra_fields = {
        "jurisdiction_id": JurisdictionField(EVERY_JURISDICTION)
    }
    description_columns = {
        "jurisdiction_id": _l(
            "Empty: a tier of every jurisdiction. A jurisdiction: its own tier of that code, "
            "which replaces the one it inherits (inactive: the code is withdrawn there)."
        )
    }
    validators_columns = {"code": [lambda form, field: _check_tier_code(form, field)]}


class IneligiblePersonView(_Reference):
    """Staff and interested parties not eligible for rewards; phone and credit code are kept
    only as keyed hashes."""

    datamodel = SQLAInterface(IneligiblePerson)
    list_title = _l("Not eligible for rewards")
    list_columns = ["label", "department", "reason"]
    add_columns = edit_columns = ["label", "phone", "credit_code", "department", "reason"]
    show_columns = ["label", "department", "reason"]
    label_columns = {
        **COMMON_LABELS,
        "label": _l("Person"),
        "phone": _l("Phone"),
        "credit_code": _l("Unified social credit code"),
        "reason": _l("Reason"),
        "phone_digest": _l("Phone (keyed hash)"),
        "credit_digest": _l("Unified social credit code (keyed hash)"),
    }
    description_columns = {
        "department": _l(
            "Leave empty for platform staff (never eligible); "
            "set it for staff of a department (not eligible for "
            "cases about it)"
        )
    }
    add_form_extra_fields = edit_form_extra_fields = {
        "phone": StringField(_l("Phone"), validators=[Optional()]),
        "credit_code": StringField(_l("Unified social credit code"), validators=[Optional()]),
    }

    def pre_add(self, item):
        from flask import request

        from app.services.rewards import person_digests

        phone, code = person_digests(request.form.get("phone"), request.form.get("credit_code"))
        item.phone_digest = phone or item.phone_digest
        item.credit_digest = code or item.credit_digest

    pre_update = pre_add


# --- rules per jurisdiction: own values of settings, regional holidays, what is in force -------


def _chosen_jurisdiction(value):
    """The jurisdiction a page is about: the one asked for, else the root."""
    from app.services import jurisdictions

    jurisdiction_id = as_id(value)
    try:
        return jurisdictions.get(db.session, jurisdiction_id)
    except DomainError:
        return jurisdictions.root(db.session)


class JurisdictionSettingView(BaseView):
    """A jurisdiction's own values of the settings (辖区设置): it and the jurisdictions below it
    use them instead of the parent's; the root's values are the Settings screen."""

    route_base = "/rules/settings"
    default_view = "list"

    @expose("/", methods=["GET"])
    @has_access
    def list(self):
        from flask_babel import gettext

        from app.services import jurisdictions
        from app.services.settings import DEFAULTS, get_settings, overrides

        rows = overrides(db.session)
        names = jurisdictions.names(db.session, {r.jurisdiction_id for r in rows})
        inherited = {}
        for row in rows:  # what the jurisdiction would have without its own value
            parent = jurisdictions.get(db.session, row.jurisdiction_id).parent_id
            inherited[(row.jurisdiction_id, row.key)] = get_settings(db.session, parent).get(row.key)
        return self.render_template(
            "rules/settings.html",
            rows=[
                {
                    "jurisdiction_id": r.jurisdiction_id,
                    "jurisdiction": names.get(r.jurisdiction_id, ""),
                    "key": r.key,
                    "description": gettext(DEFAULTS[r.key][1]) if r.key in DEFAULTS else r.key,
                    "value": r.value,
                    "inherited": inherited[(r.jurisdiction_id, r.key)],
                }
                for r in rows
            ],
            jurisdictions=[(v, t) for v, t in jurisdiction_choices() if not _is_root(v)],
            settings=[(key, gettext(description)) for key, (_, description) in DEFAULTS.items()],
            title=_l("Jurisdiction settings"),
            appbuilder=self.appbuilder,
        )

    @expose("/set", methods=["POST"])
    @has_access
    def set(self):
        from flask import request, url_for

        from app.services.settings import set_override
        from views.common import run_posted

        form = request.form
        return run_posted(
            lambda actor, now: set_override(
                db.session, form.get("jurisdiction_id"), form.get("key"), form.get("value")
            ),
            _l("The jurisdiction's own value is saved; the open deadlines there were recomputed."),
            url_for("JurisdictionSettingView.list"),
        )

    @expose("/clear", methods=["POST"])
    @has_access
    def clear(self):
        from flask import request, url_for

        from app.services.settings import clear_override
        from views.common import run_posted

        form = request.form
        return run_posted(
            lambda actor, now: clear_override(db.session, form.get("jurisdiction_id"), form.get("key")),
            _l("The jurisdiction inherits this setting again."),
            url_for("JurisdictionSettingView.list"),
        )


def _is_root(jurisdiction_id: str) -> bool:
    from app.services import jurisdictions

    return str(jurisdictions.root_id(db.session)) == jurisdiction_id


class HolidayPresetView(BaseView):
    """Regional holidays an administrator applies to a jurisdiction (壮族三月三, 古尔邦节, 藏历新年)."""

    route_base = "/rules/holidays"
    default_view = "form"

    @expose("/", methods=["GET"])
    @has_access
    def form(self):
        from flask_babel import gettext

        from app.calendar import PRESETS
        from app.services.calendar import regional_days

        chosen = _chosen_jurisdiction(request_arg("jurisdiction"))
        return self.render_template(
            "rules/holidays.html",
            presets=[(p.code, gettext(p.label), p.years.start, p.years.stop - 1) for p in PRESETS.values()],
            jurisdictions=jurisdiction_choices(),
            chosen=chosen,
            days=regional_days(db.session, chosen.id),
            title=_l("Regional holidays"),
            appbuilder=self.appbuilder,
        )

    @expose("/apply", methods=["POST"])
    @has_access
    def apply(self):
        from flask import g, request, url_for
        from flask_appbuilder.forms import DynamicForm

        from app.services.calendar import apply_holiday_preset

        form = request.form
        back = url_for("HolidayPresetView.form", jurisdiction=form.get("jurisdiction_id") or "")
        if not DynamicForm().validate_on_submit():
            flash(_l("The form could not be submitted; please try again."), "danger")
            return redirect(back)
        g.back = back  # a refusal comes back here with its message
        years = (form.get("years") or "").replace(",", " ").replace("，", " ").split()
        added = apply_holiday_preset(db.session, form.get("preset"), form.get("jurisdiction_id"), years)
        flash(_l("%(count)s days added to the jurisdiction's calendar.", count=added), "success")
        return redirect(back)


def request_arg(name: str):
    from flask import request

    return request.args.get(name)


class EffectiveRulesView(BaseView):
    """有效规则: every setting, deadline policy, reward tier, dispatch rule and regional day in
    force in one jurisdiction, and the jurisdiction each comes from."""

    route_base = "/rules/effective"
    default_view = "show"

    @expose("/", methods=["GET"])
    @has_access
    def show(self):
        from flask_babel import gettext

        from app.services import jurisdictions
        from app.services.calendar import regional_days
        from app.services.levels_rules import rules_in_force

        chosen = _chosen_jurisdiction(request_arg("jurisdiction"))
        chain = jurisdictions.chain(db.session, chosen.id)
        found = rules_in_force(db.session, chosen)

        def source(rule) -> dict:
            # a jurisdiction's name is data; "default" and "every jurisdiction" are msgids
            own = rule.source_id is not None
            return {
                "source": rule.source if own else gettext(rule.source),
                "own": rule.source_id == chosen.id,
            }

        kinds = {"holiday": gettext("Holiday"), "workday": gettext("Make-up workday")}
        return self.render_template(
            "rules/effective.html",
            chosen=chosen,
            chain=[j.name for j in chain],
            jurisdictions=jurisdiction_choices(),
            settings=[
                {"description": gettext(s.description), "value": s.value, **source(s)}
                for s in found["settings"]
            ],
            policies=[
                {
                    "case_type": label(r.row.case_type) or "—",
                    "urgency": label(r.row.urgency) or "—",
                    "departments": _departments_label(r.row.multi_department),
                    "days": r.row.working_days,
                    "note": r.row.note or "",
                    **source(r),
                }
                for r in found["policies"]
            ],
            tiers=[
                {
                    "code": r.row.code,
                    "name": r.row.name,
                    "range": f"{r.row.min_yuan}–{r.row.max_yuan}",
                    "active": r.row.active,
                    **source(r),
                }
                for r in found["tiers"]
            ],
            dispatch=[
                {
                    "category": str(r.row.category or "—"),
                    "region": r.row.region or "—",
                    "keywords": r.row.keywords or "—",
                    "department": r.row.department.name,
                    "priority": r.row.priority,
                    **source(r),
                }
                for r in found["dispatch"]
            ],
            days=[
                {
                    "day": d.day,
                    "kind": kinds.get(d.kind, d.kind),
                    "name": d.name,
                    "source": j.name,
                    "own": j.id == chosen.id,
                }
                for j in chain
                for d in regional_days(db.session, j.id)
            ],
            title=_l("Effective rules"),
            appbuilder=self.appbuilder,
        )
