"""No text a person typed is ever rendered unescaped (issue 13, point 1).

A script/HTML canary with a marker of its own (``zq07z``) is typed into every text field people
fill in, through the real forms, by the people who fill them in: the public filing (title, text,
window, official, name, company, a file's name), the reporter's messages, material, rating and
payment details; the clerk's intake, notes and decline note; the handlers' notes, replies,
extension reasons, returns, messages and notice answers; the supervisors' decisions, evaluations,
notices, typical-case summaries and rewards; Finance's payment reference; the administrator's
reference data (departments, categories, windows, calendar, deadline policies, dispatch rules,
reward tiers, the ineligible list) and the staff's own names.

Then every page each role reaches (the crawler of test_crawl.py, following links only), the
reporter's tracking pages, the revealed identity, the forms shown again after a refusal (with
their flash messages), the outbox as delivered (e-mail and SMS), the JSON API and the PDFs are
searched for the canary. The marker may appear as text (``&lt;b id=xssb ...&gt;``), never inside
a tag the canary made: no ``<script>__xss=``, no ``<img ... onerror=``, no ``<b id=xssb>``, found
both in the raw text and by an HTML parser. Every marker must have been seen somewhere, so a field
the seeding missed cannot pass silently.
"""

from __future__ import annotations

import io
import re
import subprocess
from collections import defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import quote

import pytest
from werkzeug.datastructures import MultiDict

from app.demo import USERS as DEMO_USERS
from app.workflow import Role
from tests.conftest import login
from tests.integration.test_crawl import NO_SUBMIT, TEXT_TYPES, Crawl, PageParser, _local, _pattern
from tests.integration.test_reporter_side import answer_challenge

STAFF = [username for username, *_, role, _ in DEMO_USERS if role != Role.INTEGRATION]  # API only
MARKER = re.compile(r"zq\d+z")
# The tags a canary makes when it is rendered as HTML: each names its marker.
RAW_TAG = re.compile(r"<(?:script>__xss='|img src=x onerror=\"?__xss='|b id=xssb title=)(zq\d+z)")


def canary_text(marker: str, size: int) -> str:
    """The canary for a field of at most ``size`` characters: it breaks out of an attribute
    (``"'>``), runs a script, loads an image with an error handler and makes an element."""
    full = (
        f"\"'><script>__xss='{marker}'</script><img src=x onerror=\"__xss='{marker}'\">"
        f"<b id=xssb title={marker}>{marker}"
    )
    short = f"\"'><img src=x onerror=\"__xss='{marker}'\"><b id=xssb title={marker}>"
    tiny = f"<b id=xssb title={marker}>"
    return next(text for text in (full, short, tiny) if len(text) <= size)


