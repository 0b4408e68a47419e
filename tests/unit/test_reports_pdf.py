"""PDF pipeline (reports/): receipts and QR sheets render with real Chinese fonts, stay within their
page counts, carry the right text, and never fetch anything from outside reports/static/ or the
font directories. Uses poppler-utils (pdffonts, pdfinfo, pdftotext, pdftoppm) from scripts/setup.sh.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import subprocess
import time
import urllib.request
from datetime import date, datetime
from pathlib import Path

import pytest
from jinja2 import ChoiceLoader, DictLoader
from PIL import Image

from reports import pdf as report_pdf
from reports.pdf import FetchRefused, FontsMissing, check_url, make_url_fetcher, render_pdf
from reports.qr import (
    HEADLINE,
    PROTECTION,
    QR_BORDER,
    QR_SIZE_MM,
    SUBHEADLINE,
    QrWindowData,
    make_qr,
    render_qr_sheet_pdf,
)
from reports.receipt import TITLE_REDACTED, ReceiptData, receipt_title, render_receipt_pdf

NOTDEF = re.compile(r"notdef|missing glyph|unsupported by fonts", re.IGNORECASE)
CJK_FONTS = ("SungtiL", "WenQuanYi")  # the 宋体-like body and 黑体-like heading faces


def receipt(**changes) -> ReceiptData:
    data = ReceiptData(
        number="YS20250312000123",
        query_code="ABCD-EFGH-JKLM-NPQR-STUV-WXYZ",
        filed_at=datetime(2025, 3, 12, 14, 35),
        case_type_label="投诉",
        category_label="政务服务 · 办事效率",
        title="企业开办窗口多次要求补交材料，一次性告知制度未落实",
        channel_label="窗口二维码",
        window_label="综合受理 3 号窗口（市民中心一楼）",
        accept_due=date(2025, 3, 19),
        tracking_page="https://ys110.example.gov.cn/track/",
        tracking_url="https://ys110.example.gov.cn/track/?number=YS20250312000123",
        printed_at=datetime(2025, 3, 12, 14, 36),
    )
    return dataclasses.replace(data, **changes)


WINDOWS = [
    QrWindowData(
        f"综合受理 {i} 号窗口",
        "市民中心政务服务大厅（一楼东区）",
        "市行政审批服务局",
        f"https://ys110.example.gov.cn/f/w/{i:04d}",
    )
    for i in (1, 2, 3)
]


class Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def rendered(render, *args):
    """(pdf bytes, WeasyPrint's warnings, seconds) for one render."""
    handler = Capture()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(handler)
    try:
        start = time.perf_counter()
        pdf = render(*args)
        seconds = time.perf_counter() - start
    finally:
        logger.removeHandler(handler)
    return pdf, handler.messages, seconds


def poppler(tool: str, pdf: bytes, tmp: Path, *args: str) -> str:
    """Run a poppler-utils tool on the PDF and return what it prints."""
    path = tmp / "doc.pdf"
    path.write_bytes(pdf)
    command = [tool, *args, str(path)] + (["-"] if tool == "pdftotext" else [])
    return subprocess.run(command, capture_output=True, text=True, check=True, timeout=60).stdout


def pages(pdf: bytes, tmp: Path) -> int:
    return int(re.search(r"^Pages:\s+(\d+)", poppler("pdfinfo", pdf, tmp), re.MULTILINE)[1])


def embedded_fonts(pdf: bytes, tmp: Path) -> list[str]:
    lines = poppler("pdffonts", pdf, tmp).splitlines()[2:]  # after the header and the dashes
    return [line.split()[0] for line in lines if line.strip()]


def assert_chinese_fonts(pdf: bytes, warnings: list[str], tmp: Path) -> None:
    fonts = embedded_fonts(pdf, tmp)
    for name in CJK_FONTS:
        assert any(name in font for font in fonts), (name, fonts)
    assert all("+" in font for font in fonts), fonts  # embedded as subsets
    assert not [m for m in warnings if NOTDEF.search(m)], warnings


@pytest.fixture(scope="module")
def receipt_pdf():
    render_receipt_pdf(receipt())  # warm up: the first render in a process also looks fonts up
    pdf, warnings, seconds = rendered(render_receipt_pdf, receipt())
    print(f"\nreceipt rendered in {seconds:.3f} s")
    return pdf, warnings, seconds


@pytest.fixture(scope="module")
def qr_pdf():
    pdf, warnings, seconds = rendered(render_qr_sheet_pdf, WINDOWS, "0311-12345")
    print(f"\n3-window QR sheet rendered in {seconds:.3f} s")
    return pdf, warnings


# --- receipt ---------------------------------------------------------------------------------------


def test_receipt_embeds_chinese_fonts_without_missing_glyphs(receipt_pdf, tmp_path):
    pdf, warnings, _ = receipt_pdf
    assert pdf.startswith(b"%PDF-")
    assert_chinese_fonts(pdf, warnings, tmp_path)


def test_receipt_is_one_page_with_number_code_and_details(receipt_pdf, tmp_path):
    pdf, _, seconds = receipt_pdf
    assert pages(pdf, tmp_path) == 1
    text = poppler("pdftotext", pdf, tmp_path)
    for expected in (
        "投诉举报登记回执",
        "YS20250312000123",
        "ABCD-EFGH-JKLM-NPQR-STUV-WXYZ",
        "请妥善保管查询码",
        "查询码只显示一次",
        "工作人员不会以任何理由向您索要查询码",
        "2025年3月12日14时35分",
        "企业开办窗口多次要求补交材料",
        "窗口二维码",
        "综合受理 3 号窗口",
        "平台将于2025年3月19日前告知您是否受理",
        "https://ys110.example.gov.cn/track/",
        "本回执由系统自动生成",
        "营商110 营商环境投诉举报平台",
    ):
        assert expected in text, expected
    assert seconds < 10


def test_receipt_with_longest_title_and_no_window_stays_one_page(tmp_path):
    title = (
        "关于某区市场监管窗口在企业开办登记中要求提供法律法规规定以外材料并多次退回申请的投诉，"
        "涉及堃玥喆等生僻字企业名称" * 5
    )[:200]  # 200 is the column limit; 堃玥喆 are outside GB2312
    pdf, warnings, _ = rendered(render_receipt_pdf, receipt(title=title))
    assert pages(pdf, tmp_path) == 1
    assert_chinese_fonts(pdf, warnings, tmp_path)
    text = re.sub(r"\s", "", poppler("pdftotext", pdf, tmp_path))
    assert title[-20:] in text
    # printed again after acceptance, with every deadline line and the merge note: still one page
    later = receipt(
        title=title,
        accepted_on=date(2025, 3, 14),
        verify_due=date(2025, 3, 19),
        handling_due=date(2025, 3, 28),
        handling_provisional=True,
        merged_into="YS20250310000077",
    )
    pdf = render_receipt_pdf(later)
    assert pages(pdf, tmp_path) == 1
    text = re.sub(r"\s", "", poppler("pdftotext", pdf, tmp_path))
    assert "已于2025年3月14日受理" in text and "2025年3月28日前答复办理结果" in text
    assert "YS20250310000077合并办理" in text and "投诉举报登记回执" in text
    pdf = render_receipt_pdf(receipt(window_label=None))
    assert "服务窗口" not in poppler("pdftotext", pdf, tmp_path)


def test_receipt_has_no_reporter_identity_field():
    fields = {field.name for field in dataclasses.fields(ReceiptData)}
    assert fields == {
        "number",
        "query_code",
        "filed_at",
        "case_type_label",
        "category_label",
        "title",
        "title_note",
        "channel_label",
        "window_label",
        "accept_due",
        "tracking_page",
        "tracking_url",
        "printed_at",
        "accepted_on",
        "declined",
        "merged_into",
        "verify_due",
        "handling_due",
        "handling_provisional",
    }


def test_the_receipt_title_leaves_the_identity_it_holds_out():
    from app.redaction import KnownParties

    parties = KnownParties(
        reporter_names=("张建国",),
        reporter_phones=("13812345678",),
        reporter_companies=("石门市恒达建材有限公司",),
    )
    title = "石门市恒达建材有限公司张建国反映施工许可超时，电话138 1234 5678，同事王秀英可作证"
    shown = "某公司张某反映施工许可超时，电话***，同事王某可作证"
    assert receipt_title(title, parties) == (shown, TITLE_REDACTED)
    assert receipt_title("营业执照办理超时", KnownParties()) == ("营业执照办理超时", None)


def test_receipt_text_is_escaped(tmp_path):
    pdf = render_receipt_pdf(receipt(title='<b>加粗</b> & <img src="http://example.com/x.png">'))
    assert '<b>加粗</b> & <img src="http://example.com/x.png">' in poppler("pdftotext", pdf, tmp_path)


# --- QR sheets -------------------------------------------------------------------------------------


def test_qr_sheet_has_one_page_per_window_with_its_details(qr_pdf, tmp_path):
    pdf, warnings = qr_pdf
    assert pages(pdf, tmp_path) == len(WINDOWS)
    assert_chinese_fonts(pdf, warnings, tmp_path)
    for number, window in enumerate(WINDOWS, start=1):
        text = poppler("pdftotext", pdf, tmp_path, "-f", str(number), "-l", str(number))
        for expected in (
            window.name,
            window.hall,
            window.department,
            window.url,
            HEADLINE,
            SUBHEADLINE,
            PROTECTION,
            "吃拿卡要",
            "0311-12345",
            "沿虚线剪下",
        ):
            assert expected in text, (number, expected)
        others = [w.name for w in WINDOWS if w is not window]
        assert not any(name in text for name in others)


def test_qr_code_is_level_m_and_regular():
    code = make_qr("https://ys110.example.gov.cn/f/w/0001")
    assert code.error == "M"
    assert not code.is_micro


def read_qr_modules(png: Path, size: int, module_px: float) -> list[list[bool]]:
    """Sample the printed code's modules: find the row where the two top finder patterns start
    (dark runs seven modules long, the right distance apart), then read each module's centre."""
    image = Image.open(png).convert("L")
    width, height = image.size
    pixels = image.load()
    finder = 7 * module_px
    for y in range(height):
        runs, x = [], 0
        while x < width:
            if pixels[x, y] < 128:
                start = x
                while x < width and pixels[x, y] < 128:
                    x += 1
                if abs(x - start - finder) <= module_px / 2:
                    runs.append(start)
            else:
                x += 1
        if len(runs) >= 2 and abs(runs[-1] - runs[0] - (size - 7) * module_px) <= module_px / 2:
            left, top = runs[0], y
            break
    else:
        raise AssertionError("no QR code found on the page")
    return [
        [
            pixels[round(left + (col + 0.5) * module_px), round(top + (row + 0.5) * module_px)] < 128
            for col in range(size)
        ]
        for row in range(size)
    ]


def test_printed_qr_code_matches_the_url(qr_pdf, tmp_path):
    pdf, _ = qr_pdf
    (tmp_path / "qr.pdf").write_bytes(pdf)
    dpi = 150
    subprocess.run(
        [
            "pdftoppm",
            "-gray",
            "-png",
            "-r",
            str(dpi),
            "-f",
            "2",
            "-l",
            "2",
            "-singlefile",
            str(tmp_path / "qr.pdf"),
            str(tmp_path / "page"),
        ],
        check=True,
        timeout=60,
    )
    code = make_qr(WINDOWS[1].url)
    size = code.symbol_size(border=0)[0]
    module_px = QR_SIZE_MM / (size + 2 * QR_BORDER) / 25.4 * dpi
    printed = read_qr_modules(tmp_path / "page.png", size, module_px)
    expected = [[bool(bit) for bit in row] for row in code.matrix_iter(border=0)]
    wrong = sum(
        a != b
        for row_a, row_b in zip(printed, expected, strict=True)
        for a, b in zip(row_a, row_b, strict=True)
    )
    assert wrong == 0, f"{wrong} of {size * size} modules differ"


def test_qr_sheet_needs_a_window():
    with pytest.raises(ValueError):
        render_qr_sheet_pdf([])


# --- fonts, fetching, context --------------------------------------------------------------------


def test_missing_glyphs_are_caught_by_the_warning_check():
    """The .notdef check above is live: a character no installed font has (U+2A6D6, the last of
    CJK Extension B: Noto CJK, which the receipt's title face pulls in, has 𠮷 but not this one)
    is reported."""
    _, warnings, _ = rendered(render_receipt_pdf, receipt(title="吉野家\U0002a6d6"))
    assert [m for m in warnings if NOTDEF.search(m)]


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://example.com",
        "http://example.com/logo.png",
        "https://example.com/font.ttf",
        "ftp://example.com/x",
        "file://example.com/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
        "file:///usr/share/fonts/truetype/wqy/../../../../etc/passwd",
        Path(report_pdf.__file__).as_uri(),  # inside the project but not in reports/static/
        (report_pdf.TEMPLATES_DIR / "base.css").as_uri(),
    ],
)
def test_fetcher_refuses_everything_else(url):
    with pytest.raises(FetchRefused):
        check_url(url)
    with pytest.raises(FetchRefused):
        make_url_fetcher()(url)


