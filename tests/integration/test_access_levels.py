"""The access-control matrix across the levels of government (issue 15).

Users: the province's office (clerk, dispatcher, supervisor, leader, administrator), a city's
(石门市, sm_*), a county of that city (长河县, ch_*), its sibling county (东城区, dc_*), the sibling
city (北岭市, bl_*), handlers of a county, a city, a county of the other city and a province
department, and Finance. Objects: a case in each jurisdiction (清源省, 石门市, 长河县, 东城区, 北岭市,
西山县), each filed and moved on by its own office through the services, and two closed reports
(长河县, 北岭市), each with a reward and a typical case.

Every rule of the application's URL map that takes a case id (or a reward's or typical case's)
is requested by every user for every object (FAB's generic edit and delete, which no role
holds, for one): GET for all of them, and the mutating requests of
the action endpoints (every action of the transition table that could apply to the case's
status, with the parameters a legitimate caller would send, through the API; the offices' and
departments' moves on the screens). What each user may do is decided here from the rules, never
from the application's answer:

- an office reads the cases of its jurisdiction and of every jurisdiction under it (a county
  its own, a city its own and its counties', the province all) and acts only on its own
  jurisdiction's, except taking a lower office's case over (上收, PULL_UP);
- a handler reads and acts on the cases its own department is handling now;
- a reward is seen when its case is (Finance: those of its jurisdiction's scope) and decided by
  the case's own office; a typical case likewise;
- each route also needs the role's permission (ROLE_PERMISSIONS), and seeing who filed a case
  its own entitlement (the case's supervisor, the handling department of a complaint).

A refused request that nevertheless succeeds is an UNAUTHORISED SUCCESS; one that changed the
case (status, jurisdiction, supervisor, history, rewards, typical case) is a REFUSED REQUEST THAT
CHANGED THE CASE. Both fail the test. Each user's requests run inside a savepoint rolled back
afterwards, so every user finds the objects as they were built (an allowed move of one user never
hides another's refusal).

The lists, counts and reminders are checked by content: a county user's case lists, API list,
events, revisit calls, rewards and typical cases never name a case of a parent or a sibling
jurisdiction, its home page and dashboard count its own, and the sweep's reminders reach the
supervisors of the case's own office only.
"""

from __future__ import annotations

import os
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.publication import TypicalKind
from app.rewards import RewardAction
from app.security import ROLE_PERMISSIONS
from app.workflow import OFFICE_ROLES, TRANSITIONS, Action, Role, Status
from tests.conftest import at, login
from tests.factories import case_in
from tests.integration.test_access_matrix import (
    MUTATING_FAB_METHODS,
    _jwt,
    _permission_of,
    _png,
    _pop_flashes,
)

NOW = at("2026-11-02 10:00")
VERBOSE = bool(os.environ.get("ACCESS_MATRIX_VERBOSE"))
ONLY = [u for u in os.environ.get("ACCESS_LEVELS_USERS", "").split(",") if u]  # to look at a few users