class _TagFinder(HTMLParser):
    """Markers inside real elements: ``<b id=xssb title=M>``, an ``on...`` handler or a script
    that assigns ``__xss``."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: set[str] = set()
        self._script = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id") == "xssb":
            self.found.update(MARKER.findall(a.get("title") or "") or ["zq??z"])
        for name, value in attrs:
            if name.startswith("on") and "__xss" in (value or ""):
                self.found.update(MARKER.findall(value) or ["zq??z"])
        self._script = tag == "script"

    def handle_endtag(self, tag):
        self._script = False

    def handle_data(self, data):
        if self._script and re.search(r"__xss\s*=\s*'", data):
            self.found.update(MARKER.findall(data) or ["zq??z"])


@dataclass
class Canaries:
    """The canaries typed so far (marker -> field), where each was seen, and every leak."""

    fields: dict[str, str] = field(default_factory=dict)
    unshown: set = field(default_factory=set)  # refused and never shown again: cannot leak
    seen: dict[str, set] = field(default_factory=lambda: defaultdict(set))
    leaks: list = field(default_factory=list)

    def __call__(self, name: str, size: int = 100, *, shown: bool = True, quotes: bool = True) -> str:
        """A new canary for field ``name``; ``quotes=False`` for a file name (a browser sends
        a double quote in it as %22)."""
        marker = f"zq{len(self.fields):02d}z"
        self.fields[marker] = name
        if not shown:
            self.unshown.add(marker)
        text = canary_text(marker, size)
        return text if quotes else text.replace('"', "")

    def check_html(self, where: str, html: str) -> None:
        for marker in MARKER.findall(html):
            self.seen[marker].add(where)
        finder = _TagFinder()
        finder.feed(html)
        for marker in {*RAW_TAG.findall(html), *finder.found}:
            self.leaks.append((self.fields.get(marker, marker), where))

    def check_text(self, where: str, text: str) -> None:
        """Plain text (a PDF's text, an SMS, a plain e-mail): the canary is just characters."""
        for marker in MARKER.findall(text):
            self.seen[marker].add(where)

    def assert_no_leak(self) -> None:
        assert not self.leaks, "typed text rendered as HTML:\n" + "\n".join(
            f"  {name} at {where}" for name, where in sorted(set(self.leaks))
        )

    def assert_all_seen(self, among: set | None = None) -> None:
        missing = [
            name
            for marker, name in self.fields.items()
            if not self.seen.get(marker) and marker not in self.unshown
        ]
        if among is not None:
            missing = [name for name in missing if name in among]
        assert not missing, f"canaries never shown anywhere (the seeding missed them): {missing}"


class Visitor:
    """One person's browser: every page it gets is checked (after redirects, so a flash
    message is checked on the page that shows it)."""

    def __init__(self, app, who: str, canaries: Canaries, username: str | None = None):
        self.client, self.who, self.canaries = app.test_client(), who, canaries
        if username:
            login(self.client, username)

    def _checked(self, response, where: str):
        if response.status_code >= 500:
            raise AssertionError(f"{self.who}: {where} answered {response.status_code}")
        if "html" in response.content_type:
            self.canaries.check_html(f"{self.who} {where}", response.get_data(as_text=True))
        return response

    def get(self, url: str):
        return self._checked(self.client.get(url, follow_redirects=True), f"GET {url}")

    def post(self, url: str, data=None, **kwargs):
        response = self.client.post(url, data=data, follow_redirects=True, **kwargs)
        return self._checked(response, f"POST {url}")

    def submit(self, url: str, values: dict, *, choose=None, saved: bool = True):
        """Fill the form of page ``url`` as a person would: what it shows (selected options,
        checked boxes, hidden fields), with ``values`` typed over it; ``choose`` picks the form.
        ``saved``: the answer must be another page (a refusal shows the form again)."""
        page = self.get(url)
        assert page.status_code == 200, (self.who, url, page.status_code)
        parser = PageParser()
        parser.feed(page.get_data(as_text=True))
        forms = [
            f
            for f in parser.forms
            if f.method == "POST" and "/logout" not in f.action and (choose is None or choose(f))
        ]
        assert forms, (self.who, url, "no such form")
        # the form with the fields typed into (a page also has the navigation's forms)
        form = max(forms, key=lambda f: len(set(values) & {n for n, _, _ in f.fields}))
        data = MultiDict()
        for name, kind, default in form.fields:
            if name in values or kind.endswith("-off") or kind in ("file", "button"):
                continue
            # a browser drops the newline that starts a textarea's content
            data.add(name, default.removeprefix("\r\n").removeprefix("\n") if kind == "textarea" else default)
        for name, value in values.items():
            for item in value if isinstance(value, list) else [value]:
                data.add(name, item)
        response = self.post(form.action or url, data=data, content_type="multipart/form-data")
        if saved:
            body = response.get_data(as_text=True)
            assert response.request.path != url.split("?")[0] and "alert-danger" not in body, (
                self.who,
                url,
                response.request.path,
                _alerts(body),
                re.findall(r"help-block[^>]*>([^<]*)<", body),
            )
        return response


def _alerts(html: str) -> list[str]:
    return [
        re.sub(r"<[^>]+>|\s+", " ", m).strip() for m in re.findall(r'class="alert[^"]*".*?</div>', html, re.S)
    ]


def _case_id(session, number: str) -> int:
    from models import Case

    return session.query(Case.id).filter_by(number=number).scalar()


def _receipt(page) -> tuple[str, str]:
    body = page.get_data(as_text=True)
    number = re.search(r'id="receipt-number"[^>]*>([A-Z0-9]+)<', body).group(1)
    code = re.search(r'id="receipt-code">([A-Z0-9-]+)<', body).group(1)
    return number, code


def _file_publicly(reporter: Visitor, url: str, values: dict, files=()):
    page = reporter.get(url).get_data(as_text=True)
    token, answer = answer_challenge(page)
    data = {"challenge_token": token, "challenge_answer": answer, **values}
    parser = PageParser()
    parser.feed(page)
    form = next(f for f in parser.forms if f.method == "POST" and "/logout" not in f.action)
    body = MultiDict(
        [
            (n, v)
            for n, kind, v in form.fields
            if n not in data and not kind.endswith("-off") and kind != "file"
        ]
    )
    for name, value in data.items():
        body.add(name, value)
    for name, content in files:
        body.add("attachments", (io.BytesIO(content), name))
    return reporter.post(url, data=body, content_type="multipart/form-data")


def _png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buffer, "PNG")
    return buffer.getvalue()


