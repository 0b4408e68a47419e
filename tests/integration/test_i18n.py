"""Translations: the catalogs are complete and compiled, and a Chinese page shows no English.

Chinese is the default language. Every page a role reaches from its navigation bar, the case
pages and the action forms they offer, and the administrator's forms, are fetched in Chinese and
scanned for English words; what may stay is listed below: identifiers of the data (case numbers,
codes, usernames, e-mails), FAB's permission names on its permission screens, and the "English"
language switch. Run ``bash scripts/i18n.sh compile`` first: only compiled catalogs are read.
"""

from __future__ import annotations

import os
import re
import subprocess
from datetime import timedelta
from html import unescape
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from app import clock
from app.services import cases as svc
from app.workflow import Action, Status
from tests.conftest import login, visible_text
from tests.factories import case_in, handler_of

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "translations"
ROLES = ["admin", "clerk", "dispatcher", "handler", "supervisor", "leader"]

# Words that may appear on a Chinese page, and why.
ALLOWED_WORDS = {
    "English",  # the language switch names the other language in that language
    "API",
    "PDF",
    "CSV",
    "XLSX",  # acronyms used as such in Chinese government software
    "HTTPS",
    "JSON",  # the callbacks' address and format (the connected systems' screen)
    "Demo",  # the name of the demo data set
    # file formats, devices and sizes named on the upload pages and the QR windows (the names
    # with digits, SHA-256, MP3..., are technical names below)
    "QR",
    "JPEG",
    "PNG",
    "GIF",
    "WebP",
    "AAC",
    "WAV",
    "AMR",
    "OGG",
    "MOV",
    "Word",
    "HEIC",
    "iPhone",
    "MB",
    "KB",
}
# Identifiers of the data (not UI text): removed before the scan.
_A, _Z = r"(?<![A-Za-z0-9_])", r"(?![A-Za-z0-9_])"  # word edges (Chinese counts as an edge)
IDENTIFIERS = [
    r"[A-Za-z0-9_.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+",  # e-mail addresses
    _A + r"YS\d{8,}" + _Z,  # case numbers
    _A + r"(?:GOV|ENF|POL|FEE|INT)\d*" + _Z,  # category codes
    _A + r"[PCX]\d{2,3}" + _Z,  # department codes
    _A + r"(?:QY|SM|BL|CH|DC|XS)" + _Z,  # jurisdiction codes
    # usernames (an office's accounts carry its jurisdiction's code: ch_clerk, sm_supervisor)
    _A
    + r"(?:(?:qy|sm|bl|ch|dc|xs)_)?"
    + r"(?:admin|clerk|dispatcher|handler\d*|supervisor\d*|leader|hotline\d*|finance|custodian|inspector\d*)"
    + _Z,
    _A + r"tier\d+" + _Z,  # reward tier codes
    r"https?://\S+",  # links (a service window's filing link carries its token)
    _A + r"(?:SHA-256|MP3|MP4|M4A|3GP)" + _Z,  # technical names with digits (checksum, formats)
    _A + r"[A-Z2-9]{4}(?:-[A-Z2-9]{4}){5}" + _Z,  # query codes on a receipt
]
WORD = re.compile(r"[A-Za-z]{2,}")


# Pages of Flask-AppBuilder's permission administration: they list the permission and
# view-menu names the security code matches on (can_list, CaseView...); those stay as they are.
SECURITY_PAGES = ("/roles/", "/permissions/", "/viewmenus/", "/permissionviews/")
# The queue monitor lists the queues of the job runner by their technical names.
PAGE_IDENTIFIERS = {"/queues/": ["default"]}


def security_identifiers(app) -> list[str]:
    """Permission, view-menu and stored role names, longest first (as FAB prints them)."""
    with app.app_context():
        sm = app.appbuilder.sm
        names = {str(pv) for pv in sm.session.query(sm.permissionview_model)}
        names |= {p.name for p in sm.session.query(sm.permission_model)}
        names |= {p.name.replace("_", " ") for p in sm.session.query(sm.permission_model)}
        names |= {v.name for v in sm.session.query(sm.viewmenu_model)}
        names |= {r.name for r in sm.session.query(sm.role_model)}
    return sorted(names, key=len, reverse=True)