OFFICES = ("sm", "ch", "dc", "bl")
OFFICE_SUFFIXES = ("clerk", "dispatcher", "supervisor", "leader")
HANDLERS = ("handler", "handler3", "handler4", "handler8")  # X102 长河县, C10 石门市, X201 西山县, P00 省
USERS = (
    "clerk",
    "dispatcher",
    "supervisor",
    "leader",
    "admin",
    *(f"{office}_{suffix}" for office in OFFICES for suffix in OFFICE_SUFFIXES),
    *HANDLERS,
    "finance",  # pays rewards: reads no case, sees the rewards of its jurisdiction's scope
)
REGIONS = {
    "QY": "清源省",
    "SM": "清源省/石门市",
    "CH": "清源省/石门市/长河县",
    "DC": "清源省/石门市/东城区",
    "BL": "清源省/北岭市",
    "XS": "清源省/北岭市/西山县",
}
# The cases: key → (jurisdiction, status, lead department, extra filing data). Each status is
# one where a different office's move is possible (accept, dispatch, sign, reply, pull up …).
CASES = {
    "QY": ("QY", Status.DISPATCHED, "P00", {}),
    "SM": ("SM", Status.HANDLING, "C10", {}),
    "CH": ("CH", Status.HANDLING, "X102", {}),
    "DC": ("DC", Status.SUBMITTED, "X102", {}),
    "BL": ("BL", Status.ACCEPTED, "C20", {}),
    "XS": ("XS", Status.DISPATCHED, "X201", {}),
    "CH-closed": ("CH", Status.CLOSED, "X102", {"case_type": "report", "grade": "c", "finding": "true"}),
    "BL-closed": ("BL", Status.CLOSED, "C20", {"case_type": "report", "grade": "c", "finding": "true"}),
}
# The endpoints that move a case (the mutating requests sent); every other rule is read with GET.
CASE_ACTION_VIEWS = (
    "CaseActionView",
    "CaseApi.act",
    "RewardActionView",
    "RewardApi.act",
    "TypicalActionView",
)
# On the screens, the form of these actions is posted (the same service answers the API, where
# every action of the case's status is posted): the moves of each office and department.
SCREEN_ACTIONS = {
    Action.ACCEPT,
    Action.CLASSIFY,
    Action.DISPATCH,
    Action.SIGN,
    Action.REPLY,
    Action.ADD_NOTE,
    Action.EVALUATE,
    Action.CLOSE,
    Action.REFER_UP,
    Action.PULL_UP,
    Action.SEND_DOWN,
}
# Only in the lists (the matrix has a closed report already).
LIST_ONLY = {"BL-closed"}
# What a legitimate caller sends with an action (the form and the API ignore what they do not use).
PARAMS = {
    "note": "访问矩阵核对",
    "reason": "访问矩阵核对理由",
    "reply": "已按规定办结。",
    "decline_reason": "out_of_scope",
    "days": 3,
    "working_days": 5,
    "rating": "satisfied",
    "source": "revisit_call",
    "method": "phone",
    "result": "untrue",
    "facts": "经核查，情况如下。",
    "summary": "初步核查结果已出。",
    "measures": "限期整改",
    "responsible": "王科长",
    "completion": "已整改到位",
    "part_answer": "本单位部分已办结。",
    "outcome": "reached",
    "notes": "回访已接通。",
    "case_type": "complaint",
    "urgency": "normal",
    "body": "请补充材料。",
    "amount": 100,
    "reasons": "核实属实",
    "kind": "typical",
    "reference": "ZZ-2026-001",
    "heading": "某县行政审批超时问题得到纠正",
    "approve": "1",
}


# --- the rules ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """A user as the rules see them (read from the accounts, never from an answer)."""

    username: str
    role: Role | None
    jurisdiction_path: str | None  # None: anonymous
    department_id: int | None
    department_chain: frozenset[int] = frozenset()

    @property
    def office(self) -> bool:
        return self.role in OFFICE_ROLES


@dataclass
class CaseState:
    jurisdiction_path: str
    status: str
    supervisor_id: int | None
    events: int
    departments: frozenset[int]  # active assignments
    concerned_department_id: int | None
    rewards: tuple = ()  # (id, status, ledger rows) of its rewards
    typical: tuple = ()  # (id, state, heading) of its typical case

    @property
    def fingerprint(self) -> tuple:
        return (
            self.jurisdiction_path,
            self.status,
            self.supervisor_id,
            self.events,
            self.rewards,
            self.typical,
        )


def sees(person: Person, case: CaseState) -> bool:
    """An office reads its jurisdiction and those under it; a handler its department's cases;
    nobody the cases about their own department or one above it."""
    if person.role is None:
        return False
    if case.concerned_department_id is not None and case.concerned_department_id in person.department_chain:
        return False
    if person.office:
        return case.jurisdiction_path.startswith(person.jurisdiction_path)
    if person.role == Role.HANDLER:
        return person.department_id in case.departments
    return False


def sees_reward(person: Person, case: CaseState) -> bool:
    """A reward is seen when its case is; Finance, who pays without reading cases, sees those
    of its jurisdiction and the ones under it."""
    if person.role == Role.FINANCE:
        return case.jurisdiction_path.startswith(person.jurisdiction_path) and (
            case.concerned_department_id not in person.department_chain
        )
    return sees(person, case)


def acts(person: Person, case: CaseState, action: str | None = None) -> bool:
    """An office acts on its own jurisdiction's cases only, and takes over (上收) a lower
    office's; a handler acts on its department's."""
    if not sees(person, case):
        return False
    if person.office:
        own = case.jurisdiction_path == person.jurisdiction_path
        return not own if action == Action.PULL_UP else own
    return person.role == Role.HANDLER