@dataclass
class Seeded:
    canaries: Canaries
    visitors: dict
    report_id: int  # a public report driven to closed, typical case, reward, notice
    complaint_id: int  # a clerk's intake driven through return, rehandling and escalation
    declined_id: int  # a public complaint declined with a note the reporter reads
    trackers: dict  # who -> (number, code) of a case they filed
    notice_id: int
    reward_id: int
    window_id: int
    bulletin_id: int
    pages: list  # (username, url): detail pages the crawl's per-pattern budget may skip


def seed(app, session, actors, depts, cats) -> Seeded:
    """Type a canary into every text field, through the real forms, as the people who fill them."""
    from datetime import timedelta

    from app import clock
    from app.workflow import Status
    from models import (
        Category,
        DeadlinePolicy,
        Department,
        DispatchRule,
        GeneratedReport,
        IdentityRequest,
        Jurisdiction,
        Notice,
        Reward,
        RewardTier,
        ServiceWindow,
        Staff,
        TypicalCase,
    )
    from tests.factories import case_in

    c = Canaries()
    v = {}

    def visitor(username: str) -> Visitor:
        if username not in v:
            v[username] = Visitor(app, username, c, username)
        return v[username]

    admin, handler = visitor("admin"), visitor("handler")
    lead = depts["X102"]

    # --- the staff's own names (the timeline, messages and ledger show who acted) -------------
    for who in ("handler", "clerk", "supervisor", "leader", "finance"):
        visitor(who).submit(
            "/userinfoeditview/form",
            {"first_name": c(f"{who}: first name", 64), "last_name": c(f"{who}: last name", 57)},
        )

    # --- reference data, by the administrator ------------------------------------------------
    admin.submit(
        f"/departmentview/edit/{lead.id}", {"name": c("department name"), "head": c("department head", 64)}
    )
    parent_category = session.get(Category, cats["INT01"].id).parent_id
    admin.submit(
        f"/categoryview/edit/{parent_category}",
        {"name": c("category name (parent)"), "description": c("category description", 1000)},
    )
    admin.submit(f"/categoryview/edit/{cats['INT01'].id}", {"name": c("category name")})
    admin.submit(
        "/servicewindowview/add",
        {
            "hall": c("window hall"),
            "name": c("window name"),
            "department": str(depts["X103"].id),  # the report is about it: X102 handles it
            "region": "清源省",
            "active": "y",
        },
    )
    window = session.query(ServiceWindow).order_by(ServiceWindow.id.desc()).first()
    admin.submit(
        "/calendardayview/add", {"day": "2031-10-09", "kind": "holiday", "name": c("holiday name", 64)}
    )
    admin.submit("/calendaryearview/add", {"year": "2035", "note": c("calendar year note")})
    policy = session.query(DeadlinePolicy).order_by(DeadlinePolicy.id).first()
    admin.submit(f"/deadlinepolicyview/edit/{policy.id}", {"note": c("deadline policy note")})
    admin.submit(
        "/dispatchruleview/add",
        {
            "keywords": c("dispatch rule keywords"),
            "note": c("dispatch rule note"),
            "department": str(depts["X103"].id),
            "priority": "1",
        },
    )
    rule = session.query(DispatchRule).order_by(DispatchRule.id.desc()).first()
    tier = session.query(RewardTier).order_by(RewardTier.min_yuan).first()
    admin.submit(f"/rewardtierview/edit/{tier.id}", {"name": c("reward tier name")})
    admin.submit(
        "/ineligiblepersonview/add",
        {"label": c("ineligible person"), "phone": "13700000007", "reason": c("ineligible reason")},
    )

    # --- the public: a named report through a window's QR code, a complaint to be declined ------
    reporter = Visitor(app, "reporter", c)
    filed = _file_publicly(
        reporter,
        f"/report/?w={window.token}",
        {
            "case_type": "report",
            "category_id": str(cats["INT01"].id),
            "title": c("public filing: title", 200),
            "content": c("public filing: text", 5000),
            "region": "清源省",
            "location": c("public filing: window or office", 200),
            "concerned_official": c("public filing: official"),
            "reporter_name": c("public filing: name", 64),
            "reporter_phone": "13912345670",
            "reporter_company": c("public filing: company"),
            "credit_code": "91110000MA01XACANT",
        },
        files=[(c("public filing: file name", 150, quotes=False) + ".png", _png())],
    )
    assert filed.request.path == "/report/receipt", _alerts(filed.get_data(as_text=True))
    report_number, report_code = _receipt(filed)
    reporter.post("/report/confirm", data={"number": report_number, "code": report_code})
    reporter.post("/track/", data={"number": report_number, "code": report_code})
    declined_reporter = Visitor(app, "declined reporter", c)
    filed = _file_publicly(
        declined_reporter,
        "/report/",
        {
            "case_type": "complaint",
            "category_id": str(cats["GOV01"].id),
            "title": "咨询个人所得税申报",
            "content": "想了解个人所得税的申报方式。",
            "region": "清源省",
            "anonymous": "y",
        },
    )
    declined_number, declined_code = _receipt(filed)
    declined_reporter.post("/track/", data={"number": declined_number, "code": declined_code})
    # refused filings show the form again with what was typed
    for name in ("reporter_phone", "credit_code"):
        refused = _file_publicly(
            Visitor(app, "refused reporter", c),
            "/report/",
            {
                "case_type": "complaint",
                "category_id": str(cats["GOV01"].id),
                "title": c(f"refused filing ({name}): title", 200),
                "content": "内容",
                "region": "清源省",
                "reporter_name": "张三",
                "reporter_phone": "13900000000",
                name: c(f"refused filing: {name}", 32),
            },
        )
        assert refused.request.path == "/report/" and refused.status_code >= 400, name

    report_id = _case_id(session, report_number)
    declined_id = _case_id(session, declined_number)

    # --- the clerk: intake (one refused, one filed), classification, acceptance, decline --------
    clerk = visitor("clerk")
    intake = {
        "channel": "phone_12345",
        "case_type": "complaint",
        "category_id": str(cats["GOV01"].id),
        "title": c("intake: title", 200),
        "content": c("intake: text", 5000),
        "region": "清源省",
        "location": c("intake: window or office", 200),
        "concerned_official": c("intake: official"),
        "reporter_name": c("intake: name", 64),
        "reporter_phone": "13912345671",
        "reporter_company": c("intake: company"),
    }
    refused = clerk.submit(
        "/cases/new/", {**intake, "reporter_phone": c("intake (refused): phone", 32)}, saved=False
    )
    assert refused.request.path == "/cases/new/" and "alert-danger" in refused.get_data(as_text=True)
    received = clerk.submit("/cases/new/", intake, saved=False)
    complaint_number = re.search(r'id="receipt-number"[^>]*>([A-Z0-9]+)<', received.get_data(as_text=True))[1]
    complaint_id = _case_id(session, complaint_number)

    def act(who: str, case_id: int, action: str, saved: bool = True, **values):
        return visitor(who).submit(f"/cases/act/{case_id}/{action}", values, saved=saved)

    act("clerk", report_id, "classify", grade="c", note=c("classify: note"))
    act("clerk", report_id, "accept", note=c("accept: note"))
    act("clerk", declined_id, "decline", decline_reason="out_of_scope", note=c("decline: note"))
    clerk.post(f"/cases/act/{complaint_id}/link", data={"other": c("link: other case", shown=False)})
    act("clerk", complaint_id, "merge", saved=False, into_case=c("merge: into case"), note="同一事项")
    act("clerk", complaint_id, "accept")

    # --- dispatch, handling, extension, messages, reply ----------------------------------------
    act("dispatcher", report_id, "dispatch", lead_department_id=str(lead.id), note=c("dispatch: note"))
    act("dispatcher", complaint_id, "dispatch", lead_department_id=str(lead.id))
    # who may see the reporter: the supervisor the dispatcher names, and one the custodian
    # lets see it for a while, on a request with its reason
    staff = {u.username: u.id for u in session.query(Staff)}
    for case_id in (report_id, complaint_id):
        visitor("dispatcher").post(
            f"/cases/act/{case_id}/supervisor", data={"supervisor_id": str(staff["supervisor"])}
        )
    visitor("supervisor2").post(
        f"/cases/act/{report_id}/identity/request", data={"reason": c("identity request: reason", 2000)}
    )
    identity_request = session.query(IdentityRequest).filter_by(case_id=report_id).one()
    visitor("custodian").post(
        f"/identity/act/{identity_request.id}/decide",
        data={"approve": "1", "note": c("identity request: decision note", 2000)},
    )
    act("handler", complaint_id, "return", reason=c("return: reason"))
    act("dispatcher", complaint_id, "dispatch", lead_department_id=str(lead.id))
    act("handler", report_id, "sign", note=c("sign: note"))
    act("handler", report_id, "add_note", note=c("internal note"))
    # --- the clock stops, a dispute is decided, the report is verified and rectified -----------
    act("handler", report_id, "pause_clock", reason=c("pause: reason"))
    act("handler", report_id, "resume_clock", note=c("resume: note"))
    act("handler", report_id, "raise_dispute", reason=c("dispute: reason"))
    act(
        "dispatcher",
        report_id,
        "decide_dispute",
        lead_department_id=str(lead.id),
        note=c("dispute: decision"),
    )
    act(
        "handler",
        report_id,
        "record_finding",
        result="true",
        facts=c("finding: facts", 5000),
        summary=c("finding: summary for the reporter", 5000),
    )
    act(
        "handler",
        report_id,
        "plan_rectification",
        measures=c("rectification: measures"),
        responsible=c("rectification: responsible", 100),
        days="5",
    )
    act("handler", report_id, "request_extension", days="3", reason=c("extension: reason"))
    act("supervisor", report_id, "approve_extension", note=c("extension decision: note"))
    handler.post(f"/cases/act/{report_id}/message", data={"body": c("message to the reporter", 5000)})
    act("handler", report_id, "reply", reply=c("refused reply", 5000), note=c("refused reply: note"))
    act("supervisor", report_id, "reject_reply", reason=c("reply refused: reason"))
    act("handler", report_id, "reply", reply=c("reply", 5000), note=c("reply: note"))
    act("handler", report_id, "report_rectification", completion=c("rectification: completion"))
    act("supervisor", report_id, "reject_rectification", note=c("rectification sent back: note"), days="2")
    act("handler", report_id, "report_rectification", completion="已补充整改佐证材料。")
    act("supervisor", report_id, "accept_rectification", note=c("rectification re-check: note"))

    # --- the reporter: messages, material, rating ----------------------------------------------
    reporter.post("/track/message", data={"body": c("message from the reporter", 5000)})
    reporter.post("/track/material", data={"text": c("material from the reporter", 5000)})
    reporter.post("/track/rate", data={"rating": "satisfied", "reason": c("reporter's rating reason")})
    declined_reporter.post("/track/message", data={"body": "请问为什么不予受理？"})

    # --- the complaint: evaluated unsatisfied, re-handled, escalated ----------------------------
    act("handler", complaint_id, "sign")
    act(
        "handler",
        complaint_id,
        "record_finding",
        result="untrue",
        facts="经核查。",
        summary="经核查，未发现问题。",
    )
    act("handler", complaint_id, "reply", reply=c("complaint reply", 5000))
    evaluation = {"rating": "unsatisfied", "source": "revisit_call", "method": "phone"}
    act("supervisor", complaint_id, "evaluate", **evaluation, reason=c("evaluation: reason"))
    act("supervisor", complaint_id, "rehandle", note=c("rehandle: note"))
    act("handler", complaint_id, "sign")
    act("handler", complaint_id, "reply", reply="已再次办理。")
    act("supervisor", complaint_id, "evaluate", **evaluation, reason="仍不满意")
    act("supervisor", complaint_id, "escalate", note=c("escalate: note"))

    # --- closed; chosen as a typical case; a reward proposed, approved, claimed, paid ------------
    supervisor = visitor("supervisor")
    act("supervisor", report_id, "close", note=c("close: note"))
    supervisor.post(f"/typical/act/mark/{report_id}", data={"kind": "warning"})
    typical = session.query(TypicalCase).filter_by(case_id=report_id).one()
    supervisor.post(
        f"/typical/act/edit/{typical.id}",
        data={"heading": c("typical heading"), "summary": c("typical summary", 5000), "submit": "1"},
    )
    visitor("leader").post(
        f"/typical/act/decide/{typical.id}", data={"approve": "1", "note": c("typical decision: note")}
    )
    supervisor.submit(
        f"/rewards/act/propose/{report_id}",
        {
            "tier_id": str(tier.id),
            "amount": str(tier.min_yuan),
            "reasons": c("reward reasons", 1000),
            "evidence": c("reward evidence"),
        },
    )
    reward = session.query(Reward).filter_by(case_id=report_id).one()
    visitor("leader").post(f"/rewards/act/{reward.id}/approve", data={"note": c("reward approval: note")})
    reporter.post(
        "/track/reward/claim",
        data={
            "method": "bank",
            "account_name": c("payment: account name"),
            "bank": c("payment: bank"),
            "account_number": c("payment: account number"),
        },
    )
    visitor("finance").post(
        f"/rewards/act/{reward.id}/pay",
        data={"method": "bank", "reference": c("payment reference"), "note": c("payment note")},
    )
    reporter.post("/track/reward/confirm", data={})
    # a refusal whose message carries typed text: the reason a reporter is not eligible
    ineligible = case_in(
        session,
        actors,
        cats,
        depts,
        Status.CLOSED,
        now=clock.utcnow(),
        case_type="report",
        grade="c",
        category="INT01",
        reporter_phone="13700000007",
    )
    session.commit()
    # an extension request left pending: its form shows the reason to the supervisor
    pending = case_in(session, actors, cats, depts, Status.HANDLING, now=clock.utcnow(), lead="X102")
    session.commit()
    act("handler", pending.id, "request_extension", days="2", reason=c("pending extension: reason"))
    refused = supervisor.submit(
        f"/rewards/act/propose/{ineligible.id}",
        {"tier_id": str(tier.id), "amount": str(tier.min_yuan), "reasons": "线索属实"},
        saved=False,
    )
    assert "alert-danger" in refused.get_data(as_text=True) and MARKER.search(refused.get_data(as_text=True))

    # --- an interview notice, acknowledged and answered by the department, closed --------------
    supervisor.post(
        "/notices/act/interview",
        data={
            "department_id": str(lead.id),
            "case_ids": [str(complaint_id)],
            "details": c("interview: reasons"),
            "meeting_at": (clock.to_local(clock.utcnow()) + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
            "meeting_place": c("interview: place", 200),
            "attendees": c("interview: attendees"),
            "materials": c("interview: materials"),
        },
    )
    notice = session.query(Notice).order_by(Notice.id.desc()).first()
    handler.post(f"/notices/act/{notice.id}/acknowledge", data={})
    handler.post(f"/notices/act/{notice.id}/answer", data={"answer": c("notice answer", 5000)})
    supervisor.post(f"/notices/act/{notice.id}/close", data={"note": c("notice closing note")})

    # --- this month's bulletin and assessment report, the bulletin published -------------------
    month = clock.to_local(clock.utcnow()).strftime("%Y-%m")
    leader = visitor("leader")
    # The bulletin of the province (every case); the assessment of 长河县, whose office ranks
    # the department the canary renamed (each office ranks its own government's departments).
    county = session.query(Jurisdiction).filter_by(code="CH").one().id
    leader.post("/reports/act/request", data={"kind": "bulletin", "period": month})
    leader.post(
        "/reports/act/request", data={"kind": "assessment", "period": month, "jurisdiction_id": county}
    )
    bulletin = (
        session.query(GeneratedReport).filter_by(kind="bulletin").order_by(GeneratedReport.id.desc()).first()
    )
    assert bulletin.state == "done", bulletin.error
    leader.post(f"/reports/act/publish/{bulletin.id}", data={})

    session.expire_all()
    assert session.get(Department, lead.id).name.startswith("\"'>")
    return Seeded(
        canaries=c,
        visitors=v,
        report_id=report_id,
        complaint_id=complaint_id,
        declined_id=declined_id,
        trackers={
            "reporter": (report_number, report_code),
            "declined reporter": (declined_number, declined_code),
        },
        notice_id=notice.id,
        reward_id=reward.id,
        window_id=window.id,
        bulletin_id=bulletin.id,
        pages=[
            ("admin", f"/categoryview/show/{parent_category}"),
            ("admin", f"/dispatchruleview/show/{rule.id}"),
            ("custodian", f"/identity/show/{identity_request.id}"),
        ],
    )


@pytest.fixture
def seeded(app, session, actors, depts, cats):
    return seed(app, session, actors, depts, cats)


@dataclass
class CheckingCrawl(Crawl):
    """The crawler of test_crawl.py, checking every page it gets; with ``send_forms`` it also
    submits each form once, a canary in every text field, and checks what comes back."""

    canaries: Canaries = None
    send_forms: bool = False

    def request(self, method: str, url: str, data=None):
        response = super().request(method, url, data)
        if response is not None and "html" in response.content_type:
            self.canaries.check_html(f"{self.role} {method} {url}", response.get_data(as_text=True))
        return response

    def submit(self, form, page: str, form_keys: set):
        if not self.send_forms or form.method != "POST":
            return
        action = _local(form.action or page, "http://localhost" + page)
        path = action.split("?")[0] if action else ""
        if not action or NO_SUBMIT.search(path) or path.startswith(("/lang/", "/login")):
            return
        if any(name == "delete" for name, _, _ in form.fields) or re.search(r"password", path):
            return
        key = (_pattern(action), tuple(sorted({n for n, _, _ in form.fields})))
        if key in form_keys:
            return
        form_keys.add(key)
        self.forms += 1
        data = [
            (n, self.canaries(f"form {_pattern(action)} field {n}", shown=False) if kind in TEXT_TYPES else v)
            for n, kind, v in form.fields
            if not kind.endswith("-off") and kind != "file"
        ]
        self.submissions += 1
        try:
            response = self.client.post(action, data=MultiDict(data), follow_redirects=True)
        except Exception as error:  # noqa: BLE001 - TESTING propagates crashes: count them
            self.failures.append((self.role, "POST", action, repr(error)[:300]))
            return
        if response.status_code >= 500:
            self.failures.append((self.role, "POST", action, response.status_code))
        elif "html" in response.content_type:
            self.canaries.check_html(f"{self.role} POST {action} (answer)", response.get_data(as_text=True))


def _crawl_everyone(app, s: Seeded, *, send_forms: bool) -> list:
    """Every role (and both reporters, on their tracking pages) crawls what it can reach."""
    failures, forms_by_roles, pages = [], {}, {}
    people = [("reporter", None), ("declined reporter", None), *((u, u) for u in STAFF)]
    for who, username in people:
        if username is None:
            client = app.test_client()
            number, code = s.trackers[who]
            assert client.post("/track/", data={"number": number, "code": code}).status_code == 302
            starts, key = ["/track/case", "/", "/bulletins/", "/report/"], ("anonymous", who)
        else:
            visitor = s.visitors.get(username) or Visitor(app, username, s.canaries, username)
            client, starts, key = visitor.client, ["/"], username
        crawl = CheckingCrawl(client, who, canaries=s.canaries, send_forms=send_forms)
        crawl.run(starts, forms_by_roles.setdefault(key, set()))
        failures += crawl.failures
        pages[who] = crawl.pages
    print("pages crawled:", pages)
    # A reporter and an enforcement officer (a phone page or two: their inspections) see few pages.
    few = ("reporter", "inspector", "inspector2")
    assert all(n > (1 if who.endswith(few) else 5) for who, n in pages.items()), pages
    return failures


def test_every_page_of_every_role_shows_typed_text_as_text(app, seeded):
    s, c = seeded, seeded.canaries
    failures = _crawl_everyone(app, s, send_forms=False)
    assert not failures, failures
    # what no link leads to: the identity an entitled supervisor reveals (a POST), a tracked
    # case's own page, a list whose filter reflects what was typed in the address
    for username in ("supervisor", "supervisor2"):  # named for both cases / let see the report
        for case_id in (s.report_id, s.complaint_id)[: 2 if username == "supervisor" else 1]:
            revealed = s.visitors[username].post(f"/cases/act/{case_id}/identity", data={})
            assert "This look has been recorded" in revealed.get_data(as_text=True) or "已记录" in (
                revealed.get_data(as_text=True)
            ), (username, case_id, _alerts(revealed.get_data(as_text=True)))
    supervisor = s.visitors["supervisor"]
    for who, (number, code) in s.trackers.items():
        reporter = Visitor(app, who, c)
        reporter.post("/track/", data={"number": number, "code": code})
        assert reporter.get("/track/case").status_code == 200
    for username, url in s.pages:
        assert s.visitors[username].get(url).status_code == 200, url
    reflected = c("list filter in the address")
    supervisor.get(f"/cases/list/?_flt_0_title={quote(reflected)}")
    supervisor.get(f"/dashboard/?period={quote(c('dashboard period in the address', 100))}")
    c.assert_no_leak()
    c.assert_all_seen()


def test_every_form_shows_typed_text_back_as_text(app, seeded):
    """Each form once more, a canary in every text field: the page that answers (the form again
    with its error, or the page a flash message lands on) shows it as text."""
    failures = _crawl_everyone(app, seeded, send_forms=True)
    assert not failures, failures
    c = seeded.canaries
    c.assert_no_leak()
    echoed = {c.fields[m] for m in c.seen if c.fields.get(m, "").startswith("form ")}
    assert len(echoed) > 30, sorted(echoed)  # the refusals showed much of it again


@pytest.fixture
def pdf_html(monkeypatch):
    """The HTML of every PDF rendered (what WeasyPrint is given), by template name."""
    import reports.pdf

    rendered: list[tuple[str, str]] = []
    original = reports.pdf.render_html

    def recording(template_name, context):
        html = original(template_name, context)
        rendered.append((template_name, html))
        return html

    monkeypatch.setattr(reports.pdf, "render_html", recording)
    return rendered


def _pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF"), data[:200]
    out = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True)
    return out.stdout.decode("utf-8")


