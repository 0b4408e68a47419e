"""Grades that route (seed 002, Qiu county): an A-grade report (a detailed allegation against an
official) goes to discipline inspection (纪检监察) only, and its reporter is known to them
alone; a B-grade report is verified by the supervisor's office before dispatch, and answered
by the office itself when found untrue; a C-grade report goes to its functional department with
a numbered 交办函 carrying the duty to verify and rectify."""

from __future__ import annotations

import re
import subprocess
from datetime import timedelta

import pytest

from app.errors import IllegalMove, Invalid, NotAllowed, NotFound
from app.services import cases as svc
from app.services import protection
from app.workflow import Action, Status
from models import Notice, Notification, Staff
from tests.conftest import at, login, visible_text
from tests.factories import case_in, handler_of, refused

NOW = at("2026-09-30 10:00")
NAME, PHONE = "林晓燕", "13912345678"


@pytest.fixture
def client(app):
    return app.test_client()


def act(session, case, action, actor, when=None, **params):
    return svc.perform(session, case.id, action, actor=actor, now=when or NOW + timedelta(hours=1), **params)


def report(session, actors, cats, depts, grade, status=Status.ACCEPTED, **extra):
    """A named report about a county enforcement problem (the rules propose X103)."""
    return case_in(
        session,
        actors,
        cats,
        depts,
        status,
        now=NOW,
        case_type="report",
        category="ENF01",
        region="清源省",
        grade=grade,
        reporter_name=NAME,
        reporter_phone=PHONE,
        concerned_official="执法大队李某",
        **extra,
    )


def user_id(session, username):
    return session.query(Staff.id).filter_by(username=username).scalar()


def pdf_text(data: bytes) -> str:
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode()
    return re.sub(r"\s+", "", text)


# --- A: discipline inspection --------------------------------------------------------------------


def test_an_a_grade_report_goes_to_discipline_inspection_only(session, client, actors, cats, depts):
    case = report(session, actors, cats, depts, "a")
    inspection = depts["P02"]
    assert inspection.discipline_inspection
    assert case.proposed_department == inspection  # not the rules' X103
    events = len(case.events)
    for lead, co in (("X103", []), ("X101", []), ("P02", ["X103"])):
        with refused(Invalid, "discipline inspection"):
            act(
                session,
                case,
                Action.DISPATCH,
                actors["dispatcher"],
                lead_department_id=depts[lead].id,
                co_department_ids=[depts[c].id for c in co],
            )
        assert case.status == Status.ACCEPTED and not case.assignments and len(case.events) == events
    act(session, case, Action.DISPATCH, actors["dispatcher"], lead_department_id=inspection.id)
    assert case.lead_department == inspection
    assert not session.query(Notice).filter_by(kind="assignment").count()  # no 交办函 for an A grade
    inspector = handler_of(actors, "P02")
    act(session, case, Action.SIGN, inspector)
    assert Action.RECORD_FINDING in svc.available_actions(session, case, inspector)
    act(
        session, case, Action.RECORD_FINDING, inspector, result="true", facts="经查属实。", summary="已查实。"
    )
    assert case.findings[0].department == inspection


def test_the_reporter_of_an_a_grade_report_is_known_to_discipline_inspection_alone(
    session, client, actors, cats, depts
):
    case = report(session, actors, cats, depts, "a", status=Status.HANDLING, lead="P02")
    # Even the supervisor named on the case does not see who filed an A-grade report.
    protection.assign_supervisor(
        session, case.id, actor=actors["dispatcher"], now=NOW, supervisor_id=user_id(session, "supervisor")
    )
    inspector = handler_of(actors, "P02")
    assert protection.entitlement(case, inspector) == protection.DISCIPLINE_INSPECTION
    assert protection.can_see_identity(case, actors["custodian"])
    for name in (
        "supervisor",
        "supervisor2",
        "handler",
        "handler2",
        "handler3",
        "dispatcher",
        "leader",
        "admin",
    ):
        assert not protection.can_see_identity(case, actors[name]), name
    with pytest.raises(NotAllowed):
        protection.reveal_identity(session, case, actor=actors["supervisor"], now=NOW)
    session.commit()
    login(client, "supervisor")
    page = client.get(f"/cases/show/{case.id}").get_data(as_text=True)
    assert f'action="/cases/act/{case.id}/identity"' not in page and NAME not in visible_text(page)
    login(client, "handler6")
    shown = visible_text(
        client.post(f"/cases/act/{case.id}/identity", follow_redirects=True).get_data(as_text=True)
    )
    assert NAME in shown and PHONE in shown
    # The same supervisor sees the reporter of a B-grade report named to them (the usual rule).
    other = report(session, actors, cats, depts, "b", status=Status.HANDLING, lead="X103")
    protection.assign_supervisor(
        session, other.id, actor=actors["dispatcher"], now=NOW, supervisor_id=user_id(session, "supervisor")
    )
    assert protection.can_see_identity(other, actors["supervisor"])


