"""The supervision notices follow the letter format (信函格式) of GB/T 9704-2012, measured on the PDF
(pdfplumber) rendered from notice documents in the contract's shape: a short reminder, a
rectification notice naming 40 cases over several pages, an interview notice, a 交办函, a sealed
letter and one from an office with an overlong name.

Positions are in millimetres from the page's top-left corner. A character's box is its em box:
every face used here (Noto Serif CJK, the Fandol faces, AR PL SungtiL) sets its ideographs 0.88 em
above and 0.12 em below the baseline, and pdfplumber's own top/bottom follow the font's line
metrics instead.
"""

from __future__ import annotations

import io
import math
import re
import subprocess
from dataclasses import dataclass

import pdfplumber
import pytest
from PIL import Image, ImageDraw

from reports.notice import render_notice_pdf

MM = 25.4 / 72
PAGE_W, PAGE_H = 210.0, 297.0
LEFT, RIGHT, TOP, BOTTOM = 28.0, 210.0 - 26.0, 37.0, 297.0 - 35.0  # the 版心: 156 × 225 mm
CENTRE = (LEFT + RIGHT) / 2
PITCH = 225 / 22  # 22 lines to the page
CHAR = 156 / 28  # 28 characters to the line
SIZE_3 = 16 * MM  # a 3号 character (mm)
SIZE_4 = 14 * MM  # a 4号 character (mm)
XBS, FANG, HEI, SONG = "Noto-Serif-CJK-SC-Bold", "FandolFang", "FandolHei", "AR-PL-SungtiL-GB"
RED = (0.902, 0.0, 0.071)


# --- sample documents (the notice document contract, version 1) ------------------------------------

REMINDER = {
    "version": 1,
    "kind": "reminder",
    "issuer": "石门市营商环境建设局",
    "number": "石营商督〔2026〕12号",
    "title": "关于督促签收YS20260801000123号工单的提醒敦促函",
    "addressee": "石门市市场监督管理局",
    "body": [
        "经营商110平台监测，你单位承办的YS20260801000123号工单（企业开办窗口多次要求补交材料，一次性告知"
        "制度未落实）于2026年7月30日派发，截至2026年8月4日仍未签收，已超过签收时限3个工作日。",
        "按照经营主体反映问题响应处置机制督办环节工作程序的规定，对无故不签收工单、超期未办、多次反映未办"
        "等情形，向承办单位发出《提醒敦促函》日常督办，限期办结。",
    ],
    "cases": [],
    "closing": [
        "请你单位立即签收上述工单，指定专人按规定时限办理，并于2026年8月7日前将签收及办理情况书面答复我局。"
    ],
    "interview": None,
    "signer": "石门市营商环境建设局",
    "date": "2026年8月4日",
    "contact": {"name": "王敏", "phone": "0311-86012345"},
    "copy_to": ["石门市纪委监委驻市场监管局纪检监察组"],
    "seal_sha256": None,
}

_TITLES = (
    "企业开办窗口多次要求补交材料，一次性告知制度未落实",
    "施工许可审批超过承诺时限",
    "招投标保证金逾期未退还",
)
RECTIFICATION = {
    **REMINDER,
    "kind": "rectification",
    "number": "石营商督〔2026〕27号",
    "title": "关于石门市住房和城乡建设局YS20260701000001号等40件工单推诿扯皮问题的整改通知书",
    "addressee": "石门市住房和城乡建设局",
    "body": [
        "经营商110平台监测，你单位承办的下列40件工单在办理过程中多次退回，存在推诿扯皮情形，经营主体反映强烈。"
    ],
    "cases": [
        {
            "number": f"YS202607{1 + i % 28:02d}{i:06d}",
            "title": _TITLES[i % 3],
            "note": f"逾期{1 + i % 7}个工作日",
        }
        for i in range(40)
    ],
    "closing": [
        "请你单位高度重视，立即停止推诿，按职责牵头办理，查明多次退回的原因，明确整改措施、责任人和整改时限，"
        "并于2026年8月14日前将整改情况书面报告我局。",
        "本通知书所列问题列入月度监测通报。逾期未报告或整改不到位的，将按规定予以约谈督办，并纳入营商环境考核。",
    ],
    "copy_to": [
        "石门市纪委监委驻市住房和城乡建设局纪检监察组",
        "石门市人民政府办公室",
        "石门市营商环境建设领导小组办公室",
        "石门市住房和城乡建设局办公室",
    ],
}