def permission_checker(app):
    """Whether a role holds a FAB permission on a view (ROLE_PERMISSIONS; Admin: all there are)."""
    import re

    sm = app.appbuilder.sm
    registered = {
        (pv.permission.name, pv.view_menu.name)
        for pv in sm.session.query(sm.permissionview_model).all()
        if pv.permission and pv.view_menu
    }
    compiled = {
        role: [(re.compile(f"^(?:{p})$"), re.compile(f"^(?:{v})$")) for p, v in patterns]
        for role, patterns in ROLE_PERMISSIONS.items()
    }

    def has(role: Role | None, permission: str, view_name: str) -> bool:
        if role is None:
            return False
        if role == Role.ADMIN:
            return (permission, view_name) in registered
        return any(p.match(permission) and v.match(view_name) for p, v in compiled[role])

    return has


# --- the objects -------------------------------------------------------------------------------


def build_objects(app, session, actors, cats, depts) -> dict:
    """The cases, each built by its own office, with a file each; rewards, typical cases,
    identity requests and revisit calls on some of them."""
    import models as m
    from app.demo import office_actors
    from app.services import protection, rewards, sweep, typical
    from app.services.reporting import attach_files

    places = {j.code: j for j in session.query(m.Jurisdiction)}
    offices = office_actors(session)

    def office(code):
        return {**actors, **offices[places[code].id]}

    cases = {}
    for key, (code, status, lead, extra) in CASES.items():
        extra = dict(extra)
        finding = extra.pop("finding", "untrue")
        cases[key] = case_in(
            session,
            office(code),
            cats,
            depts,
            status,
            now=NOW,
            lead=lead,
            finding=finding,
            region=REGIONS[code],
            title=f"矩阵工单{key}",
            **extra,
        )
        assert cases[key].jurisdiction_id == places[code].id, key
    png = _png()
    attachments = {}
    for key, case in cases.items():
        attach_files(case, [("matrix.png", png)], now=NOW, staff=office(CASES[key][0])["clerk"])
        session.flush()
        attachments[key] = case.attachments[-1].id
    later = NOW + timedelta(days=1)
    tier = session.query(m.RewardTier).order_by(m.RewardTier.min_yuan).first()
    reward_ids, typical_ids = {}, {}
    for key in ("CH-closed", "BL-closed"):
        supervisor = office(CASES[key][0])["supervisor"]
        case = cases[key]
        reward_ids[key] = rewards.propose_reward(
            session,
            case.id,
            actor=supervisor,
            now=later,
            reporter_id=case.reporters[0].id,
            tier_id=tier.id,
            amount=tier.min_yuan,
            reasons="核实属实",
        ).id
        typical_ids[key] = typical.mark_typical(
            session, case.id, actor=supervisor, now=later, kind=TypicalKind.TYPICAL
        ).id
    # 长河县's reward approved by its leader: Finance may pay it.
    rewards.approve_reward(session, reward_ids["CH-closed"], actor=office("CH")["leader"], now=later)
    for key in ("CH", "QY"):
        protection.request_identity(
            session,
            cases[key].id,
            actor=office(CASES[key][0])["supervisor"],
            now=later,
            reason="访问矩阵",
        )
        sweep.add_revisit(session, cases[key], reason=f"sample:{key}", now=later)
    session.commit()
    return {
        "places": places,
        "cases": {k: c.id for k, c in cases.items()},
        "numbers": {k: c.number for k, c in cases.items()},
        "events": {k: c.events[0].id for k, c in cases.items()},
        "attachments": attachments,
        "rewards": reward_ids,
        "typical": typical_ids,
        "statuses": {k: str(c.status) for k, c in cases.items()},
    }


def people(app, session) -> dict[str, Person]:
    import models as m

    found = {"anonymous": Person("anonymous", None, None, None)}
    parents = dict(session.execute(select(m.Department.id, m.Department.parent_id)).all())
    root = session.execute(select(m.Jurisdiction.path).where(m.Jurisdiction.parent_id.is_(None))).scalar_one()
    for name in USERS:
        user = session.query(m.Staff).filter_by(username=name).one()
        role = next(Role(r.name) for r in user.roles if r.name in set(Role))
        chain, current = set(), user.department_id
        while current is not None and current not in chain:
            chain.add(current)
            current = parents.get(current)
        path = user.jurisdiction.path if user.jurisdiction is not None else root
        found[name] = Person(name, role, path, user.department_id, frozenset(chain))
    return found


