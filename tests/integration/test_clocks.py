"""Every clock the seeds name, watched by the sweep, shown on the case and counted in the KPIs;
and the stop of the clock (停表): the deadline moves by the working days paused."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest

from app.errors import IllegalMove, Invalid
from app.services import assessment as asm
from app.services import cases as svc
from app.services import reporting, sweep
from app.services.dashboard import clock_figures
from app.workflow import Action, Role, Status
from models import CalendarDay, Case, CaseEvent, ClockPause, Notification, Setting
from tests.conftest import at, login
from tests.factories import case_in, file_case, handler_of

NOW = at("2026-11-02 10:00")  # a Monday
END_OF_DAY = timedelta(hours=23, minutes=59, seconds=59)


def day_end(day: str):
    """23:59:59 Beijing time of ``day`` (how working-day deadlines are stored)."""
    return at(f"{day} 00:00") + END_OF_DAY


def act(session, case, action, actor, when, **params):
    return svc.perform(session, case.id, action, actor=actor, now=when, **params)


def pause(session, case, actors, when, reason="等待企业补充营业执照复印件"):
    return act(session, case, Action.PAUSE_CLOCK, handler_of(actors, "X102"), when, reason=reason)


def resume(session, case, actors, when):
    return act(session, case, Action.RESUME_CLOCK, handler_of(actors, "X102"), when, note="材料已收到")


def told(session, template):
    """The users told by inbox with ``template``."""
    return {n.user_id for n in session.query(Notification).filter_by(template=template, channel="inbox")}


def with_role(session, role, jurisdiction_id=None):
    """The staff in ``role`` of an office (the province's by default: the factories file
    province cases), the ones told about its cases."""
    from app.services import jurisdictions
    from app.services import notifications as outbox

    session.info.pop("staff_by_role", None)
    office = jurisdiction_id or jurisdictions.root_id(session)
    return {user_id for user_id, _ in outbox.staff_with_role(session, role=role, jurisdiction_id=office)}


def set_setting(session, key, value):
    row = session.query(Setting).filter_by(key=key).one_or_none()
    if row is None:
        session.add(Setting(key=key, value=value, description=key))
    else:
        row.value = value
    session.flush()


# --- the stop of the clock (停表) -----------------------------------------------------------


@pytest.mark.parametrize(
    "resumed, days, due",
    [
        # Oct 1–7 are off; Thu Oct 8 and Fri Oct 9 count: 2 working days, Oct 16 → Oct 20.
        ("2026-10-09 10:00", 2, "2026-10-20"),
        # Sat Oct 10 is a make-up workday (调休): it counts too.
        ("2026-10-10 10:00", 3, "2026-10-21"),
        # Sun Oct 11 is off: still 3.
        ("2026-10-11 10:00", 3, "2026-10-21"),
    ],
)
def test_a_paused_case_moves_its_deadline_by_the_paused_working_days_across_national_day(
    session, actors, cats, depts, resumed, days, due
):
    case = case_in(session, actors, cats, depts, Status.HANDLING, now=at("2026-09-28 09:00"))
    # Mon Sep 28 + 10 working days: Sep 29, 30, Oct 8, 9, 10 (Sat, 调休), 12–16.
    assert case.due_at == day_end("2026-10-16")
    pause(session, case, actors, at("2026-09-30 15:00"))
    lead = case.lead_assignment
    assert lead.paused_at == at("2026-09-30 15:00") and case.open_pause is not None
    assert case.due_at == day_end("2026-10-16")  # unchanged while it stands
    resume(session, case, actors, at(resumed))
    [stop] = case.pauses
    assert (stop.working_days, stop.resumed_at) == (days, at(resumed))
    assert lead.pause_days == days and lead.paused_at is None
    assert case.due_at == lead.due_at == day_end(due)
    assert case.open_pause is None
    [event] = [e for e in case.events if e.action == Action.RESUME_CLOCK]
    assert event.data["working_days"] == days and event.public_text


def test_the_pause_moves_every_running_assignment_and_an_extension_adds_on_top(session, actors, cats, depts):
    case = case_in(session, actors, cats, depts, Status.HANDLING, now=NOW, co=("X103",))
    due = case.due_at  # 15 working days: Nov 23
    assert due == day_end("2026-11-23")
    pause(session, case, actors, at("2026-11-03 10:00"))
    assert all(a.paused_at for a in case.active_assignments)
    resume(session, case, actors, at("2026-11-05 16:00"))  # Wed and Thu: 2 working days
    assert {a.due_at for a in case.active_assignments} == {day_end("2026-11-25")} == {case.due_at}
    act(
        session,
        case,
        Action.REQUEST_EXTENSION,
        handler_of(actors, "X102"),
        at("2026-11-06 10:00"),
        days=3,
        reason="需要会商",
    )
    assert svc.extended_due(session, case) == day_end("2026-11-30")
    act(session, case, Action.APPROVE_EXTENSION, actors["supervisor"], at("2026-11-06 11:00"))
    assert case.due_at == day_end("2026-11-30")


def test_only_the_lead_department_pauses_the_clock_and_with_a_reason(session, actors, cats, depts):
    case = case_in(session, actors, cats, depts, Status.HANDLING, now=NOW, co=("X103",))
    with pytest.raises(Invalid):
        pause(session, case, actors, NOW + timedelta(hours=2), reason="  ")
    with pytest.raises(IllegalMove):
        act(
            session,
            case,
            Action.PAUSE_CLOCK,
            handler_of(actors, "X103"),
            NOW + timedelta(hours=2),
            reason="协办单位想停表",
        )
    with pytest.raises(IllegalMove):
        resume(session, case, actors, NOW + timedelta(hours=2))  # not paused
    pause(session, case, actors, NOW + timedelta(hours=2))
    with pytest.raises(IllegalMove):
        pause(session, case, actors, NOW + timedelta(hours=3))  # already paused
    assert len(case.pauses) == 1 and not session.query(ClockPause).filter_by(resumed_at=None).count() > 1


def test_a_paused_case_is_not_reminded_as_overdue(session, actors, cats, depts):
    case = case_in(session, actors, cats, depts, Status.HANDLING, now=NOW)
    assert case.due_at == day_end("2026-11-16")
    pause(session, case, actors, at("2026-11-10 10:00"))
    for moment in ("2026-11-16 20:00", "2026-11-18 10:00", "2026-11-25 10:00"):
        done = sweep.run_sweep(session, at(moment))
        assert (done["due_soon"], done["overdue"], done["still_overdue"]) == (0, 0, 0), moment
    # Resumed on Fri Nov 20: Nov 11–13 and 16–20, 8 working days: due Nov 26.
    resume(session, case, actors, at("2026-11-20 10:00"))
    assert case.due_at == day_end("2026-11-26")
    assert sweep.run_sweep(session, at("2026-11-26 10:00"))["due_soon"] == 1
    assert sweep.run_sweep(session, at("2026-11-27 10:00"))["overdue"] == 1
    assert sweep.run_sweep(session, at("2026-11-27 11:00"))["overdue"] == 0


def test_a_paused_case_is_not_listed_as_overdue_until_its_clock_restarts(session, actors, cats, depts):
    case = case_in(session, actors, cats, depts, Status.HANDLING, now=NOW)
    pause(session, case, actors, at("2026-11-10 10:00"))

    def listed(moment):
        return session.query(Case.id).filter(Case.id == case.id, svc.overdue_clause(at(moment))).count() == 1

    assert not listed("2026-11-18 10:00")  # past the old deadline (Nov 16), but paused
    resume(session, case, actors, at("2026-11-20 10:00"))
    assert not listed("2026-11-26 10:00") and listed("2026-11-27 10:00")


def test_the_reporters_material_resumes_the_clock(app, session, actors, cats, depts):
    case = case_in(session, actors, cats, depts, Status.HANDLING, now=NOW)
    pause(session, case, actors, at("2026-11-03 10:00"))
    [sms] = session.query(Notification).filter_by(template="case_paused", channel="sms").all()
    assert sms.params["number"] == case.number
    client = app.test_client()
    assert client.post("/track/", data={"number": case.number, "code": case.query_code}).status_code == 302
    page = client.get("/track/case").get_data(as_text=True)
    assert 'id="track-paused"' in page and "2026-11-03 10:00" in page
    [shown] = [e for e in case.events if e.action == Action.PAUSE_CLOCK]
    assert shown.public_text and "营业执照" not in (shown.public_text or "")  # the reason stays internal

    reporting.add_material(
        session, case, case.reporters[0], now=at("2026-11-05 09:00"), text="营业执照复印件已补充", files=[]
    )
    assert case.open_pause is None and case.lead_assignment.paused_at is None
    [stop] = case.pauses
    assert stop.working_days == 2  # Wed Nov 4 and Thu Nov 5
    assert case.lead_assignment.pause_days == 2 and case.due_at == day_end("2026-11-18")
    [event] = [e for e in case.events if e.action == "resume_on_material"]
    assert event.public_text and event.actor_name == "诉求人" and event.data["working_days"] == 2
    assert told(session, "clock_resumed_on_material") == {handler_of(actors, "X102").id}
    assert 'id="track-paused"' not in client.get("/track/case").get_data(as_text=True)
    # Material sent while the clock runs changes nothing.
    reporting.add_material(
        session, case, case.reporters[0], now=at("2026-11-06 09:00"), text="再补充", files=[]
    )
    assert len(case.pauses) == 1 and case.lead_assignment.pause_days == 2


def test_a_reply_or_a_return_ends_the_pause(session, actors, cats, depts):
    replied = case_in(session, actors, cats, depts, Status.HANDLING, now=NOW)
    pause(session, replied, actors, at("2026-11-03 10:00"))
    act(session, replied, Action.REPLY, handler_of(actors, "X102"), at("2026-11-06 10:00"), reply="已办结")
    [stop] = replied.pauses
    assert stop.working_days == 3 and replied.lead_assignment.pause_days == 3
    assert replied.lead_assignment.due_at == day_end("2026-11-19")
    assert replied.first_responded_at is not None

    returned = case_in(session, actors, cats, depts, Status.HANDLING, now=NOW)
    pause(session, returned, actors, at("2026-11-03 10:00"))
    act(
        session,
        returned,
        Action.RETURN,
        handler_of(actors, "X102"),
        at("2026-11-04 10:00"),
        reason="不属本单位",
    )
    assert returned.open_pause is None and returned.pauses[0].working_days == 1
    assert all(a.paused_at is None for a in returned.assignments)

    escalated = case_in(session, actors, cats, depts, Status.HANDLING, now=NOW)
    pause(session, escalated, actors, at("2026-11-03 10:00"))
    act(session, escalated, Action.ESCALATE, actors["supervisor"], at("2026-11-05 10:00"), note="提级办理")
    assert escalated.open_pause is None and escalated.pauses[0].working_days == 2
    assert all(a.paused_at is None and a.pause_days == 0 for a in escalated.active_assignments)


def test_the_dispatch_clock_counts_a_cases_first_dispatch_not_a_later_one(session, actors, cats, depts):
    """Dispatched within its 20 minutes, returned by the department, dispatched again two days
    later: the office dispatched it on time (the first dispatch is kept on the case)."""
    case = file_case(session, actors, cats, now=NOW)
    act(session, case, Action.ACCEPT, actors["clerk"], at("2026-11-02 10:30"))
    dispatch = {"lead_department_id": depts["X102"].id}
    act(session, case, Action.DISPATCH, actors["dispatcher"], at("2026-11-02 10:40"), **dispatch)
    act(session, case, Action.RETURN, handler_of(actors, "X102"), at("2026-11-03 09:00"), reason="不属本单位")
    again = {"lead_department_id": depts["X103"].id}
    act(session, case, Action.DISPATCH, actors["dispatcher"], at("2026-11-04 10:00"), **again)
    assert case.first_dispatched_at == at("2026-11-02 10:40") and case.dispatched_at == at("2026-11-04 10:00")
    found = clock_figures(session, asm.Period.month(2026, 11), at("2026-11-20 10:00"))
    assert {f.key: (f.on_time, f.late, f.overdue) for f in found["clocks"]}["dispatch"] == (1, 0, 0)


# --- the other clocks the sweep watches -------------------------------------------------------


def test_a_case_not_dispatched_within_20_minutes_is_reminded_once(session, actors, cats, depts):
    case = case_in(session, actors, cats, depts, Status.ACCEPTED, now=NOW)
    assert case.dispatch_due_at == NOW + timedelta(minutes=25)  # accepted 5 minutes after filing
    in_time = case_in(session, actors, cats, depts, Status.DISPATCHED, now=NOW)
    assert sweep.run_sweep(session, NOW + timedelta(minutes=20))["not_dispatched"] == 0
    assert sweep.run_sweep(session, NOW + timedelta(minutes=30))["not_dispatched"] == 1
    assert sweep.run_sweep(session, NOW + timedelta(minutes=40))["not_dispatched"] == 0
    assert case.dispatch_reminded_at == NOW + timedelta(minutes=30) and in_time.dispatch_reminded_at is None
    assert told(session, "not_dispatched") == with_role(session, Role.DISPATCHER)


def test_a_first_response_later_than_24_hours_is_reminded_once(session, actors, cats, depts):
    waiting = file_case(session, actors, cats, now=NOW)
    assert waiting.first_response_due_at == NOW + timedelta(hours=24)
    accepted = case_in(session, actors, cats, depts, Status.ACCEPTED, now=NOW)
    messaged = file_case(session, actors, cats, now=NOW)
    reporting.staff_message(
        session, messaged.id, actor=actors["clerk"], now=NOW + timedelta(hours=2), body="已收到，正在审核。"
    )
    assert messaged.first_responded_at == NOW + timedelta(hours=2)
    assert accepted.first_responded_at == NOW + timedelta(minutes=5)
    assert sweep.run_sweep(session, NOW + timedelta(hours=23))["first_response"] == 0
    assert sweep.run_sweep(session, NOW + timedelta(hours=25))["first_response"] == 1
    assert sweep.run_sweep(session, NOW + timedelta(hours=26))["first_response"] == 0
    [reminded] = session.query(Case).filter(Case.first_response_reminded_at.isnot(None)).all()
    assert reminded.id == waiting.id
    assert told(session, "first_response_late") == with_role(session, Role.SUPERVISOR) | with_role(
        session, Role.CLERK
    )
    # Telling the reporter late still records when they were first told.
    svc.perform(
        session,
        waiting.id,
        Action.DECLINE,
        actor=actors["clerk"],
        now=NOW + timedelta(hours=30),
        reason="duplicate",
        note="重复件",
    )
    assert waiting.first_responded_at == NOW + timedelta(hours=30)


def test_a_12345_ticket_is_verified_within_one_working_day(session, actors, cats, depts):
    friday = at("2026-11-06 10:00")
    ticket = case_in(session, actors, cats, depts, Status.ACCEPTED, now=friday)
    online = case_in(session, actors, cats, depts, Status.ACCEPTED, now=friday, channel="web")
    assert ticket.verify_due_at == day_end("2026-11-09")  # the next working day, Monday
    assert online.verify_due_at == day_end("2026-11-11")  # 3 working days
    consultation = case_in(
        session, actors, cats, depts, Status.ACCEPTED, now=friday, case_type="consultation"
    )
    assert consultation.verify_due_at is None  # only complaints and reports are verified

    unverified = case_in(session, actors, cats, depts, Status.DISPATCHED, now=friday)
    verified = case_in(session, actors, cats, depts, Status.HANDLING, now=friday)
    assert verified.verified_at is not None and unverified.verified_at is None
    assert sweep.run_sweep(session, at("2026-11-09 20:00"))["not_verified"] == 0
    # Tue: the two accepted 12345 tickets and the dispatched one are late.
    assert sweep.run_sweep(session, at("2026-11-10 00:30"))["not_verified"] == 2
    assert sweep.run_sweep(session, at("2026-11-10 01:30"))["not_verified"] == 0
    assert unverified.verify_reminded_at is not None and verified.verify_reminded_at is None
    assert sweep.run_sweep(session, at("2026-11-12 00:30"))["not_verified"] == 1  # the online one
    lead = handler_of(actors, "X102").id
    assert told(session, "not_verified") == with_role(session, Role.SUPERVISOR) | {lead}
    handler_told = session.query(Notification).filter_by(template="not_verified", user_id=lead).all()
    assert {n.case_id for n in handler_told} == {unverified.id}


@pytest.mark.parametrize("from_dispatch, due", [(0, "2026-11-16"), (1, "2026-11-18")])
def test_the_handling_period_can_count_from_dispatch(session, actors, cats, depts, from_dispatch, due):
    set_setting(session, "handling_counts_from_dispatch", from_dispatch)
    case = case_in(session, actors, cats, depts, Status.ACCEPTED, now=NOW)  # filed Mon Nov 2
    act(
        session,
        case,
        Action.DISPATCH,
        actors["dispatcher"],
        at("2026-11-04 10:00"),  # Wed
        lead_department_id=depts["X102"].id,
    )
    assert case.due_at == case.lead_assignment.due_at == day_end(due)
    # Changing the setting recomputes the running deadlines.
    set_setting(session, "handling_counts_from_dispatch", 1 - from_dispatch)
    svc.recompute_open_deadlines(session)
    assert case.due_at == day_end({"2026-11-16": "2026-11-18", "2026-11-18": "2026-11-16"}[due])


def test_a_calendar_edit_moves_the_verification_deadline_still_running(session, actors, cats, depts):
    from app.services.calendar import load_calendar

    case = case_in(session, actors, cats, depts, Status.ACCEPTED, now=NOW)
    done = case_in(session, actors, cats, depts, Status.HANDLING, now=NOW)
    assert case.verify_due_at == done.verify_due_at == day_end("2026-11-03")
    try:
        session.add(CalendarDay(day=at("2026-11-03 12:00").date(), kind="holiday", name="测试假日"))
        session.flush()
        load_calendar(session)
        svc.recompute_open_deadlines(session)
        assert case.verify_due_at == day_end("2026-11-04")
        assert done.verify_due_at == day_end("2026-11-03")  # met: it stays as it was
    finally:
        session.rollback()


def test_a_planned_rectification_past_its_deadline_is_reminded_once(session, actors, cats, depts):
    case = case_in(session, actors, cats, depts, Status.HANDLING, now=NOW, finding=None)
    handler = handler_of(actors, "X102")
    act(
        session,
        case,
        Action.RECORD_FINDING,
        handler,
        NOW + timedelta(hours=1),
        result="true",
        facts="情况属实",
        summary="经核查，反映属实，正在整改。",
    )
    act(
        session,
        case,
        Action.PLAN_RECTIFICATION,
        handler,
        NOW + timedelta(hours=2),
        measures="限期办结积压件",
        responsible="王科长",
        days=5,
    )
    [rectification] = case.rectifications
    assert rectification.due_at == day_end("2026-11-09")
    assert sweep.run_sweep(session, at("2026-11-09 20:00"))["rectification_overdue"] == 0
    assert sweep.run_sweep(session, at("2026-11-10 09:00"))["rectification_overdue"] == 1
    assert sweep.run_sweep(session, at("2026-11-10 10:00"))["rectification_overdue"] == 0
    assert told(session, "rectification_overdue") == with_role(session, Role.SUPERVISOR) | {handler.id}
    # Sent back with 3 more working days (due Nov 12) and missed again: reminded again, once.
    act(session, case, Action.REPORT_RECTIFICATION, handler, at("2026-11-10 10:30"), completion="已整改")
    act(
        session,
        case,
        Action.REJECT_RECTIFICATION,
        actors["supervisor"],
        at("2026-11-10 11:00"),
        note="证据不足",
        days=3,
    )
    assert rectification.due_at == day_end("2026-11-12")
    assert sweep.run_sweep(session, at("2026-11-13 09:00"))["rectification_overdue"] == 1
    assert sweep.run_sweep(session, at("2026-11-13 10:00"))["rectification_overdue"] == 0
    inbox = session.query(Notification).filter_by(
        template="rectification_overdue", channel="inbox", user_id=handler.id
    )
    assert inbox.count() == 2


@pytest.mark.real_commits
def test_two_sweeps_at_once_remind_each_first_response_once(app, session, actors, cats):
    from app.extensions import db

    for _ in range(4):
        file_case(session, actors, cats, now=NOW)
    session.commit()
    later = NOW + timedelta(hours=26)
    barrier = threading.Barrier(2)
    counts, errors = [], []

    def one_sweep():
        try:
            with app.app_context():
                barrier.wait()
                done = sweep.run_sweep(db.session, later)
                db.session.commit()
                counts.append(done["first_response"])
        except Exception as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=one_sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    session.expire_all()
    if errors:  # SQLite lets one writer through at a time; the loser simply runs again later
        assert all("locked" in str(e) for e in errors)
        counts.append(sweep.run_sweep(session, later)["first_response"])
        session.commit()
    assert sum(counts) == 4
    supervisor = actors["supervisor"].id
    inbox = session.query(Notification).filter_by(template="first_response_late", user_id=supervisor)
    assert inbox.filter_by(channel="inbox").count() == 4


# --- the case page, the dashboard and the assessment ------------------------------------------


def test_the_case_page_shows_every_clock_and_the_pause_history(app, session, actors, cats, depts):
    case = case_in(session, actors, cats, depts, Status.HANDLING, now=NOW)
    pause(session, case, actors, at("2026-11-03 10:00"), reason="<b>等企业补材料</b>")
    session.commit()
    client = app.test_client()
    login(client, "handler")
    page = client.get(f"/cases/show/{case.id}").get_data(as_text=True)
    clocks = page[page.index('id="case-clocks"') :]
    assert len(re.findall(r'class="case-clock', clocks[: clocks.index("</table>")])) == 6
    assert 'id="case-clock-paused"' in page and 'id="case-pauses"' in page
    assert "&lt;b&gt;等企业补材料&lt;/b&gt;" in page and "<b>等企业补材料</b>" not in page
    resume(session, case, actors, at("2026-11-05 10:00"))
    session.commit()
    page = client.get(f"/cases/show/{case.id}").get_data(as_text=True)
    assert 'id="case-clock-paused"' not in page and 'class="case-clock-paused-days"' in page


def test_the_clock_figures_of_a_small_month(app, session, actors, cats, depts):
    """A: every clock met. B: filed and never decided. C: every early clock late, paused two
    working days, handled in time."""
    handler = handler_of(actors, "X102")
    a = case_in(session, actors, cats, depts, Status.HANDLING, now=NOW)
    file_case(session, actors, cats, now=NOW)  # B
    c = file_case(session, actors, cats, now=NOW)
    act(session, c, Action.ACCEPT, actors["clerk"], at("2026-11-04 10:00"))  # 48 hours: late
    act(
        session,
        c,
        Action.DISPATCH,
        actors["dispatcher"],
        at("2026-11-04 11:00"),
        lead_department_id=depts["X102"].id,
    )  # due 10:20
    act(session, c, Action.SIGN, handler, at("2026-11-04 14:00"))  # due 13:00
    act(
        session,
        c,
        Action.RECORD_FINDING,
        handler,
        at("2026-11-10 09:00"),
        result="untrue",
        facts="查无此事",
        summary="经核查，反映不属实。",
    )  # due Nov 5
    pause(session, c, actors, at("2026-11-10 10:00"))
    resume(session, c, actors, at("2026-11-12 10:00"))  # 2 working days
    act(session, c, Action.REPLY, handler, at("2026-11-13 10:00"), reply="已答复")
    assert c.lead_assignment.due_at == day_end("2026-11-18")

    november = asm.Period.month(2026, 11)
    found = clock_figures(session, november, at("2026-11-20 10:00"))
    figures = {f.key: (f.on_time, f.late, f.overdue) for f in found["clocks"]}
    assert figures == {
        "first_response": (1, 1, 1),
        "acceptance": (2, 0, 1),
        "dispatch": (1, 1, 0),
        "signing": (1, 1, 0),
        "verification": (1, 1, 0),
        "handling": (1, 0, 1),  # A is overdue on Nov 20, C was answered in time
        "rectification": (0, 0, 0),
    }
    rates = {f.key: f.rate.value for f in found["clocks"]}
    assert rates["first_response"] == 0.5 and rates["handling"] == 1.0 and rates["rectification"] is None
    assert (found["pauses"], found["paused_working_days"], found["paused_now"]) == (1, 2, 0)
    assert a.verified_at <= a.verify_due_at

    [x102] = [k for k in asm.department_kpis(session, november) if k.code == "X102"]
    assert x102.verification == asm.Rate(1, 2) and x102.paused_days == 2
    table = asm.rows([r for r in asm.rank([x102]) if r.code == "X102"])[0]
    row = dict(zip(asm.HEADERS, table, strict=True))
    assert (row["初步核查件数"], row["按时告知核查结果率(%)"], row["停表工作日数"]) == (2, 50.0, 2)

    session.commit()
    client = app.test_client()
    login(client, "leader")
    data = client.get("/dashboard/data?period=2026-11").get_json()
    assert {c["key"] for c in data["clocks"]["clocks"]} == set(figures)
    page = client.get("/dashboard/?period=2026-11").get_data(as_text=True)
    assert 'id="dashboard-clocks"' in page and 'id="dashboard-clock-first_response"' in page


def test_every_clock_event_is_recorded(session, actors, cats, depts):
    case = case_in(session, actors, cats, depts, Status.HANDLING, now=NOW)
    pause(session, case, actors, at("2026-11-03 10:00"))
    resume(session, case, actors, at("2026-11-04 10:00"))
    events = session.query(CaseEvent).filter_by(case_id=case.id).order_by(CaseEvent.id).all()
    assert [e.action for e in events][-2:] == ["pause_clock", "resume_clock"]
    assert all(e.to_status == e.from_status == "handling" for e in events[-2:])
