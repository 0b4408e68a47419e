"""Inspections by scanning (入企扫码): the officer registers on entering (two officers at least,
a basis and items, a reason for a 无事不扰 enterprise) and finishes it; the enterprise confirms
and rates it through its own code, or reports a problem, which files a case linked to it."""

from __future__ import annotations

import itertools
import os
import threading
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest

from app.enums import Channel, Rating
from app.errors import IllegalMove, Invalid, NotAllowed
from app.inspections import BasisKind, InspectionResult, InspectionState
from app.services import inspections as service
from app.services.actor import Actor
from app.workflow import Role
from models import Case, EnforcementOfficer, Enterprise, Inspection, InspectionItem, Staff
from tests.conftest import at, login

NOW = at("2026-11-02 10:00")
_serial = itertools.count(1)


@contextmanager
def refused(says: str):
    """A refusal whose message (its msgid: the catalogs may translate it) says ``says``."""
    with pytest.raises(Invalid) as caught:
        yield
    assert says in caught.value.msgid


def make_enterprise(session, name="长河县金穗面粉有限公司", **extra) -> Enterprise:
    n = next(_serial)
    found = Enterprise(
        name=name,
        credit_code=f"91130500MA{n:08X}",
        region="清源省/石门市/长河县",
        industry="食品加工",
        contact_name="赵经理",
        token=f"scan{n:018d}",
        confirm_token=f"mine{n:018d}",
        created_at=NOW - timedelta(days=100),
        **extra,
    )
    session.add(found)
    session.flush()
    return found


def make_officer(session, depts, name, unit="X102", user=None) -> EnforcementOfficer:
    found = EnforcementOfficer(
        name=name, certificate_no=f"ZF13{next(_serial):08d}", department_id=depts[unit].id, user=user
    )
    session.add(found)
    session.flush()
    return found


def make_inspector(app, session, depts, username: str, unit: str = "X102") -> Staff:
    """A staff account with the Inspector role (password Demo@2026), as tests/conftest.py's
    users are made: through the app's security manager."""
    from werkzeug.security import generate_password_hash

    sm = app.appbuilder.sm
    user = sm.find_user(username=username) or sm.add_user(
        username,
        "执法",
        username,
        f"{username}@test.example",
        sm.find_role(Role.INSPECTOR.value),
        hashed_password=generate_password_hash("Demo@2026"),
    )
    user.department_id = depts[unit].id
    session.flush()
    return user


def entry(session, kind: BasisKind, name: str) -> InspectionItem:
    found = InspectionItem(kind=kind, code=f"T{kind.value[:1]}{next(_serial)}", name=name)
    session.add(found)
    session.flush()
    return found


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def unit(app, session, depts):
    """Officer 李 (an Inspector account) and 王 of unit X102, 张 of unit X103; a basis, two items."""
    user = make_inspector(app, session, depts, "inspector_li")
    other_user = make_inspector(app, session, depts, "inspector_zhang", "X103")
    me = make_officer(session, depts, "李执法", user=user)
    colleague = make_officer(session, depts, "王执法")
    other = make_officer(session, depts, "张执法", "X103", user=other_user)
    return {
        "user": user,
        "actor": Actor.from_user(user),
        "other_actor": Actor.from_user(other_user),
        "me": me,
        "colleague": colleague,
        "other": other,
        "basis": entry(session, BasisKind.BASIS, "双随机抽查任务"),
        "items": [entry(session, BasisKind.ITEM, "食品安全"), entry(session, BasisKind.ITEM, "证照经营")],
    }


def form(unit, **extra) -> dict:
    return {
        "officer_ids": [unit["colleague"].id],
        "basis_id": unit["basis"].id,
        "basis_note": "SSJ-2026-017",
        "item_ids": [i.id for i in unit["items"]],
        **extra,
    }


def register(session, unit, firm, when=NOW, **extra) -> Inspection:
    return service.register_inspection(
        session, actor=unit["actor"], now=when, enterprise=firm, data=form(unit, **extra)
    )


# --- registering ------------------------------------------------------------------------------


