"""Security manager (staff users with departments) and the role → permission table."""

from __future__ import annotations

import re

from flask import current_app
from flask_appbuilder import expose
from flask_appbuilder.actions import action
from flask_appbuilder.fields import QuerySelectMultipleField
from flask_appbuilder.fieldwidgets import Select2ManyWidget
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.security.decorators import has_access
from flask_appbuilder.security.sqla.manager import SecurityManager as BaseSecurityManager
from flask_appbuilder.security.sqla.models import assoc_permissionview_role
from flask_appbuilder.security.views import (
    RoleModelView,
    UserDBModelView,
    UserGroupModelView,
    UserStatsChartView,
)
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, text
from wtforms.validators import DataRequired

from app import accounts
from app.workflow import ROLE_LABELS, Role
from models import Staff


def role_label(role) -> str:
    """A role as people read it (the stored name stays the identifier FAB and sync_roles use)."""
    return gettext(ROLE_LABELS.get(role.name, role.name))


def role_labels(roles) -> str:
    return "、".join(role_label(r) for r in roles or ())


def _roles_field(validators=()):
    """FAB's role select, showing translated role names."""

    def roles():
        sm = current_app.appbuilder.sm
        return sm.session.query(sm.role_model).order_by(sm.role_model.id)

    return QuerySelectMultipleField(
        _l("Role"),
        query_func=roles,
        get_pk_func=lambda r: r.id,
        get_label=role_label,
        widget=Select2ManyWidget(),
        validators=list(validators),
    )


def _acting_user():
    """The logged-in user as a service actor (anonymous: no roles, the province's scope)."""
    from app.services.actor import Actor

    user = current_app.appbuilder.sm.current_user
    if user is None or not getattr(user, "is_authenticated", False):
        return Actor(None, "anonymous", frozenset())
    return Actor.from_user(user)


def own_jurisdiction():
    """The logged-in user's jurisdiction (an account of none works for the province)."""
    from app.services import jurisdictions

    return jurisdictions.get(current_app.appbuilder.sm.session, _acting_user().jurisdiction_id)


class OwnOrBelowJurisdictionFilter(BaseFilter):
    """Jurisdictions the logged-in user's office may choose: its own and every one under it."""

    name = "own_or_below"

    def apply(self, query, value):
        from app.services import jurisdictions

        return query.filter(jurisdictions.scope_clause(self.model.id, _acting_user()))


class InJurisdictionScopeFilter(BaseFilter):
    """Rows (staff accounts, departments) whose ``jurisdiction_id`` is the logged-in user's
    jurisdiction or one under it (rows of none belong to the province)."""

    name = "jurisdiction_scope"

    def apply(self, query, value):
        from app.services import jurisdictions

        return query.filter(jurisdictions.scope_clause(self.model.jurisdiction_id, _acting_user()))


