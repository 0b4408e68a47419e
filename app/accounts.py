"""Staff account protection: the password policy where FAB sets passwords, the lockout per
account, sessions that end (a per-user session version), the TOTP second factor, and the
login, second-factor and logout screens and the API login that enforce them.

- Password policy: app/passwords.py, applied by FAB's own validators (config
  ``FAB_PASSWORD_COMPLEXITY_VALIDATOR``), by the security manager (CLI) and by the REST user API.
- Lockout: after ``LOGIN_LOCKOUT_AFTER`` wrong passwords or codes in a row the account refuses
  every login, the right password too, for ``LOGIN_LOCKOUT_SECONDS``, doubling with each
  further failure up to ``LOGIN_LOCKOUT_MAX_SECONDS``. The count and the end of the lock live
  on the user row (every worker agrees). A locked account answers exactly like a wrong
  password, so nobody learns whether a user name exists.
- Sessions: ``Staff.session_version`` is put into the session cookie (and every JWT) at login;
  a cookie or token with another version is refused. Logout, and any change of the password,
  roles, groups or active flag, or a reset of the second factor, raise the version.
- Second factor: users of ``TOTP_REQUIRED_ROLES``, staff of a discipline-inspection department
  (both can reveal identity or pay money) and anyone who enrolled enter a TOTP code
  after the password; the session is logged in only then. A first login enrols (QR code). An
  administrator can reset a lost authenticator (audited). Under ``YS_DEMO`` the demo accounts
  are exempt (the login page says so).
"""

from __future__ import annotations

import hmac
import re
import time
from datetime import timedelta

from flask import current_app, flash, g, redirect, request, session, url_for
from flask_appbuilder import expose
from flask_appbuilder.api import safe
from flask_appbuilder.baseviews import BaseView
from flask_appbuilder.security.api import SecurityApi as FabSecurityApi
from flask_appbuilder.security.decorators import has_access, no_cache
from flask_appbuilder.security.forms import LoginForm_db
from flask_appbuilder.security.views import AuthDBView as FabAuthDBView
from flask_appbuilder.security.views import ResetMyPasswordView as FabResetMyPasswordView
from flask_appbuilder.utils.base import get_safe_redirect
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import login_user, logout_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy import event, func, inspect, update
from sqlalchemy.orm import Session
from wtforms import StringField
from wtforms.validators import DataRequired

from app import clock
from app.passwords import password_problems
from app.workflow import N_

SESSION_VERSION = "_sv"  # the account's session version when this session logged in
SECOND_FACTOR = "_mfa"  # this session passed the TOTP step
PENDING = "_2fa"  # password accepted, code not yet: {"uid", "sv", "t", "next"}
STEP_SECONDS = 30
WINDOW = 1  # a code of the previous or the next 30-second step is accepted too (clock drift)

INVALID_LOGIN = N_(
    "Login failed: wrong user name, password or code. After several failures in a row an account "
    "is locked for a while; please wait and try again later."
)


# --- password policy -----------------------------------------------------------------------------


class PasswordRefused(ValueError):
    """A password the policy refuses (the message says why, in the user's language)."""


def policy_messages(
    password: str, user=None, *, username: str = "", inputs: tuple[str, ...] = ()
) -> list[str]:
    """The policy's refusals for ``password`` as sentences in the user's language."""
    if user is not None:
        username = username or user.username or ""
        inputs = (*inputs, user.first_name or "", user.last_name or "", user.email or "")
    config = current_app.config
    return [
        gettext(msgid, **params)
        for msgid, params in password_problems(
            password,
            username=username,
            user_inputs=tuple(inputs),
            min_length=config.get("PASSWORD_MIN_LENGTH", 12),
            min_score=config.get("PASSWORD_MIN_SCORE", 3),
        )
    ]


