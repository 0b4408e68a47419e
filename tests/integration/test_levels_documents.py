"""Per-level documents and per-level assessment (issue 15): each office (province, city, county)
numbers its notices in its own series and issues them in its own name, on its own calendar; its
bulletin covers the cases of its jurisdiction and of those under it; it ranks its own departments,
and a city its counties' offices (the province its cities); drill-down and downloads follow the
scope."""

from __future__ import annotations

import re
import subprocess
from datetime import timedelta

import pytest

from app.demo import actor_for
from app.errors import Invalid, NotAllowed
from app.services import assessment as kpi
from app.services import cases as svc
from app.services import notices as notice_services
from app.services import reports as report_services
from app.services import sweep
from app.services.actor import Actor
from app.supervision import NoticeCause
from app.workflow import Action, Role, Status
from models import CalendarDay, GeneratedReport, Jurisdiction, Notice
from reports import archive, builders
from tests import factories
from tests.conftest import at, login
from tests.factories import case_in

NOW = at("2026-10-12 10:00")  # a Monday after the National Day holidays
# An interview's arrangements (the meeting lies after every test's clock).
MEETING = {"meeting_at": "2027-01-05 09:30", "place": "政务服务中心三楼会议室", "attendees": "主要负责人"}
OCTOBER = kpi.Period.month(2026, 10)
REGION = {
    "QY": "清源省",
    "SM": "清源省/石门市",
    "CH": "清源省/石门市/长河县",
    "DC": "清源省/石门市/东城区",
    "BL": "清源省/北岭市",
    "XS": "清源省/北岭市/西山县",
}
# Each office's cases lie with a department of its government other than its own bureau (an
# office never addresses a notice to itself: see test_an_office_never_addresses_a_notice_to_itself).
LEAD = {"QY": "P01", "SM": "C11", "CH": "X102", "DC": "X111", "BL": "C21", "XS": "X202"}


@pytest.fixture
def places(session) -> dict[str, Jurisdiction]:
    return {j.code: j for j in session.query(Jurisdiction)}


@pytest.fixture
def offices(session, actors, monkeypatch):
    """Each office's staff by role, as ``case_in`` expects them (its clerk files, its dispatcher
    dispatches, its supervisor rates), with the demo handlers; for departments without one
    (东城区's X111, P01, C21, X202) a stand-in acts."""
    from models import Department

    handlers = dict(actors)
    for code in ("X111", "P01", "C21", "X202"):  # departments without a demo handler
        department = session.query(Department).filter_by(code=code).one()
        monkeypatch.setitem(factories.HANDLER_OF, code, f"{code.lower()}_handler")
        handlers[f"{code.lower()}_handler"] = Actor(None, "经办人", frozenset({Role.HANDLER}), department.id)
    found = {"QY": handlers}
    for code in ("SM", "CH", "DC", "BL", "XS"):
        found[code] = {
            **handlers,
            **{
                role: actor_for(session, f"{code.lower()}_{role}")
                for role in ("clerk", "dispatcher", "supervisor", "leader")
            },
        }
    return found


def case_of(session, offices, cats, depts, code, status, *, now=NOW, lead=None, **extra):
    """A case of jurisdiction ``code`` driven by its own office to ``status`` (led by ``lead``,
    else by the office's usual department)."""
    return case_in(
        session,
        offices[code],
        cats,
        depts,
        status,
        now=now,
        region=REGION[code],
        lead=lead or LEAD[code],
        **extra,
    )


