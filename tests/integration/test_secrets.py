"""Secrets: the platform never runs on a published key, and identity keys can be rotated.

Rules (issue 13, point 2): the web app, the worker and the CLI refuse to start while
SECRET_KEY, IDENTITY_KEY or QUERY_CODE_KEY is unset or a published default, naming the variable
and saying how to make one, unless YS_DEMO=1; a cookie signed with a published key opens
nothing; IDENTITY_KEY lists keys newest first, old keys still decrypt, and a command
re-encrypts everything with the newest.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import Text, select, type_coerce

from app import keys
from models import Reporter
from tests.conftest import at
from tests.factories import file_case

BASE = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PUBLISHED_KEYS = sorted(keys.PUBLISHED & {"dev-only-change-me-营商110", *keys.DEMO_KEYS.values()})


@pytest.fixture
def client(app):
    return app.test_client()


def _environment(**secrets) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in (*keys.REQUIRED, "YS_DEMO")}
    env.update(secrets, PYTHONPATH=str(BASE), FLASK_APP="app.factory:create_app")
    env["DATABASE_URL"] = "sqlite:////nonexistent/never-opened.db"
    return env


STARTS = {
    "cli": [str(BIN / "flask"), "ys", "init"],
    "worker": [sys.executable, "-m", "jobs.worker", "default"],
    "web": [str(BIN / "gunicorn"), "--workers", "1", "--bind", "127.0.0.1:0", "app.factory:create_app()"],
}


@pytest.mark.parametrize("process", sorted(STARTS))
def test_no_process_starts_without_its_secrets(process):
    result = subprocess.run(
        STARTS[process], env=_environment(), cwd=BASE, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    for name in keys.REQUIRED:
        assert f"{name} is not set" in result.stderr
    assert "secrets.token_urlsafe" in result.stderr and "YS_DEMO=1" in result.stderr


@pytest.mark.parametrize("process", ["cli", "worker"])
def test_no_process_starts_on_a_published_key(process):
    env = _environment(
        SECRET_KEY="dev-only-change-me-营商110",  # the default earlier versions shipped
        IDENTITY_KEY=secrets.token_urlsafe(32)
        + ","
        + keys.DEMO_KEYS["IDENTITY_KEY"],  # an old key that is public
        QUERY_CODE_KEY="short",
    )
    result = subprocess.run(STARTS[process], env=env, cwd=BASE, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "SECRET_KEY is a published default" in result.stderr
    assert "IDENTITY_KEY is a published default" in result.stderr
    assert "QUERY_CODE_KEY is too short" in result.stderr


def test_one_secret_may_not_serve_as_another():
    same = secrets.token_urlsafe(36)
    found = keys.problems(
        {"SECRET_KEY": same, "IDENTITY_KEY": same, "QUERY_CODE_KEY": secrets.token_urlsafe(36)}
    )
    assert found == ["IDENTITY_KEY is the same as SECRET_KEY; each secret must be its own."]


def test_a_long_key_of_few_characters_is_no_secret():
    found = keys.problems(
        {
            "SECRET_KEY": "ab" * 24,
            "IDENTITY_KEY": secrets.token_urlsafe(36),
            "QUERY_CODE_KEY": secrets.token_urlsafe(36),
        }
    )
    assert found == ["SECRET_KEY is not random (2 different characters)."]


def test_the_tests_themselves_run_on_fresh_unpublished_keys(app):
    assert keys.problems(app.config) == []
    source = "".join(path.read_text() for path in (BASE / "tests").rglob("*.py"))
    assert all(app.config[name] not in source for name in keys.REQUIRED)


def test_the_demo_runs_on_its_published_keys_and_says_so():
    config = {"YS_DEMO": True, "SECRET_KEY": "", "IDENTITY_KEY": "", "QUERY_CODE_KEY": ""}
    keys.apply(config)
    assert {name: config[name] for name in keys.REQUIRED} == keys.DEMO_KEYS
    result = subprocess.run(
        [str(BIN / "flask"), "ys", "--help"],
        env={**_environment(), "YS_DEMO": "1"},
        cwd=BASE,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "demo mode (YS_DEMO=1" in (BASE / "run.py").read_text()
    assert "YS_DEMO=1 .venv/bin/python run.py" in (BASE / "Makefile").read_text()


def _cookie(app, secret: str, data: dict) -> str:
    """A session cookie for ``data`` signed the way Flask signs it, with ``secret``."""
    signer = SecureCookieSessionInterface().get_signing_serializer(_with_key(app, secret))
    return signer.dumps(data)


class _with_key:
    def __init__(self, app, secret):
        self.secret_key, self.config = secret, app.config
        self.session_interface = app.session_interface


@pytest.mark.parametrize("published", PUBLISHED_KEYS)
def test_a_cookie_signed_with_a_published_key_opens_no_tracking_page(
    app, session, client, actors, cats, published
):
    case = file_case(session, actors, cats, now=at("2026-11-02 10:00"), title="营业执照变更迟迟不办")
    reporter = case.reporters[0]
    session.flush()
    forged = {"tracked_reporter": reporter.id}

    client.set_cookie(app.config["SESSION_COOKIE_NAME"], _cookie(app, app.config["SECRET_KEY"], forged))
    assert "营业执照变更迟迟不办" in client.get("/track/case").get_data(as_text=True)  # the forgery works...

    client.set_cookie(app.config["SESSION_COOKIE_NAME"], _cookie(app, published, forged))
    assert "营业执照变更迟迟不办" not in client.get("/track/case").get_data(
        as_text=True
    )  # ...only with the real key


@pytest.mark.parametrize("published", PUBLISHED_KEYS)
def test_a_cookie_signed_with_a_published_key_is_no_login(app, session, client, published):
    admin = app.appbuilder.sm.find_user(username="admin")
    forged = {"_user_id": str(admin.id), "_fresh": True, "_id": "x"}
    client.set_cookie(app.config["SESSION_COOKIE_NAME"], _cookie(app, published, forged))
    response = client.get("/users/list/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def _raw_names(session) -> list[str]:
    return (
        session.execute(select(type_coerce(Reporter.name, Text)).where(Reporter.name.isnot(None)))
        .scalars()
        .all()
    )


def test_identity_keys_rotate_old_keys_decrypt_and_a_command_reencrypts(app, session, actors, cats):
    old, new = "old-identity-key-" + "o" * 32, "new-identity-key-" + "n" * 32
    configured = app.config["IDENTITY_KEY"]
    try:
        app.config["IDENTITY_KEY"] = old
        case = file_case(session, actors, cats, now=at("2026-11-02 10:00"), reporter_name="李秀兰")
        session.flush()
        reporter_id = case.reporters[0].id
        written_with_old = _raw_names(session)
        assert written_with_old and "李秀兰" not in " ".join(written_with_old)  # ciphertext only

        app.config["IDENTITY_KEY"] = f"{new},{old}"  # a new key encrypts, the old one still decrypts
        session.expire_all()
        assert session.get(Reporter, reporter_id).name == "李秀兰"

        result = app.test_cli_runner().invoke(args=["ys", "rotate-identity-key"])
        assert result.exit_code == 0, result.output
        assert "unreadable with the listed keys: 0" in result.output

        app.config["IDENTITY_KEY"] = new  # the old key is retired: everything still reads
        session.expire_all()
        assert session.get(Reporter, reporter_id).name == "李秀兰"
        assert set(_raw_names(session)).isdisjoint(written_with_old)

        app.config["IDENTITY_KEY"] = old  # and the old key alone reads nothing any more
        session.expire_all()
        assert session.get(Reporter, reporter_id).name is None
    finally:
        app.config["IDENTITY_KEY"] = configured


def test_rotation_reports_values_no_listed_key_can_read(app, session, actors, cats):
    configured = app.config["IDENTITY_KEY"]
    try:
        app.config["IDENTITY_KEY"] = "lost-identity-key-" + "l" * 32
        file_case(session, actors, cats, now=at("2026-11-02 10:00"), reporter_name="王建军")
        session.flush()
        app.config["IDENTITY_KEY"] = configured
        result = app.test_cli_runner().invoke(args=["ys", "rotate-identity-key"])
        assert result.exit_code == 1 and "unreadable with the listed keys: 0" not in result.output
    finally:
        app.config["IDENTITY_KEY"] = configured


def test_the_readme_says_which_secrets_production_sets():
    readme = (BASE / "README.md").read_text()
    production = readme[readme.index("## Production") :]
    for name in (*keys.REQUIRED, "rotate-identity-key"):
        assert name in production


def test_keys_once_written_into_the_repository_are_refused():
    # the second attacker review started a production instance on tests/conftest.py's old keys
    old = {
        "SECRET_KEY": "test-secret-key-0123456789abcdef0123456789",
        "IDENTITY_KEY": "test-identity-key-0123456789abcdef0123456789",
        "QUERY_CODE_KEY": "test-query-code-key-0123456789abcdef0123456789",
    }
    assert keys.problems(old) == [
        f"{name} is a published default; anyone can use it." for name in keys.REQUIRED
    ]
