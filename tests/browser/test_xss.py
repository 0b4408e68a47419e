"""The stored-XSS attack of issue 13 replayed in a real browser against the real platform.

A handler of the accused department writes script canaries into the texts a supervisor reads
(own name, notes, the message and the reply); the administrator into a department's and a
category's names; a reporter into a public report (title, text, name, company, window,
official, a file's name); the clerk declines another report with a canary note its reporter
reads. Then the supervisor opens the case (and reveals who filed it), the lists, a list whose
filter comes from the address, the dashboard, inbox and outbox; the reporter opens the tracking
page. On every page no canary ran (``window.__xss`` stays undefined), none made an element
(no ``#xssb``, no ``img[onerror]``), and the canary is on the page as text.

The browser ignores the Content-Security-Policy here (``bypass_csp``): the policy is a second
line; escaping must hold on its own.
"""

from __future__ import annotations

import os
import re
import sqlite3
from pathlib import Path

import pytest

from tests.browser.test_journey import CHROMIUM, PASSWORD, Journey, browser, chinese_to_int, server
from tests.integration.test_xss_canary import canary_text

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium"),
]
__all__ = ["browser", "server"]  # the platform started by run.py, and Chromium (test_journey)

STATE = """() => ({
    ran: typeof window.__xss === 'undefined' ? null : String(window.__xss),
    elements: document.querySelectorAll('#xssb, img[onerror], [onerror*="__xss"]').length,
    shown: (document.body.innerText.match(/zq\\d+z/g) || []).length,
})"""


class Attack:
    """Canaries by field, and browser contexts that ignore the CSP."""

    def __init__(self, browser, base: str, tmp: Path):
        self.browser, self.base, self.tmp = browser, base, tmp
        self.fields: dict[str, str] = {}
        self.checked: list[str] = []

    def canary(self, name: str, size: int = 100, quotes: bool = True) -> str:
        marker = f"zq{len(self.fields):02d}z"
        self.fields[marker] = name
        text = canary_text(marker, size)
        return text if quotes else text.replace('"', "")

    def page(self):
        ctx = self.browser.new_context(
            base_url=self.base, locale="zh-CN", bypass_csp=True, viewport={"width": 1280, "height": 900}
        )
        ctx.set_default_timeout(20_000)
        return ctx.new_page()

    def login(self, username: str):
        page = self.page()
        page.goto("/login/")
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.locator("form [type=submit]").first.click()
        page.wait_for_load_state()
        assert "/login" not in page.url, f"{username} could not log in"
        return page

    def check(self, page, where: str, *, shows: bool = True) -> None:
        """No canary ran or made an element on this page; with ``shows``, one is there as text."""
        page.wait_for_load_state("load")
        page.wait_for_timeout(300)  # an <img onerror> fires once the image has failed
        state = page.evaluate(STATE)
        assert state["ran"] is None, f"{where}: a canary ran ({self.fields.get(state['ran'], state['ran'])})"
        assert state["elements"] == 0, f"{where}: a canary made an element"
        if shows:
            assert state["shown"], f"{where}: no canary on the page ({page.url})"
        self.checked.append(where)

    def act(self, page, case_id: int, action: str, *, selects=None, texts=None) -> None:
        page.goto(f"/cases/act/{case_id}/{action}")
        self.check(page, f"{action} form", shows=False)
        for selector, value in (selects or {}).items():
            Journey.set_select(page, selector, value)
        for selector, value in (texts or {}).items():
            page.fill(selector, value)
        page.locator("#action-form button[type=submit]").click()
        page.wait_for_url(re.compile(rf"/cases/show/{case_id}\b"))
        assert not page.locator(".alert-danger").count(), page.locator(".alert-danger").inner_text()
        self.check(page, f"case page after {action}")


def _answer(page) -> str:
    question = page.locator("label[for=challenge_answer]").inner_text()
    match = re.search(r"([零一二三四五六七八九十]+)加([零一二三四五六七八九十]+)等于多少", question)
    return str(chinese_to_int(match[1]) + chinese_to_int(match[2]))


