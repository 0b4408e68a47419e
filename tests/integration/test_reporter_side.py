"""The reporter's side: filing, receipts, tracking, messages, rating, windows, protection."""

from __future__ import annotations

import io
import logging
import re

import pytest
from PIL import Image
from sqlalchemy import text

from app.workflow import Status
from models import Case, IdentityAccess, Reporter, ServiceWindow, Staff, TrackingAttempt
from tests.conftest import api_token as conftest_api_token
from tests.conftest import login

CANARY = {
    "reporter_name": "金丝雀甲乙丙",
    "reporter_phone": "13912345678",
    "reporter_company": "金丝雀测试科技有限公司",
    "credit_code": "91110000MA01CANARY",
}
NUMERALS = {c: i for i, c in enumerate("零一二三四五六七八九")}


def chinese_to_int(text: str) -> int:
    if "十" not in text:
        return NUMERALS[text]
    tens, _, ones = text.partition("十")
    return (NUMERALS[tens] if tens else 1) * 10 + (NUMERALS[ones] if ones else 0)


def answer_challenge(page: str) -> tuple[str, str]:
    """Solve the filing page's check question like a person would."""
    a, b = re.search(r"([零一二三四五六七八九十]+)加([零一二三四五六七八九十]+)等于", page).groups()
    token = re.search(r'name="challenge_token"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="challenge_token"', page
    )
    return token.group(1), str(chinese_to_int(a) + chinese_to_int(b))


def jpeg_with_gps() -> bytes:
    picture = Image.new("RGB", (40, 30), "red")
    exif = Image.Exif()
    exif[0x010F] = "CanaryCam"
    exif.get_ifd(0x8825)[2] = (39.0, 54.0, 27.0)  # GPSLatitude
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


@pytest.fixture
def client(app):
    return app.test_client()


def file_through_page(client, cats, *, window=None, files=(), expect=200, **fields):
    page = client.get("/report/" + (f"?w={window}" if window else "")).get_data(as_text=True)
    token, answer = answer_challenge(page)
    data = {
        "case_type": "complaint",
        "category_id": str(cats["GOV01"].id),
        "title": "营业执照办理超时",
        "content": "提交材料后二十天没有结果，窗口说领导没签字。",
        "region": "清源省",
        "challenge_token": token,
        "challenge_answer": answer,
        **fields,
    }
    if window:
        data["window_token"] = window
    data["attachments"] = [(io.BytesIO(content), name) for name, content in files]
    response = client.post("/report/", data=data, content_type="multipart/form-data")
    if expect == 200:  # filed: the receipt is its own page after a redirect
        assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
        assert response.headers["Location"].endswith("/report/receipt")
        response = client.get("/report/receipt")
    assert response.status_code == expect, response.get_data(as_text=True)[-1500:]
    body = response.get_data(as_text=True)
    if expect != 200:
        return None, None, body
    number = re.search(r'id="receipt-number"[^>]*>([A-Z0-9]+)<', body).group(1)
    code = re.search(r'id="receipt-code">([A-Z0-9-]+)<', body).group(1)
    return number, code, body


def track(client, number, code):
    return client.post("/track/", data={"number": number, "code": code})


def test_a_named_reporter_files_and_gets_a_receipt_with_a_strong_code(session, client, cats):
    number, code, page = file_through_page(client, cats, **CANARY)
    assert len(code.replace("-", "")) == 24  # 24 symbols of 5 bits: 120 bits
    case = session.query(Case).filter_by(number=number).one()
    assert case.channel == "web" and case.status == Status.SUBMITTED
    reporter = case.reporters[0]
    assert reporter.name == CANARY["reporter_name"] and reporter.code_hash
    raw = session.execute(
        text("SELECT name, phone, company, credit_code, code_hash FROM reporter WHERE id = :id"),
        {"id": reporter.id},
    ).one()
    stored = " ".join(str(v) for v in raw)
    for secret in (*CANARY.values(), code, code.replace("-", "")):
        assert secret not in stored  # encrypted at rest; the code only as a keyed hash


