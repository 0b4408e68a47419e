"""Access-control matrix generated from the application's own URL map.

Every rule of ``app.url_map`` (each method it accepts) is requested by every role (and by an
anonymous visitor) against three cases: one actively assigned to the handler's department
(X102), one of another department (X103) and an anonymous report about X102 dispatched to C10.
The EXPECTED access is decided here from the rules — ROLE_PERMISSIONS (the FAB permission of
the view and method), who sees which case, whose notices and inbox rows are whose, who may see
a reporter's identity — never from the application's answer. A request the rules refuse that
nevertheless succeeds (2xx, or a redirect without an error message to a non-login page after a
mutating request) is an UNAUTHORISED SUCCESS; the test fails on any, and on any refused request
that changed the case. Public routes are listed explicitly below.
"""

from __future__ import annotations

import os
import re
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from app.rewards import RewardAction
from app.security import ROLE_PERMISSIONS
from app.workflow import Action, Role, Status
from tests.conftest import api_token as conftest_api_token
from tests.conftest import at, login
from tests.factories import case_in

NOW = at("2026-11-02 10:00")

# Routes open to everyone by design (endpoint → why).
PUBLIC_ENDPOINTS = {
    "HomeView.index": "landing page",
    "UtilView.back": "FAB's 'back' redirect",
    "AuthDBView.login": "the login form",
    "AuthDBView.second_factor": "the login's second step (only after a password was accepted)",
    "SecurityApi.login": "JWT login",
    "SecurityApi.refresh": "JWT refresh (needs a refresh token)",
    "OpenApi.get": "the OpenAPI spec",
    "PublicReportView.form": "/report/ public filing",
    "PublicReportView.confirm": "/report/ public filing",
    "PublicReportView.receipt_pdf": "/report/ public filing",
    "PublicReportView.receipt": "/report/ public filing (the receipt after the redirect)",
    "PublicTrackView.form": "/track/ reporter tracking (receipt + code)",
    "PublicTrackView.case": "/track/ reporter tracking",
    "PublicTrackView.leave": "/track/ reporter tracking",
    "PublicTrackView.material": "/track/ reporter tracking",
    "PublicTrackView.message": "/track/ reporter tracking",
    "PublicTrackView.rate": "/track/ reporter tracking",
    "PublicTrackView.reward_claim": "/track/ reporter tracking",
    "PublicTrackView.reward_confirm": "/track/ reporter tracking",
    "PublicBulletinView.index": "/bulletins/ published bulletins",
    "PublicBulletinView.download": "/bulletins/ published bulletins",
    "EnterpriseConfirmView.index": "/enterprise/ the enterprise's own code (confirm inspections)",
    "EnterpriseConfirmView.confirm": "/enterprise/ the enterprise's own code (confirm inspections)",
    "EnterpriseConfirmView.problem": "/enterprise/ the enterprise's own code (report a problem)",
    # Open311 GeoReport v2: public reads of what protects nobody, writes with an API key
    # (tests/integration/test_open311.py checks what each shows to whom).
    "Open311View.discovery": "/open311/v2 Open311 discovery",
    "Open311View.services": "/open311/v2 Open311 services",
    "Open311View.service_definition": "/open311/v2 Open311 service definition",
    "Open311View.requests": "/open311/v2 Open311 requests (POST needs an API key)",
    "Open311View.request_by_id": "/open311/v2 Open311 request (protected cases: their filer only)",
    "Open311View.token": "/open311/v2 Open311 token of a filed request",
    "Open311View.unknown": "/open311/v2 Open311 error body for any other address",
}
# Not requested at all (rule prefix or endpoint → reason).
SKIPPED_ENDPOINTS = {
    "static": "static files",
    "appbuilder.static": "static files",
    "LocaleView.index": "/lang switches the language",
    "AuthDBView.logout": "/logout would end the role's session",
    "SwaggerView.show": "swagger UI assets",
}
ROLE_OF = {
    "admin": Role.ADMIN,
    "clerk": Role.CLERK,
    "dispatcher": Role.DISPATCHER,
    "handler": Role.HANDLER,
    "supervisor": Role.SUPERVISOR,
    "leader": Role.LEADER,
    "finance": Role.FINANCE,
    "hotline12345": Role.INTEGRATION,
    "inspector": Role.INSPECTOR,
    "anonymous": None,
}
# Roles that see every case (the rule of DOMAIN.md); the others see only the cases their own
# department actively handles, the connected system only the cases it filed.
SEES_ALL = {"admin", "clerk", "dispatcher", "supervisor", "leader"}
CASE_KINDS = ("x102", "x103", "report")
VERBOSE = bool(os.environ.get("ACCESS_MATRIX_VERBOSE"))  # print every request and its answer
MUTATING_FAB_METHODS = {"delete", "action", "action_post", "add", "edit"}