def test_pdfs_print_typed_text_as_text_and_get_no_tag_from_it(app, session, pdf_html, seeded):
    """Receipt, notice, bulletin, assessment report, QR sheet: no tag from typed text reaches
    the HTML WeasyPrint renders (an ``<img src=...>`` there would also be a request from the
    server), and the PDF's text shows the canary as the characters typed."""
    s, c = seeded, seeded.canaries
    number, code = s.trackers["reporter"]
    reporter, supervisor = Visitor(app, "reporter", c), s.visitors["supervisor"]
    documents = {
        "receipt": reporter.post("/report/receipt.pdf", data={"number": number, "code": code}),
        "notice": supervisor.get(f"/notices/act/{s.notice_id}/pdf"),
        "bulletin": Visitor(app, "public", c).get(f"/bulletins/{s.bulletin_id}.pdf"),
        "QR sheet": s.visitors["admin"].post(
            "/servicewindowview/action_post", data={"action": "qr_sheet", "rowid": str(s.window_id)}
        ),
    }
    from models import GeneratedReport

    assessment = session.query(GeneratedReport).filter_by(kind="assessment").one()
    documents["assessment"] = s.visitors["leader"].get(f"/reports/act/download/{assessment.id}/pdf")
    texts = {}
    for name, response in documents.items():
        assert response.status_code == 200 and response.data.startswith(b"%PDF"), (name, response.status_code)
        texts[name] = _pdf_text(response.data)
        c.check_text(f"{name} PDF", texts[name])
    for template, html in pdf_html:
        c.check_html(f"HTML of {template}", html)
    c.assert_no_leak()
    assert {t for t, _ in pdf_html} >= {"receipt.html", "notice.html", "bulletin.html", "assessment.html"}
    printed = {
        "receipt": ["public filing: title"],
        "notice": ["department name", "interview: reasons"],
        "bulletin": ["department name", "typical heading", "typical summary"],
        "assessment": ["department name"],
        "QR sheet": ["window name", "window hall"],
    }
    markers = {name: marker for marker, name in c.fields.items()}
    for document, names in printed.items():
        for name in names:
            assert f"{document} PDF" in c.seen[markers[name]], (document, name, texts[document][:2000])
            assert "<b id=xssb" in texts[document], document  # printed as the characters typed


