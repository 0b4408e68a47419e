"""Nothing a reporter typed reaches a public document unredacted (issue 13, point 6).

A named canary (name, company and phone in the title and the text, a first-person self-description
with a street address) is filed through the public form, driven through the workflow to closed,
chosen as a typical case, refused while its heading or summary still holds personal data, edited,
approved, printed in the monthly bulletin and published; the public PDF fetched from /bulletins/ is
searched with pdftotext for every piece of the canary and for the case number. The reporter's
receipt (page and PDF) does not print the identity the title holds either.
"""

from __future__ import annotations

import re
import subprocess
from datetime import timedelta

import pytest

from app import clock
from app.publication import TypicalState
from app.services import cases as svc
from app.workflow import Action, Status
from models import Case, GeneratedReport, TypicalCase
from tests.conftest import login, visible_text
from tests.integration.test_reporter_side import file_through_page

NAME, COMPANY, PHONE = "张建国", "石门市恒达建材有限公司", "13812345678"
TITLE = f"{COMPANY}{NAME}反映施工许可被要求缴纳无依据费用，电话{PHONE}"
CONTENT = (
    f"我叫{NAME}，我家住石门市长安区建设路12号，电话{PHONE}。我公司{COMPANY}于今年3月向长河县行政审批局"
    "申请施工许可，窗口要求缴纳无依据的“加急费”3000元，否则不予受理。"
)
# every piece of the canary a public document could leak, including its short forms
CANARY = (NAME, "建国", COMPANY, "恒达", PHONE, "1381234", "建设路12号", "我叫", "我家住", "我公司")


