"""The flow of DOMAIN.md through the services, against the database."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app.errors import IllegalMove, Invalid, NotAllowed, NotFound
from app.services import cases as svc
from app.services import protection
from app.workflow import Action, Status
from models import CalendarDay, CalendarYear, Case
from tests.conftest import at, login
from tests.factories import REGION_OF, case_in, file_case, handler_of, office_of

NOW = at("2026-09-30 10:00")


def act(session, case, action, actor, when=None, **params):
    return svc.perform(session, case.id, action, actor=actor, now=when or NOW + timedelta(hours=1), **params)


def test_a_case_goes_from_filing_to_closing_and_every_step_is_in_its_timeline(session, actors, cats, depts):
    case = case_in(session, actors, cats, depts, Status.CLOSED, now=NOW)
    steps = [(e.action, e.from_status, e.to_status) for e in case.events]
    assert steps == [
        ("file", None, "submitted"),
        ("accept", "submitted", "accepted"),
        ("dispatch", "accepted", "dispatched"),
        ("sign", "dispatched", "handling"),
        ("record_finding", "handling", "handling"),  # a complaint is verified before the reply
        ("reply", "handling", "replied"),
        ("evaluate", "replied", "evaluated"),
        ("close", "evaluated", "closed"),
    ]
    assert all(e.actor_name and e.at for e in case.events)
    assert case.number.startswith("YS20260930")
    assert case.closed_at is not None


def test_complaint_filed_on_sep_30_is_due_at_the_end_of_oct_20(session, actors, cats, depts):
    case = case_in(session, actors, cats, depts, Status.DISPATCHED, now=NOW)
    assert case.due_at == at("2026-10-20 23:59") + timedelta(seconds=59)
    assert case.lead_assignment.due_at == case.due_at
    assert not case.due_provisional


def test_help_request_filed_before_spring_festival_is_due_on_feb_27(session, actors, cats, depts):
    case = case_in(
        session, actors, cats, depts, Status.ACCEPTED, now=at("2026-02-13 09:00"), case_type="help"
    )
    assert case.due_at == at("2026-02-27 23:59") + timedelta(seconds=59)


def test_a_dispatched_case_must_be_signed_within_two_hours(session, actors, cats, depts):
    case = case_in(session, actors, cats, depts, Status.DISPATCHED, now=NOW)
    assignment = case.lead_assignment
    assert assignment.sign_due_at == assignment.dispatched_at + timedelta(hours=2)


def test_declining_needs_a_reason_and_ends_the_case(session, actors, cats):
    case = file_case(session, actors, cats, now=NOW)
    with pytest.raises(Invalid):
        act(session, case, Action.DECLINE, actors["clerk"], reason="", note="x")
    with pytest.raises(Invalid):
        act(session, case, Action.DECLINE, actors["clerk"], reason="duplicate", note="")
    act(session, case, Action.DECLINE, actors["clerk"], reason="duplicate", note="与YS1重复")
    assert case.status == Status.DECLINED
    with pytest.raises(IllegalMove):
        act(session, case, Action.ACCEPT, actors["clerk"])


def test_a_report_is_graded_before_it_is_accepted(session, actors, cats):
    case = file_case(session, actors, cats, now=NOW, case_type="report", category="INT01")
    with pytest.raises(Invalid):
        act(session, case, Action.ACCEPT, actors["clerk"])
    act(
        session,
        case,
        Action.CLASSIFY,
        actors["clerk"],
        case_type="report",
        category_id=cats["INT01"].id,
        urgency="immediate",
        grade="a",
    )
    act(session, case, Action.ACCEPT, actors["clerk"])
    assert case.status == Status.ACCEPTED and case.grade == "a"


def test_only_reports_carry_an_abc_grade(session, actors, cats):
    case = file_case(session, actors, cats, now=NOW)
    with pytest.raises(Invalid):
        act(
            session,
            case,
            Action.CLASSIFY,
            actors["clerk"],
            case_type="complaint",
            category_id=cats["GOV01"].id,
            urgency="normal",
            grade="b",
        )


def test_the_rules_propose_the_department_and_the_dispatcher_confirms(session, actors, cats, depts):
    county = office_of(session, actors, "ch")
    case = case_in(session, county, cats, depts, Status.ACCEPTED, now=NOW, region=REGION_OF["ch"])
    assert case.jurisdiction.name == "长河县"
    assert case.proposed_department == depts["X102"]


def test_a_case_about_a_department_is_never_sent_to_it(session, actors, cats, depts):
    case = case_in(
        session,
        actors,
        cats,
        depts,
        Status.ACCEPTED,
        now=NOW,
        case_type="report",
        category="GOV01",
        grade="c",
        concerned_department_id=depts["X102"].id,
    )
    assert case.proposed_department != depts["X102"]
    with pytest.raises(Invalid):
        act(session, case, Action.DISPATCH, actors["dispatcher"], lead_department_id=depts["X102"].id)
    with pytest.raises(Invalid):
        act(
            session,
            case,
            Action.DISPATCH,
            actors["dispatcher"],
            lead_department_id=depts["C10"].id,
            co_department_ids=[depts["X102"].id],
        )


def test_a_returned_case_is_re_dispatched_elsewhere(session, actors, cats, depts):
    case = case_in(session, actors, cats, depts, Status.RETURNED, now=NOW)
    assert case.status == Status.RETURNED and case.lead_department is None
    assert case.proposed_department not in (None, depts["X102"])
    act(session, case, Action.DISPATCH, actors["dispatcher"], lead_department_id=depts["X103"].id)
    assert case.status == Status.DISPATCHED
    assert [a.department.code for a in case.active_assignments] == ["X103"]
    with pytest.raises(NotFound):  # the returning department no longer sees it
        svc.get_case(session, case.id, handler_of(actors, "X102"))


def test_a_return_needs_a_reason(session, actors, cats, depts):
    case = case_in(session, actors, cats, depts, Status.HANDLING, now=NOW)
    with pytest.raises(Invalid):
        act(session, case, Action.RETURN, handler_of(actors, "X102"), reason="  ")
    assert case.status == Status.HANDLING


def test_multi_department_case_has_one_lead_and_co_handlers_with_fifteen_days(session, actors, cats, depts):
    case = case_in(session, actors, cats, depts, Status.DISPATCHED, now=NOW, co=["X103"])
    roles = {a.department.code: a.role for a in case.active_assignments}
    assert roles == {"X102": "lead", "X103": "co"}
    assert case.lead_assignment.due_days == 15
    co_handler = handler_of(actors, "X103")
    act(session, case, Action.SIGN, co_handler)
    with pytest.raises(IllegalMove):
        act(session, case, Action.REPLY, co_handler, reply="协办意见")
    act(session, case, Action.ADD_NOTE, co_handler, note="协办单位已核查现场")


def test_handling_notes_stay_apart_from_the_reply(session, actors, cats, depts):
    case = case_in(session, actors, cats, depts, Status.HANDLING, now=NOW)
    handler = handler_of(actors, "X102")
    act(session, case, Action.ADD_NOTE, handler, note="内部：科长已批示")
    act(session, case, Action.REPLY, handler, reply="已为您办结许可证", note="内部：加急")  # verified already
    assert case.reply == "已为您办结许可证"
    reply_event = case.events[-1]
    assert reply_event.public_text == "已为您办结许可证" and reply_event.note == "内部：加急"
    assert all("内部" not in (e.public_text or "") for e in case.events)


def test_an_approved_extension_moves_the_deadline_by_working_days(session, actors, cats, depts):
    case = case_in(session, actors, cats, depts, Status.HANDLING, now=NOW)
    handler = handler_of(actors, "X102")
    act(session, case, Action.REQUEST_EXTENSION, handler, days=3, reason="需现场核查")
    with pytest.raises(IllegalMove):
        act(session, case, Action.REQUEST_EXTENSION, handler, days=2, reason="再延")
    with pytest.raises(Invalid):
        act(session, case, Action.REFUSE_EXTENSION, actors["supervisor"], note="")
    act(session, case, Action.APPROVE_EXTENSION, actors["supervisor"])
    # Oct 20 + 3 working days = Oct 23 (Fri).
    assert case.due_at == at("2026-10-23 23:59") + timedelta(seconds=59)
    assert case.extensions[0].state == "approved"


def test_an_extension_is_asked_before_the_deadline(session, actors, cats, depts):
    case = case_in(session, actors, cats, depts, Status.HANDLING, now=NOW)
    with pytest.raises(Invalid):
        act(
            session,
            case,
            Action.REQUEST_EXTENSION,
            handler_of(actors, "X102"),
            when=at("2026-10-21 09:00"),
            days=3,
            reason="太晚了",
        )


def test_unsatisfied_twice_is_escalated_to_the_next_level(session, actors, cats, depts):
    case = case_in(session, actors, cats, depts, Status.UNSATISFIED, now=NOW)
    supervisor, handler = actors["supervisor"], handler_of(actors, "X102")
    later = at("2026-10-12 09:00")
    act(session, case, Action.REHANDLE, supervisor, when=later, note="企业诉求合理，重新办理")
    assert case.status == Status.DISPATCHED and case.rehandle_count == 1
    # The new deadline counts from the re-handling: Oct 12 + 10 working days = Oct 26.
    assert case.due_at == at("2026-10-26 23:59") + timedelta(seconds=59)
    with pytest.raises(IllegalMove):  # no closing while the re-handling is pending
        act(session, case, Action.CLOSE, supervisor, when=later, note="x")
    for action, params in [(Action.SIGN, {}), (Action.REPLY, {"reply": "再次答复"})]:
        act(session, case, action, handler, when=later, **params)
    act(
        session,
        case,
        Action.EVALUATE,
        supervisor,
        when=later,
        rating="unsatisfied",
        source="reporter",
        reason="仍未解决",
    )
    with pytest.raises(IllegalMove):
        act(session, case, Action.REHANDLE, supervisor, when=later, note="再办一次")
    act(session, case, Action.ESCALATE, supervisor, when=later, note="疑难复杂，提级办理")
    assert case.lead_department == depts["C10"]  # X102's parent: the city
    assert case.is_difficult and case.status == Status.DISPATCHED
    svc.get_case(session, case.id, handler_of(actors, "C10"))


def test_an_unsatisfied_rating_needs_a_reason(session, actors, cats, depts):
    case = case_in(session, actors, cats, depts, Status.REPLIED, now=NOW)
    with pytest.raises(Invalid):
        act(
            session,
            case,
            Action.EVALUATE,
            actors["supervisor"],
            rating="unsatisfied",
            source="revisit_call",
            method="phone",
            reason="",
        )


def test_closing_an_unsatisfied_case_needs_the_reason_it_is_not_re_handled(session, actors, cats, depts):
    case = case_in(session, actors, cats, depts, Status.UNSATISFIED, now=NOW)
    with pytest.raises(Invalid):
        act(session, case, Action.CLOSE, actors["supervisor"])
    act(session, case, Action.CLOSE, actors["supervisor"], note="诉求超出政策范围，已解释")
    assert case.status == Status.CLOSED


def test_roles_may_only_take_their_own_actions(session, actors, cats, depts):
    case = case_in(session, actors, cats, depts, Status.SUBMITTED, now=NOW)
    for username in ("dispatcher", "supervisor", "leader", "admin"):
        with pytest.raises(NotAllowed):
            act(session, case, Action.ACCEPT, actors[username])
    with pytest.raises(NotFound):  # a handler cannot even see a case not sent to them
        act(session, case, Action.ACCEPT, actors["handler"])


def test_a_handler_never_reads_or_acts_on_another_departments_case(session, actors, cats, depts):
    case = case_in(session, actors, cats, depts, Status.DISPATCHED, now=NOW, lead="X102")
    outsider = handler_of(actors, "X103")
    with pytest.raises(NotFound):
        svc.get_case(session, case.id, outsider)
    with pytest.raises(NotFound):
        act(session, case, Action.SIGN, outsider)
    assert svc.get_case(session, case.id, handler_of(actors, "X102")) is case


def test_unknown_or_extra_parameters_are_refused_cleanly(session, actors, cats, depts):
    case = case_in(session, actors, cats, depts, Status.HANDLING, now=NOW)
    with pytest.raises(Invalid):
        act(session, case, Action.ADD_NOTE, handler_of(actors, "X102"), note="x", status="closed")
    with pytest.raises(NotFound):
        act(session, case, "teleport", actors["supervisor"])
    with pytest.raises(Invalid):
        act(session, case, Action.REQUEST_EXTENSION, handler_of(actors, "X102"), days="abc", reason="x")


def test_bad_intake_saves_nothing(session, actors, cats):
    before = session.query(Case).count()
    for bad in [
        {"title": ""},
        {"content": "x" * 100_001},
        {"case_type": "nonsense"},
        {"category_id": "99999"},
        {"reporter_phone": ""},
    ]:
        with pytest.raises(Invalid):
            file_case(session, actors, cats, now=NOW, **bad)
    session.rollback()
    assert session.query(Case).count() == before


def test_entering_next_years_schedule_recomputes_open_deadlines(session, actors, cats, depts):
    # Filed Dec 24, 2026: 10 working days run into 2027, which has no official data yet.
    case = case_in(session, actors, cats, depts, Status.DISPATCHED, now=at("2026-12-24 10:00"))
    assert case.due_provisional
    assert case.due_at == at("2027-01-07 23:59") + timedelta(seconds=59)  # Mon–Fri counting
    try:
        session.add(CalendarYear(year=2027, official=True))
        for day in ("2027-01-01", "2027-01-04", "2027-01-05"):
            session.add(CalendarDay(day=at(f"{day} 12:00").date(), kind="holiday", name="元旦"))
        session.flush()
        svc.recompute_open_deadlines(session)
        assert not case.due_provisional
        assert case.due_at == at("2027-01-12 23:59") + timedelta(seconds=59)
    finally:
        session.rollback()


def test_who_filed_is_seen_only_by_those_entitled(session, actors, cats, depts):
    named = case_in(session, actors, cats, depts, Status.HANDLING, now=NOW)
    confidential = case_in(session, actors, cats, depts, Status.HANDLING, now=NOW, confidential=True)
    report = case_in(
        session,
        actors,
        cats,
        depts,
        Status.HANDLING,
        now=NOW,
        case_type="report",
        category="FEE01",
        grade="c",
    )
    anonymous = case_in(session, actors, cats, depts, Status.HANDLING, now=NOW, anonymous=True)
    handler = handler_of(actors, "X102")
    assert protection.can_see_identity(named, handler)
    assert not protection.can_see_identity(confidential, handler)
    assert not protection.can_see_identity(report, handler)
    assert not protection.can_see_identity(anonymous, actors["supervisor"])
    # need to know: only the supervisor the case is assigned to, not every supervisor
    named_cases = (named, confidential, report)
    assert not any(protection.can_see_identity(c, actors["supervisor"]) for c in named_cases)
    for c in (named, confidential, report, anonymous):
        protection.assign_supervisor(
            session, c.id, actor=actors["dispatcher"], now=NOW, supervisor_id=actors["supervisor"].id
        )
    assert all(protection.can_see_identity(c, actors["supervisor"]) for c in (named, confidential, report))
    assert not protection.can_see_identity(anonymous, actors["supervisor"])
    assert not any(protection.can_see_identity(c, actors["supervisor2"]) for c in named_cases)
    for username in ("leader", "dispatcher", "clerk", "admin"):
        assert not protection.can_see_identity(named, actors[username])
    assert not protection.can_see_identity(named, handler_of(actors, "X103"))


def test_changing_a_deadline_policy_recomputes_open_cases(session, actors, cats, depts):
    from models import DeadlinePolicy

    case = case_in(session, actors, cats, depts, Status.HANDLING, now=NOW)
    policy = (
        session.query(DeadlinePolicy)
        .filter_by(case_type="complaint", urgency=None, multi_department=None)
        .one()
    )
    try:
        policy.working_days = 5
        session.flush()
        svc.recompute_open_deadlines(session)
        # Sep 30 + 5 working days (Oct 1–7 off, Oct 8 and Sat Oct 10 worked) = Oct 13.
        assert case.due_at == at("2026-10-13 23:59") + timedelta(seconds=59)
    finally:
        session.rollback()


@pytest.mark.parametrize(
    "filed, case_type, co, due, extended",
    [
        # A complaint filed Sep 30 is due Oct 20; 5 working days more: Oct 27.
        ("2026-09-30 10:00", "complaint", (), "2026-10-20", "2026-10-27"),
        # Two departments: 15 working days, due Oct 27; 5 more: Nov 3 (not Nov 10).
        ("2026-09-30 10:00", "complaint", ("X103",), "2026-10-27", "2026-11-03"),
        # A help request filed before the Spring Festival is due Feb 27; 5 more: Mar 5, counting
        # Sat Feb 28, a make-up workday.
        ("2026-02-13 09:00", "help", (), "2026-02-27", "2026-03-05"),
    ],
)
def test_a_five_day_extension_moves_the_one_deadline_the_handler_sees_five_working_days(
    app, session, actors, cats, depts, filed, case_type, co, due, extended
):
    from datetime import date

    from app.services.calendar import load_calendar

    def deadline_dates(page: str) -> set[str]:
        # The case's clocks table lists every clock (first response, verification...) besides.
        page = re.sub(r'<table[^>]*id="case-clocks".*?</table>', "", page, flags=re.S)
        return set(re.findall(r"(\d{4}-\d\d-\d\d) 23:59", page))

    case = case_in(session, actors, cats, depts, Status.HANDLING, now=at(filed), case_type=case_type, co=co)
    client = app.test_client()
    login(client, "handler")
    assert deadline_dates(client.get(f"/cases/show/{case.id}").get_data(as_text=True)) == {due}
    act(
        session,
        case,
        Action.REQUEST_EXTENSION,
        handler_of(actors, "X102"),
        when=at(filed) + timedelta(hours=2),
        days=5,
        reason="需现场核查，涉及多个科室会商",
    )

    login(client, "supervisor")
    form = client.get(f"/cases/act/{case.id}/approve_extension").get_data(as_text=True)
    assert re.search(r'id="extension-days">5<', form)
    assert "需现场核查，涉及多个科室会商" in form
    assert re.search(rf'id="extension-due">{due} 23:59<', form)
    assert re.search(rf'id="extension-new-due"><strong>{extended} 23:59<', form)
    assert client.post(f"/cases/act/{case.id}/approve_extension", data={"note": ""}).status_code == 302

    session.expire_all()
    case = session.get(Case, case.id)
    assert case.due_at == at(f"{extended} 23:59") + timedelta(seconds=59)
    assert {a.due_at for a in case.active_assignments} == {case.due_at}
    assert (
        load_calendar(session).working_days_between(date.fromisoformat(due), date.fromisoformat(extended))
        == 5
    )
    login(client, "handler")
    page = client.get(f"/cases/show/{case.id}").get_data(as_text=True)
    assert deadline_dates(page) == {extended}