@dataclass
class Target:
    """One request to make: a URL and what it touches."""

    url: str
    method: str
    endpoint: str
    kind: str = "-"  # the object kind (x102/x103/report/row/-)
    case_id: int | None = None
    notice_dept: int | None = None
    inbox_user: int | None = None
    data: dict = field(default_factory=dict)


@dataclass
class Result:
    checked: int = 0
    outcomes: Counter = field(default_factory=Counter)
    holes: list = field(default_factory=list)


def _permission_checker(app):
    sm = app.appbuilder.sm
    registered = {
        (pv.permission.name, pv.view_menu.name)
        for pv in sm.session.query(sm.permissionview_model).all()
        if pv.permission and pv.view_menu
    }
    compiled = {
        role: [(re.compile(f"^(?:{p})$"), re.compile(f"^(?:{v})$")) for p, v in pats]
        for role, pats in ROLE_PERMISSIONS.items()
    }

    def has(role_name: str, permission: str, view_name: str) -> bool:
        role = ROLE_OF[role_name]
        if role is None:
            return False  # the Public role holds no permission
        if role == Role.ADMIN:
            return (permission, view_name) in registered  # Admin: every registered permission
        return any(p.match(permission) and v.match(view_name) for p, v in compiled[role])

    return has


def _permission_of(view, method: str, action_name: str | None = None) -> str | None:
    if method in ("action", "action_post"):
        return view.get_action_permission_name(action_name)
    fn = getattr(view, method, None)
    name = (getattr(view, "method_permission_name", None) or {}).get(method) or getattr(
        fn, "_permission_name", None
    )
    return f"can_{name}" if name else None


def _build_objects(app, session, actors, cats, depts):
    """The three cases and, where cheap, one of each related object (else a skip reason)."""
    import models as m
    from app.publication import TypicalKind
    from app.services import notices, rewards, typical
    from app.services.reporting import attach_files
    from app.supervision import NoticeCause

    objs = {"skips": {}}
    cases = {
        "x102": case_in(session, actors, cats, depts, Status.HANDLING, now=NOW, lead="X102"),
        "x103": case_in(session, actors, cats, depts, Status.DISPATCHED, now=NOW, lead="X103"),
        "report": case_in(
            session,
            actors,
            cats,
            depts,
            Status.DISPATCHED,
            now=NOW,
            lead="C10",
            case_type="report",
            grade="c",  # an A grade would go to discipline inspection only
            anonymous=True,
            concerned_department_id=depts["X102"].id,
        ),
    }
    objs["cases"] = {k: c.id for k, c in cases.items()}
    objs["events"] = {k: c.events[0].id for k, c in cases.items()}
    session.flush()
    objs["attachments"] = {}
    try:
        for k, c in cases.items():
            attach_files(c, [("matrix.png", _png())], now=NOW, staff=actors["clerk"])
            session.flush()
            objs["attachments"][k] = c.attachments[-1].id
    except Exception as error:  # noqa: BLE001  (recorded as a skip reason)
        objs["skips"]["attachment_id"] = f"attachment could not be stored: {error}"
    objs["notices"] = {}
    for k, dept in (("x102", "X102"), ("x103", "X103"), ("report", "C10")):
        notice = notices.raise_notice(
            session,
            cause=NoticeCause.SUPERVISOR_DECISION,
            subject=f"matrix-{k}-{cases[k].id}",
            department_id=depts[dept].id,
            cases=[cases[k]],
            details="access matrix",
            now=NOW,
            actor=actors["supervisor"],
        )
        objs["notices"][k] = (notice.id, depts[dept].id)
    # A closed, named report, found true and rectified, carries the reward and the typical case.
    support = case_in(
        session,
        actors,
        cats,
        depts,
        Status.CLOSED,
        now=NOW,
        lead="X102",
        case_type="report",
        grade="c",
        finding="true",
    )
    later = NOW + timedelta(days=1)
    tier = session.query(m.RewardTier).order_by(m.RewardTier.min_yuan).first()
    try:
        reward = rewards.propose_reward(
            session,
            support.id,
            actor=actors["supervisor"],
            now=later,
            reporter_id=support.reporters[0].id,
            tier_id=tier.id,
            amount=tier.min_yuan,
            reasons="核实属实",
        )
        objs["reward"] = reward.id
    except Exception as error:  # noqa: BLE001
        objs["skips"]["reward_id"] = f"reward could not be proposed: {error}"
    try:
        objs["typical"] = typical.mark_typical(
            session, support.id, actor=actors["supervisor"], now=later, kind=TypicalKind.TYPICAL
        ).id
    except Exception as error:  # noqa: BLE001
        objs["skips"]["typical_id"] = f"typical case could not be marked: {error}"
    from app.services import protection

    objs["identity_request"] = protection.request_identity(
        session, cases["x102"].id, actor=actors["supervisor"], now=later, reason="access matrix"
    ).id
    objs["skips"]["report_id"] = (
        "generated reports render PDF/XLSX files (slow); no report/bulletin object created"
    )
    _inspection_objects(session, objs, depts)
    from app.services import callbacks

    objs["callback"] = callbacks.register_subscription(  # the admin-only callback screen's row
        session,
        user=session.query(m.Staff).filter_by(username="hotline12345").one(),
        url="https://8.8.8.8/matrix",
        now=NOW,
    )[0].id
    session.commit()
    sm = app.appbuilder.sm
    key = sm.create_api_key(sm.find_user(username="hotline12345"), "t")
    objs["api_key"], objs["api_key_uuid"] = key["key"], key["uuid"]
    objs["handler_role"] = sm.find_role("Handler").id
    return objs