def test_messages_and_the_api_carry_typed_text_as_text(app, session, monkeypatch, seeded):
    """The outbox as delivered: e-mails are plain text (an HTML part, if one is ever added,
    must escape), SMS are text; the inbox pages show the messages escaped. The REST API answers
    JSON (``application/json``) with the text as typed."""
    import smtplib
    from email import message_from_bytes

    from app import clock
    from app.services import delivery
    from models import Notification

    s, c = seeded, seeded.canaries
    sent_mail, sent_sms = [], []

    class FakeSMTP:
        def __init__(self, *args, **kwargs):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def send_message(self, message):
            sent_mail.append(message_from_bytes(message.as_bytes()))

    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    monkeypatch.setattr(delivery.HttpSmsGateway, "send", lambda self, to, text, key: sent_sms.append(text))
    monkeypatch.setitem(app.config, "MAIL_SERVER", "smtp.invalid")
    monkeypatch.setitem(app.config, "SMS_GATEWAY_URL", "https://sms.invalid/send")
    for (notification_id,) in session.query(Notification.id).order_by(Notification.id).all():
        delivery.deliver(session, notification_id, clock.utcnow())
    session.commit()
    assert sent_mail and sent_sms
    for message in sent_mail:
        for part in message.walk():
            kind = part.get_content_type()
            if kind == "text/html":
                c.check_html(f"e-mail to {message['To']}", part.get_payload(decode=True).decode())
            elif kind == "text/plain":
                c.check_text(f"e-mail to {message['To']}", part.get_payload(decode=True).decode())
        c.check_text(f"e-mail subject to {message['To']}", str(message["Subject"]))
    for text in sent_sms:
        c.check_text("SMS", text)
    markers = {name: marker for marker, name in c.fields.items()}
    assert any(w.startswith("e-mail") for w in c.seen[markers["department name"]])
    supervisor = s.visitors["supervisor"]
    inbox = supervisor.get("/inbox/list/").get_data(as_text=True)
    shown = sorted(set(re.findall(r'href="(/inbox/show/\d+)"', inbox)))[:5]
    assert shown
    for url in shown:
        supervisor.get(url)
    assert any("/inbox/" in w for w in c.seen[markers["department name"]])

    from tests.conftest import api_token

    client = app.test_client()
    headers = {"Authorization": f"Bearer {api_token(client, 'supervisor')}"}
    for url in (
        f"/api/v1/case/{s.report_id}",
        "/api/v1/case/",
        f"/api/v1/case/{s.report_id}/actions",
        f"/api/v1/case_event/?q=(filters:!((col:case_id,opr:eq,value:{s.report_id})))",
        "/api/v1/department/?q=(page_size:100)",
        "/api/v1/case/99999999",
    ):
        response = client.get(url, headers=headers)
        assert response.mimetype == "application/json", (url, response.mimetype)
        c.check_text(f"API {url}", response.get_data(as_text=True))
    case = client.get(f"/api/v1/case/{s.report_id}", headers=headers).get_json()["result"]
    assert case["title"].startswith("\"'><script>__xss=")  # the text as typed, as JSON data
    refused = client.post(
        f"/api/v1/case/{s.report_id}/actions/add_note", headers=headers, json={"note": c("API note")}
    )
    assert refused.mimetype == "application/json" and refused.status_code < 500
    dashboard = s.visitors["leader"].client.get("/dashboard/data")
    assert dashboard.mimetype == "application/json"
    c.assert_no_leak()
