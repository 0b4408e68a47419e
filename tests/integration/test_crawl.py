"""No 500 anywhere: every role crawls every page it can reach and submits every form it finds
with empty, junk and out-of-range input; then explicit regressions for the 500s found so far.

The crawl starts at the home page (anonymous visitors also at the public filing, tracking and
bulletin pages, and on the tracking page of a case they filed), follows every same-site link
breadth-first, and submits each form (one per kind of form per role set, see ``_form_key``)
eight ways: empty, with each junk text in every text field, and with each out-of-range number
in every field. Any status >= 500 or any raised exception is a failure, listed with the role,
the method and the URL.

What the crawl leaves alone, so that one role's clicks do not break the next role's crawl:
logging out and switching language; FAB's delete endpoints (``/delete/``, bulk delete
actions); submitting the edit forms of users, roles and groups (an empty edit form takes every
role off a demo user, or every permission off a role); and password changes, which are only
ever submitted empty (a junk "new password" typed twice would be accepted and lock the demo
user out). Everything the crawl changes is rolled back with the test.
"""

from __future__ import annotations

import re
import time
from collections import deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import pytest
from werkzeug.datastructures import MultiDict

from app.workflow import Status
from tests.conftest import at, login
from tests.factories import case_in

NOW = at("2026-11-02 10:00")
USERS = ["admin", "clerk", "dispatcher", "handler", "supervisor", "leader", "finance",
         "supervisor2", *(f"handler{i}" for i in range(2, 9))]
PAGE_BUDGET = 250  # pages per role
PER_PATTERN = 3  # pages per URL pattern (digits and query values ignored), case pages apart
JUNK_TEXTS = ["<script>alert(1)</script>", "x" * 5000, "%00"]
JUNK_NUMBERS = ["-1", "0", "99999999999999999999", "abc"]
HUGE = "99999999999999999999999"

SKIP_LINKS = re.compile(r"^/(logout|lang/|static/|appbuilder/static/)|/delete/|/action/[^/]*delete")
NO_SUBMIT = re.compile(r"^/(users|roles|groups)/edit/|/delete/|/action/[^/]*delete|^/logout")
EMPTY_ONLY = re.compile(r"/resetmypassword/|/resetpasswords/")
TEXT_TYPES = {"text", "search", "email", "tel", "url", "password", "number", "date",
              "datetime-local", "textarea", ""}


@dataclass
class Form:
    method: str
    action: str
    fields: list[tuple[str, str, str]] = field(default_factory=list)  # (name, kind, default)
    multipart: bool = False