class StaffUserView(UserDBModelView):
    """The user screens, with the department each user works for (role changes are audited
    by app.services.audit, for the screens and the API alike)."""

    # FAB's default "roles or groups" validator reads a groups field this form does not have.
    validators_columns = {
        "roles": [DataRequired()],
        "jurisdiction": [lambda form, field: _jurisdiction_chosen(field)],
        "department": [lambda form, field: _department_in_jurisdiction(form, field)],
    }

    list_columns = ["first_name", "last_name", "username", "jurisdiction", "department", "active", "roles"]
    add_columns = [
        "first_name",
        "last_name",
        "username",
        "active",
        "email",
        "jurisdiction",
        "department",
        "roles",
        "password",
        "conf_password",
    ]
    edit_columns = [
        "first_name",
        "last_name",
        "username",
        "active",
        "email",
        "jurisdiction",
        "department",
        "roles",
    ]
    search_columns = ["first_name", "last_name", "username", "email", "jurisdiction", "department", "roles"]
    show_fieldsets = [
        (
            UserDBModelView.show_fieldsets[0][0],
            {"fields": ["username", "active", "roles", "jurisdiction", "department", "login_count"]},
        ),
        *UserDBModelView.show_fieldsets[1:],
    ]
    label_columns = {
        **UserDBModelView.label_columns,
        "department": _l("Department"),
        "jurisdiction": _l("Jurisdiction"),
    }
    description_columns = {
        **UserDBModelView.description_columns,
        "jurisdiction": _l(
            "The office the account works for: it sees that jurisdiction's cases and those below it."
        ),
    }
    # An administrator of a city or county manages the accounts of its jurisdiction and of
    # those under it (the province's manage every account): list, pages and choices alike.
    base_filters = [["id", InJurisdictionScopeFilter, None]]
    add_form_query_rel_fields = edit_form_query_rel_fields = {
        "jurisdiction": [["id", OwnOrBelowJurisdictionFilter, None]],
        "department": [["id", InJurisdictionScopeFilter, None]],
    }
    search_form_query_rel_fields = {"jurisdiction": [["id", OwnOrBelowJurisdictionFilter, None]]}
    formatters_columns = {
        "roles": role_labels,
        "groups": lambda groups: "、".join(str(g.label or g.name) for g in groups or ()),
    }
    add_form_extra_fields = {
        **UserDBModelView.add_form_extra_fields,
        "roles": _roles_field([DataRequired()]),
    }
    edit_form_extra_fields = {"roles": _roles_field([DataRequired()])}
    search_form_extra_fields = {"roles": _roles_field()}

    def _get_add_widget(self, form, exclude_cols=None, widgets=None):
        """The add form starts in the administrator's own jurisdiction."""
        from flask import request

        if request.method == "GET" and form.jurisdiction.data is None:
            form.jurisdiction.data = own_jurisdiction()
        return super()._get_add_widget(form, exclude_cols=exclude_cols, widgets=widgets)

    def process_form(self, form, is_created):
        """A form that does not send the jurisdiction (an older client) leaves it as it is."""
        from flask import request

        if "jurisdiction" not in request.form:
            del form["jurisdiction"]

    def pre_add(self, item):
        """An account added without a jurisdiction works for its department's, else for the
        administrator's own."""
        with self.datamodel.session.no_autoflush:  # the new account is not in the session yet
            if item.jurisdiction is None:
                if item.department is not None and item.department.jurisdiction is not None:
                    item.jurisdiction = item.department.jurisdiction
                else:
                    item.jurisdiction = own_jurisdiction()
        super().pre_add(item)

    @expose("/show/<pk>", methods=["GET"])
    @has_access
    def show(self, pk):
        """FAB's user page, with the reset of the second factor beside the password reset."""
        from flask import abort

        names = ("resetpasswords", "resettotp")
        actions = {name: self.actions.get(name) for name in names if name in self.actions}
        item = self.datamodel.get(pk, self._base_filters)
        if not item:
            abort(404)
        widgets = self._get_show_widget(pk, item, actions=actions)
        self.update_redirect()
        return self.render_template(
            self.show_template,
            pk=pk,
            title=self.show_title,
            widgets=widgets,
            appbuilder=self.appbuilder,
            related_views=self._related_views,
        )

    @action("resettotp", _l("Reset two-factor login"), "", "fa-mobile", multiple=False)
    def resettotp(self, item):
        """Opens the confirmation (the reset itself is a POST with a CSRF token)."""
        from flask import redirect, url_for

        return redirect(url_for("TotpResetView.confirm", pk=item.id))


# What an administrator of a city or county may not open: the roles, groups and permissions
# are the whole installation's, and the accounts REST API knows no jurisdiction.
ROOT_ONLY_VIEWS = frozenset(
    {
        "StaffRoleView",
        "StaffGroupView",
        "StaffStatsChartView",
        "PermissionModelView",
        "ViewMenuModelView",
        "PermissionViewModelView",
        "UserApi",
        "RoleApi",
        "GroupApi",
        "PermissionApi",
        "ViewMenuApi",
        "PermissionViewMenuApi",
    }
)
# FAB's account pages that name a user by id beside the list (whose filter they do not apply).
_NAMED_USER = {
    "StaffUserView.action": lambda r: [(r.view_args or {}).get("pk")],
    "StaffUserView.action_post": lambda r: r.form.getlist("rowid"),
    "TotpResetView.confirm": lambda r: [(r.view_args or {}).get("pk")],
    "ResetPasswordView.this_form_get": lambda r: [r.args.get("pk")],
    "ResetPasswordView.this_form_post": lambda r: [r.args.get("pk")],
}