def test_an_a_grade_report_is_not_handed_to_another_department_on_re_handling(session, actors, cats, depts):
    case = report(session, actors, cats, depts, "a", status=Status.UNSATISFIED, lead="P02")
    with refused(Invalid, "discipline inspection"):
        act(
            session,
            case,
            Action.REHANDLE,
            actors["supervisor"],
            note="重新核查",
            lead_department_id=depts["X103"].id,
        )
    assert case.status == Status.UNSATISFIED
    act(session, case, Action.REHANDLE, actors["supervisor"], note="重新核查")
    assert case.status == Status.DISPATCHED and case.lead_department == depts["P02"]


def test_an_a_grade_report_about_discipline_inspection_itself_gets_no_proposal(session, actors, cats, depts):
    case = report(session, actors, cats, depts, "a", concerned_department_id=depts["P02"].id)
    assert case.proposed_department is None


# --- B: the office verifies first ----------------------------------------------------------------


def test_a_b_grade_report_is_verified_by_the_office_before_dispatch(session, actors, cats, depts):
    case = report(session, actors, cats, depts, "b")
    dispatcher, supervisor = actors["dispatcher"], actors["supervisor"]
    assert Action.DISPATCH not in svc.available_actions(session, case, dispatcher)
    with refused(IllegalMove, "B-grade"):
        act(session, case, Action.DISPATCH, dispatcher, lead_department_id=depts["X103"].id)
    with pytest.raises(NotFound):  # no department holds it yet: not even theirs to see
        act(
            session,
            case,
            Action.RECORD_FINDING,
            handler_of(actors, "X103"),
            result="true",
            facts="x",
            summary="y",
        )
    assert Action.RECORD_FINDING in svc.available_actions(session, case, supervisor)
    act(
        session,
        case,
        Action.RECORD_FINDING,
        supervisor,
        result="partly_true",
        facts="督办室调取执法记录，部分属实。",
        summary="经初步核查，您反映的问题部分属实，已转交职能部门办理。",
    )
    [finding] = case.findings
    assert finding.stage == "preliminary" and finding.department_id == depts["P00"].id
    assert case.status == Status.ACCEPTED and case.verified_at is not None
    [rectification] = case.rectifications
    assert rectification.state == "awaiting_plan" and rectification.department_id is None
    with refused(IllegalMove, "untrue"):  # found founded: the office does not answer it itself
        act(session, case, Action.REPLY, supervisor, reply="经核查……")
    act(session, case, Action.DISPATCH, dispatcher, lead_department_id=depts["X103"].id)
    handler = handler_of(actors, "X103")
    act(session, case, Action.SIGN, handler)
    act(
        session,
        case,
        Action.PLAN_RECTIFICATION,
        handler,
        measures="规范执法程序",
        responsible="大队长",
        days=5,
    )
    assert rectification.department_id == depts["X103"].id and rectification.state == "planned"
    act(
        session, case, Action.REPLY, handler, reply="已按督办室核查意见整改。"
    )  # the office's finding suffices
    assert case.status == Status.REPLIED


def test_the_office_answers_a_b_grade_report_it_found_untrue(session, actors, cats, depts):
    case = report(session, actors, cats, depts, "b")
    supervisor = actors["supervisor"]
    assert Action.REPLY not in svc.available_actions(session, case, supervisor)  # not verified yet
    act(
        session,
        case,
        Action.RECORD_FINDING,
        supervisor,
        result="untrue",
        facts="调取执法记录仪视频，执法程序合规。",
        summary="经核查，您反映的问题不属实。",
    )
    assert not case.rectifications
    assert Action.REPLY in svc.available_actions(session, case, supervisor)
    with pytest.raises(NotAllowed):
        act(session, case, Action.REPLY, actors["dispatcher"], reply="x")
    act(session, case, Action.REPLY, supervisor, reply="经核查，执法程序合规，您反映的问题不属实。")
    assert case.status == Status.REPLIED and case.replied_at is not None
    assert case.reply == "经核查，执法程序合规，您反映的问题不属实。"
    assert not case.assignments and case.lead_department is None
    sms = {n.template for n in session.query(Notification).filter_by(channel="sms", case_id=case.id)}
    assert "case_replied_by_office" in sms and "case_replied" not in sms
    act(session, case, Action.EVALUATE, supervisor, rating="satisfied", source="revisit_call", method="phone")
    act(session, case, Action.CLOSE, supervisor)
    assert case.status == Status.CLOSED
    assert [e.action for e in case.events][-5:] == ["accept", "record_finding", "reply", "evaluate", "close"]