def _inspection_objects(session, objs, depts) -> None:
    """An enterprise with its two codes, one inspection by the demo inspector's unit and one
    open warning about X102 (the routes of 入企扫码 and of the warnings address them)."""
    import models as m
    from app.early_warning import SubjectKind

    inspector = session.query(m.Staff).filter_by(username="inspector").one()
    enterprise = m.Enterprise(
        name="矩阵测试企业",
        credit_code="91350100M000100Y43",
        token="matrix-scan-token",
        confirm_token="matrix-confirm-token",
        created_at=NOW,
    )
    officers = [
        m.EnforcementOfficer(
            name=name, certificate_no=number, department_id=inspector.department_id, user_id=user
        )
        for name, number, user in (("矩阵甲", "MX-0001", inspector.id), ("矩阵乙", "MX-0002", None))
    ]
    basis = session.query(m.InspectionItem).filter_by(kind="basis").first()
    session.add_all([enterprise, *officers])
    session.flush()
    inspection = m.Inspection(
        number="JC20261102999999",
        enterprise_id=enterprise.id,
        department_id=inspector.department_id,
        basis_id=basis.id,
        started_at=NOW,
        created_at=NOW,
        officers=officers,
    )
    model = session.query(m.WarningModel).first()
    warning = m.EarlyWarning(
        key="matrix",
        model_id=model.id,
        subject_kind=SubjectKind.DEPARTMENT,
        subject_key=str(depts["X102"].id),
        subject_label=depts["X102"].name,
        department_id=depts["X102"].id,
        jurisdiction_id=session.query(m.Jurisdiction.id).filter_by(parent_id=None).scalar(),
        period_start=NOW.date(),
        period_end=NOW.date(),
        created_at=NOW,
        due_at=NOW,
    )
    session.add_all([inspection, warning])
    session.flush()
    objs["enterprise"] = enterprise.id
    objs["inspection"] = inspection.id
    objs["warning"] = warning.id


def _png() -> bytes:
    from io import BytesIO

    from PIL import Image

    buffer = BytesIO()
    Image.new("RGB", (4, 4), "white").save(buffer, format="PNG")
    return buffer.getvalue()


def _first_row_id(session, model):
    mapper = model.__mapper__
    pk = mapper.primary_key[0]
    row = session.query(pk).order_by(pk).first()
    return row[0] if row else None


