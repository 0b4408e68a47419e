"""Shared fixtures: one app per test session on the database of TEST_DATABASE_URL (SQLite
file by default, PostgreSQL in CI), built by the real migrations and seeds.

Tests run the way production runs: every request of the test client, and every job, gets
its own app context and so its own SQLAlchemy session; nothing is shared across requests.
Each test runs inside one outer transaction on one connection that every session joins
through a savepoint (their commits release savepoints), rolled back when the test ends
(the isolation Indico's and SQLAlchemy's testing recipes use). Tests that need real commits
seen by other connections (threads, worker processes) are marked ``real_commits`` and clean
up by deleting the case data instead.
"""

from __future__ import annotations

import contextvars
import os
import re
import secrets
from datetime import datetime

import pytest
from flask.testing import FlaskClient

DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
# The tests run the platform as production does: with secrets of their own, made fresh for
# each run (never written down, so never a published key), not the demo's; the processes they
# start, workers and the web server, inherit them.
for _name in ("SECRET_KEY", "IDENTITY_KEY", "QUERY_CODE_KEY"):
    os.environ.setdefault(_name, secrets.token_urlsafe(32))
os.environ.pop("YS_DEMO", None)


def _reset_database(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def throwaway_database_url(tmp_path_factory, suffix: str) -> str:
    """A database of its own for tests that must not touch the shared one: a second SQLite
    file, or a second PostgreSQL database next to TEST_DATABASE_URL (created empty)."""
    if not DATABASE_URL:
        return f"sqlite:///{tmp_path_factory.mktemp(suffix) / f'{suffix}.db'}"
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(DATABASE_URL)
    name = f"{url.database}_{suffix}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def _sqlite_savepoints(engine) -> None:
    """pysqlite starts transactions lazily and breaks SAVEPOINT; let SQLAlchemy emit BEGIN
    (SQLAlchemy's documented recipe), so the outer test transaction holds everything."""
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(connection):
        connection.exec_driver_sql("BEGIN")


class FreshContextClient(FlaskClient):
    """A test client whose every request runs in a new app context, hence a new session,
    exactly as under gunicorn. The test's own session is flushed before the request (so the
    request sees it) and expired after (so the test reads what the request committed)."""

    def open(self, *args, **kwargs):
        from flask import has_app_context

        from app.extensions import db

        outer = db.session() if has_app_context() else None
        if outer is not None:
            outer.flush()
        response = contextvars.Context().run(super().open, *args, **kwargs)
        if outer is not None:
            outer.expire_all()
        return response


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    from app.cli import init_database
    from app.demo import load_org
    from app.extensions import db
    from app.factory import create_app

    url = DATABASE_URL or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    _reset_database(url)
    application = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
            "SERVER_NAME": "localhost",
            "FILING_RATE_LIMIT": "10000 per hour",
            "TRACKING_RATE_LIMIT": "10000 per hour",
            "ENQUEUE_AFTER_COMMIT": False,
            "LOGIN_RATE_LIMIT": "100000 per hour",
            "HOME_COUNTS_SECONDS": 0,
            "UPLOAD_DIR": str(tmp_path_factory.mktemp("up")),
            "REPORT_DIR": str(tmp_path_factory.mktemp("reports")),
            "NOTICE_DIR": str(tmp_path_factory.mktemp("notices")),
            "SEAL_DIR": str(tmp_path_factory.mktemp("seals")),
        }
    )
    application.test_client_class = FreshContextClient
    # A session bound to the test's connection joins its transaction through a savepoint.
    db.session.session_factory.configure(join_transaction_mode="create_savepoint")
    with application.app_context():
        if db.engine.dialect.name == "sqlite":
            _sqlite_savepoints(db.engine)
        init_database()
        load_org(db.session)
        db.session.commit()
    yield application


_CASE_DATA = (
    "KpiMonth",
    "KpiStale",
    "KpiBuiltMonth",
    "TypicalCase",
    "GeneratedReport",
    "RewardClaim",
    "RewardEntry",
    "Reward",
    "InboxMessage",
    "Notification",
    "RevisitTask",
    "Notice",
    "NoticeCounter",
    "Rectification",
    "Finding",
    "ClockPause",
    "Dispute",
    "CaseEvent",
    "ExtensionRequest",
    "Assignment",
    "CaseMessage",
    "Attachment",
    "IdentityAccess",
    "IdentityRequest",
    "CaseLink",
    "Reporter",
    "Case",
    "TrackingAttempt",
    "UsedChallenge",
    "ServiceWindow",
)


def _wipe_case_data(app) -> None:
    import models as m
    from app.extensions import db

    with app.app_context():
        db.session.query(m.Case).update({m.Case.merged_into_id: None})
        db.session.execute(m.Notice.__table__.metadata.tables["notice_case"].delete())
        for name in _CASE_DATA:
            db.session.query(getattr(m, name)).delete()
        db.session.commit()


