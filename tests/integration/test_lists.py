"""Case lists stay cheap however many cases there are: a fixed number of SQL statements per page
(no query per row), no count of the whole table, and paging bounded to the first rows counted."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from sqlalchemy import event

from app.workflow import Status
from tests.conftest import login
from tests.factories import case_in

NOW = datetime(2026, 11, 2, 2, 0)

LISTS = {
    "handler": ["/cases/department/list/", "/cases/list/"],
    "supervisor": [
        "/cases/list/",
        "/cases/supervision/list/",
        "/cases/overdue/list/",
        "/cases/list/?_flt_0_status=replied",
    ],
    "dispatcher": ["/cases/dispatch/list/"],
    "clerk": ["/cases/intake/list/"],
}


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def statements(app):
    from app.extensions import db

    seen: list[str] = []

    def record(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    yield seen
    event.remove(db.engine, "before_cursor_execute", record)


def fill(session, actors, cats, depts, count: int) -> None:
    """Cases in the states every list shows: replied (supervision), dispatched and overdue."""
    for i in range(count):
        status = (Status.REPLIED, Status.DISPATCHED, Status.ACCEPTED, Status.SUBMITTED)[i % 4]
        case_in(session, actors, cats, depts, status, now=NOW)
    session.commit()


def statements_per_page(client, statements, url: str) -> tuple[int, str]:
    client.get(url)  # first visit warms per-process caches (translations, templates)
    statements.clear()
    response = client.get(url)
    assert response.status_code == 200, url
    return len(statements), response.get_data(as_text=True)


def test_a_list_page_costs_the_same_statements_with_4_or_24_cases(
    session, actors, cats, depts, client, statements
):
    fill(session, actors, cats, depts, 4)
    few = {}
    for user, urls in LISTS.items():
        login(client, user)
        for url in urls:
            few[user, url] = statements_per_page(client, statements, url)[0]
    fill(session, actors, cats, depts, 20)
    for user, urls in LISTS.items():
        login(client, user)
        for url in urls:
            many, html = statements_per_page(client, statements, url)
            assert many == few[user, url], f"{user} {url}: {few[user, url]} → {many} statements"
            # the user and roles, the page's rows and count, the filters' choices (category,
            # department, jurisdiction), the actor's jurisdiction and the settings
            assert many <= 17, f"{user} {url}: {many} statements"


def test_no_list_counts_every_case(session, actors, cats, depts, client, statements):
    fill(session, actors, cats, depts, 4)
    for user, urls in LISTS.items():
        login(client, user)
        for url in urls:
            statements_per_page(client, statements, url)
            counts = [s for s in statements if re.search(r"count\(", s, re.I) and re.search(r"\bcases\b", s)]
            assert counts, f"{url}: the list shows how many cases match"
            for statement in counts:
                assert re.search(r"\bLIMIT\b", statement, re.I), f"{url}: unbounded {statement}"


def test_beyond_the_counting_limit_the_list_says_more_and_pages_within_it(
    session, actors, cats, depts, client, monkeypatch
):
    import views.paging

    monkeypatch.setattr(views.paging, "COUNT_CAP", 5)
    fill(session, actors, cats, depts, 8)
    login(client, "supervisor")
    html = client.get("/cases/list/?psize_CaseView=2").get_data(as_text=True)
    assert "超过 5" in html and "筛选" in html
    shown = [int(n) for n in re.findall(r"page_CaseView=(\d+)", html)]
    assert max(shown) == 2  # pages 0, 1, 2 hold the first 5 of the 8 cases
    # A page past the limit (typed by hand) shows the last page within it, not an error.
    deep = client.get("/cases/list/?psize_CaseView=2&page_CaseView=50")
    assert deep.status_code == 200
    assert deep.get_data(as_text=True).count("/cases/show/") >= 1


def test_under_the_counting_limit_the_exact_count_is_shown(session, actors, cats, depts, client):
    fill(session, actors, cats, depts, 4)
    login(client, "supervisor")
    html = client.get("/cases/list/").get_data(as_text=True)
    assert re.search(r"记录数.{0,60}?\b4\b", html, re.S)


def test_the_intake_queue_shows_first_the_acceptance_decision_due_first(app, session, actors, cats):
    from tests.conftest import at, login
    from tests.factories import file_case

    sooner = file_case(session, actors, cats, now=at("2026-09-28 10:00"), title="先到期")
    later = file_case(session, actors, cats, now=at("2026-09-30 10:00"), title="后到期")
    assert sooner.accept_due_at < later.accept_due_at and sooner.id < later.id
    session.commit()
    client = app.test_client()
    login(client, "clerk")
    page = client.get("/cases/intake/list/").get_data(as_text=True)
    assert "受理决定期限" in page  # the deadline that matters here is shown
    assert page.index(sooner.number) < page.index(later.number)  # newest-first would invert
