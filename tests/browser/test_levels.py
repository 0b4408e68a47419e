"""The jurisdiction screens in a real browser against a real server (issue 15).

The province's administrator adds a county office (南湖县 under 北岭市) — after the form has
refused a document number prefix another office uses; 长河县's clerk files a case from the
county's region; 石门市's supervisor finds it in the case list with its jurisdiction and opens
it; 东城区's clerk, a sibling county, neither lists nor opens it. A full-page screenshot of every
step is saved under var/screenshots/levels/ (NN-step.png).
"""

from __future__ import annotations

import os
import re
import sqlite3

import pytest

from tests.browser.test_journey import (  # the journey's server, browser and page helpers
    CHROMIUM,
    PASSWORD,
    ROOT,
    Journey,
    browser,  # noqa: F401 (a fixture)
    no_page_is_broken_by_the_policy,  # noqa: F401 (an autouse fixture)
    server,  # noqa: F401 (a fixture)
)

SHOTS = ROOT / "var" / "screenshots" / "levels"
CH_REGION = "清源省/石门市/长河县"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium"),
]


def login(j: Journey, username: str):
    """Log in; an office account that needs a second factor sets up its authenticator the
    first time, as a person would: the key shown on the page gives the code (pyotp)."""
    import pyotp

    ctx = j.context()
    page = ctx.new_page()
    page.goto("/login/")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.locator("form [type=submit]").first.click()
    page.wait_for_load_state()
    if "/login/code/" in page.url:
        secret = page.locator("#totp-secret").inner_text().strip()
        page.fill("#code", pyotp.TOTP(secret).now())
        page.locator("form[name=second-factor] [type=submit]").click()
        page.wait_for_load_state()
    assert "/login" not in page.url, f"{username} could not log in"
    return page


def submit_model_form(page) -> None:
    page.locator("#model_form button[type=submit]").click()
    page.wait_for_load_state()


def test_offices_at_each_level_see_what_is_theirs(server, browser):  # noqa: F811
    from playwright.sync_api import expect

    j = Journey(browser, server["base"], shots=SHOTS)

    # (1) The province's administrator looks at the tree and adds 南湖县 under 北岭市.
    admin = login(j, "admin")
    admin.goto("/jurisdictionview/list/")
    expect(admin.locator("body")).to_contain_text("石营商督")
    j.shot(admin, "admin-jurisdictions")
    admin.goto("/jurisdictionview/add")
    admin.fill("#code", "NH")
    admin.fill("#name", "南湖县")
    j.set_select(admin, "#level", "county")
    j.set_select(admin, "#parent", j.option_value(admin, "#parent", "北岭市"))
    j.set_select(admin, "#region", "清源省/北岭市")
    admin.fill("#new_place", "南湖县")
    admin.fill("#office_name", "南湖县营商环境建设局")
    admin.fill("#doc_prefix", "北营商督")  # 北岭市's prefix: refused on the form
    j.shot(admin, "admin-add-jurisdiction-form")
    submit_model_form(admin)
    expect(admin.locator("#model_form")).to_contain_text("北岭市")  # the message names the holder
    expect(admin.locator("#code")).to_have_value("NH")  # what was typed is kept
    j.shot(admin, "admin-duplicate-prefix-refused")
    admin.fill("#doc_prefix", "南营商督")
    submit_model_form(admin)
    expect(admin).to_have_url(re.compile(r"/jurisdictionview/list/"))
    expect(admin.locator("body")).to_contain_text("南湖县营商环境建设局")
    j.shot(admin, "admin-jurisdiction-added")
    with sqlite3.connect(server["db"]) as conn:
        region, path = conn.execute("SELECT region, path FROM jurisdiction WHERE code = 'NH'").fetchone()
    assert region == "清源省/北岭市/南湖县" and re.fullmatch(r"/\d+/\d+/\d+/", path)

    # (2) 长河县's clerk takes a call about the county and files it; the region is the county's.
    clerk = login(j, "ch_clerk")
    clerk.goto("/cases/new/")
    expect(clerk.locator("#region")).to_have_value(CH_REGION)
    regions = clerk.evaluate("() => [...document.querySelectorAll('#region option')].map(o => o.value)")
    assert regions and all(r.startswith(CH_REGION) for r in regions), regions
    j.set_select(clerk, "#channel", "phone_12345")
    j.set_select(clerk, "#case_type", "complaint")
    clerk.fill("#title", "浏览器测试：长河县施工许可审批超时")
    clerk.fill("#content", "申请人反映，长河县施工许可申请提交材料已满二十个工作日，仍未收到审批结果。")
    clerk.fill("#reporter_name", "王磊")
    clerk.fill("#reporter_phone", "13900001111")
    j.shot(clerk, "county-clerk-intake")
    clerk.locator("#action-form button[type=submit]").click()
    expect(clerk.locator("#receipt-number")).to_be_visible()
    number = clerk.locator("#receipt-number").inner_text().strip()
    j.shot(clerk, "county-clerk-receipt")
    with sqlite3.connect(server["db"]) as conn:
        case_id, office = conn.execute(
            "SELECT cases.id, jurisdiction.code FROM cases JOIN jurisdiction"
            " ON jurisdiction.id = cases.jurisdiction_id WHERE number = ?",
            (number,),
        ).fetchone()
    assert office == "CH"

    # (3) 石门市's supervisor oversees the county: the case is listed with its jurisdiction.
    city = login(j, "sm_supervisor")
    city.goto("/cases/list/?psize_CaseView=100")
    row = city.locator("tr", has_text=number)
    expect(row).to_contain_text("长河县")
    j.shot(city, "city-supervisor-case-list")
    city.goto(f"/cases/show/{case_id}")
    expect(city.locator("#case-jurisdiction")).to_contain_text("长河县营商环境建设局")
    j.shot(city, "city-supervisor-case-page")

    # (4) The province's supervisor reads a demo case that crossed levels: its history says
    # from which office to which (提级办理 / 上收 / 交办).
    with sqlite3.connect(server["db"]) as conn:
        moved = conn.execute(
            "SELECT case_id, data FROM case_event WHERE action IN ('refer_up', 'pull_up', 'send_down')"
            " ORDER BY id LIMIT 1"
        ).fetchone()
    if moved is not None:  # the demo data's escalated cases (app/demo.py)
        import json

        data = json.loads(moved[1])
        province = login(j, "supervisor")
        province.goto(f"/cases/show/{moved[0]}")
        expect(province.locator("#case-timeline .jurisdiction-move").first).to_have_text(
            f"{data['from_name']} → {data['to_name']}"
        )
        j.shot(province, "province-supervisor-cross-level-history")

    # (5) 东城区's clerk, a sibling county, does not see it.
    sibling = login(j, "dc_clerk")
    sibling.goto("/cases/list/?psize_CaseView=100")
    expect(sibling.locator("body")).not_to_contain_text(number)
    j.shot(sibling, "sibling-clerk-case-list")
    response = sibling.goto(f"/cases/show/{case_id}")
    assert response.status == 404
    j.shot(sibling, "sibling-clerk-case-refused")
