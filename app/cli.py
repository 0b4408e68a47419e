"""Command-line tasks: `flask ys init` (schema, permissions, reference data) and `flask ys demo`."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup
from flask_migrate import upgrade

from app.extensions import db
from app.transaction import unit_of_work

ys = AppGroup("ys", help="营商110 tasks.")


def init_database() -> None:
    """Migrate the schema, sync permissions and roles, and seed reference data."""
    from app.security import ensure_builtin_roles, sync_roles
    from app.seed import seed_reference_data

    upgrade(directory=str(current_app.config["BASE_DIR"] / "models" / "migrations"))
    appbuilder = current_app.appbuilder
    with unit_of_work():
        ensure_builtin_roles(appbuilder.sm)
    appbuilder.add_permissions(update_perms=True)  # FAB's own sync commits by itself
    with unit_of_work() as session:
        sync_roles(appbuilder.sm)
        seed_reference_data(session)


@ys.command("init")
def init_command() -> None:
    """Create or upgrade the database and load the reference data."""
    init_database()
    click.echo("database ready")


@ys.command("demo")
@click.option("--cases", default=300, show_default=True)
def demo_command(cases: int) -> None:
    """Load demo departments, users and cases (once)."""
    from app.demo import load_demo

    with unit_of_work() as session:
        for line in load_demo(session, cases=cases):
            click.echo(line)


@ys.command("api-key")
@click.argument("username")
@click.option("--name", default="intake", show_default=True, help="A label for the key.")
def api_key_command(username: str, name: str) -> None:
    """Create an API key for a connected system's user (shown once)."""
    sm = current_app.appbuilder.sm
    user = sm.find_user(username=username)
    if user is None:
        raise click.ClickException(f"no user {username}")
    with unit_of_work():
        key = sm.create_api_key(user, name)
    click.echo(key["key"] if isinstance(key, dict) and "key" in key else key)


@ys.command("audit-verify")
def audit_verify_command() -> None:
    """Check the hash chain of the audit log; exit 1 if a record was edited or deleted."""
    from app.services.audit import verify

    problems = verify(db.session)
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        raise SystemExit(1)
    click.echo("audit log intact")


def register_cli(app) -> None:
    app.cli.add_command(ys)
