"""Both deadline schemes of the seeds are configuration: Gangnan's periods by case type (004) and
Chengde's 3 working days for a single-department problem, 15 for a multi-department one (002)."""

from __future__ import annotations

from datetime import timedelta

from app.services import cases as svc
from app.workflow import Status
from models import DeadlinePolicy
from tests.conftest import at, login
from tests.factories import case_in

NOW = at("2026-09-30 10:00")


def _add_policy(client, **form) -> int:
    response = client.post("/deadlinepolicyview/add", data={"working_days": "3", **form})
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    return response


def test_a_policy_added_without_a_departments_answer_applies_to_one_or_several(app, session):
    client = app.test_client()
    login(client, "admin")
    before = {p.id for p in session.query(DeadlinePolicy)}
    try:
        _add_policy(client, case_type="consultation", multi_department="", note="咨询")
        [added] = [p for p in session.query(DeadlinePolicy) if p.id not in before]
        assert added.multi_department is None  # not "single department only", as a checkbox made it
        page = client.get(f"/deadlinepolicyview/edit/{added.id}").get_data(as_text=True)
        assert '<option selected value="">' in page  # shown again as "one or several"
    finally:
        session.query(DeadlinePolicy).filter(DeadlinePolicy.id.notin_(before)).delete()
        session.commit()


def test_a_multi_department_policy_shows_its_answer_on_the_edit_form(app, session):
    client = app.test_client()
    login(client, "admin")
    policy = session.query(DeadlinePolicy).filter_by(multi_department=True).first()
    page = client.get(f"/deadlinepolicyview/edit/{policy.id}").get_data(as_text=True)
    assert '<option selected value="1">' in page


def test_an_unknown_departments_answer_is_refused_with_a_message(app, session):
    client = app.test_client()
    login(client, "admin")
    before = session.query(DeadlinePolicy).count()
    page = client.post("/deadlinepolicyview/add", data={"working_days": "3", "multi_department": "maybe"})
    assert page.status_code == 200 and "alert" in page.get_data(as_text=True)
    assert session.query(DeadlinePolicy).count() == before


def test_chengdes_scheme_gives_a_single_department_problem_three_working_days(
    app, session, actors, cats, depts
):
    client = app.test_client()
    login(client, "admin")
    before = {p.id for p in session.query(DeadlinePolicy)}
    try:
        _add_policy(client, multi_department="0", note="承德：单一部门3个工作日")
        session.expire_all()
        single = case_in(session, actors, cats, depts, Status.DISPATCHED, now=NOW)
        several = case_in(session, actors, cats, depts, Status.DISPATCHED, now=NOW, co=["X103"])
        # Filed Sep 30: Oct 1-7 off; Thu Oct 8, Fri Oct 9 and the make-up Sat Oct 10 are worked.
        assert single.due_at == at("2026-10-10 23:59") + timedelta(seconds=59)
        assert several.lead_assignment.due_days == 15
    finally:
        session.rollback()
        session.query(DeadlinePolicy).filter(DeadlinePolicy.id.notin_(before)).delete()
        session.commit()
        svc.recompute_open_deadlines(session)
        session.commit()
