"""Screens and REST API per role: who sees what, who may act, and cross-department isolation."""

from __future__ import annotations

import pytest

from app.workflow import Status
from tests.conftest import api_token as conftest_api_token
from tests.conftest import at, login
from tests.factories import REGION_OF, case_in, office_of

NOW = at("2026-11-02 10:00")

MENU_PAGES = {
    "/cases/new/": {"clerk"},
    "/cases/intake/list/": {"clerk"},
    "/cases/dispatch/list/": {"dispatcher"},
    "/cases/department/list/": {"handler"},
    "/cases/list/": {"clerk", "dispatcher", "handler", "supervisor", "leader"},
    "/cases/supervision/list/": {"supervisor"},
    "/cases/overdue/list/": {"supervisor", "leader"},
    "/departmentview/list/": set(),
    "/categoryview/list/": set(),
    "/calendardayview/list/": set(),
    "/calendaryearview/list/": set(),
    "/deadlinepolicyview/list/": set(),
    "/dispatchruleview/list/": set(),
    "/settingview/list/": set(),
    "/users/list/": set(),
}
ROLES = ["clerk", "dispatcher", "handler", "supervisor", "leader"]


@pytest.fixture
def client(app):
    return app.test_client()


def action_links(page: str) -> list[str]:
    """The workflow action buttons on a case page."""
    import re

    return re.findall(r'href="/cases/act/\d+/(\w+)"', page)


def api_token(client, username):
    """Log in through the JWT endpoint; the cookie it also sets is dropped (API clients
    authenticate with the bearer token alone)."""
    client._cookies.clear()
    return {"Authorization": f"Bearer {conftest_api_token(client, username)}"}


@pytest.mark.parametrize("page", sorted(MENU_PAGES))
@pytest.mark.parametrize("role", ROLES + ["admin"])
def test_each_role_reaches_exactly_its_own_screens(session, client, role, page):
    login(client, role)
    allowed = role in MENU_PAGES[page] or role == "admin"
    assert client.get(page).status_code == (200 if allowed else 403)


def test_anonymous_visitors_see_no_case(session, client, actors, cats, depts):
    case = case_in(session, actors, cats, depts, Status.HANDLING, now=NOW)
    session.commit()
    assert client.get(f"/cases/show/{case.id}").status_code in (302, 401, 403)
    assert client.get(f"/api/v1/case/{case.id}").status_code == 401