@pytest.fixture(autouse=True)
def _isolated_database(request):
    """Roll back everything a test wrote (see the module docstring)."""
    if "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")
    if request.node.get_closest_marker("real_commits"):
        yield
        _wipe_case_data(app)
        return
    from app.extensions import db

    engines = db._app_engines[app]
    engine = engines[None]
    connection = engine.connect()
    outer = connection.begin()
    engines[None] = connection
    try:
        yield connection
    finally:
        engines[None] = engine
        outer.rollback()
        connection.close()


@pytest.fixture
def session(app):
    """The test's own database session, inside an app and request context of its own."""
    from app.extensions import db

    with app.test_request_context():
        yield db.session


@pytest.fixture
def actors(session):
    """The demo users as service actors, by username."""
    from app.demo import USERS, actor_for

    return {username: actor_for(session, username) for username, *_ in USERS}


@pytest.fixture
def depts(session):
    from models import Department

    return {d.code: d for d in session.query(Department)}


@pytest.fixture
def cats(session):
    from models import Category

    return {c.code: c for c in session.query(Category)}


def at(text: str) -> datetime:
    """A naive UTC datetime from 'YYYY-MM-DD HH:MM' Beijing time (tests read in local time)."""
    from datetime import UTC
    from zoneinfo import ZoneInfo

    local = datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=ZoneInfo("Asia/Shanghai"))
    return local.astimezone(UTC).replace(tzinfo=None)


def login(client, username: str, password: str = "Demo@2026"):
    """Log in through the real login form and, for an account that needs it, the real second
    step: the TOTP code is computed with pyotp from the account's secret, as the user's
    authenticator app would (a first login sets the authenticator up, as a person's does)."""
    client.post("/logout/", data=_form_token(client, "/logout/"))
    form = {"username": username, "password": password, **_form_token(client, "/login/")}
    response = client.post("/login/", data=form)
    # a refused login answers 302 too, back to the login page
    assert response.status_code == 302, username
    if response.headers["Location"].startswith(("/login/code/", "http://localhost/login/code/")):
        token = _form_token(client, "/login/code/", always=True)  # enrols on a first login
        code = totp_code(client.application, username)
        response = client.post("/login/code/", data={"code": code, **token})
        assert response.status_code == 302, username
    assert "/login" not in response.headers["Location"], username
    return client


def _form_token(client, url: str, always: bool = False) -> dict:
    """The CSRF token of the form at ``url`` when the app checks them (as a browser sends it)."""
    if not always and not client.application.config.get("WTF_CSRF_ENABLED", True):
        return {}
    response = client.get(url)
    assert response.status_code == 200 or not always, url
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', response.get_data(as_text=True))
    return {"csrf_token": found.group(1)} if found else {}


def totp_code(app, username: str) -> str:
    """A code of the account's authenticator not used yet: the current 30-second step's, or
    the next one's (the server accepts one step of clock drift each way). A test that logs the
    same user in more often than twice in half a minute (no person does) would have to wait for
    the next step: the used step is forgotten instead, as if that half minute had passed."""
    import time

    import pyotp

    from app.extensions import db
    from models import Staff

    with app.app_context():
        user = db.session.query(Staff).filter_by(username=username).one()
        secret, last = user.totp_secret, user.totp_last_step
        current = int(time.time() // 30)
        if last is not None and last >= current + 1:
            user.totp_last_step = last = current - 1
            db.session.commit()
    assert secret, f"{username} has no authenticator set up"
    step = current if last is None or current > last else current + 1
    return pyotp.TOTP(secret).generate_otp(step)


def api_token(client, username: str, password: str = "Demo@2026") -> str:
    """A JWT access token from the real API login, with the TOTP code (``"totp"``) when the
    account needs one; an account without an authenticator sets it up through the web login
    first (the API refuses it until then). The cookies the calls set are dropped."""
    body = {"username": username, "password": password, "provider": "db"}
    response = client.post("/api/v1/security/login", json=body)
    if response.status_code == 401 and "totp" not in body:
        from app.extensions import db
        from models import Staff

        with client.application.app_context():
            enrolled = db.session.query(Staff.totp_enabled_at).filter_by(username=username).scalar()
        if enrolled is None:
            login(client.application.test_client(), username, password)
        body["totp"] = totp_code(client.application, username)
        response = client.post("/api/v1/security/login", json=body)
    client._cookies.clear()
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["access_token"]


def visible_text(html: str) -> str:
    """The text a person sees: tags, scripts and styles removed."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S | re.I)
    return re.sub(r"<[^>]+>", " ", html)