def _account_in_request():
    """The account whose password a screen or API call is setting: (user or None, inputs)."""
    from flask import has_request_context

    if not has_request_context():
        return None, ()
    sm = current_app.appbuilder.sm
    fields = dict(request.form)
    if request.is_json:
        body = request.get_json(silent=True)
        if isinstance(body, dict):
            fields.update({k: v for k, v in body.items() if isinstance(v, str)})
    inputs = tuple(str(fields.get(k) or "") for k in ("username", "first_name", "last_name", "email"))
    pk = (request.view_args or {}).get("pk") or request.args.get("pk")
    user = None
    if pk is not None and str(pk).isdigit():
        user = sm.get_user_by_id(int(pk))
    elif not fields.get("username") and getattr(g, "user", None) is not None and g.user.is_authenticated:
        user = g.user  # "reset my password"
    return user, inputs


def check_password_policy(password: str) -> None:
    """FAB's password validator hook: raise its error with every refusal of the policy."""
    from flask_appbuilder.exceptions import PasswordComplexityValidationError

    user, inputs = _account_in_request()
    messages = policy_messages(password, user, username=inputs[0] if inputs else "", inputs=inputs)
    if messages:
        raise PasswordComplexityValidationError(" ".join(messages))


# --- lockout ----------------------------------------------------------------------------------------


def locked_for(user, now=None) -> int:
    """Seconds the account stays locked (0: not locked)."""
    now = now or clock.utcnow()
    if user.locked_until is None or user.locked_until <= now:
        return 0
    return int((user.locked_until - now).total_seconds()) + 1


def lock_seconds(failures: int, config) -> int:
    """How long the account is locked after ``failures`` failures in a row (0: not yet)."""
    after = config.get("LOGIN_LOCKOUT_AFTER", 5)
    if failures < after:
        return 0
    base, cap = config.get("LOGIN_LOCKOUT_SECONDS", 60), config.get("LOGIN_LOCKOUT_MAX_SECONDS", 3600)
    return min(cap, base * 2 ** min(failures - after, 30))


def count_failure(db_session, user) -> int:
    """One more failure in a row, counted in the database itself (two workers never lose a
    count), and the lock it earns. Returns the count."""
    model = type(user)
    failures = db_session.execute(
        update(model)
        .where(model.id == user.id)
        .values(fail_login_count=func.coalesce(model.fail_login_count, 0) + 1)
        .returning(model.fail_login_count)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    seconds = lock_seconds(failures, current_app.config)
    if seconds:
        user.locked_until = clock.utcnow() + timedelta(seconds=seconds)
    db_session.flush()
    db_session.refresh(user, ["fail_login_count"])
    return failures


# --- session versions -----------------------------------------------------------------------------

_ENDS_SESSIONS = ("password", "roles", "groups", "active")


def _bump(user) -> None:
    user.session_version = (user.session_version or 0) + 1


@event.listens_for(Session, "before_flush")
def _end_sessions_on_account_change(db_session, _flush_context, _instances) -> None:
    """A new password, other roles or groups, deactivation: every session and token ends."""
    from models import Staff

    for obj in db_session.dirty:
        if not isinstance(obj, Staff):
            continue
        attrs = inspect(obj).attrs
        if any(name in attrs and attrs[name].history.has_changes() for name in _ENDS_SESSIONS):
            if not attrs["session_version"].history.has_changes():
                _bump(obj)
            _revoke_api_keys(obj)


def _revoke_api_keys(user) -> None:
    """A credential change also retires the account's API keys: a key made by the old owner of
    a password, or for the old roles, must not outlive them (a new one is made on purpose)."""
    from datetime import datetime

    for key in getattr(user, "api_keys", None) or ():
        if key.revoked_on is None:
            key.revoked_on = datetime.now()  # FAB compares ApiKey times with local naive now()


def session_is_current(user) -> bool:
    """The cookie's session was opened with the account's present version and, when the
    account needs it, passed the second factor."""
    if session.get(SESSION_VERSION) != (user.session_version or 0):
        return False
    return bool(session.get(SECOND_FACTOR)) or not needs_second_factor(user)


def token_claims(identity) -> dict:
    """Claims of every JWT FAB issues: the account's session version."""
    sm = current_app.appbuilder.sm
    user = sm.get_user_by_id(int(identity)) if str(identity).isdigit() else None
    return {"sv": user.session_version or 0} if user is not None else {}


def token_is_current(user, jwt_data: dict) -> bool:
    return jwt_data.get("sv") == (user.session_version or 0)


def end_sessions(user) -> None:
    """Log the account out everywhere (its cookies and API tokens)."""
    _bump(user)


# --- second factor ----------------------------------------------------------------------------------


def _demo_exempt(user) -> bool:
    if not current_app.config.get("YS_DEMO"):
        return False
    from app.demo import USERS, demo_office_usernames

    return user.username in {username for username, *_ in USERS} | demo_office_usernames()


def needs_second_factor(user) -> bool:
    """Whether this account logs in only with a TOTP code as well."""
    if _demo_exempt(user):
        return False
    if user.totp_enabled_at is not None:
        return True
    from app.workflow import Role

    required = set(current_app.config.get("TOTP_REQUIRED_ROLES", ()))
    built_in = {role.value for role in Role}
    # a role an administrator made is judged by nobody: it may hold any permission, so it needs
    # the code (an "Observer" with the leader's permissions got in with the password alone)
    if any(role.name in required or role.name not in built_in for role in user.roles or ()):
        return True
    # discipline inspection (纪检监察) sees the identity of the A-grade reports it investigates
    department = getattr(user, "department", None)
    return bool(department is not None and department.discipline_inspection)


def new_secret() -> str:
    import pyotp

    return pyotp.random_base32()


def provisioning_uri(user) -> str:
    import pyotp

    issuer = current_app.config.get("TOTP_ISSUER", "营商110")
    return pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.username, issuer_name=issuer)