def test_an_anonymous_report_needs_no_contact_and_keeps_a_photos_evidence(session, client, cats):
    photo = jpeg_with_gps()
    number, code, _ = file_through_page(
        client,
        cats,
        anonymous="y",
        case_type="report",
        category_id=str(cats["INT01"].id),
        files=[("门口照片.jpg", photo)],
    )
    case = session.query(Case).filter_by(number=number).one()
    assert case.reporters[0].anonymous and case.reporters[0].name is None
    attachment = case.attachments[0]
    assert attachment.original_name == "门口照片.jpg" and attachment.content_type == "image/jpeg"
    import hashlib

    assert attachment.sha256 == hashlib.sha256(photo).hexdigest()
    login(client, "supervisor")
    download = client.get(f"/cases/act/{case.id}/file/{attachment.id}")
    assert download.status_code == 200
    assert "attachment" in download.headers["Content-Disposition"]
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    staff_copy = Image.open(io.BytesIO(download.data))
    assert not staff_copy.getexif() and b"CanaryCam" not in download.data
    login(client, "handler")  # not sent to the handler's department
    assert client.get(f"/cases/act/{case.id}/file/{attachment.id}").status_code == 404


def test_a_wrong_or_reused_check_answer_saves_nothing(session, client, cats):
    before = session.query(Case).count()
    page = client.get("/report/").get_data(as_text=True)
    token, answer = answer_challenge(page)
    response = client.post(
        "/report/",
        data={
            "case_type": "complaint",
            "title": "标题",
            "content": "内容",
            "anonymous": "y",
            "challenge_token": token,
            "challenge_answer": str(int(answer) + 1),
        },
    )
    assert response.status_code == 422 and "请" in response.get_data(as_text=True)
    assert session.query(Case).count() == before
    file_through_page(client, cats, anonymous="y")
    replay = client.post(
        "/report/",
        data={
            "case_type": "complaint",
            "title": "再来",
            "content": "内容",
            "anonymous": "y",
            "challenge_token": token,
            "challenge_answer": answer,
        },
    )
    # a wrongly answered challenge was not used up (that filing rolled back): it still works
    assert replay.status_code == 302 and session.query(Case).count() == before + 2
    token2, answer2 = answer_challenge(client.get("/report/").get_data(as_text=True))
    fields = {
        "case_type": "complaint",
        "title": "再来",
        "content": "内容",
        "anonymous": "y",
        "challenge_token": token2,
        "challenge_answer": answer2,
    }
    assert client.post("/report/", data=fields).status_code == 302
    assert client.post("/report/", data=fields).status_code == 422  # the same answer twice


@pytest.mark.parametrize(
    "bad",
    [
        {"title": ""},
        {"content": ""},
        {"content": "长" * 100_000},
        {"case_type": "bribe"},
        {"category_id": "999999"},
        {"reporter_name": "张三", "reporter_phone": ""},
        {"reporter_name": "张三", "reporter_phone": "13900000000", "credit_code": "123"},
        {"concerned_department_id": "abc"},
    ],
)
def test_bad_input_gets_a_clear_message_and_saves_nothing(session, client, cats, bad):
    before = session.query(Case).count()
    _, _, page = file_through_page(client, cats, expect=422, **bad)
    assert 'class="alert alert-danger"' in page
    assert session.query(Case).count() == before


def test_script_and_sql_in_a_filing_are_kept_as_plain_text(session, client, cats):
    hostile = "<script>alert('x')</script> '; DROP TABLE cases; --"
    number, _, _ = file_through_page(client, cats, anonymous="y", content=hostile)
    case = session.query(Case).filter_by(number=number).one()
    assert case.content == hostile
    login(client, "clerk")
    page = client.get(f"/cases/show/{case.id}").get_data(as_text=True)
    assert "<script>alert('x')</script>" not in page and "&lt;script&gt;" in page


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("photo.jpg", b"MZ\x90\x00" + b"\x00" * 100),  # a Windows executable named .jpg
        ("report.pdf", b"<html><script>alert(1)</script></html>"),
        ("empty.docx", b""),
    ],
)
def test_each_bad_upload_is_refused_and_nothing_is_saved(session, client, cats, name, content):
    before = session.query(Case).count()
    _, _, page = file_through_page(client, cats, anonymous="y", files=[(name, content)], expect=422)
    assert name in page
    assert session.query(Case).count() == before


def test_a_request_over_the_size_limit_is_refused_before_reading_it(app, session, client, cats):
    limit = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 2048
    try:
        before = session.query(Case).count()
        response = client.post(
            "/report/",
            data={"title": "x", "attachments": [(io.BytesIO(b"x" * 10_000), "big.pdf")]},
            content_type="multipart/form-data",
        )
        assert response.status_code == 413 and "MB" in response.get_data(as_text=True)
        assert session.query(Case).count() == before
    finally:
        app.config["MAX_CONTENT_LENGTH"] = limit