# What an administrator of a city or county manages beside the office's own work: the accounts
# and the jurisdictions under its own (each view limits its rows to them).
SCOPED_ADMIN_VIEWS = frozenset({"JurisdictionView", "StaffUserView", "ResetPasswordView", "TotpResetView"})


def _office_may(endpoint: str) -> bool:
    """Whether some office role other than the administrator holds the permission behind an
    endpoint (the office's own work, scoped by the case rules), or the endpoint needs none."""
    view_name, _, method = endpoint.partition(".")
    view = next((v for v in current_app.appbuilder.baseviews if v.endpoint == view_name), None)
    if view is None:
        return True  # not an AppBuilder view (static files …)
    if method in ("action", "action_post"):
        return False  # list actions: the administrator's bulk tools
    function = getattr(view, method, None)
    name = (getattr(view, "method_permission_name", None) or {}).get(method) or getattr(
        function, "_permission_name", None
    )
    if not name:
        return True  # no permission asked (public pages, login …)
    permission, resource = f"can_{name}", view.class_permission_name
    return any(
        re.fullmatch(p, permission) and re.fullmatch(v, resource)
        for role, patterns in ROLE_PERMISSIONS.items()
        if role != Role.ADMIN
        for p, v in patterns
    )


def guard_account_scope():
    """An administrator of a city or county manages only the accounts and jurisdictions of its
    jurisdiction and of those under it: the pages naming another account answer 404. The
    installation's configuration (roles and permissions, reference data, rules and their
    per-jurisdiction values, holidays, settings, the outbox and queues, the accounts API) is the
    province's: 403. Beside that it does the office's work, whose rules scope it. The
    province's administrators are not limited."""
    from flask import abort, request

    from app.services import jurisdictions

    endpoint = request.endpoint or ""
    if request.path.startswith("/api/"):  # a token's user is known once the token is read
        if current_app.appbuilder.sm.extract_api_key_from_request() is not None:
            return None  # a connected system's key, not a JWT (which would not verify either)
        from flask_jwt_extended import verify_jwt_in_request

        try:
            verify_jwt_in_request(optional=True)
        except Exception:  # noqa: BLE001 - a bad token: FAB's own check answers 401
            return None
    user = current_app.appbuilder.sm.current_user
    if user is None or not any(r.name == Role.ADMIN.value for r in getattr(user, "roles", None) or ()):
        return None  # FAB's permissions decide for everyone but administrators
    actor = _acting_user()
    if own_jurisdiction().parent_id is None:
        return None  # the province's administrators are not limited
    view_name = endpoint.partition(".")[0]
    if view_name in ROOT_ONLY_VIEWS or (view_name not in SCOPED_ADMIN_VIEWS and not _office_may(endpoint)):
        abort(403)
    if endpoint not in _NAMED_USER:
        return None
    session = current_app.appbuilder.sm.session
    for pk in _NAMED_USER[endpoint](request):
        text = str(pk or "")
        user = session.get(Staff, int(text)) if text.isascii() and text.isdigit() and len(text) < 10 else None
        if user is None or not jurisdictions.is_within(user.jurisdiction, actor.jurisdiction_path):
            abort(404)
    return None


def _jurisdiction_chosen(field) -> None:
    """Every staff account works for one jurisdiction (a blank choice is refused)."""
    from wtforms.validators import StopValidation

    if field.raw_data and field.data is None:
        raise StopValidation(gettext("Choose the jurisdiction the account works for."))


def _department_in_jurisdiction(form, field) -> None:
    """A staff account's department belongs to the account's jurisdiction (a department of
    none belongs to the province)."""
    from wtforms.validators import ValidationError

    from app.services import jurisdictions

    department = field.data
    jurisdiction = form.jurisdiction.data if "jurisdiction" in form else None
    if department is None or jurisdiction is None:
        return
    session = current_app.appbuilder.sm.session
    if (department.jurisdiction_id or jurisdictions.root_id(session)) != jurisdiction.id:
        # the form template escapes it (views/templates/appbuilder/general/lib.html)
        raise ValidationError(
            gettext(
                "%(department)s belongs to another jurisdiction than %(jurisdiction)s.",
                department=department.name,
                jurisdiction=jurisdiction.name,
            )
        )