def pdf_text(data: bytes, *options: str) -> str:
    return subprocess.run(
        ["pdftotext", *options, "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode()


# --- notices: numbered per office, in its name, on its calendar ------------------------------------


def test_two_offices_number_their_notices_independently(session, offices, cats, depts, places):
    for code in ("SM", "CH", "CH", "QY"):
        case_of(session, offices, cats, depts, code, Status.DISPATCHED)
    assert sweep.run_sweep(session, NOW + timedelta(hours=3))["unsigned"] == 4  # none signed in 2 hours
    numbers = {n.number: n.jurisdiction_id for n in session.query(Notice)}
    assert numbers == {
        "石营商督〔2026〕1号": places["SM"].id,
        "长营商督〔2026〕1号": places["CH"].id,
        "长营商督〔2026〕2号": places["CH"].id,
        "清营商督〔2026〕1号": places["QY"].id,
    }


def test_an_office_never_addresses_a_notice_to_itself(session, offices, cats, depts, places):
    """A case that lies with the office's own bureau (石门市营商环境建设局 is department C10) is
    supervised by the office above; the province's own bureau (P00) gets no letter from itself."""
    city = case_of(session, offices, cats, depts, "SM", Status.DISPATCHED, lead="C10")
    province = case_of(session, offices, cats, depts, "QY", Status.DISPATCHED, lead="P00")
    assert depts["C10"].name == places["SM"].authority and depts["P00"].name == places["QY"].authority
    sweep.run_sweep(session, NOW + timedelta(hours=3))
    [notice] = session.query(Notice).all()
    assert notice.cases == [city] and notice.department_id == depts["C10"].id
    assert notice.jurisdiction_id == places["QY"].id and notice.document["issuer"] == places["QY"].authority
    assert notice.document["addressee"] != notice.document["issuer"]
    assert not [n for n in session.query(Notice) if province in n.cases]
    # nor does a supervisor summon its own bureau: the city's list of departments leaves C10 out
    offered = notice_services.interview_departments(session, offices["SM"]["supervisor"])
    assert depts["C10"].id not in offered and depts["C11"].id in offered


def test_a_supervisors_notice_is_issued_by_their_own_office_within_its_scope(session, offices, cats, depts):
    county_case = case_of(session, offices, cats, depts, "CH", Status.HANDLING)
    notice = notice_services.issue_interview(
        session,
        actor=offices["SM"]["supervisor"],
        now=NOW,
        department_id=depts["X102"].id,
        case_ids=[county_case.id],
        details="多次超期，约谈主要负责人。",
        **MEETING,
    )
    assert notice.number == "石营商督〔2026〕1号" and notice.jurisdiction.code == "SM"
    # A county office summons its own departments, never its city's.
    with pytest.raises(Invalid):
        notice_services.issue_interview(
            session,
            actor=offices["CH"]["supervisor"],
            now=NOW,
            department_id=depts["C10"].id,
            case_ids=[],
            details="约谈",
            **MEETING,
        )


def test_a_notice_the_sweep_raises_is_issued_by_the_office_of_the_case(session, offices, cats, depts):
    """A province department leading a county case is reminded by the county's office: the case
    is the county's to supervise."""
    case_of(session, offices, cats, depts, "CH", Status.DISPATCHED)
    sweep.run_sweep(session, NOW + timedelta(hours=3))
    [notice] = session.query(Notice).all()
    assert notice.jurisdiction.code == "CH" and notice.number.startswith("长营商督〔2026〕")


def test_the_reply_deadline_follows_the_issuing_offices_calendar(session, offices, cats, depts, places):
    """长河县 keeps a regional holiday on the Wednesday: its notice's five working days end one
    day later than the city's notice issued at the same moment."""
    session.add(
        CalendarDay(day=at("2026-10-14 10:00").date(), kind="holiday", name="县庆", jurisdiction=places["CH"])
    )
    session.flush()
    county = case_of(session, offices, cats, depts, "CH", Status.HANDLING)
    city = case_of(session, offices, cats, depts, "SM", Status.HANDLING)
    issued = {
        code: notice_services.raise_notice(
            session,
            cause=NoticeCause.OVERDUE,
            subject=f"calendar:{code}",
            department_id=case.lead_department_id,
            cases=[case],
            details="测试",
            now=NOW,
        )
        for code, case in (("CH", county), ("SM", city))
    }
    assert issued["CH"].jurisdiction.code == "CH" and issued["SM"].jurisdiction.code == "SM"
    assert issued["CH"].reply_due_at - issued["SM"].reply_due_at == timedelta(days=1)


def test_a_notice_pdf_names_the_issuing_office_on_one_masthead_line(app, session, offices, cats, depts):
    case_of(session, offices, cats, depts, "DC", Status.DISPATCHED)
    sweep.run_sweep(session, NOW + timedelta(hours=3))
    [notice] = session.query(Notice).all()
    session.commit()
    client = app.test_client()
    login(client, "dc_supervisor")
    response = client.get(f"/notices/act/{notice.id}/pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    authority = "石门市东城区营商环境建设局"  # the longest demo office name
    lines = [re.sub(r"\s", "", line) for line in pdf_text(response.data, "-layout").splitlines()]
    assert authority in lines  # the masthead holds the whole name on one line
    text = pdf_text(response.data)
    assert f"报{authority}复核" not in text  # (a reminder letter: no re-check paragraph)
    assert "东营商督〔2026〕1号" in text and "督办室" not in text
    assert text.count(authority) == 2  # the masthead and the signature
    page = client.get(f"/notices/show/{notice.id}").get_data(as_text=True)
    assert authority in page


def test_a_c_grade_assignment_letter_is_issued_by_the_case_office(session, offices, cats, depts):
    from reports.notice import render_notice_pdf

    case = case_of(session, offices, cats, depts, "CH", Status.DISPATCHED, case_type="report", grade="c")
    [letter] = session.query(Notice).filter_by(kind="assignment").all()
    assert letter.cases == [case] and letter.number == "长营商督〔2026〕1号"
    text = pdf_text(render_notice_pdf(letter.document))
    assert "报长河县营商环境建设局复核" in re.sub(r"\s", "", text)


def test_the_notice_list_shows_the_notices_of_the_scope(app, session, offices, cats, depts):
    county = case_of(session, offices, cats, depts, "CH", Status.DISPATCHED)
    city = case_of(session, offices, cats, depts, "SM", Status.DISPATCHED)
    case_of(session, offices, cats, depts, "BL", Status.DISPATCHED)
    sweep.run_sweep(session, NOW + timedelta(hours=3))
    from_province = notice_services.issue_interview(  # the province to a county department
        session,
        actor=offices["QY"]["supervisor"],
        now=NOW + timedelta(hours=4),
        department_id=depts["X102"].id,
        case_ids=[county.id],
        details="约谈",
        **MEETING,
    )
    by = {n.jurisdiction.code if n.id != from_province.id else "QY→X102": n for n in session.query(Notice)}
    session.commit()

    def listed(username):
        client = app.test_client()
        login(client, username)
        page = client.get("/notices/list/?psize_NoticeView=100").get_data(as_text=True)
        return {code for code, n in by.items() if n.number in page}

    assert listed("ch_supervisor") == {"CH", "QY→X102"}  # its own, and one addressed to its department
    assert listed("sm_supervisor") == {"SM", "CH", "QY→X102"}
    assert listed("supervisor") == {"SM", "CH", "BL", "QY→X102"}
    assert listed("handler") == {"CH", "QY→X102"}  # X102's handler: the notices addressed to it
    client = app.test_client()
    login(client, "ch_supervisor")
    assert client.get(f"/notices/show/{by['SM'].id}").status_code == 404
    assert client.get(f"/notices/act/{by['SM'].id}/pdf").status_code == 404
    assert city.id  # (the city's case had the city's notice)


def test_only_the_issuing_office_or_one_above_closes_a_notice(session, offices, cats, depts, actors):
    county = case_of(session, offices, cats, depts, "CH", Status.HANDLING)
    notice = notice_services.issue_interview(
        session,
        actor=offices["SM"]["supervisor"],
        now=NOW,
        department_id=depts["X102"].id,
        case_ids=[county.id],
        details="约谈",
        **MEETING,
    )
    notice_services.answer_notice(session, notice.id, actor=actors["handler"], now=NOW, answer="已整改")
    with pytest.raises(NotAllowed):  # the county sees it (its department) but did not issue it
        notice_services.close_notice(session, notice.id, actor=offices["CH"]["supervisor"], now=NOW)
    notice_services.close_notice(session, notice.id, actor=actors["supervisor"], now=NOW)  # the province
    assert notice.state == "closed"


# --- bulletins per office -------------------------------------------------------------------------


def october_cases(session, offices, cats, depts) -> dict:
    return {code: case_of(session, offices, cats, depts, code, Status.CLOSED) for code in REGION}


def test_a_county_bulletin_covers_its_cases_and_a_city_its_counties_too(
    session, offices, cats, depts, places
):
    october_cases(session, offices, cats, depts)

    def filed(code):
        data = builders.bulletin_data(session, OCTOBER, [], NOW.date(), places[code])
        return data.figures.filed, data.figures.closed, data.issuer, data.area

    assert filed("CH") == (1, 1, "长河县营商环境建设局", "长河县")
    assert filed("SM") == (3, 3, "石门市营商环境建设局", "石门市（含所辖县区）")
    assert filed("QY") == (6, 6, "清源省营商环境建设局", "全省")


def test_a_bulletin_lists_the_notices_of_its_offices(session, offices, cats, depts, places):
    for code in ("CH", "SM", "BL"):
        case_of(session, offices, cats, depts, code, Status.DISPATCHED)
    sweep.run_sweep(session, NOW + timedelta(hours=3))
    listed = {
        code: [
            n.number for n in builders.bulletin_data(session, OCTOBER, [], NOW.date(), places[code]).notices
        ]
        for code in ("CH", "SM", "QY")
    }
    assert listed["CH"] == ["长营商督〔2026〕1号"]
    assert sorted(listed["SM"]) == ["石营商督〔2026〕1号", "长营商督〔2026〕1号"]
    assert len(listed["QY"]) == 3


def generate(session, kind, actor, jurisdiction_id=None):
    report = report_services.request_report(
        session,
        actor=actor,
        now=at("2026-11-01 09:00"),
        kind=kind,
        period="2026-10",
        jurisdiction_id=jurisdiction_id,
    )
    session.commit()
    archive.start(session, report.id)  # no queue in tests: generated right away, as the job does
    session.expire_all()
    return session.get(GeneratedReport, report.id)


def test_a_leaders_report_is_their_offices_and_issued_in_its_name(app, session, offices, cats, depts, places):
    october_cases(session, offices, cats, depts)
    session.commit()
    county = generate(session, "bulletin", offices["CH"]["leader"])
    city = generate(session, "bulletin", offices["SM"]["leader"])
    assert (county.jurisdiction_id, city.jurisdiction_id) == (places["CH"].id, places["SM"].id)
    text = pdf_text(report_services.report_file(county, "pdf").read_bytes())
    flat = re.sub(r"\s", "", text)
    assert (
        "长河县营商环境建设局" in flat and "督办室" not in flat and "营商环境投诉举报平台督办室" not in flat
    )
    assert "2026年10月，长河县共登记投诉举报1件" in flat
    city_text = re.sub(r"\s", "", pdf_text(report_services.report_file(city, "pdf").read_bytes()))
    assert "2026年10月，石门市（含所辖县区）共登记投诉举报3件" in city_text
    # A city leader may issue a report for one of its counties; a county leader not for its city.
    assert (
        generate(session, "bulletin", offices["SM"]["leader"], places["DC"].id).jurisdiction_id
        == places["DC"].id
    )
    with pytest.raises(Invalid):
        report_services.request_report(
            session,
            actor=offices["CH"]["leader"],
            now=NOW,
            kind="bulletin",
            period="2026-10",
            jurisdiction_id=places["SM"].id,
        )


def test_a_county_leader_cannot_open_the_citys_report(app, session, offices):
    city = generate(session, "assessment", offices["SM"]["leader"])
    county = generate(session, "assessment", offices["CH"]["leader"])
    client = app.test_client()
    login(client, "ch_leader")
    for fmt in ("pdf", "csv", "xlsx"):
        assert client.get(f"/reports/act/download/{city.id}/{fmt}").status_code == 404
    assert client.get(f"/reports/act/download/{county.id}/pdf").status_code == 200
    listing = client.get("/reports/list/").get_data(as_text=True)
    assert f"/reports/act/download/{county.id}/pdf" in listing
    assert f"/reports/act/download/{city.id}/pdf" not in listing
    assert client.get(f"/reports/show/{city.id}").status_code == 404
    login(client, "sm_leader")  # the city reads its county's report
    assert client.get(f"/reports/act/download/{county.id}/pdf").status_code == 200


def test_only_a_leader_of_the_issuing_office_publishes_and_the_public_page_names_it(app, session, offices):
    county = generate(session, "bulletin", offices["CH"]["leader"])
    with pytest.raises(NotAllowed):  # the city does not publish in its county's name
        report_services.publish(session, county.id, actor=offices["SM"]["leader"])
    report_services.publish(session, county.id, actor=offices["CH"]["leader"])
    city = generate(session, "bulletin", offices["SM"]["leader"])
    report_services.publish(session, city.id, actor=offices["SM"]["leader"])
    session.commit()
    page = app.test_client().get("/bulletins/").get_data(as_text=True)
    assert "长河县营商环境建设局" in page and "石门市营商环境建设局" in page
    assert f"/bulletins/{county.id}.pdf" in page and f"/bulletins/{city.id}.pdf" in page


# --- assessment per level ----------------------------------------------------------------------------


def finish(session, office, case, handler, *, replied_at, rating):
    """Reply to a case being handled at ``replied_at``; the office's revisit call rates it."""
    svc.perform(session, case.id, Action.REPLY, actor=handler, now=replied_at, reply="已办结")
    svc.perform(
        session,
        case.id,
        Action.EVALUATE,
        actor=office["supervisor"],
        now=replied_at + timedelta(minutes=5),
        rating=rating,
        source="revisit_call",
        method="phone",
        reason="没解决" if rating == "unsatisfied" else None,
    )


@pytest.fixture
def city_with_known_outcomes(session, offices, cats, depts, actors):
    """October in 石门市: 长河县 finished one case on time (satisfied) and one late (unsatisfied,
    after its own reminder letter); 东城区 one on time (satisfied); the city one of its own. The
    city summoned 长河县's department X102 twice (an interview names only cases the department
    was sent): about each of the two cases, at two times."""
    on_time = case_of(session, offices, cats, depts, "CH", Status.EVALUATED)
    late = case_of(session, offices, cats, depts, "CH", Status.HANDLING)
    due = late.lead_assignment.due_at
    assert OCTOBER.contains(due)
    assert sweep.run_sweep(session, due + timedelta(minutes=1))["overdue"] == 1
    finish(
        session,
        offices["CH"],
        late,
        actors["handler"],
        replied_at=due + timedelta(hours=2),
        rating="unsatisfied",
    )
    case_of(session, offices, cats, depts, "DC", Status.EVALUATED)
    case_of(session, offices, cats, depts, "SM", Status.EVALUATED)
    for case, meeting_at in ((on_time, "2026-12-05 09:30"), (late, "2026-12-06 09:30")):
        notice_services.issue_interview(
            session,
            actor=offices["SM"]["supervisor"],
            now=NOW + timedelta(hours=6),
            department_id=depts["X102"].id,
            case_ids=[case.id],
            details="约谈",
            **{**MEETING, "meeting_at": meeting_at},
        )
    return on_time, late


def test_a_city_ranks_its_counties_offices_with_their_figures(session, places, city_with_known_outcomes):
    ranked = kpi.lower_office_ranking(session, OCTOBER, places["SM"])
    rows = {
        r.kpi.code: (
            r.rank,
            r.kpi.handled,
            r.kpi.on_time,
            r.kpi.satisfaction,
            r.kpi.reminders,
            r.kpi.interviews,
        )
        for r in ranked
    }
    assert rows == {
        "DC": (1, 1, kpi.Rate(1, 1), kpi.Rate(1, 1), 0, 0),
        # its reminder and the city's two interviews of X102 about its cases
        "CH": (2, 2, kpi.Rate(1, 2), kpi.Rate(1, 2), 1, 2),
    }
    assert [r.kpi.office for r in ranked] == ["石门市东城区营商环境建设局", "长河县营商环境建设局"]
    assert kpi.lower_office_ranking(session, OCTOBER, places["CH"]) == []  # a county has no lower office


def test_the_province_ranks_its_cities_over_their_counties_cases(session, places, city_with_known_outcomes):
    rows = {r.kpi.code: r for r in kpi.lower_office_ranking(session, OCTOBER, places["QY"])}
    assert set(rows) == {"SM", "BL"}
    city = rows["SM"].kpi
    assert (city.handled, city.on_time, city.satisfaction) == (4, kpi.Rate(3, 4), kpi.Rate(3, 4))
    assert city.supervision == 3  # every notice to a department of the city or its counties, once
    assert rows["BL"].kpi.handled == 0 and rows["SM"].rank == 2  # no case: ranked on the pooled rates


def test_each_office_ranks_its_own_departments(session, places, depts, city_with_known_outcomes):
    def ranked(code):
        own = kpi.office_department_ids(session, places[code])
        return [k.code for k in kpi.department_kpis(session, OCTOBER, own)]

    assert ranked("SM") == ["C11"]
    assert ranked("CH") == ["X102"]
    assert ranked("DC") == ["X111"]
    assert ranked("QY") == []  # no province department led a case


def test_the_assessment_report_has_the_lower_offices_table(app, session, offices, city_with_known_outcomes):
    from io import BytesIO

    from openpyxl import load_workbook

    from models import Setting

    session.get(Setting, "assessment_min_cases").value = 1  # a handful of cases: every office ranked
    session.commit()
    report = generate(session, "assessment", offices["SM"]["leader"])
    assert report.state == "done", report.error
    text = re.sub(r"\s", "", pdf_text(report_services.report_file(report, "pdf").read_bytes()))
    assert "石门市营商环境建设局" in text and "督办室" not in text
    assert "一、石门市直承办单位排名" in text and "二、下级辖区排名" in text
    assert "1东城区石门市东城区营商环境建设局县级1100.0%（1/1）100.0%（1/1）0000" in text
    assert "2长河县长河县营商环境建设局县级250.0%（1/2）50.0%（1/2）" in text
    workbook = load_workbook(BytesIO(report_services.report_file(report, "xlsx").read_bytes()))
    sheet = workbook["下级辖区排名"]
    assert [c.value for c in sheet[2]][:5] == [1, "DC", "东城区", "石门市东城区营商环境建设局", 1]
    csv_text = report_services.report_file(report, "csv").read_text(encoding="utf-8-sig")
    assert "石门市市场监督管理局" in csv_text and "长河县行政审批局" not in csv_text  # its own departments


def test_drill_down_follows_the_scope(app, session, places, depts, city_with_known_outcomes):
    from models import Setting

    session.get(Setting, "assessment_min_cases").value = 1  # a handful of cases: every office ranked
    session.commit()
    client = app.test_client()
    login(client, "sm_leader")
    page = client.get("/dashboard/?period=2026-10").get_data(as_text=True)
    assert 'id="dashboard-offices"' in page and "长河县营商环境建设局" in page
    assert f"jurisdiction={places['CH'].id}" in page  # each county opens its own ranking
    county = client.get(f"/dashboard/?period=2026-10&jurisdiction={places['CH'].id}")
    assert county.status_code == 200 and "长河县行政审批局" in county.get_data(as_text=True)
    data = client.get("/dashboard/data?period=2026-10").json
    assert [row["office"] for row in data["offices"]] == [
        "石门市东城区营商环境建设局",
        "长河县营商环境建设局",
    ]
    login(client, "ch_leader")
    assert client.get(f"/dashboard/?period=2026-10&jurisdiction={places['SM'].id}").status_code == 404
    assert client.get(f"/dashboard/data?period=2026-10&jurisdiction={places['SM'].id}").status_code == 404
    assert client.get(f"/dashboard/?period=2026-10&jurisdiction={places['DC'].id}").status_code == 404
    drill = f"/dashboard/drill?period=2026-10&department={depts['C11'].id}&metric=handled"
    assert client.get(drill).status_code == 404  # the city's department is not the county's to open
