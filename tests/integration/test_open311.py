"""Open311 GeoReport v2 (/open311/v2), served on a real local port and driven by an existing
Open311 client from the package index (georeport 0.3.1, which reads services and requests in
JSON and XML) and by plain HTTP for what that client does not do (filing, errors, keys).

The rules: services are the leaf categories; a request filed with an API key is a case of the
intake (channel api, filed by the key's user, identity encrypted); what anyone may read is what
the tracking page shows, of the cases that protect nobody; a protected case is unknown to all
but its filer; no filed identity appears in any answer; every refusal is the spec's error body.
"""

from __future__ import annotations

import json
import re
import threading
from datetime import timedelta
from xml.etree import ElementTree as ET

import pytest
import requests
from georeport import GeoReport

from app import clock
from app.open311 import iso
from app.workflow import Status
from tests.factories import case_in, file_case

pytestmark = pytest.mark.real_commits  # the server's own sessions must see what a test commits

FORMATS = ("json", "xml")
IDENTITY = {
    "first_name": "四",
    "last_name": "李",
    "email": "li.si.reporter@example.com",
    "phone": "13912345678",
}
SECRET_WORDS = ("李四", "13912345678", "li.si.reporter@example.com", "li.si.reporter")


@pytest.fixture
def live(app):
    """The app on a free local port, from a thread, as a connected system reaches it."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/open311/v2"
    server.shutdown()


def _api_key(app, username: str) -> str:
    """An API key of the account (a connected system's, made when it does not exist yet)."""
    from werkzeug.security import generate_password_hash

    from app.extensions import db

    with app.app_context():
        sm = app.appbuilder.sm
        user = sm.find_user(username=username) or sm.add_user(
            username,
            "对接",
            "系统",
            f"{username}@test.example",
            sm.find_role("Integration"),
            hashed_password=generate_password_hash("Demo@2026-Open311"),
        )
        key = sm.create_api_key(user, "open311 test")["key"]
        db.session.commit()
        return key


@pytest.fixture
def key(app):
    return _api_key(app, "hotline12345")


def _parse(response) -> object:
    """A body as the format it says it is (the XML must be well-formed)."""
    if response.headers["Content-Type"].startswith("text/xml"):
        return ET.fromstring(response.content)
    return response.json()


def _file(live, key, fmt="json", **fields):
    data = {
        "api_key": key,
        "service_code": "GOV01",
        "description": "窗口办理营业执照变更，材料齐全却被要求补充无关证明。",
        "address_string": "清源省石门市政务服务中心3号窗口",
        "lat": "38.041",
        "long": "114.514",
        **IDENTITY,
        **fields,
    }
    return requests.post(f"{live}/requests.{fmt}", data=data, timeout=10)


def _filed_number(response) -> str:
    assert response.status_code == 201, response.text
    body = _parse(response)
    if isinstance(body, list):
        return body[0]["service_request_id"]
    return body.find("request/service_request_id").text


def _bearer(key) -> dict:
    return {"Authorization": f"Bearer {key}"}


def _error_of(response, fmt: str) -> tuple[int, str]:
    """The (code, description) of a spec error body; it must be the only error."""
    if fmt == "xml":
        root = ET.fromstring(response.content)
        assert root.tag == "errors" and [e.tag for e in root] == ["error"], response.text
        return int(root.find("error/code").text), root.find("error/description").text
    body = response.json()
    assert isinstance(body, list) and len(body) == 1 and set(body[0]) == {"code", "description"}
    return body[0]["code"], body[0]["description"]


def _case(app, number: str):
    from sqlalchemy.orm import selectinload

    from app.extensions import db
    from models import Case

    with app.app_context():
        case = (
            db.session.query(Case)
            .options(selectinload(Case.reporters), selectinload(Case.category))
            .filter_by(number=number)
            .one()
        )
        db.session.expunge_all()
        return case


# --- services --------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_services_are_the_leaf_categories_with_their_group(app, live, fmt):
    from app.extensions import db
    from models import Category

    services = GeoReport(live, output_format=fmt).get_service_list()
    with app.app_context():
        rows = db.session.query(Category).filter_by(active=True).all()
        parents = {c.parent_id for c in rows}
        leaves = {c.code: (c.name, c.parent.name if c.parent else "") for c in rows if c.id not in parents}
    assert {s["service_code"]: (s["service_name"], s["group"]) for s in services} == leaves
    assert {s["type"] for s in services} == {"realtime"}
    assert {str(s["metadata"]).lower() for s in services} == {"true"}


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_service_definition_lists_its_attributes(live, fmt):
    definition = GeoReport(live, output_format=fmt).get_service_definition("GOV01")
    assert definition["service_code"] == "GOV01"
    attributes = definition["attributes"]
    attributes = attributes if fmt == "json" else attributes["attribute"]
    case_type = next(a for a in attributes if a["code"] == "case_type")
    values = case_type["values"] if fmt == "json" else case_type["values"]["value"]
    assert {v["key"] for v in values} == {"consultation", "help", "complaint", "report", "suggestion"}
    assert str(case_type["required"]).lower() == "false"


@pytest.mark.parametrize("fmt", FORMATS)
def test_discovery_names_the_specification_and_formats(live, fmt):
    response = requests.get(f"{live}/discovery.{fmt}", timeout=10)
    assert response.status_code == 200
    body = _parse(response)
    if fmt == "json":
        assert body["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2"
        assert set(body["endpoints"][0]["formats"]) == {"text/xml", "application/json"}
    else:
        assert body.tag == "discovery"
        assert body.find("endpoints/endpoint/specification").text == "http://wiki.open311.org/GeoReport_v2"


# --- filing and reading back -----------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_filed_request_is_an_api_case_of_the_keys_user_with_encrypted_identity(app, live, key, fmt):
    from sqlalchemy import text

    from app.enums import Channel
    from app.extensions import db
    from models import Staff

    response = _file(live, key, fmt)
    number = _filed_number(response)
    assert re.fullmatch(r"YS\d{14}", number)
    body = _parse(response)
    token = body[0]["token"] if fmt == "json" else body.find("request/token").text

    case = _case(app, number)
    with app.app_context():
        filer = db.session.query(Staff).filter_by(username="hotline12345").one()
        raw = db.session.execute(
            text("SELECT name, phone FROM reporter WHERE case_id = :id"), {"id": case.id}
        ).one()
    assert case.channel == Channel.API and case.created_by_id == filer.id
    assert case.category.code == "GOV01" and case.status == Status.SUBMITTED
    assert case.title.startswith(case.category.name) and "营业执照变更" in case.title
    assert case.content.startswith("窗口办理营业执照变更") and "38.041000" in case.content
    assert case.location == "清源省石门市政务服务中心3号窗口"
    reporter = case.reporters[0]
    assert (reporter.name, reporter.phone, reporter.anonymous) == ("李四", "13912345678", False)
    assert "李四" not in str(raw.name) and "13912345678" not in str(raw.phone)  # encrypted at rest
    assert "li.si" not in case.content  # no field for an e-mail address: not kept at all

    token_answer = requests.get(f"{live}/tokens/{token}.{fmt}", timeout=10)
    assert token_answer.status_code == 200
    tokens = _parse(token_answer)
    if fmt == "json":
        assert tokens[0]["service_request_id"] == number
    else:
        assert tokens.find("request/service_request_id").text == number


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_request_reads_back_with_its_deadline_through_the_client(app, live, key, fmt):
    number = _filed_number(_file(live, key))
    case = _case(app, number)
    client = GeoReport(live, output_format=fmt)

    public = client.get_service_request(number)
    assert public["service_request_id"] == number and public["status"] == "open"
    assert public["service_code"] == "GOV01"
    assert public["expected_datetime"] == iso(case.accept_due_at)  # before dispatch: acceptance
    assert public["expected_datetime"].endswith("+08:00")
    assert public["requested_datetime"] == iso(case.created_at)
    assert not public.get("description") and not public.get("address")  # typed texts: the filer's
    listed = client.get_service_requests(service_request_id=number)
    listed = listed if isinstance(listed, list) else [listed]  # xmltodict: one item is no list
    assert [r["service_request_id"] for r in listed] == [number]

    own = requests.get(f"{live}/requests/{number}.json", headers=_bearer(key), timeout=10).json()[0]
    assert own["description"].startswith("窗口办理营业执照变更")
    assert own["address"] == "清源省石门市政务服务中心3号窗口"


def test_status_agency_and_expected_follow_the_workflow(app, live, session, actors, cats, depts):
    now = clock.utcnow() - timedelta(days=2)
    handling = case_in(session, actors, cats, depts, Status.HANDLING, now=now, finding=None)
    closed = case_in(session, actors, cats, depts, Status.CLOSED, now=now - timedelta(hours=1))
    session.commit()
    client = GeoReport(live)

    shown = client.get_service_request(handling.number)
    assert shown["status"] == "open" and shown["agency_responsible"] == depts["X102"].name
    assert shown["expected_datetime"] == iso(handling.due_at)
    assert client.get_service_request(closed.number)["status"] == "closed"
    open_ones = {r["service_request_id"] for r in client.get_service_requests(status="open")}
    closed_ones = {r["service_request_id"] for r in client.get_service_requests(status="closed")}
    assert handling.number in open_ones and handling.number not in closed_ones
    assert closed.number in closed_ones and closed.number not in open_ones
    by_code = client.get_service_requests(service_code="GOV02")
    assert handling.number not in {r["service_request_id"] for r in by_code}
    # status notes are the reporter's status label, never a staff note or name
    assert shown["status_notes"] and "陈" not in json.dumps(shown, ensure_ascii=False)


def test_the_list_covers_the_last_90_days_unless_dates_say_otherwise(app, live, session, actors, cats):
    old = file_case(session, actors, cats, now=clock.utcnow() - timedelta(days=100))
    recent = file_case(session, actors, cats, now=clock.utcnow() - timedelta(days=1))
    session.commit()
    client = GeoReport(live)
    listed = {r["service_request_id"] for r in client.get_service_requests()}
    assert recent.number in listed and old.number not in listed
    start = iso(old.created_at - timedelta(days=1))
    end = iso(old.created_at + timedelta(days=1))
    window = {r["service_request_id"] for r in client.get_service_requests(start_date=start, end_date=end)}
    assert old.number in window and recent.number not in window


def test_the_list_is_capped(app, live, session, actors, cats, monkeypatch):
    from app import open311

    for hours in (1, 2, 3):
        file_case(session, actors, cats, now=clock.utcnow() - timedelta(hours=hours))
    session.commit()
    monkeypatch.setattr(open311, "MAX_REQUESTS", 2)
    assert len(GeoReport(live).get_service_requests()) == 2


def _filed(response, fmt: str) -> dict:
    """The fields of the one request a filing answered (JSON or XML alike)."""
    assert response.status_code == 201, response.text
    body = _parse(response)
    if fmt == "json":
        assert isinstance(body, list) and len(body) == 1
        return body[0]
    assert body.tag == "service_requests" and [e.tag for e in body] == ["request"]
    return {child.tag: child.text for child in body.find("request")}


def _track(live, number: str, code: str) -> requests.Response | None:
    """Open the case on the public tracking page with its number and code, as the reporter
    does; the case page, or None when the page refuses them."""
    site = live.removesuffix("/open311/v2")
    with requests.Session() as browser:
        data = {"number": number, "code": code}
        form = browser.post(f"{site}/track/", data=data, allow_redirects=False, timeout=10)
        if form.status_code != 302:
            assert form.status_code in (400, 404), form.text  # a refusal, never a crash
            return None
        page = browser.get(f"{site}/track/case", allow_redirects=False, timeout=10)
        assert page.status_code == 200, page.status_code
        return page


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_filing_answers_the_reporters_query_code_which_opens_the_case_on_the_tracking_page(
    app, live, key, fmt
):
    response = _file(live, key, fmt)
    answer = _filed(response, fmt)
    number, code = answer["service_request_id"], answer["query_code"]
    assert re.fullmatch(r"[A-Z0-9]{4}(-[A-Z0-9]{4}){5}", code)
    assert {"service_request_id", "token", "service_notice", "account_id", "query_code"} <= set(answer)
    assert response.text.count(code) == 1  # given once
    assert answer["service_notice"]  # tells the reporter to keep the number and the code
    # and where to follow the case: the public tracking page, with neither number nor code in it
    assert answer["tracking_url"] == app.config["PUBLIC_BASE_URL"].rstrip("/") + "/track/"

    page = _track(live, number, code)
    assert page is not None and number in page.text and "营业执照变更" in page.text
    # the code is this case's and no other's: a wrong one, or another filing's, opens nothing
    other = _filed(_file(live, key, fmt), fmt)
    assert other["query_code"] != code
    assert _track(live, number, other["query_code"]) is None
    assert _track(live, other["service_request_id"], code) is None


def test_the_query_code_is_in_no_get_answer(app, live, key):
    filings = {fmt: _filed(_file(live, key, fmt), fmt) for fmt in FORMATS}
    codes = [answer["query_code"] for answer in filings.values()]
    assert all(codes)
    for fmt, answer in filings.items():
        number, token = answer["service_request_id"], answer["token"]
        for headers in ({}, _bearer(key)):  # the public's answers and the filer's own
            for path in (
                f"requests.{fmt}",
                f"requests.{fmt}?service_request_id={number}",
                f"requests/{number}.{fmt}",
                f"tokens/{token}.{fmt}",
            ):
                shown = requests.get(f"{live}/{path}", headers=headers, timeout=10)
                assert shown.status_code == 200 and number in shown.text, (path, shown.text)
                assert "query_code" not in shown.text, path
                assert not [code for code in codes if code in shown.text], path
                compact = shown.text.replace("-", "")
                assert not [code for code in codes if code.replace("-", "") in compact], path


# --- protected cases -------------------------------------------------------------------------


def test_protected_cases_are_unknown_to_everyone_but_their_filer(
    app, live, key, session, actors, cats, depts
):
    about_official = file_case(
        session, actors, cats, now=clock.utcnow(), concerned_official="某科长", anonymous=True
    )
    about_department = file_case(
        session, actors, cats, now=clock.utcnow(), concerned_department_id=depts["X102"].id
    )
    numbers = [about_official.number, about_department.number]
    session.commit()  # and not read again: SQLite's lock stays free for the server's writes
    report = _filed_number(_file(live, key, **{"attribute[case_type]": "report"}))
    confidential = _filed_number(_file(live, key, **{"attribute[confidential]": "true"}))
    anonymous_report = _filed_number(
        _file(live, key, first_name="", last_name="", phone="", **{"attribute[case_type]": "report"})
    )
    plain = _filed_number(_file(live, key))
    protected = [report, confidential, anonymous_report, *numbers]

    for fmt in FORMATS:
        listed = requests.get(f"{live}/requests.{fmt}", timeout=10)
        assert plain in listed.text
        assert not [n for n in protected if n in listed.text]
        unknown = requests.get(f"{live}/requests/YS20260101999999.{fmt}", timeout=10)
        for number in protected:
            answer = requests.get(f"{live}/requests/{number}.{fmt}", timeout=10)
            assert unknown.status_code == 404 and answer.status_code == 404
            assert answer.content == unknown.content  # the same answer as no case at all
            by_ids = requests.get(f"{live}/requests.{fmt}", params={"service_request_id": number}, timeout=10)
            assert by_ids.status_code == 200 and number not in by_ids.text

    other = _api_key(app, "open311_other_system")
    for number in (report, confidential):
        stranger = requests.get(f"{live}/requests/{number}.json", headers=_bearer(other), timeout=10)
        assert stranger.status_code == 404
        own = requests.get(f"{live}/requests/{number}.json", headers=_bearer(key), timeout=10)
        assert own.status_code == 200 and own.json()[0]["service_request_id"] == number
    own_list = requests.get(f"{live}/requests.json", headers=_bearer(key), timeout=10).text
    assert report in own_list and confidential in own_list
    assert numbers[0] not in own_list  # filed by the clerk, not by this system


# --- anonymity and escaping ------------------------------------------------------------------


def test_no_filed_identity_appears_in_any_answer(app, live, key):
    bodies = []
    for fmt in FORMATS:
        response = _file(live, key, fmt)
        bodies.append(response.text)
        number = _filed_number(response)
        body = _parse(response)
        token = body[0]["token"] if fmt == "json" else body.find("request/token").text
        for headers in ({}, _bearer(key)):
            for path in (
                f"requests.{fmt}",
                f"requests/{number}.{fmt}",
                f"requests.{fmt}?service_request_id={number}",
                f"tokens/{token}.{fmt}",
                f"services.{fmt}",
                f"services/GOV01.{fmt}",
                f"discovery.{fmt}",
            ):
                answer = requests.get(f"{live}/{path}", headers=headers, timeout=10)
                assert answer.status_code == 200, (path, answer.text)
                bodies.append(answer.text)
    # a named filing that the intake refuses (no phone) does not echo the name either
    bodies.append(_file(live, key, phone="").text)
    leaks = [word for word in SECRET_WORDS for body in bodies if word in body]
    assert not leaks


def test_typed_text_is_escaped_and_the_xml_stays_well_formed(app, live, key):
    description = '<script>alert("x")</script> & ]]> 控制符\x07结束'
    number = _filed_number(_file(live, key, description=description, address_string="<b>3号</b>窗口"))
    xml = requests.get(f"{live}/requests/{number}.xml", headers=_bearer(key), timeout=10)
    root = ET.fromstring(xml.content)  # well-formed despite the markup and the control character
    assert root.find("request/description").text.startswith('<script>alert("x")</script> & ]]> 控制符')
    assert "<script>" not in xml.text and "&lt;script&gt;" in xml.text
    assert root.find("request/address").text == "<b>3号</b>窗口"
    shown = requests.get(f"{live}/requests/{number}.json", headers=_bearer(key), timeout=10)
    assert shown.headers["Content-Type"].startswith("application/json")
    assert shown.json()[0]["description"].startswith("<script>")  # JSON data, not markup


# --- refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_bad_input_answers_the_spec_error_body_and_saves_nothing(app, live, key, fmt):
    from app.extensions import db
    from models import Case

    def count():
        with app.app_context():
            return db.session.query(Case).count()

    before = count()
    refusals = [
        (_file(live, None, fmt), 403),
        (_file(live, "ys110_not-a-key", fmt), 403),
        (_file(live, _api_key(app, "inspector"), fmt), 403),  # a valid key of a role that may not file
        (_file(live, key, fmt, service_code=""), 400),
        (_file(live, key, fmt, service_code="NOPE"), 400),
        (_file(live, key, fmt, service_code="GOV"), 400),  # a group, not a service
        (_file(live, key, fmt, description="  "), 400),
        (_file(live, key, fmt, lat="north"), 400),
        (_file(live, key, fmt, lat="1e999"), 400),
        (_file(live, key, fmt, long=""), 400),
        (_file(live, key, fmt, phone=""), 400),  # named without a phone: the intake's rule
        (_file(live, key, fmt, phone="12"), 400),
        (_file(live, key, fmt, **{"attribute[case_type]": "gossip"}), 400),
        (_file(live, key, fmt, **{"attribute[confidential]": "maybe"}), 400),
        (_file(live, key, fmt, description="长" * 20001), 400),
    ]
    get = lambda path, **kw: requests.get(f"{live}/{path}", timeout=10, **kw)  # noqa: E731
    refusals += [
        (get(f"requests.{fmt}?start_date=yesterday"), 400),
        (get(f"requests.{fmt}?start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z"), 400),
        (get(f"requests.{fmt}?start_date=2026-06-01T00:00:00Z&end_date=2026-05-01T00:00:00Z"), 400),
        (get(f"requests.{fmt}?status=pending"), 400),
        (get(f"requests.{fmt}?service_request_id=" + ",".join(["YS1"] * 101)), 400),
        (get(f"requests.{fmt}?api_key={key}"), 400),
        (get(f"requests.{fmt}", headers=_bearer("ys110_wrong")), 403),
        (get(f"requests/YS20260101999999.{fmt}"), 404),
        (get(f"requests/%00%ff.{fmt}"), 404),
        (get(f"services/NOPE.{fmt}"), 404),
        (get(f"tokens/forged.{fmt}"), 404),
        (get(f"nothing-here.{fmt}"), 404),
        (requests.put(f"{live}/requests.{fmt}", timeout=10), 405),
        (requests.post(f"{live}/services.{fmt}", timeout=10), 405),
    ]
    for response, status in refusals:
        assert response.status_code == status, (response.request.url, response.text)
        assert _error_of(response, fmt)[0] == status
        assert _error_of(response, fmt)[1]
    assert count() == before
    for other in (requests.get(f"{live}/services.pdf", timeout=10), requests.get(f"{live}/", timeout=10)):
        assert other.status_code == 404 and _error_of(other, "json")[0] == 404


def test_the_endpoints_are_rate_limited_with_the_spec_error(app, live, key):
    app.config["OPEN311_RATE_LIMIT"] = "3 per minute"
    try:
        answers = [requests.get(f"{live}/services.xml", timeout=10) for _ in range(4)]
        wrong_key = _file(live, "ys110_guessed")
        # a connected system with a valid key files on at its peaks
        filed = [_file(live, key, phone="", first_name="", last_name="") for _ in range(2)]
    finally:
        app.config.pop("OPEN311_RATE_LIMIT")
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert _error_of(answers[-1], "xml")[0] == 429
    assert wrong_key.status_code == 429
    assert [f.status_code for f in filed] == [201, 201]


@pytest.fixture
def fresh_limits(app):
    """Rate-limit counters of this test only (the limiter's storage is the process's memory)."""
    limiter = app.appbuilder.sm.limiter
    limiter.reset()
    yield limiter
    for name in ("OPEN311_RATE_LIMIT", "OPEN311_KEY_RATE_LIMIT"):
        app.config.pop(name, None)
    limiter.reset()


def test_each_valid_key_has_its_own_budget_and_other_clients_one_per_address(app, live, key, fresh_limits):
    from app.extensions import db
    from models import Case

    other_key = _api_key(app, "open311_other_system")
    app.config["OPEN311_KEY_RATE_LIMIT"] = "3 per minute"
    app.config["OPEN311_RATE_LIMIT"] = "5 per minute"
    anonymous = lambda: requests.get(f"{live}/services.json", timeout=10)  # noqa: E731
    keyed = lambda k, fmt="json": requests.get(  # noqa: E731
        f"{live}/services.{fmt}", headers=_bearer(k), timeout=10
    )
    with app.app_context():
        before = db.session.query(Case).count()

    first = [keyed(key), keyed(key, "xml"), _file(live, key, phone="", first_name="", last_name="")]
    assert [r.status_code for r in first] == [200, 200, 201]
    beyond = [keyed(key), keyed(key, "xml"), _file(live, key, "xml"), _file(live, key)]
    assert [r.status_code for r in beyond] == [429] * 4
    for response, fmt in zip(beyond, ("json", "xml", "xml", "json"), strict=True):
        assert response.headers["Content-Type"].startswith("text/xml" if fmt == "xml" else "application/json")
        assert _error_of(response, fmt)[0] == 429 and _error_of(response, fmt)[1]
    with app.app_context():
        assert db.session.query(Case).count() == before + 1  # the refused filings saved nothing

    # another connected system has its own budget, untouched by the first one's
    second = [keyed(other_key), _file(live, other_key), keyed(other_key, "xml"), keyed(other_key)]
    assert [r.status_code for r in second] == [200, 201, 200, 429]

    # the keys' requests (9 from this address) took nothing of the address's budget
    plain = [anonymous() for _ in range(6)]
    assert [r.status_code for r in plain] == [200] * 5 + [429]
    assert _error_of(plain[-1], "json")[0] == 429
    wrong = _file(live, "ys110_guessed", "xml")  # a wrong key is no key: the address's budget
    assert wrong.status_code == 429 and _error_of(wrong, "xml")[0] == 429

    storage = getattr(fresh_limits.storage, "storage", None)
    if storage is not None:  # the memory storage of the tests: no counter is named by a key
        names = " ".join(map(str, storage))
        assert "open311" in names
        assert key not in names and other_key not in names


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "query",
    [
        "end_date=0001-01-01",  # 90 days before it is no date
        "start_date=9999-12-01",  # 90 days after it is no date
        "start_date=9999-12-31T23:00:00-10:00",  # past the last date once in UTC
        "end_date=0001-01-01T00:00:00%2B14:00",  # before the first date once in UTC
        "start_date=0001-01-01T00:00:00Z&end_date=9999-12-31T00:00:00Z",
    ],
)
def test_dates_at_the_ends_of_the_calendar_are_a_spec_error_not_a_crash(live, fmt, query):
    response = requests.get(f"{live}/requests.{fmt}?{query}", timeout=10)
    assert response.status_code == 400, response.text
    assert _error_of(response, fmt)[0] == 400


def test_coordinates_are_plain_decimal_numbers(app, live, key):
    from app.extensions import db
    from models import Case

    with app.app_context():
        before = db.session.query(Case).count()
    # Python's float() also reads these; the spec's lat/long are WGS84 decimal numbers
    for lat in ("3_8", "\u0663\u0668", "\uff13\uff18", " 38 .0", "0x26"):
        response = _file(live, key, lat=lat)
        assert response.status_code == 400, (lat, response.text)
        assert _error_of(response, "json")[0] == 400
    with app.app_context():
        assert db.session.query(Case).count() == before
    assert _file(live, key, lat="-38.5", long="+114.514e0").status_code == 201
