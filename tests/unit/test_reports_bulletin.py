"""Monthly bulletin and assessment report PDFs (reports/bulletin.py): Chinese fonts embedded with no
missing glyph, every section present, the 100-department ranking spans several pages with its header
row repeated, charts drawn, nothing fetched from outside. Uses poppler-utils like test_reports_pdf.
"""

from __future__ import annotations

import base64
import dataclasses
import re
import subprocess
import urllib.request
from datetime import date

import pytest

from reports import bulletin
from reports.bulletin import (
    AssessmentData,
    BulletinData,
    Count,
    Figures,
    NoticeDeduction,
    NoticeItem,
    OfficeRow,
    RankingRow,
    Ratio,
    ScoredRate,
    TrendPoint,
    TypicalItem,
    render_assessment_pdf,
    render_bulletin_pdf,
)
from tests.unit.test_reports_pdf import NOTDEF, assert_chinese_fonts, pages, poppler, rendered

DEPARTMENTS = 100
LEVELS = ("市级", "区级", "街道", "乡镇")
REGIONS = ("东城", "西城", "南湖", "北山", "高新", "滨江", "临港", "青溪", "云岭", "长丰")
OFFICES = (
    "市场监督管理局",
    "行政审批服务局",
    "住房和城乡建设局",
    "自然资源和规划局",
    "税务局",
    "人力资源和社会保障局",
    "生态环境局",
    "交通运输局",
    "商务局",
    "城市管理局",
)
LAST_DEPARTMENT = f"{REGIONS[-1]}区{OFFICES[-1]}（第{DEPARTMENTS}号）"
ISSUER = "石门市营商环境建设局"  # the issuing office, named on the document


def department(i: int) -> str:
    return f"{REGIONS[(i - 1) // 10]}区{OFFICES[(i - 1) % 10]}（第{i}号）"


def _ratio(value: float | None, denominator: int = 1000) -> Ratio:
    return Ratio(0, 0) if value is None else Ratio(round(value * denominator), denominator)


