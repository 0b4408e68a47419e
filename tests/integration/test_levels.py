"""A case across the levels of government (issue 15, DOMAIN.md "Levels and jurisdictions"):
提级办理 (a difficult case referred up to the office above: county → city → province, with its
history), 上收 (an upper office takes a lower office's case over) and 交办 (an office sends a case
down to an office below, with a deadline the lower office's dispatch cannot pass), 属地管理 (an
office acts only on its own jurisdiction's cases and sends them only to departments of its
jurisdiction or of one under it), and every moved case's deadlines on the calendar of the
office that now handles it.

The demo organisation: 清源省 (QY, the province) → 石门市 (SM) → 长河县 (CH), 东城区 (DC);
北岭市 (BL) → 西山县 (XS)."""

from __future__ import annotations

import itertools
import re
from datetime import timedelta

import pytest

from app import deadlines as dl
from app.demo import actor_for
from app.enums import AssignmentState, ExtensionState
from app.errors import IllegalMove, Invalid, NotFound
from app.services import cases as svc
from app.services.calendar import load_calendar
from app.workflow import Action, Status
from models import CalendarDay, Case, Jurisdiction, Notification, Staff
from tests.conftest import at, login
from tests.factories import file_case, refused

NOW = at("2026-06-01 10:00")  # a Monday; no public holiday for weeks
COUNTY = "清源省/石门市/长河县"
CITY = "清源省/石门市"
PROVINCE = "清源省"


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def places(session):
    return {j.code: j for j in session.query(Jurisdiction)}


@pytest.fixture
def when():
    """The moments of one test's steps, five minutes apart, in order."""
    return (NOW + timedelta(minutes=5 * i) for i in itertools.count(1))


def who(session, username):
    return actor_for(session, username)


def act(session, case, action, username, when, **params):
    return svc.perform(session, case.id, action, actor=who(session, username), now=next(when), **params)


def filed(session, cats, region=COUNTY, clerk="ch_clerk", **extra):
    """A case filed by the clerk of the office whose region it concerns."""
    return file_case(session, {"clerk": who(session, clerk)}, cats, now=NOW, region=region, **extra)


def accepted(session, cats, when, region=COUNTY, clerk="ch_clerk", **extra):
    case = filed(session, cats, region, clerk, **extra)
    act(session, case, Action.ACCEPT, clerk, when)
    return case


def dispatched(session, cats, depts, when, *, lead="X102", region=COUNTY, office="ch"):
    case = accepted(session, cats, when, region, f"{office}_clerk")
    act(session, case, Action.DISPATCH, f"{office}_dispatcher", when, lead_department_id=depts[lead].id)
    return case


def told(session, template: str, case: Case) -> set[str]:
    """The usernames told in their inbox with ``template`` about the case."""
    ids = {
        n.user_id
        for n in session.query(Notification).filter_by(template=template, channel="inbox", case_id=case.id)
    }
    return {u for (u,) in session.query(Staff.username).filter(Staff.id.in_(ids))}


def texted(session, template: str, case: Case) -> int:
    return session.query(Notification).filter_by(template=template, channel="sms", case_id=case.id).count()


def moves(case: Case) -> list[tuple[str, str, str]]:
    return [
        (e.action, e.data["from_name"], e.data["to_name"])
        for e in case.events
        if e.action in ("refer_up", "pull_up", "send_down")
    ]


# --- 提级办理: referred up, level by level, with the history -----------------------------------------