def _targets(app, session, objs):
    """Expand every rule of the URL map into requests; return (targets, skipped)."""
    from werkzeug.routing import BuildError

    import models as m

    views = {v.endpoint: v for v in app.appbuilder.baseviews}
    case_models = {m.Case: "case", m.CaseEvent: "event"}
    targets, skipped, unprotected = [], [], []
    adapter = app.url_map.bind("localhost")

    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        endpoint = rule.endpoint
        methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
        if endpoint in SKIPPED_ENDPOINTS:
            skipped.append((rule.rule, SKIPPED_ENDPOINTS[endpoint]))
            continue
        view_ep, _, method_name = endpoint.partition(".")
        view = views.get(view_ep)
        if view is None:
            skipped.append((rule.rule, "no AppBuilder view behind the endpoint"))
            continue
        model = getattr(getattr(view, "datamodel", None), "obj", None)
        args = set(rule.arguments)
        if (
            endpoint not in PUBLIC_ENDPOINTS
            and method_name not in ("action", "action_post")
            and _permission_of(view, method_name) is None
        ):
            unprotected.append(rule.rule)

        # Each combination of object and parameter values.
        combos = [({}, {"kind": "-"})]

        def expand(values_list, combos=None):
            return [({**v0, **v1}, {**o0, **o1}) for v0, o0 in combos for v1, o1 in values_list]

        reason = next((objs["skips"][a] for a in args if a in objs["skips"]), None)
        if reason:
            skipped.append((rule.rule, reason))
            continue
        if "case_id" in args or ("pk" in args and model in case_models):
            key = "case_id" if "case_id" in args else "pk"
            source = objs["events"] if case_models.get(model) == "event" and key == "pk" else objs["cases"]
            options = []
            for kind in CASE_KINDS:
                values = {key: source[kind]}
                if "attachment_id" in args:
                    values["attachment_id"] = objs["attachments"][kind]
                options.append((values, {"kind": kind, "case_id": objs["cases"][kind]}))
            combos = expand(options, combos)
        elif "pk" in args and model is m.Notice or "notice_id" in args:
            key = "notice_id" if "notice_id" in args else "pk"
            combos = expand(
                [
                    ({key: nid}, {"kind": f"notice-{kind}", "notice_dept": dept})
                    for kind, (nid, dept) in objs["notices"].items()
                ],
                combos,
            )
        elif "pk" in args and view_ep == "InspectorView":
            combos = expand([({"pk": objs["inspection"]}, {"kind": "row"})], combos)
        elif "pk" in args and model is not None:
            if model is m.Reward and "reward" in objs:
                row = objs["reward"]
            elif model is m.TypicalCase and "typical" in objs:
                row = objs["typical"]
            else:
                row = _first_row_id(session, model)
            if row is None:
                skipped.append((rule.rule, f"no {model.__name__} row to address"))
                continue
            info = {"kind": "row"}
            if model is m.InboxMessage:
                info["inbox_user"] = session.get(model, row).user_id
            combos = expand([({"pk": row}, info)], combos)
        elif "pk" in args:
            skipped.append((rule.rule, "pk of a view without a model"))
            continue
        for arg, value in (
            ("reward_id", objs.get("reward")),
            ("typical_id", objs.get("typical")),
            ("request_id", objs.get("identity_request")),
            ("role_id", objs["handler_role"]),
            ("key_uuid", objs["api_key_uuid"]),
            ("filename", "matrix_sep_none.txt"),
            ("version", "v1"),
            ("fmt", "json" if view_ep == "Open311View" else "pdf"),
            ("service_code", "GOV01"),
            ("service_request_id", session.get(m.Case, objs["cases"]["report"]).number),
            ("anything", "nothing.json"),
            ("group_by", "0"),
            ("token", "matrix-confirm-token" if view_ep == "EnterpriseConfirmView" else "matrix-scan-token"),
            ("inspection_id", objs["inspection"]),
            ("warning_id", objs["warning"]),
            ("subject_id", objs["enterprise"]),
            ("by", "enterprise"),
        ):
            if arg in args:
                combos = expand([({arg: value}, {"kind": "row"} if arg.endswith("_id") else {})], combos)
        if "action" in args:
            names = RewardAction if "reward" in rule.rule else Action
            combos = expand([({"action": a.value}, {}) for a in names], combos)
        if "name" in args or method_name == "action_post":
            action_names = sorted(view.actions or {})
            if not action_names:
                skipped.append((rule.rule, f"{view_ep} defines no list/show actions"))
                continue
            if "name" in args:
                combos = expand([({"name": n}, {"action_name": n}) for n in action_names], combos)
            else:
                row = _first_row_id(session, model) if model not in case_models else None
                combos = expand(
                    [
                        (
                            {},
                            {
                                "action_name": n,
                                "data": {
                                    "action": n,
                                    "rowid": [str(objs["cases"]["x102"] if model in case_models else row)],
                                },
                            },
                        )
                        for n in action_names
                    ],
                    combos,
                )
        for values, info in combos:
            try:
                url = adapter.build(endpoint, values, force_external=False)
            except BuildError:
                skipped.append((rule.rule, f"could not build with {values}"))
                continue
            for http in methods:
                targets.append(
                    (
                        Target(
                            url=url,
                            method=http,
                            endpoint=endpoint,
                            **{
                                k: v
                                for k, v in info.items()
                                if k in ("kind", "case_id", "notice_dept", "inbox_user", "data")
                            },
                        ),
                        info.get("action_name"),
                        view,
                        method_name,
                        model,
                    )
                )
    return targets, skipped, unprotected


