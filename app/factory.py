"""Application factory: one Flask app and one AppBuilder per call (tests, workers, web)."""

from __future__ import annotations

from flask import Flask
from flask_appbuilder import AppBuilder

from app.extensions import db, migrate


def create_app(overrides: dict | None = None) -> Flask:
    """Build the application with settings from config.py, overridden by ``overrides``."""
    app = Flask(__name__, template_folder="../views/templates", static_folder="../views/static")
    from app.requests import CleanRequest

    app.request_class = CleanRequest  # NUL characters never reach the database
    app.config.from_object("config")
    app.config.update(overrides or {})
    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.config["BASE_DIR"] / "models" / "migrations"))
    with app.app_context():
        import models  # noqa: F401  (register the tables)
        from views.home import HomeView

        appbuilder = AppBuilder(update_perms=app.config["FAB_UPDATE_PERMS"], indexview=HomeView)
        appbuilder.init_app(app, db.session)
        from views import register_views

        register_views(appbuilder)
    from flask_babel import get_locale
    from flask_wtf.csrf import generate_csrf

    app.jinja_env.globals.update(csrf_token=generate_csrf, get_locale=get_locale)
    register_error_pages(app)
    refuse_unknown_fab_actions(app)
    from views.api_guard import guard_api_input

    guard_api_input(app)
    from app import outbox_hooks

    outbox_hooks.install(app)
    from app.cli import register_cli

    register_cli(app)
    return app


def register_error_pages(app: Flask) -> None:
    """Clear answers for refused requests: JSON for the API, a short page for people."""
    from flask import jsonify, request
    from flask_babel import gettext

    messages = {
        413: lambda: gettext("The files are too large: at most %(mb)s MB in all.",
                             mb=app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)),
        429: lambda: gettext("Too many requests; please wait a while and try again."),
        400: lambda: gettext("The request could not be understood; please try again."),
    }

    def handler(error):
        message = messages[error.code]()
        if request.path.startswith("/api/"):
            return jsonify(message=message), error.code
        page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{error.code}</title>"
                f"</head><body style='font-family:sans-serif;padding:2em'><h3>{message}</h3>"
                f"<p><a href='javascript:history.back()'>{gettext('Back')}</a></p></body></html>")
        return page, error.code

    for code in messages:
        app.register_error_handler(code, handler)


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
            if "_sep_" not in name or not os.path.isfile(
                    os.path.join(app.config["UPLOAD_FOLDER"], name)):
                abort(404)
            return None
        if not endpoint.endswith((".action", ".action_post")):
            return None
        name = (request.view_args or {}).get("name") or request.form.get("action")
        view = next((v for v in app.appbuilder.baseviews
                     if getattr(v, "blueprint", None) is not None
                     and v.blueprint.name == request.blueprint), None)
        if view is None or name not in (getattr(view, "actions", None) or {}):
            abort(404)
        return None
