"""The enterprise registry and the administrator's lists for inspections (入企扫码): thin
screens over app.services.enterprises."""

from __future__ import annotations

from flask import current_app, flash, g, make_response, redirect, request, url_for
from flask_appbuilder import ModelView, expose, has_access
from flask_appbuilder.actions import action
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_appbuilder.security.decorators import permission_name
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import func
from wtforms import BooleanField, StringField
from wtforms.validators import Length, Optional, ValidationError

from app import clock
from app.errors import DomainError
from app.extensions import db
from app.inspections import LABELS as BASIS_LABELS
from app.inspections import BasisKind
from app.services import enterprises as svc
from models import EnforcementOfficer, Enterprise, InspectionItem
from views.common import current_actor
from views.forms import enum_select

LABELS = {
    "name": _l("Enterprise name"),
    "credit_code": _l("Unified social credit code"),
    "region": _l("Region"),
    "industry": _l("Industry"),
    "jurisdiction": _l("Jurisdiction"),
    "contact_name": _l("Contact person"),
    "contact_phone": _l("Contact phone"),
    "no_disturb": _l("No disturbance (无事不扰)"),
    "active": _l("Active"),
    "created_at": _l("Added"),
}


def _edited_pk() -> int | None:
    from app.ids import as_id

    return as_id((request.view_args or {}).get("pk"))


def _check_credit_code(form, field) -> None:
    try:
        field.data = svc.check_credit_code(db.session, field.data, exclude_id=_edited_pk())
    except DomainError as error:
        raise ValidationError(error.message) from None


def _check_phone(form, field) -> None:
    if field.data and not svc.PHONE_RE.match(field.data.strip()):
        raise ValidationError(str(_l("Contact phone: digits only (a hyphen or a leading + may be used).")))


def public_base() -> str:
    """Where the printed codes point: PUBLIC_BASE_URL, else the host this request came to."""
    return (current_app.config.get("PUBLIC_BASE_URL") or request.host_url).rstrip("/")


def _yes_no(value) -> str:
    return str(_l("Yes") if value else _l("No"))


class EnterpriseView(ModelView):
    """The registry: the administrator adds, edits and imports; supervisors and leaders read."""

    datamodel = SQLAInterface(Enterprise)
    route_base = "/enterprises"
    list_title = _l("Enterprises")
    add_title, edit_title = _l("Add enterprise"), _l("Edit enterprise")
    show_title = _l("Enterprise details")
    list_template = "enterprises/list.html"
    # No delete: inspections and warnings keep pointing at an enterprise; "active" retires it.
    base_permissions = ["can_list", "can_show", "can_add", "can_edit", "can_import", "can_qr_sheet"]
    page_size = 50
    label_columns = LABELS
    list_columns = ["name", "credit_code", "region", "industry", "no_disturb", "active"]
    show_columns = [
        "name",
        "credit_code",
        "region",
        "industry",
        "jurisdiction",
        "contact_name",
        "contact_phone",
        "no_disturb",
        "active",
        "created_at",
    ]
    add_columns = edit_columns = [
        "name",
        "credit_code",
        "region",
        "industry",
        "contact_name",
        "contact_phone",
        "no_disturb",
        "active",
    ]
    search_columns = ["name", "credit_code", "region"]
    base_order = ("name", "asc")
    description_columns = {
        "region": _l("Levels separated by a slash, e.g. 清源省/石门市/长河县: it decides the jurisdiction."),
        "no_disturb": _l(
            "An inspection of an enterprise on the 无事不扰 list needs a reason the supervisor sees."
        ),
    }
    formatters_columns = {
        "no_disturb": _yes_no,
        "active": _yes_no,
    }
    validators_columns = {"credit_code": [_check_credit_code]}
    add_form_extra_fields = edit_form_extra_fields = {
        "credit_code": StringField(_l("Unified social credit code"), validators=[Length(max=40)]),
        "region": StringField(_l("Region"), validators=[Optional(), Length(max=svc.REGION_MAX)]),
        "industry": StringField(_l("Industry"), validators=[Optional(), Length(max=svc.INDUSTRY_MAX)]),
        "contact_name": StringField(
            _l("Contact person"), validators=[Optional(), Length(max=svc.CONTACT_MAX)]
        ),
        "contact_phone": StringField(_l("Contact phone"), validators=[Optional(), _check_phone]),
        # FAB makes a NOT NULL boolean "required": it could never be unticked
        "no_disturb": BooleanField(_l("No disturbance (无事不扰)"), default=False),
        "active": BooleanField(_l("Active"), default=True),
    }

    def _prepare(self, item):
        """Normalize the fields, resolve the jurisdiction, give a new enterprise its codes."""
        svc.prepare_enterprise(db.session, item, now=clock.utcnow())

    pre_add = pre_update = _prepare

    @action("qr_sheet", _l("Print QR sheets (PDF)"), icon="fa-qrcode", single=False)
    def qr_sheet(self, items):
        """Render the QR sheets (officers' code and the enterprise's own) of the chosen ones."""
        from reports.enterprise_qr import (
            EnterpriseSheetData,
            confirm_url,
            inspect_url,
            render_enterprise_qr_pdf,
        )

        items = [e for e in (items if isinstance(items, list) else [items]) if e.active]
        if not items:
            flash(_l("Choose at least one active enterprise."), "warning")
            return redirect(self.get_redirect())
        base = public_base()
        pdf = render_enterprise_qr_pdf(
            [
                EnterpriseSheetData(
                    name=e.name,
                    region=e.region or "",
                    inspect_url=inspect_url(base, e.token),
                    confirm_url=confirm_url(base, e.confirm_token),
                )
                for e in sorted(items, key=lambda e: e.id)
            ],
            hotline=current_app.config.get("PUBLIC_HOTLINE", ""),
        )
        response = make_response(pdf)
        response.headers["Content-Type"] = "application/pdf"
        response.headers["Content-Disposition"] = 'attachment; filename="enterprise-qr-sheets.pdf"'
        return response

    @expose("/import/", methods=["GET", "POST"])
    @has_access
    @permission_name("import")
    def import_file(self):
        """Import enterprises from a CSV or XLSX file; show what was saved and each bad row."""
        from flask_appbuilder.forms import DynamicForm

        result, refusal = None, None
        back = url_for("EnterpriseView.import_file")
        if request.method == "POST":
            g.back = back
            if not DynamicForm().validate_on_submit():
                flash(_l("The form could not be submitted; please try again."), "danger")
                return redirect(back)
            upload = request.files.get("file")
            if upload is None or not upload.filename:
                refusal = str(_l("Choose a file to import."))
            else:
                content = upload.read(svc.MAX_IMPORT_BYTES + 1)
                try:
                    result = svc.import_enterprises(
                        db.session,
                        actor=current_actor(),
                        now=clock.utcnow(),
                        filename=upload.filename,
                        content=content,
                    )
                except DomainError as error:  # refused before any row is written
                    refusal = error.message
        return self.render_template(
            "enterprises/import.html",
            title=_l("Import enterprises"),
            result=result,
            refusal=refusal,
            max_rows=svc.MAX_IMPORT_ROWS,
            appbuilder=self.appbuilder,
        )


