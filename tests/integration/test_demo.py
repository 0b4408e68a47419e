"""The demo data a new user sees covers the whole flow."""

from __future__ import annotations

from sqlalchemy import func

from app.demo import load_demo
from app.workflow import Status
from models import Case


def test_demo_cases_cover_every_status_and_some_are_overdue(session):
    from app import clock
    from app.services.cases import overdue_clause

    lines = list(load_demo(session, cases=40))
    assert lines[-1] == "loaded 40 demo cases"
    counts = dict(session.query(Case.status, func.count()).group_by(Case.status).all())
    assert set(counts) == set(Status)
    assert session.query(Case).filter(overdue_clause(clock.utcnow())).count() > 0
    assert list(load_demo(session, cases=40)) == ["demo cases already loaded"]