def qr_svg(uri: str) -> Markup:
    import segno

    # our own drawing of the URI (no user text is rendered as markup: segno draws squares)
    return Markup(segno.make(uri, error="m").svg_inline(scale=5, border=2))


def accepted_step(secret: str, code: str, last_step: int | None, now: float) -> int | None:
    """The 30-second step whose code ``code`` is, if it is a current one not used before."""
    import pyotp

    code = re.sub(r"\s+", "", code or "")
    if not secret or not re.fullmatch(r"\d{6}", code):
        return None
    totp, current = pyotp.TOTP(secret), int(now // STEP_SECONDS)
    found = None
    for step in range(current - WINDOW, current + WINDOW + 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            found = step
    return found


def reset_second_factor(db_session, user, actor) -> None:
    """An administrator's recovery for a lost authenticator: the user enrols again at the next
    login; their sessions end; the audit log records who did it."""
    from app.services import audit

    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    end_sessions(user)
    audit.record(db_session, "totp_reset", actor=actor, now=clock.utcnow(), subject=user.username)


# --- screens ---------------------------------------------------------------------------------------


class CodeForm(FlaskForm):
    code = StringField(_l("Verification code"), validators=[DataRequired()])


def _finish_login(user, second_factor: bool) -> None:
    session.pop(PENDING, None)
    login_user(user, remember=False)
    session[SESSION_VERSION] = user.session_version or 0
    session[SECOND_FACTOR] = second_factor


def _csrf_ok() -> bool:
    from flask_wtf.csrf import CSRFError, validate_csrf

    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return True
    try:
        validate_csrf(request.form.get("csrf_token"))
        return True
    except (CSRFError, Exception):  # noqa: BLE001 - any bad token is a refusal
        return False


class AuthDBView(FabAuthDBView):
    """Login (password, then the code where needed), and logout by POST only."""

    login_template = "account/login.html"
    invalid_login_message = _l(INVALID_LOGIN)

    @expose("/login/", methods=["GET", "POST"])
    @no_cache
    def login(self):
        if g.user is not None and g.user.is_authenticated:
            return redirect(self._get_safe_next_url())
        form = LoginForm_db()
        if form.validate_on_submit():
            next_url = get_safe_redirect(request.args.get("next", ""))
            sm = self.appbuilder.sm
            user = sm.verify_password(form.username.data, form.password.data)
            if user is None:
                flash(gettext(INVALID_LOGIN), "warning")
                return redirect(self.appbuilder.get_url_for_login_with(next_url))
            if needs_second_factor(user):
                session[PENDING] = {
                    "uid": user.id,
                    "sv": user.session_version or 0,
                    "t": int(time.time()),
                    "next": next_url,
                }
                return redirect(url_for(f"{self.endpoint}.second_factor"))
            sm.update_user_auth_stat(user, True)
            _finish_login(user, second_factor=False)
            return redirect(next_url)
        return self.render_template(
            self.login_template,
            title=self.title,
            form=form,
            appbuilder=self.appbuilder,
            demo=bool(current_app.config.get("YS_DEMO")),
        )

    def _pending_user(self):
        pending = session.get(PENDING)
        if not isinstance(pending, dict):
            return None, None
        sm = self.appbuilder.sm
        user = sm.get_user_by_id(pending.get("uid")) if isinstance(pending.get("uid"), int) else None
        fresh = time.time() - pending.get("t", 0) <= current_app.config.get("TOTP_PENDING_SECONDS", 300)
        if (
            user is None
            or not user.is_active
            or not fresh
            or pending.get("sv") != (user.session_version or 0)
        ):
            session.pop(PENDING, None)
            return None, None
        return user, pending

    @expose("/login/code/", methods=["GET", "POST"])
    @no_cache
    def second_factor(self):
        user, pending = self._pending_user()
        if user is None:
            flash(gettext("Please log in again: the login was not finished in time."), "warning")
            return redirect(self.appbuilder.get_url_for_login)
        sm = self.appbuilder.sm
        enrolling = user.totp_enabled_at is None
        if enrolling and not user.totp_secret:
            user.totp_secret = new_secret()
            sm.session.flush()
        form = CodeForm()
        if form.validate_on_submit():
            step = None
            if not locked_for(user):
                step = accepted_step(user.totp_secret, form.code.data, user.totp_last_step, time.time())
            if step is None:
                if not locked_for(user):
                    sm.second_factor_failed(user)
                if locked_for(user):
                    session.pop(PENDING, None)
                    flash(gettext(INVALID_LOGIN), "warning")
                    return redirect(self.appbuilder.get_url_for_login)
                flash(gettext("This code is wrong or was already used; enter the current code."), "warning")
                return redirect(url_for(f"{self.endpoint}.second_factor"))
            user.totp_last_step = step
            if enrolling:
                user.totp_enabled_at = clock.utcnow()
            sm.update_user_auth_stat(user, True)
            _finish_login(user, second_factor=True)
            return redirect(pending.get("next") or self.appbuilder.get_url_for_index)
        return self.render_template(
            "account/second_factor.html",
            title=gettext("Two-factor login"),
            form=form,
            appbuilder=self.appbuilder,
            enrolling=enrolling,
            secret=user.totp_secret if enrolling else None,
            qr=qr_svg(provisioning_uri(user)) if enrolling else None,
            username=user.username,
        )

    @expose("/logout/", methods=["GET", "POST"])
    @no_cache
    def logout(self):
        if request.method != "POST":  # a link or an image never logs anybody out
            return self.render_template(
                "account/logout.html", title=gettext("Log out"), appbuilder=self.appbuilder
            )
        if not _csrf_ok():
            flash(gettext("The form has expired; please try again."), "danger")
            return redirect(url_for(f"{self.endpoint}.logout"))
        user = self._get_authenticated_user()
        if user is not None:
            end_sessions(user)
        logout_user()
        for key in (SESSION_VERSION, SECOND_FACTOR, PENDING):
            session.pop(key, None)
        if user is not None:
            self.appbuilder.sm.on_user_logout(user)
        return redirect(current_app.config.get("LOGOUT_REDIRECT_URL", self.appbuilder.get_url_for_index))


class ResetMyPasswordView(FabResetMyPasswordView):
    """Reset my password: the other sessions and tokens of the account end, this one goes on."""

    def form_post(self, form) -> None:
        super().form_post(form)
        user = self.appbuilder.sm.get_user_by_id(g.user.id)
        session[SESSION_VERSION] = user.session_version or 0


class TotpResetForm(FlaskForm):
    pass


class TotpResetView(BaseView):
    """An administrator resets a user's second factor (a lost or replaced phone)."""

    route_base = "/totpreset"
    default_view = "confirm"

    @expose("/<int:pk>", methods=["GET", "POST"])
    @has_access
    @no_cache
    def confirm(self, pk: int):
        from app.services.actor import Actor

        sm = self.appbuilder.sm
        user = sm.get_user_by_id(pk)
        if user is None:
            from flask import abort

            abort(404)
        form = TotpResetForm()
        if request.method == "POST":
            if not form.validate_on_submit():
                flash(gettext("The form has expired; please try again."), "danger")
                return redirect(url_for(".confirm", pk=pk))
            reset_second_factor(sm.session, user, Actor.from_user(g.user))
            flash(
                gettext(
                    "Two-factor login reset: %(user)s enrols a new authenticator at the next login.",
                    user=user.username,
                ),
                "info",
            )
            return redirect(url_for(f"{sm.user_view.endpoint}.show", pk=pk))
        return self.render_template(
            "account/totp_reset.html",
            title=gettext("Reset two-factor login"),
            form=form,
            appbuilder=self.appbuilder,
            username=user.username,
            enrolled=user.totp_enabled_at is not None,
        )


class SecurityApi(FabSecurityApi):
    """FAB's API login (same name, so the same endpoints and permissions), with the lockout
    and, for accounts that need it, the TOTP code as ``"totp"`` in the body."""

    @expose("/login", methods=["POST"])
    @safe
    def login(self):
        """Login endpoint for the API returns a JWT and optionally a refresh token
        ---
        post:
          description: >-
            Authenticate and get a JWT access and refresh token. Accounts that log in with a
            second factor also give the current code of their authenticator as totp.
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  properties:
                    username:
                      type: string
                    password:
                      type: string
                    provider:
                      type: string
                      enum:
                      - db
                    refresh:
                      type: boolean
                    totp:
                      description: The 6-digit TOTP code (accounts with a second factor)
                      type: string
          responses:
            200:
              description: Authentication Successful
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      access_token:
                        type: string
                      refresh_token:
                        type: string
            400:
              $ref: '#/components/responses/400'
            401:
              $ref: '#/components/responses/401'
            500:
              $ref: '#/components/responses/500'
        """
        from flask_appbuilder.const import API_SECURITY_ACCESS_TOKEN_KEY, API_SECURITY_REFRESH_TOKEN_KEY
        from flask_appbuilder.security.schemas import login_post
        from flask_jwt_extended import create_access_token, create_refresh_token
        from marshmallow import ValidationError

        if not request.is_json or not isinstance(request.get_json(silent=True), dict):
            return self.response_400(message="Request payload is not JSON")
        body = dict(request.get_json(silent=True))
        code = body.pop("totp", None)
        try:
            payload = login_post.load(body)
        except ValidationError as error:
            return self.response_400(message=error.messages)
        if payload["provider"] != "db":
            return self.response_400(message=gettext("Give username, password and provider."))
        sm = self.appbuilder.sm
        user = sm.verify_password(payload["username"], payload["password"])
        if user is None:
            return self.response_401()
        if needs_second_factor(user):
            if user.totp_enabled_at is None:
                return self.response(
                    401,
                    message=gettext("Log in on the web page first to set up the two-factor login."),
                )
            step = None
            if isinstance(code, str) and not locked_for(user):
                step = accepted_step(user.totp_secret, code, user.totp_last_step, time.time())
            if step is None:
                if isinstance(code, str) and not locked_for(user):
                    sm.second_factor_failed(user)
                return self.response(
                    401, message=gettext("Give the current code of your authenticator as totp.")
                )
            user.totp_last_step = step
        sm.update_user_auth_stat(user, True)
        answer = {API_SECURITY_ACCESS_TOKEN_KEY: create_access_token(identity=str(user.id), fresh=True)}
        if payload.get("refresh"):
            answer[API_SECURITY_REFRESH_TOKEN_KEY] = create_refresh_token(identity=str(user.id))
        return self.response(200, **answer)
