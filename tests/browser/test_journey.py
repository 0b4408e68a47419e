"""The whole journey of one anonymous report, in a real browser against a real server.

A headless Chromium (Debian's, driven by Playwright; no browser download) files a report on the
public form, then the clerk, dispatcher, handler, supervisor and leader work it through the staff
pages, and the reporter follows and rates it with the receipt. A full-page screenshot of every
step is saved under var/screenshots/journey/ (NN-step.png).
"""

from __future__ import annotations

import io
import os
import re
import signal
import socket
import sqlite3
import subprocess
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "var" / "screenshots" / "journey"
PASSWORD = "Demo@2026"
LEAD_DEPARTMENT = "长河县行政审批局"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium"),
]

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]

# Status labels as a person sees them (zh is the default locale).
SUBMITTED, ACCEPTED, DISPATCHED = "待受理", "已受理，待分办", "已分办，待签收"
HANDLING, REPLIED, UNSATISFIED = "办理中", "已答复，待评价", "不满意，待研判"
EVALUATED, CLOSED = "已评价，待办结", "已办结"
# The same statuses as the reporter sees them on the tracking page (never the staff's labels).
REPLIED_FOR_REPORTER, RATED_FOR_REPORTER = "已答复，请您评价", "已评价，督办部门正在研究后续办理"


def chinese_to_int(text: str) -> int:
    """零…九, 十, 十二, 二十, 二十七 → int."""
    digits = {c: i for i, c in enumerate("零一二三四五六七八九")}
    if "十" not in text:
        return digits[text]
    tens, _, ones = text.partition("十")
    return (digits[tens] if tens else 1) * 10 + (digits[ones] if ones else 0)