def test_broken_multipart_gets_a_clear_answer(client):
    response = client.post(
        "/report/",
        data=b"--xyz\r\nContent-Disposition: form-data; name=",
        content_type="multipart/form-data; boundary=xyz",
    )
    assert response.status_code in (400, 422)


def test_filing_without_a_csrf_token_is_refused(app, session, client, cats):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        before = session.query(Case).count()
        response = client.post(
            "/report/", data={"case_type": "complaint", "title": "x", "content": "y", "anonymous": "y"}
        )
        assert response.status_code == 400
        assert session.query(Case).count() == before
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_the_receipt_must_be_confirmed_and_downloads_as_a_pdf_without_identity(session, client, cats):
    number, code, _ = file_through_page(client, cats, **CANARY)
    wrong = client.post("/report/confirm", data={"number": number, "code": "AAAA-" + code[5:]})
    assert wrong.status_code == 422
    right = client.post("/report/confirm", data={"number": number, "code": code.lower()})
    assert right.status_code == 200 and number in right.get_data(as_text=True)
    pdf = client.post("/report/receipt.pdf", data={"number": number, "code": code})
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert "attachment" in pdf.headers["Content-Disposition"]
    import subprocess

    text_of_pdf = subprocess.run(
        ["pdftotext", "-", "-"], input=pdf.data, capture_output=True, check=True
    ).stdout.decode()
    assert number in text_of_pdf
    for secret in CANARY.values():
        assert secret not in text_of_pdf


def test_a_wrong_number_and_a_wrong_code_answer_the_same_way(session, client, cats):
    number, code, _ = file_through_page(client, cats, anonymous="y")
    wrong_code = track(client, number, "ABCD-EFGH-JKLM-NPQR-STUV-WXYZ")
    wrong_number = track(client, "YS20000101000001", code)
    assert wrong_code.status_code == wrong_number.status_code == 404
    strip = lambda r: re.sub(r'value="[^"]*"', "", r.get_data(as_text=True))  # noqa: E731
    assert strip(wrong_code) == strip(wrong_number)
    assert session.query(TrackingAttempt).filter_by(success=False).count() == 2


def test_too_many_wrong_codes_lock_the_client_out(session, client, cats):
    number, code, _ = file_through_page(client, cats, anonymous="y")
    other = {"REMOTE_ADDR": "10.9.8.7"}
    for _ in range(10):
        client.post(
            "/track/", data={"number": number, "code": "ABCD-EFGH-JKLM-NPQR-STUV-WXYZ"}, environ_base=other
        )
    locked = client.post("/track/", data={"number": number, "code": code}, environ_base=other)
    assert locked.status_code == 429
    assert track(client, number, code).status_code == 302  # another client is not affected


def test_lookups_are_rate_limited_per_client(app, session, client, cats):
    app.config["TRACKING_RATE_LIMIT"] = "3 per hour"
    try:
        codes = [
            client.post(
                "/track/", data={"number": "YS1", "code": "x"}, environ_base={"REMOTE_ADDR": "10.1.1.1"}
            ).status_code
            for _ in range(4)
        ]
        assert codes[-1] == 429
    finally:
        app.config["TRACKING_RATE_LIMIT"] = "10000 per hour"


def test_the_code_never_appears_in_a_url_or_a_log(session, client, cats, caplog):
    caplog.set_level(logging.DEBUG)
    number, code, _ = file_through_page(client, cats, **CANARY)
    response = track(client, number, code)
    assert response.status_code == 302 and code not in response.headers["Location"]
    assert code not in caplog.text and CANARY["reporter_name"] not in caplog.text