INTERVIEW = {
    **REMINDER,
    "kind": "interview",
    "number": "石营商督〔2026〕31号",
    "title": "关于约谈石门市自然资源和规划局的通知书",
    "addressee": "石门市自然资源和规划局",
    "body": [
        "你单位在办理经营主体反映问题中存在下列情形。经研究，我局决定对你单位进行约谈。现将有关事项通知如下："
    ],
    "cases": [
        {"number": "YS20260612000456", "title": "不动产登记窗口排队时间过长", "note": "已逾期12个工作日"}
    ],
    "interview": {
        "reasons": [
            "你单位在办理YS20260612000456号工单过程中，未经核实即以“已办结”申请办结，经复核与事实不符。"
        ],
        "time": "2026年8月6日9时30分",
        "place": "石门市政务服务中心三楼会议室",
        "attendees": "你单位主要负责人及分管负责人",
        "materials": ["整改情况书面报告", "相关工单办理材料"],
    },
    "closing": ["请你单位接到通知后认真准备，按时参加约谈，并于2026年8月11日前将整改情况书面报告我局。"],
}

ASSIGNMENT = {
    **REMINDER,
    "kind": "assignment",
    "number": "石营商交〔2026〕5号",
    "title": "关于交办YS20260720000321号工单的函",
    "addressee": "石门市人力资源和社会保障局",
    "body": ["按照营商环境投诉举报分级分类办理的规定，现将下列问题线索交你单位办理。"],
    "cases": [{"number": "YS20260720000321", "title": "社保登记业务需多次往返", "note": ""}],
    "closing": ["请你单位指定专人认真核查，并于2026年8月18日前通过平台答复核查和整改情况。"],
    "signer": "长河县商务局",  # shorter than the date and two characters
    "contact": None,
    "copy_to": [],
}

OVERLONG = {
    **REMINDER,
    "issuer": "石门市东城区营商环境建设局综合执法监督办公室",
    "signer": "石门市东城区营商环境建设局综合执法监督办公室",
    "number": "石东营商综督〔2026〕1234号",
}