class StaffGroupView(UserGroupModelView):
    """FAB's user groups, with translated column names and role names."""

    class_permission_name = "UserGroupModelView"  # FAB's own permission names

    label_columns = {
        "name": _l("Name"),
        "label": _l("Label"),
        "description": _l("Description"),
        "users": _l("Users"),
        "roles": _l("Role"),
    }
    formatters_columns = {"roles": role_labels}
    add_form_extra_fields = edit_form_extra_fields = {"roles": _roles_field()}


class StaffRoleView(RoleModelView):
    """FAB's roles, with every searchable column labelled."""

    class_permission_name = "RoleModelView"  # FAB's own permission names
    label_columns = {**RoleModelView.label_columns, "user": _l("Users"), "groups": _l("Groups")}


class StaffStatsChartView(UserStatsChartView):
    """FAB's user statistics, with translated column and chart names."""

    route_base = "/userstatschartview"  # FAB's own address and permission names
    class_permission_name = "UserStatsChartView"

    label_columns = {
        **UserDBModelView.label_columns,
        "department": _l("Department"),
        "login_count": _l("Login count"),
        "fail_login_count": _l("Failed login count"),
    }
    definitions = [
        {"label": _l("Login count"), "group": "username", "series": ["login_count"]},
        {"label": _l("Failed login count"), "group": "username", "series": ["fail_login_count"]},
    ]


# The versions of the accounts and of the permissions (models/migrations, fb0a1c2d3e4f): triggers
# give a column a new random value on any change of these tables, whatever made it. (Scalar
# subqueries: a missing row reads as NULLs, and nothing is kept under them.)
ACCOUNT_TABLES = (
    "ab_api_key",
    "ab_user",
    "ab_user_role",
    "ab_user_group",
    "ab_group",
    "ab_group_role",
    "ab_role",
    "department",
    "jurisdiction",
)
PERMISSION_TABLES = ("ab_permission_view_role", "ab_permission_view", "ab_permission", "ab_view_menu")
_SECURITY_VERSIONS = text(
    "SELECT (SELECT accounts FROM security_version WHERE id = 1), "
    "(SELECT permissions FROM security_version WHERE id = 1)"
)


