"""Counts and flags of inspections (入企扫码): repeated inspections, 多头检查, the same officer
again, inspections the enterprise did not confirm, the share of joint inspections, 无事不扰
enterprises; within the reader's jurisdictions; the screens and the exports."""

from __future__ import annotations

import csv
import io
import itertools
import os
from datetime import timedelta

import pytest

from app.inspections import BasisKind, InspectionResult, InspectionState
from app.services import inspection_stats as stats
from models import EnforcementOfficer, Enterprise, Inspection, InspectionItem
from tests.conftest import at, login
from tests.factories import office_of

NOW = at("2026-11-30 10:00")
START, END = at("2026-11-01 00:00"), at("2026-12-01 00:00")
RULES = {
    "inspection_repeat_times": 3,
    "inspection_repeat_days": 30,
    "inspection_multi_units": 2,
    "inspection_officer_repeat_times": 2,
    "inspection_confirm_days": 3,
}
_serial = itertools.count(1)


def enterprise(session, name: str, **extra) -> Enterprise:
    n = next(_serial)
    found = Enterprise(
        name=name,
        credit_code=f"91130500MA{n:08d}",
        token=f"tok{n:019d}",
        confirm_token=f"cfm{n:019d}",
        created_at=START,
        **extra,
    )
    session.add(found)
    session.flush()
    return found


def officer(session, depts, name: str, unit: str = "X102") -> EnforcementOfficer:
    found = EnforcementOfficer(
        name=name, certificate_no=f"ZF{next(_serial):08d}", department_id=depts[unit].id
    )
    session.add(found)
    session.flush()
    return found


@pytest.fixture
def basis(session):
    found = InspectionItem(kind=BasisKind.BASIS, code=f"B{next(_serial)}", name="双随机抽查任务")
    session.add(found)
    session.flush()
    return found


@pytest.fixture
def staff(session, depts):
    """Two officers of 长河县's unit X102 (an inspection needs two present)."""
    return [officer(session, depts, "李执法"), officer(session, depts, "王执法")]


def inspect(
    session, depts, basis, firm, when, *, unit="X102", officers=(), joint=False, **extra
) -> Inspection:
    """An inspection of ``firm`` begun at ``when`` (finished an hour later unless told)."""
    state = extra.pop("state", InspectionState.FINISHED)
    found = Inspection(
        number=f"JC{next(_serial):014d}",
        enterprise_id=firm.id,
        department_id=depts[unit].id,
        jurisdiction_id=depts[unit].jurisdiction_id,
        basis_id=basis.id,
        joint=joint,
        state=state,
        started_at=when,
        ended_at=None if state == InspectionState.IN_PROGRESS else when + timedelta(hours=1),
        result=None if state == InspectionState.IN_PROGRESS else InspectionResult.NO_PROBLEM,
        created_at=when,
        **extra,
    )
    found.officers = list(officers)
    session.add(found)
    session.flush()
    return found


def times(*days: int) -> list:
    return [at(f"2026-11-{d:02d} 09:00") for d in days]


def flagged(session, scope=None) -> stats.Flags:
    return stats.flags(session, START, END, RULES, NOW, scope)


def test_an_enterprise_inspected_four_times_in_thirty_days_is_flagged_at_three(session, depts, basis):
    four, three = enterprise(session, "四次公司"), enterprise(session, "三次公司")
    for when in times(2, 9, 16, 23):
        inspect(session, depts, basis, four, when)
    for when in times(2, 9, 16):
        inspect(session, depts, basis, three, when)
    repeated = flagged(session).repeated
    assert [(f.enterprise, f.count) for f in repeated] == [("四次公司", 4)]


def test_inspections_spread_beyond_the_window_are_not_flagged(session, depts, basis):
    firm = enterprise(session, "分散公司")
    for when in [
        at("2026-09-01 09:00"),
        at("2026-10-05 09:00"),
        at("2026-11-08 09:00"),
        at("2026-12-12 09:00"),
    ]:
        inspect(session, depts, basis, firm, when)
    found = stats.flags(session, at("2026-09-01 00:00"), at("2027-01-01 00:00"), RULES, NOW)
    assert found.repeated == []


def test_three_units_within_thirty_days_are_multiple_inspections_at_two(session, depts, basis):
    many, two = enterprise(session, "多头公司"), enterprise(session, "两家公司")
    for unit, day in (("X102", 3), ("X103", 10), ("X111", 20)):
        inspect(session, depts, basis, many, times(day)[0], unit=unit)
    for unit, day in (("X102", 3), ("X103", 10), ("X102", 20)):
        inspect(session, depts, basis, two, times(day)[0], unit=unit)
    assert [(f.enterprise, f.count) for f in flagged(session).multi_units] == [("多头公司", 3)]


