"""Administrator screens for reference data (plain CRUD is fine here: no case status lives here)."""

from __future__ import annotations

from flask import flash, make_response, redirect
from flask_appbuilder import ModelView
from flask_appbuilder.actions import action
from flask_appbuilder.fieldwidgets import Select2Widget
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, StringField
from wtforms.validators import Optional, ValidationError

from app.enums import CaseType, DeptLevel, Urgency
from app.extensions import db
from app.services.cases import request_recompute
from app.services.reference import validate_department
from app.services.settings import check_setting
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
}


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
    regions = set()
    for (region,) in db.session.query(Department.region).distinct():
        parts = (region or "").split("/")
        regions.update("/".join(parts[:i]) for i in range(1, len(parts) + 1) if parts[0])
    return [("", "—")] + [(r, r) for r in sorted(regions)]


class DepartmentView(_Reference):
    datamodel = SQLAInterface(Department)
    list_title = _l("Departments")
    add_title, edit_title = _l("Add department"), _l("Edit department")
    show_title = _l("Department details")
    list_columns = ["code", "name", "level", "parent", "head", "region", "active", "discipline_inspection"]
    add_columns = edit_columns = [
        "code",
        "name",
        "level",
        "parent",
        "head",
        "region",
        "active",
        "discipline_inspection",
    ]
    search_columns = ["code", "name", "level", "parent", "region"]
    label_columns = {**COMMON_LABELS, "discipline_inspection": _l("Discipline inspection")}
    formatters_columns = {"level": label}

    # Checked as a form validator, not in pre_add: a refusal then shows the form again with
    # what was typed (FAB's pre_add refusal redirects and loses it).
    validators_columns = {"parent": [lambda form, field: _check_department(form, field)]}
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
    """Editing the calendar or a policy recomputes every open deadline."""

    def post_add(self, item):
        request_recompute(db.session)

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
    list_columns = ["day", "kind", "name"]
    add_columns = edit_columns = ["day", "kind", "name"]
    search_columns = ["day", "kind", "name"]
    formatters_columns = {"kind": lambda k: str(_l("Holiday") if k == "holiday" else _l("Make-up workday"))}
    add_form_extra_fields = edit_form_extra_fields = {
        "kind": StrictSelectField(
            _l("Kind"),
            widget=Select2Widget(),
            choices_factory=lambda: [
                ("holiday", str(_l("Holiday"))),
                ("workday", str(_l("Make-up workday"))),
            ],
        )
    }
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
    list_columns = ["case_type", "urgency", "multi_department", "working_days", "note"]
    add_columns = edit_columns = ["case_type", "urgency", "multi_department", "working_days", "note"]
    formatters_columns = {"case_type": label, "urgency": label, "multi_department": _departments_label}
    add_form_extra_fields = edit_form_extra_fields = {
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
    description_columns = {
        "case_type": _l("Leave empty to apply to every case type"),
        "urgency": _l("Leave empty to apply to every urgency"),
        "multi_department": _l("Leave empty to apply whether or not several departments handle"),
    }


class DispatchRuleView(_Reference):
    datamodel = SQLAInterface(DispatchRule)
    list_title = _l("Dispatch rules")
    add_title, edit_title = _l("Add dispatch rule"), _l("Edit dispatch rule")
    show_title = _l("Dispatch rule details")
    list_columns = ["category", "region", "keywords", "department", "priority", "active"]
    add_columns = edit_columns = [
        "category",
        "region",
        "keywords",
        "department",
        "priority",
        "active",
        "note",
    ]
    search_columns = ["category", "region", "keywords", "department"]


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
            title=str(_l("Service windows and QR codes")),
        )
        response = make_response(pdf)
        response.headers["Content-Type"] = "application/pdf"
        response.headers["Content-Disposition"] = 'attachment; filename="qr-sheets.pdf"'
        return response


class RewardTierView(_Reference):
    datamodel = SQLAInterface(RewardTier)
    list_title = _l("Reward tiers")
    list_columns = ["code", "name", "min_yuan", "max_yuan", "active"]
    add_columns = edit_columns = ["code", "name", "min_yuan", "max_yuan", "active"]
    label_columns = {
        **COMMON_LABELS,
        "min_yuan": _l("Lowest amount (yuan)"),
        "max_yuan": _l("Highest amount (yuan)"),
    }


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