def pdf_text(data: bytes) -> str:
    return subprocess.run(
        ["pdftotext", "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode()


@pytest.fixture
def client(app):
    return app.test_client()


def file_canary(client, cats):
    return file_through_page(
        client,
        cats,
        title=TITLE,
        content=CONTENT,
        reporter_name=NAME,
        reporter_phone=PHONE,
        reporter_company=COMPANY,
    )


def close_through_the_workflow(session, actors, depts, case: Case) -> None:
    """Accept, dispatch, sign, reply, evaluate, close: the services the screens call."""
    steps = iter(clock.utcnow() + timedelta(seconds=i) for i in range(1, 20))

    def do(action, actor, **params):
        svc.perform(session, case.id, action, actor=actor, now=next(steps), **params)

    do(Action.ACCEPT, actors["clerk"])
    do(Action.DISPATCH, actors["dispatcher"], lead_department_id=depts["X102"].id, co_department_ids=[])
    do(Action.SIGN, actors["handler"])
    do(
        Action.RECORD_FINDING,
        actors["handler"],
        result="untrue",
        facts=f"{NAME}反映的情况经核查。",
        summary=f"经核查，{NAME}反映的问题已有结论。",
    )
    do(
        Action.REPLY,
        actors["handler"],
        reply=f"经核查，{NAME}反映的问题属实，已责令窗口退还{COMPANY}缴纳的3000元，并对窗口工作人员批评教育。",
    )
    do(Action.EVALUATE, actors["supervisor"], rating="satisfied", source="revisit_call", method="phone")
    do(Action.CLOSE, actors["supervisor"])
    session.commit()
    assert case.status == Status.CLOSED


def test_a_named_canary_filed_publicly_never_reaches_the_published_bulletin(
    app, session, client, actors, cats, depts
):
    number, _code, _ = file_canary(client, cats)
    case = session.query(Case).filter_by(number=number).one()
    close_through_the_workflow(session, actors, depts, case)

    # the supervisor chooses it: the draft heading and summary are redacted, in the third person
    login(client, "supervisor")
    marked = client.post(f"/typical/act/mark/{case.id}", data={"kind": "warning"})
    assert marked.status_code == 302
    typical = session.query(TypicalCase).filter_by(case_id=case.id).one()
    for piece in CANARY:
        assert piece not in typical.heading + typical.summary, piece
    assert typical.heading == "某企业反映施工许可被要求缴纳无依据费用"
    assert "该企业于今年3月" in typical.summary and "我" not in typical.summary  # the third person
    assert 'id="typical-found"' not in client.get(f"/typical/show/{typical.id}").get_data(as_text=True)
    assert number not in typical.heading + typical.summary

    # a careless edit puts the raw title and text back: submitting is refused, saying what and where,
    # and the page keeps what was typed
    careless = {"heading": TITLE, "summary": CONTENT + "\n\n" + typical.summary, "submit": "1"}
    client.get("/lang/en")  # the messages in their msgids (the Chinese catalogue is merged apart)
    refused = client.post(f"/typical/act/edit/{typical.id}", data=careless)
    assert refused.status_code == 422
    message = visible_text(refused.get_data(as_text=True))
    assert "cannot be published while the heading or summary still holds personal data" in message
    assert f"name “{NAME}” (heading)" in message
    assert f"company name “{COMPANY}” (heading)" in message
    assert f"phone number “{PHONE}” (summary, paragraph 1)" in message
    assert "first-person self-description “我叫" in message
    assert "detailed address “建设路12号” (summary, paragraph 1)" in message
    assert TITLE in refused.get_data(as_text=True)  # what was typed is shown again, not lost
    session.expire_all()
    assert typical.state == TypicalState.DRAFT and typical.heading != TITLE
    client.get("/lang/zh")

    # the leader cannot approve a draft; the redacted one is submitted and approved
    redacted = {"heading": typical.heading, "summary": typical.summary, "submit": "1"}
    login(client, "leader")
    client.post(f"/typical/act/decide/{typical.id}", data={"approve": "1"})
    session.expire_all()
    assert typical.state == TypicalState.DRAFT
    login(client, "supervisor")
    assert client.post(f"/typical/act/edit/{typical.id}", data=redacted).status_code == 302
    login(client, "leader")
    assert client.post(f"/typical/act/decide/{typical.id}", data={"approve": "1"}).status_code == 302
    session.expire_all()
    assert typical.state == TypicalState.APPROVED

    # the monthly bulletin of this month is generated (inline: no queue in tests) and published
    month = clock.local_date(clock.utcnow()).strftime("%Y-%m")
    assert client.post("/reports/act/request", data={"kind": "bulletin", "period": month}).status_code == 302
    report = (
        session.query(GeneratedReport).filter_by(kind="bulletin").order_by(GeneratedReport.id.desc()).first()
    )
    assert report.state == "done", report.error
    assert client.post(f"/reports/act/publish/{report.id}", data={}).status_code == 302
    client.post("/logout/")
    client.get("/logout/")

    # what anybody can read: the public list and the public PDF
    public = client.get("/bulletins/").get_data(as_text=True)
    link = re.search(r'href="(/bulletins/\d+\.pdf)"', public).group(1)
    download = client.get(link)
    assert download.status_code == 200 and download.data.startswith(b"%PDF")
    text = pdf_text(download.data)
    flat = re.sub(r"\s+", "", text)
    assert typical.heading in flat and "三、警示案例" in flat
    for piece in CANARY:
        assert piece not in flat, piece
    assert number not in flat and not re.search(r"YS\d{8,}", flat)  # no case numbers in public documents
    assert number not in public and NAME not in public


def test_approval_is_refused_while_a_submitted_summary_still_holds_personal_data(
    app, session, client, actors, cats, depts
):
    """A summary submitted before the check existed (written here straight into its row) is not
    approved: the leader is told what was found and where."""
    number, _code, _ = file_canary(client, cats)
    case = session.query(Case).filter_by(number=number).one()
    close_through_the_workflow(session, actors, depts, case)
    from app.services import typical as typical_services

    typical = typical_services.mark_typical(
        session, case.id, actor=actors["supervisor"], now=clock.utcnow(), kind="exemplary"
    )
    typical.summary = f"一、基本情况。{COMPANY}反映，联系人{NAME}，工单编号{number}。"
    typical.state = TypicalState.SUBMITTED
    session.commit()
    login(client, "leader")
    client.get("/lang/en")
    refused = client.post(f"/typical/act/decide/{typical.id}", data={"approve": "1"}, follow_redirects=True)
    message = visible_text(refused.get_data(as_text=True))
    assert "cannot be published" in message
    assert f"company name “{COMPANY}” (summary, paragraph 1)" in message
    assert f"name “{NAME}” (summary, paragraph 1)" in message
    assert f"case number “{number}” (summary, paragraph 1)" in message
    session.expire_all()
    assert typical.state == TypicalState.SUBMITTED and typical.published_month is None


def test_the_receipt_does_not_print_the_identity_the_title_holds(app, session, client, cats):
    number, code, receipt_page = file_canary(client, cats)
    for piece in (NAME, COMPANY, PHONE):
        assert piece not in visible_text(receipt_page)
    pdf = client.post("/report/receipt.pdf", data={"number": number, "code": code})
    assert pdf.status_code == 200
    text = re.sub(r"\s+", "", pdf_text(pdf.data))
    assert number in text and code in text
    for piece in (NAME, "建国", COMPANY, "恒达", PHONE):
        assert piece not in text, piece
    assert (
        "施工许可被要求缴纳无依据费用" in text and "已隐去个人信息" in text
    )  # the matter is still recognisable


# The attacker review: the same canary, spelt so that a reader still reads the name, the company
# and the phone number (Traditional characters, middle dots between the characters, pinyin, a
# phone number grouped by dots). It was submitted, approved and printed in the bulletin.
ATTACK_HEADING = "張建國（恒·达·建·材公司）反映施工许可被拖延"
ATTACK_SUMMARY = "反映人张·建·国（Zhang Jianguo），联系电话138.1234.5678，系恒·达·建·材公司负责人"
ATTACK_PIECES = ("張建國", "张·建·国", "Zhang Jianguo", "恒·达·建·材", "138.1234.5678")


def test_the_canary_spelt_to_get_through_is_refused_at_submission_approval_and_in_the_bulletin(
    app, session, client, actors, cats, depts
):
    number, _code, _ = file_canary(client, cats)
    case = session.query(Case).filter_by(number=number).one()
    close_through_the_workflow(session, actors, depts, case)
    login(client, "supervisor")
    assert client.post(f"/typical/act/mark/{case.id}", data={"kind": "warning"}).status_code == 302
    typical = session.query(TypicalCase).filter_by(case_id=case.id).one()

    # submitting is refused, and the refusal names each piece as it was written
    client.get("/lang/en")
    attack = {"heading": ATTACK_HEADING, "summary": ATTACK_SUMMARY, "submit": "1"}
    refused = client.post(f"/typical/act/edit/{typical.id}", data=attack)
    assert refused.status_code == 422
    message = visible_text(refused.get_data(as_text=True))
    assert "cannot be published while the heading or summary still holds personal data" in message
    assert "name “張建國” (heading)" in message
    assert "company name “恒·达·建·材公司” (heading)" in message
    assert "name “张·建·国” (summary, paragraph 1)" in message
    assert "name “Zhang Jianguo” (summary, paragraph 1)" in message
    assert "phone number “138.1234.5678” (summary, paragraph 1)" in message
    session.expire_all()
    assert typical.state == TypicalState.DRAFT and typical.heading != ATTACK_HEADING

    # written straight into a submitted row, the leader cannot approve it
    typical.heading, typical.summary, typical.state = ATTACK_HEADING, ATTACK_SUMMARY, TypicalState.SUBMITTED
    session.commit()
    login(client, "leader")
    client.get("/lang/en")
    refused = client.post(f"/typical/act/decide/{typical.id}", data={"approve": "1"}, follow_redirects=True)
    assert "cannot be published" in visible_text(refused.get_data(as_text=True))
    session.expire_all()
    assert typical.state == TypicalState.SUBMITTED and typical.published_month is None

    # written straight into an approved row, the bulletin leaves it out
    month = clock.local_date(clock.utcnow()).strftime("%Y-%m")
    typical.state, typical.published_month = TypicalState.APPROVED, month
    session.commit()
    client.get("/lang/zh")
    assert client.post("/reports/act/request", data={"kind": "bulletin", "period": month}).status_code == 302
    report = (
        session.query(GeneratedReport).filter_by(kind="bulletin").order_by(GeneratedReport.id.desc()).first()
    )
    assert report.state == "done", report.error
    assert client.post(f"/reports/act/publish/{report.id}", data={}).status_code == 302
    client.post("/logout/")
    public = client.get("/bulletins/").get_data(as_text=True)
    link = re.search(r'href="(/bulletins/\d+\.pdf)"', public).group(1)
    flat = re.sub(r"\s+", "", pdf_text(client.get(link).data))
    assert "施工许可被拖延" not in flat
    for piece in ATTACK_PIECES + ("张建国", "恒达建材", "13812345678", "1381234"):
        assert re.sub(r"\s+", "", piece) not in flat, piece


# A second attack got through: letters, digits and brackets between the characters, the initials
# of the name, the phone number in words split by commas and with letters between its digits, and
# the company named in English.
SECOND_HEADING = "张X建X国（恒x达x建x材公司）反映施工许可被拖延"
SECOND_SUMMARY = (
    "反映人Zhang J.G.（zhangjg），联系电话幺三八，一二三四，五六七八，备用138a1234b5678，"
    "系Hengda Building Materials Co., Ltd.负责人"
)


def test_the_canary_spelt_a_second_way_is_refused_at_submission(app, session, client, actors, cats, depts):
    number, _code, _ = file_canary(client, cats)
    case = session.query(Case).filter_by(number=number).one()
    close_through_the_workflow(session, actors, depts, case)
    login(client, "supervisor")
    assert client.post(f"/typical/act/mark/{case.id}", data={"kind": "warning"}).status_code == 302
    typical = session.query(TypicalCase).filter_by(case_id=case.id).one()
    client.get("/lang/en")
    attack = {"heading": SECOND_HEADING, "summary": SECOND_SUMMARY, "submit": "1"}
    refused = client.post(f"/typical/act/edit/{typical.id}", data=attack)
    assert refused.status_code == 422
    message = visible_text(refused.get_data(as_text=True))
    for piece in (
        "name “张X建X国” (heading)",
        "“恒x达x建x材",
        "name “Zhang J.G” (summary, paragraph 1)",
        "name “zhangjg” (summary, paragraph 1)",
        "phone number “幺三八，一二三四，五六七八” (summary, paragraph 1)",
        "phone number “138a1234b5678” (summary, paragraph 1)",
        "“Hengda Building Materials Co., Ltd.” (summary, paragraph 1)",
    ):
        assert piece in message, piece
    session.expire_all()
    assert typical.state == TypicalState.DRAFT and typical.heading != SECOND_HEADING