def test_an_office_answer_the_reporter_rejects_is_re_handled_by_a_department_the_office_names(
    session, actors, cats, depts
):
    case = report(session, actors, cats, depts, "b")
    supervisor = actors["supervisor"]
    act(
        session,
        case,
        Action.RECORD_FINDING,
        supervisor,
        result="unverifiable",
        facts="无法取证。",
        summary="无法核实。",
    )
    act(session, case, Action.REPLY, supervisor, reply="经核查，无法核实。")
    act(session, case, Action.EVALUATE, supervisor, rating="unsatisfied", source="revisit_call",
        method="phone", reason="未实地调查")  # fmt: skip
    with refused(Invalid, "lead department"):
        act(session, case, Action.REHANDLE, supervisor, note="交职能部门核查")
    assert case.status == Status.UNSATISFIED
    act(
        session, case, Action.REHANDLE, supervisor, note="交职能部门核查", lead_department_id=depts["X103"].id
    )
    assert case.status == Status.DISPATCHED and case.lead_department == depts["X103"]


# --- C: the functional department, with a 交办函 -----------------------------------------------


def test_a_c_grade_report_is_dispatched_with_a_numbered_assignment_letter(
    session, client, actors, cats, depts
):
    case = report(session, actors, cats, depts, "c", status=Status.DISPATCHED, lead="X103")
    [letter] = session.query(Notice).filter_by(kind="assignment").all()
    assert letter.cause == "grade_c_assignment" and letter.department == depts["X103"]
    assert re.fullmatch(r"清营商督〔2026〕\d+号", letter.number)  # the province office's series
    assert letter.cases == [case] and letter.reply_due_at == case.due_at == case.lead_assignment.due_at
    assert "核查整改责任" in letter.details and "2026年10月20日" in letter.details  # frozen when issued
    [event] = [e for e in case.events if e.action == "assignment_letter"]
    assert event.data["number"] == letter.number and event.data["notice"] == letter.id
    assert event.note == letter.number and event.public_text is None  # the reporter is not told of it
    told = session.query(Notification).filter_by(template="assignment_letter", channel="inbox").all()
    assert [n.user_id for n in told] == [handler_of(actors, "X103").id]
    assert told[0].params["notice"] == letter.number and told[0].params["due"] == "2026-10-20 23:59"
    session.commit()
    login(client, "handler2")  # the department it is addressed to reads its PDF
    response = client.get(f"/notices/act/{letter.id}/pdf")
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/pdf"
    text = pdf_text(response.data)
    for expected in (
        f"关于交办{case.number}号问题线索的函",  # the 交办函's title names its subject
        letter.number,
        "长河县市场监督管理局",
        case.number,
        "核查",
        "整改",
        "2026年10月20日前",  # the reply date as documents write it
    ):
        assert expected in text, expected
    assert "提醒敦促函" not in text and NAME not in text and PHONE not in text


def test_a_c_grade_report_sent_to_another_department_gets_its_own_letter(session, actors, cats, depts):
    case = report(session, actors, cats, depts, "c", status=Status.RETURNED, lead="X103")
    [first] = session.query(Notice).filter_by(kind="assignment").all()
    act(session, case, Action.DISPATCH, actors["dispatcher"], lead_department_id=depts["X102"].id)
    letters = session.query(Notice).filter_by(kind="assignment").order_by(Notice.sequence).all()
    assert [n.department_id for n in letters] == [depts["X103"].id, depts["X102"].id]
    assert letters[1].sequence == first.sequence + 1
    assert [e.action for e in case.events].count("assignment_letter") == 2


def test_reports_of_other_grades_and_complaints_get_no_assignment_letter(session, actors, cats, depts):
    report(session, actors, cats, depts, "b", status=Status.DISPATCHED, lead="X103")
    case_in(session, actors, cats, depts, Status.DISPATCHED, now=NOW)
    assert session.query(Notice).filter_by(kind="assignment").count() == 0


def test_a_b_grade_reports_dispatch_clock_starts_when_the_offices_finding_is_in(session, actors, cats, depts):
    """The 20 minutes to dispatch (002) cannot run while the office is still verifying."""
    case = report(session, actors, cats, depts, "b")
    found_at = NOW + timedelta(days=1)
    act(
        session,
        case,
        Action.RECORD_FINDING,
        actors["supervisor"],
        found_at,
        result="true",
        facts="督办室核查属实。",
        summary="经初步核查，属实。",
    )
    assert case.dispatch_due_at == found_at + timedelta(minutes=20)


def test_the_office_deciding_a_dispute_cannot_hand_an_a_grade_report_to_an_ordinary_department(
    session, actors, cats, depts
):
    case = report(session, actors, cats, depts, "a")
    act(session, case, Action.DISPATCH, actors["dispatcher"], lead_department_id=depts["P02"].id)
    inspector = handler_of(actors, "P02")
    act(session, case, Action.RAISE_DISPUTE, inspector, reason="该问题属于执法大队管理范围。")
    with refused(Invalid, "discipline inspection"):
        act(
            session,
            case,
            Action.DECIDE_DISPUTE,
            actors["dispatcher"],
            lead_department_id=depts["X103"].id,
            note="由执法大队牵头。",
        )
    assert case.lead_department == depts["P02"] and case.open_dispute is not None
