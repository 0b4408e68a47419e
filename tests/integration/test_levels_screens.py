"""The jurisdiction screens (issue 15): the administrator's tree of offices, staff accounts and
departments that belong to a jurisdiction, the case lists and page that show it, and filing
that chooses the region from the tree so that a case lands in the right office.

Every refusal is a message on the form that keeps what was typed — never a 500."""

from __future__ import annotations

import json
import re

import pytest

from app.services import jurisdictions as js
from app.workflow import Action
from models import AuditRecord, Case, CaseEvent, Department, Jurisdiction, Staff
from tests.conftest import api_token, at, login
from tests.factories import file_case

NOW = at("2026-11-02 10:00")
CH_REGION = "清源省/石门市/长河县"


def said(msgid: str, **params) -> str:
    """A message as the pages show it (the default language), HTML-escaped."""
    from flask_babel import gettext
    from markupsafe import escape

    return str(escape(gettext(msgid, **params)))


@pytest.fixture
def places(session) -> dict[str, Jurisdiction]:
    return {j.code: j for j in session.query(Jurisdiction)}


@pytest.fixture
def admin(app):
    return login(app.test_client(), "admin")


def jurisdiction_form(places, **fields) -> dict:
    """A valid new county of 北岭市 (南湖县), with ``fields`` changed."""
    return {
        "code": "NH",
        "name": "南湖县",
        "level": "county",
        "parent": str(places["BL"].id),
        "region": "清源省/北岭市",
        "new_place": "南湖县",
        "office_name": "南湖县营商环境建设局",
        "issuing_authority": "",
        "doc_prefix": "南营商督",
        "active": "y",
        **fields,
    }


def refused(response, message: str) -> str:
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page[-2000:]
    assert message in page, page[-4000:]
    return page


# --- the tree of jurisdictions -----------------------------------------------------------------


def test_an_administrator_adds_a_county_under_a_city_with_a_new_place(app, session, admin, places):
    response = admin.post("/jurisdictionview/add", data=jurisdiction_form(places))
    assert response.status_code == 302, response.get_data(as_text=True)[-3000:]
    added = session.query(Jurisdiction).filter_by(code="NH").one()
    bl = places["BL"]
    assert added.region == "清源省/北岭市/南湖县" and added.parent_id == bl.id
    assert added.path == f"{bl.path}{added.id}/"  # the tree's paths, recomputed on the save
    assert js.for_region(session, "清源省/北岭市/南湖县/城关镇").id == added.id
    record = session.query(AuditRecord).filter_by(subject="Jurisdiction:add").order_by(AuditRecord.id.desc())
    assert record.first().details["item"] == "南湖县"  # audited like the other reference data
    page = admin.get("/jurisdictionview/list/").get_data(as_text=True)
    assert "南湖县营商环境建设局" in page and "南营商督" in page
    # the new place is in the region tree of the filing forms now
    assert "清源省/北岭市/南湖县" in admin.get("/cases/new/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("field", "value", "message", "params"),
    [
        (
            "doc_prefix",
            "石营商督",
            "Another jurisdiction already uses this document number prefix: %(name)s.",
            {"name": "石门市"},
        ),
        ("code", "SM", "Another jurisdiction already has this code: %(name)s.", {"name": "石门市"}),
    ],
)
def test_a_duplicate_code_or_document_prefix_is_refused_on_the_form(
    app, session, admin, places, field, value, message, params
):
    response = admin.post("/jurisdictionview/add", data=jurisdiction_form(places, **{field: value}))
    page = refused(response, said(message, **params))
    assert 'value="南湖县营商环境建设局"' in page  # what was typed is kept
    assert session.query(Jurisdiction).filter_by(name="南湖县").count() == 0


def test_a_region_another_jurisdiction_governs_is_refused(app, session, admin, places):
    form = jurisdiction_form(places, parent=str(places["SM"].id), region="清源省/石门市", new_place="长河县")
    refused(
        admin.post("/jurisdictionview/add", data=form),
        said("Another jurisdiction already governs this region: %(name)s.", name="长河县"),
    )


def test_a_region_outside_the_parents_region_is_refused(app, session, admin, places):
    form = jurisdiction_form(places, parent=str(places["SM"].id))  # 北岭市's place under 石门市
    refused(
        admin.post("/jurisdictionview/add", data=form),
        said(
            "The region must lie inside the region of the parent jurisdiction (%(region)s).",
            region="清源省/石门市",
        ),
    )