class SecurityManager(BaseSecurityManager):
    """Staff users, and every login attempt of a known user written to the audit log."""

    user_model = Staff

    VERIFIED_KEY_SECONDS = 300

    def __init__(self, appbuilder):
        # Kept per application (each has its own database), for this process:
        # lookup hash -> (slow key hash, when it was verified): the deliberately slow scrypt
        # check runs once per key and process every few minutes, not on every request of a
        # connected system.
        self._verified_keys: dict[str, tuple[str, float]] = {}
        # ("key", lookup hash) or ("user", id of a JWT's account) -> (accounts version, (the key,)
        # the account with roles, groups, department and office), detached: read once while no
        # key, account, role, group, department or office changes anywhere (any change gives
        # ``security_version.accounts`` a new value: migration fb0a1c2d3e4f), so a revoked key,
        # a deactivated account or a role taken away is refused on the very next request.
        self._principals: dict[str, tuple] = {}
        # (permissions version, roles) -> (view, permission) names.
        self._granted: dict[tuple, set[tuple[str, str]]] = {}
        super().__init__(appbuilder)

    def _security_versions(self) -> tuple:
        """The versions of the accounts and of the permissions (None, None without their row),
        read once per request: one query of one row, renewed by triggers on any change."""
        from flask import g, has_request_context

        if has_request_context() and "security_versions" in g:
            return g.security_versions
        versions = tuple(self.session.execute(_SECURITY_VERSIONS).one())
        if has_request_context():
            g.security_versions = versions
        return versions

    def _links_version(self) -> tuple:
        """Changes whenever a permission is given to or taken from a role, so every process
        sees an edit on its next request. Without the version row (deleted by hand), a
        fingerprint of the role-permission links (each link row gets a new id)."""
        from flask import g, has_request_context

        permissions = self._security_versions()[1]
        if permissions is not None:
            return ("version", permissions)
        if has_request_context() and "permission_links" in g:
            return g.permission_links
        link = assoc_permissionview_role
        version = tuple(
            self.session.query(
                func.count(), func.coalesce(func.sum(link.c.id), 0), func.coalesce(func.max(link.c.id), 0)
            ).one()
        )
        if has_request_context():
            g.permission_links = version
        return version

    def _permission_names(self, cache_key, role_filter) -> set[tuple[str, str]]:
        """(view, permission) names granted to the roles matching ``role_filter``. FAB asks once
        per menu item and button and loads each permission's names one by one; here one cheap
        query per request checks that the role-permission links have not changed, and the
        names are read again only when they have."""
        key = (self._links_version(), cache_key)
        if key not in self._granted:
            if len(self._granted) > 256:
                self._granted.clear()
            pv, perm, menu = self.permissionview_model, self.permission_model, self.viewmenu_model
            role = self.role_model
            self._granted[key] = set(
                self.session.query(menu.name, perm.name)
                .select_from(pv)
                .join(perm, pv.permission_id == perm.id)
                .join(menu, pv.view_menu_id == menu.id)
                .join(assoc_permissionview_role, assoc_permissionview_role.c.permission_view_id == pv.id)
                .join(role, role.id == assoc_permissionview_role.c.role_id)
                .filter(role_filter)
                .distinct()
            )
        return self._granted[key]

    def exist_permission_on_roles(self, view_name: str, permission_name: str, role_ids: list[int]) -> bool:
        key = tuple(sorted(role_ids))
        granted = self._permission_names(key, self.role_model.id.in_(key))
        return (view_name, permission_name) in granted

    def is_item_public(self, permission_name, view_name) -> bool:
        granted = self._permission_names("public", self.role_model.name == self.auth_role_public)
        return (view_name, permission_name) in granted

    @staticmethod
    def _account_options() -> tuple:
        """What every request reads of an account (roles, groups, department, office), loaded
        with it: FAB reads them in four queries."""
        from flask_appbuilder.security.sqla.models import Group
        from sqlalchemy.orm import joinedload

        return (
            joinedload(Staff.roles),
            joinedload(Staff.groups).selectinload(Group.roles),
            joinedload(Staff.department),
            joinedload(Staff.jurisdiction),
        )

    def _api_key_with_user(self, lookup: str, session=None) -> tuple:
        """The key and its account (the platform's user model, not FAB's base) with what every
        request of a connected system reads of it, in one query."""
        from sqlalchemy import select

        key_model = self.api_key_model
        row = (
            (session or self.session)
            .execute(
                select(key_model, Staff)
                .join(Staff, Staff.id == key_model.user_id)
                .where(key_model.lookup_hash == lookup)
                .options(*self._account_options())
            )
            .unique()
            .one_or_none()
        )
        return tuple(row) if row is not None else (None, None)

    def _kept(self, cache_key: tuple, load) -> tuple:
        """What ``load(session)`` reads (a tuple ending with an account, or with None), kept for
        this process under the accounts' version; the account merged into this request's
        session (no SQL while the version is the one it was read under)."""
        from sqlalchemy.orm import Session

        accounts = self._security_versions()[0]
        cached = self._principals.get(cache_key) if accounts is not None else None
        if cached is None or cached[0] != accounts:
            # Read on this request's connection (its transaction sees what it sees) by a session
            # of its own, closed at once: the objects it leaves are detached and fully loaded,
            # never expired by this request's commit. (Read after the version: what is kept
            # under a version is never older than it.)
            with Session(bind=self.session.connection()) as own:
                found = tuple(load(own))
            if found[-1] is None:
                return found
            cached = (accounts, found)
            if accounts is not None:
                if len(self._principals) > 512:
                    self._principals.clear()
                self._principals[cache_key] = cached
        found = cached[1]
        return (*found[:-1], self.session.merge(found[-1], load=False))

    def _principal(self, lookup: str) -> tuple:
        """The key of ``lookup`` and its account (kept: see _kept)."""
        return self._kept(("key", lookup), lambda own: self._api_key_with_user(lookup, own))

    def _account(self, user_id: int):
        """The account of ``user_id`` with its roles, groups, department and office (kept)."""
        from sqlalchemy import select

        def load(own):
            query = select(Staff).where(Staff.id == user_id).options(*self._account_options())
            return (own.execute(query).unique().scalar_one_or_none(),)

        return self._kept(("user", user_id), load)[0]

    def validate_api_key(self, api_key_string: str):
        import time

        from flask import g
        from werkzeug.security import check_password_hash

        lookup = self._compute_lookup_hash(api_key_string)
        api_key, user = self._principal(lookup)
        if api_key is None or not api_key.is_active:  # revoked, deactivated or expired
            return None
        cached = self._verified_keys.get(lookup)
        now = time.monotonic()
        if not (cached and cached[0] == api_key.key_hash and now - cached[1] < self.VERIFIED_KEY_SECONDS):
            if not check_password_hash(api_key.key_hash, api_key_string):
                return None
            if len(self._verified_keys) > 256:
                self._verified_keys.clear()
            self._verified_keys[lookup] = (api_key.key_hash, now)
        if not user or not user.is_active:
            return None
        from app.accounts import needs_second_factor

        if needs_second_factor(user):
            # API keys are for connected systems; an account that logs in only with a second
            # factor (it can reveal identity or pay money) cannot act through a key without one.
            return None
        g.user, g._api_key_user = user, True
        return user

    def update_user_auth_stat(self, user, success=True):
        from app import clock
        from app.services import audit
        from app.services.actor import Actor

        audit.record(
            self.session,
            "login" if success else "login_failed",
            actor=Actor.from_user(user),
            now=clock.utcnow(),
            subject=user.username,
        )
        if success:
            user.locked_until = None
            return super().update_user_auth_stat(user, True)
        accounts.count_failure(self.session, user)  # atomic in the database; may lock
        self.on_user_login_failed(user)
        return None

    # --- staff account protection (app/accounts.py) ---------------------------------------------

    def verify_password(self, username, password):
        """The first factor: the user whose password this is, or None. A wrong password counts
        towards the lockout; a locked account refuses even the right one (in the same time as
        a wrong one, and with the same answer as an unknown user name)."""
        from flask_appbuilder.security.utils import is_null_password
        from werkzeug.security import check_password_hash

        from app import clock
        from app.services import audit
        from app.services.actor import Actor

        if not isinstance(username, str) or not username or not isinstance(password, str):
            return None
        if is_null_password(password):
            return None
        fake = current_app.config["AUTH_DB_FAKE_PASSWORD_HASH_CHECK"]
        user = self.find_user(username=username) or self.find_user(email=username)
        if user is None or not user.is_active or not user.password:
            check_password_hash(fake, "password")  # the same time as a real check
            return None
        if accounts.locked_for(user):
            check_password_hash(fake, "password")
            actor, now = Actor.from_user(user), clock.utcnow()
            audit.record(self.session, "login_locked", actor=actor, now=now, subject=user.username)
            return None
        if check_password_hash(user.password, password):
            return user
        self.update_user_auth_stat(user, False)
        return None

    def auth_user_db(self, username, password):
        """A password-only login (FAB's callers): refused for accounts that need a code."""
        user = self.verify_password(username, password)
        if user is None or accounts.needs_second_factor(user):
            return None
        self.update_user_auth_stat(user, True)
        return user

    def second_factor_failed(self, user) -> None:
        self.update_user_auth_stat(user, False)

    def load_user(self, pk):
        """The user of a session cookie, if the session is still current (app/accounts.py)."""
        user = super().load_user(pk)
        if user is None or not accounts.session_is_current(user):
            return None
        return user

    def load_user_jwt(self, _jwt_header, jwt_data):
        from flask import g

        identity = jwt_data.get("sub")
        # (ASCII digits only: "²".isdigit() is true; ids are 32-bit)
        digits = str(identity)
        user = (
            self._account(int(digits)) if digits.isascii() and digits.isdigit() and len(digits) < 10 else None
        )
        if user is None or not user.is_active or not accounts.token_is_current(user, jwt_data):
            return None
        g.user = user
        return user

    def create_jwt_manager(self, app):
        jwt_manager = super().create_jwt_manager(app)
        jwt_manager.additional_claims_loader(accounts.token_claims)
        return jwt_manager

    def add_user(
        self, username, first_name, last_name, email, role=None, password="", hashed_password="", **kw
    ):
        """Create a user; a plain password must pass the policy (FAB's CLI, our CLI)."""
        if password and not hashed_password:
            inputs = (first_name, last_name, email)
            refused = accounts.policy_messages(password, username=username, inputs=inputs)
            if refused:
                raise accounts.PasswordRefused(" ".join(refused))
        kw.update(password=password, hashed_password=hashed_password)
        return super().add_user(username, first_name, last_name, email, role, **kw)

    def reset_password(self, userid, password):
        """Set a password (the reset screens, FAB's CLI): it must pass the policy."""
        refused = accounts.policy_messages(password, self.get_user_by_id(userid))
        if refused:
            raise accounts.PasswordRefused(" ".join(refused))
        return super().reset_password(userid, password)

    def register_views(self):
        super().register_views()
        if current_app.config.get("FAB_ADD_SECURITY_VIEWS", True):
            self.appbuilder.add_view_no_menu(accounts.TotpResetView())
        current_app.before_request(guard_account_scope)

    authdbview = accounts.AuthDBView
    resetmypasswordview = accounts.ResetMyPasswordView
    security_api = accounts.SecurityApi
    userdbmodelview = StaffUserView
    groupmodelview = StaffGroupView
    rolemodelview = StaffRoleView
    userstatschartview = StaffStatsChartView