class _RegisterView(ModelView):
    """An administrator's register of active/inactive rows (a base, never added as a view)."""

    formatters_columns = {"active": _yes_no}
    add_form_extra_fields = edit_form_extra_fields = {"active": BooleanField(_l("Active"), default=True)}
    page_size = 50


class InspectionItemView(_RegisterView):
    """The administrator's list of inspection bases (双随机 task, complaint...) and items."""

    datamodel = SQLAInterface(InspectionItem)
    list_title = _l("Inspection bases and items")
    add_title, edit_title = _l("Add inspection basis or item"), _l("Edit inspection basis or item")
    show_title = _l("Inspection basis or item details")
    label_columns = {
        "kind": _l("Kind"),
        "code": _l("Code"),
        "name": _l("Name"),
        "sort_order": _l("Order"),
        "active": _l("Active"),
    }
    list_columns = ["kind", "code", "name", "sort_order", "active"]
    add_columns = edit_columns = show_columns = ["kind", "code", "name", "sort_order", "active"]
    search_columns = ["code", "name"]  # a filter on kind would offer the stored (English) values
    formatters_columns = {
        **_RegisterView.formatters_columns,
        "kind": lambda v: gettext(BASIS_LABELS[BasisKind(v)]) if v else "",
    }
    add_form_extra_fields = edit_form_extra_fields = {
        **_RegisterView.add_form_extra_fields,
        "kind": enum_select(BasisKind, _l("Kind"), blank=False),
    }
    search_form_extra_fields = {"kind": enum_select(BasisKind, _l("Kind"), blank=False)}
    base_order = ("sort_order", "asc")


class EnforcementOfficerView(_RegisterView):
    """Law-enforcement officers: name, certificate number, unit, linked staff account."""

    datamodel = SQLAInterface(EnforcementOfficer)
    list_title = _l("Enforcement officers")
    add_title, edit_title = _l("Add enforcement officer"), _l("Edit enforcement officer")
    show_title = _l("Enforcement officer details")
    label_columns = {
        "name": _l("Name"),
        "certificate_no": _l("Law-enforcement certificate number"),
        "department": _l("Unit"),
        "user": _l("Staff account"),
        "active": _l("Active"),
    }
    list_columns = ["name", "certificate_no", "department", "user", "active"]
    add_columns = edit_columns = show_columns = ["name", "certificate_no", "department", "user", "active"]
    search_columns = ["name", "certificate_no", "department"]
    description_columns = {
        "user": _l("The staff account (role Inspector) the officer registers inspections with; optional."),
    }
    validators_columns = {"certificate_no": [lambda form, field: _check_certificate(form, field)]}
    base_order = ("name", "asc")

    def _strip(self, item):
        item.name = (item.name or "").strip()
        item.certificate_no = (item.certificate_no or "").strip()

    pre_add = pre_update = _strip


def _check_certificate(form, field) -> None:
    """One officer per certificate number (and one officer per staff account)."""
    number = (field.data or "").strip()
    if not number:
        raise ValidationError(str(_l("Law-enforcement certificate number: required.")))
    query = db.session.query(EnforcementOfficer.id).filter(
        func.upper(EnforcementOfficer.certificate_no) == number.upper()
    )
    if query.filter(EnforcementOfficer.id != (_edited_pk() or 0)).first():
        raise ValidationError(str(_l("Another officer already has this certificate number.")))
    user = form.user.data if "user" in form else None
    if user is not None:
        taken = db.session.query(EnforcementOfficer.id).filter(EnforcementOfficer.user_id == user.id)
        if taken.filter(EnforcementOfficer.id != (_edited_pk() or 0)).first():
            raise ValidationError(str(_l("That staff account is already linked to another officer.")))