def test_the_reporter_follows_talks_to_the_staff_and_rates(session, client, cats, depts):
    number, code, _ = file_through_page(client, cats, **CANARY)
    case = session.query(Case).filter_by(number=number).one()
    login(client, "clerk")
    client.post(f"/cases/act/{case.id}/accept", data={"note": "内部：材料齐全"})
    login(client, "dispatcher")
    client.post(f"/cases/act/{case.id}/dispatch", data={"lead_department_id": depts["X102"].id})
    login(client, "handler")
    client.post(f"/cases/act/{case.id}/sign", data={})
    client.post(f"/cases/act/{case.id}/message", data={"body": "请补充提交申请回执照片。"})
    client.post("/logout/")

    assert track(client, number, code).status_code == 302
    page = client.get("/track/case").get_data(as_text=True)
    assert "请补充提交申请回执照片。" in page and "内部：材料齐全" not in page
    client.post("/track/message", data={"body": "回执照片已补充，请查收。"})
    client.post(
        "/track/material",
        data={"text": "补充说明", "attachments": [(io.BytesIO(jpeg_with_gps()), "回执.jpg")]},
        content_type="multipart/form-data",
    )

    login(client, "handler")
    staff_page = client.get(f"/cases/show/{case.id}").get_data(as_text=True)
    assert "回执照片已补充，请查收。" in staff_page and "回执.jpg" in staff_page
    finding = {"result": "untrue", "facts": "内部：审批记录完整", "summary": "经核查，审批未超时。"}
    client.post(f"/cases/act/{case.id}/record_finding", data=finding)
    client.post(f"/cases/act/{case.id}/reply", data={"reply": "已为您办结营业执照。"})
    client.post("/logout/")

    track(client, number, code)
    assert "已为您办结营业执照。" in client.get("/track/case").get_data(as_text=True)
    client.post("/track/rate", data={"rating": "unsatisfied", "reason": ""})
    session.expire_all()
    assert session.get(Case, case.id).status == Status.REPLIED  # a reason is required
    client.post("/track/rate", data={"rating": "unsatisfied", "reason": "执照上的经营范围有误"})
    session.expire_all()
    case = session.get(Case, case.id)
    assert case.status == Status.UNSATISFIED and case.rating_source == "reporter"
    login(client, "supervisor")
    assert client.post(f"/cases/act/{case.id}/rehandle", data={"note": "诉求合理"}).status_code == 302
    session.expire_all()
    assert session.get(Case, case.id).status == Status.DISPATCHED


def test_a_window_qr_code_presets_the_window_and_channel(session, client, cats, depts):
    window = ServiceWindow(
        name="3号窗口",
        hall="长河县政务服务中心",
        department=depts["X102"],
        region="清源省",
        token="window-token-3",
    )
    session.add(window)
    session.commit()
    page = client.get("/report/?w=window-token-3").get_data(as_text=True)
    assert "3号窗口" in page
    number, _, _ = file_through_page(client, cats, window="window-token-3", anonymous="y")
    case = session.query(Case).filter_by(number=number).one()
    assert case.window_id == window.id and case.channel == "qr"
    assert case.concerned_department_id == depts["X102"].id and "3号窗口" in case.location
    login(client, "admin")
    sheet = client.post(
        "/servicewindowview/action_post", data={"action": "qr_sheet", "rowid": [str(window.id)]}
    )
    assert sheet.status_code == 200 and sheet.data.startswith(b"%PDF")


def test_a_connected_system_files_with_an_api_key_and_reads_only_its_cases(
    app, session, client, cats, actors, depts
):
    from tests.factories import case_in

    other = case_in(
        session,
        actors,
        cats,
        depts,
        Status.HANDLING,
        now=__import__("tests.conftest", fromlist=["at"]).at("2026-11-02 10:00"),
    )
    sm = app.appbuilder.sm
    key = sm.create_api_key(sm.find_user(username="hotline12345"), "test")["key"]
    session.commit()
    headers = {"Authorization": f"Bearer {key}"}
    created = client.post(
        "/api/v1/case/",
        headers=headers,
        json={
            "case_type": "complaint",
            "channel": "phone_12345",
            "title": "12345转办：审批超时",
            "content": "来电反映审批超时",
            "category_id": cats["GOV01"].id,
            "anonymous": True,
        },
    )
    assert created.status_code == 201, created.json
    assert len(created.json["query_code"].replace("-", "")) == 24
    mine = client.get(f"/api/v1/case/{created.json['id']}", headers=headers)
    assert mine.status_code == 200 and mine.json["result"]["status"] == "submitted"
    assert client.get(f"/api/v1/case/{other.id}", headers=headers).status_code == 404
    actions = client.post(f"/api/v1/case/{created.json['id']}/actions/accept", headers=headers, json={})
    assert actions.status_code == 403


