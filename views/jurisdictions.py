"""The jurisdictions screen (province → city → county offices), the region tree every form
chooses a region from, and the scope filters of the administrator screens.

A jurisdiction's place in the tree is checked on the form itself (a refusal shows the form
again with what was typed): a unique code, document number prefix and region; the province
(the root) has no parent and every other jurisdiction has one; no jurisdiction sits under
itself or under one below it; a lower jurisdiction has a lower level and governs a region
inside its parent's. Every save recomputes the materialised paths in the same transaction
(``jurisdictions.refresh_paths``). An administrator of a city or county manages only the
jurisdictions below their own (the province's manage the whole tree).
"""

from __future__ import annotations

from flask import request
from flask_appbuilder import ModelView
from flask_appbuilder.fieldwidgets import BS3TextAreaFieldWidget, BS3TextFieldWidget, Select2Widget
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_
from sqlalchemy.exc import SQLAlchemyError
from wtforms import BooleanField, FileField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from app.enums import DeptLevel
from app.errors import DomainError
from app.extensions import db
from app.security import OwnOrBelowJurisdictionFilter
from app.services import jurisdictions, seals
from app.services.jurisdictions import (
    check_active,
    check_code,
    check_doc_prefix,
    check_placement,
    check_region,
    compose_region,
    within,
)
from models import Department, Jurisdiction
from views.common import current_actor, label
from views.forms import StrictSelectField, enum_select

# --- the region tree ---------------------------------------------------------------------------


def region_tree(session) -> list[str]:
    """Every region of the province → city → county tree: the jurisdictions' and the
    departments' regions and every region above them, in tree order."""
    regions: set[str] = set()
    rows = [r for (r,) in session.query(Jurisdiction.region)]
    rows += [r for (r,) in session.query(Department.region).distinct()]
    for region in rows:
        parts = [p for p in (region or "").split("/") if p]
        regions.update("/".join(parts[: i + 1]) for i in range(len(parts)))
    return sorted(regions)


def region_choices(outer: str | None = None, blank: bool = True) -> list[tuple[str, str]]:
    """The regions of the tree (those within ``outer`` when given), for a select."""
    options = [(r, r) for r in region_tree(db.session) if within(r, outer)]
    return ([("", "—")] if blank else []) + options


def own_jurisdiction(actor=None) -> Jurisdiction:
    """The jurisdiction of the logged-in user (an account of none is the province's)."""
    actor = actor or current_actor()
    return jurisdictions.get(db.session, actor.jurisdiction_id)


def is_root_actor(actor) -> bool:
    return own_jurisdiction(actor).parent_id is None


def intake_region_choices() -> list[tuple[str, str]]:
    """The regions a clerk files a case for: those of their own jurisdiction's region (a county
    clerk files the county's cases; the province's clerks any region of the tree)."""
    own = own_jurisdiction()
    return region_choices(None if own.parent_id is None else own.region, blank=False)


# --- scope of the administrator screens ---------------------------------------------------------


class BelowOwnJurisdictionFilter(BaseFilter):
    """Jurisdictions an administrator manages: every one for the province's, the ones under
    their own for a city's or county's (their own is managed by the office above)."""

    name = "below_own"

    def apply(self, query, value):
        actor = current_actor()
        if is_root_actor(actor):
            return query
        own = own_jurisdiction(actor)
        return query.filter(and_(jurisdictions.scope_clause(self.model.id, actor), self.model.id != own.id))


def _form_pk(form) -> int | None:
    """The id of the row being edited (None on the add form)."""
    pk = getattr(form, "_id", None)
    if pk is None:
        pk = (request.view_args or {}).get("pk")
    text = str(pk) if pk is not None else ""
    return int(text) if text.isascii() and text.isdigit() else None


def field_error(error: DomainError) -> ValidationError:
    """A refusal as a form field's message (views/templates/appbuilder/general/lib.html escapes
    it: a name or region in it is data)."""
    return ValidationError(error.message)


def _as_field_error(check):
    """Run a rule of the tree as a WTForms validator: its refusal is the field's message."""

    def validator(form, field):
        try:
            with db.session.no_autoflush:
                check(form, field)
        except DomainError as error:
            raise field_error(error) from None

    return validator


def _parent_of(form):
    return form.parent.data if hasattr(form, "parent") else None


