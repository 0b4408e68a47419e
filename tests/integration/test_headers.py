"""Security headers (issue 13, point 1): a strict Content-Security-Policy whose only inline
scripts are those carrying the response's nonce, no framing, no MIME sniffing, a same-origin
referrer, HSTS behind TLS, and no-store on every page (staff pages show identities, public
pages show receipts and query codes)."""

from __future__ import annotations

import re

import pytest

from app.workflow import Status
from tests.conftest import at, login
from tests.factories import case_in

NOW = at("2026-11-02 10:00")


@pytest.fixture
def client(app):
    return app.test_client()


def policy(response) -> dict[str, str]:
    header = response.headers.get("Content-Security-Policy", "")
    return {part.split()[0]: " ".join(part.split()[1:]) for part in header.split(";") if part.strip()}


def assert_protected(response, path):
    csp = policy(response)
    assert "'unsafe-inline'" not in csp.get("script-src", "x"), path
    assert "'unsafe-eval'" not in csp.get("script-src", ""), path
    assert re.search(r"'nonce-[A-Za-z0-9_\-]{16,}'", csp["script-src"]), path
    assert csp["default-src"] == "'self'" and csp["object-src"] == "'none'", path
    assert csp["frame-ancestors"] == "'none'" and csp["base-uri"] == "'none'", path
    assert csp["form-action"] == "'self'", path
    assert response.headers["X-Frame-Options"] == "DENY", path
    assert response.headers["X-Content-Type-Options"] == "nosniff", path
    assert response.headers["Referrer-Policy"] == "same-origin", path
    assert "no-store" in response.headers["Cache-Control"], path


def inline_scripts_without_the_nonce(response) -> list[str]:
    nonce = re.search(r"'nonce-([^']+)'", policy(response)["script-src"]).group(1)
    html = response.get_data(as_text=True)
    tags = re.findall(r"<script\b[^>]*>", html, flags=re.I)
    return [tag for tag in tags if "src=" not in tag and f'nonce="{nonce}"' not in tag]


PUBLIC_PAGES = ["/", "/login/", "/report/", "/track/", "/bulletins/", "/no-such-page"]


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_every_public_page_is_served_with_the_strict_policy(client, path):
    response = client.get(path, follow_redirects=True)
    assert_protected(response, path)
    assert inline_scripts_without_the_nonce(response) == []


def test_every_staff_page_carries_the_policy_and_every_script_the_nonce(
    app, session, client, actors, cats, depts
):
    case = case_in(session, actors, cats, depts, Status.HANDLING, now=NOW)
    session.flush()
    pages = [
        f"/cases/show/{case.id}",
        "/cases/list/",
        "/dashboard/",
        "/notices/list/",
    ]
    admin_pages = ["/swagger/v1", "/users/list/", "/departmentview/list/"]
    for user, paths in (("supervisor", pages), ("admin", admin_pages)):
        login(client, user)
        for path in paths:
            response = client.get(path, follow_redirects=True)
            assert response.status_code == 200, path
            assert_protected(response, path)
            assert inline_scripts_without_the_nonce(response) == [], path


def test_each_response_gets_its_own_nonce(client):
    first, second = (policy(client.get("/login/"))["script-src"] for _ in range(2))
    assert first != second


def test_the_api_answers_json_with_the_same_headers(client):
    response = client.get("/api/v1/case/")
    assert response.status_code == 401 and response.is_json
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response.headers["Cache-Control"]


def test_hsts_is_sent_only_over_tls(client):
    assert "Strict-Transport-Security" not in client.get("/login/").headers
    secure = client.get("/login/", base_url="https://localhost")
    assert "max-age=31536000" in secure.headers["Strict-Transport-Security"]


def _tiny_app(**config):
    from flask import Flask, request

    from app.factory import secure_headers

    tiny = Flask("behind-a-proxy")
    tiny.config.update(SESSION_COOKIE_SECURE=False, **config)
    tiny.add_url_rule("/", "index", lambda: f"{request.scheme} {request.remote_addr}")
    secure_headers(tiny)
    return tiny.test_client()


def test_behind_a_trusted_proxy_the_client_address_and_scheme_are_the_forwarded_ones():
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    behind = _tiny_app(TRUSTED_PROXIES=1).get("/", headers=forwarded)
    assert behind.get_data(as_text=True) == "https 203.0.113.9"
    assert "max-age=31536000" in behind.headers["Strict-Transport-Security"]
    direct = _tiny_app(TRUSTED_PROXIES=0).get("/", headers=forwarded)
    assert direct.get_data(as_text=True) == "http 127.0.0.1"  # a client cannot claim an address


def test_static_files_may_be_cached(client):
    response = client.get("/static/appbuilder/css/ab.css")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")


def test_an_error_page_links_back_without_script(client):
    response = client.get("/no-such-page", headers={"Referer": "http://localhost/track/"})
    html = response.get_data(as_text=True)
    assert response.status_code == 404 and "javascript:" not in html
    assert 'href="/track/"' in html