def test_a_county_case_is_referred_up_to_the_city_and_then_to_the_province_with_its_history(
    session, cats, depts, places, when
):
    case = dispatched(session, cats, depts, when)
    act(session, case, Action.SIGN, "handler", when)  # X102 (长河县行政审批局) is handling it
    assert case.status == Status.HANDLING and case.jurisdiction == places["CH"]

    act(session, case, Action.REFER_UP, "ch_supervisor", when, note="涉及市级部门职责，县级难以协调解决。")

    assert case.jurisdiction == places["SM"]
    assert case.status == Status.ACCEPTED  # in the city's dispatch queue
    assert case.is_difficult
    assert case.lead_department is None and case.active_assignments == []
    assert [a.state for a in case.assignments] == [AssignmentState.WITHDRAWN]
    assert case.proposed_department is not None
    assert case.proposed_department.jurisdiction.path.startswith(places["SM"].path)
    # The city office is told; the department that lost it is told; the reporter, neutrally.
    assert told(session, "case_referred_up", case) == {"sm_dispatcher", "sm_supervisor"}
    assert told(session, "case_withdrawn", case) == {"handler"}
    assert texted(session, "case_office_changed", case) == 1
    # The county office no longer sees it: the case is the city's now.
    with pytest.raises(NotFound):
        svc.get_case(session, case.id, who(session, "ch_supervisor"))

    act(session, case, Action.REFER_UP, "sm_supervisor", when, note="跨市级部门，提请省级办理。")
    assert case.jurisdiction == places["QY"] and case.status == Status.ACCEPTED
    assert told(session, "case_referred_up", case) >= {"dispatcher", "supervisor", "supervisor2"}

    # The history keeps every step, with where the case came from and where it went.
    assert moves(case) == [("refer_up", "长河县", "石门市"), ("refer_up", "石门市", "清源省")]
    assert [e.action for e in case.events][:4] == ["file", "accept", "dispatch", "sign"]
    refer = next(e for e in case.events if e.action == "refer_up")
    assert refer.data["from"] == places["CH"].id and refer.data["to"] == places["SM"].id
    assert refer.note == "涉及市级部门职责，县级难以协调解决。"
    assert refer.public_text  # the reporter's page shows that the case moved, not why

    # The province dispatches it to a department of its own; it has no office above it.
    act(session, case, Action.DISPATCH, "dispatcher", when, lead_department_id=depts["P01"].id)
    assert case.status == Status.DISPATCHED
    with refused(IllegalMove, "no higher office"):
        act(session, case, Action.REFER_UP, "supervisor", when, note="再提级")


def test_referring_up_needs_a_reason_and_withdraws_what_the_departments_had_pending(
    session, cats, depts, places, when
):
    case = dispatched(session, cats, depts, when)
    act(session, case, Action.SIGN, "handler", when)
    act(session, case, Action.REQUEST_EXTENSION, "handler", when, days=3, reason="需会商")
    act(session, case, Action.RAISE_DISPUTE, "handler", when, reason="职责交叉")
    with refused(Invalid, "required"):
        act(session, case, Action.REFER_UP, "ch_dispatcher", when, note=" ")
    act(session, case, Action.REFER_UP, "ch_dispatcher", when, note="疑难复杂")
    assert case.extensions[0].state == ExtensionState.WITHDRAWN
    assert case.open_dispute is None  # the departments disputing it no longer hold it
    assert case.pending_extension is None


# --- 上收: an upper office takes a lower office's case over -------------------------------------------


def test_the_city_takes_over_a_county_case(session, cats, depts, places, when):
    case = dispatched(session, cats, depts, when)
    with refused(Invalid, "required"):
        act(session, case, Action.PULL_UP, "sm_dispatcher", when, note="")
    act(session, case, Action.PULL_UP, "sm_dispatcher", when, note="市里统一协调办理。")

    assert case.jurisdiction == places["SM"] and case.status == Status.ACCEPTED
    assert case.lead_department is None and not case.active_assignments
    assert moves(case) == [("pull_up", "长河县", "石门市")]
    assert told(session, "case_pulled_up", case) == {"sm_dispatcher", "sm_supervisor"}
    assert told(session, "case_taken_over", case) == {"ch_dispatcher", "ch_supervisor"}
    assert told(session, "case_withdrawn", case) == {"handler"}
    assert texted(session, "case_office_changed", case) == 1
    # The city may send it straight to a county department (under its jurisdiction).
    act(session, case, Action.DISPATCH, "sm_dispatcher", when, lead_department_id=depts["X102"].id)
    assert case.lead_department == depts["X102"]


def test_a_case_taken_over_before_acceptance_waits_in_the_upper_offices_intake(session, cats, places, when):
    case = filed(session, cats)
    act(session, case, Action.PULL_UP, "supervisor", when, note="省级直接受理。")  # the province
    assert case.status == Status.SUBMITTED and case.jurisdiction == places["QY"]
    assert case.proposed_department is None  # proposed when the province's clerk accepts it
    act(session, case, Action.ACCEPT, "clerk", when)
    assert case.status == Status.ACCEPTED


