"""Web security: CSRF on every state-changing screen route, cookie flags, session expiry, login
rate limits."""

from __future__ import annotations

import pytest

from app.workflow import Status
from tests.conftest import at, login
from tests.factories import case_in

NOW = at("2026-11-02 10:00")


@pytest.fixture
def csrf_on(app):
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = False


def state_changing_screen_routes(app):
    """Every non-API route that accepts POST, from the application's own URL map."""
    for rule in app.url_map.iter_rules():
        if "POST" in rule.methods and not rule.rule.startswith(("/api/", "/login", "/static")):
            yield rule


def test_every_state_changing_route_refuses_a_missing_or_wrong_csrf_token(
    app, session, actors, cats, depts, csrf_on
):
    case = case_in(session, actors, cats, depts, Status.HANDLING, now=NOW)
    session.commit()
    client = app.test_client()
    app.config["WTF_CSRF_ENABLED"] = False
    login(client, "admin")
    app.config["WTF_CSRF_ENABLED"] = True
    accepted = []
    for rule in state_changing_screen_routes(app):
        values = {
            arg: (
                case.id
                if arg
                in (
                    "pk",
                    "case_id",
                    "id",
                    "report_id",
                    "reward_id",
                    "notice_id",
                    "typical_id",
                    "attachment_id",
                )
                else "accept"
            )
            for arg in rule.arguments
        }
        url = rule.rule
        for arg, value in values.items():
            url = (
                url.replace(f"<{arg}>", str(value))
                .replace(f"<int:{arg}>", str(value))
                .replace(f"<string:{arg}>", str(value))
            )
        for token in (None, "forged-token"):
            data = {"csrf_token": token} if token else {}
            try:
                response = client.post(url, data=data)
            except Exception as error:  # a crash is a failure with the route named
                raise AssertionError(f"{url} crashed: {error!r}") from error
            if response.status_code in (200, 302):
                body = response.get_data(as_text=True)
                if (
                    response.status_code == 302
                    or "csrf" not in body.lower()
                    and "expired" not in body.lower()
                    and "失效" not in body
                    and "alert-danger" not in body
                ):
                    accepted.append((rule.rule, token, response.status_code))
    session.refresh(case)
    assert case.status == Status.HANDLING
    # A redirect back to the page with an error flash is a refusal; anything that changed state
    # would have moved the case. Report what answered without a visible refusal.
    changed = [a for a in accepted if "/logout" not in a[0] and "/lang" not in a[0]]
    assert all(code == 302 for _, _, code in changed), changed


def test_cookies_are_http_only_same_site_and_secure_behind_tls(app):
    assert app.config["SESSION_COOKIE_HTTPONLY"] and app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    client = app.test_client()
    response = client.get("/report/")
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    app.config["SESSION_COOKIE_SECURE"] = True
    try:
        cookie = app.test_client().get("/report/").headers.get("Set-Cookie", "")
        assert "Secure" in cookie
    finally:
        app.config["SESSION_COOKIE_SECURE"] = False


def test_sessions_expire(app):
    assert 0 < app.permanent_session_lifetime.total_seconds() <= 12 * 3600


def test_logins_are_rate_limited(app, session):
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    try:
        client = app.test_client()
        codes = [
            client.post(
                "/login/",
                data={"username": "clerk", "password": "wrong"},
                environ_base={"REMOTE_ADDR": "10.7.7.7"},
            ).status_code
            for _ in range(5)
        ]
        assert codes[-1] == 429
        api = [
            client.post(
                "/api/v1/security/login",
                json={"username": "clerk", "password": "x", "provider": "db"},
                environ_base={"REMOTE_ADDR": "10.7.7.8"},
            ).status_code
            for _ in range(5)
        ]
        assert api[-1] == 429
    finally:
        app.config["LOGIN_RATE_LIMIT"] = "100000 per hour"


@pytest.mark.parametrize(
    "body",
    [
        {"username": "clerk", "password": "x"},  # no provider: Flask-AppBuilder raised KeyError
        {"password": "x", "provider": "db"},
        {"username": "clerk", "password": 5, "provider": "db"},
    ],
)
def test_an_incomplete_api_login_is_a_clear_400(app, body):
    response = app.test_client().post("/api/v1/security/login", json=body)
    assert response.status_code == 400 and response.get_json()["message"]
