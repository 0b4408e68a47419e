"""Connected systems' callbacks: administrators register and disable them (the signing secret
is shown once, right after the subscription is made)."""

from __future__ import annotations

from flask import g, make_response
from flask_appbuilder import ModelView
from flask_appbuilder.fields import QuerySelectField
from flask_appbuilder.fieldwidgets import Select2Widget
from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from wtforms import BooleanField

from app import clock
from app.errors import DomainError
from app.extensions import db
from app.services import callbacks
from models import CallbackSubscription
from views.common import local_time
from views.jurisdictions import field_error


def _check_url(form, field) -> None:
    """The URL rules (https, no internal address) as a form validator: the form is shown again."""
    try:
        field.data = callbacks.check_url(field.data)
    except DomainError as error:
        raise field_error(error) from None


def _check_new_address(form, field) -> None:
    """On the add form (the user is chosen there): one subscription per system and address."""
    user = getattr(form, "user", None)
    if user is None:
        return
    try:
        callbacks.check_new_address(db.session, user.data, field.data)
    except DomainError as error:
        raise field_error(error) from None


def _check_user(form, field) -> None:
    try:
        callbacks.check_subscriber(field.data)
    except DomainError as error:
        raise field_error(error) from None


class CallbackSubscriptionView(ModelView):
    """Where each connected system is told about the cases it filed (no delete: disable it)."""

    datamodel = SQLAInterface(CallbackSubscription)
    route_base = "/callbacks"
    base_permissions = ["can_list", "can_show", "can_add", "can_edit"]
    list_title = _l("Callbacks to connected systems")
    show_title = _l("Callback details")
    add_title, edit_title = _l("Register a callback"), _l("Edit callback")
    list_columns = ["user", "url", "active", "created_at"]
    show_columns = ["user", "url", "active", "created_at"]  # never the secret
    add_columns = ["user", "url", "active"]
    edit_columns = ["url", "active"]  # another user would receive this system's cases
    search_columns = ["user", "url", "active"]
    base_order = ("id", "desc")
    label_columns = {
        "user": _l("Connected system (its API user)"),
        "url": _l("Callback URL"),
        "active": _l("Active"),
        "created_at": _l("Created at"),
    }
    description_columns = {
        "url": _l(
            "An https address on the public internet; the cases this user filed are sent there "
            "as signed JSON (see the README for the receiver's check)."
        )
    }
    formatters_columns = {"created_at": local_time}
    validators_columns = {"url": [_check_url, _check_new_address], "user": [_check_user]}
    # FAB makes a NOT NULL boolean "required", so a callback could never be disabled
    edit_form_extra_fields = {"active": BooleanField(_l("Active"), default=True)}
    add_form_extra_fields = {
        **edit_form_extra_fields,
        # only the connected systems' users are offered (the validator still checks the choice)
        "user": QuerySelectField(
            _l("Connected system (its API user)"),
            query_func=lambda: callbacks.connected_system_users(db.session),
            get_pk_func=lambda user: user.id,
            allow_blank=True,
            widget=Select2Widget(),
            validators=[_check_user],
        ),
    }

    def pre_add(self, item):
        g.callback_secret = callbacks.prepare_subscription(item, now=clock.utcnow())

    def post_add(self, item):
        """Saved: the secret is kept for this request's answer only (never flashed: a flash
        rides in the session cookie, which is signed, not encrypted)."""
        secret = g.pop("callback_secret", None)
        if secret:
            g.callback_secret_saved = (item, secret)

    def post_add_redirect(self):
        """The page after a new subscription shows its secret, once: rendered as the answer
        to the POST (no redirect, nothing kept), never cached. A refused save redirects as
        before."""
        saved = g.pop("callback_secret_saved", None)
        if saved is None:
            return super().post_add_redirect()
        item, secret = saved
        page = self.render_template(
            "callbacks/secret.html",
            title=self.add_title,
            item=item,
            secret=Markup('<code id="callback-secret">{}</code>').format(secret),
            back=self.get_redirect(),
        )
        response = make_response(page)
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
        return response


def register(appbuilder) -> None:
    """Add the screen under Security (administrators only: no role but Admin is given it)."""
    appbuilder.add_view(
        CallbackSubscriptionView,
        "Callbacks to connected systems",
        label=_l("Callbacks to connected systems"),
        icon="fa-plug",
        category="Security",
    )