def test_a_new_jurisdiction_needs_a_parent_of_a_higher_level(app, session, admin, places):
    no_parent = jurisdiction_form(places, parent="__None")
    refused(
        admin.post("/jurisdictionview/add", data=no_parent),
        said("Choose the parent jurisdiction: only the province is at the top."),
    )
    city_under_county = jurisdiction_form(
        places, level="city", parent=str(places["XS"].id), region="清源省/北岭市/西山县"
    )
    from app.enums import DeptLevel
    from views.common import label

    refused(
        admin.post("/jurisdictionview/add", data=city_under_county),
        said(
            "A %(level)s jurisdiction cannot be placed under a %(parent)s one.",
            level=label(DeptLevel.CITY),
            parent=label(DeptLevel.COUNTY),
        ),
    )


def edit_form(item: Jurisdiction, **fields) -> dict:
    return {
        "code": item.code,
        "name": item.name,
        "level": str(item.level),
        "parent": str(item.parent_id) if item.parent_id else "__None",
        "region": item.region,
        "office_name": item.office_name,
        "issuing_authority": item.issuing_authority,
        "doc_prefix": item.doc_prefix,
        "active": "y",
        **fields,
    }


def test_a_jurisdiction_cannot_be_placed_under_one_below_it(app, session, admin, places):
    sm, ch = places["SM"], places["CH"]
    path = sm.path
    for parent in (sm, ch):  # itself, or a county under it
        response = admin.post(f"/jurisdictionview/edit/{sm.id}", data=edit_form(sm, parent=str(parent.id)))
        refused(response, said("A jurisdiction cannot be placed under itself or under one below it."))
    session.expire_all()
    assert session.get(Jurisdiction, sm.id).parent_id == places["QY"].id
    assert session.get(Jurisdiction, sm.id).path == path


def test_the_province_stays_at_the_top_and_active(app, session, admin, places):
    qy = places["QY"]
    refused(
        admin.post(f"/jurisdictionview/edit/{qy.id}", data=edit_form(qy, parent=str(places["SM"].id))),
        said("The province (the root jurisdiction) cannot be placed under another one."),
    )
    inactive = edit_form(qy)
    del inactive["active"]
    refused(
        admin.post(f"/jurisdictionview/edit/{qy.id}", data=inactive),
        said("The province (the root jurisdiction) cannot be deactivated."),
    )
    sm = edit_form(places["SM"])
    del sm["active"]
    refused(
        admin.post(f"/jurisdictionview/edit/{places['SM'].id}", data=sm),
        said("Deactivate the jurisdictions under it first."),
    )


def test_a_county_moved_under_the_province_gets_its_new_place_in_the_tree(app, session, admin, places):
    """省直管县: 长河县 reports straight to the province; its path follows."""
    ch = places["CH"]
    response = admin.post(f"/jurisdictionview/edit/{ch.id}", data=edit_form(ch, parent=str(places["QY"].id)))
    assert response.status_code == 302, response.get_data(as_text=True)[-3000:]
    session.expire_all()
    assert session.get(Jurisdiction, ch.id).path == f"{places['QY'].path}{ch.id}/"


@pytest.mark.parametrize(
    "fields",
    [
        {"level": "-1"},
        {"level": "galaxy"},
        {"parent": "abc"},
        {"parent": "99999999999999999999"},
        {"parent": "987654"},
        {"region": "火星"},
        {"region": ""},
        {"new_place": "南湖县/城关镇"},
        {"code": ""},
        {"doc_prefix": "x" * 200},
    ],
)
def test_bad_input_on_the_jurisdiction_form_is_a_message_not_a_500(app, session, admin, places, fields):
    response = admin.post("/jurisdictionview/add", data=jurisdiction_form(places, **fields))
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page[-2000:]
    assert "help-block" in page or "alert-danger" in page
    assert session.query(Jurisdiction).filter_by(name="南湖县").count() == 0


def test_a_jurisdiction_is_never_deleted(app, session, admin, places):
    response = admin.post(f"/jurisdictionview/delete/{places['XS'].id}")
    assert response.status_code in (403, 404, 405) or "/login" in response.headers.get("Location", "")
    assert session.get(Jurisdiction, places["XS"].id) is not None


# --- departments and staff accounts -----------------------------------------------------------


def department_form(**fields) -> dict:
    return {
        "code": "X121",
        "name": "东城区市场监督管理局",
        "level": "county",
        "parent": "",
        "region": "清源省/石门市/东城区",
        "active": "y",
        **fields,
    }