def test_three_units_spread_beyond_the_window_are_not_multiple_inspections(session, depts, basis):
    firm = enterprise(session, "远隔公司")
    for unit, when in (("X102", "2026-09-01"), ("X103", "2026-10-05"), ("X111", "2026-11-08")):
        inspect(session, depts, basis, firm, at(f"{when} 09:00"), unit=unit)
    assert stats.flags(session, at("2026-09-01 00:00"), END, RULES, NOW).multi_units == []


def test_the_same_officer_twice_at_one_enterprise_is_flagged(session, depts, basis, staff):
    again, once = enterprise(session, "复查公司"), enterprise(session, "一次公司")
    other = officer(session, depts, "赵执法")
    inspect(session, depts, basis, again, times(4)[0], officers=staff)
    inspect(session, depts, basis, again, times(18)[0], officers=[staff[0], other])
    inspect(session, depts, basis, once, times(4)[0], officers=staff)
    found = flagged(session).same_officer
    assert [(f.officer, f.enterprise, f.count) for f in found] == [("李执法", "复查公司", 2)]


def test_a_finished_inspection_unconfirmed_after_three_days_is_flagged_a_confirmed_one_not(
    session, depts, basis
):
    firm = enterprise(session, "确认公司")
    late = inspect(session, depts, basis, firm, NOW - timedelta(days=5))
    inspect(
        session,
        depts,
        basis,
        firm,
        NOW - timedelta(days=5),
        state=InspectionState.CONFIRMED,
        confirmed_at=NOW,
    )
    inspect(session, depts, basis, firm, NOW - timedelta(days=1))  # still has time
    inspect(session, depts, basis, firm, NOW - timedelta(days=6), state=InspectionState.IN_PROGRESS)
    found = flagged(session)
    assert [line.id for line in found.unconfirmed] == [late.id]
    assert found.unconfirmed_total == 1


def test_the_share_of_joint_inspections_counts_in_the_period(session, depts, basis):
    firm = enterprise(session, "联合公司")
    for day, joint in ((2, True), (5, False), (8, False), (11, True)):
        inspect(session, depts, basis, firm, times(day)[0], joint=joint)
    inspect(session, depts, basis, firm, at("2026-10-20 09:00"), joint=True)  # before the period
    found = flagged(session)
    assert (found.inspections, found.joint, found.joint_share) == (4, 2, 50.0)
    [row] = stats.counts_by(session, "enterprise", START, END)
    assert (row.inspections, row.joint, row.joint_share, row.unconfirmed, row.distinct) == (4, 2, 50.0, 4, 1)


def test_an_inspection_of_a_no_disturb_enterprise_shows_its_reason(session, depts, basis):
    quiet, other = enterprise(session, "免扰公司", no_disturb=True), enterprise(session, "普通公司")
    inspect(session, depts, basis, quiet, times(6)[0], no_disturb_reason="群众举报存在消防隐患")
    inspect(session, depts, basis, other, times(6)[0])
    found = flagged(session)
    assert [(line.enterprise, line.reason) for line in found.no_disturb] == [
        ("免扰公司", "群众举报存在消防隐患")
    ]


def test_counts_by_officer_and_by_unit(session, depts, basis, staff):
    a, b = enterprise(session, "甲公司"), enterprise(session, "乙公司")
    inspect(session, depts, basis, a, times(2)[0], officers=staff, state=InspectionState.CONFIRMED)
    inspect(session, depts, basis, b, times(3)[0], officers=staff[:1], joint=True)
    inspect(session, depts, basis, b, times(4)[0], unit="X103")
    by_officer = {r.name: r for r in stats.counts_by(session, "officer", START, END)}
    assert (by_officer["李执法"].inspections, by_officer["李执法"].distinct) == (2, 2)
    assert (by_officer["王执法"].inspections, by_officer["王执法"].confirmed) == (1, 1)
    by_unit = {r.id: r for r in stats.counts_by(session, "unit", START, END)}
    assert (by_unit[depts["X102"].id].inspections, by_unit[depts["X102"].id].joint) == (2, 1)
    assert by_unit[depts["X103"].id].inspections == 1
    drilled = stats.drill(session, "officer", staff[0].id, START, END)
    assert {i.enterprise_id for i in drilled} == {a.id, b.id}


def test_a_county_reader_does_not_see_another_countys_inspections(session, actors, depts, basis):
    ours, theirs = enterprise(session, "长河企业"), enterprise(session, "西山企业")
    for day in (2, 9, 16, 23):
        inspect(session, depts, basis, ours, times(day)[0], unit="X102")
        inspect(session, depts, basis, theirs, times(day)[0], unit="X203")
    county = office_of(session, actors, "ch")["supervisor"]
    scope = stats.scope_for(county)
    assert scope is not None
    assert [r.name for r in stats.counts_by(session, "enterprise", START, END, scope)] == ["长河企业"]
    assert [f.enterprise for f in flagged(session, scope).repeated] == ["长河企业"]
    assert {f.enterprise for f in flagged(session).repeated} == {"长河企业", "西山企业"}
    assert stats.scope_for(actors["supervisor"]) is None  # the province reads every county


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def committed(session, depts, basis, staff):
    """A few inspections of the current data written for the screens (rolled back after)."""
    firm = enterprise(session, '=HYPERLINK("http://x")公司')
    plain = enterprise(session, "石门机械厂", no_disturb=True)
    made = [
        inspect(session, depts, basis, firm, when, officers=staff, joint=i % 2 == 0)
        for i, when in enumerate(times(2, 9, 16, 23))
    ]
    made.append(inspect(session, depts, basis, plain, times(5)[0], unit="X203", no_disturb_reason="上级交办"))
    session.commit()
    return made