def case_states(connection) -> dict[int, CaseState]:
    """Every case as it stands, read straight from the database (the test's own connection)."""
    import models as m

    events = dict(
        connection.execute(select(m.CaseEvent.case_id, func.count()).group_by(m.CaseEvent.case_id)).all()
    )
    departments = defaultdict(set)
    for case_id, department_id in connection.execute(
        select(m.Assignment.case_id, m.Assignment.department_id).where(m.Assignment.active.is_(True))
    ):
        departments[case_id].add(department_id)
    rewards, typical = defaultdict(list), {}
    for reward_id, case_id, status in connection.execute(
        select(m.Reward.id, m.Reward.case_id, m.Reward.status)
    ):
        rewards[case_id].append((reward_id, str(status)))
    ledger = dict(
        connection.execute(
            select(m.RewardEntry.reward_id, func.count()).group_by(m.RewardEntry.reward_id)
        ).all()
    )
    for typical_id, case_id, state, heading in connection.execute(
        select(m.TypicalCase.id, m.TypicalCase.case_id, m.TypicalCase.state, m.TypicalCase.heading)
    ):
        typical[case_id] = (typical_id, str(state), heading)
    rows = connection.execute(
        select(
            m.Case.id,
            m.Jurisdiction.path,
            m.Case.status,
            m.Case.supervisor_id,
            m.Case.concerned_department_id,
        ).join(m.Jurisdiction, m.Jurisdiction.id == m.Case.jurisdiction_id)
    )
    return {
        case_id: CaseState(
            path,
            str(status),
            supervisor,
            events.get(case_id, 0),
            frozenset(departments[case_id]),
            about,
            tuple(sorted((r, status, ledger.get(r, 0)) for r, status in rewards[case_id])),
            typical.get(case_id, ()),
        )
        for case_id, path, status, supervisor, about in rows
    }


# --- the requests ------------------------------------------------------------------------------


@dataclass
class Target:
    url: str
    method: str
    endpoint: str
    view: object
    method_name: str
    case_key: str
    case_id: int
    action: str | None = None
    data: dict = field(default_factory=dict)
    kind: str = "case"  # or "reward", "typical": the object the route addresses

    @property
    def is_api(self) -> bool:
        return self.url.startswith("/api/")

    @property
    def mutating(self) -> bool:
        return self.method != "GET" or self.method_name in MUTATING_FAB_METHODS


def _actions_for(status: str) -> list[str]:
    """The actions the transition table allows from a status, and the moves across levels."""
    found = {str(t.action) for t in TRANSITIONS if t.source == status}
    found |= {Action.REFER_UP.value, Action.PULL_UP.value, Action.SEND_DOWN.value}
    return sorted(found)


def _case_params(session, objs, key: str) -> dict:
    """The parameters that name something of the case's own jurisdiction: a department of it
    (one with a handler where there is one), a lower office, a supervisor who may see it."""
    import models as m

    code, _, lead, _ = CASES[key]
    place = objs["places"][code]
    children = [j.id for j in objs["places"].values() if j.parent_id == place.id]
    supervisor = session.query(m.Staff).filter_by(username=_office_user(code, "supervisor")).one()
    other = next((k for k, (c, *_rest) in CASES.items() if c == code and k != key), None)
    return {
        **PARAMS,
        "lead_department_id": session.query(m.Department).filter_by(code=lead).one().id,
        "jurisdiction_id": children[0] if children else None,
        "supervisor_id": supervisor.id,
        "other": objs["numbers"][other] if other else objs["numbers"]["QY"],
        "reporter_id": None,
        "tier_id": session.query(m.RewardTier.id).order_by(m.RewardTier.min_yuan).limit(1).scalar(),
    }


def _office_user(code: str, suffix: str) -> str:
    return suffix if code == "QY" else f"{code.lower()}_{suffix}"