def test_a_department_belongs_to_a_jurisdiction_of_its_region(app, session, admin, places, depts):
    form = department_form(parent=str(depts["C11"].id), jurisdiction=str(places["CH"].id))
    refused(
        admin.post("/departmentview/add", data=form),
        said(
            "The department's region (%(region)s) lies outside the region of %(jurisdiction)s.",
            region="清源省/石门市/东城区",
            jurisdiction="长河县",
        ),
    )
    form["jurisdiction"] = "__None"  # left empty: the jurisdiction of its region
    assert admin.post("/departmentview/add", data=form).status_code == 302
    assert session.query(Department).filter_by(code="X121").one().jurisdiction_id == places["DC"].id
    # the district's region is offered even before a department of it exists
    assert "清源省/石门市/东城区" in admin.get("/departmentview/add").get_data(as_text=True)
    assert "长河县" in admin.get("/departmentview/list/").get_data(as_text=True)


def user_form(session, **fields) -> dict:
    role = session.query(Staff).filter_by(username="clerk").one().roles[0]
    return {
        "first_name": "新",
        "last_name": "李",
        "username": "ch_clerk2",
        "active": "y",
        "email": "ch_clerk2@demo.yingshang110.cn",
        "roles": [str(role.id)],
        "password": "Pass@2026word",
        "conf_password": "Pass@2026word",
        **fields,
    }


def test_every_staff_account_works_for_a_jurisdiction(app, session, admin, places, depts):
    page = admin.get("/users/add").get_data(as_text=True)
    assert f'<option selected value="{places["QY"].id}">' in page  # the administrator's own to start with
    refused(
        admin.post("/users/add", data=user_form(session, jurisdiction="__None")),
        said("Choose the jurisdiction the account works for."),
    )
    refused(
        admin.post(
            "/users/add",
            data=user_form(session, jurisdiction=str(places["DC"].id), department=str(depts["X101"].id)),
        ),
        said(
            "%(department)s belongs to another jurisdiction than %(jurisdiction)s.",
            department="长河县营商环境建设局",
            jurisdiction="东城区",
        ),
    )
    made = admin.post(
        "/users/add",
        data=user_form(session, jurisdiction=str(places["CH"].id), department=str(depts["X101"].id)),
    )
    assert made.status_code == 302, made.get_data(as_text=True)[-3000:]
    assert session.query(Staff).filter_by(username="ch_clerk2").one().jurisdiction_id == places["CH"].id
    listed = admin.get("/users/list/?psize_StaffUserView=100").get_data(as_text=True)
    row = re.search(r"<tr[^>]*>(?:(?!</tr>).)*ch_clerk2(?:(?!</tr>).)*</tr>", listed, re.S).group(0)
    assert "长河县" in row


def test_an_account_added_without_a_jurisdiction_takes_its_departments(app, session, admin, places, depts):
    """An older client that does not send the field: the department's jurisdiction, else the
    administrator's own; never an account of no jurisdiction."""
    made = admin.post("/users/add", data=user_form(session, department=str(depts["X111"].id)))
    assert made.status_code == 302, made.get_data(as_text=True)[-3000:]
    assert session.query(Staff).filter_by(username="ch_clerk2").one().jurisdiction_id == places["DC"].id


@pytest.fixture
def city_admin(app, session, places):
    """An administrator of 石门市's office."""
    from app.demo import _demo_password_hash

    sm = app.appbuilder.sm
    user = sm.add_user(
        "sm_admin",
        "管理员",
        "石门市",
        "sm_admin@demo.yingshang110.cn",
        sm.find_role("Admin"),
        hashed_password=_demo_password_hash(),
    )
    user.jurisdiction_id = places["SM"].id
    session.commit()
    return login(app.test_client(), "sm_admin")


def test_a_city_administrator_manages_only_what_is_under_the_city(app, session, city_admin, places):
    listed = city_admin.get("/jurisdictionview/list/").get_data(as_text=True)
    assert "长河县" in listed and "东城区" in listed
    assert "北岭市" not in listed and "西山县" not in listed
    assert city_admin.get(f"/jurisdictionview/edit/{places['BL'].id}").status_code == 404
    assert (
        city_admin.get(f"/jurisdictionview/edit/{places['SM'].id}").status_code == 404
    )  # its own: the province's
    # a new county of the city, not of another city
    bl_county = jurisdiction_form(places)
    response = city_admin.post("/jurisdictionview/add", data=bl_county)
    assert response.status_code == 200 and session.query(Jurisdiction).filter_by(code="NH").count() == 0
    users = city_admin.get("/users/list/?psize_StaffUserView=100").get_data(as_text=True)
    assert "ch_clerk" in users and "sm_supervisor" in users
    assert "bl_clerk" not in users and ">clerk<" not in users
    province_clerk = session.query(Staff).filter_by(username="clerk").one()
    for url in (
        f"/users/show/{province_clerk.id}",
        f"/users/edit/{province_clerk.id}",
        f"/resetpassword/form?pk={province_clerk.id}",
        f"/totpreset/{province_clerk.id}",
    ):
        assert city_admin.get(url).status_code == 404, url
    assert city_admin.get("/roles/list/").status_code == 403  # the installation's roles
    refused_user = city_admin.post("/users/add", data=user_form(session, jurisdiction=str(places["BL"].id)))
    assert refused_user.status_code == 200
    assert session.query(Staff).filter_by(username="ch_clerk2").count() == 0
    ok = city_admin.post("/users/add", data=user_form(session, jurisdiction=str(places["CH"].id)))
    assert ok.status_code == 302