def test_an_inspection_needs_two_officers_present(session, unit):
    firm = make_enterprise(session)
    with refused("At least"):
        register(session, unit, firm, officer_ids=[])
    inspection = register(session, unit, firm)
    assert inspection.officers == [unit["me"], unit["colleague"]]
    assert inspection.state == InspectionState.IN_PROGRESS
    assert inspection.started_at == NOW and inspection.ended_at is None
    assert inspection.department_id == unit["me"].department_id
    assert inspection.number == f"JC20261102{inspection.id:06d}"
    assert inspection.basis_note == "SSJ-2026-017" and inspection.items == unit["items"]


def test_an_officer_of_a_partner_unit_joins_a_joint_inspection_by_certificate_number(session, unit, depts):
    firm = make_enterprise(session)
    inspection = register(
        session,
        unit,
        firm,
        officer_ids=[],
        certificate_nos=unit["other"].certificate_no,
        joint=True,
        partner_unit_ids=[depts["X103"].id],
    )
    assert inspection.officers == [unit["me"], unit["other"]]
    with refused("certificate number"):
        register(session, unit, firm, certificate_nos="ZF-NOBODY")


def test_a_certificate_number_of_another_unit_does_not_make_up_the_two_officers(session, unit):
    """Typing in a number seen elsewhere must not meet the two-officer rule of a single-unit inspection."""
    with refused("partner unit"):
        register(
            session,
            unit,
            make_enterprise(session),
            officer_ids=[],
            certificate_nos=unit["other"].certificate_no,
        )


def test_an_officer_of_another_unit_cannot_be_ticked_as_a_colleague(session, unit):
    with pytest.raises(Invalid):
        register(session, unit, make_enterprise(session), officer_ids=[unit["other"].id])


def test_an_inactive_officer_does_not_count(session, unit):
    unit["colleague"].active = False
    with pytest.raises(Invalid):
        register(session, unit, make_enterprise(session))


def test_a_no_disturb_enterprise_needs_a_reason_and_the_reason_is_stored(session, unit):
    firm = make_enterprise(session, no_disturb=True)
    with refused("无事不扰"):
        register(session, unit, firm)
    with refused("无事不扰"):
        register(session, unit, firm, no_disturb_reason="太短")
    reason = "群众投诉该企业存在食品安全隐患，需现场核查"
    assert register(session, unit, firm, no_disturb_reason=reason).no_disturb_reason == reason


def test_only_an_inspector_linked_to_an_officer_registers(session, unit, actors):
    firm = make_enterprise(session)
    with pytest.raises(NotAllowed):
        service.register_inspection(
            session, actor=actors["handler"], now=NOW, enterprise=firm, data=form(unit)
        )
    unit["me"].user_id = None
    with pytest.raises(NotAllowed):
        register(session, unit, firm)


def test_an_inactive_enterprise_is_refused(session, unit):
    with pytest.raises(Invalid):
        register(session, unit, make_enterprise(session, active=False))


def test_a_basis_and_an_item_are_required(session, unit):
    firm = make_enterprise(session)
    with refused("basis"):
        register(session, unit, firm, basis_id="")
    with refused("basis"):
        register(session, unit, firm, basis_id=unit["items"][0].id)  # an item is not a basis
    with refused("item"):
        register(session, unit, firm, item_ids=[])


def test_a_joint_inspection_needs_another_unit(session, unit, depts):
    firm = make_enterprise(session)
    with refused("joint"):
        register(session, unit, firm, joint=True, partner_unit_ids=[depts["X102"].id])
    inspection = register(session, unit, firm, joint=True, partner_unit_ids=[depts["X103"].id])
    assert inspection.joint and inspection.partner_units == [depts["X103"]]


# --- finishing and confirming -----------------------------------------------------------------


def finish(session, inspection, actor, when=NOW + timedelta(hours=1)):
    return service.finish_inspection(
        session, inspection, actor=actor, now=when, data={"result": "advised", "result_note": "已现场指导"}
    )


def test_an_officer_of_another_unit_cannot_finish(session, unit):
    inspection = register(session, unit, make_enterprise(session))
    with pytest.raises(NotAllowed):
        finish(session, inspection, unit["other_actor"])
    assert inspection.state == InspectionState.IN_PROGRESS