def targets(app, session, objs) -> list[Target]:
    """Every rule of the URL map that takes a case id, for every case: GET where the rule
    answers GET; the case-action endpoints' mutating methods with the actions that could apply."""
    import models as m

    views = {v.endpoint: v for v in app.appbuilder.baseviews}
    adapter = app.url_map.bind("localhost")
    found = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        view_endpoint, _, method_name = rule.endpoint.partition(".")
        view = views.get(view_endpoint)
        model = getattr(getattr(view, "datamodel", None), "obj", None)
        args = set(rule.arguments)
        kind = (
            "reward"
            if "reward_id" in args or ("pk" in args and model is m.Reward)
            else "typical"
            if "typical_id" in args or ("pk" in args and model is m.TypicalCase)
            else "case"
            if "case_id" in args or ("pk" in args and model in (m.Case, m.CaseEvent))
            else None
        )
        if view is None or kind is None:
            continue
        if "name" in args:  # FAB list/show actions: the case views define none
            assert not view.actions, rule.rule
            continue
        objects = objs["cases"] if kind == "case" else objs["rewards" if kind == "reward" else "typical"]
        for key, object_id in objects.items():
            if key in LIST_ONLY and kind == "case":
                continue
            if method_name in MUTATING_FAB_METHODS and key != next(iter(objects)):
                continue  # FAB's generic edit and delete: no role holds them, whatever the object
            case_id = objs["cases"][key]
            values = {"case_id": case_id} if "case_id" in args else {"pk": object_id}
            if kind != "case":
                values = {
                    "reward_id"
                    if "reward_id" in args
                    else "typical_id"
                    if "typical_id" in args
                    else "pk": object_id
                }
            if model is m.CaseEvent and "pk" in args:
                values = {"pk": objs["events"][key]}
            if "attachment_id" in args:
                values["attachment_id"] = objs["attachments"][key]
            params = _case_params(session, objs, key)
            params["reporter_id"] = _first_reporter(session, case_id)
            if kind == "reward":
                params["method"] = "bank"  # paid by bank transfer (a revisit's "method" is a call's)
            actions = [None]
            if "action" in args:
                actions = (
                    [a.value for a in RewardAction]
                    if kind == "reward"
                    else _actions_for(objs["statuses"][key])
                )
            moves = rule.endpoint.startswith(CASE_ACTION_VIEWS)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                if method != "GET" and not moves:
                    continue
                if method == "GET":
                    chosen = [Action.ADD_NOTE.value] if "action" in args else [None]  # any form: a read
                elif rule.endpoint == "CaseActionView.act":
                    chosen = [a for a in actions if a in SCREEN_ACTIONS]
                else:
                    chosen = actions
                for action in chosen:
                    url = adapter.build(rule.endpoint, {**values, **({"action": action} if action else {})})
                    data = {k: v for k, v in params.items() if v is not None}
                    if method == "GET":
                        data = {}
                    elif not url.startswith("/api/"):
                        data = {k: str(v) for k, v in data.items()}
                    found.append(
                        Target(
                            url, method, rule.endpoint, view, method_name, key, case_id, action, data, kind
                        )
                    )
    return found


def _first_reporter(session, case_id: int) -> int | None:
    import models as m

    return session.execute(
        select(m.Reporter.id).where(m.Reporter.case_id == case_id).order_by(m.Reporter.id).limit(1)
    ).scalar()


def expected(has, person: Person, target: Target, case: CaseState, identity) -> bool:
    """Whether the rules let ``person`` succeed (an upper bound: a refusal for a reason of the
    workflow, such as a missing finding, is never a hole)."""
    permission = _permission_of(target.view, target.method_name)
    if permission is None or not has(person.role, permission, target.view.class_permission_name):
        return False
    if target.kind == "reward":  # seen when its case is; decided by the case's own office
        if not sees_reward(person, case):
            return False
        return not target.mutating or person.role == Role.FINANCE or acts(person, case)
    if not sees(person, case):
        return False
    if not target.mutating:
        return True
    endpoint = target.endpoint
    if endpoint in ("CaseActionView.identity", "CaseActionView.original"):
        return identity(person, target.case_id)
    if endpoint == "CaseActionView.request_identity":
        return True  # asking the custodian is no move on the case: whoever reads it may ask
    if endpoint == "CaseActionView.assign_supervisor":
        return person.role == Role.CUSTODIAN or acts(person, case)
    if endpoint in ("CaseActionView.act", "CaseApi.act"):
        return acts(person, case, target.action)
    return acts(person, case)