# --- the case screens -------------------------------------------------------------------------


@pytest.fixture
def county_case(session, cats):
    from app.demo import actor_for

    case = file_case(session, {"clerk": actor_for(session, "ch_clerk")}, cats, now=NOW, region=CH_REGION)
    session.commit()
    return case


def test_the_case_list_shows_and_filters_by_jurisdiction(app, session, county_case, places):
    client = login(app.test_client(), "sm_supervisor")
    page = client.get("/cases/list/?psize_CaseView=100").get_data(as_text=True)
    row = re.search(rf"<tr[^>]*>(?:(?!</tr>).)*{county_case.number}(?:(?!</tr>).)*</tr>", page, re.S).group(0)
    assert "长河县" in row
    own = client.get(f"/cases/list/?_flt_0_jurisdiction={places['CH'].id}").get_data(as_text=True)
    assert county_case.number in own
    other = client.get(f"/cases/list/?_flt_0_jurisdiction={places['DC'].id}").get_data(as_text=True)
    assert county_case.number not in other
    # the filter offers the city and the counties under it, not another city (FAB's search
    # widget carries each filter's select as JSON in the page)
    widget = re.search(r'"jurisdiction": "(\\u003cselect.*?\\u003c/select\\u003e)"', own).group(1)
    options = re.findall(r"<option[^>]*>([^<]+)<", json.loads(f'"{widget}"'))
    assert options == ["石门市", "长河县", "东城区"]


def test_the_case_page_shows_its_office_and_moves_between_levels(app, session, county_case, places):
    session.add(
        CaseEvent(
            case_id=county_case.id,
            action=Action.REFER_UP.value,
            from_status="accepted",
            to_status="accepted",
            at=NOW,
            actor_name="长河县分办",
            data={"from": places["CH"].id, "to": places["SM"].id},
        )
    )
    session.commit()
    client = login(app.test_client(), "ch_dispatcher")
    page = client.get(f"/cases/show/{county_case.id}").get_data(as_text=True)
    details = re.search(r'id="case-jurisdiction">(.*?)</td>', page, re.S).group(1)
    assert "长河县" in details and "长河县营商环境建设局" in details
    assert re.search(r'class="label label-info jurisdiction-move">长河县 → 石门市<', page)


# --- filing chooses the region from the tree ---------------------------------------------------


def intake(**fields) -> dict:
    return {
        "channel": "phone_12345",
        "case_type": "complaint",
        "title": "审批超时",
        "content": "申请材料提交后迟迟没有结果。",
        "reporter_name": "张三",
        "reporter_phone": "13900000000",
        **fields,
    }


def receipt_case(session, response) -> Case:
    page = response.get_data(as_text=True)
    found = re.search(r'id="receipt-number"[^>]*>([A-Z0-9]+)<', page)
    assert found, page[-3000:]
    return session.query(Case).filter_by(number=found.group(1)).one()


def test_a_county_clerk_files_for_the_regions_of_the_county(app, session, places):
    client = login(app.test_client(), "ch_clerk")
    page = client.get("/cases/new/").get_data(as_text=True)
    assert f'<option selected value="{CH_REGION}">' in page
    assert "清源省/北岭市" not in page and 'value="清源省"' not in page
    response = client.post("/cases/new/", data=intake(region="清源省/北岭市/西山县"))
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "receipt-number" not in page
    assert said("Choose one of the values offered.") in page and "审批超时" in page
    case = receipt_case(session, client.post("/cases/new/", data=intake(region=CH_REGION)))
    assert case.jurisdiction_id == places["CH"].id
    # no region chosen (an older client): the clerk's own jurisdiction's
    case = receipt_case(session, client.post("/cases/new/", data=intake()))
    assert case.region == CH_REGION and case.jurisdiction_id == places["CH"].id


