"""A supervision notice is frozen when issued: its document (Chinese, with the names, contact,
抄送 and seal of that moment) is written in the issuing transaction, its PDF is rendered once
from it and served as issued, checked against its SHA-256, whatever changes later and whatever
the reader's language. The office's contact, copy line and seal come from its jurisdiction."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from PIL import Image
from sqlalchemy import event

from app.errors import Invalid
from app.services import jurisdictions as js
from app.services import notices as notice_services
from app.services import sweep
from app.supervision import NoticeCause
from app.workflow import Status
from models import Notice
from tests.conftest import at, login
from tests.factories import case_in, is_stored, store_bytes, stored_bytes, stored_names, unstore

NOW = at("2026-11-02 10:00")  # a Monday
MEETING = {"meeting_at": "2027-01-05 09:30", "place": "政务服务中心三楼会议室", "attendees": "主要负责人"}
# NOW is 2026-11-02: a meeting in January 2027 lies within the coming year.


@pytest.fixture(autouse=True)
def _files(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "NOTICE_DIR", str(tmp_path / "notices"))
    monkeypatch.setitem(app.config, "SEAL_DIR", str(tmp_path / "seals"))
    return tmp_path


def png(colour=(200, 0, 0, 255), size=(120, 120)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


def pdf_text(data: bytes) -> str:
    return subprocess.run(
        ["pdftotext", "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode()


def flat(text: str) -> str:
    return "".join(text.split())


def configure_office(session, **fields):
    office = js.root(session)
    for name, value in fields.items():
        setattr(office, name, value)
    session.flush()
    return office


def unsigned_notice(session, actors, cats, depts) -> Notice:
    case_in(session, actors, cats, depts, Status.DISPATCHED, now=NOW)
    sweep.run_sweep(session, NOW + timedelta(hours=3))
    [notice] = session.query(Notice).filter_by(cause=NoticeCause.UNSIGNED).all()
    return notice


def test_a_reminder_names_the_case_dates_contact_and_copy_line_in_chinese(session, actors, cats, depts):
    from app.services import seals

    configure_office(
        session,
        contact_name="王敏",
        contact_phone="0311-86012345",
        notice_copy_to="省纪委监委驻局纪检监察组\n\n  省政府办公厅  ",
        seal_sha256=seals.store_seal(png()),
    )
    notice = unsigned_notice(session, actors, cats, depts)
    document, [case] = notice.document, notice.cases
    assert document["title"] == f"关于督促签收{case.number}号工单的提醒敦促函"
    assert document["kind"] == "reminder" and document["number"] == notice.number == "清营商督〔2026〕1号"
    assert document["issuer"] == document["signer"] == "清源省营商环境建设局"
    assert document["addressee"] == depts["X102"].name
    assert document["date"] == "2026年11月2日"  # no leading zero
    said = "".join(document["body"] + document["closing"])
    assert "2026年11月2日10时" in said and "签收" in said and "2026-11" not in said
    assert document["cases"] == [
        {"number": case.number, "title": case.title, "note": document["cases"][0]["note"]}
    ]
    assert "未签收" in document["cases"][0]["note"]
    assert document["contact"] == {"name": "王敏", "phone": "0311-86012345"}
    assert document["copy_to"] == ["省纪委监委驻局纪检监察组", "省政府办公厅"]
    assert document["seal_sha256"] == js.root(session).seal_sha256


def test_an_office_without_contact_prints_none(session, actors, cats, depts):
    configure_office(session, contact_name="", contact_phone="", notice_copy_to="", seal_sha256=None)
    document = unsigned_notice(session, actors, cats, depts).document
    assert document["contact"] is None and document["copy_to"] == [] and document["seal_sha256"] is None


def test_the_downloaded_notice_never_changes_after_it_is_issued(app, session, actors, cats, depts):
    from app.services import seals

    configure_office(
        session, contact_name="王敏", contact_phone="0311-86012345", seal_sha256=seals.store_seal(png())
    )
    notice = unsigned_notice(session, actors, cats, depts)
    [case] = notice.cases
    old_department, old_title = notice.department.name, case.title
    session.commit()
    client = app.test_client()
    login(client, "supervisor")
    first = client.get(f"/notices/act/{notice.id}/pdf")
    assert first.status_code == 200 and first.data.startswith(b"%PDF")
    session.expire_all()
    assert hashlib.sha256(first.data).hexdigest() == notice.pdf_sha256
    assert (
        f"filename*=UTF-8''{quote(notice.number + '.pdf', safe='')}" in first.headers["Content-Disposition"]
    )
    page = client.get(f"/notices/show/{notice.id}").get_data(as_text=True)
    assert notice.pdf_sha256 in page

    # Everything the document named changes, and the reader switches to English.
    notice.department.name = "改名后的部门"
    case.title = "改过的工单标题"
    configure_office(
        session,
        office_name="新的办公室",
        issuing_authority="新的发文机关",
        contact_name="赵六",
        contact_phone="0311-99999999",
        seal_sha256=seals.store_seal(png((0, 0, 200, 255))),
    )
    session.commit()
    client.get("/lang/en", follow_redirects=True)
    again = client.get(f"/notices/act/{notice.id}/pdf")
    assert again.status_code == 200 and again.data == first.data
    session.expire_all()
    assert hashlib.sha256(again.data).hexdigest() == notice.pdf_sha256
    text = flat(pdf_text(again.data))
    assert old_department in text and flat(old_title) in text and "清源省营商环境建设局" in text
    assert "改名后的部门" not in text and "新的发文机关" not in text and "赵六" not in text


def test_a_stored_notice_that_was_altered_or_lost_is_never_served(app, session, actors, cats, depts, caplog):
    notice = unsigned_notice(session, actors, cats, depts)
    session.commit()
    client = app.test_client()
    login(client, "supervisor")
    assert client.get(f"/notices/act/{notice.id}/pdf").status_code == 200
    session.expire_all()
    issued = notice.pdf_sha256
    stored = f"{issued}.pdf"
    store_bytes(app, stored, stored_bytes(app, stored, "notices") + b"%tampered", "notices")
    altered = client.get(f"/notices/act/{notice.id}/pdf")
    assert altered.status_code == 500 and not altered.data.startswith(b"%PDF")
    assert notice.number in altered.get_data(as_text=True)
    assert any("no longer matches" in r.getMessage() for r in caplog.records)
    unstore(app, stored, "notices")
    lost = client.get(f"/notices/act/{notice.id}/pdf")
    assert lost.status_code == 500 and not lost.data.startswith(b"%PDF")
    session.expire_all()
    assert notice.pdf_sha256 == issued and not is_stored(app, stored, "notices")  # never rendered again


def test_a_notice_issued_before_freezing_is_frozen_at_its_first_download(app, session, actors, cats, depts):
    notice = unsigned_notice(session, actors, cats, depts)
    notice.document, notice.pdf_sha256 = None, None
    name = notice.department.name
    session.commit()
    client = app.test_client()
    login(client, "supervisor")
    first = client.get(f"/notices/act/{notice.id}/pdf")
    session.expire_all()
    assert first.status_code == 200 and notice.document["addressee"] == name
    notice.department.name = "后来改的名字"
    session.commit()
    assert client.get(f"/notices/act/{notice.id}/pdf").data == first.data


def test_an_interview_notice_states_the_facts_time_place_and_materials(session, actors, cats, depts):
    case = case_in(session, actors, cats, depts, Status.HANDLING, now=NOW)
    later = case.due_at + timedelta(days=3)
    sweep.run_sweep(session, case.due_at + timedelta(minutes=1))  # the reminder letter
    notice = notice_services.issue_interview(
        session,
        actor=actors["supervisor"],
        now=later,
        department_id=depts["X102"].id,
        case_ids=[case.id],
        details="拖延办理，敷衍经营主体。",
        meeting_at="2027-01-05T09:30",
        place="政务服务中心三楼会议室",
        attendees="你单位主要负责人及分管负责人",
        materials="整改情况书面报告\n\n相关工单办理材料",
    )
    document = notice.document
    assert document["kind"] == "interview" and document["title"] == f"关于约谈{depts['X102'].name}的通知"
    interview = document["interview"]
    assert interview["time"] == "2027年1月5日9时30分" and interview["place"] == "政务服务中心三楼会议室"
    assert interview["materials"] == ["整改情况书面报告", "相关工单办理材料"]
    reasons = "".join(interview["reasons"])
    assert reasons.startswith("拖延办理，敷衍经营主体。") and case.number in reasons
    assert "已逾期" in reasons and "提醒敦促函（清营商督〔2026〕1号）" in reasons
    assert "督办部门决定" not in str(document) and "存在以下情况" not in str(document)
    assert (
        notice.meeting_place == "政务服务中心三楼会议室"
        and notice.materials == "整改情况书面报告\n相关工单办理材料"
    )


@pytest.mark.parametrize(
    ("meeting_at", "said"),
    [
        ("2026-01-01T09:00", "future"),
        ("0001-01-01T00:00", "future"),  # before the first date once in UTC: no 500
        ("9999-12-31T09:00", "within the coming year"),
        ("next tuesday", "e.g."),
        ("", "e.g."),
    ],
)
def test_an_interview_with_a_bad_meeting_time_is_refused_on_the_form(
    app, session, actors, cats, depts, meeting_at, said
):
    case = case_in(session, actors, cats, depts, Status.HANDLING, now=NOW)
    session.commit()
    client = app.test_client()
    login(client, "supervisor")
    client.get("/lang/en", follow_redirects=True)
    response = client.post(
        "/notices/act/interview",
        data={
            "department_id": depts["X102"].id,
            "case_ids": [case.id],
            "details": "约谈",
            "meeting_at": meeting_at,
            "meeting_place": "会议室",
            "attendees": "主要负责人",
        },
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Meeting time" in page and said in page
    assert session.query(Notice).filter_by(cause=NoticeCause.SUPERVISOR_DECISION).count() == 0


def _jurisdiction_form(office, **changes) -> dict:
    form = {
        "code": office.code,
        "name": office.name,
        "level": str(office.level),
        "parent": str(office.parent_id or ""),
        "region": office.region,
        "new_place": "",
        "office_name": office.office_name,
        "issuing_authority": office.issuing_authority,
        "doc_prefix": office.doc_prefix,
        "contact_name": office.contact_name,
        "contact_phone": office.contact_phone,
        "notice_copy_to": office.notice_copy_to,
        "active": "y",
    }
    form.update(changes)
    return form


def test_an_administrator_sets_the_contact_copy_line_and_seal(app, session):
    from models import Jurisdiction

    office = session.query(Jurisdiction).filter_by(code="SM").one()
    client = app.test_client()
    login(client, "admin")
    seal = png()
    response = client.post(
        f"/jurisdictionview/edit/{office.id}",
        data=_jurisdiction_form(
            office,
            contact_name=" 王敏 ",
            contact_phone="0311-86012345",
            notice_copy_to="甲单位\r\n\r\n乙单位",
            seal=(io.BytesIO(seal), "seal.png"),
        ),
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    session.expire_all()
    sha = hashlib.sha256(seal).hexdigest()
    assert (office.contact_name, office.notice_copy_to, office.seal_sha256) == ("王敏", "甲单位\n乙单位", sha)
    assert stored_bytes(app, f"{sha}.png", "seals") == seal
    # Removing the seal keeps its file: notices issued with it still name it.
    client.post(
        f"/jurisdictionview/edit/{office.id}",
        data=_jurisdiction_form(office, remove_seal="y"),
        content_type="multipart/form-data",
    )
    session.expire_all()
    assert office.seal_sha256 is None and is_stored(app, f"{sha}.png", "seals")


@pytest.mark.parametrize(
    "upload",
    [
        b"GIF89a not a seal",
        b"\x89PNG\r\n\x1a\n" + b"truncated",
        "big",
        "wide",
        "strip",  # a 1 × 2000 strip would print as a red bar 84 m long over every notice
        "tiny",
    ],
)
def test_a_seal_that_is_not_a_small_png_is_refused_on_the_form(app, session, upload):
    from models import Jurisdiction

    if upload == "big":
        upload = png(size=(1900, 1900))  # random-free but large: pad past 1 MB
        upload = upload + b"\0" * (1024 * 1024 + 1 - len(upload)) if len(upload) <= 1024 * 1024 else upload
    elif upload == "wide":
        upload = png(size=(2100, 10))
    elif upload == "strip":
        upload = png(size=(1, 2000))
    elif upload == "tiny":
        upload = png(size=(40, 40))
    office = session.query(Jurisdiction).filter_by(code="SM").one()
    before = stored_names(app, "seals")
    client = app.test_client()
    login(client, "admin")
    client.get("/lang/en", follow_redirects=True)
    response = client.post(
        f"/jurisdictionview/edit/{office.id}",
        data=_jurisdiction_form(office, seal=(io.BytesIO(upload), "seal.png")),
        content_type="multipart/form-data",
    )
    assert response.status_code == 200 and "Seal:" in response.get_data(as_text=True)
    session.expire_all()
    assert office.seal_sha256 is None and stored_names(app, "seals") == before  # nothing stored
    assert not is_stored(app, f"{hashlib.sha256(upload).hexdigest()}.png", "seals")


def test_typed_office_texts_are_escaped_on_screens_and_literal_in_the_pdf(app, session, actors, cats, depts):
    script = "<script>alert(1)</script>"
    configure_office(
        session,
        issuing_authority=f"清源省{script}局",
        contact_name=f"王{script}",
        notice_copy_to=f"甲单位{script}",
    )
    notice = unsigned_notice(session, actors, cats, depts)
    root = js.root(session)
    session.commit()
    client = app.test_client()
    login(client, "admin")
    for url in (f"/notices/show/{notice.id}", f"/jurisdictionview/show/{root.id}"):
        page = client.get(url).get_data(as_text=True)
        assert script not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page, url
    text = flat(pdf_text(client.get(f"/notices/act/{notice.id}/pdf").data))
    assert flat(f"王{script}") in text and flat(f"甲单位{script}") in text


def test_issuing_a_batch_of_notices_takes_the_same_statements_for_2_or_40(session, actors, cats, depts):
    """The sweep issues hundreds of notices at once: their documents are built from a few
    batched reads, never one statement per notice."""
    from app.services.notices import Draft, raise_notices

    cases = [case_in(session, actors, cats, depts, Status.DISPATCHED, now=NOW) for _ in range(4)]
    counts = []
    for size, start in ((2, 0), (40, 100)):
        drafts = [
            Draft(
                NoticeCause.UNSIGNED,
                f"assignment:{start + i}",
                depts["X102"].id,
                "未签收",
                (cases[i % 4].id,),
            )
            for i in range(size)
        ]
        statements: list[str] = []

        def listener(*args, statements=statements):
            statements.append(args[2])

        event.listen(session.get_bind(), "before_cursor_execute", listener)
        try:
            issued = raise_notices(session, drafts, now=NOW + timedelta(hours=3), announce=False)
        finally:
            event.remove(session.get_bind(), "before_cursor_execute", listener)
        assert len(issued) == size
        counts.append(len(statements))
    assert counts[0] == counts[1]


def test_an_interview_names_only_cases_the_department_was_sent(session, actors, cats, depts):
    own = case_in(session, actors, cats, depts, Status.HANDLING, now=NOW)
    other = case_in(session, actors, cats, depts, Status.HANDLING, now=NOW, lead="X103")
    for named in ([other.id], [own.id, other.id]):
        with pytest.raises(Invalid) as refused:
            notice_services.issue_interview(
                session,
                actor=actors["supervisor"],
                now=NOW,
                department_id=depts["X102"].id,
                case_ids=named,
                details="约谈",
                **MEETING,
            )
        assert "the department was sent" in refused.value.msgid
    assert session.query(Notice).filter_by(cause=NoticeCause.SUPERVISOR_DECISION).count() == 0


def test_the_same_interview_submitted_twice_is_one_notice(session, actors, cats, depts):
    case = case_in(session, actors, cats, depts, Status.HANDLING, now=NOW)
    form = {"department_id": depts["X102"].id, "case_ids": [case.id], "details": "约谈", **MEETING}
    first = notice_services.issue_interview(session, actor=actors["supervisor"], now=NOW, **form)
    again = notice_services.issue_interview(
        session, actor=actors["supervisor"], now=NOW + timedelta(seconds=2), **form
    )
    assert again.id == first.id and again.number == first.number
    later = notice_services.issue_interview(
        session, actor=actors["supervisor"], now=NOW, **{**form, "meeting_at": "2027-01-06 09:30"}
    )
    assert later.id != first.id  # another interview, another time: its own notice


@pytest.mark.skipif(
    bool(os.environ.get("STORAGE_URL")), reason="local folders on purpose: a file where the folder should be"
)
def test_a_notice_that_cannot_be_stored_answers_a_clear_error_page(app, session, actors, cats, depts, caplog):
    notice = unsigned_notice(session, actors, cats, depts)
    session.commit()
    blocked = Path(app.config["NOTICE_DIR"])
    blocked.parent.mkdir(parents=True, exist_ok=True)
    blocked.write_bytes(b"a file where the folder should be")
    client = app.test_client()
    login(client, "supervisor")
    response = client.get(f"/notices/act/{notice.id}/pdf")
    assert response.status_code == 500 and notice.number in response.get_data(as_text=True)
    assert any("cannot be stored" in r.getMessage() for r in caplog.records)
    session.expire_all()
    assert notice.pdf_sha256 is None  # nothing recorded: the next download tries again