def succeeded(client, target: Target, response) -> bool:
    """Whether a request did what it asked: a 2xx (on a screen, a form shown again with an
    error is a refusal), or, for a screen's POST, a redirect without an error message to a page
    other than the login."""
    code = response.status_code
    if target.is_api:
        return 200 <= code < 300
    flashes = _pop_flashes(client) if code >= 300 else []
    if 300 <= code < 400 and target.mutating:
        location = response.headers.get("Location", "")
        return "/login" not in location and not any(category == "danger" for category, _ in flashes)
    if 200 <= code < 300 and target.mutating:
        return b"alert-danger" not in response.data
    return 200 <= code < 300


@dataclass
class Tally:
    checked: int = 0
    outcomes: Counter = field(default_factory=Counter)
    holes: list = field(default_factory=list)


def test_no_office_reads_or_acts_outside_its_jurisdictions(
    app, session, actors, cats, depts, monkeypatch, _isolated_database
):
    import models as m

    started = time.monotonic()
    connection = _isolated_database
    objs = build_objects(app, session, actors, cats, depts)
    persons = people(app, session)
    all_targets = targets(app, session, objs)
    has = permission_checker(app)
    staff_ids = {name: session.query(m.Staff.id).filter_by(username=name).scalar() for name in USERS}
    session.commit()
    session.close()

    def identity(person: Person, case_id: int) -> bool:
        """Who may see who filed a case: its named supervisor, or the department handling a
        complaint (the reporters are named and not confidential)."""
        case = states[case_id]
        kind = connection.execute(select(m.Case.case_type).where(m.Case.id == case_id)).scalar()
        if person.role == Role.SUPERVISOR:
            return case.supervisor_id == staff_ids[person.username]
        return person.role == Role.HANDLER and person.department_id in case.departments and kind != "report"

    tallies: dict[str, Tally] = defaultdict(Tally)
    errors: list[str] = []
    seconds = {}
    for name in ONLY or ("anonymous", *USERS):
        user_started = time.monotonic()
        person = persons[name]
        checkpoint = connection.begin_nested()
        screen, api = app.test_client(), app.test_client()
        screen_headers, api_headers = {}, {}
        if name != "anonymous":
            login(screen, name)
            api_headers = _jwt(api, name)
        states = case_states(connection)
        for target in sorted(all_targets, key=lambda t: t.mutating):
            case = states[target.case_id]
            allowed = expected(has, person, target, case, identity)
            client, headers = (api, api_headers) if target.is_api else (screen, screen_headers)
            kwargs = {"headers": headers}
            if target.method in ("POST", "PUT"):
                kwargs["json" if target.is_api else "data"] = target.data
            try:
                response = client.open(target.url, method=target.method, **kwargs)
            except Exception as error:  # noqa: BLE001  (a 500 in production: not a success)
                errors.append(f"{name} {target.method} {target.url}: {error!r}"[:240])
                tallies[name].checked += 1
                continue
            code = response.status_code
            success = succeeded(client, target, response)
            tally = tallies[name]
            tally.checked += 1
            tally.outcomes["allowed" if allowed else "denied"] += 1
            label = f"{name:14} {target.method:6} {target.url} [{target.case_key}] → {code}"
            if VERBOSE:
                print(("ok   " if allowed else "deny ") + label)
            tally.outcomes["succeeded"] += success and target.mutating
            if success and not allowed:
                tally.holes.append(f"UNAUTHORISED SUCCESS {label}")
            if target.mutating:
                states = case_states(connection)
                if not allowed and states[target.case_id].fingerprint != case.fingerprint:
                    tally.holes.append(f"REFUSED REQUEST CHANGED THE CASE {label}")
        screen.post("/logout/")
        checkpoint.rollback()
        seconds[name] = round(time.monotonic() - user_started, 1)

    elapsed = time.monotonic() - started
    total = sum(t.checked for t in tallies.values())
    print(f"\naccess matrix across levels: {total} requests, {len(all_targets)} per user, in {elapsed:.1f}s")
    print(f"{'user':15} {'allowed':>8} {'denied':>8} {'moves':>6} {'holes':>6} {'seconds':>8}")
    for name, tally in tallies.items():
        print(
            f"{name:15} {tally.outcomes['allowed']:8} {tally.outcomes['denied']:8} "
            f"{tally.outcomes['succeeded']:6} {len(tally.holes):6} {seconds.get(name, 0):8}"
        )
    print(f"{len(errors)} requests raised (a 500 in production; counted as not successful):")
    for error in errors:
        print("  ", error)
    holes = [hole for tally in tallies.values() for hole in tally.holes]
    assert not holes, "\n".join(holes)
    assert not errors, "\n".join(errors)