def test_finishing_records_the_time_out_and_result_and_twice_is_refused(session, unit):
    inspection = register(session, unit, make_enterprise(session))
    finish(session, inspection, unit["actor"])
    assert inspection.state == InspectionState.FINISHED
    assert inspection.ended_at == NOW + timedelta(hours=1)
    assert inspection.result == InspectionResult.ADVISED and inspection.result_note == "已现场指导"
    with pytest.raises(IllegalMove):
        finish(session, inspection, unit["actor"])


def test_a_finish_without_a_result_is_refused(session, unit):
    inspection = register(session, unit, make_enterprise(session))
    with pytest.raises(Invalid):
        service.finish_inspection(session, inspection, actor=unit["actor"], now=NOW, data={"result": "x"})


def test_confirming_before_the_finish_is_refused(session, unit):
    inspection = register(session, unit, make_enterprise(session))
    with pytest.raises(IllegalMove):
        service.confirm_inspection(session, inspection, now=NOW, rating=Rating.SATISFIED)


def test_the_enterprise_confirms_with_a_rating(session, unit):
    inspection = register(session, unit, make_enterprise(session))
    finish(session, inspection, unit["actor"])
    with pytest.raises(Invalid):
        service.confirm_inspection(session, inspection, now=NOW, rating="great")
    later = NOW + timedelta(hours=3)
    service.confirm_inspection(session, inspection, now=later, rating="basically_satisfied", note="态度好")
    assert inspection.state == InspectionState.CONFIRMED and inspection.confirmed_at == later
    assert inspection.rating == Rating.BASICALLY_SATISFIED and inspection.rating_note == "态度好"
    with pytest.raises(IllegalMove):
        service.confirm_inspection(session, inspection, now=later, rating="satisfied")


# --- reporting a problem ----------------------------------------------------------------------

PROBLEM = {
    "content": "一周内来了三拨人检查同样的内容",
    "reporter_name": "赵经理",
    "reporter_phone": "13800000000",
}


def test_a_problem_files_a_case_of_the_inspection_channel_linked_to_it(session, unit, cats):
    firm = make_enterprise(session)
    inspection = register(session, unit, firm)
    case = service.report_problem(session, inspection, now=NOW, data=dict(PROBLEM))
    assert case.channel == Channel.INSPECTION and case.inspection_id == inspection.id
    assert case.category == cats["ENF01"]  # one inspection: 多头检查
    assert case.concerned_department_id == inspection.department_id and case.region == firm.region
    assert inspection.number in case.content and PROBLEM["content"] in case.content
    reporter = case.reporters[0]
    assert reporter.company == firm.name and reporter.credit_code == firm.credit_code
    assert case.number and case.query_code


def test_an_enterprise_inspected_twice_in_30_days_reports_a_repeated_inspection(session, unit, cats):
    firm = make_enterprise(session)
    register(session, unit, firm, when=NOW - timedelta(days=20))
    inspection = register(session, unit, firm)
    case = service.report_problem(session, inspection, now=NOW, data=dict(PROBLEM))
    assert case.category == cats["ENF05"]
    chosen = service.report_problem(session, inspection, now=NOW, data={**PROBLEM, "category": "ENF01"})
    assert chosen.category == cats["ENF01"]


def test_a_problem_needs_the_contact_name_and_phone(session, unit):
    inspection = register(session, unit, make_enterprise(session))
    for missing in ("reporter_name", "reporter_phone", "content"):
        with pytest.raises(Invalid):
            service.report_problem(session, inspection, now=NOW, data={**PROBLEM, missing: ""})
    with pytest.raises(Invalid):
        service.report_problem(session, inspection, now=NOW, data={**PROBLEM, "category": "GOV01"})


# --- the pages --------------------------------------------------------------------------------