def english_words(html: str, identifiers=()) -> list[str]:
    """The English words a person sees on a page (data identifiers excepted)."""
    text = unescape(visible_text(html))
    for name in identifiers:
        text = re.sub(_A + re.escape(name) + _Z, " ", text)
    for pattern in IDENTIFIERS:
        text = re.sub(pattern, " ", text)
    return sorted({w for w in WORD.findall(text) if w not in ALLOWED_WORDS})


def _po(locale: str):
    with open(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po", "rb") as handle:
        return read_po(handle, locale=locale)


# --- (a) the catalogs ----------------------------------------------------------------------


def test_compiled_zh_catalog_translates_a_known_string(app):
    from flask_babel import force_locale, gettext

    assert (TRANSLATIONS / "zh" / "LC_MESSAGES" / "messages.mo").exists(), (
        "run `bash scripts/i18n.sh compile` first"
    )
    with app.test_request_context(), force_locale("zh"):
        assert gettext("Awaiting acceptance") == "待受理"
        assert gettext("Add") == "新增"  # a Flask-AppBuilder word our catalog overrides
    with app.test_request_context(), force_locale("en"):
        assert gettext("Awaiting acceptance") == "Awaiting acceptance"


def test_every_zh_message_is_translated_and_both_catalogs_match():
    zh, en = _po("zh"), _po("en")
    untranslated = [
        m.id for m in zh if m.id and not (all(m.string) if isinstance(m.string, tuple) else m.string)
    ]
    fuzzy = [m.id for m in zh if m.id and m.fuzzy]
    assert not untranslated, f"untranslated zh messages: {untranslated}"
    assert not fuzzy, f"fuzzy zh messages: {fuzzy}"
    assert {m.id for m in zh if m.id} == {m.id for m in en if m.id}
    # The Chinese of a message keeps its %(name)s parameters.
    for message in zh:
        if message.id and isinstance(message.id, str):
            assert set(re.findall(r"%\(\w+\)s", message.id)) == set(
                re.findall(r"%\(\w+\)s", message.string)
            ), message.id


def test_every_message_of_the_code_is_in_the_catalogs(tmp_path):
    """Extract the code's messages now (not the committed .pot): each must be in zh."""
    pot = tmp_path / "messages.pot"
    subprocess.run(
        ["bash", str(ROOT / "scripts" / "i18n.sh"), "extract"],
        check=True,
        env={**os.environ, "I18N_POT": str(pot)},
        capture_output=True,
    )
    with open(pot, "rb") as handle:
        extracted = {m.id for m in read_po(handle) if m.id}
    assert "Awaiting acceptance" in extracted
    missing = extracted - {m.id for m in _po("zh") if m.id}
    assert not missing, (
        f"run `scripts/i18n.sh extract && scripts/i18n.sh update`, translate, and compile: {sorted(missing)}"
    )


# --- (b) Chinese pages show no English ------------------------------------------------------


@pytest.fixture
def case_pages(session, actors, cats, depts):
    """Cases in the statuses that show every part of the case page and every action form."""
    now = clock.utcnow() - timedelta(hours=3)
    made = [
        case_in(session, actors, cats, depts, status, now=now)
        for status in (
            Status.SUBMITTED,
            Status.DECLINED,
            Status.ACCEPTED,
            Status.HANDLING,
            Status.REPLIED,
            Status.UNSATISFIED,
            Status.CLOSED,
        )
    ]
    report = case_in(session, actors, cats, depts, Status.SUBMITTED, now=now, case_type="report", grade="a")
    handling = made[3]
    svc.perform(
        session,
        handling.id,
        Action.REQUEST_EXTENSION,
        actor=handler_of(actors, "X102"),
        now=now + timedelta(hours=1),
        days=3,
        reason="需要会商",
    )
    session.commit()
    return [c.id for c in made + [report]]


def _menu_links(html: str) -> list[str]:
    """The pages of the navigation bar (menus, the profile), in order."""
    navbar = html[html.find('class="navbar') : html.find("</header>")]
    links = re.findall(r'href="(/[^"#]*)"', navbar)
    skip = ("/lang/", "/logout", "/static/")
    return list(dict.fromkeys(h for h in links if not h.startswith(skip) and h != "/"))


def _fetch(app, client, url: str):
    """GET a page in an app context of its own: the ``session`` fixture keeps a request context
    open, and a request made inside it would share its ``g`` (the logged-in user) and its
    database session."""
    with app.app_context():
        return client.get(url, follow_redirects=True)


def _login(app, username: str):
    with app.app_context():
        return login(app.test_client(), username)


def _get(app, client, url: str, problems: dict, role: str, identifiers=()):
    response = _fetch(app, client, url)
    if response.status_code == 404 and url.startswith("/cases/show/"):
        return ""  # a case this role may not see
    if response.status_code == 403:
        return ""  # access is tested elsewhere (tests/integration/test_access.py)
    if response.status_code != 200:
        problems.setdefault(role, []).append(f"{url}: HTTP {response.status_code}")
        return ""
    html = response.get_data(as_text=True)
    words = english_words(
        html, identifiers if url.startswith(SECURITY_PAGES) else PAGE_IDENTIFIERS.get(url, ())
    )
    if words:
        problems.setdefault(role, []).append(f"{url}: {' '.join(words)}")
    return html


# Pages reached from the list pages rather than the menu (forms, details, the profile).
ADMIN_EXTRA = [
    "/departmentview/add",
    "/departmentview/show/1",
    "/departmentview/edit/1",
    "/categoryview/add",
    "/categoryview/show/1",
    "/dispatchruleview/add",
    "/deadlinepolicyview/add",
    "/calendaryearview/add",
    "/calendardayview/add",
    "/settingview/show/accept_working_days",
    "/settingview/edit/accept_working_days",
    "/users/add",
    "/users/show/1",
    "/users/edit/1",
    "/users/userinfo/",
    "/userinfoeditview/form",
    "/resetmypassword/form",
    "/groups/add",
    "/roles/list/",
    "/cases/list/?_flt_0_status=closed",
    "/servicewindowview/list/",
    "/servicewindowview/add",
]
# The public pages a citizen opens without logging in.
PUBLIC_PAGES = ["/report/", "/track/", "/bulletins/"]
# Pages of a role checked even when its menu does not (or not yet) link them: the leaders'
# dashboard, typical cases, the report archive and the report form. (The period placeholder
# "2026-Q3" passes: "Q" alone is not a word.)
ROLE_EXTRA = {
    "leader": ["/dashboard/", "/typical/list/", "/reports/list/", "/reports/act/request"],
    "supervisor": ["/dashboard/"],
}


@pytest.fixture
def window(session, depts):
    """A service window, for its admin pages and the filing page its QR code opens."""
    from models import ServiceWindow

    made = ServiceWindow(
        name="3号综合窗口",
        hall="长河县政务服务中心",
        department=depts["X102"],
        region="清源省",
        token="i18n-window-token",
    )
    session.add(made)
    session.commit()
    return made.id, made.token


def test_chinese_pages_show_no_english_word(app, case_pages, window):
    problems: dict[str, list[str]] = {}
    seen: dict[str, set[str]] = {}
    identifiers = security_identifiers(app)
    _get(app, app.test_client(), "/login/", problems, "anonymous")
    window_id, window_token = window
    for url in PUBLIC_PAGES + [f"/report/?w={window_token}"]:
        _get(app, app.test_client(), url, problems, "anonymous")
    for role in ROLES:
        client = _login(app, role)
        home = _get(app, client, "/", problems, role)
        pages = _menu_links(home)
        pages += [f"/cases/show/{i}" for i in case_pages]
        pages += ROLE_EXTRA.get(role, [])
        if role == "admin":
            pages += ADMIN_EXTRA + [
                f"/servicewindowview/show/{window_id}",
                f"/servicewindowview/edit/{window_id}",
            ]
        visited = seen.setdefault(role, set())
        for url in pages:
            if url in visited:
                continue
            visited.add(url)
            html = _get(app, client, url, problems, role, identifiers)
            if url.startswith("/cases/show/"):
                for action_url in re.findall(r'href="(/cases/act/\d+/\w+)"', html):
                    if action_url not in visited:
                        visited.add(action_url)
                        _get(app, client, action_url, problems, role)
    # The test reached what it means to check.
    assert "/users/list/" in seen["admin"]
    assert any(u.startswith("/departmentview/list") for u in seen["admin"])
    assert any(u.startswith("/cases/intake/list") for u in seen["clerk"])
    assert any(u.startswith("/cases/act/") for u in seen["handler"])
    assert any(u.startswith("/cases/act/") for u in seen["supervisor"])
    report = "\n".join(f"[{role}] {line}" for role, lines in problems.items() for line in lines)
    assert not problems, "English words on Chinese pages:\n" + report


def test_switching_to_english_shows_english(app):
    client = login(app.test_client(), "clerk")
    chinese = visible_text(client.get("/").get_data(as_text=True))
    assert "Cases" not in chinese and "工单" in chinese
    client.get("/lang/en", follow_redirects=True)
    english = visible_text(client.get("/").get_data(as_text=True))
    assert "Cases" in english and "Intake queue" in english
    client.get("/lang/zh", follow_redirects=True)


def _post(app, client, url: str, data: dict) -> str:
    with app.app_context():
        return client.post(url, data=data, follow_redirects=True).get_data(as_text=True)


def test_messages_after_a_form_are_in_chinese(app, case_pages, cats):
    """The messages of the services, of the form validators and of the login are translated,
    and so are the confirmations of a filed case and of an action."""
    submitted, report = case_pages[0], case_pages[-1]
    clerk = _login(app, "clerk")
    admin = _login(app, "admin")
    intake = {
        "channel": "phone_12345",
        "case_type": "complaint",
        "urgency": "normal",
        "category_id": str(cats["GOV01"].id),
        "title": "审批超时",
        "content": "迟迟没有结果。",
        "region": "清源省",
        "reporter_name": "张三",
        "reporter_phone": "13900000000",
    }
    pages = {
        "decline without a reason": _post(app, clerk, f"/cases/act/{submitted}/decline", {}),
        "intake without data": _post(app, clerk, "/cases/new/", {"title": "审批超时"}),
        "department without data": _post(app, admin, "/departmentview/add", {}),
        "wrong password": _post(
            app, app.test_client(), "/login/", {"username": "clerk", "password": "wrong"}
        ),
        "case filed": _post(app, clerk, "/cases/new/", intake),
        "case accepted": _post(app, clerk, f"/cases/act/{report}/accept", {}),
    }
    problems = []
    for name, html in pages.items():
        # A filed case shows its receipt (number and query code) rather than a message.
        expected = (
            "receipt-code"
            if name == "case filed"
            else "alert-success"
            if name.startswith("case ")
            else "alert-danger"
        )
        if expected not in html and "help-block" not in html:
            problems.append(f"{name}: no message shown")
        words = english_words(html)
        if words:
            problems.append(f"{name}: {' '.join(words)}")
    assert not problems, "\n".join(problems)


def test_every_screen_title_and_error_page_is_chinese(app, case_pages, window):
    """The show, add and edit pages of every generated screen (FAB titles them "Show Inbox
    Message" unless told), the error pages, and the outbox's details are in Chinese."""
    from flask_appbuilder import ModelView

    identifiers = security_identifiers(app)
    problems: dict[str, list[str]] = {}
    pages = ["/no-such-page/", "/cases/show/999999999"]
    with app.app_context():
        for view in app.appbuilder.baseviews:
            if not isinstance(view, ModelView) or view.route_base.startswith(SECURITY_PAGES):
                continue
            first = view.datamodel.session.query(view.datamodel.obj).first()
            pk = view.datamodel.get_pk_value(first) if first is not None else None
            for name, url in (
                ("show", f"{view.route_base}/show/{pk}"),
                ("add", f"{view.route_base}/add"),
                ("edit", f"{view.route_base}/edit/{pk}"),
            ):
                if f"can_{name}" in view.base_permissions and (pk is not None or name == "add"):
                    pages.append(url)
    client = _login(app, "admin")
    for url in pages:
        _get(app, client, url, problems, "admin", identifiers)
    for who, url in ((app.test_client(), "/no-such-page/"), (client, "/cases/show/999999999")):
        page = _fetch(app, who, url)  # the error page itself
        assert page.status_code == 404 and "未找到" in page.get_data(as_text=True)
        if words := english_words(page.get_data(as_text=True)):
            problems.setdefault("anonymous", []).append(f"{url}: {' '.join(words)}")
    report = "\n".join(f"[{role}] {line}" for role, lines in problems.items() for line in lines)
    assert not [line for lines in problems.values() for line in lines if "HTTP 404" not in line], (
        "English words on Chinese pages:\n" + report
    )
