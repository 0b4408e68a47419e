"""Application factory: one Flask app and one AppBuilder per call (tests, workers, web)."""

from __future__ import annotations

from flask import Flask
from flask_appbuilder import AppBuilder

from app.extensions import db, migrate
from app.workflow import N_


class Platform(Flask):
    """Flask with the one unit-of-work boundary around every view (app.transaction)."""

    def dispatch_request(self):
        from app.transaction import run_request

        return run_request(super().dispatch_request)


def create_app(overrides: dict | None = None) -> Flask:
    """Build the application with settings from config.py, overridden by ``overrides``."""
    app = Platform(__name__, template_folder="../views/templates", static_folder="../views/static")
    from app.requests import CleanRequest

    app.request_class = CleanRequest  # NUL characters never reach the database
    app.config.from_object("config")
    app.config.update(overrides or {})
    from app import keys

    keys.apply(app.config)  # refuses to go on with missing or published secrets (outside the demo)
    if str(app.config["SQLALCHEMY_DATABASE_URI"]).startswith("postgresql"):
        # psycopg prepares a statement after 5 runs, and PostgreSQL may then keep one generic
        # plan for every parameter: a handler's status filter went from 60 ms to 500 ms on
        # the 9th request (bench/lists.py at 1 million cases). Plan each run for its values.
        options = app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
        options.setdefault("connect_args", {}).setdefault("options", "-c plan_cache_mode=force_custom_plan")
    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.config["BASE_DIR"] / "models" / "migrations"))
    with app.app_context():
        import models  # noqa: F401  (register the tables)
        from views.home import HomeView

        appbuilder = AppBuilder(update_perms=app.config["FAB_UPDATE_PERMS"], indexview=HomeView)
        appbuilder.init_app(app, db.session)
        from views import register_views

        register_views(appbuilder)
        from views.open311 import register as register_open311

        register_open311(appbuilder)  # Open311 GeoReport v2 under /open311/v2
        from views.connected import register as register_callbacks

        register_callbacks(appbuilder)  # callbacks to connected systems (administrators)
    from flask_babel import get_locale
    from flask_wtf.csrf import generate_csrf

    app.jinja_env.globals.update(csrf_token=generate_csrf, get_locale=get_locale)
    register_error_pages(app)
    secure_headers(app)
    refuse_unknown_fab_actions(app)
    from views.api_guard import guard_api_input
    from views.screen_guard import guard_screen_input

    guard_api_input(app)
    guard_screen_input(app)
    audit_configuration_changes()
    from reports.pdf import set_office_fonts_dir

    set_office_fonts_dir(app.config.get("REPORT_FONTS_DIR"))  # the offices' licensed faces (小标宋, 仿宋…)
    from app.cli import register_cli

    register_cli(app)
    return app


def audit_configuration_changes() -> None:
    """Every change of the reference data and of user accounts is audited in its transaction."""
    from flask_appbuilder.security.sqla.models import ApiKey, Role

    import models as m
    from app.services import audit

    audit.audit_configuration(
        m.Jurisdiction,
        m.Department,
        m.Category,
        m.CalendarYear,
        m.CalendarDay,
        m.DeadlinePolicy,
        m.DispatchRule,
        m.Setting,
        m.JurisdictionSetting,
        m.RewardTier,
        m.IneligiblePerson,
        m.ServiceWindow,
        m.CallbackSubscription,
        Role,
        ApiKey,
        users=(m.Staff,),
        actor_resolver=current_actor_or_system,
    )


def current_actor_or_system():
    """The user behind the current request, or None (the system: jobs, commands)."""
    from flask import has_request_context

    from views.common import current_actor

    if not has_request_context():
        return None
    actor = current_actor()
    return actor if actor.id is not None else None


ERROR_TEXTS = {
    400: (N_("Bad request"), N_("The request could not be understood; please try again.")),
    401: (N_("Please log in"), N_("Please log in to continue.")),
    403: (N_("Not allowed"), N_("You are not allowed to open this page.")),
    404: (N_("Not found"), N_("The page or record you asked for does not exist, or you may not see it.")),
    405: (N_("Not allowed"), N_("This page cannot be used this way.")),
    413: (N_("Too large"), N_("The files are too large: at most %(mb)s MB in all.")),
    429: (N_("Too many requests"), N_("Too many requests; please wait a while and try again.")),
    500: (
        N_("Something went wrong"),
        N_(
            "Something went wrong on our side. Nothing you submitted before this page was lost; "
            "please try again in a moment."
        ),
    ),
}