def seal_png() -> bytes:
    """A red round seal (transparent outside the ring), 600 px square."""
    image = Image.new("RGBA", (600, 600), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((12, 12, 588, 588), outline=(230, 0, 18, 235), width=22)
    star = [
        (300 + 70 * math.cos(math.radians(-90 + k * 144)), 300 + 70 * math.sin(math.radians(-90 + k * 144)))
        for k in range(5)
    ]
    draw.polygon(star, fill=(230, 0, 18, 235))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


# --- measuring ------------------------------------------------------------------------------------


@dataclass
class Line:
    """The characters printed on one baseline (a text line), with their em boxes in mm."""

    chars: list

    @property
    def text(self) -> str:
        return "".join(c["text"] for c in self.chars)

    @property
    def size(self) -> float:
        return self.chars[0]["size"]

    @property
    def font(self) -> str:
        return self.chars[0]["fontname"].split("+", 1)[-1]

    @property
    def baseline(self) -> float:
        return self.chars[0]["baseline"]

    @property
    def top(self) -> float:
        return self.baseline - 0.88 * self.size * MM

    @property
    def bottom(self) -> float:
        return self.baseline + 0.12 * self.size * MM

    @property
    def x0(self) -> float:
        return self.chars[0]["x0"] * MM

    @property
    def x1(self) -> float:
        return self.chars[-1]["x1"] * MM

    @property
    def colour(self):
        return tuple(round(v, 3) for v in self.chars[0]["non_stroking_color"] or ())

    def starting(self, text: str) -> Line:
        """The part of the line from ``text`` on."""
        start = self.text.index(text)
        return Line(self.chars[start : start + len(text)])


@dataclass
class Page:
    number: int
    width: float
    height: float
    lines: list[Line]
    rects: list[dict]  # {x0, x1, top, bottom} in mm, filled red
    images: list[dict]

    def find(self, text: str) -> Line:
        [line] = [line for line in self.lines if text in line.text]
        return line.starting(text)

    def has(self, text: str) -> bool:
        return any(text in line.text for line in self.lines)


def measure(pdf: bytes) -> list[Page]:
    pages = []
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        for number, page in enumerate(document.pages, start=1):
            by_baseline: dict[float, list] = {}
            for char in page.chars:
                if not char["text"].strip():
                    continue
                baseline = (page.height - char["matrix"][5]) * MM
                by_baseline.setdefault(round(baseline, 1), []).append({**char, "baseline": baseline})
            lines = [Line(sorted(chars, key=lambda c: c["x0"])) for _, chars in sorted(by_baseline.items())]
            rects = [
                {key: r[key] * MM for key in ("x0", "x1", "top", "bottom")}
                for r in page.rects
                if r["fill"] and tuple(round(v, 3) for v in r["non_stroking_color"] or ()) == RED
            ]
            images = [{key: i[key] * MM for key in ("x0", "x1", "top", "bottom")} for i in page.images]
            pages.append(Page(number, page.width * MM, page.height * MM, lines, rects, images))
    return pages


@pytest.fixture(scope="module")
def docs():
    rendered = {
        "reminder": render_notice_pdf(REMINDER),
        "rectification": render_notice_pdf(RECTIFICATION),
        "interview": render_notice_pdf(INTERVIEW),
        "assignment": render_notice_pdf(ASSIGNMENT),
        "sealed": render_notice_pdf(REMINDER, seal_png=seal_png()),
        "overlong": render_notice_pdf(OVERLONG),
    }
    return {name: (pdf, measure(pdf)) for name, pdf in rendered.items()}


def pages_of(docs, name) -> list[Page]:
    return docs[name][1]


ALL = ("reminder", "rectification", "interview", "assignment", "sealed", "overlong")


def masthead(page: Page) -> Line:
    return page.lines[0]


def body_lines(page: Page) -> list[Line]:
    return [line for line in page.lines if line.font == FANG and abs(line.size - 16) < 0.1]


# --- the page and the 版心 ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL)
def test_every_page_is_a4(docs, name):
    for page in pages_of(docs, name):
        assert page.width == pytest.approx(PAGE_W, abs=0.5) and page.height == pytest.approx(PAGE_H, abs=0.5)


@pytest.mark.parametrize("name", ALL)
def test_text_stays_in_the_type_area_except_the_masthead_and_page_numbers(docs, name):
    for page in pages_of(docs, name):
        for line in page.lines:
            is_masthead = page.number == 1 and line is masthead(page)
            is_page_number = re.fullmatch(r"—\d+—", line.text)
            assert line.x0 >= LEFT - 0.3 and line.x1 <= RIGHT + 0.3, (page.number, line.text)
            if not is_masthead:
                assert line.top >= TOP - 0.3, (page.number, line.text, line.top)
            if not is_page_number:
                assert line.bottom <= BOTTOM + 0.3, (page.number, line.text, line.bottom)


@pytest.mark.parametrize("name", ALL)
def test_no_running_header_on_any_page(docs, name):
    for page in pages_of(docs, name):
        assert not [line.text for line in page.lines if line.top < 29.5], page.number
        assert not page.has("营商110 · 营商环境投诉举报平台")


# --- 发文机关标志 and the red double rules (信函格式 10.1) --------------------------------------------


@pytest.mark.parametrize("name", ALL)
def test_the_masthead_is_red_xiaobiaosong_centred_on_one_line_30_mm_from_the_top(docs, name):
    first = pages_of(docs, name)[0]
    issuer = {"overlong": OVERLONG}.get(name, REMINDER)["issuer"]
    line = masthead(first)
    assert line.text == issuer  # one line, however long the name
    assert line.font == XBS and line.colour == RED
    assert line.top == pytest.approx(30, abs=1)
    assert (line.x0 + line.x1) / 2 == pytest.approx(CENTRE, abs=1)


def test_a_long_office_name_is_set_smaller_to_stay_on_one_line(docs):
    short, long = masthead(pages_of(docs, "reminder")[0]), masthead(pages_of(docs, "overlong")[0])
    assert long.size < short.size
    assert long.x1 - long.x0 <= 156


def _rules(page: Page) -> list[dict]:
    return sorted(page.rects, key=lambda r: r["top"])


@pytest.mark.parametrize("name", ALL)
def test_a_thick_over_thin_red_rule_4_mm_under_the_masthead_and_thin_over_thick_20_mm_above_the_bottom(
    docs, name
):
    first, *rest = pages_of(docs, name)
    rules = _rules(first)
    assert len(rules) == 4, rules
    for rule in rules:
        assert rule["x1"] - rule["x0"] == pytest.approx(170, abs=0.3)
        assert (rule["x0"] + rule["x1"]) / 2 == pytest.approx(CENTRE, abs=0.3)
    thick, thin, thin_below, thick_below = rules
    height = lambda r: r["bottom"] - r["top"]  # noqa: E731
    assert height(thick) > 2 * height(thin) and thick["bottom"] < thin["top"]  # 上粗下细
    assert thick["top"] - masthead(first).bottom == pytest.approx(4, abs=0.3)
    assert (
        height(thick_below) > 2 * height(thin_below) and thin_below["bottom"] < thick_below["top"]
    )  # 上细下粗
    assert PAGE_H - thick_below["bottom"] == pytest.approx(20, abs=0.3)
    for page in rest:
        assert not page.rects, f"red rules on page {page.number}"


# --- 发文字号, 标题, 主送机关 ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL)
def test_the_number_is_flush_right_on_one_line_seven_eighths_of_a_character_under_the_rule(docs, name):
    first = pages_of(docs, name)[0]
    number = {"overlong": OVERLONG, "rectification": RECTIFICATION, "interview": INTERVIEW}.get(
        name, ASSIGNMENT if name == "assignment" else REMINDER
    )["number"]
    line = first.find(number)  # all of it on one line
    assert line.x1 == pytest.approx(RIGHT, abs=1)
    rule_bottom = _rules(first)[1]["bottom"]
    assert line.top - rule_bottom == pytest.approx(SIZE_3 * 7 / 8, abs=0.3)
    assert line.font == FANG and line.size == pytest.approx(16, abs=0.1)


def _title_lines(page: Page) -> list[Line]:
    return [line for line in page.lines[1:] if line.font == XBS]


@pytest.mark.parametrize("name", ALL)
def test_the_title_is_2hao_xiaobiaosong_centred_two_lines_under_the_number(docs, name):
    first = pages_of(docs, name)[0]
    titles = _title_lines(first)
    assert titles
    number = [line for line in first.lines if line.font == FANG][0]
    for line in titles:
        assert line.size == pytest.approx(22, abs=0.5)
        assert (line.x0 + line.x1) / 2 == pytest.approx(CENTRE, abs=1)
    # two empty lines between them: the title's baseline three line pitches below the number's,
    # give or take the two faces' different placing of the baseline in a line
    assert titles[0].baseline - number.baseline == pytest.approx(3 * PITCH, abs=1.5)


def test_a_long_title_wraps_into_balanced_lines_and_keeps_a_case_number_whole(docs):
    titles = _title_lines(pages_of(docs, "rectification")[0])
    assert len(titles) >= 2
    widths = [line.x1 - line.x0 for line in titles]
    assert max(widths) - min(widths) < 0.25 * max(widths)  # 排列对称, 长短适宜
    assert any("YS20260701000001号" in line.text for line in titles)
    two = _title_lines(pages_of(docs, "reminder")[0])
    assert [line.text for line in two] == ["关于督促签收YS20260801000123号", "工单的提醒敦促函"]


@pytest.mark.parametrize("name", ALL)
def test_the_addressee_is_flush_left_with_a_full_width_colon_one_blank_line_under_the_title(docs, name):
    first = pages_of(docs, name)[0]
    addressee = {"rectification": RECTIFICATION, "interview": INTERVIEW, "assignment": ASSIGNMENT}.get(
        name, REMINDER
    )["addressee"]
    line = first.find(addressee + "：")
    assert line.x0 == pytest.approx(LEFT, abs=0.3)
    assert line.baseline - _title_lines(first)[-1].baseline == pytest.approx(2 * PITCH, abs=1.5)


# --- 正文 ----------------------------------------------------------------------------------------


def _full_width(line: Line) -> bool:
    return all(ord(c["text"]) > 0x2E80 for c in line.chars)


@pytest.mark.parametrize("name", ALL)
def test_the_body_is_3hao_fangsong_on_a_grid_of_22_lines_of_28_characters(docs, name):
    full_lines = 0
    for page in pages_of(docs, name):
        lines = body_lines(page)
        for line in lines:
            assert line.size == pytest.approx(16, abs=0.1) and line.font == FANG
            cells = sum(1 if ord(c["text"]) > 0x2E80 else 0.5 for c in line.chars)
            assert cells + (line.x0 - LEFT) / CHAR <= 28.01, line.text  # never more than 28 to a line
            if _full_width(line) and line.x0 == pytest.approx(LEFT, abs=0.3) and len(line.chars) == 28:
                full_lines += 1
                assert line.x1 == pytest.approx(RIGHT, abs=0.3)
                steps = [(b["x0"] - a["x0"]) * MM for a, b in zip(line.chars, line.chars[1:], strict=False)]
                assert steps == pytest.approx([(156 - SIZE_3) / 27] * 27, abs=0.02)
        for above, below in zip(lines, lines[1:], strict=False):
            if below.baseline - above.baseline < 1.5 * PITCH:  # consecutive lines of a paragraph
                assert below.baseline - above.baseline == pytest.approx(PITCH, abs=0.3)
    if name in ("reminder", "sealed", "overlong"):  # their body has lines of Chinese only
        assert full_lines >= 2  # there are full lines, and 28 characters fill them exactly


def test_paragraphs_are_indented_two_characters(docs):
    page = pages_of(docs, "reminder")[0]
    for paragraph in REMINDER["body"]:
        assert page.find(paragraph[:10]).x0 == pytest.approx(LEFT + 2 * CHAR, abs=0.3)


def test_the_case_table_is_in_fangsong_repeats_its_header_and_never_wraps_a_case_number(docs):
    pages = pages_of(docs, "rectification")
    with_cases = [page for page in pages if any(re.search(r"YS\d{14}", line.text) for line in page.lines)]
    assert len(with_cases) >= 3  # 40 cases span pages
    for page in with_cases:
        assert page.has("工单编号") and page.has("反映事项") and page.has("说明")  # header on every page
    printed = []
    for page in with_cases:
        for line in page.lines:
            if line.size < 15 and re.search(r"YS\d", line.text):
                assert line.font == FANG
                printed += re.findall(r"YS\d{14}", line.text)
    assert printed == [case["number"] for case in RECTIFICATION["cases"]]  # each whole on its line


def test_the_interview_notice_has_numbered_headings_in_heiti_and_the_arrangements(docs):
    text = "\n".join(line.text for page in pages_of(docs, "interview") for line in page.lines)
    headings = ["一、约谈事由", "二、约谈时间：", "三、约谈地点：", "四、参加人员：", "五、需携带材料"]
    positions = [text.index(heading) for heading in headings]
    assert positions == sorted(positions)
    for page in pages_of(docs, "interview"):
        for heading in headings:
            if page.has(heading):
                line = page.find(heading)
                assert {c["fontname"].split("+")[-1] for c in line.chars} == {HEI}
                assert line.x0 == pytest.approx(LEFT + 2 * CHAR, abs=0.3)
    for expected in ("2026年8月6日9时30分", "石门市政务服务中心三楼会议室", "你单位主要负责人及分管负责人"):
        assert expected in text
    assert "1.整改情况书面报告；" in text and "2.相关工单办理材料。" in text


# --- 发文机关署名, 成文日期, 印章, 附注 --------------------------------------------------------------


def _signoff(pages: list[Page], signer: str, date: str) -> tuple[Page, Line, Line]:
    """The page with the 发文机关署名 and the 成文日期, each a line of its own in 仿宋."""
    [(page, signature, dated)] = [
        (page, signature, dated)
        for page in pages
        for signature in page.lines
        for dated in page.lines
        if signature.text == signer and dated.text == date and signature.font == dated.font == FANG
    ]
    return page, signature, dated


def test_unsealed_the_signature_is_two_characters_in_and_the_date_two_characters_right_of_it(docs):
    for name, doc in (("reminder", REMINDER), ("overlong", OVERLONG)):
        pages = pages_of(docs, name)
        page, signature, date = _signoff(pages, doc["signer"], doc["date"])
        assert RIGHT - signature.x1 == pytest.approx(2 * CHAR, abs=0.3), name  # 右空二字
        assert date.x0 - signature.x0 == pytest.approx(2 * CHAR, abs=0.3), name  # 首字右移二字
        assert date.baseline - signature.baseline == pytest.approx(PITCH, abs=0.3)  # the next line
        last_body = [line for line in body_lines(page) if line.baseline < signature.baseline - 1][-1]
        assert signature.baseline - last_body.baseline == pytest.approx(2 * PITCH, abs=0.5)  # 空一行


def test_unsealed_a_date_longer_than_the_signature_ends_two_characters_in_and_moves_it_left(docs):
    _, signature, date = _signoff(pages_of(docs, "assignment"), ASSIGNMENT["signer"], ASSIGNMENT["date"])
    assert RIGHT - date.x1 == pytest.approx(2 * CHAR, abs=0.3)
    assert date.x0 - signature.x0 == pytest.approx(2 * CHAR, abs=0.3)
    assert RIGHT - signature.x1 > 2 * CHAR + 1


def test_sealed_the_date_is_four_characters_in_the_signature_centred_over_it_under_the_seal(docs):
    pages = pages_of(docs, "sealed")
    page, signature, date = _signoff(pages, REMINDER["signer"], REMINDER["date"])
    assert RIGHT - date.x1 == pytest.approx(4 * CHAR, abs=0.3)  # 右空四字
    assert (signature.x0 + signature.x1) / 2 == pytest.approx((date.x0 + date.x1) / 2, abs=0.3)
    [seal] = page.images
    assert seal["x1"] - seal["x0"] == pytest.approx(42, abs=0.5)
    assert (seal["x0"] + seal["x1"]) / 2 == pytest.approx((date.x0 + date.x1) / 2, abs=0.3)
    assert seal["top"] < signature.top and seal["bottom"] > date.bottom  # over both lines
    middle = (signature.top + date.bottom) / 2
    assert 0 < middle - (seal["top"] + seal["bottom"]) / 2 < 5  # 居印章中心偏下
    last_body = [line for line in body_lines(page) if line.baseline < signature.baseline - 1][-1]
    assert 0 < seal["top"] - last_body.bottom < PITCH  # 印章顶端上距正文一行之内
    assert not [p.number for p in pages if p.images and p is not page]


@pytest.mark.parametrize("name", ["reminder", "sealed"])
def test_the_contact_note_is_in_parentheses_two_characters_in_after_the_date(docs, name):
    pages = pages_of(docs, name)
    page, _, date = _signoff(pages, REMINDER["signer"], REMINDER["date"])
    note = page.find("（联系人：王敏，电话：0311-86012345）")
    assert note.x0 == pytest.approx(LEFT + 2 * CHAR, abs=0.3)
    if name == "reminder":
        assert note.baseline - date.baseline == pytest.approx(PITCH, abs=0.3)  # 成文日期下一行
    else:
        [seal] = page.images
        assert note.top > seal["bottom"]  # below the seal, which would cover it
    assert not any(p.has("联系人") for p in pages_of(docs, "assignment"))  # no contact: no 附注


# --- 版记 (抄送) and page numbers ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["reminder", "rectification", "interview"])
def test_copy_to_sits_at_the_bottom_of_the_last_page_one_character_in_aligned_after_its_colon(docs, name):
    pages = pages_of(docs, name)
    *earlier, last = pages
    assert not any(page.has("抄送") for page in earlier)
    lines = [line for line in last.lines if line.size == pytest.approx(14, abs=0.1) and line.font == FANG]
    first = last.find("抄送：")
    block = [line for line in lines if line.baseline >= first.baseline]
    assert first.x0 == pytest.approx(LEFT + SIZE_4, abs=0.3)  # 左空一字
    for line in block[1:]:
        assert line.x0 == pytest.approx(LEFT + 4 * SIZE_4, abs=0.3)  # 回行时与冒号后首字对齐
    for line in block:
        assert line.x1 <= RIGHT - SIZE_4 + 0.3  # 右空一字
    assert BOTTOM - block[-1].bottom < 3  # at the very bottom of the 版心
    assert all(line.baseline <= block[-1].baseline for line in last.lines if line.bottom <= BOTTOM + 0.3)
    copied = {"rectification": RECTIFICATION}.get(name, REMINDER)["copy_to"]
    assert "".join(line.text for line in block) == "抄送：" + "、".join(copied) + "。"
    assert not _rules(last) or last.number == 1  # no 版记 rules in the letter format
    assert not any(p.has("抄送") for p in pages_of(docs, "assignment"))  # nothing to copy: no 抄送


@pytest.mark.parametrize("name", ALL)
def test_page_numbers_from_page_two_7_mm_under_the_type_area_on_the_outer_side(docs, name):
    pages = pages_of(docs, name)
    numbers = {page.number: [line for line in page.lines if line.top > BOTTOM] for page in pages}
    assert numbers[1] == []  # 首页不显示页码
    for page in pages[1:]:
        [line] = numbers[page.number]
        assert line.text == f"—{page.number}—"  # — 2 — (spaces dropped by the measuring)
        assert line.size == pytest.approx(14, abs=0.1) and line.font == SONG
        assert line.top - BOTTOM == pytest.approx(7, abs=0.5)
        if page.number % 2:
            assert RIGHT - line.x1 == pytest.approx(SIZE_4, abs=0.3)  # odd pages: right, one character in
        else:
            assert line.x0 - LEFT == pytest.approx(SIZE_4, abs=0.3)  # even pages: left, one character in


def test_the_long_rectification_runs_to_odd_and_even_pages(docs):
    assert len(pages_of(docs, "rectification")) >= 3


# --- the document as data ------------------------------------------------------------------------


def test_typed_text_prints_as_text(tmp_path):
    typed = '<b>加粗</b> & <img src="http://example.com/x.png">'
    pdf = render_notice_pdf(
        {**REMINDER, "addressee": typed, "cases": [{"number": "YS1", "title": typed, "note": typed}]}
    )
    path = tmp_path / "n.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert typed + "：" in text and text.count("<b>加粗</b>") >= 3


def test_missing_optional_keys_are_empty_and_extra_keys_ignored():
    minimal = {
        k: REMINDER[k]
        for k in ("version", "kind", "issuer", "number", "title", "addressee", "body", "signer", "date")
    }
    pages = measure(render_notice_pdf({**minimal, "future_key": {"x": 1}}))
    text = "".join(line.text for page in pages for line in page.lines)
    assert REMINDER["title"][:6] in text and "抄送" not in text and "联系人" not in text
