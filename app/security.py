"""Security manager (staff users with departments) and the role → permission table."""

from __future__ import annotations

import re

from flask_appbuilder.security.sqla.manager import SecurityManager as BaseSecurityManager
from flask_appbuilder.security.views import UserDBModelView

from app.workflow import Role
from models import Staff


class StaffUserView(UserDBModelView):
    """The user screens, with the department each user works for."""

    list_columns = ["first_name", "last_name", "username", "department", "active", "roles"]
    add_columns = [
        "first_name", "last_name", "username", "active", "email", "department", "roles",
        "password", "conf_password",
    ]
    edit_columns = ["first_name", "last_name", "username", "active", "email", "department",
                    "roles"]
    search_columns = ["first_name", "last_name", "username", "email", "department", "roles"]
    show_fieldsets = [
        (UserDBModelView.show_fieldsets[0][0],
         {"fields": ["username", "active", "roles", "department", "login_count"]}),
        *UserDBModelView.show_fieldsets[1:],
    ]


class SecurityManager(BaseSecurityManager):
    user_model = Staff
    userdbmodelview = StaffUserView


# Which FAB permissions each role holds, as (permission regex, view-menu regex) pairs.
# Case screens are read-only lists; every status change goes through CaseActionView → services.
_CASE_READ = [("can_list|can_show", "CaseView"), ("can_get|can_info", "CaseApi|CaseEventApi"),
              ("can_act", "CaseActionView|CaseApi"), ("menu_access", "Cases|All cases")]
_REFERENCE_READ = [("can_get|can_info", "DepartmentApi|CategoryApi")]
_SELF = [("can_userinfo|resetmypassword|can_this_form_get|can_this_form_post",
          "UserDBModelView|ResetMyPasswordView|UserInfoEditView"),
         ("can_get", "MenuApi")]
ROLE_PERMISSIONS: dict[Role, list[tuple[str, str]]] = {
    Role.CLERK: _CASE_READ + _REFERENCE_READ + _SELF + [
        ("can_new", "CaseIntakeView"), ("can_post", "CaseApi"),
        ("can_list|can_show", "IntakeQueueView"), ("menu_access", "New case|Intake queue")],
    Role.DISPATCHER: _CASE_READ + _REFERENCE_READ + _SELF + [
        ("can_list|can_show", "DispatchQueueView"), ("menu_access", "Dispatch queue")],
    Role.HANDLER: _CASE_READ + _REFERENCE_READ + _SELF + [
        ("can_list|can_show", "DepartmentCaseView"), ("menu_access", "My department's cases")],
    Role.SUPERVISOR: _CASE_READ + _REFERENCE_READ + _SELF,
    Role.LEADER: [(p, v) for p, v in _CASE_READ if p != "can_act"] + _REFERENCE_READ + _SELF,
}


def ensure_builtin_roles(sm) -> None:
    """Create the Admin and Public roles (FAB's permission sync expects them to exist)."""
    for name in (sm.auth_role_admin, sm.auth_role_public):
        if sm.find_role(name) is None:
            sm.add_role(name)
    sm.session.commit()


def sync_roles(sm) -> None:
    """Create the workflow roles and give each exactly the permissions of ROLE_PERMISSIONS
    (the administrator holds every permission; the public role none yet)."""
    all_pvms = sm.session.query(sm.permissionview_model).all()
    sm.find_role(sm.auth_role_admin).permissions = all_pvms
    for role_name, patterns in ROLE_PERMISSIONS.items():
        role = sm.find_role(role_name.value) or sm.add_role(role_name.value)
        compiled = [(re.compile(f"^(?:{p})$"), re.compile(f"^(?:{v})$")) for p, v in patterns]
        role.permissions = [
            pvm for pvm in all_pvms
            if pvm.permission and pvm.view_menu and any(
                p.match(pvm.permission.name) and v.match(pvm.view_menu.name) for p, v in compiled)
        ]
    sm.session.commit()