def test_a_sibling_county_cannot_take_over_a_case_and_an_office_not_its_own(session, cats, when):
    case = accepted(session, cats, when)
    with pytest.raises(NotFound):  # 东城区 does not even see 长河县's cases
        act(session, case, Action.PULL_UP, "dc_supervisor", when, note="上收")
    with pytest.raises(NotFound):  # nor does 北岭市 (another city)
        act(session, case, Action.PULL_UP, "bl_supervisor", when, note="上收")
    with refused(IllegalMove, "Only an upper office"):  # 长河县 cannot take over its own case
        act(session, case, Action.PULL_UP, "ch_supervisor", when, note="上收")
    city_case = accepted(session, cats, when, region=CITY, clerk="sm_clerk")
    with refused(IllegalMove, "Only an upper office"):
        act(session, city_case, Action.PULL_UP, "sm_dispatcher", when, note="上收")
    assert case.status == Status.ACCEPTED and not any(e.action == "pull_up" for e in case.events)


# --- 属地管理: an office acts on its own jurisdiction's cases only -------------------------------------


def test_a_county_office_cannot_act_on_a_city_case(session, cats, when):
    case = accepted(session, cats, when, region=CITY, clerk="sm_clerk")
    for username, action, params in [
        ("ch_dispatcher", Action.DISPATCH, {"lead_department_id": 1}),
        ("ch_supervisor", Action.PULL_UP, {"note": "上收"}),
        ("ch_dispatcher", Action.REFER_UP, {"note": "提级"}),
    ]:
        with pytest.raises(NotFound):  # a case above its office is not in its scope at all
            act(session, case, action, username, when, **params)
    assert case.status == Status.ACCEPTED and case.lead_department is None


def test_a_city_office_must_take_a_county_case_over_before_acting_on_it(session, cats, depts, when):
    submitted = filed(session, cats)
    with refused(IllegalMove, "take it over first"):
        act(session, submitted, Action.ACCEPT, "sm_clerk", when)
    case = accepted(session, cats, when)
    with refused(IllegalMove, "take it over first"):
        act(session, case, Action.DISPATCH, "sm_dispatcher", when, lead_department_id=depts["X102"].id)
    with refused(IllegalMove, "take it over first"):
        act(session, case, Action.SEND_DOWN, "sm_supervisor", when, jurisdiction_id=1, working_days=5)
    # It reads and supervises the case; the one move open to it is taking it over.
    assert svc.available_actions(session, case, who(session, "sm_dispatcher")) == [Action.PULL_UP]
    assert svc.available_actions(session, case, who(session, "sm_supervisor")) == [Action.PULL_UP]
    assert svc.available_actions(session, case, who(session, "sm_clerk")) == []
    assert case.status == Status.ACCEPTED


# --- 交办: sent down with a deadline ------------------------------------------------------------------


def test_the_city_sends_a_case_down_to_a_county_and_the_countys_dispatch_keeps_to_its_deadline(
    session, cats, depts, places, when
):
    case = accepted(session, cats, when, region=CITY, clerk="sm_clerk")
    act(
        session,
        case,
        Action.SEND_DOWN,
        "sm_dispatcher",
        when,
        jurisdiction_id=places["CH"].id,
        working_days=2,
        note="请长河县属地办理。",
    )
    sent = next(e for e in case.events if e.action == "send_down")
    deadline = dl.working_day_deadline(load_calendar(session, places["CH"]), sent.at, 2).due_at
    assert case.jurisdiction == places["CH"] and case.status == Status.ACCEPTED
    assert case.jurisdiction_due_at == deadline == at("2026-06-03 23:59") + timedelta(seconds=59)
    assert case.due_at == deadline  # the policy's 15 working days give way to the office's 2
    assert sent.data["working_days"] == 2 and moves(case) == [("send_down", "石门市", "长河县")]
    assert told(session, "case_sent_down", case) == {"ch_dispatcher", "ch_supervisor"}
    assert texted(session, "case_office_changed", case) == 1

    act(session, case, Action.DISPATCH, "ch_dispatcher", when, lead_department_id=depts["X102"].id)
    assert case.lead_assignment.due_at == deadline  # capped: never past the city's deadline
    assert case.due_at == deadline
    # Neither an extension nor anything else moves it past the deadline from above.
    act(session, case, Action.SIGN, "handler", when)
    act(session, case, Action.REQUEST_EXTENSION, "handler", when, days=5, reason="需补充材料")
    assert svc.extended_due(session, case) == deadline
    act(session, case, Action.APPROVE_EXTENSION, "ch_supervisor", when)
    assert case.lead_assignment.due_at == deadline and case.due_at == deadline

    # Referred back up, the city's deadline for the county no longer applies.
    act(session, case, Action.REFER_UP, "ch_supervisor", when, note="县级无法办理")
    assert case.jurisdiction == places["SM"] and case.jurisdiction_due_at is None
    assert case.due_at > deadline


