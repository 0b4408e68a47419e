"""Security manager (staff users with departments) and the role → permission table."""

from __future__ import annotations

import re

from flask import current_app
from flask_appbuilder.fields import QuerySelectMultipleField
from flask_appbuilder.fieldwidgets import Select2ManyWidget
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
from sqlalchemy import func
from wtforms.validators import DataRequired

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


class StaffUserView(UserDBModelView):
    """The user screens, with the department each user works for (role changes are audited
    by app.services.audit, for the screens and the API alike)."""

    # FAB's default "roles or groups" validator reads a groups field this form does not have.
    validators_columns = {"roles": [DataRequired()]}

    list_columns = ["first_name", "last_name", "username", "department", "active", "roles"]
    add_columns = [
        "first_name",
        "last_name",
        "username",
        "active",
        "email",
        "department",
        "roles",
        "password",
        "conf_password",
    ]
    edit_columns = ["first_name", "last_name", "username", "active", "email", "department", "roles"]
    search_columns = ["first_name", "last_name", "username", "email", "department", "roles"]
    show_fieldsets = [
        (
            UserDBModelView.show_fieldsets[0][0],
            {"fields": ["username", "active", "roles", "department", "login_count"]},
        ),
        *UserDBModelView.show_fieldsets[1:],
    ]
    label_columns = {**UserDBModelView.label_columns, "department": _l("Department")}
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


class SecurityManager(BaseSecurityManager):
    """Staff users, and every login attempt of a known user written to the audit log."""

    user_model = Staff

    # lookup hash -> (slow key hash, when it was verified): the deliberately slow scrypt check
    # runs once per key and process every few minutes, not on every request of a connected
    # system. Revocation and deactivation are still checked on every request.
    _verified_keys: dict[str, tuple[str, float]] = {}
    VERIFIED_KEY_SECONDS = 300

    # (links version, roles) -> (view, permission) names, for this process.
    _granted: dict[tuple, set[tuple[str, str]]] = {}

    def _links_version(self) -> tuple:
        """Changes whenever a permission is given to or taken from a role (each link row gets a
        new id), so every process sees an edit on its next request."""
        from flask import g, has_request_context

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

    def validate_api_key(self, api_key_string: str):
        import time

        from flask import g
        from werkzeug.security import check_password_hash

        lookup = self._compute_lookup_hash(api_key_string)
        api_key = (
            self.session.query(self.api_key_model)
            .filter(self.api_key_model.lookup_hash == lookup)
            .one_or_none()
        )
        if api_key is None or not api_key.is_active:
            return None
        cached = self._verified_keys.get(lookup)
        now = time.monotonic()
        if not (cached and cached[0] == api_key.key_hash and now - cached[1] < self.VERIFIED_KEY_SECONDS):
            if not check_password_hash(api_key.key_hash, api_key_string):
                return None
            self._verified_keys[lookup] = (api_key.key_hash, now)
        user = api_key.user
        if not user or not user.is_active:
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
        return super().update_user_auth_stat(user, success)

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
    ],
    Role.DISPATCHER: _CASE_READ
    + _REFERENCE_READ
    + _SELF
    + [("can_list|can_show", "DispatchQueueView"), ("menu_access", "Dispatch queue")],
    Role.HANDLER: _CASE_READ
    + _REFERENCE_READ
    + _SELF
    + _NOTICES
    + [
        ("can_identity", "CaseActionView"),
        ("can_acknowledge|can_answer", "NoticeActionView"),
        ("can_list|can_show", "DepartmentCaseView"),
        ("menu_access", "My department's cases"),
    ],
    Role.INTEGRATION: [("can_get|can_info|can_post", "CaseApi")],
    Role.SUPERVISOR: _CASE_READ
    + _REFERENCE_READ
    + _SELF
    + _NOTICES
    + [
        ("can_identity", "CaseActionView"),
        ("can_close|can_interview", "NoticeActionView"),
        *_REWARDS_READ,
        ("can_act|can_propose", "RewardActionView"),
        ("can_act", "RewardApi"),
        *_PUBLICATION_READ,
        *_REPORTS_WRITE,
        ("can_mark|can_edit", "TypicalActionView"),
        ("can_list|can_show", "RevisitTaskView"),
        ("menu_access", "Interview notice|Revisit calls"),
        ("can_list|can_show", "SupervisionQueueView|OverdueCaseView"),
        ("menu_access", "Awaiting supervision|Overdue cases"),
    ],
    Role.LEADER: [
        ("can_list|can_show", "CaseView"),
        ("can_get|can_info", "CaseApi|CaseEventApi"),
        ("can_file", "CaseActionView"),
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
    + [("can_decide", "TypicalActionView"), ("can_publish", "ReportActionView")],
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
