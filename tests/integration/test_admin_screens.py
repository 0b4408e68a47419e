"""Administrator screens: calendar edits recompute deadlines; users belong to departments;
supervisors' queues show what waits for them."""

from __future__ import annotations

from datetime import timedelta

from app.services import cases as svc
from app.workflow import Action, Status
from models import CalendarYear, Staff
from tests.conftest import api_token as conftest_api_token
from tests.conftest import at, login
from tests.factories import case_in, handler_of


def test_entering_2027_on_the_calendar_screen_recomputes_open_deadlines(app, session, actors, cats, depts):
    case = case_in(session, actors, cats, depts, Status.DISPATCHED, now=at("2026-12-24 10:00"))
    session.commit()
    assert case.due_provisional
    client = app.test_client()
    login(client, "admin")
    try:
        for day in ("2027-01-01", "2027-01-04", "2027-01-05"):
            response = client.post(
                "/calendardayview/add", data={"day": day, "kind": "holiday", "name": "元旦"}
            )
            assert response.status_code == 302
        response = client.post(
            "/calendaryearview/add", data={"year": "2027", "official": "y", "note": "国务院办公厅通知"}
        )
        assert response.status_code == 302
        session.expire_all()
        case = session.get(svc.Case, case.id)
        assert not case.due_provisional
        assert case.due_at == at("2027-01-12 23:59") + timedelta(seconds=59)
    finally:
        from models import CalendarDay

        session.query(CalendarDay).filter(CalendarDay.day >= at("2027-01-01 12:00").date()).delete()
        session.query(CalendarYear).filter(CalendarYear.year == 2027).delete()
        session.commit()


def test_an_administrator_puts_a_user_in_a_department(app, session, depts):
    client = app.test_client()
    login(client, "admin")
    role = session.query(Staff).filter_by(username="handler").one().roles[0]
    response = client.post(
        "/users/add",
        data={
            "first_name": "新",
            "last_name": "王",
            "username": "newhandler",
            "active": "y",
            "email": "newhandler@demo.yingshang110.cn",
            "department": str(depts["X103"].id),
            "roles": [str(role.id)],
            "password": "Pass@2026word",
            "conf_password": "Pass@2026word",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    user = session.query(Staff).filter_by(username="newhandler").one()
    try:
        assert user.department_id == depts["X103"].id
    finally:
        session.delete(user)
        session.commit()


def test_the_supervisor_queue_holds_evaluations_and_extension_requests(app, session, actors, cats, depts):
    now = at("2026-11-02 10:00")
    replied = case_in(session, actors, cats, depts, Status.REPLIED, now=now)
    extending = case_in(session, actors, cats, depts, Status.HANDLING, now=now)
    svc.perform(
        session,
        extending.id,
        Action.REQUEST_EXTENSION,
        actor=handler_of(actors, "X102"),
        now=now + timedelta(hours=5),
        days=2,
        reason="需补充材料",
    )
    quiet = case_in(session, actors, cats, depts, Status.HANDLING, now=now)
    session.commit()
    client = app.test_client()
    login(client, "supervisor")
    page = client.get("/cases/supervision/list/?psize_SupervisionQueueView=100").get_data(as_text=True)
    assert replied.number in page and extending.number in page and quiet.number not in page


def test_the_overdue_list_holds_open_cases_past_their_deadline(app, session, actors, cats, depts):
    late = case_in(session, actors, cats, depts, Status.HANDLING, now=at("2026-01-05 10:00"))
    closed = case_in(session, actors, cats, depts, Status.CLOSED, now=at("2026-01-05 10:00"))
    fresh = case_in(session, actors, cats, depts, Status.HANDLING, now=at("2099-01-05 10:00"))
    session.commit()
    client = app.test_client()
    login(client, "leader")
    page = client.get("/cases/overdue/list/?psize_OverdueCaseView=100").get_data(as_text=True)
    assert late.number in page and closed.number not in page and fresh.number not in page


def test_departments_form_a_province_city_county_tree(app, session, depts):
    client = app.test_client()
    login(client, "admin")
    response = client.post(
        "/departmentview/add",
        data={
            "code": "X999",
            "name": "测试县教育局",
            "level": "county",
            "parent": str(depts["P00"].id),
            "region": "清源省",
        },
    )
    page = response.get_data(as_text=True)
    # refused on the form itself, which keeps what was typed (the region is chosen from the tree)
    assert response.status_code == 200 and "县级单位的上级单位须为上一层级" in page
    assert 'value="X999"' in page and 'value="测试县教育局"' in page
    assert '<option selected value="清源省">' in page
    token = conftest_api_token(client, "admin")
    headers = {"Authorization": f"Bearer {token}"}
    bad = client.post(
        "/api/v1/department/",
        headers=headers,
        json={"code": "X998", "name": "测试", "level": "city", "parent_id": depts["C10"].id},
    )
    assert bad.status_code == 422 and bad.json["message"]
    good = client.post(
        "/api/v1/department/",
        headers=headers,
        json={
            "code": "X997",
            "name": "长河县教育局",
            "level": "county",
            "parent_id": depts["C10"].id,
            "region": "清源省",
        },
    )
    assert good.status_code == 201, good.json
    from models import Department

    assert session.query(Department).filter_by(code="X999").count() == 0


def test_a_save_the_database_refuses_is_told_without_sql(app, session):
    client = app.test_client()
    login(client, "admin")
    data = {"code": "tier9", "name": "零元档次", "min_yuan": "0", "max_yuan": "200", "active": "y"}
    page = client.post("/rewardtierview/add", data=data, follow_redirects=True)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "未能保存" in text
    assert "INSERT" not in text and "[parameters" not in text