def test_a_handler_cannot_reach_another_departments_case_by_any_door(session, client, actors, cats, depts):
    theirs = case_in(session, actors, cats, depts, Status.DISPATCHED, now=NOW, lead="X103")
    mine = case_in(session, actors, cats, depts, Status.DISPATCHED, now=NOW, lead="X102")
    session.commit()
    token = api_token(client, "handler")  # 长河县行政审批局 (X102)
    for url in (f"/api/v1/case/{theirs.id}", f"/api/v1/case/{theirs.id}/actions"):
        assert client.get(url, headers=token).status_code == 404, url
    assert client.post(f"/api/v1/case/{theirs.id}/actions/sign", json={}, headers=token).status_code == 404
    api_list = client.get("/api/v1/case/?q=(page_size:100)", headers=token).json
    assert {row["id"] for row in api_list["result"]} == {mine.id}
    events = client.get("/api/v1/case_event/?q=(page_size:100)", headers=token).json["result"]
    assert {row["case_id"] for row in events} == {mine.id}

    login(client, "handler")
    for url in (
        f"/cases/show/{theirs.id}",
        f"/cases/department/show/{theirs.id}",
        f"/cases/act/{theirs.id}/sign",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/cases/act/{theirs.id}/sign", data={}).status_code == 404
    for listing_url in (
        "/cases/list/?psize_CaseView=100",
        "/cases/department/list/?psize_DepartmentCaseView=100",
    ):
        listing = client.get(listing_url).get_data(as_text=True)
        assert mine.number in listing and theirs.number not in listing
    assert client.get(f"/cases/show/{mine.id}").status_code == 200


def test_no_generic_form_or_api_call_can_edit_or_delete_a_case(session, client, actors, cats, depts):
    case = case_in(session, actors, cats, depts, Status.HANDLING, now=NOW)
    session.commit()
    login(client, "admin")
    for url in (f"/cases/edit/{case.id}", f"/cases/delete/{case.id}", "/cases/add"):
        assert client.get(url).status_code in (403, 404, 405), url
    assert client.post(f"/cases/edit/{case.id}", data={"status": "closed"}).status_code in (403, 404, 405)
    token = api_token(client, "admin")
    assert client.put(f"/api/v1/case/{case.id}", json={"status": "closed"}, headers=token).status_code in (
        403,
        405,
    )
    assert client.delete(f"/api/v1/case/{case.id}", headers=token).status_code in (403, 405)
    session.refresh(case)
    assert case.status == Status.HANDLING


def test_the_api_ignores_a_browser_session_so_no_cross_site_request_can_act(
    session, client, actors, cats, depts
):
    case = case_in(session, actors, cats, depts, Status.EVALUATED, now=NOW)
    session.commit()
    login(client, "supervisor")
    assert client.post(f"/api/v1/case/{case.id}/actions/close", json={}).status_code == 401
    session.refresh(case)
    assert case.status == Status.EVALUATED


def test_a_leader_reads_everything_and_changes_nothing(session, client, actors, cats, depts):
    case = case_in(session, actors, cats, depts, Status.EVALUATED, now=NOW)
    session.commit()
    login(client, "leader")
    page = client.get(f"/cases/show/{case.id}").get_data(as_text=True)
    assert case.number in page and not action_links(page)
    assert client.post(f"/cases/act/{case.id}/close", data={}).status_code == 403
    headers = api_token(client, "leader")
    assert client.get(f"/api/v1/case/{case.id}", headers=headers).status_code == 200
    response = client.post(f"/api/v1/case/{case.id}/actions/close", json={}, headers=headers)
    assert response.status_code == 403
    session.refresh(case)
    assert case.status == Status.EVALUATED


def test_case_page_shows_only_the_actions_open_to_the_user(session, client, actors, cats, depts):
    case = case_in(session, actors, cats, depts, Status.SUBMITTED, now=NOW)
    session.commit()
    login(client, "clerk")
    page = client.get(f"/cases/show/{case.id}").get_data(as_text=True)
    for action in ("accept", "decline", "classify"):
        assert f"/cases/act/{case.id}/{action}" in page
    assert f"/cases/act/{case.id}/dispatch" not in page
    login(client, "supervisor")
    page = client.get(f"/cases/show/{case.id}").get_data(as_text=True)
    assert not action_links(page)


def test_an_illegal_move_on_a_screen_is_refused_with_a_message(session, client, actors, cats, depts):
    case = case_in(session, actors, cats, depts, Status.DISPATCHED, now=NOW)
    session.commit()
    login(client, "clerk")
    response = client.post(f"/cases/act/{case.id}/accept", data={"note": "再次受理"}, follow_redirects=True)
    assert response.status_code == 200
    assert "alert-danger" in response.get_data(as_text=True)
    session.refresh(case)
    assert case.status == Status.DISPATCHED


def test_the_whole_flow_through_the_screens(session, client, depts, cats):
    login(client, "clerk")
    response = client.post(
        "/cases/new/",
        data={
            "channel": "window",
            "case_type": "complaint",
            "category_id": str(cats["GOV01"].id),
            "urgency": "normal",
            "title": "窗口办理营业执照超时",
            "content": "提交材料一周未办结",
            "region": "清源省",
            "reporter_name": "李四",
            "reporter_phone": "13800000000",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    import re

    number = re.search(r'id="receipt-number"[^>]*>([A-Z0-9]+)<', page).group(1)
    assert re.search(r'id="receipt-code"[^>]*>([A-Z0-9-]{29})<', page)  # shown once, to read out
    from models import Case

    case_id = session.query(Case).filter_by(number=number).one().id

    def act(user, action, **data):
        login(client, user)
        result = client.post(f"/cases/act/{case_id}/{action}", data=data)
        assert result.status_code == 302, (action, result.get_data(as_text=True)[-3000:])

    act("clerk", "accept", note="")
    act("dispatcher", "dispatch", lead_department_id=str(depts["X102"].id))
    act("handler", "sign")
    act("handler", "add_note", note="已联系企业")
    act(
        "handler",
        "record_finding",
        result="untrue",
        facts="审批记录显示已按时办结",
        summary="经核查，未发现超时",
    )
    act("handler", "reply", reply="已办结，请查收营业执照。")
    act("supervisor", "evaluate", rating="satisfied", source="revisit_call", method="phone")
    act("supervisor", "close")
    login(client, "leader")
    page = client.get(f"/cases/show/{case_id}").get_data(as_text=True)
    assert page.count("<tr><td>") >= 7  # seven timeline rows (and the assignment row)


def test_the_whole_flow_through_the_rest_api(session, client, depts, cats):
    clerk = api_token(client, "clerk")
    created = client.post(
        "/api/v1/case/",
        headers=clerk,
        json={
            "case_type": "report",
            "channel": "api",
            "category_id": cats["FEE01"].id,
            "grade": "c",
            "title": "违规收取配套费",
            "content": "无依据收费",
            "anonymous": True,
            "region": "清源省",
        },
    )
    assert created.status_code == 201, created.json
    case_id = created.json["id"]

    def act(user, action, expect=200, **body):
        response = client.post(
            f"/api/v1/case/{case_id}/actions/{action}", headers=api_token(client, user), json=body
        )
        assert response.status_code == expect, response.json
        return response.json

    act("clerk", "accept")
    act("handler", "sign", expect=404)  # not sent to anyone yet
    act("dispatcher", "dispatch", lead_department_id=depts["X102"].id)
    assert client.get(f"/api/v1/case/{case_id}/actions", headers=api_token(client, "handler")).json[
        "actions"
    ] == ["sign", "return", "raise_dispute"]
    act("handler", "sign")
    act("handler", "reply", expect=409, reply="已退还违规收费")  # not verified yet
    act("handler", "record_finding", result="true", facts="收费无文件依据", summary="经核查，反映属实")
    act("handler", "plan_rectification", measures="退还违规收费", responsible="财务科科长", days=5)
    act("handler", "reply", expect=422, reply="")
    act("handler", "reply", reply="已退还违规收费")
    act("handler", "report_rectification", completion="已全额退还")
    act("supervisor", "close", expect=409)  # not yet evaluated
    result = act(
        "supervisor", "evaluate", rating="basically_satisfied", source="revisit_call", method="phone"
    )
    assert result["status"] == "evaluated"
    act("supervisor", "close", expect=409)  # the rectification is not re-checked yet
    act("supervisor", "accept_rectification", note="经复核，已退还")
    assert act("supervisor", "close")["status"] == "closed"


def test_bad_api_input_gets_a_clear_error_and_saves_nothing(session, client):
    clerk = api_token(client, "clerk")
    before = client.get("/api/v1/case/", headers=clerk).json["count"]
    assert client.post("/api/v1/case/", headers=clerk, json={"title": "x"}).status_code == 422
    assert (
        client.post(
            "/api/v1/case/", headers=clerk, data="{not json", content_type="application/json"
        ).status_code
        == 400
    )
    bad = client.post(
        "/api/v1/case/",
        headers=clerk,
        json={
            "case_type": "complaint",
            "channel": "api",
            "title": "<script>alert(1)</script>",
            "content": "x" * 100_001,
            "anonymous": True,
        },
    )
    assert bad.status_code == 422 and bad.json["message"]
    assert client.get("/api/v1/case/", headers=clerk).json["count"] == before
    assert client.post("/api/v1/case/1/actions/accept", headers=clerk, json=[1, 2]).status_code in (400, 404)


def test_the_openapi_document_describes_the_case_actions(session, client):
    spec = client.get("/api/v1/_openapi", headers=api_token(client, "admin")).json
    assert "/api/v1/case/{pk}/actions/{action}" in spec["paths"]
    assert "/api/v1/case/" in spec["paths"] and "/api/v1/department/" in spec["paths"]


def test_the_dispatch_form_offers_the_department_the_rules_propose(session, client, actors, cats, depts):
    county = office_of(session, actors, "ch")
    case = case_in(session, county, cats, depts, Status.ACCEPTED, now=NOW, region=REGION_OF["ch"])
    session.commit()
    login(client, "ch_dispatcher")
    page = client.get(f"/cases/act/{case.id}/dispatch").get_data(as_text=True)
    assert f'<option selected value="{depts["X102"].id}">' in page
    # lead and co-handling choices: the departments of the county (dispatch stays in its jurisdiction)
    county_departments = [d for d in depts.values() if d.jurisdiction_id == case.jurisdiction_id]
    assert len(county_departments) == 3
    assert page.count("<option") >= 2 * len(county_departments)


def test_cases_can_be_filtered_by_a_translated_status(session, client, actors, cats, depts):
    handling = case_in(session, actors, cats, depts, Status.HANDLING, now=NOW)
    closed = case_in(session, actors, cats, depts, Status.CLOSED, now=NOW)
    session.commit()
    login(client, "supervisor")
    page = client.get("/cases/list/?_flt_0_status=handling").get_data(as_text=True)
    assert handling.number in page and closed.number not in page
    assert client.get("/cases/list/?_flt_0_status=bogus").status_code == 200


@pytest.mark.parametrize("role", ROLES)
def test_every_user_reaches_their_own_profile_and_password_pages(session, client, role):
    login(client, role)
    assert client.get("/users/userinfo/").status_code == 200
    assert client.get("/resetmypassword/form").status_code == 200
    assert client.get("/users/list/").status_code == 403


def test_api_info_and_missing_files_never_answer_500(session, client):
    token = api_token(client, "clerk")
    assert client.get("/api/v1/case/_info", headers=token).status_code == 200
    login(client, "admin")
    assert client.get("/departmentview/download/nothing.txt").status_code == 404
