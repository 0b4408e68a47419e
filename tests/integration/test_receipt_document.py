"""The reporter's receipt as the reporter reads it (the PDF's text, its QR code, its marks).

Rules: it is a registration receipt (登记回执), never a 受理回执; it prints the date the platform
computed by which the reporter is told whether the case is accepted, and once known the
verification and handling deadlines, as documents write dates; its QR code opens the tracking page
with the number filled in and never carries the query code; it has no seal nor anything that
imitates one; it is Chinese whatever the interface language; what the reporter typed is printed as
typed. The QR sheet of a window speaks to a citizen, in Chinese, with a code large enough to scan
from a distance.
"""

from __future__ import annotations

import io
import re
import subprocess
from urllib.parse import urlsplit

import pdfplumber
import pytest
import zxingcpp
from PIL import Image

from app import clock
from app import deadlines as dl
from app.clock import local_date
from app.services import cases as svc
from app.services.calendar import load_calendar
from app.services.settings import get_settings
from app.workflow import Action
from models import Case, ServiceWindow
from reports.pdf import cn_date
from tests.conftest import at, login
from tests.factories import file_case
from tests.integration.test_reporter_side import file_through_page

FILED = at("2026-09-30 10:00")  # a Wednesday before the National Day holiday (Oct 1–7 off)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def frozen(monkeypatch):
    """The platform's clock stands at FILED (and moves only when a test moves it)."""
    moment = {"now": FILED}
    monkeypatch.setattr(clock, "utcnow", lambda: moment["now"])
    return moment


def download(client, number: str, code: str) -> bytes:
    response = client.post("/report/receipt.pdf", data={"number": number, "code": code})
    assert response.status_code == 200 and response.data.startswith(b"%PDF"), response.status_code
    return response.data


def text_of(pdf: bytes) -> str:
    """The PDF's text without any white space (pdftotext breaks lines where the layout does)."""
    out = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout
    return re.sub(r"\s+", "", out.decode())


DPI = 300


def read_codes(pdf: bytes, tmp_path) -> list:
    """What a phone reads from the printed first page: rendered at 300 dpi, decoded by zxing."""
    (tmp_path / "doc.pdf").write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", str(DPI), "-gray", "-png", "-singlefile", str(tmp_path / "doc.pdf")]
        + [str(tmp_path / "p")],
        check=True,
        timeout=60,
    )
    return zxingcpp.read_barcodes(Image.open(tmp_path / "p.png"))


def qr_codes(pdf: bytes, tmp_path) -> list[str]:
    return [r.text for r in read_codes(pdf, tmp_path)]


def printed_width_mm(result) -> float:
    """The printed width of a decoded code's symbol (finder pattern to finder pattern), in mm."""
    corner = result.position
    return (corner.top_right.x - corner.top_left.x) / DPI * 25.4


def expected_accept_date(session, case) -> str:
    """The acceptance deadline computed afresh from the working-day rules of the case's place."""
    days = get_settings(session, case.jurisdiction)["accept_working_days"]
    due = dl.working_day_deadline(load_calendar(session, case.jurisdiction), case.created_at, days).due_at
    return cn_date(local_date(due))


def test_the_receipt_is_a_registration_receipt_and_promises_the_computed_reply_date(
    session, client, cats, frozen
):
    number, code, _ = file_through_page(client, cats, anonymous="y")
    case = session.query(Case).filter_by(number=number).one()
    text = text_of(download(client, number, code))
    assert "投诉举报登记回执" in text
    assert "受理回执" not in text
    # 5 working days from Wed 30 September 2026: Oct 1–7 off, Sat Oct 10 a make-up workday
    assert expected_accept_date(session, case) == "2026年10月13日"
    assert "平台将于2026年10月13日前告知您是否受理" in text
    assert cn_date(local_date(case.accept_due_at)) == "2026年10月13日"
    assert "登记时间2026年9月30日10时" in text  # documents' date form, no leading zeros
    assert not re.search(r"年0\d月|月0\d日", text)


def test_a_receipt_printed_after_acceptance_stays_the_registration_receipt_and_adds_the_deadlines(
    session, client, actors, cats, depts, frozen
):
    number, code, _ = file_through_page(client, cats, anonymous="y")
    case = session.query(Case).filter_by(number=number).one()
    svc.perform(session, case.id, Action.ACCEPT, actor=actors["clerk"], now=at("2026-10-09 09:00"))
    svc.perform(
        session,
        case.id,
        Action.DISPATCH,
        actor=actors["dispatcher"],
        now=at("2026-10-09 09:10"),
        lead_department_id=depts["X102"].id,
    )
    session.commit()
    frozen["now"] = at("2026-10-12 15:00")
    text = text_of(download(client, number, code))
    assert "投诉举报登记回执" in text and "受理回执" not in text
    assert "已于2026年10月9日受理" in text
    assert "以上为2026年10月12日打印本回执时的办理情况" in text
    session.refresh(case)
    assert f"{cn_date(local_date(case.verify_due_at))}前告知初步核查结果" in text
    assert f"{cn_date(local_date(case.due_at))}前答复办理结果" in text
    assert "告知您是否受理" not in text  # already decided