def test_the_identity_canary_appears_nowhere_but_to_those_entitled(session, client, cats, depts):
    number, code, _ = file_through_page(client, cats, **CANARY)
    case = session.query(Case).filter_by(number=number).one()
    login(client, "clerk")
    client.post(f"/cases/act/{case.id}/accept", data={})
    login(client, "dispatcher")
    client.post(f"/cases/act/{case.id}/dispatch", data={"lead_department_id": depts["X102"].id})

    def leaks(username):
        login(client, username)
        pages = [
            "/",
            "/cases/list/",
            f"/cases/show/{case.id}",
            "/cases/intake/list/",
            "/cases/dispatch/list/",
            "/cases/department/list/",
            "/cases/supervision/list/",
            f"/cases/list/?_flt_0_title={case.title}",
        ]
        token = conftest_api_token(client, username)
        headers = {"Authorization": f"Bearer {token}"}
        bodies = [
            client.get(p, headers=headers).get_data(as_text=True)
            for p in (
                "/api/v1/case/?q=(page_size:100)",
                f"/api/v1/case/{case.id}",
                "/api/v1/case_event/?q=(page_size:100)",
            )
        ]
        login(client, username)
        bodies += [client.get(p).get_data(as_text=True) for p in pages]
        return [v for v in CANARY.values() for b in bodies if v in b]

    for username in ("clerk", "dispatcher", "handler", "supervisor", "leader", "admin"):
        assert leaks(username) == [], username
    supervisor = session.query(Staff).filter_by(username="supervisor").one()
    login(client, "dispatcher")  # the case's supervisor is named by the dispatcher
    client.post(f"/cases/act/{case.id}/supervisor", data={"supervisor_id": supervisor.id})
    login(client, "supervisor")
    revealed = client.post(f"/cases/act/{case.id}/identity", data={}).get_data(as_text=True)
    assert CANARY["reporter_name"] in revealed
    assert session.query(IdentityAccess).filter_by(case_id=case.id).count() == 1
    login(client, "leader")  # not investigating the case: refused, nothing shown, nothing recorded
    refused = client.post(f"/cases/act/{case.id}/identity", data={}, follow_redirects=True)
    assert CANARY["reporter_name"] not in refused.get_data(as_text=True)
    assert session.query(IdentityAccess).filter_by(case_id=case.id).count() == 1


def test_a_report_naming_a_department_is_never_seen_by_it(session, client, cats, depts):
    number, _, _ = file_through_page(
        client,
        cats,
        anonymous="y",
        case_type="report",
        category_id=str(cats["INT01"].id),
        concerned_department_id=str(depts["X102"].id),
    )
    case = session.query(Case).filter_by(number=number).one()
    login(client, "clerk")
    client.post(
        f"/cases/act/{case.id}/classify",
        data={"case_type": "report", "category_id": cats["INT01"].id, "urgency": "normal", "grade": "a"},
    )
    client.post(f"/cases/act/{case.id}/accept", data={})
    session.expire_all()
    assert session.get(Case, case.id).proposed_department_id != depts["X102"].id
    login(client, "handler")  # X102
    assert client.get(f"/cases/show/{case.id}").status_code == 404


def test_similar_cases_are_shown_and_a_duplicate_is_merged_keeping_each_receipt(session, client, cats):
    first_number, first_code, _ = file_through_page(
        client,
        cats,
        **{
            **CANARY,
            "title": "营业执照申请二十天未办结",
            "content": "我公司提交营业执照申请材料后二十天没有结果，窗口称领导未签字。",
        },
    )
    second_number, second_code, _ = file_through_page(
        client,
        cats,
        **{
            **CANARY,
            "reporter_name": "同事乙",
            "title": "营业执照迟迟不办",
            "content": "营业执照申请材料提交二十多天，行政审批局窗口一直说领导没签字。",
        },
    )
    first = session.query(Case).filter_by(number=first_number).one()
    second = session.query(Case).filter_by(number=second_number).one()
    login(client, "clerk")
    page = client.get(f"/cases/show/{second.id}").get_data(as_text=True)
    assert 'id="case-similar"' in page and first_number in page
    response = client.post(f"/cases/act/{second.id}/merge", data={"into_case": first_number})
    assert response.status_code == 302
    session.expire_all()
    first, second = session.get(Case, first.id), session.get(Case, second.id)
    assert second.status == Status.DECLINED and second.merged_into_id == first.id
    assert len(first.reporters) == 2
    client.post("/logout/")
    assert track(client, second_number, second_code).status_code == 302
    assert first_number in client.get("/track/case").get_data(as_text=True)
    assert session.query(Reporter).filter_by(receipt_number=second_number).one().case_id == first.id
    # each reporter of the merged case sees the staff's messages and their own, never the other's
    client.post("/track/message", data={"body": "我是同事乙，电话13900001111"})
    client.get("/track/leave")
    assert track(client, first_number, first_code).status_code == 302
    assert "13900001111" not in client.get("/track/case").get_data(as_text=True)