def test_a_case_is_sent_down_only_to_an_office_directly_below_within_the_allowed_days(
    session, cats, places, when
):
    case = accepted(session, cats, when, region=CITY, clerk="sm_clerk")

    def send(**params):
        act(session, case, Action.SEND_DOWN, "sm_supervisor", when, **{"note": "交办", **params})

    for elsewhere in ("XS", "BL", "SM", "QY"):  # another city's county, a sibling, itself, above
        with refused(Invalid, "directly under"):
            send(jurisdiction_id=places[elsewhere].id, working_days=5)
    for nonsense in (None, "", "abc", 999999, "1; drop table"):
        with refused(Invalid, "directly under"):
            send(jurisdiction_id=nonsense, working_days=5)
    for days in (0, -1, 31, None, "", "五"):
        with refused(Invalid, "between 1 and"):
            send(jurisdiction_id=places["DC"].id, working_days=days)
    places["DC"].active = False
    session.flush()
    with refused(Invalid, "directly under"):
        send(jurisdiction_id=places["DC"].id, working_days=5)
    assert case.jurisdiction == places["SM"] and len(case.events) == 2  # nothing happened
    send(jurisdiction_id=places["CH"].id, working_days=30)
    assert case.jurisdiction == places["CH"]


def test_a_county_has_no_office_below_to_send_a_case_down_to(session, cats, places, when):
    case = accepted(session, cats, when)
    with refused(IllegalMove, "no lower office"):
        act(
            session,
            case,
            Action.SEND_DOWN,
            "ch_dispatcher",
            when,
            jurisdiction_id=places["CH"].id,
            working_days=3,
        )


def test_sent_down_twice_the_lower_deadline_stays_within_the_upper_one(session, cats, places, when):
    case = accepted(session, cats, when, region=PROVINCE, clerk="clerk")
    act(session, case, Action.SEND_DOWN, "dispatcher", when, jurisdiction_id=places["SM"].id, working_days=3)
    upper = case.jurisdiction_due_at
    act(
        session,
        case,
        Action.SEND_DOWN,
        "sm_dispatcher",
        when,
        jurisdiction_id=places["CH"].id,
        working_days=20,
    )
    assert case.jurisdiction == places["CH"] and case.jurisdiction_due_at == upper
    assert moves(case) == [("send_down", "清源省", "石门市"), ("send_down", "石门市", "长河县")]


# --- regional working days -----------------------------------------------------------------------


def test_a_case_moved_between_jurisdictions_is_due_on_the_calendar_of_the_one_that_has_it(
    session, cats, depts, places, when
):
    # 长河县 keeps Tuesday 2 June 2026 as a holiday of its own; 石门市 and the province do not.
    session.add(
        CalendarDay(
            day=at("2026-06-02 12:00").date(), kind="holiday", name="县庆", jurisdiction_id=places["CH"].id
        )
    )
    session.flush()
    county, city = load_calendar(session, places["CH"]), load_calendar(session, places["SM"])

    # A city case sent down to the county: its deadline counts on the county's working days.
    case = accepted(session, cats, when, region=CITY, clerk="sm_clerk")
    assert case.due_at == dl.working_day_deadline(city, NOW, svc._handling_days(session, case, False)).due_at
    act(
        session,
        case,
        Action.SEND_DOWN,
        "sm_dispatcher",
        when,
        jurisdiction_id=places["CH"].id,
        working_days=2,
    )
    assert case.jurisdiction_due_at == at("2026-06-04 23:59") + timedelta(seconds=59)  # Jun 3, 4
    assert dl.working_day_deadline(city, NOW, 2).due_at == at("2026-06-03 23:59") + timedelta(seconds=59)
    assert case.due_at == case.jurisdiction_due_at

    # A county case referred up: its open deadline is recomputed on the city's calendar.
    case = dispatched(session, cats, depts, when)
    days = svc._handling_days(session, case, False)
    assert case.due_at == dl.working_day_deadline(county, NOW, days).due_at
    act(session, case, Action.REFER_UP, "ch_supervisor", when, note="提级办理")
    moved_at = case.events[-1].at  # the handling clock restarted with the city office
    assert case.due_at == dl.working_day_deadline(city, moved_at, days).due_at
    assert case.due_at == dl.working_day_deadline(county, moved_at, days).due_at - timedelta(days=1)