class PageParser(HTMLParser):
    """The links and forms of a page (html.parser: no third-party dependency)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: list | None = None  # [name, first value, selected value]
        self._textarea: list | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form":
            self._form = Form(a.get("method", "get").upper(), a.get("action", ""),
                              multipart="multipart" in a.get("enctype", ""))
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input" and a.get("name"):
            kind = a.get("type", "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in a:
                self._form.fields.append((a["name"], kind + "-off", a.get("value", "on")))
            elif kind not in ("submit", "button", "image", "reset"):
                self._form.fields.append((a["name"], kind, a.get("value", "")))
        elif tag == "button" and a.get("name") and a.get("type", "submit") == "submit":
            self._form.fields.append((a["name"], "button", a.get("value", "")))
        elif tag == "select" and a.get("name"):
            self._select = [a["name"], None, None]
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            if self._select[1] is None:
                self._select[1] = value
            if "selected" in a:
                self._select[2] = value
        elif tag == "textarea" and a.get("name"):
            self._textarea = [a["name"], ""]

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None and self._form is not None:
            name, first, selected = self._select
            self._form.fields.append((name, "select", selected if selected is not None
                                      else first or ""))
            self._select = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            self._form.fields.append((self._textarea[0], "textarea", self._textarea[1]))
            self._textarea = None


def _local(url: str, base: str) -> str | None:
    """The same-site path and query of a link, or None (external, mail, javascript...)."""
    parts = urlsplit(urljoin(base, url))
    if parts.scheme not in ("http", "https") or parts.netloc not in ("localhost", ""):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _pattern(url: str) -> str:
    parts = urlsplit(url)
    names = sorted({k for k, _ in parse_qsl(parts.query, keep_blank_values=True)})
    return re.sub(r"\d+", "#", parts.path) + "?" + "&".join(names)


def _variants(form: Form):
    """(label, data) of each submission: empty, junk texts, out-of-range numbers."""
    yield "empty", []
    if EMPTY_ONLY.search(urlsplit(form.action).path):
        return
    kept = [(n, kind, v) for n, kind, v in form.fields if not kind.endswith("-off")]
    for junk in JUNK_TEXTS:
        yield f"junk {junk[:25]!r}", [(n, junk if kind in TEXT_TYPES else v) for n, kind, v in kept]
    for number in JUNK_NUMBERS:
        yield f"number {number}", [(n, number) for n, kind, _ in form.fields
                                   if n != "csrf_token" and kind != "file"]


@dataclass
class Crawl:
    client: object
    role: str
    failures: list = field(default_factory=list)
    pages: int = 0
    forms: int = 0
    submissions: int = 0
    seen: set = field(default_factory=set)
    patterns: dict = field(default_factory=dict)
    forms_done: set = field(default_factory=set)

    def request(self, method: str, url: str, data=None):
        try:
            if method == "GET":
                if data:
                    url = url + ("&" if "?" in url else "?") + urlencode(data)
                response = self.client.get(url)
            else:
                response = self.client.post(url, data=MultiDict(data or []))
        except Exception as error:  # noqa: BLE001 - TESTING propagates crashes: count them
            self.failures.append((self.role, method, url[:200], repr(error)[:300]))
            return None
        if response.status_code >= 500:
            self.failures.append((self.role, method, url[:200], response.status_code))
        return response

    def run(self, starts, form_keys: set):
        queue = deque(starts)
        while queue and self.pages < PAGE_BUDGET:
            url = queue.popleft()
            if url in self.seen:
                continue
            self.seen.add(url)
            pattern = _pattern(url)
            limit = 12 if url.startswith("/cases/show/") else PER_PATTERN
            if self.patterns.get(pattern, 0) >= limit:
                continue
            self.patterns[pattern] = self.patterns.get(pattern, 0) + 1
            response = self.request("GET", url)
            self.pages += 1
            if response is None:
                continue
            if response.status_code in (301, 302, 303, 307, 308):
                target = _local(response.headers.get("Location", ""), "http://localhost" + url)
                if target and not SKIP_LINKS.search(urlsplit(target).path):
                    queue.append(target)
                continue
            if "text/html" not in response.content_type:
                continue
            parser = PageParser()
            parser.feed(response.get_data(as_text=True))
            for href in parser.links:
                target = _local(href, "http://localhost" + url)
                if target and not SKIP_LINKS.search(urlsplit(target).path) and target not in self.seen:
                    queue.append(target)
            for form in parser.forms:
                self.submit(form, url, form_keys)

    def submit(self, form: Form, page: str, form_keys: set):
        action = _local(form.action or page, "http://localhost" + page)
        if action is None:
            return
        path = urlsplit(action).path
        if NO_SUBMIT.search(path) or path.startswith("/lang/"):
            return
        key = (form.method, _pattern(action), tuple(sorted({n for n, _, _ in form.fields})))
        if key in form_keys:
            return
        form_keys.add(key)
        self.forms += 1
        for _label, data in _variants(form):
            self.submissions += 1
            self.request("GET" if form.method == "GET" else "POST", action, data)


@pytest.fixture
def crawl_data(session, actors, cats, depts):
    """Cases in the statuses that have their own pages and action forms."""
    cases = [case_in(session, actors, cats, depts, status, now=NOW)
             for status in (Status.SUBMITTED, Status.ACCEPTED, Status.DISPATCHED,
                            Status.HANDLING, Status.REPLIED, Status.UNSATISFIED,
                            Status.CLOSED)]
    cases.append(case_in(session, actors, cats, depts, Status.CLOSED, now=NOW,
                         case_type="report", grade="a", lead="X103"))
    cases.append(case_in(session, actors, cats, depts, Status.HANDLING, now=NOW, lead="C10",
                         co=("X102",)))
    tracked = cases[4]
    session.commit()
    return {"cases": cases, "tracked": (tracked.number, tracked.query_code)}


def test_no_page_or_form_answers_a_server_error(app, actors, crawl_data):
    started = time.monotonic()
    failures, stats = [], []
    forms_by_roles: dict[tuple, set] = {}
    for username in [None, *USERS]:
        client = app.test_client()
        starts = ["/"]
        if username is None:
            number, code = crawl_data["tracked"]
            client.post("/track/", data={"number": number, "code": code})
            starts += ["/report/", "/track/", "/bulletins/", "/track/case"]
            roles = ("anonymous",)
        else:
            login(client, username)
            roles = tuple(sorted(actors[username].roles))
        # Users with the same roles share their forms (handler2..handler8 are handlers of
        # other departments): their pages are crawled, forms already tried are not re-sent.
        crawl = Crawl(client, username or "anonymous")
        crawl.run(starts, forms_by_roles.setdefault(roles, set()))
        failures += crawl.failures
        stats.append((crawl.role, crawl.pages, crawl.forms, crawl.submissions))
    elapsed = time.monotonic() - started
    print(f"\ncrawl: {elapsed:.1f} s; role, pages, forms, submissions:")
    for row in stats:
        print("  ", *row)
    assert not failures, "server errors:\n" + "\n".join(map(repr, failures))
    assert all(pages > 1 for _, pages, _, _ in stats), stats
