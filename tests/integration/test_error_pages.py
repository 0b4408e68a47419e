"""Refusals answer clearly: a styled, translated page for people, JSON under /api/."""

from __future__ import annotations

import pytest

from tests.conftest import login


@pytest.fixture
def client(app):
    return app.test_client()


def test_an_unknown_page_is_a_styled_chinese_page_for_phones(client):
    response = client.get("/no-such-page/")
    page = response.get_data(as_text=True)
    assert response.status_code == 404
    assert 'name="viewport"' in page and 'id="error-page"' in page and "未找到" in page
    assert "/report/" in page and "/track/" in page  # somewhere to go from here
    assert response.headers["Cache-Control"] == "no-store"


def test_a_wrong_method_and_a_too_large_upload_get_pages_of_their_own(app, client):
    assert client.delete("/report/").status_code == 405
    big = b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = client.post("/report/", data=big, content_type="application/octet-stream")
    assert response.status_code == 413 and "文件过大" in response.get_data(as_text=True)


def test_the_api_answers_json_errors(client):
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404 and response.is_json and response.json["message"]


def test_a_refused_action_on_a_screen_returns_with_its_message(client, session, actors, cats):
    from tests.conftest import at
    from tests.factories import file_case

    case = file_case(session, actors, cats, now=at("2026-09-30 10:00"))
    session.commit()
    login(client, "clerk")
    # an action form is shown again, with the refusal and nothing changed
    response = client.post(f"/cases/act/{case.id}/close", data={"note": "x"})
    assert response.status_code == 200 and "alert-danger" in response.get_data(as_text=True)
    # a one-button action returns to the case page with the refusal
    response = client.post(f"/cases/act/{case.id}/message", data={"body": ""})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/cases/show/{case.id}")
    assert "alert-danger" in client.get(response.headers["Location"]).get_data(as_text=True)
    session.refresh(case)
    assert case.status == "submitted" and not case.messages


def test_a_refusal_returns_only_to_a_page_of_this_site(app):
    from flask import g, request, url_for

    from app.factory import _back

    cases = {
        "http://localhost/cases/show/3?x=1": "/cases/show/3?x=1",
        "http://localhost//evil.example/x": "/",  # protocol-relative: another site
        "http://evil.example/cases/": "/",
        "http://localhost/\\evil.example": "/",
    }
    for referrer, expected in cases.items():
        with app.test_request_context("/cases/act/1/message", method="POST", headers={"Referer": referrer}):
            assert _back(g, request, url_for) == expected, referrer
