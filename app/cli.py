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
    from app import clock
    from app.services import case_figures
    from app.services.assessment import build_rollup

    with unit_of_work() as session:  # the rollups of the data already there (issue 18)
        months = build_rollup(session, now=clock.utcnow())
        case_months = case_figures.build(session, now=clock.utcnow())
    click.echo(f"database ready ({months} months of KPI rollup, {case_months} of case figures built)")


@ys.command("demo")
@click.option("--cases", default=300, show_default=True)
def demo_command(cases: int) -> None:
    """Load demo departments, users and cases (once)."""
    from app.demo import load_demo

    if not current_app.config.get("YS_DEMO"):
        # the demo accounts' password is published in the README
        raise click.ClickException(
            "flask ys demo creates accounts with the published demo password: run it only in "
            "demo mode (YS_DEMO=1, which make run sets). Create real accounts with flask ys create-user."
        )
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


@ys.command("rotate-identity-key")
def rotate_identity_key_command() -> None:
    """Re-encrypt every stored identity with the first key of IDENTITY_KEY ("new,old,...")."""
    from app import clock
    from app.services.keys import reencrypt_identities

    with unit_of_work() as session:
        counts = reencrypt_identities(session, now=clock.utcnow())
    click.echo(
        f"re-encrypted {counts['reencrypted']} values; "
        f"unreadable with the listed keys: {counts['unreadable']}"
    )
    if counts["unreadable"]:
        raise SystemExit(1)


@ys.command("create-user")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True, help="A role name (repeat for several).")
@click.option("--first-name", default="", help="Given name.")
@click.option("--last-name", default="", help="Family name.")
@click.option("--email", required=True)
@click.option("--department", "department_code", default=None, help="The code of the user's department.")
@click.password_option(help="Asked for when not given; must pass the password policy.")
def create_user_command(username, roles, first_name, last_name, email, department_code, password) -> None:
    """Create a staff account (its password must pass the policy)."""
    from app.accounts import policy_messages
    from models import Department

    sm = current_app.appbuilder.sm
    if sm.find_user(username=username) is not None:
        raise click.ClickException(f"user {username} already exists")
    found = [sm.find_role(name) for name in roles]
    if None in found:
        raise click.ClickException(f"no role {roles[found.index(None)]}")
    refused = policy_messages(password, username=username, inputs=(first_name, last_name, email))
    if refused:
        raise click.ClickException("password refused: " + " ".join(refused))
    with unit_of_work() as session:
        department = None
        if department_code:
            department = session.query(Department).filter_by(code=department_code).one_or_none()
            if department is None:
                raise click.ClickException(f"no department {department_code}")
        user = sm.add_user(
            username, first_name or username, last_name, email, found, password=password, commit=False
        )
        if not user:
            raise click.ClickException("the user could not be created")
        user.department_id = department.id if department else None
    click.echo(f"user {username} created")


@ys.command("reset-password")
@click.argument("username")
@click.password_option(help="Asked for when not given; must pass the password policy.")
def reset_password_command(username, password) -> None:
    """Set a staff account's password (it must pass the policy); its sessions end."""
    from app.accounts import policy_messages

    sm = current_app.appbuilder.sm
    user = sm.find_user(username=username)
    if user is None:
        raise click.ClickException(f"no user {username}")
    refused = policy_messages(password, user)
    if refused:
        raise click.ClickException("password refused: " + " ".join(refused))
    with unit_of_work():
        sm.reset_password(user.id, password)
    click.echo(f"password of {username} set; its sessions have ended")


@ys.command("holidays")
@click.argument("preset")
@click.argument("jurisdiction_code")
@click.argument("years", nargs=-1, type=int)
def holidays_command(preset: str, jurisdiction_code: str, years: tuple[int, ...]) -> None:
    """Add a regional holiday to a jurisdiction's calendar (default: this year and the next).

    PRESET is one of: guangxi-sanyuesan (壮族三月三), xinjiang-kurban (古尔邦节), tibet-losar (藏历新年)."""
    from app import clock
    from app.calendar import PRESETS
    from app.errors import DomainError
    from app.services.calendar import apply_holiday_preset
    from models import Jurisdiction

    if preset not in PRESETS:
        raise click.ClickException(f"no preset {preset}; choose one of: {', '.join(PRESETS)}")
    this_year = clock.local_date(clock.utcnow()).year
    years = years or (this_year, this_year + 1)
    with unit_of_work() as session:
        place = session.query(Jurisdiction).filter_by(code=jurisdiction_code).one_or_none()
        if place is None:
            raise click.ClickException(f"no jurisdiction {jurisdiction_code}")
        try:
            added = apply_holiday_preset(session, preset, place, years)
        except DomainError as error:
            raise click.ClickException(error.message) from None
    click.echo(
        f"{added} days of {PRESETS[preset].name} added to {place.name} for {', '.join(map(str, years))}"
    )


def register_cli(app) -> None:
    app.cli.add_command(ys)