def test_export_csv_and_xlsx_have_chinese_headers_and_no_formulas(app, client, committed):
    login(client, "supervisor")
    response = client.get("/inspections/stats/export/enterprise.csv?from=2026-11-01&to=2026-11-30")
    assert response.status_code == 200
    assert response.data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["企业名称", "检查次数", "联合检查次数"]
    firm = next(r for r in rows[1:] if "HYPERLINK" in r[0])
    assert firm[0].startswith("'=") and firm[1:4] == ["4", "2", "50.0"]

    from openpyxl import load_workbook

    response = client.get("/inspections/stats/export/unit.xlsx?from=2026-11-01&to=2026-11-30")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert sheet["A1"].value == "检查单位" and sheet["B1"].value == "检查次数"
    assert {sheet.cell(row, 2).value for row in range(2, sheet.max_row + 1)} == {4, 1}
    assert client.get("/inspections/stats/export/enterprise.pdf").status_code == 404


def test_safe_cell_quotes_every_formula_start():
    assert [stats.safe_cell(v) for v in ("=1+1", "+1", "-1", "@SUM(A1)", "公司", 3)] == [
        "'=1+1",
        "'+1",
        "'-1",
        "'@SUM(A1)",
        "公司",
        3,
    ]


@pytest.mark.parametrize("username", ["supervisor", "leader"])
def test_the_screens_open_for_the_supervisor_and_the_leader(app, client, committed, username):
    login(client, username)
    page = client.get("/inspections/stats/?from=2026-11-01&to=2026-11-30")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="flag-repeated"' in html and "上级交办" in html
    firm = committed[0]
    drill = client.get(
        f"/inspections/stats/drill/enterprise/{firm.enterprise_id}?from=2026-11-01&to=2026-11-30"
    )
    assert drill.status_code == 200 and committed[0].number in drill.get_data(as_text=True)
    assert client.get("/inspections/list/").status_code == 200
    show = client.get(f"/inspections/show/{committed[-1].id}")
    assert show.status_code == 200 and "上级交办" in show.get_data(as_text=True)
    assert "李执法" in client.get(f"/inspections/show/{firm.id}").get_data(as_text=True)


def test_a_county_supervisor_cannot_open_another_countys_inspection(app, client, committed):
    login(client, "ch_supervisor")
    assert client.get(f"/inspections/show/{committed[-1].id}").status_code == 404  # 西山县's
    assert client.get(f"/inspections/show/{committed[0].id}").status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        "month=2026-13",
        "from=2026-02-30&to=x",
        "from=2026-11-30&to=2026-11-01",
        "month=",
        "month=0001-01",
        "month=9999-12",
        "from=0001-01-01&to=0001-01-31",
    ],
)
def test_bad_dates_fall_back_to_the_current_month(app, client, committed, query):
    login(client, "supervisor")
    firm = committed[0].enterprise_id
    for url in (
        "/inspections/stats/",
        f"/inspections/stats/drill/enterprise/{firm}",
        "/inspections/stats/export/enterprise.csv",
    ):
        assert client.get(f"{url}?{query}").status_code == 200, url


def test_a_handler_is_kept_out(app, client, committed):
    login(client, "handler")
    for url in ("/inspections/stats/", "/inspections/list/", "/inspections/stats/export/unit.csv"):
        response = client.get(url)
        assert response.status_code in (302, 403), url


@pytest.mark.skipif(not os.path.exists("/usr/bin/chromium"), reason="needs Debian's chromium")
def test_the_stats_screen_in_headless_chromium(app, client, committed, tmp_path):
    """Serve the browser's requests through the test client and keep a screenshot."""
    from playwright.sync_api import sync_playwright

    login(client, "supervisor")

    def through_client(route):
        url = route.request.url.replace("http://localhost", "")
        answer = client.get(url)
        route.fulfill(status=answer.status_code, headers=dict(answer.headers), body=answer.data)

    shot = os.environ.get("INSPECTION_STATS_SHOT") or str(tmp_path / "stats.png")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.route("http://localhost/**", through_client)
        page.goto("http://localhost/inspections/stats/?from=2026-11-01&to=2026-11-30")
        assert page.locator("#flag-repeated tr.warning").count() == 1
        assert page.locator("#counts-enterprise tr").count() == 3
        page.screenshot(path=shot, full_page=True)
        browser.close()
    assert os.path.getsize(shot) > 10_000