# Which FAB permissions each role holds, as (permission regex, view-menu regex) pairs.
# Case screens are read-only lists; every status change goes through CaseActionView → services.
_CASE_READ = [
    ("can_list|can_show", "CaseView"),
    ("can_get|can_info", "CaseApi|CaseEventApi"),
    ("can_file|can_message|can_link", "CaseActionView"),
    ("can_act", "CaseActionView|CaseApi"),
    ("menu_access", "Cases|All cases"),
]
_REFERENCE_READ = [
    ("can_get|can_info", "DepartmentApi|CategoryApi"),
    ("can_list|can_show", "InboxView"),
    ("menu_access", "Supervision|My inbox"),
]
_NOTICES = [
    ("can_list|can_show", "NoticeView"),
    ("can_pdf", "NoticeActionView"),
    ("menu_access", "Supervision notices"),
]
_SELF = [
    ("can_userinfo|resetmypassword|userinfoedit", "StaffUserView"),
    ("can_this_form_get|can_this_form_post", "ResetMyPasswordView|UserInfoEditView"),
    ("can_get", "MenuApi"),
]
_REWARDS_READ = [
    ("can_list|can_show", "RewardView"),
    ("can_totals", "RewardActionView"),
    ("can_get|can_info", "RewardApi"),
    ("menu_access", "Rewards|Reward totals"),
]
_PUBLICATION_READ = [
    ("can_list|can_show", "TypicalCaseView|ReportArchiveView"),
    ("can_index|can_data|can_drill", "DashboardView"),
    ("menu_access", "Dashboard"),
    ("can_download", "ReportActionView"),
    ("menu_access", "Publication|Typical cases|Bulletins and reports"),
]
_REPORTS_WRITE = [("can_request_report", "ReportActionView"), ("menu_access", "Generate a report")]
# Inspections (入企扫码) and early warnings, as the supervisor's office and the leaders read them.
_INSPECTIONS_READ = [
    ("can_list|can_show", "EnterpriseView|InspectionView"),
    ("can_index|can_drill|can_export", "InspectionStatsView"),
    ("menu_access", "Inspections|Enterprises|Inspection register|Inspection counts and flags"),
]
_WARNINGS_READ = [
    ("can_list|can_show", "WarningView"),
    ("menu_access", "Early warnings"),
]
ROLE_PERMISSIONS: dict[Role, list[tuple[str, str]]] = {
    Role.FINANCE: _REWARDS_READ
    + _SELF
    + [
        ("can_act", "RewardActionView|RewardApi"),
        ("can_list|can_show", "InboxView"),
        ("menu_access", "Supervision|My inbox"),
    ],
    Role.CLERK: _CASE_READ
    + _REFERENCE_READ
    + _SELF
    + [
        ("can_new", "CaseIntakeView"),
        ("can_post", "CaseApi"),
        ("can_list|can_show", "IntakeQueueView"),
        ("menu_access", "New case|Intake queue"),
        # Clerks (12345 agents) make revisit calls too (002), worked from the same queue.
        ("can_list|can_show", "RevisitTaskView"),
        ("menu_access", "Revisit calls"),
    ],
    Role.DISPATCHER: _CASE_READ
    + _REFERENCE_READ
    + _SELF
    + [
        ("can_list|can_show", "DispatchQueueView"),
        ("menu_access", "Dispatch queue"),
        ("can_assign_supervisor", "CaseActionView"),
    ],
    Role.HANDLER: _CASE_READ
    + _REFERENCE_READ
    + _SELF
    + _NOTICES
    + [
        ("can_identity|can_request_identity", "CaseActionView"),
        ("can_acknowledge|can_answer", "NoticeActionView"),
        ("can_list|can_show", "DepartmentCaseView"),
        ("menu_access", "My department's cases"),
    ],
    Role.INTEGRATION: [("can_get|can_info|can_post", "CaseApi")],
    # Keeps reporters' identities: reads the cases, sees who filed them, decides the requests
    # of everyone else and names a case's supervisor.
    Role.CUSTODIAN: _CASE_READ
    + _REFERENCE_READ
    + _SELF
    + [
        ("can_identity|can_assign_supervisor", "CaseActionView"),
        ("can_list|can_show", "IdentityRequestView|IdentityRequestQueueView"),
        ("can_decide", "IdentityRequestActionView"),
        ("menu_access", "Identity requests to decide|Identity requests"),
    ],
    Role.SUPERVISOR: _CASE_READ
    + _REFERENCE_READ
    + _SELF
    + _NOTICES
    + [
        ("can_identity|can_request_identity", "CaseActionView"),
        ("can_close|can_interview", "NoticeActionView"),
        *_REWARDS_READ,
        ("can_act|can_propose", "RewardActionView"),
        ("can_act", "RewardApi"),
        *_PUBLICATION_READ,
        *_REPORTS_WRITE,
        ("can_edit", "ReportActionView"),  # a bulletin's analysis, requirements, 主送/抄送
        ("can_mark|can_edit", "TypicalActionView"),
        ("can_list|can_show", "RevisitTaskView"),
        ("menu_access", "Interview notice|Revisit calls"),
        ("can_list|can_show", "SupervisionQueueView|OverdueCaseView"),
        ("menu_access", "Awaiting supervision|Overdue cases"),
        *_INSPECTIONS_READ,
        *_WARNINGS_READ,
        ("can_dispatch|can_notice|can_dismiss", "WarningActionView"),
    ],
    # A law-enforcement officer: registers and finishes the inspections of their unit from a
    # phone (the enterprise's code opens the form); sees nothing of the cases.
    Role.INSPECTOR: _SELF
    + [
        ("can_index|can_scan|can_register|can_finish|can_show", "InspectorView"),
        ("menu_access", "Inspections|My inspections"),
    ],
    Role.LEADER: [
        ("can_list|can_show", "CaseView"),
        ("can_get|can_info", "CaseApi|CaseEventApi"),
        ("can_file|can_identity|can_request_identity", "CaseActionView"),
        ("menu_access", "Cases|All cases"),
    ]
    + _REFERENCE_READ
    + _SELF
    + [("can_list|can_show", "OverdueCaseView"), ("menu_access", "Overdue cases")]
    + _NOTICES
    + _REWARDS_READ
    + [("can_act", "RewardActionView|RewardApi")]
    + _PUBLICATION_READ
    + _REPORTS_WRITE
    + [("can_decide", "TypicalActionView"), ("can_publish", "ReportActionView")]
    + _INSPECTIONS_READ
    + _WARNINGS_READ,
}


def ensure_builtin_roles(sm) -> None:
    """Create the Admin and Public roles (FAB's permission sync expects them to exist)."""
    for name in (sm.auth_role_admin, sm.auth_role_public):
        if sm.find_role(name) is None:
            sm.add_role(name)
    sm.session.flush()


def sync_roles(sm) -> None:
    """Create the workflow roles and give each exactly the permissions of ROLE_PERMISSIONS
    (the administrator holds every permission; the public role none yet)."""
    all_pvms = sm.session.query(sm.permissionview_model).all()
    sm.find_role(sm.auth_role_admin).permissions = all_pvms
    for role_name, patterns in ROLE_PERMISSIONS.items():
        role = sm.find_role(role_name.value) or sm.add_role(role_name.value)
        compiled = [(re.compile(f"^(?:{p})$"), re.compile(f"^(?:{v})$")) for p, v in patterns]
        role.permissions = [
            pvm
            for pvm in all_pvms
            if pvm.permission
            and pvm.view_menu
            and any(p.match(pvm.permission.name) and v.match(pvm.view_menu.name) for p, v in compiled)
        ]
    sm.session.flush()