def test_chinese_to_int():
    assert [chinese_to_int(t) for t in ("零", "七", "十", "十二", "二十", "三十九")] == [0, 7, 10, 12, 20, 39]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The README's run command (`python run.py`: its private Redis, the demo data, gunicorn
    with 2 workers, the RQ worker and the cron scheduler) on a fresh SQLite database."""
    tmp = tmp_path_factory.mktemp("journey")
    db_file = tmp / "journey.db"
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{db_file}",
        "UPLOAD_DIR": str(tmp / "uploads"),
        "REPORT_DIR": str(tmp / "reports"),
        "PORT": str(port),
        "DEMO_CASES": "20",
        # the README's `make run`: demo mode, the only mode whose accounts have the published
        # demo password (outside it `flask ys demo` refuses; tests/integration/test_accounts.py
        # covers the second factor those accounts then skip)
        "YS_DEMO": "1",
    }
    for name in ("UPLOAD_DIR", "REPORT_DIR"):
        Path(env[name]).mkdir()
    env.pop("REDIS_URL", None)  # run.py starts a Redis of its own
    log = open(tmp / "run.log", "wb")  # noqa: SIM115 (closed at teardown)
    proc = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "python"), "run.py"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"run.py exited: {(tmp / 'run.log').read_text()[-3000:]}")
            try:
                urllib.request.urlopen(f"{base}/login/", timeout=5).read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        yield {"base": base, "db": db_file, "log": tmp / "run.log"}
    finally:
        proc.send_signal(signal.SIGTERM)  # run.py stops web, worker, cron and Redis together
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


# What the browser refused or failed to run on any page of a journey: a Content-Security-Policy
# violation (a script or style the policy blocks, e.g. one without the response's nonce) or an
# uncaught script error. The policy must hold without breaking a single screen.
BROKEN: list[str] = []


@pytest.fixture(autouse=True)
def no_page_is_broken_by_the_policy():
    BROKEN.clear()
    yield
    assert BROKEN == []


def watch_for_breakage(page) -> None:
    def on_console(message):
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            BROKEN.append(f"{page.url}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: BROKEN.append(f"{page.url}: {error}"))


class Journey:
    """Screenshots, numbered in order, and small helpers over the staff pages."""

    def __init__(self, browser, base: str, shots: Path = SHOTS):
        self.browser, self.base, self.n, self.shots = browser, base, 0, shots
        shots.mkdir(parents=True, exist_ok=True)
        for old in shots.glob("*.png"):
            old.unlink()

    def shot(self, page, step: str) -> None:
        self.n += 1
        page.screenshot(path=str(self.shots / f"{self.n:02d}-{step}.png"), full_page=True)

    def context(self):
        ctx = self.browser.new_context(
            base_url=self.base, locale="zh-CN", viewport={"width": 1280, "height": 900}, accept_downloads=True
        )
        ctx.set_default_timeout(20_000)
        ctx.on("page", watch_for_breakage)
        return ctx

    def login(self, username: str):
        ctx = self.context()
        page = ctx.new_page()
        page.goto("/login/")
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.locator("form [type=submit]").first.click()
        page.wait_for_load_state()
        assert "/login" not in page.url, f"{username} could not log in"
        return page

    @staticmethod
    def set_select(page, selector: str, value: str) -> None:
        """Set a (possibly Select2-wrapped, hidden) <select> and tell Select2 about it."""
        page.evaluate(
            """([sel, value]) => {
                const el = document.querySelector(sel);
                if (!el) throw new Error('no select ' + sel);
                el.value = value;
                if (el.value !== value) throw new Error('no option ' + value + ' in ' + sel);
                if (window.jQuery) window.jQuery(el).trigger('change');
                else el.dispatchEvent(new Event('change', {bubbles: true}));
            }""",
            [selector, value],
        )

    @staticmethod
    def option_value(page, selector: str, text: str) -> str:
        """The value of the first option of a select whose text contains ``text``."""
        value = page.evaluate(
            """([sel, text]) => {
                const o = [...document.querySelectorAll(sel + ' option')]
                    .find(o => o.textContent.includes(text) && o.value);
                return o ? o.value : null;
            }""",
            [selector, text],
        )
        assert value, f"no option with {text!r} in {selector}"
        return value

    def act(
        self, page, case_id: int, action: str, step: str, *, selects=None, texts=None, status: str
    ) -> None:
        """Open a case action form, fill it, submit, and check the case status after."""
        from playwright.sync_api import expect

        page.goto(f"/cases/act/{case_id}/{action}")
        expect(page.locator("#action-form")).to_be_visible()
        for selector, value in (selects or {}).items():
            self.set_select(page, selector, value)
        for selector, value in (texts or {}).items():
            page.fill(selector, value)
        self.shot(page, f"{step}-form")
        page.locator("#action-form button[type=submit]").click()
        page.wait_for_url(re.compile(rf"/cases/show/{case_id}\b"))
        expect(page.locator("#case-status")).to_have_text(status)
        self.shot(page, step)


def _jpeg(path: Path) -> Path:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (320, 240), (235, 235, 220))
    ImageDraw.Draw(image).rectangle((40, 40, 280, 200), outline=(180, 30, 30), width=6)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    path.write_bytes(buffer.getvalue())
    return path


def test_report_journey(server, browser, tmp_path):
    from playwright.sync_api import expect

    j = Journey(browser, server["base"])

    # (1) The reporter files an anonymous report with a photo.
    reporter_ctx = j.context()
    page = reporter_ctx.new_page()
    page.goto("/report/")
    expect(page.locator("#report-form")).to_be_visible()
    j.set_select(page, "#case_type", "report")
    category = page.evaluate(
        "() => [...document.querySelectorAll('#category_id option')].find(o => o.value).value"
    )
    j.set_select(page, "#category_id", category)
    page.fill("#title", "浏览器测试：审批窗口工作人员索要好处费")
    page.fill(
        "#content",
        "本月在长河县政务服务中心办理许可时，窗口工作人员暗示需要另交“加急费”，并拒绝出具任何收费依据。",
    )
    page.check("#anonymous")
    page.set_input_files("#attachments", str(_jpeg(tmp_path / "photo.jpg")))
    question = page.locator("label[for=challenge_answer]").inner_text()
    match = re.search(r"([零一二三四五六七八九十]+)加([零一二三四五六七八九十]+)等于多少", question)
    assert match, question
    page.fill("#challenge_answer", str(chinese_to_int(match[1]) + chinese_to_int(match[2])))
    j.shot(page, "report-form")
    page.locator("#report-form button[type=submit]").click()
    expect(page.locator("#receipt-number")).to_be_visible()
    number = page.locator("#receipt-number").inner_text().strip()
    code = page.locator("#receipt-code").inner_text().strip()
    assert number and code
    j.shot(page, "receipt")
    page.fill("#code", code)
    page.locator("form:has(#code) button[type=submit]").click()
    expect(page.locator("body")).to_contain_text(number)
    expect(page.locator("a.btn-primary[href*='/track/']")).to_be_visible()
    expect(page.locator("h2")).to_have_text("回执已保存")
    j.shot(page, "receipt-confirmed")

    with sqlite3.connect(server["db"]) as conn:
        case_id = conn.execute("SELECT id FROM cases WHERE number = ?", (number,)).fetchone()[0]

    # (2) The clerk finds it in the intake queue, classifies it (report, grade C), accepts it.
    clerk = j.login("clerk")
    clerk.goto("/cases/intake/list/")
    expect(clerk.locator(f"text={number}")).to_be_visible()
    j.shot(clerk, "clerk-intake-queue")
    clerk.goto(f"/cases/show/{case_id}")
    expect(clerk.locator("#case-status")).to_have_text(SUBMITTED)
    expect(clerk.locator("#case-files")).to_contain_text("photo.jpg")
    j.shot(clerk, "clerk-case")
    j.act(
        clerk,
        case_id,
        "classify",
        "clerk-classified",
        selects={"#case_type": "report", "#grade": "c"},
        texts={"#note": "举报类，线索具体，定为C级。"},
        status=SUBMITTED,
    )
    details = clerk.locator("#case-details")
    expect(details.locator("tr").first).to_contain_text("举报")  # status and case type row
    expect(details).to_contain_text("C类：一般性涉企问题")
    j.act(clerk, case_id, "accept", "clerk-accepted", texts={"#note": "属于受理范围。"}, status=ACCEPTED)

    # (3) The dispatcher sends it to 长河县行政审批局.
    dispatcher = j.login("dispatcher")
    dispatcher.goto(f"/cases/act/{case_id}/dispatch")
    lead = j.option_value(dispatcher, "#lead_department_id", LEAD_DEPARTMENT)
    j.act(
        dispatcher,
        case_id,
        "dispatch",
        "dispatcher-dispatched",
        selects={"#lead_department_id": lead},
        texts={"#note": "请长河县行政审批局核查办理。"},
        status=DISPATCHED,
    )
    expect(dispatcher.locator("#case-assignments")).to_contain_text(LEAD_DEPARTMENT)

    # (4) The handler of 长河县行政审批局 signs and replies.
    handler = j.login("handler")
    j.act(handler, case_id, "sign", "handler-signed", texts={"#note": "已签收。"}, status=HANDLING)
    # Verified (核查): found true, which opens a rectification the department plans.
    j.act(
        handler,
        case_id,
        "record_finding",
        "handler-finding",
        selects={"#result": "true"},
        texts={
            "#facts": "调阅收费台账：该窗口收取无依据的材料费3000元。",
            "#summary": "经核查，您反映的问题属实，已责令限期整改。",
        },
        status=HANDLING,
    )
    expect(handler.locator("body")).to_contain_text("调阅收费台账")
    j.act(
        handler,
        case_id,
        "plan_rectification",
        "handler-rectification-plan",
        texts={
            "#measures": "退还无依据收取的费用并公开收费清单。",
            "#responsible": "窗口负责人",
            "#days": "5",
        },
        status=HANDLING,
    )
    j.act(
        handler,
        case_id,
        "reply",
        "handler-replied",
        texts={
            "#reply": "经核查，该窗口已停止收取无依据费用，并对相关人员进行了批评教育。",
            "#note": "已答复。",
        },
        status=REPLIED,
    )

    # (5) The reporter follows the case and rates it 不满意.
    page.goto("/track/")
    page.fill("#number", number)
    page.fill("#code", code)
    j.shot(page, "track-form")
    page.locator("form:has(#number) button[type=submit]").click()
    expect(page.locator("#track-status")).to_have_text(REPLIED_FOR_REPORTER)
    expect(page.locator("#track-reply")).to_contain_text("停止收取")
    j.shot(page, "track-replied")
    page.check("input[name=rating][value=unsatisfied]")
    page.fill("#reason", "只是批评教育，多收的费用没有退还。")
    j.shot(page, "track-rate")
    page.locator("form:has(input[name=rating]) button[type=submit]").click()
    expect(page.locator("#track-status")).to_have_text(RATED_FOR_REPORTER)
    j.shot(page, "track-unsatisfied")

    # (6) The supervisor sends it back; the handler handles it again; revisit call; closed.
    supervisor = j.login("supervisor")
    supervisor.goto(f"/cases/show/{case_id}")
    expect(supervisor.locator("#case-status")).to_have_text(UNSATISFIED)
    j.act(
        supervisor,
        case_id,
        "rehandle",
        "supervisor-rehandle",
        texts={"#note": "举报人不满意：请核实并退还多收费用。"},
        status=DISPATCHED,
    )
    j.act(handler, case_id, "sign", "handler-signed-again", texts={"#note": "再次签收。"}, status=HANDLING)
    j.act(
        handler,
        case_id,
        "reply",
        "handler-replied-again",
        texts={"#reply": "已责令退还多收的费用，并对该工作人员作出处理。"},
        status=REPLIED,
    )
    # The rectification is reported done and re-checked (复核) before the case may close.
    j.act(
        handler,
        case_id,
        "report_rectification",
        "handler-rectified",
        texts={"#completion": "已退还3000元，收费清单已在窗口公示。"},
        status=REPLIED,
    )
    j.act(
        supervisor,
        case_id,
        "accept_rectification",
        "supervisor-rechecked",
        texts={"#note": "经复核，费用已退还，整改到位。"},
        status=REPLIED,
    )
    j.act(
        supervisor,
        case_id,
        "evaluate",
        "supervisor-evaluated",
        selects={"#rating": "satisfied", "#source": "revisit_call", "#method": "phone"},
        texts={"#reason": "电话回访：费用已退还，举报人表示满意。"},
        status=EVALUATED,
    )
    j.act(supervisor, case_id, "close", "supervisor-closed", texts={"#note": "办结。"}, status=CLOSED)
    expect(supervisor.locator("#case-details")).to_contain_text("回访 · 电话")

    page.goto("/track/case")
    expect(page.locator("#track-status")).to_have_text(CLOSED)
    j.shot(page, "track-closed")

    # (7) The leader generates this month's bulletin and downloads the PDF.
    leader = j.login("leader")
    leader.goto("/reports/act/request")
    leader.select_option("select[name=kind]", "bulletin")
    leader.fill("input[name=period]", datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m"))
    j.shot(leader, "leader-request-bulletin")
    leader.locator("form:has(input[name=period]) button[type=submit]").click()
    leader.wait_for_url(re.compile(r"/reports/list/"))
    pdf_link = leader.locator("a", has_text=re.compile(r"^PDF$")).first
    deadline = time.monotonic() + 120  # the worker renders it after the request's commit
    while not pdf_link.count() and time.monotonic() < deadline:
        time.sleep(2)
        leader.reload()
    expect(pdf_link).to_be_visible()
    j.shot(leader, "leader-reports")
    with leader.expect_download() as download_info:
        pdf_link.click()
    download = download_info.value
    saved = tmp_path / (download.suggested_filename or "bulletin.pdf")
    download.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")
    assert "bulletin" in download.suggested_filename

    for ctx_page in (page, clerk, dispatcher, handler, supervisor, leader):
        ctx_page.context.close()


class ErrorWatch:
    """Every page a browser context loads: none may be an error page or a server error."""

    def __init__(self):
        self.problems: list[str] = []

    def attach(self, page):
        def on_response(response):
            if response.request.resource_type == "document" and response.status >= 500:
                self.problems.append(f"{response.status} {response.url}")

        page.on("response", on_response)
        return page

    def check(self, page, where: str) -> None:
        if page.locator("#error-page").count():
            self.problems.append(f"error page at {where}: {page.url}")


def _file_as_reporter(j, page, title: str, content: str) -> tuple[str, str]:
    from playwright.sync_api import expect

    page.goto("/report/")
    j.set_select(page, "#case_type", "complaint")
    category = page.evaluate(
        "() => [...document.querySelectorAll('#category_id option')].find(o => o.value).value"
    )
    j.set_select(page, "#category_id", category)
    page.fill("#title", title)
    page.fill("#content", content)
    page.check("#anonymous")
    question = page.locator("label[for=challenge_answer]").inner_text()
    match = re.search(r"([零一二三四五六七八九十]+)加([零一二三四五六七八九十]+)等于多少", question)
    page.fill("#challenge_answer", str(chinese_to_int(match[1]) + chinese_to_int(match[2])))
    page.locator("#report-form button[type=submit]").click()
    expect(page.locator("#receipt-number")).to_be_visible()
    assert page.url.endswith("/report/receipt")  # its own page, after a redirect
    return (
        page.locator("#receipt-number").inner_text().strip(),
        page.locator("#receipt-code").inner_text().strip(),
    )


def test_decline_merge_return_extension_rehandling_and_escalation_show_no_error_page(server, browser):
    from playwright.sync_api import expect

    j = Journey(browser, server["base"], SHOTS / "every-step")
    watch = ErrorWatch()

    def case_id_of(number: str) -> int:
        with sqlite3.connect(server["db"]) as conn:
            return conn.execute("SELECT id FROM cases WHERE number = ?", (number,)).fetchone()[0]

    # The reporter files; a reload shows the receipt again; a mistyped code keeps it on the page.
    reporter = watch.attach(j.context().new_page())
    number, code = _file_as_reporter(
        j, reporter, "二次测试：开办企业审批超期", "营业执照申请提交已超过法定期限，窗口一直说在走流程。"
    )
    reporter.reload()
    expect(reporter.locator("#receipt-code")).to_have_text(code)
    reporter.fill("#code", "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF")
    reporter.locator("form:has(#code) button[type=submit]").click()
    expect(reporter.locator("#confirm-error")).to_be_visible()
    expect(reporter.locator("#receipt-code")).to_have_text(code)
    j.shot(reporter, "receipt-mistyped-code-kept")
    reporter.fill("#code", code)
    reporter.locator("form:has(#code) button[type=submit]").click()
    expect(reporter.locator("h2")).to_have_text("回执已保存")
    other = watch.attach(j.context().new_page())
    duplicate, _ = _file_as_reporter(
        j, other, "重复反映：开办企业审批超期", "营业执照申请提交已超过法定期限，窗口一直说在走流程。"
    )
    unrelated, _ = _file_as_reporter(j, other, "咨询：个人所得税怎么申报", "想了解个人所得税的申报方式。")
    main, dup, off = case_id_of(number), case_id_of(duplicate), case_id_of(unrelated)

    # The clerk declines what is not in scope (不予受理) and merges the duplicate.
    clerk = watch.attach(j.login("clerk"))
    j.act(
        clerk,
        off,
        "decline",
        "decline",
        selects={"#decline_reason": "out_of_scope"},
        texts={"#note": "个人税务咨询不属于营商环境投诉，请拨打12366。"},
        status="不予受理",
    )
    j.act(
        clerk, dup, "merge", "merge", texts={"#into_case": number, "#note": "同一事项。"}, status="不予受理"
    )
    expect(clerk.locator("body")).to_contain_text(number)  # merged into it
    j.act(clerk, main, "accept", "accept-main", status=ACCEPTED)

    # Dispatched, returned as misrouted, dispatched again.
    dispatcher = watch.attach(j.login("dispatcher"))
    dispatcher.goto(f"/cases/act/{main}/dispatch")
    lead = j.option_value(dispatcher, "#lead_department_id", LEAD_DEPARTMENT)
    j.act(dispatcher, main, "dispatch", "dispatch", selects={"#lead_department_id": lead}, status=DISPATCHED)
    handler = watch.attach(j.login("handler"))
    handler.goto(f"/cases/act/{main}/return")
    handler.fill("#reason", "请核实是否属于本单位职责。")
    handler.locator("#action-form button[type=submit]").click()
    # returned: the case has left the department, so the handler lands on their own queue
    handler.wait_for_url(re.compile(r"/cases/department/list/"))
    expect(handler.locator(".alert-success")).to_be_visible()
    j.shot(handler, "returned")
    dispatcher.goto(f"/cases/show/{main}")
    expect(dispatcher.locator("#case-status")).to_have_text("已退单")
    j.act(
        dispatcher,
        main,
        "dispatch",
        "dispatch-again",
        selects={"#lead_department_id": lead},
        status=DISPATCHED,
    )

    # An extension of 5 working days: asked, shown to the supervisor, approved.
    j.act(handler, main, "sign", "sign", status=HANDLING)
    j.act(
        handler,
        main,
        "request_extension",
        "request-extension",
        texts={"#days": "5", "#reason": "需会同市场监管部门核查。"},
        status=HANDLING,
    )
    supervisor = watch.attach(j.login("supervisor"))
    supervisor.goto(f"/cases/act/{main}/approve_extension")
    expect(supervisor.locator("body")).to_contain_text("需会同市场监管部门核查。")
    j.act(supervisor, main, "approve_extension", "approve-extension", status=HANDLING)
    # The clock stops while the department waits for the reporter's material.
    j.act(handler, main, "pause_clock", "pause", texts={"#reason": "等待企业补充租赁合同。"}, status=HANDLING)
    expect(handler.locator("body")).to_contain_text("等待企业补充租赁合同。")
    j.act(handler, main, "resume_clock", "resume", texts={"#note": "材料已补齐。"}, status=HANDLING)
    j.act(
        handler,
        main,
        "record_finding",
        "finding",
        selects={"#result": "unverifiable"},
        texts={"#facts": "审批系统无该申请记录。", "#summary": "经核查，暂无法核实，请补充受理回执。"},
        status=HANDLING,
    )
    j.act(handler, main, "reply", "reply", texts={"#reply": "已督促审批科室限期办结。"}, status=REPLIED)

    def rate_unsatisfied(step: str) -> None:
        reporter.goto("/track/")
        reporter.fill("#number", number)
        reporter.fill("#code", code)
        reporter.locator("form:has(#number) button[type=submit]").click()
        expect(reporter.locator("input[name=rating][value=unsatisfied]")).to_be_visible()
        reporter.check("input[name=rating][value=unsatisfied]")
        reporter.fill("#reason", "仍未拿到营业执照。")
        reporter.locator("form:has(input[name=rating]) button[type=submit]").click()
        expect(reporter.locator("body")).not_to_contain_text("不满意，待研判")
        j.shot(reporter, step)

    # Unsatisfied → re-handled → replied again → the reporter rates the second reply too.
    rate_unsatisfied("rated-unsatisfied")
    j.act(supervisor, main, "rehandle", "rehandle", texts={"#note": "请重新办理。"}, status=DISPATCHED)
    j.act(handler, main, "sign", "sign-again", status=HANDLING)
    j.act(handler, main, "reply", "reply-again", texts={"#reply": "营业执照已于今日发放。"}, status=REPLIED)
    rate_unsatisfied("rated-again")
    # Still unsatisfied: escalated to the next level.
    j.act(
        supervisor, main, "escalate", "escalate", texts={"#note": "两次不满意，提级办理。"}, status=DISPATCHED
    )
    expect(supervisor.locator("#case-assignments")).to_contain_text("石门市")

    for page in (reporter, other, clerk, dispatcher, handler, supervisor):
        watch.check(page, "the end")
        page.context.close()
    assert not watch.problems, watch.problems

    # The worker delivered what each step told (queued after each commit): the inbox messages
    # of the case are sent, the SMS and e-mails held (the demo has no gateways).
    deadline = time.monotonic() + 60
    while True:
        with sqlite3.connect(server["db"]) as conn:
            states = dict(
                conn.execute(
                    "SELECT status, count(*) FROM notification WHERE case_id = ? AND channel = 'inbox'"
                    " GROUP BY status",
                    (main,),
                ).fetchall()
            )
        if states.get("sent") and not states.get("pending"):
            break
        assert time.monotonic() < deadline, f"inbox messages not delivered: {states}"
        time.sleep(1)