# --- lists, counts and reminders, by content -------------------------------------------------

# The lists a user may open (each is checked only for those with its permission).
SCREEN_LISTS = (
    "/cases/list/",
    "/cases/intake/list/",
    "/cases/dispatch/list/",
    "/cases/department/list/",
    "/cases/supervision/list/",
    "/cases/overdue/list/",
    "/revisits/list/",
    "/rewards/list/",
    "/typical/list/",
    "/identity/list/",
)
API_LISTS = ("/api/v1/case/", "/api/v1/case_event/", "/api/v1/reward/")
LIST_USERS = (
    "ch_clerk",
    "ch_supervisor",
    "ch_leader",
    "dc_dispatcher",
    "sm_supervisor",
    "bl_supervisor",
    "supervisor",
    "leader",
    "handler",
    "finance",
    "custodian",
)


def visible_keys(session, objs, username: str) -> set[str]:
    """The object cases the user may see, by the rules (office: its jurisdiction and those
    under it; handler: its department's active assignments; finance: none, but the rewards
    of its jurisdiction's scope)."""
    import models as m

    user = session.query(m.Staff).filter_by(username=username).one()
    path = user.jurisdiction.path
    found = set()
    for key, case_id in objs["cases"].items():
        case = session.get(m.Case, case_id)
        roles = {r.name for r in user.roles}
        if roles & {r.value for r in OFFICE_ROLES}:
            if case.jurisdiction.path.startswith(path):
                found.add(key)
        elif Role.HANDLER.value in roles:
            if any(a.active and a.department_id == user.department_id for a in case.assignments):
                found.add(key)
    return found


def _numbers_in(text: str, objs) -> set[str]:
    return {key for key, number in objs["numbers"].items() if number in text}


@pytest.mark.parametrize("username", LIST_USERS)
def test_lists_name_only_the_cases_of_the_users_jurisdictions(app, session, actors, cats, depts, username):
    """A county's lists never name a case of its city, its province or a sibling county; a city's
    name its own and its counties'; a handler's only its department's."""
    import json

    objs = build_objects(app, session, actors, cats, depts)
    seen = visible_keys(session, objs, username)
    reward_cases = {"CH-closed", "BL-closed"}
    if username == "finance":  # pays the rewards of its jurisdiction's scope, reads no case
        seen_rewards = reward_cases
    else:
        seen_rewards = reward_cases & seen
    screen = login(app.test_client(), username)
    opened = 0
    for url in SCREEN_LISTS:
        response = screen.get(url + "?psize_CaseView=100")
        if response.status_code != 200:
            continue
        opened += 1
        named = _numbers_in(response.get_data(as_text=True), objs)
        allowed = seen_rewards if url.startswith("/rewards/") else seen
        assert named <= allowed, (username, url, sorted(named - allowed))
        if url == "/cases/list/":
            assert named == seen, (username, url, sorted(seen - named))
    api = app.test_client()
    headers = _jwt(api, username)
    ids = {case_id: key for key, case_id in objs["cases"].items()}
    for url in API_LISTS:
        response = api.get(url, query_string={"q": json.dumps({"page_size": 100})}, headers=headers)
        if response.status_code != 200:
            continue
        opened += 1
        rows = response.get_json()["result"]
        named = {
            ids[row.get("case_id", row.get("id"))] for row in rows if row.get("case_id", row.get("id")) in ids
        }
        allowed = seen_rewards if "reward" in url else seen
        assert named <= allowed, (username, url, sorted(named - allowed))
        if url == "/api/v1/case/":
            assert named == seen, (username, url, sorted(seen - named))
    assert opened, f"{username} opened no list"