def test_access_matrix_has_no_unauthorised_success(app, session, actors, cats, depts, monkeypatch):
    from sqlalchemy import select

    import models as m

    started = time.monotonic()
    objs = _build_objects(app, session, actors, cats, depts)
    _memoize_api_key_check(app, monkeypatch, objs["api_key"])
    targets, skipped, unprotected = _targets(app, session, objs)
    has = _permission_checker(app)
    users = {name: app.appbuilder.sm.find_user(username=name) for name in ROLE_OF if name != "anonymous"}
    case_models = (m.Case, m.CaseEvent)

    def department_handles(case_id: int, department_id) -> bool:
        return (
            department_id is not None
            and session.execute(
                select(m.Assignment.id).where(
                    m.Assignment.case_id == case_id,
                    m.Assignment.active.is_(True),
                    m.Assignment.department_id == department_id,
                )
            ).first()
            is not None
        )

    def sees_case(role: str, case_id: int) -> bool:
        if role == "anonymous":
            return False
        if role in SEES_ALL:
            return True
        if role == "hotline12345":
            return session.get(m.Case, case_id).created_by_id == users[role].id
        return department_handles(case_id, users[role].department_id)

    def may_see_identity(role: str, case_id: int) -> bool:
        case = session.get(m.Case, case_id)
        named = [r for r in case.reporters if not r.anonymous]
        if not named:
            return False
        if role == "supervisor":  # need to know: only the supervisor the case is assigned to
            return case.supervisor_id == users[role].id
        return (
            role == "handler"
            and department_handles(case_id, users[role].department_id)
            and case.case_type != "report"
            and any(not r.confidential for r in named)
        )

    def expected(role: str, target: Target, action_name, view, method_name, model):
        if target.endpoint in PUBLIC_ENDPOINTS:
            return True
        permission = _permission_of(view, method_name, action_name)
        if permission is None or not has(role, permission, view.class_permission_name):
            return False
        if target.case_id is not None and not sees_case(role, target.case_id):
            return False
        if (
            target.notice_dept is not None
            and role not in ("supervisor", "leader", "admin")
            and (role == "anonymous" or users[role].department_id != target.notice_dept)
        ):
            return False
        if target.inbox_user is not None and (role == "anonymous" or users[role].id != target.inbox_user):
            return False
        if target.endpoint == "CaseActionView.identity":
            return may_see_identity(role, target.case_id)
        return True

    def case_state(case_id):
        session.expire_all()
        case = session.get(m.Case, case_id)
        events = session.query(m.CaseEvent).filter_by(case_id=case_id).count()
        return case.status, events

    results: dict[str, Result] = defaultdict(Result)
    skipped_requests: Counter = Counter()
    errors: list[str] = []
    role_times: dict[str, float] = {}
    order = [
        "anonymous",
        "hotline12345",
        "finance",
        "leader",
        "handler",
        "clerk",
        "dispatcher",
        "admin",
        "supervisor",
    ]
    for role in order:
        role_started = time.monotonic()
        screen, api = app.test_client(), app.test_client()
        screen_headers, api_headers = {}, {}
        if role == "hotline12345":
            screen_headers = api_headers = {"Authorization": f"Bearer {objs['api_key']}"}
        elif role != "anonymous":
            login(screen, role)
            api_headers = _jwt(api, role)
        # Reads first, then the mutating requests.
        for target, action_name, view, method_name, model in sorted(
            targets, key=lambda t: t[0].method != "GET"
        ):
            mutating = target.method != "GET" or method_name in MUTATING_FAB_METHODS
            shared = model is not None and model not in case_models and target.case_id is None
            if (
                role == "admin"
                and mutating
                and (shared or target.url.startswith("/api/v1/security/"))
                and target.endpoint not in PUBLIC_ENDPOINTS
            ):
                # Admin holds every permission: a mutation would change the seed data the whole
                # test session shares (users, roles, departments, settings …).
                skipped_requests[(role, "admin mutation of shared reference data not sent")] += 1
                continue
            allowed = expected(role, target, action_name, view, method_name, model)
            is_api = target.url.startswith("/api/")
            client, headers = (api, api_headers) if is_api else (screen, screen_headers)
            before = case_state(target.case_id) if target.case_id and mutating else None
            kwargs = {"headers": headers}
            if target.method in ("POST", "PUT"):
                kwargs["json" if is_api else "data"] = target.data or {}
            try:
                response = client.open(target.url, method=target.method, **kwargs)
            except Exception as error:  # noqa: BLE001  (TESTING propagates a 500: not a success)
                errors.append(f"{role} {target.method} {target.url}: {error!r}"[:200])
                session.rollback()
                results[role].checked += 1
                results[role].outcomes["allowed" if allowed else "denied"] += 1
                continue
            code = response.status_code
            success = 200 <= code < 300
            if 300 <= code < 400 and mutating:
                location = response.headers.get("Location", "")
                flashes = _pop_flashes(client) if not is_api else []
                success = "/login" not in location and not any(c == "danger" for c, _ in flashes)
            elif not is_api and code >= 300:
                _pop_flashes(client)
            if VERBOSE:
                print(
                    f"{'ok  ' if allowed else 'deny'} {role:13} {target.method:6} {target.url} "
                    f"[{target.kind}] → {code}"
                )
            result = results[role]
            result.checked += 1
            result.outcomes["allowed" if allowed else "denied"] += 1
            label = f"{role:13} {target.method:6} {target.url} [{target.kind}] → {code}"
            if success and not allowed:
                result.holes.append(f"UNAUTHORISED SUCCESS {label}")
            if before is not None and not allowed and case_state(target.case_id) != before:
                result.holes.append(f"REFUSED REQUEST CHANGED THE CASE {label}")
        screen.post("/logout/")
        role_times[role] = time.monotonic() - role_started

    elapsed = time.monotonic() - started
    _print_summary(results, skipped, skipped_requests, elapsed)
    print("seconds per role:", {r: round(t, 1) for r, t in role_times.items()})
    print(f"{len(errors)} requests raised (a 500 in production; counted as not successful):")
    for error in errors:
        print("  ", error)
    assert not unprotected, f"routes without a permission that are not listed public: {unprotected}"
    holes = [hole for r in results.values() for hole in r.holes]
    assert not holes, "\n".join(holes)


