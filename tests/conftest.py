"""Shared fixtures: one app per test session on the database of TEST_DATABASE_URL (SQLite
file by default, PostgreSQL in CI), built by the real migrations and seeds."""

from __future__ import annotations

import os
import re
from datetime import datetime

import pytest

DATABASE_URL = os.environ.get("TEST_DATABASE_URL")


def _reset_database(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    from app.cli import init_database
    from app.demo import load_org
    from app.extensions import db
    from app.factory import create_app

    url = DATABASE_URL or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    _reset_database(url)
    application = create_app({
        "SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "WTF_CSRF_ENABLED": False,
        "SERVER_NAME": "localhost", "FILING_RATE_LIMIT": "10000 per hour",
        "TRACKING_RATE_LIMIT": "10000 per hour", "ENQUEUE_AFTER_COMMIT": False,
        "LOGIN_RATE_LIMIT": "100000 per hour", "HOME_COUNTS_SECONDS": 0,
        "UPLOAD_DIR": str(tmp_path_factory.mktemp("up")),
        "REPORT_DIR": str(tmp_path_factory.mktemp("reports")),
    })
    def fresh_g():
        # Test requests reuse the fixture's app context, so `g` (and the logged-in user
        # Flask-Login caches there) would leak from one request into the next.
        from flask import g

        g.__dict__.clear()

    application.before_request_funcs.setdefault(None, []).insert(0, fresh_g)
    with application.app_context():
        init_database()
        load_org(db.session)
        db.session.commit()
    yield application


@pytest.fixture
def session(app):
    """A database session inside an app context; case data is wiped after each test."""
    import models as m
    from app.extensions import db

    with app.test_request_context():
        yield db.session
        db.session.rollback()
        db.session.query(m.Case).update({m.Case.merged_into_id: None})
        db.session.execute(m.Notice.__table__.metadata.tables["notice_case"].delete())
        for model in (m.TypicalCase, m.GeneratedReport, m.RewardClaim, m.RewardEntry, m.Reward,
                      m.InboxMessage, m.Notification,
                      m.RevisitTask, m.Notice, m.NoticeCounter,
                      m.CaseEvent, m.ExtensionRequest, m.Assignment, m.CaseMessage,
                      m.Attachment, m.IdentityAccess, m.CaseLink, m.Reporter, m.Case,
                      m.TrackingAttempt, m.UsedChallenge, m.ServiceWindow):
            db.session.query(model).delete()
        db.session.commit()


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
    """Log in through the real login form."""
    client.get("/logout/")
    response = client.post("/login/", data={"username": username, "password": password})
    assert response.status_code in (200, 302)
    return client


def visible_text(html: str) -> str:
    """The text a person sees: tags, scripts and styles removed."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S | re.I)
    return re.sub(r"<[^>]+>", " ", html)