def test_a_12345_ticket_is_told_its_verification_result_within_one_working_day(session, client, actors, cats):
    case = file_case(session, actors, cats, now=at("2026-10-09 09:00"))
    number, code = case.number, case.query_code
    svc.perform(session, case.id, Action.ACCEPT, actor=actors["clerk"], now=at("2026-10-09 11:00"))
    session.commit()
    text = text_of(download(client, number, code))
    assert "12345热线" in text
    assert "2026年10月10日前告知初步核查结果" in text  # Sat Oct 10 is a make-up workday


def test_the_qr_code_opens_the_tracking_page_with_the_number_and_never_the_query_code(
    app, session, client, cats, tmp_path
):
    number, code, _ = file_through_page(client, cats, anonymous="y")
    pdf = download(client, number, code)
    codes = qr_codes(pdf, tmp_path)
    tracking = app.config["PUBLIC_BASE_URL"] + "/track/"
    assert codes == [f"{tracking}?number={number}"]
    for piece in (code, code.replace("-", ""), code.lower()):
        assert piece not in codes[0]
    text = text_of(pdf)
    assert "扫码或登录网站，输入工单编号和查询码查询办理进度" in text
    assert tracking in text
    # the link fills the number in; the reporter types the code
    page = client.get(urlsplit(codes[0]).path + "?" + urlsplit(codes[0]).query).get_data(as_text=True)
    assert re.search(rf'id="number"[^>]*value="{number}"', page)
    assert re.search(r'id="code"[^>]*type="password"', page) and code not in page


def test_the_receipt_has_no_seal_and_says_the_system_made_it(session, client, cats):
    number, code, _ = file_through_page(client, cats, anonymous="y")
    pdf = download(client, number, code)
    text = text_of(pdf)
    assert "本回执由系统自动生成" in text
    for seal_words in ("盖章", "（章）", "印章", "专用章", "公章"):
        assert seal_words not in text
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        page = document.pages[0]
        marks = page.chars + page.rects + page.curves + page.lines
        colours = {
            tuple(round(c, 2) for c in colour)
            for m in marks
            for colour in (m.get("non_stroking_color"), m.get("stroking_color"))
            if isinstance(colour, list | tuple) and len(colour) == 3
        }
        red = [c for c in colours if c[0] - max(c[1], c[2]) > 0.2]
        assert not red, red  # a seal is red: nothing on the receipt is
        # a seal is a ring: no curved mark (Bézier segments) anywhere on the page
        rounded = [c for c in page.curves if any(cmd[0] == "c" for cmd in c.get("path", []))]
        assert not rounded, [c["x0"] for c in rounded]


def test_the_receipt_is_chinese_under_the_english_interface(session, client, cats):
    client.get("/lang/en")
    assert "Follow my case" in client.get("/track/").get_data(as_text=True)  # English screens
    number, code, _ = file_through_page(client, cats, case_type="report", anonymous="y")
    text = text_of(download(client, number, code))
    category = cats["GOV01"]
    assert "事项类型举报" in text
    assert "反映渠道网上平台" in text
    assert re.sub(r"\s+", "", str(category)) in text
    for english in ("Report", "Online", "Complaint", "working days", "Receipt", "Case number"):
        assert english not in text, english


def test_a_title_with_markup_is_printed_as_typed(session, client, cats):
    title = "<script>alert(1)</script>窗口收费"
    number, code, _ = file_through_page(client, cats, anonymous="y", title=title)
    assert "<script>alert(1)</script>窗口收费" in text_of(download(client, number, code))


# --- the window's QR sheet ---------------------------------------------------------------------


def test_the_qr_sheet_speaks_to_a_citizen_in_chinese_with_a_large_code(app, session, client, depts, tmp_path):
    window = ServiceWindow(
        name="综合受理3号窗口",
        hall="市民中心政务服务大厅",
        department=depts["X102"],
        region="清源省",
        token="tok-h5",
    )
    session.add(window)
    session.commit()
    app.config["PUBLIC_HOTLINE"] = "0311-12345"
    try:
        login(client, "admin")
        client.get("/lang/en")
        response = client.post(
            "/servicewindowview/action_post", data={"action": "qr_sheet", "rowid": [str(window.id)]}
        )
    finally:
        app.config["PUBLIC_HOTLINE"] = ""
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    text = text_of(response.data)
    for expected in (
        "扫码反映问题",
        "营商环境投诉举报",
        "综合受理3号窗口",
        "市民中心政务服务大厅",
        "吃拿卡要",
        "推诿扯皮",
        "违规收费",
        "可实名、可匿名，投诉举报人信息依法严格保密",
        "热线电话：0311-12345",
    ):
        assert expected in text, expected
    for jargon in ("Service windows", "QR", "二维码台账", "受理渠道", "工单"):
        assert jargon not in text, jargon
    with pdfplumber.open(io.BytesIO(response.data)) as document:
        page = document.pages[0]
        biggest = max(c["size"] for c in page.chars)
        # the big line reads from a few steps away: at least 48 pt, and it says what to do
        assert biggest >= 48
        assert "".join(c["text"] for c in page.chars if c["size"] == biggest) == "扫码反映问题"
    (code,) = read_codes(response.data, tmp_path)
    assert code.text == app.config["PUBLIC_BASE_URL"] + "/report/?w=tok-h5"
    assert printed_width_mm(code) >= 60  # the symbol itself, without its quiet zone
