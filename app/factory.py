"""Application factory: one Flask app and one AppBuilder per call (tests, workers, web)."""

from __future__ import annotations

from flask import Flask
from flask_appbuilder import AppBuilder

from app.extensions import db, migrate


def create_app(overrides: dict | None = None) -> Flask:
    """Build the application with settings from config.py, overridden by ``overrides``."""
    app = Flask(__name__, template_folder="../views/templates", static_folder="../views/static")
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
    from flask_wtf.csrf import generate_csrf

    app.jinja_env.globals["csrf_token"] = generate_csrf
    from app.cli import register_cli

    register_cli(app)
    return app