def test_fetcher_allows_data_uris_static_files_and_fonts(tmp_path, monkeypatch):
    response = make_url_fetcher()("data:text/plain;charset=utf-8,%E8%90%A5%E5%95%86")
    assert response.read().decode() == "营商"
    font = report_pdf.font_files()["sans"]
    assert make_url_fetcher()(font.as_uri()).read(4) in (b"ttcf", b"\x00\x01\x00\x00", b"OTTO")

    monkeypatch.setattr(report_pdf, "STATIC_DIR", tmp_path)
    (tmp_path / "seal.svg").write_text("<svg/>")
    (tmp_path / "escape.svg").symlink_to("/etc/passwd")
    assert make_url_fetcher()((tmp_path / "seal.svg").as_uri()).read() == b"<svg/>"
    with pytest.raises(FetchRefused):
        check_url((tmp_path / "escape.svg").as_uri())
    with pytest.raises(FetchRefused):
        check_url((tmp_path / "missing.svg").as_uri())


def test_remote_image_in_a_template_is_never_fetched(tmp_path, monkeypatch):
    opened = []
    real_open = urllib.request.OpenerDirector.open

    def spy(self, request, *args, **kwargs):
        opened.append(request if isinstance(request, str) else request.full_url)
        return real_open(self, request, *args, **kwargs)

    monkeypatch.setattr(urllib.request.OpenerDirector, "open", spy)
    monkeypatch.setattr(
        report_pdf._env,
        "loader",
        ChoiceLoader(
            [
                DictLoader(
                    {
                        "remote.html": (
                            '{% extends "base.html" %}{% block content %}<h1>外部资源</h1>'
                            '<img src="http://example.com/track.png"><img src="https://example.com/a.svg">'
                            '<img src="file:///etc/passwd"><p>正文</p>{% endblock %}'
                        )
                    }
                ),
                report_pdf._env.loader,
            ]
        ),
    )
    pdf, warnings, _ = rendered(render_pdf, "remote.html", {})
    assert "外部资源" in poppler("pdftotext", pdf, tmp_path)
    fonts = ("file:///usr/share/fonts/", "file:///usr/local/share/fonts/")  # the latter: the Fandol faces
    assert not [url for url in opened if not url.startswith(fonts)], opened
    refused = [m for m in warnings if "FetchRefused" in m]
    assert len(refused) == 3, warnings


def test_orm_objects_are_refused():
    class Mapped:
        _sa_instance_state = object()

    with pytest.raises(TypeError, match="ORM"):
        render_pdf("receipt.html", {"r": Mapped()})
    with pytest.raises(TypeError, match="ORM"):
        render_pdf("qr_sheet.html", {"title": "x", "sheets": [{"qr": Mapped()}]})


def test_missing_fonts_raise_instead_of_printing_boxes(monkeypatch):
    monkeypatch.setattr(report_pdf, "_fc_match", lambda family: None)
    monkeypatch.setattr(
        report_pdf,
        "FACES",
        tuple(
            dataclasses.replace(face, debian_paths=("/nonexistent/font.ttf",)) for face in report_pdf.FACES
        ),
    )
    report_pdf.font_files.cache_clear()
    try:
        with pytest.raises(FontsMissing, match="fonts-wqy-microhei"):
            render_receipt_pdf(receipt())
    finally:
        report_pdf.font_files.cache_clear()