_validate_code = _as_field_error(
    lambda form, field: check_code(db.session, field.data.strip(), _form_pk(form))
)
_validate_prefix = _as_field_error(
    lambda form, field: check_doc_prefix(db.session, field.data.strip(), _form_pk(form))
)
_validate_parent = _as_field_error(
    lambda form, field: check_placement(db.session, field.data, form.level.data, _form_pk(form))
)
_validate_active = _as_field_error(
    lambda form, field: check_active(db.session, bool(field.data), _form_pk(form))
)


def _validate_region(form, field):
    check_region(
        db.session,
        compose_region(form.region.data, form.new_place.data),
        _parent_of(form),
        _form_pk(form),
    )


def _validate_seal(form, field):
    """A seal upload is a real PNG of at most 1 MB and 2000 × 2000 pixels (app.services.seals)."""
    upload = field.data
    if not upload or not getattr(upload, "filename", ""):
        return
    data = upload.read(seals.MAX_BYTES + 1)
    upload.seek(0)
    try:
        seals.check_seal(data)
    except DomainError as error:
        raise field_error(error) from None


def _seal_state(sha256) -> str:
    """What the screen says of an office's seal (its file is named by its SHA-256)."""
    if not sha256:
        return str(_l("No seal: notices are issued without one"))
    return str(_l("Seal uploaded (SHA-256 %(sha)s…)", sha=sha256[:12]))


def _one_per_line(text) -> str:
    return "\n".join(line.strip() for line in (text or "").splitlines() if line.strip())