def _file(attack: Attack, page, texts: dict, *, case_type: str, files=(), anonymous=False) -> tuple[str, str]:
    page.goto("/report/")
    attack.check(page, "filing form", shows=False)
    Journey.set_select(page, "#case_type", case_type)
    category = page.evaluate(
        "() => [...document.querySelectorAll('#category_id option')].find(o => o.value).value"
    )
    Journey.set_select(page, "#category_id", category)
    for selector, value in texts.items():
        page.fill(selector, value)
    if anonymous:
        page.check("#anonymous")
    if files:
        page.set_input_files("#attachments", [str(f) for f in files])
    page.fill("#challenge_answer", _answer(page))
    page.locator("#report-form button[type=submit]").click()
    page.wait_for_load_state()
    refused = page.locator(".alert-danger, .help-block.text-danger")
    assert "/report/receipt" in page.url, [refused.nth(i).inner_text() for i in range(refused.count())]
    attack.check(page, "receipt", shows=False)
    return page.locator("#receipt-number").inner_text().strip(), page.locator(
        "#receipt-code"
    ).inner_text().strip()


def _track(attack: Attack, page, number: str, code: str, where: str) -> None:
    page.goto("/track/")
    page.fill("#number", number)
    page.fill("#code", code)
    page.locator("form:has(#number) button[type=submit]").click()
    page.wait_for_url(re.compile(r"/track/case"))
    attack.check(page, where)