def _memoize_api_key_check(app, monkeypatch, key):
    """FAB checks an API key against its scrypt hash on every request (~50 ms). The first check
    of the test's key is real; later ones reuse its answer (any other string is checked as
    usual), which keeps the matrix within its time budget."""
    sm = app.appbuilder.sm
    real = sm.validate_api_key
    answers = {}

    def validate(api_key_string):
        if api_key_string != key:
            return real(api_key_string)
        if key not in answers:
            answers[key] = real(api_key_string)
        user = answers[key]
        return sm.session.merge(user, load=False) if user is not None else None

    monkeypatch.setattr(sm, "validate_api_key", validate)


def _jwt(client, username):
    client._cookies.clear()
    return {"Authorization": f"Bearer {conftest_api_token(client, username)}"}


def _pop_flashes(client):
    with client.session_transaction() as flask_session:
        return flask_session.pop("_flashes", [])


def _print_summary(results, skipped, skipped_requests, elapsed):
    total = sum(r.checked for r in results.values())
    print(f"\naccess matrix: {total} requests in {elapsed:.1f}s")
    print(f"{'role':13} {'allowed':>8} {'denied':>8} {'skipped':>8} {'holes':>6}")
    for role, result in results.items():
        skipped_count = sum(n for (r, _), n in skipped_requests.items() if r == role)
        print(
            f"{role:13} {result.outcomes['allowed']:8} {result.outcomes['denied']:8} "
            f"{skipped_count:8} {len(result.holes):6}"
        )
    reasons = Counter(reason for _, reason in skipped)
    print("skipped routes (not requested by any role):")
    for reason, count in sorted(reasons.items()):
        print(f"  {count:3} × {reason}")
    for (role, reason), count in sorted(skipped_requests.items()):
        print(f"  {count:3} × {role}: {reason}")
    print("public by design:", ", ".join(sorted(PUBLIC_ENDPOINTS)))