class CheckedSelectField(StrictSelectField):
    """A strict select with further checks of the chosen value (run even when it is empty)."""

    def __init__(self, *args, checks=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.checks = list(checks)

    def post_validate(self, form, validation_stopped):
        if self.errors:
            return
        for check in self.checks:
            check(form, self)


def _admin_region_choices() -> list[tuple[str, str]]:
    own = own_jurisdiction()
    return region_choices(None if own.parent_id is None else own.region)


class JurisdictionInterface(SQLAInterface):
    """Saves a jurisdiction and recomputes the tree's paths in one transaction."""

    def add(self, item, commit: bool = True) -> None:
        super().add(item, commit=False)
        self._place()
        super().add(item, commit=commit)  # FAB's: commits, or rolls back on a database error

    def edit(self, item, commit: bool = True) -> None:
        super().edit(item, commit=False)
        self._place()
        super().edit(item, commit=commit)

    def _place(self) -> None:
        """Flush (a new jurisdiction gets its id) and recompute the paths; a refusal leaves the
        transaction to the request, which rolls it back."""
        from views.compat import refused_save

        try:
            self.session.flush()
            jurisdictions.refresh_paths(self.session)
        except SQLAlchemyError as error:
            raise refused_save(error) from error


class JurisdictionView(ModelView):
    """The jurisdictions that run a 营商环境 office: the province, its cities and counties."""

    datamodel = JurisdictionInterface(Jurisdiction)
    # A jurisdiction that has had staff and cases is deactivated, never deleted.
    base_permissions = ["can_list", "can_show", "can_add", "can_edit"]
    base_filters = [["id", BelowOwnJurisdictionFilter, None]]
    base_order = ("path", "asc")  # tree order: each one under its parent
    page_size = 50
    list_title = _l("Jurisdictions")
    add_title, edit_title = _l("Add jurisdiction"), _l("Edit jurisdiction")
    show_title = _l("Jurisdiction details")
    list_columns = [
        "code",
        "name",
        "level",
        "parent",
        "region",
        "office_name",
        "issuing_authority",
        "doc_prefix",
        "active",
    ]
    show_columns = [*list_columns, "contact_name", "contact_phone", "notice_copy_to", "seal_sha256"]
    add_columns = edit_columns = [
        "code",
        "name",
        "level",
        "parent",
        "region",
        "new_place",
        "office_name",
        "issuing_authority",
        "doc_prefix",
        "contact_name",
        "contact_phone",
        "notice_copy_to",
        "seal",
        "remove_seal",
        "active",
    ]
    search_columns = ["code", "name", "level", "parent", "region", "doc_prefix", "active"]
    label_columns = {
        "code": _l("Code"),
        "name": _l("Name"),
        "level": _l("Level"),
        "parent": _l("Parent jurisdiction"),
        "region": _l("Region"),
        "new_place": _l("New place under this region"),
        "office_name": _l("Office"),
        "issuing_authority": _l("Issuing authority"),
        "doc_prefix": _l("Document number prefix"),
        "active": _l("Active"),
        "path": _l("Place in the tree"),
        "contact_name": _l("Contact person"),
        "contact_phone": _l("Contact phone"),
        "notice_copy_to": _l("Notices copied to"),
        "seal": _l("Seal (PNG)"),
        "remove_seal": _l("Remove the seal"),
        "seal_sha256": _l("Seal"),
    }
    description_columns = {
        "parent": _l("The office above it: a case it refers up goes there."),
        "office_name": _l("The 营商环境 office that runs the platform here."),
    }
    formatters_columns = {"level": label, "seal_sha256": _seal_state}
    validators_columns = {"parent": [_validate_parent]}
    add_form_query_rel_fields = edit_form_query_rel_fields = {
        "parent": [["id", OwnOrBelowJurisdictionFilter, None]]
    }
    search_form_query_rel_fields = {"parent": [["id", OwnOrBelowJurisdictionFilter, None]]}
    add_form_extra_fields = edit_form_extra_fields = {
        "code": StringField(
            _l("Code"),
            validators=[DataRequired(), Length(max=32), _validate_code],
            widget=BS3TextFieldWidget(),
        ),
        "level": enum_select(DeptLevel, _l("Level"), blank=False),
        "region": CheckedSelectField(
            _l("Region"),
            description=_l("A case of this region, or of a place under it, belongs to this jurisdiction."),
            choices_factory=lambda: _admin_region_choices(),
            widget=Select2Widget(),
            checks=[_as_field_error(_validate_region)],
        ),
        "new_place": StringField(
            _l("New place under this region"),
            description=_l(
                "Only for a place not in the list yet: its name (e.g. 南湖县), "
                "added under the region chosen above."
            ),
            validators=[Optional(), Length(max=30)],
            widget=BS3TextFieldWidget(),
        ),
        "issuing_authority": StringField(
            _l("Issuing authority"),
            description=_l("The name its documents are issued under; empty: the office's name."),
            validators=[Optional(), Length(max=100)],
            widget=BS3TextFieldWidget(),
        ),
        "doc_prefix": StringField(
            _l("Document number prefix"),
            description=_l("Its document numbers read, e.g., 石营商督〔2026〕12号 for the prefix 石营商督."),
            validators=[DataRequired(), Length(max=20), _validate_prefix],
            widget=BS3TextFieldWidget(),
        ),
        "contact_name": StringField(
            _l("Contact person"),
            description=_l("Printed on its notices: （联系人：…，电话：…）."),
            validators=[Optional(), Length(max=40)],
            widget=BS3TextFieldWidget(),
        ),
        "contact_phone": StringField(
            _l("Contact phone"), validators=[Optional(), Length(max=40)], widget=BS3TextFieldWidget()
        ),
        "notice_copy_to": TextAreaField(
            _l("Notices copied to"),
            description=_l("The offices its notices are copied to (抄送), one per line."),
            validators=[Optional(), Length(max=2000)],
            widget=BS3TextAreaFieldWidget(),
        ),
        "seal": FileField(
            _l("Seal (PNG)"),
            description=_l(
                "A PNG image of at most 1 MB and 2000 × 2000 pixels, with a transparent background "
                "(recommended). Notices issued from now on carry it; those issued before keep theirs."
            ),
            validators=[_validate_seal],
        ),
        "remove_seal": BooleanField(
            _l("Remove the seal"),
            description=_l("Notices issued from now on carry no seal; those issued before keep theirs."),
        ),
        # FAB makes a NOT NULL boolean "required", so a jurisdiction could never be deactivated
        "active": BooleanField(_l("Active"), default=True, validators=[_validate_active]),
    }
    search_form_extra_fields = {"level": enum_select(DeptLevel, _l("Level"), blank=False)}

    def pre_add(self, item):
        item.region = compose_region(item.region, getattr(item, "new_place", None))
        item.code, item.doc_prefix = item.code.strip(), item.doc_prefix.strip()
        item.issuing_authority = (item.issuing_authority or "").strip()
        item.path = item.path or ""
        item.contact_name = (item.contact_name or "").strip()
        item.contact_phone = (item.contact_phone or "").strip()
        item.notice_copy_to = _one_per_line(item.notice_copy_to)
        upload = getattr(item, "seal", None)
        if upload is not None and getattr(upload, "filename", ""):
            upload.seek(0)
            item.seal_sha256 = seals.store_seal(upload.read(seals.MAX_BYTES + 1))
        elif getattr(item, "remove_seal", False):
            item.seal_sha256 = None

    pre_update = pre_add