def test_bad_tokens_answer_404(client, session, unit):
    assert client.get("/enterprise/no-such-code").status_code == 404
    assert client.post("/enterprise/no-such-code/1/confirm", data={"rating": "satisfied"}).status_code == 404
    assert client.get("/enterprise/no-such-code/1/problem").status_code == 404
    login(client, "inspector_li")
    assert client.get("/inspect/e/no-such-code").status_code == 404
    firm = make_enterprise(session)
    assert client.get(f"/enterprise/{firm.token}").status_code == 404  # the scan code is not its own
    assert client.get(f"/enterprise/{firm.confirm_token}/999999/problem").status_code == 404


def test_the_scan_page_shows_the_officers_certificate_never_the_credit_code(client, session, unit):
    firm = make_enterprise(session, no_disturb=True)
    login(client, "inspector_li")
    page = client.get(f"/inspect/e/{firm.token}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and 'name="viewport"' in text
    assert firm.name in text and unit["me"].certificate_no in text and "李执法" in text
    assert firm.credit_code not in text
    assert 'name="no_disturb_reason"' in text and unit["colleague"].name in text


def test_registering_on_the_page_and_bad_input_shows_the_message(client, session, unit):
    firm = make_enterprise(session)
    login(client, "inspector_li")
    data = {"basis_id": str(unit["basis"].id), "item_ids": [str(i.id) for i in unit["items"]]}
    refused = client.post(f"/inspect/e/{firm.token}/register", data=data)
    assert refused.status_code == 422 and "form-error" in refused.get_data(as_text=True)
    garbage = client.post(f"/inspect/e/{firm.token}/register", data={"basis_id": "x'; --", "item_ids": "-1"})
    assert garbage.status_code in (400, 422)
    done = client.post(
        f"/inspect/e/{firm.token}/register", data={**data, "officer_ids": str(unit["colleague"].id)}
    )
    assert done.status_code == 302
    inspection = session.query(Inspection).filter_by(enterprise_id=firm.id).one()
    assert client.get("/inspect/").get_data(as_text=True).count(firm.name) == 1
    assert client.post(f"/inspect/{inspection.id}/finish", data={"result": ""}).status_code == 422
    assert client.post(f"/inspect/{inspection.id}/finish", data={"result": "no_problem"}).status_code == 302
    session.refresh(inspection)
    assert inspection.state == InspectionState.FINISHED


def test_an_officer_of_another_unit_does_not_see_the_inspection(client, session, unit):
    inspection = register(session, unit, make_enterprise(session))
    login(client, "inspector_zhang")
    assert client.get(f"/inspect/{inspection.id}").status_code == 404
    assert client.post(f"/inspect/{inspection.id}/finish", data={"result": "no_problem"}).status_code == 404


def test_a_handler_cannot_open_the_inspector_pages(client, session, unit):
    login(client, "handler")
    assert client.get("/inspect/").status_code in (302, 403)


def test_the_enterprise_confirms_and_reports_on_its_page(client, session, unit):
    firm = make_enterprise(session)
    inspection = register(session, unit, firm)
    page = client.get(f"/enterprise/{firm.confirm_token}").get_data(as_text=True)
    assert inspection.number in page and unit["colleague"].certificate_no in page
    early = client.post(
        f"/enterprise/{firm.confirm_token}/{inspection.id}/confirm", data={"rating": "satisfied"}
    )
    assert early.status_code == 409
    finish(session, inspection, unit["actor"])
    bad = client.post(f"/enterprise/{firm.confirm_token}/{inspection.id}/confirm", data={"rating": "zzz"})
    assert bad.status_code == 422
    ok = client.post(
        f"/enterprise/{firm.confirm_token}/{inspection.id}/confirm", data={"rating": "satisfied"}
    )
    assert ok.status_code == 302
    url = f"/enterprise/{firm.confirm_token}/{inspection.id}/problem"
    assert client.get(url).status_code == 200
    missing = client.post(url, data={**PROBLEM, "reporter_phone": ""})
    assert missing.status_code == 422 and "form-error" in missing.get_data(as_text=True)
    filed = client.post(url, data=PROBLEM)
    assert filed.status_code == 302 and filed.headers["Location"].endswith("/report/receipt")
    receipt = client.get("/report/receipt").get_data(as_text=True)
    case = session.query(Case).filter_by(inspection_id=inspection.id).one()
    assert case.number in receipt and 'id="receipt-code"' in receipt


# --- one run at a phone's size in a real browser ----------------------------------------------

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots" / "inspections"


@pytest.fixture
def live(app):
    """The test app served on a free port from a thread (its commits are real: see cleanup)."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def _cleanup(app, names):
    from app.extensions import db
    from models.inspection import inspection_item_link, inspection_officer, inspection_unit

    with app.app_context():
        firms = db.session.query(Enterprise).filter(Enterprise.name == names["firm"]).all()
        ids = [i.id for f in firms for i in db.session.query(Inspection).filter_by(enterprise_id=f.id)]
        for table in (inspection_item_link, inspection_officer, inspection_unit):
            db.session.execute(table.delete().where(table.c.inspection_id.in_(ids)))
        db.session.query(Case).filter(Case.inspection_id.in_(ids)).update({Case.inspection_id: None})
        db.session.query(Inspection).filter(Inspection.id.in_(ids)).delete()
        for f in firms:
            db.session.delete(f)
        db.session.query(EnforcementOfficer).filter(EnforcementOfficer.name.like("浏览器%")).delete()
        db.session.query(InspectionItem).filter(InspectionItem.code.like("BRW%")).delete()
        db.session.commit()  # the account stays: the audit log refers to its logins


@pytest.mark.real_commits
@pytest.mark.browser
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium")
def test_scan_register_finish_and_confirm_on_a_phone(app, live, depts_committed=None):
    pytest.importorskip("playwright")
    from playwright.sync_api import sync_playwright

    from app.extensions import db
    from models import Department

    names = {"firm": "浏览器测试食品有限公司"}
    try:
        with app.test_request_context():
            depts = {d.code: d for d in db.session.query(Department)}
            user = make_inspector(app, db.session, depts, "inspector_phone")
            make_officer(db.session, depts, "浏览器李", user=user)
            make_officer(db.session, depts, "浏览器王")
            for kind, code, name in (
                (BasisKind.BASIS, "BRW1", "双随机抽查任务"),
                (BasisKind.ITEM, "BRW2", "食品安全"),
            ):
                db.session.add(InspectionItem(kind=kind, code=code, name=name))
            firm = make_enterprise(db.session, names["firm"], no_disturb=True)
            scan, mine = firm.token, firm.confirm_token
            db.session.commit()
        SHOTS.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox"])
            phone = browser.new_context(
                viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
            )
            page = phone.new_page()
            page.goto(f"{live}/login/")
            page.fill("#username", "inspector_phone")
            page.fill("#password", "Demo@2026")
            page.click("[type=submit]")
            page.goto(f"{live}/inspect/e/{scan}")
            assert page.locator("#license").is_visible()
            page.check("text=浏览器王")
            page.select_option("#basis_id", label="双随机抽查任务")
            page.check("text=食品安全")
            page.fill("#no_disturb_reason", "投诉举报核查，需现场查看经营场所")
            page.screenshot(path=str(SHOTS / "1-scan.png"), full_page=True)
            page.click("#register")
            assert page.locator("#number").inner_text().startswith("JC")
            page.click("#finish")
            page.select_option("#result", value="no_problem")
            page.click("#finish-submit")
            page.screenshot(path=str(SHOTS / "2-finished.png"), full_page=True)
            enterprise = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
            own = enterprise.new_page()
            own.goto(f"{live}/enterprise/{mine}")
            own.locator("select[name=rating]").select_option(value="satisfied")
            own.screenshot(path=str(SHOTS / "3-enterprise.png"), full_page=True)
            own.click("button.btn-success")
            own.screenshot(path=str(SHOTS / "4-confirmed.png"), full_page=True)
            assert own.locator("button.btn-success").count() == 0
            width = own.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, width  # nothing wider than the phone
            browser.close()
        with app.app_context():
            state = (
                db.session.query(Inspection.state).join(Enterprise).filter(Enterprise.token == scan).scalar()
            )
        assert state == InspectionState.CONFIRMED
    finally:
        _cleanup(app, names)