def test_lookups_are_also_limited_for_everyone_together(app, session, client):
    app.config["TRACKING_GLOBAL_RATE_LIMIT"] = "5 per hour"
    try:
        codes = [
            client.post(
                "/track/", data={"number": "YS1", "code": "x"}, environ_base={"REMOTE_ADDR": f"10.2.0.{i}"}
            ).status_code
            for i in range(7)
        ]
        assert codes[-1] == 429 and len(set(codes[:4])) == 1
    finally:
        app.config["TRACKING_GLOBAL_RATE_LIMIT"] = "2000 per hour"


def test_a_revoked_api_key_stops_at_once_even_after_it_was_verified(app, session, client):
    sm = app.appbuilder.sm
    created = sm.create_api_key(sm.find_user(username="hotline12345"), "revoke-me")
    session.commit()
    headers = {"Authorization": f"Bearer {created['key']}"}
    assert client.get("/api/v1/case/", headers=headers).status_code == 200
    assert client.get("/api/v1/case/", headers=headers).status_code == 200  # cached check
    sm.revoke_api_key(created["uuid"])
    session.commit()
    assert client.get("/api/v1/case/", headers=headers).status_code == 401


def test_control_characters_in_a_report_are_dropped_and_the_report_is_kept(session, client, cats):
    # PostgreSQL cannot store NUL in text: it is removed from every submitted field, never a 500.
    number, code, _ = file_through_page(
        client, cats, anonymous="y", title="营业执照\x00办理超时", content="提交材料后\x00二十天没有结果。"
    )
    case = session.query(Case).filter_by(number=number).one()
    assert case.title == "营业执照办理超时" and case.content == "提交材料后二十天没有结果。"
    assert track(client, number + "\x00", code).status_code in (200, 302)
    login_page = client.post("/login/", data={"username": "admin\x00", "password": "x\x00"})
    assert login_page.status_code in (200, 302)


def _rating_choices(page: str) -> list[str]:
    """The answers the rating form offers the reporter, as they read them."""
    form = page[page.index('id="track-rate"') :]
    form = form[: form.index("</form>")]
    return [text.strip() for text in re.findall(r'name="rating"[^>]*>([^<]+)</label>', form)]