@pytest.mark.parametrize(
    "username, waiting",
    [
        ("ch_clerk", {"handling": 1}),
        ("dc_clerk", {"submitted": 1}),
        ("sm_supervisor", {"handling": 2, "submitted": 1}),
        ("bl_leader", {"accepted": 1, "dispatched": 1}),
        ("supervisor", {"handling": 2, "submitted": 1, "accepted": 1, "dispatched": 2}),
    ],
)
def test_home_page_counts_only_what_waits_in_the_users_jurisdictions(
    app, session, actors, cats, depts, monkeypatch, username, waiting
):
    """The landing page's figures are the office's own and its lower offices' (never the
    province's totals for a county, never a figure kept for another office)."""
    from app.demo import actor_for
    from views import home

    build_objects(app, session, actors, cats, depts)
    monkeypatch.setitem(app.config, "HOME_COUNTS_SECONDS", 300)  # the figures are kept
    monkeypatch.setattr(home, "_counted", {})
    view = next(v for v in app.appbuilder.baseviews if isinstance(v, home.HomeView))
    for name in ("supervisor", username):  # the province first: its figures must not be reused
        counts, _ = view._what_waits(actor_for(session, name))
    assert {str(status): n for status, n in counts.items() if n} == waiting


def test_reminders_reach_the_supervisors_of_the_cases_own_office_only(app, session, actors, cats, depts):
    """The sweep tells the supervisors of the case's office that a case waits for acceptance
    (东城区's case: 东城区's supervisor), not every supervisor of the province; a revisit call is
    announced to the case's office; an office without a custodian is served by the one above."""
    import models as m
    from app.services import sweep

    objs = build_objects(app, session, actors, cats, depts)
    sweep.run_sweep(session, NOW + timedelta(days=10))
    session.flush()
    supervisors = {
        s.id: s.username for s in session.query(m.Staff).filter(m.Staff.roles.any(name=Role.SUPERVISOR.value))
    }

    def told(key: str, template: str | None = None) -> set[str]:
        rows = session.query(m.Notification).filter(
            m.Notification.case_id == objs["cases"][key], m.Notification.channel == "inbox"
        )
        if template is not None:
            rows = rows.filter(m.Notification.template == template)
        return {supervisors[r.user_id] for r in rows if r.user_id in supervisors}

    assert told("DC", "not_accepted") == {"dc_supervisor"}
    assert told("DC", "first_response_late") == {"dc_supervisor"}
    assert told("CH", "revisit") == {"ch_supervisor"}
    assert told("QY", "revisit") == {"supervisor", "supervisor2"}
    for key, (code, *_rest) in CASES.items():
        office = {"supervisor", "supervisor2"} if code == "QY" else {f"{code.lower()}_supervisor"}
        assert told(key) <= office, (key, told(key))
    custodian = session.query(m.Staff.id).filter_by(username="custodian").scalar()
    asked = session.query(m.Notification.user_id).filter_by(
        case_id=objs["cases"]["CH"], template="identity_requested", channel="inbox"
    )
    assert {user_id for (user_id,) in asked} == {custodian}  # 长河县 has none: the province's


@pytest.mark.parametrize(
    "username, decided",
    [("ch_leader", {"CH", "CH-closed"}), ("sm_leader", {"SM", "CH", "CH-closed"}), ("leader", None)],
)
def test_dashboard_counts_and_opens_only_the_users_jurisdictions(
    app, session, actors, cats, depts, username, decided
):
    """The dashboard's clocks count the cases of the reader's scope; its department choice lists
    the departments of that scope, and a department outside it cannot be drilled into."""
    import models as m

    objs = build_objects(app, session, actors, cats, depts)
    decided = decided or {k for k, (_, status, *_rest) in CASES.items() if status != Status.SUBMITTED}
    client = login(app.test_client(), username)
    data = client.get("/dashboard/data?period=2026-11").get_json()
    acceptance = next(c for c in data["clocks"]["clocks"] if c["key"] == "acceptance")
    assert acceptance["on_time"] + acceptance["late"] == len(decided)
    page = client.get("/dashboard/?period=2026-11").get_data(as_text=True)
    user = session.query(m.Staff).filter_by(username=username).one()
    for department in session.query(m.Department):
        inside = department.jurisdiction is not None and department.jurisdiction.path.startswith(
            user.jurisdiction.path
        )
        drill = client.get(f"/dashboard/drill?period=2026-11&department={department.id}")
        assert (drill.status_code == 200) == inside, (username, department.code, drill.status_code)
        assert (f'value="{department.id}"' in page) == inside, (username, department.code)
    assert objs