def test_no_canary_runs_in_the_supervisors_or_the_reporters_browser(server, browser, tmp_path):
    from PIL import Image

    a = Attack(browser, server["base"], tmp_path)

    def case_id(number: str) -> int:
        with sqlite3.connect(server["db"]) as conn:
            return conn.execute("SELECT id FROM cases WHERE number = ?", (number,)).fetchone()[0]

    # The handler of the accused department names itself with a canary.
    handler = a.login("handler")
    handler.goto("/userinfoeditview/form")
    handler.fill("#first_name", a.canary("handler's first name", 64))
    handler.fill("#last_name", a.canary("handler's last name", 57))
    handler.locator("form:has(#first_name) [type=submit]").click()
    handler.wait_for_load_state()
    a.check(handler, "handler's own details")

    # The administrator renames the department and a category.
    admin = a.login("admin")
    with sqlite3.connect(server["db"]) as conn:
        department = conn.execute("SELECT id FROM department WHERE code = 'X102'").fetchone()[0]
        category = conn.execute("SELECT id FROM category WHERE code = 'INT01'").fetchone()[0]
    for url, field, name in (
        (f"/departmentview/edit/{department}", "#name", "department name"),
        (f"/categoryview/edit/{category}", "#name", "category name"),
    ):
        admin.goto(url)
        admin.fill(field, a.canary(name))
        admin.locator("form:has(#name) [type=submit]").first.click()
        admin.wait_for_load_state()
        assert not admin.locator(".alert-danger").count(), url
        a.check(admin, f"after editing the {name}", shows=False)
    admin.goto("/departmentview/list/")
    a.check(admin, "department list")

    # A reporter files a named report; another an anonymous one, which the clerk declines.
    photo = tmp_path / (a.canary("file name", 57, quotes=False) + ".png")
    Image.new("RGB", (40, 30), "white").save(photo, "PNG")
    reporter = a.page()
    number, code = _file(
        a,
        reporter,
        {
            "#title": a.canary("title", 200),
            "#content": a.canary("text", 5000),
            "#location": a.canary("window or office", 200),
            "#concerned_official": a.canary("official"),
            "#reporter_name": a.canary("reporter name", 64),
            "#reporter_phone": "13912345679",
            "#reporter_company": a.canary("company"),
        },
        case_type="report",
        files=[photo],
    )
    declined_reporter = a.page()
    declined_number, declined_code = _file(
        a,
        declined_reporter,
        {"#title": "咨询个人所得税申报", "#content": "想了解个人所得税的申报方式。"},
        case_type="complaint",
        anonymous=True,
    )
    report, declined = case_id(number), case_id(declined_number)

    clerk = a.login("clerk")
    a.act(
        clerk,
        declined,
        "decline",
        selects={"#decline_reason": "out_of_scope"},
        texts={"#note": a.canary("decline note")},
    )
    a.act(clerk, report, "classify", selects={"#grade": "c"}, texts={"#note": a.canary("classify note")})
    a.act(clerk, report, "accept", texts={"#note": a.canary("accept note")})
    dispatcher = a.login("dispatcher")
    dispatcher.goto(f"/cases/act/{report}/dispatch")
    lead = Journey.option_value(dispatcher, "#lead_department_id", "zq")  # the renamed department
    a.act(
        dispatcher,
        report,
        "dispatch",
        selects={"#lead_department_id": lead},
        texts={"#note": a.canary("dispatch note")},
    )
    supervisor_form = dispatcher.locator("#case-supervisor-form")
    if supervisor_form.count():  # the dispatcher names the supervisor who investigates
        value = Journey.option_value(dispatcher, "#case-supervisor-form select", "孙")
        Journey.set_select(dispatcher, "#case-supervisor-form select", value)
        supervisor_form.locator("button[type=submit]").click()
        dispatcher.wait_for_load_state()
        a.check(dispatcher, "case page after naming the supervisor")

    # The handler signs, notes, writes to the reporter and replies, all with canaries.
    a.act(handler, report, "sign", texts={"#note": a.canary("sign note")})
    a.act(handler, report, "add_note", texts={"#note": a.canary("internal note")})
    handler.fill("textarea[name=body]", a.canary("message to the reporter", 5000))
    handler.locator("form:has(textarea[name=body]) button[type=submit]").click()
    handler.wait_for_load_state()
    a.check(handler, "case page after the message")
    # The clock stops and restarts; the report is verified (found true) and its rectification planned.
    a.act(handler, report, "pause_clock", texts={"#reason": a.canary("pause reason")})
    a.act(handler, report, "resume_clock", texts={"#note": a.canary("resume note")})
    a.act(
        handler,
        report,
        "record_finding",
        selects={"#result": "true"},
        texts={"#facts": a.canary("finding facts", 5000), "#summary": a.canary("finding summary", 5000)},
    )
    a.act(
        handler,
        report,
        "plan_rectification",
        texts={
            "#measures": a.canary("rectification measures"),
            "#responsible": a.canary("rectification responsible", 100),
            "#days": "5",
        },
    )
    a.act(
        handler, report, "reply", texts={"#reply": a.canary("reply", 5000), "#note": a.canary("reply note")}
    )
    a.act(
        handler, report, "report_rectification", texts={"#completion": a.canary("rectification completion")}
    )

    # The reporters read their tracking pages; one answers and rates with canaries.
    _track(a, reporter, number, code, "tracking page")
    reporter.fill("#body", a.canary("reporter's message", 5000))
    reporter.locator("form:has(#body) button[type=submit]").click()
    reporter.wait_for_url(re.compile(r"/track/case"))
    a.check(reporter, "tracking page after the message")
    reporter.check("input[name=rating][value=unsatisfied]")
    reporter.fill("#reason", a.canary("rating reason"))
    reporter.locator("form:has(input[name=rating]) button[type=submit]").click()
    reporter.wait_for_url(re.compile(r"/track/case"))
    a.check(reporter, "tracking page after the rating")
    _track(a, declined_reporter, declined_number, declined_code, "tracking page of the declined report")

    # The supervisor reads everything: the case, who filed it, the lists, the dashboard.
    supervisor = a.login("supervisor")
    supervisor.goto(f"/cases/show/{report}")
    a.check(supervisor, "supervisor's case page")
    reveal = supervisor.locator("form[action$='/identity'] button[type=submit]")
    assert reveal.count() == 1, "the supervisor of the case may see who filed it"
    reveal.click()
    supervisor.wait_for_load_state()
    a.check(supervisor, "identity revealed")
    assert "zq" in supervisor.locator("#case-reporter").inner_text()
    for url, shows in (
        ("/cases/list/", True),
        ("/cases/supervision/list/", True),
        (f"/cases/list/?_flt_0_title={a.canary('filter in the address')}", False),
        ("/dashboard/", False),
        ("/inbox/list/", False),
        ("/outbox/list/", False),
        (f"/cases/show/{declined}", True),
    ):
        supervisor.goto(url)
        a.check(supervisor, f"supervisor at {url[:40]}", shows=shows)
    assert len(a.checked) > 25