def test_a_province_clerk_files_a_case_that_lands_in_the_district(app, session, places):
    client = login(app.test_client(), "clerk")
    assert "清源省/石门市/东城区" in client.get("/cases/new/").get_data(as_text=True)
    case = receipt_case(session, client.post("/cases/new/", data=intake(region="清源省/石门市/东城区")))
    assert case.jurisdiction_id == places["DC"].id


def test_the_public_form_chooses_the_region_from_the_tree(app, session, cats, places):
    from tests.integration.test_reporter_side import answer_challenge

    client = app.test_client()
    page = client.get("/report/").get_data(as_text=True)
    assert 'value="清源省/石门市/东城区"' in page and 'value="清源省/北岭市/西山县"' in page

    def post(region):
        token, answer = answer_challenge(client.get("/report/").get_data(as_text=True))
        return client.post(
            "/report/",
            data={
                "case_type": "complaint",
                "category_id": str(cats["GOV01"].id),
                "title": "营业执照办理超时",
                "content": "提交材料后二十天没有结果。",
                "region": region,
                "anonymous": "y",
                "challenge_token": token,
                "challenge_answer": answer,
            },
        )

    before = session.query(Case).count()
    response = post("火星/奥林匹斯")
    assert response.status_code == 400 and said("Choose one of the values offered.") in response.get_data(
        as_text=True
    )
    assert session.query(Case).count() == before
    assert post("清源省/石门市/东城区").status_code == 302
    session.expire_all()
    newest = session.query(Case).order_by(Case.id.desc()).first()
    assert newest.jurisdiction_id == places["DC"].id


def test_a_form_message_quoting_typed_names_shows_them_as_text(app, session, admin, places, depts):
    # A department named with markup: the user form's refusal quotes the name, and the form
    # template prints it as text (FAB passes field errors through _(), which Jinja takes as safe).
    depts["X101"].name = '<img src=x onerror="alert(1)">长河县局'
    session.commit()
    page = refused(
        admin.post(
            "/users/add",
            data=user_form(session, jurisdiction=str(places["DC"].id), department=str(depts["X101"].id)),
        ),
        said(
            "%(department)s belongs to another jurisdiction than %(jurisdiction)s.",
            department=depts["X101"].name,
            jurisdiction="东城区",
        ),
    )
    assert '<img src=x onerror="alert(1)">' not in page
    assert "&lt;img src=x onerror=" in page
    assert "&amp;lt;" not in page  # escaped once, not twice


def test_a_city_administrator_cannot_change_the_installations_configuration(
    app, session, city_admin, places, depts
):
    """Reference data, rules and their per-jurisdiction values, holidays, settings, the outbox
    are the province's to configure: a city's administrator is refused every one (screens and
    API), and still reaches its own accounts, jurisdictions and the office's case work."""
    from models import DeadlinePolicy

    before = session.query(DeadlinePolicy).count()
    refused_pages = {
        "/deadlinepolicyview/list/": "GET",
        "/deadlinepolicyview/add": "POST",
        f"/departmentview/edit/{depts['C20'].id}": "POST",
        "/dispatchruleview/list/": "GET",
        "/calendardayview/add": "POST",
        "/rewardtierview/add": "POST",
        "/settingview/list/": "GET",
        "/rules/settings/set": "POST",
        "/rules/holidays/apply": "POST",
        f"/rules/effective/?jurisdiction={places['QY'].id}": "GET",
        "/outbox/list/": "GET",
    }
    for url, method in refused_pages.items():
        data = {
            "working_days": "0",
            "jurisdiction_id": str(places["BL"].id),
            "key": "sign_hours",
            "value": "1",
        }
        response = city_admin.open(url, method=method, data=data if method == "POST" else None)
        assert response.status_code == 403, (url, response.status_code)
    token = api_token(app.test_client(), "sm_admin")
    headers = {"Authorization": f"Bearer {token}"}
    api = app.test_client()
    assert (
        api.put(f"/api/v1/department/{depts['C20'].id}", json={"head": "x"}, headers=headers).status_code
        == 403
    )
    assert api.post("/api/v1/deadline_policy/", json={"working_days": 0}, headers=headers).status_code == 403
    assert api.get("/api/v1/department/", headers=headers).status_code == 200  # reading, as every office does
    assert session.query(DeadlinePolicy).count() == before
    for url in ("/jurisdictionview/list/", "/users/list/", "/cases/list/", "/"):
        assert city_admin.get(url).status_code == 200, url