# What a page may load and run: only this site's files, and inline scripts only with the
# response's nonce (Flask-AppBuilder's templates carry it); styles may be inline (FAB uses
# style attributes), which runs no code. No plug-ins, no framing, forms post only here.
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data:",
    "font-src": "'self' data:",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def secure_headers(app: Flask) -> None:
    """Security headers on every response (Flask-Talisman): the CSP above with a fresh nonce,
    X-Frame-Options DENY, nosniff, a same-origin referrer, HSTS on TLS; and no-store on every
    page (staff pages show identities, public pages show receipts), only static files cache."""
    from flask import request
    from flask_talisman import Talisman

    if app.config.get("TRUSTED_PROXIES"):  # behind N proxies: real client address and scheme
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    Talisman(
        app,
        force_https=False,  # TLS ends at the proxy; HSTS is sent on every request that came by TLS
        strict_transport_security=True,
        strict_transport_security_max_age=365 * 24 * 3600,
        frame_options="DENY",
        content_security_policy=CONTENT_SECURITY_POLICY,
        content_security_policy_nonce_in=["script-src"],
        referrer_policy="same-origin",
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        session_cookie_http_only=True,
        permissions_policy={"camera": "()", "microphone": "()", "geolocation": "()"},
    )

    @app.after_request
    def no_store(response):
        if not request.path.startswith(("/static/", "/appbuilder/static")) and not response.headers.get(
            "Cache-Control"
        ):
            response.headers["Cache-Control"] = "no-store"
            response.headers["Pragma"] = "no-cache"
        return response


def register_error_pages(app: Flask) -> None:
    """One error handler: a domain error becomes a flash message and a redirect on screens, a
    JSON error with its status under /api/; HTTP errors get a styled, translated page."""
    from flask import flash, g, jsonify, redirect, render_template, request, url_for
    from flask_babel import gettext
    from werkzeug.exceptions import HTTPException, InternalServerError

    from app.errors import DomainError, NotFound

    def wants_json() -> bool:
        return request.path.startswith("/api/")

    def error_page(status: int):
        heading, message = ERROR_TEXTS.get(status, ERROR_TEXTS[500 if status >= 500 else 400])
        text = gettext(message, mb=app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024))
        if wants_json():  # a response, not a tuple: a 405 adds its Allow header below
            return app.make_response((jsonify(message=text), status))
        response = app.make_response(
            (
                render_template(
                    "errors/error.html",
                    status=status,
                    heading=gettext(heading),
                    message=text,
                    title=gettext(heading),
                    back=_back(g, request, url_for),
                ),
                status,
            )
        )
        response.headers["Cache-Control"] = "no-store"
        return response

    def http_error(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        response = error_page(error.code)
        if error.code == 405 and getattr(error, "valid_methods", None):
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    def server_error(error: InternalServerError):
        return error_page(500)

    def domain_error(error: DomainError):
        if wants_json():
            return jsonify(message=error.message), error.status
        if isinstance(error, NotFound):
            return error_page(404)
        flash(error.message, "danger")
        return redirect(_back(g, request, url_for))

    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(InternalServerError, server_error)
    app.register_error_handler(DomainError, domain_error)

    from sqlalchemy.exc import IntegrityError

    from app.errors import DoneMeanwhile

    def done_meanwhile(error: IntegrityError):
        """A uniqueness rule refused a second, simultaneous submit: say so, never a 500
        (the request boundary has rolled the unit of work back)."""
        app.logger.warning("refused by a uniqueness rule: %s", str(getattr(error, "orig", error))[:200])
        return domain_error(DoneMeanwhile())

    app.register_error_handler(IntegrityError, done_meanwhile)


def _back(g, request, url_for) -> str:
    """Where a refused action returns to: the page the view named, the page the user came from
    (same site only), or the home page."""
    from urllib.parse import urlsplit

    back = g.get("back")
    if back:
        return back
    referrer = request.referrer or ""
    parts = urlsplit(referrer)
    path = parts.path or "/"
    # same site only, and never "//elsewhere" (a protocol-relative address is another site)
    if (
        referrer
        and parts.netloc in ("", request.host)
        and referrer != request.url
        and path.startswith("/")
        and not path.startswith("//")
        and "\\" not in path
    ):
        return path + (f"?{parts.query}" if parts.query else "")
    return url_for("HomeView.index")


def refuse_unknown_fab_actions(app: Flask) -> None:
    """FAB's generic /<view>/action/<name>/<pk> and /<view>/download/<filename> routes crash on
    an unknown action name or file; answer 404 instead (bad input never gets a 500)."""
    from flask import abort, request

    @app.before_request
    def check_action_name():
        endpoint = request.endpoint or ""
        if endpoint.endswith(".download") and "filename" in (request.view_args or {}):
            # FAB's FileColumn download (unused here) crashes on names it did not write.
            import os

            name = request.view_args["filename"]
            if "_sep_" not in name or not os.path.isfile(os.path.join(app.config["UPLOAD_FOLDER"], name)):
                abort(404)
            return None
        if not endpoint.endswith((".action", ".action_post")):
            return None
        name = (request.view_args or {}).get("name") or request.form.get("action")
        view = next(
            (
                v
                for v in app.appbuilder.baseviews
                if getattr(v, "blueprint", None) is not None and v.blueprint.name == request.blueprint
            ),
            None,
        )
        if view is None or name not in (getattr(view, "actions", None) or {}):
            abort(404)
        return None