def test_the_reporter_rates_every_reply_also_after_re_handling_and_escalation(session, client, cats, depts):
    """100% of replies are rated: unsatisfied → re-handling → unsatisfied again → escalation,
    and each new reply is offered for rating on the tracking page, in the reporter's words."""
    number, code, _ = file_through_page(client, cats, **CANARY)
    case_id = session.query(Case).filter_by(number=number).one().id

    def staff(username, action, **data):
        login(client, username)
        response = client.post(f"/cases/act/{case_id}/{action}", data=data)
        assert response.status_code == 302, (action, response.get_data(as_text=True)[-800:])

    def tracking_page():
        client.post("/logout/")
        assert track(client, number, code).status_code == 302
        page = client.get("/track/case").get_data(as_text=True)
        assert "待研判" not in page  # the staff's working status is never the reporter's
        return page

    def rate(rating, reason=""):
        page = tracking_page()
        assert _rating_choices(page) == ["满意", "基本满意", "不满意"]
        assert client.post("/track/rate", data={"rating": rating, "reason": reason}).status_code == 302

    staff("clerk", "accept")
    staff("dispatcher", "dispatch", lead_department_id=depts["X102"].id)
    staff("handler", "sign")
    staff(
        "handler",
        "record_finding",
        result="untrue",
        facts="窗口记录显示已受理",
        summary="经核查，已在办理中。",
    )
    staff("handler", "reply", reply="第一次答复：已督促窗口办理。")
    rate("unsatisfied", "执照仍未办下来")
    page = tracking_page()
    assert 'id="track-rate"' not in page
    assert re.search(r'id="track-rating">[^<]*不满意<', page)
    assert "不满意" not in re.search(r'id="track-status">([^<]*)<', page).group(1)

    staff("supervisor", "rehandle", note="诉求合理，重新办理")
    assert 'id="track-rate"' not in tracking_page()  # nothing new to rate while re-handled
    staff("handler", "sign")
    staff("handler", "reply", reply="第二次答复：执照已于今日发放。")
    assert "第二次答复" in tracking_page()
    rate("unsatisfied", "经营范围仍有误")
    with pytest.raises(ValueError):  # one rating per reply
        _rating_choices(tracking_page())

    staff("supervisor", "escalate", note="两次不满意，提级办理")
    staff("handler3", "sign")  # 石门市营商环境建设局, the next level up
    staff("handler3", "reply", reply="第三次答复：市局已协调更正经营范围。")
    rate("basically_satisfied")

    session.expire_all()
    case = session.get(Case, case_id)
    assert case.status == Status.EVALUATED and case.rating == "basically_satisfied"
    ratings = [(e.data["rating"], e.data["source"]) for e in case.events if e.action == "evaluate"]
    assert ratings == [
        ("unsatisfied", "reporter"),
        ("unsatisfied", "reporter"),
        ("basically_satisfied", "reporter"),
    ]
    [reporter] = case.reporters
    assert reporter.rating == "basically_satisfied"  # the rating of the latest reply
    page = tracking_page()
    assert re.search(r'id="track-rating">[^<]*基本满意<', page) and 'id="track-rate"' not in page
    assert client.post("/track/rate", data={"rating": "satisfied"}).status_code == 302
    session.expire_all()
    assert len([e for e in session.get(Case, case_id).events if e.action == "evaluate"]) == 3


def test_a_reply_reaches_the_reporter_as_text_never_as_markup(session, client, actors, cats, depts):
    from app.services import cases as svc
    from app.workflow import Action
    from tests.conftest import at
    from tests.factories import case_in, handler_of

    case = case_in(session, actors, cats, depts, Status.HANDLING, now=at("2026-11-02 10:00"))
    svc.perform(
        session,
        case.id,
        Action.REPLY,
        actor=handler_of(actors, "X102"),
        now=at("2026-11-03 10:00"),
        reply='<script>alert("reply")</script>已办结',
    )
    number, code = case.number, case.query_code
    session.commit()
    assert track(client, number, code).status_code == 302
    page = client.get("/track/case").get_data(as_text=True)
    assert '<script>alert("reply")' not in page
    assert page.count("&lt;script&gt;alert(&#34;reply&#34;)&lt;/script&gt;已办结") == 2  # reply, timeline


def test_a_confirmed_receipt_is_never_shown_again_even_from_an_old_cookie(session, client, cats):
    number, code, _ = file_through_page(client, cats, anonymous="y")
    old_cookie = client.get_cookie("session").value
    assert client.get("/report/receipt").status_code == 200  # a reload shows it again
    confirmed = client.post("/report/confirm", data={"number": number, "code": code})
    assert confirmed.status_code == 200 and "回执已保存" in confirmed.get_data(as_text=True)
    client.set_cookie("session", old_cookie)  # replayed by the next user of the computer
    again = client.get("/report/receipt")
    assert again.status_code == 302 and code not in again.get_data(as_text=True)


def test_leaving_forgets_a_receipt_not_yet_confirmed(session, client, cats):
    number, code, _ = file_through_page(client, cats, anonymous="y")
    client.get("/track/leave")
    assert client.get("/report/receipt").status_code == 302


def test_files_of_a_filing_that_rolls_back_are_removed(app, session, actors, cats):
    from app.services import reporting
    from tests.conftest import at
    from tests.factories import stored_names

    before = stored_names(app)
    data = {
        "case_type": "complaint",
        "channel": "phone_12345",
        "category_id": cats["GOV01"].id,
        "title": "附件测试",
        "content": "照片为证。",
        "region": "清源省",
        "anonymous": True,
    }
    case, written = reporting.file_case(
        session,
        actor=actors["clerk"],
        now=at("2026-09-30 10:00"),
        data=data,
        files=[("现场.jpg", jpeg_with_gps())],
    )
    assert written and stored_names(app) - before  # written before the commit
    session.rollback()  # e.g. the commit failed, or a later step refused
    assert stored_names(app) == before
