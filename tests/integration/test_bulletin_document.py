"""The bulletin as a document an office publishes: its place in the office's series (2026年第11期),
one definition of every figure with tables that add up to it, comparisons with the month before
and the year before, hot issues, the typical cases' handling department, the 问题分析 and
下一步工作要求 the system drafts and the supervisor's office edits (escaped on the screen,
printed literally), the 版记 with 主送/抄送, Chinese dates and legible charts."""

from __future__ import annotations

import base64
import re
import subprocess
from datetime import timedelta

import pytest

from app.errors import Invalid, NotAllowed
from app.services import assessment as kpi
from app.services import reports as report_services
from app.services import typical as typical_services
from app.workflow import Status
from models import Case, GeneratedReport
from reports import archive, builders
from reports import bulletin as doc
from tests.conftest import at, login
from tests.factories import case_in

OCTOBER = kpi.Period.month(2026, 10)
NOVEMBER = kpi.Period.month(2026, 11)


def pdf_text(report) -> str:
    data = report_services.report_file(report, "pdf").read_bytes()
    return subprocess.run(
        ["pdftotext", "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode()


def plain(text: str) -> str:
    return re.sub(r"\s", "", text)


DECEMBER_1ST = at("2026-12-01 09:00")


def request(session, actor, period, when=DECEMBER_1ST, kind="bulletin"):
    report = report_services.request_report(session, actor=actor, now=when, kind=kind, period=period)
    session.commit()
    archive.start(session, report.id)  # no queue in tests: generated right away, as the job does
    session.commit()
    session.expire_all()
    return session.get(GeneratedReport, report.id)


# --- the issue number ------------------------------------------------------------------------------


def test_each_office_numbers_its_bulletins_per_series_and_year_and_a_new_draft_keeps_its_number(
    session, actors
):
    supervisor = actors["supervisor"]
    october = request(session, supervisor, "2026-10", at("2026-11-01 09:00"))
    november = request(session, supervisor, "2026-11")
    again = request(session, supervisor, "2026-11", at("2026-12-02 09:00"))
    annual = request(session, supervisor, "2026", at("2027-01-05 09:00"))
    december = request(session, supervisor, "2026-12", at("2027-01-02 09:00"))
    january = request(session, supervisor, "2027-01", at("2027-02-01 09:00"))
    assessment = request(session, supervisor, "2026-11", kind="assessment")
    assert [r.issue for r in (october, november, again, december, january)] == [
        "2026年第1期",
        "2026年第2期",
        "2026年第2期",  # the same office, kind and period: the same issue
        "2026年第3期",  # requested in January, numbered in the year of its period
        "2027年第1期",
    ]
    assert annual.issue == "2026年第1期" and assessment.issue == "2026年第1期"  # series of their own
    assert "2026年第2期" in pdf_text(again)


# --- the figures -----------------------------------------------------------------------------------


@pytest.fixture
def october_cases(session, actors, cats, depts):
    """October: two cases closed (one replied late), one being handled, one declined, one
    not accepted yet; September: one closed."""
    found = {
        "closed": case_in(session, actors, cats, depts, Status.CLOSED, now=at("2026-10-12 10:00")),
        "late": case_in(session, actors, cats, depts, Status.CLOSED, now=at("2026-10-13 10:00")),
        "handling": case_in(session, actors, cats, depts, Status.HANDLING, now=at("2026-10-14 10:00")),
        "declined": case_in(session, actors, cats, depts, Status.DECLINED, now=at("2026-10-15 10:00")),
        "submitted": case_in(session, actors, cats, depts, Status.SUBMITTED, now=at("2026-10-16 10:00")),
        "september": case_in(session, actors, cats, depts, Status.CLOSED, now=at("2026-09-10 10:00")),
    }
    late = found["late"]
    late.due_at = late.replied_at - timedelta(hours=1)  # its reply came an hour after its deadline
    session.commit()
    return found


def test_every_figure_has_one_definition_and_every_table_adds_up_to_the_cases_filed(session, october_cases):
    f = builders.figures(session, OCTOBER)
    cases = session.query(Case).all()
    filed = [c for c in cases if OCTOBER.contains(c.created_at)]
    closed = [c for c in cases if c.status == Status.CLOSED and c.closed_at and OCTOBER.contains(c.closed_at)]
    assert (f.filed, f.closed) == (len(filed), len(closed)) == (5, 2)
    assert f.accepted == len([c for c in cases if c.accepted_at and OCTOBER.contains(c.accepted_at)])
    # on time and satisfied are parts of the closed cases, the same population
    assert (f.on_time, f.closed) == (1, 2) and f.on_time_rate == 0.5
    assert f.rated == len([c for c in closed if c.rating]) and f.satisfied <= f.rated
    for table in (f.by_type, f.by_channel, f.by_category, f.by_level):
        assert sum(c.value for c in table) == f.filed, table
    levels = {c.label: c.value for c in f.by_level}
    assert levels["尚未分办"] == 1 and levels["不予受理"] == 1


def test_the_bulletin_compares_with_the_month_before_and_the_year_before(session, october_cases):
    f = builders.figures(session, OCTOBER)
    assert (f.previous.filed, f.previous.closed) == (1, 1)
    assert f.year_ago.filed == 0
    assert doc.change(f.filed, f.previous.filed) == "上升400.0%"
    assert doc.change(f.filed, f.year_ago.filed) == "—"  # no base
    assert doc.point_change(f.on_time_rate, f.previous.on_time_rate) == "下降50.0个百分点"
    assert [h.label for h in f.hot_categories] and f.hot_categories[0].previous is not None


def test_the_printed_bulletin_shows_the_figures_their_parts_the_definitions_and_the_imprint(
    session, actors, october_cases
):
    report = request(session, actors["supervisor"], "2026-10", at("2026-11-01 09:00"))
    assert report.state == "done", report.error
    text = plain(pdf_text(report))
    assert "办结2件，其中按时办结1件，按时办结率50.0%" in text
    assert "50.0%" in text and "1/2" in text  # the rate with its numerator and denominator
    assert "口径说明" in text and "尚未分办" in text
    assert "上升400.0%" in text  # 登记 against September
    assert "主送：各市营商环境主管部门，省直各有关部门。" in text
    assert "抄送：清源省纪委监委。" in text
    imprint = text[text.index("主送：") :]
    assert "清源省营商环境建设局" in imprint and "2026年11月1日印发" in imprint
    assert "六、问题分析" in text and "七、下一步工作要求" in text
    assert "按时办结率50.0%" in plain(report.analysis)  # the draft, kept for the edit screen


def test_a_typical_case_prints_the_department_that_handled_it_not_the_one_it_was_about(
    session, actors, cats, depts
):
    case = case_in(session, actors, cats, depts, Status.CLOSED, now=at("2026-10-12 10:00"), lead="X102")
    case.concerned_department_id = depts["X103"].id
    t = typical_services.mark_typical(
        session, case.id, actor=actors["supervisor"], now=at("2026-10-20 10:00"), kind="exemplary"
    )
    typical_services.edit_summary(
        session,
        t.id,
        actor=actors["supervisor"],
        now=at("2026-10-20 10:00"),
        summary="承办单位当日办结。",
        submit=True,
    )
    typical_services.decide(session, t.id, actor=actors["leader"], now=at("2026-10-20 11:00"), approve=True)
    [item] = builders.bulletin_data(session, OCTOBER, [], at("2026-11-01 09:00").date()).exemplary
    assert item.department == depts["X102"].name != depts["X103"].name


# --- editing and publishing ------------------------------------------------------------------------

TYPED = '<script>alert("x")</script> 第一段：X部门按时办结率偏低\n\n第二段 & <b>加粗</b>'


def test_the_supervisors_office_edits_the_texts_escaped_on_screen_and_printed_literally(app, session, actors):
    report = request(session, actors["supervisor"], "2026-10", at("2026-11-01 09:00"))
    client = app.test_client()
    login(client, "supervisor")
    page = client.get(f"/reports/act/edit/{report.id}").get_data(as_text=True)
    assert report.analysis and report.analysis in page  # the draft the figures proposed
    answer = client.post(
        f"/reports/act/edit/{report.id}",
        data={
            "analysis": TYPED,
            "requirements": "（一）抓落实。",
            "recipients": "甲局\n乙局",
            "copy_to": "丙委",
        },
    )
    assert answer.status_code == 302
    session.expire_all()
    report = session.get(GeneratedReport, report.id)
    assert report.state == "done" and report.edited_by_name and report.edited_at
    page = client.get(f"/reports/act/edit/{report.id}").get_data(as_text=True)
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page
    assert "<b>加粗</b>" not in page
    text = pdf_text(report)
    assert '<script>alert("x")</script>' in text and "第二段 & <b>加粗</b>" in text
    lines = [line.strip() for line in text.splitlines()]
    assert any(line.startswith("第二段") for line in lines)  # each typed paragraph a paragraph
    assert "主送：甲局，乙局。" in plain(text) and "抄送：丙委。" in plain(text)


def test_only_the_issuing_supervisors_office_edits_and_never_a_published_bulletin(app, session, actors):
    report = request(session, actors["supervisor"], "2026-10", at("2026-11-01 09:00"))
    texts = {"analysis": "甲", "requirements": "乙", "recipients": "丙", "copy_to": "丁"}
    for who in ("leader", "handler", "clerk"):
        with pytest.raises(NotAllowed):
            report_services.edit_bulletin(
                session, report.id, actor=actors[who], now=at("2026-11-02 09:00"), **texts
            )
    report_services.publish(session, report.id, actor=actors["leader"])
    session.commit()
    with pytest.raises(Invalid):
        report_services.edit_bulletin(
            session, report.id, actor=actors["supervisor"], now=at("2026-11-02 09:00"), **texts
        )
    client = app.test_client()
    login(client, "leader")
    assert client.get(f"/reports/act/edit/{report.id}").status_code == 403


def test_an_edit_made_while_the_pdf_is_made_is_never_lost_nor_published_stale(session, actors, monkeypatch):
    report = request(session, actors["supervisor"], "2026-10", at("2026-11-01 09:00"))
    texts = {"requirements": "乙", "recipients": "丙", "copy_to": "丁"}

    def edit(analysis, minute):
        report_services.edit_bulletin(
            session,
            report.id,
            actor=actors["supervisor"],
            now=at(f"2026-11-02 09:{minute:02}"),
            analysis=analysis,
            **texts,
        )

    edit("第一稿分析", 0)
    build = builders.build_files

    def second_edit_arrives_while_rendering(session_, report_):
        files = build(session_, report_)
        edit("第二稿分析", 1)  # the supervisor saves again before the first PDF is done
        return files

    monkeypatch.setattr(builders, "build_files", second_edit_arrives_while_rendering)
    archive.generate(session, report.id)  # the first edit's job
    monkeypatch.setattr(builders, "build_files", build)
    session.expire_all()
    assert session.get(GeneratedReport, report.id).state == "queued"  # not done with the old text
    with pytest.raises(Invalid):
        report_services.publish(session, report.id, actor=actors["leader"])
    archive.generate(session, report.id)  # the second edit's job
    session.expire_all()
    done = session.get(GeneratedReport, report.id)
    assert done.state == "done" and "第二稿分析" in plain(pdf_text(done))
    assert "第一稿分析" not in plain(pdf_text(done))
    report_services.publish(session, report.id, actor=actors["leader"])


# --- layout rules ----------------------------------------------------------------------------------


def test_chart_text_prints_at_eight_points_at_least():
    trend = doc._charts(
        doc.Figures(
            filed=1,
            accepted=1,
            closed=1,
            on_time=1,
            rated=1,
            satisfied=1,
            trend=[doc.TrendPoint(f"{m}月", m, m) for m in range(1, 13)],
            by_type=[doc.Count("投诉", 3)],
        )
    )
    for key, width_px, print_mm in (("trend", 900, 156), ("by_type", 640, 125)):
        svg = base64.b64decode(trend[key].split(",", 1)[1]).decode()
        sizes = [float(s) for s in re.findall(r"font-size:\s*([\d.]+)px", svg)]
        assert sizes
        smallest_pt = min(sizes) * print_mm / width_px / (25.4 / 72)
        assert smallest_pt >= 8, (key, smallest_pt)


def test_the_annual_bulletin_has_twelve_months_and_sums_the_notices_by_department_and_kind(
    session, actors, cats, depts
):
    from app.services import sweep

    case_in(session, actors, cats, depts, Status.DISPATCHED, now=at("2026-10-12 10:00"))
    sweep.run_sweep(session, at("2026-10-12 14:00"))  # not signed for: a reminder
    session.commit()
    data = builders.bulletin_data(session, kpi.Period.year(2026), [], at("2027-01-05 09:00").date())
    assert [p.label for p in data.figures.trend] == [f"{m}月" for m in range(1, 13)]
    assert data.trend_range == "2026年1月至12月"
    assert data.notices == [] and data.notice_summary.total >= 1
    assert sum(total for _, _, total in data.notice_summary.rows) == data.notice_summary.total
    monthly = builders.bulletin_data(session, OCTOBER, [], at("2026-11-01 09:00").date())
    assert len(monthly.figures.trend) == 6 and monthly.notices
    assert monthly.notices[0].issued_on.year == 2026  # a date, printed as 2026年10月12日


def test_notice_numbers_never_wrap_and_dates_print_in_chinese(tmp_path):
    from datetime import date

    data = doc.BulletinData(
        title="营商环境投诉举报办理情况通报",
        issue="2026年第11期",
        period_label="2026年10月",
        issued_on="2026年11月1日",
        figures=doc.Figures(filed=0, accepted=0, closed=0, on_time=0, rated=0, satisfied=0),
        exemplary=[],
        warning=[],
        notices=[
            doc.NoticeItem("石门东营商督〔2026〕1234号", "提醒敦促函", "某局", "超期", date(2026, 8, 4))
        ],
        ranking=[],
        issuer="石门市营商环境建设局",
        area="石门市",
    )
    pdf = doc.render_bulletin_pdf(data)
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    assert any("石门东营商督〔2026〕1234号" in line and "2026年8月4日" in line for line in text.splitlines())
    assert "2026-08-04" not in text


def test_a_leader_publishes_from_the_archive_once_the_pdf_is_ready(app, session, actors):
    report = request(session, actors["supervisor"], "2026-10", at("2026-11-01 09:00"))
    client = app.test_client()
    login(client, "supervisor")
    assert f"/reports/act/publish/{report.id}" not in client.get("/reports/list/").get_data(as_text=True)
    login(client, "leader")
    page = client.get("/reports/list/").get_data(as_text=True)
    assert f'action="/reports/act/publish/{report.id}"' in page and "情况通报" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
    client.post(f"/reports/act/publish/{report.id}", data={"csrf_token": token})
    session.expire_all()
    assert session.get(GeneratedReport, report.id).published
    assert f"/reports/act/publish/{report.id}" not in client.get("/reports/list/").get_data(as_text=True)