def test_a_case_taken_over_gets_its_acceptance_deadline_on_the_new_calendar(session, cats, places, when):
    # 长河县 keeps Tuesday 2 June as a holiday of its own; the province does not.
    session.add(
        CalendarDay(
            day=at("2026-06-02 12:00").date(), kind="holiday", name="县庆", jurisdiction_id=places["CH"].id
        )
    )
    session.flush()
    case = filed(session, cats)
    county_due = case.accept_due_at
    act(session, case, Action.PULL_UP, "sm_supervisor", when, note="市级受理")
    assert case.accept_due_at == county_due - timedelta(days=1)
    assert case.accept_due_at == dl.working_day_deadline(load_calendar(session), NOW, 5).due_at


# --- dispatch stays inside the case's jurisdiction ------------------------------------------------


def test_a_department_outside_the_cases_jurisdiction_is_never_dispatched_to(session, cats, depts, when):
    case = accepted(session, cats, when)
    for outside in ("C10", "P00", "X111"):  # the city's, the province's, a sibling county's
        with refused(Invalid, "is not in the jurisdiction"):
            act(session, case, Action.DISPATCH, "ch_dispatcher", when, lead_department_id=depts[outside].id)
    with refused(Invalid, "is not in the jurisdiction"):
        act(
            session,
            case,
            Action.DISPATCH,
            "ch_dispatcher",
            when,
            lead_department_id=depts["X102"].id,
            co_department_ids=[depts["C11"].id],
        )
    assert case.status == Status.ACCEPTED
    act(
        session,
        case,
        Action.DISPATCH,
        "ch_dispatcher",
        when,
        lead_department_id=depts["X102"].id,
        co_department_ids=[depts["X103"].id],
    )
    assert {a.department.code for a in case.active_assignments} == {"X102", "X103"}
    # A city case may go to a county department under the city, never to another city's.
    city_case = accepted(session, cats, when, region=CITY, clerk="sm_clerk")
    with refused(Invalid, "is not in the jurisdiction"):
        act(session, city_case, Action.DISPATCH, "sm_dispatcher", when, lead_department_id=depts["X201"].id)
    act(session, city_case, Action.DISPATCH, "sm_dispatcher", when, lead_department_id=depts["X103"].id)


def test_the_proposal_keeps_to_the_cases_jurisdiction(session, cats, depts, places, when):
    # The rules send fees to the city's market regulator (C11): not a county office's to use.
    case = accepted(session, cats, when, category="FEE01")
    proposed = case.proposed_department
    assert proposed is None or proposed.jurisdiction.path.startswith(places["CH"].path)
    # The same case at the city is proposed to the city's department.
    act(session, case, Action.REFER_UP, "ch_dispatcher", when, note="涉及市级收费")
    assert case.proposed_department == depts["C11"]


def test_a_county_case_is_escalated_within_the_county_or_referred_up_to_the_city(session, cats, depts, when):
    """The county department's parent (the city's department) is beyond the county office: the
    county refers the case up instead of escalating it there."""
    case = dispatched(session, cats, depts, when)
    act(session, case, Action.SIGN, "handler", when)
    actions = svc.available_actions(session, case, who(session, "ch_supervisor"))
    assert Action.ESCALATE not in actions and Action.REFER_UP in actions
    with refused(IllegalMove, "no higher level"):
        act(session, case, Action.ESCALATE, "ch_supervisor", when, note="提级")
    act(session, case, Action.REFER_UP, "ch_supervisor", when, note="提级")
    act(session, case, Action.DISPATCH, "sm_dispatcher", when, lead_department_id=depts["X102"].id)
    act(session, case, Action.SIGN, "handler", when)
    # At the city, the county department's parent is within reach: escalation works again.
    act(session, case, Action.ESCALATE, "sm_supervisor", when, note="疑难复杂")
    assert case.lead_department == depts["C10"]


# --- through the screens ------------------------------------------------------------------------------


