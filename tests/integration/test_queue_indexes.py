"""The queues a province needs at 5 million cases are answered by their own indexes (issue 18).

On PostgreSQL each page's own statements (captured as the page runs them, with their values)
are explained, with sequential scans, sorts and bitmaps priced out as on a big table, and the
plan must name the queue's index: the overdue list walks ix_cases_overdue in its (due_at, id)
order and counts from it, a handler's status filter reads ix_cases_open_status_case. (The
covering columns added to ix_cases_jurisdiction_case and ix_cases_lead_status only pay on a big
table, where the counts read them alone: a few rows cannot tell them from their neighbours, so
bench/lists.py --explain shows those.) On SQLite only the rule is checked: the overdue clause
and the index's condition name the same statuses.
"""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from sqlalchemy import event

from app.services import cases as svc
from app.workflow import Status
from models.case import OVERDUE_SQL
from tests.conftest import login
from tests.factories import case_in

NOW = datetime(2026, 11, 2, 2, 0)


def test_the_overdue_index_holds_exactly_the_statuses_a_case_may_be_overdue_in():
    assert set(re.findall(r"'(\w+)'", OVERDUE_SQL)) == {s.value for s in svc.OVERDUE_STATUSES}
    assert Status.CLOSED not in svc.OVERDUE_STATUSES and Status.REPLIED not in svc.OVERDUE_STATUSES


@pytest.fixture
def postgres_only(app):
    from app.extensions import db

    with app.app_context():
        dialect = db.engine.dialect.name
    if dialect != "postgresql":
        pytest.skip("the plans are PostgreSQL's")


def page_plans(app, client, url: str) -> dict[str, str]:
    """Each statement the page runs on the cases table (its list, its count), explained."""
    from app.extensions import db

    seen: list[tuple[str, object]] = []
    with app.app_context():
        engine = db.engine

    def record(conn, cursor, statement, parameters, context, executemany):
        if re.search(r"\bcases\b", statement) and not statement.startswith("EXPLAIN"):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        assert client.get(url).status_code == 200, url
    finally:
        event.remove(engine, "before_cursor_execute", record)
    plans = {}
    with app.app_context():
        connection = db.session.connection()
        cursor = connection.connection.driver_connection.cursor()
        # A few rows here, just written (no visibility map to read an index alone): price out
        # what only a small table makes cheap, sequential scans, sorts and bitmaps.
        for setting in ("enable_seqscan", "enable_sort", "enable_bitmapscan", "jit"):
            cursor.execute(f"SET LOCAL {setting} = off")
        for statement, parameters in seen:
            kind = "count" if statement.lstrip().lower().startswith("select count(") else "list"
            cursor.execute("EXPLAIN " + statement, parameters or None)
            plans[kind] = "\n".join(row[0] for row in cursor.fetchall())
        db.session.rollback()
    return plans


@pytest.fixture
def open_cases(session, actors, cats, depts):
    for status in (Status.SUBMITTED, Status.DISPATCHED, Status.HANDLING, Status.HANDLING, Status.REPLIED):
        case_in(session, actors, cats, depts, status, now=NOW)  # all long past their deadlines
    session.commit()


def test_the_overdue_list_walks_its_index_in_deadline_order(postgres_only, app, open_cases):
    client = app.test_client()
    login(client, "supervisor")
    plans = page_plans(app, client, "/cases/overdue/list/")
    assert re.search(r"Index Scan using ix_cases_overdue", plans["list"]), plans["list"]
    assert "Sort" not in plans["list"], plans["list"]  # the index gives the order: no sort of every row
    assert re.search(r"Index (Only )?Scan using ix_cases_overdue", plans["count"]), plans["count"]


def test_a_handlers_status_filter_reads_the_open_status_index(postgres_only, app, open_cases):
    client = app.test_client()
    login(client, "handler")
    plans = page_plans(app, client, "/cases/department/list/?_flt_0_status=handling")
    assert re.search(r"Index (Only )?Scan using ix_cases_open_status_case", plans["count"]), plans["count"]
    assert "Seq Scan on cases" not in plans["list"], plans["list"]