def ranking(n: int = DEPARTMENTS) -> list[RankingRow]:
    rows = []
    for i in range(1, n + 1):
        none = i % 17 == 0  # a department with no closed cases: rates print as "—"
        rates = [
            ("on_time", "按时办结率", 35, None if none else 1 - i / 400),
            ("resolution", "问题解决率", 25, None if none else 0.95 - i / 500),
            ("satisfaction", "满意率", 25, None if none else 0.929 - i / 1000),
            ("signing", "按时签收率", 15, 1 - i / 1000),
        ]
        scored = [
            ScoredRate(
                key, label, _ratio(value), weight, weight * (0.9 if value is None else value), value is None
            )
            for key, label, weight, value in rates
        ]
        deductions = [
            NoticeDeduction("提醒敦促函", i % 4, 0.5, i % 4 * 0.5),
            NoticeDeduction("整改通知书", i % 3 // 2, 2, i % 3 // 2 * 2),
            NoticeDeduction("约谈通知书", 0, 0, 0),
        ]
        weighted = sum(r.points for r in scored)
        deducted = sum(d.points for d in deductions)
        rows.append(
            RankingRow(
                rank=i,
                department=department(i),
                level=LEVELS[i % 4],
                handled=200 - i,
                rates=scored,
                deductions=deductions,
                rehandle=_ratio(i / 1000),
                returns=_ratio(None if none else i / 2000),
                weighted=weighted,
                deducted=deducted,
                score=max(0.0, weighted - deducted),
            )
        )
    return rows


SUMMARY = (
    "某企业反映在办理工程建设项目施工许可时，窗口要求提供法律法规规定以外的证明材料，"
    "且多次退回申请，导致项目开工延误。承办单位接到转办后当日联系企业，核实情况属实，"
    "立即启用容缺受理机制，三个工作日内办结许可，并对窗口工作人员开展业务培训，"
    "全面梳理并公开办事指南，取消无依据证明材料七项，企业对办理结果表示满意。"
) * 2


def typical(kind: str, n: int = 5) -> list[TypicalItem]:
    return [
        TypicalItem(
            heading=f"{kind}案例：某企业反映施工许可办理中被要求提供额外材料（{i}）",
            department=department(i * 7),
            summary=SUMMARY,
        )
        for i in range(1, n + 1)
    ]


def figures() -> Figures:
    return Figures(
        filed=1386,
        accepted=1302,
        closed=1254,
        on_time=1165,  # 92.9% of the closed
        rated=1000,
        satisfied=941,  # 94.1% of the rated
        by_type=[Count("投诉", 812), Count("举报", 233), Count("咨询", 198), Count("建议", 143)],
        by_channel=[
            Count("网站", 602),
            Count("窗口二维码", 311),
            Count("12345 转办", 356),
            Count("信件", 117),
        ],
        by_category=[
            Count(label, value)
            for label, value in (
                ("政务服务 · 办事效率", 402),
                ("市场准入", 188),
                ("监管执法", 173),
                ("涉企收费", 151),
                ("政策兑现", 142),
                ("招标投标", 96),
                ("要素保障", 121),
                ("其他", 113),
            )
        ],
        by_level=[Count("市级", 486), Count("区级", 621), Count("街道", 201), Count("乡镇", 78)],
        trend=[
            TrendPoint(f"{(m + 10) % 12 + 1}月", 900 + 40 * m + (m % 3) * 55, 860 + 38 * m) for m in range(12)
        ],
    )


def bulletin_data(**changes) -> BulletinData:
    data = BulletinData(
        title="营商环境投诉举报办理情况通报",
        issue="2026年第11期",
        period_label="2026年10月",
        issued_on="2026年11月1日",
        figures=figures(),
        exemplary=typical("示范"),
        warning=typical("警示"),
        notices=[
            NoticeItem(
                number=f"石营商督〔2026〕{i}号",
                kind=("提醒敦促函", "整改通知书", "约谈通知书")[i % 3],
                department=department(i * 9),
                cause="工单超期未办结，经提醒仍未答复企业诉求",
                issued_on=date(2026, 10, i + 8),
            )
            for i in range(1, 9)
        ],
        ranking=ranking(),
        issuer=ISSUER,
        area="石门市（含所辖县区）",
    )
    return dataclasses.replace(data, **changes)


def assessment_data(**changes) -> AssessmentData:
    data = AssessmentData(
        title="营商环境投诉举报办理考核排名",
        period_label="2026年第三季度",
        issued_on="2026年10月15日",
        ranking=ranking(),
        weights={"按时办结率": 0.35, "问题解决率": 0.25, "群众满意率": 0.25, "按时签收率": 0.15},
        deductions={"提醒敦促函（每份）": 0.5, "整改通知书（每份）": 2, "重办（每件）": 1},
        formulas={
            "按时办结率": "考核期内在办理时限内办结的工单数 ÷ 考核期内应办结的工单数 × 100%。",
            "问题解决率": "考核期内企业确认问题已解决的工单数 ÷ 考核期内办结并完成回访的工单数 × 100%。",
            "群众满意率": "评价为“满意”“基本满意”的工单数 ÷ 已评价工单数 × 100%；未评价的不计入分母。",
            "按时签收率": "在 1 个工作日内签收的工单数 ÷ 转交本单位的工单数 × 100%。",
            "综合得分": "各项比率 × 权重 × 100 之和，减去督办扣分；无可计算工单的比率按全体单位平均值计。",
        },
        tie_breaks=[
            "综合得分相同的，按时办结率高者在前；",
            "仍相同的，群众满意率高者在前；",
            "仍相同的，办理量多者在前；",
            "仍相同的，按单位编码顺序排列。",
        ],
        issuer=ISSUER,
        area="石门市直",
    )
    return dataclasses.replace(data, **changes)


BULLETIN_HEADINGS = (
    ISSUER,
    "营商环境投诉举报办理情况通报",
    "2026年第11期",
    "2026年10月",
    "2026年10月，石门市（含所辖县区）共登记投诉举报",
    "2026年11月1日",
    "一、总体情况",
    "二、示范案例",
    "三、警示案例",
    "四、督办通知",
    "五、单位排名",
)
BULLETIN_HEADER_ROW = "解决率"  # a column heading of the ranking table
ASSESSMENT_HEADER_ROW = "督办扣分"


@pytest.fixture(scope="module")
def bulletin_pdf():
    render_bulletin_pdf(bulletin_data(ranking=ranking(3)))  # warm up: font lookup, WeasyPrint start-up
    pdf, warnings, seconds = rendered(render_bulletin_pdf, bulletin_data())
    print(f"\nbulletin ({DEPARTMENTS} departments) rendered in {seconds:.3f} s")
    return pdf, warnings


@pytest.fixture(scope="module")
def assessment_pdf():
    pdf, warnings, seconds = rendered(render_assessment_pdf, assessment_data())
    print(f"\nassessment ({DEPARTMENTS} departments) rendered in {seconds:.3f} s")
    return pdf, warnings


def page_texts(pdf: bytes, tmp_path) -> list[str]:
    return poppler("pdftotext", pdf, tmp_path, "-layout").split("\f")


def plain(text: str) -> str:
    return re.sub(r"\s", "", text)


# --- bulletin --------------------------------------------------------------------------------------


def test_bulletin_embeds_chinese_fonts_without_missing_glyphs(bulletin_pdf, tmp_path):
    pdf, warnings = bulletin_pdf
    assert pdf.startswith(b"%PDF-")
    assert_chinese_fonts(pdf, warnings, tmp_path)


def test_bulletin_has_every_section_and_the_last_department(bulletin_pdf, tmp_path):
    pdf, _ = bulletin_pdf
    count = pages(pdf, tmp_path)
    print(f"\nbulletin: {count} pages")
    assert count >= 5
    text = plain(poppler("pdftotext", pdf, tmp_path))
    for expected in BULLETIN_HEADINGS:
        assert plain(expected) in text, expected
    for expected in (
        "1386",
        "92.9%",
        "94.1%",
        "石营商督〔2026〕8号",
        "示范案例：某企业反映施工许可",
        "警示案例：某企业反映施工许可",
        "容缺受理机制",
        "12345转办",
        "政务服务·办事效率",
    ):
        assert plain(expected) in text, expected
    texts = page_texts(pdf, tmp_path)
    last = [t for t in texts if t.strip()][-1]
    # A long name wraps in its cell; the rate's (numerator/denominator) line comes between.
    assert all(plain(part) in plain(last) for part in re.split(r"（|号", LAST_DEPARTMENT))


def test_bulletin_ranking_header_repeats_on_later_pages(bulletin_pdf, tmp_path):
    pdf, _ = bulletin_pdf
    texts = page_texts(pdf, tmp_path)
    with_header = [
        number for number, text in enumerate(texts, 1) if "名次" in text and BULLETIN_HEADER_ROW in text
    ]
    assert len(with_header) >= 2, with_header
    ranking_pages = [number for number, text in enumerate(texts, 1) if re.search(r"（第\d+号）", text)]
    for number in ranking_pages[ranking_pages.index(with_header[0]) :]:
        assert number in with_header, (number, with_header)  # every ranking page starts with the header


def test_bulletin_formats_rates_and_missing_values(bulletin_pdf, tmp_path):
    text = poppler("pdftotext", bulletin_pdf[0], tmp_path)
    assert "99.8%" in text  # 1 - 1/400 = 0.9975, one decimal
    assert "—" in text
    assert "None" not in text


def test_bulletin_has_two_charts_with_chinese_labels(bulletin_pdf, tmp_path):
    data = bulletin_data()
    charts = bulletin._charts(data.figures)
    assert charts["trend"].startswith("data:image/svg+xml;base64,")
    assert charts["by_type"].startswith("data:image/svg+xml;base64,")
    svg = base64.b64decode(charts["trend"].split(",", 1)[1]).decode()
    assert "<script" not in svg and "WenQuanYi Micro Hei" in svg and "登记量" in svg
    assert 'id="ys-hatch"' in svg  # closed cases hatched: legible in black and white
    text = poppler("pdftotext", bulletin_pdf[0], tmp_path)
    assert "登记量" in text and "10月" in text  # the chart's text is real text, not outlines


def test_empty_lists_say_none_this_month(tmp_path):
    data = bulletin_data(
        exemplary=[],
        warning=[],
        notices=[],
        ranking=ranking(5),
        figures=dataclasses.replace(figures(), by_type=[], trend=[], closed=0, on_time=0),
    )
    pdf, warnings, _ = rendered(render_bulletin_pdf, data)
    assert_chinese_fonts(pdf, warnings, tmp_path)
    text = plain(poppler("pdftotext", pdf, tmp_path))
    assert text.count("本月无") >= 4
    assert "按时办结率—" in text  # key figures table: no closed case, the on-time rate is a dash
    assert "图1" not in text and "图2" not in text  # no trend, no types: no charts


def test_bulletin_text_is_escaped(tmp_path):
    item = TypicalItem('<b>加粗</b> & <img src="http://example.com/x.png">', "某单位", "摘要")
    pdf = render_bulletin_pdf(bulletin_data(exemplary=[item], ranking=ranking(3)))
    assert '<b>加粗</b> & <img src="http://example.com/x.png">' in poppler("pdftotext", pdf, tmp_path)


# --- assessment ------------------------------------------------------------------------------------


def test_assessment_embeds_chinese_fonts_and_has_every_part(assessment_pdf, tmp_path):
    pdf, warnings = assessment_pdf
    assert_chinese_fonts(pdf, warnings, tmp_path)
    count = pages(pdf, tmp_path)
    print(f"\nassessment: {count} pages")
    assert count >= 4
    text = plain(poppler("pdftotext", pdf, tmp_path))
    for expected in (
        "营商环境投诉举报办理考核排名",
        "2026年第三季度",
        "2026年10月15日",
        ISSUER,
        "石门市直各承办单位",
        "附录：指标口径与计分方法",
        "35%",
        "0.5分",
        "整改通知书（每份）",
        "已评价工单数",
        "仍相同的，按单位编码顺序排列",
        "重办率",
        "退单率",
        "签收率",
        "综合得分",
        LAST_DEPARTMENT,
    ):
        assert plain(expected) in text, expected


def test_assessment_ranking_is_landscape_with_repeated_header(assessment_pdf, tmp_path):
    pdf, _ = assessment_pdf
    texts = page_texts(pdf, tmp_path)
    with_header = [
        number for number, text in enumerate(texts, 1) if ASSESSMENT_HEADER_ROW in text and "名次" in text
    ]
    assert len(with_header) >= 2, with_header
    info = poppler("pdfinfo", pdf, tmp_path, "-f", "1", "-l", str(len(texts)))
    sizes = re.findall(r"^Page\s+(\d+) size:\s+([\d.]+) x ([\d.]+)", info, re.MULTILINE)
    landscape = {int(n) for n, w, h in sizes if float(w) > float(h)}
    assert set(with_header) <= landscape
    assert 1 not in landscape  # title page and appendix stay portrait
    assert int(sizes[-1][0]) not in landscape


def test_the_documents_never_name_the_old_central_office(bulletin_pdf, assessment_pdf, tmp_path):
    for pdf, _ in (bulletin_pdf, assessment_pdf):
        text = plain(poppler("pdftotext", pdf, tmp_path))
        assert "督办室" not in text and text.count(ISSUER) >= 3  # masthead, imprint, signature


def test_a_long_office_name_is_set_smaller_to_stay_on_one_masthead_line(tmp_path):
    from reports.pdf import masthead_pt

    long_name = "清源省石门市东城区营商环境建设局（优化营商环境投诉中心）"
    assert masthead_pt("长河县营商环境建设局", 34, 0.12) == 34
    assert 14 <= masthead_pt(long_name, 34, 0.12) < 20
    pdf, _, _ = rendered(render_bulletin_pdf, bulletin_data(issuer=long_name, ranking=ranking(3)))
    lines = [plain(line) for line in poppler("pdftotext", pdf, tmp_path, "-layout").splitlines()]
    assert long_name in lines


def test_the_assessment_of_a_city_ranks_its_counties_in_a_table_of_their_own(tmp_path):
    offices = [
        OfficeRow(
            1, "石门市东城区营商环境建设局", "东城区", "县级", 12, Ratio(19, 20), Ratio(9, 10), 0, 0, 0
        ),
        OfficeRow(2, "长河县营商环境建设局", "长河县", "县级", 30, Ratio(10, 20), Ratio(0, 0), 2, 1, 0),
    ]
    data = assessment_data(ranking=ranking(3), offices=offices, office_tie_breaks=["按时办结率高者在前；"])
    pdf, warnings, _ = rendered(render_assessment_pdf, data)
    assert_chinese_fonts(pdf, warnings, tmp_path)
    text = plain(poppler("pdftotext", pdf, tmp_path))
    assert "一、石门市直承办单位排名" in text and "二、下级辖区排名" in text
    assert "1东城区石门市东城区营商环境建设局县级1295.0%（19/20）90.0%（9/10）0000" in text
    assert "2长河县长河县营商环境建设局县级3050.0%（10/20）—（0/0）2103" in text
    assert "五、下级辖区排名规则" in text and "下级辖区2个" in text
    alone = plain(poppler("pdftotext", render_assessment_pdf(assessment_data(ranking=ranking(3))), tmp_path))
    assert "下级辖区" not in alone  # a county: no such table


# --- fetching --------------------------------------------------------------------------------------


def test_nothing_is_fetched_from_outside(monkeypatch, tmp_path):
    opened = []
    real_open = urllib.request.OpenerDirector.open

    def spy(self, request, *args, **kwargs):
        opened.append(request if isinstance(request, str) else request.full_url)
        return real_open(self, request, *args, **kwargs)

    monkeypatch.setattr(urllib.request.OpenerDirector, "open", spy)
    item = TypicalItem("外链", "某单位", '<img src="http://example.com/track.png">')
    _, warnings, _ = rendered(render_bulletin_pdf, bulletin_data(exemplary=[item], ranking=ranking(3)))
    _, warnings2, _ = rendered(render_assessment_pdf, assessment_data(ranking=ranking(3)))
    allowed = ("data:", "file:///usr/share/fonts/", "file:///usr/local/share/fonts/")  # the Fandol faces
    assert not [url for url in opened if not url.startswith(allowed)], opened
    assert not [m for m in warnings + warnings2 if "FetchRefused" in m or NOTDEF.search(m)]


def test_png_preview_renders(bulletin_pdf, tmp_path):
    """pdftoppm can rasterise every page (catches a broken SVG or font subset)."""
    (tmp_path / "b.pdf").write_bytes(bulletin_pdf[0])
    subprocess.run(
        ["pdftoppm", "-png", "-r", "30", str(tmp_path / "b.pdf"), str(tmp_path / "p")],
        check=True,
        timeout=120,
    )
    assert len(list(tmp_path.glob("p-*.png"))) == pages(bulletin_pdf[0], tmp_path)


def test_a_rate_change_is_the_difference_of_the_rates_as_printed():
    from reports.bulletin import point_change

    # 82.1% against 86.1%: the reader subtracts the printed figures and gets 4.0, not 4.1
    assert point_change(0.8214, 0.8606) == "下降4.0个百分点"
    assert point_change(0.95, 0.9) == "上升5.0个百分点"
    assert point_change(0.90049, 0.9) == "持平" and point_change(None, 0.9) == "—"