def test_taking_over_and_sending_down_through_the_case_page(session, client, cats, depts, places, when):
    case = accepted(session, cats, when)
    other = accepted(session, cats, when)
    session.commit()
    login(client, "sm_supervisor")
    page = client.get(f"/cases/show/{case.id}").get_data(as_text=True)
    assert f"/cases/act/{case.id}/pull_up" in page
    assert f"/cases/act/{case.id}/dispatch" not in page
    assert client.post(f"/cases/act/{case.id}/pull_up", data={"note": "市级统一办理"}).status_code == 302
    session.refresh(case)
    assert case.jurisdiction_id == places["SM"].id

    # The send-down form offers the offices directly below the city, and nothing else.
    form = client.get(f"/cases/act/{case.id}/send_down").get_data(as_text=True)
    offered = set(re.findall(r'<option[^>]*value="(\d+)"', form))
    assert offered == {str(places["CH"].id), str(places["DC"].id)}
    # A wrong deadline is refused with a message, not an error page; nothing changes.
    bad = {"jurisdiction_id": str(places["DC"].id), "working_days": "99", "note": "交办"}
    response = client.post(f"/cases/act/{case.id}/send_down", data=bad, follow_redirects=True)
    assert response.status_code == 200 and "alert-danger" in response.get_data(as_text=True)
    session.refresh(case)
    assert case.jurisdiction_id == places["SM"].id
    good = {**bad, "working_days": "5"}
    assert client.post(f"/cases/act/{case.id}/send_down", data=good).status_code == 302
    session.refresh(case)
    assert case.jurisdiction_id == places["DC"].id and case.jurisdiction_due_at is not None

    # A move the city may not make on a county case answers with the rule, not a 500.
    login(client, "sm_dispatcher")
    response = client.post(
        f"/cases/act/{other.id}/dispatch",
        data={"lead_department_id": str(depts["X102"].id)},
        follow_redirects=True,
    )
    assert response.status_code == 200 and "alert-danger" in response.get_data(as_text=True)
    session.refresh(other)
    assert other.status == Status.ACCEPTED and other.lead_department_id is None

    # The dispatch form of the county offers its own departments only.
    login(client, "dc_dispatcher")
    form = client.get(f"/cases/act/{case.id}/dispatch").get_data(as_text=True)
    offered = set(re.findall(r'<option[^>]*value="(\d+)"', form))
    assert offered == {str(d.id) for d in depts.values() if d.jurisdiction_id == places["DC"].id}
    assert client.get(f"/cases/act/{other.id}/dispatch").status_code == 404  # 长河县's: unseen


# --- the demo ------------------------------------------------------------------------------------


def test_the_demo_has_cases_that_crossed_the_levels(session, places):
    from app import clock
    from app.demo import _demo_levels, office_actors

    lines = list(_demo_levels(session, clock.utcnow(), office_actors(session)))
    assert not [line for line in lines if "stopped early" in line], lines
    crossed = [
        moves(case)
        for case in session.query(Case).order_by(Case.id)
        if any(e.action in ("refer_up", "pull_up", "send_down") for e in case.events)
    ]
    assert ("refer_up", "长河县", "石门市") in crossed[0]  # county → city
    assert [("refer_up", "石门市", "清源省")] in crossed  # city → province
    assert [("refer_up", "西山县", "北岭市"), ("refer_up", "北岭市", "清源省")] in crossed
    assert [("pull_up", "东城区", "石门市")] in crossed  # a city takes a county's case over
    assert [("send_down", "清源省", "石门市")] in crossed  # the province sends one down
    sent = session.query(Case).filter(Case.jurisdiction_due_at.is_not(None)).one()
    assert sent.lead_assignment.due_at <= sent.jurisdiction_due_at


def test_a_city_cannot_merge_its_case_into_a_county_case_it_has_not_taken_over(session, cats, when):
    # The merge would move the city's reporter, files and messages into 长河县's case.
    county_case = accepted(session, cats, when)
    city_case = filed(session, cats, region=CITY, clerk="sm_clerk")
    with refused(Invalid, "same office"):
        act(session, city_case, Action.MERGE, "sm_clerk", when, into_case=county_case.number, note="重复")
    assert city_case.status == Status.SUBMITTED and city_case.merged_into_id is None
    assert not [e for e in county_case.events if e.action == "merge_in"]


def test_a_deadline_policy_beyond_any_calendar_is_refused_on_the_form_and_the_api(app, session):
    from models import DeadlinePolicy
    from tests.conftest import api_token

    before = session.query(DeadlinePolicy).count()
    admin = login(app.test_client(), "admin")
    for days in ("1000000000", "366", "-1"):
        page = admin.post(
            "/deadlinepolicyview/add", data={"case_type": "suggestion", "working_days": days, "note": "x"}
        )
        assert page.status_code == 200, days  # the form again, with its message
    headers = {"Authorization": f"Bearer {api_token(app.test_client(), 'admin')}"}
    answer = app.test_client().post("/api/v1/deadline_policy/", json={"working_days": 10**9}, headers=headers)
    assert 400 <= answer.status_code < 500 and answer.status_code != 409, answer.get_data(as_text=True)
    assert session.query(DeadlinePolicy).count() == before
