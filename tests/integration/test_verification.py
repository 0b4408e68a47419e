"""Verification (核查) and rectification (整改), seed 000 (受理-核查-整改-反馈-公示): a complaint or
report gets a finding with its facts and evidence before the reply; a founded one opens a
rectification with measures, a responsible person and a working-day deadline, reported done
with evidence and re-checked (复核) by the supervisor's office, which accepts it or sends it
back. The case does not close while it is open; the reporter hears neutral words only."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from PIL import Image

from app.errors import DomainError, IllegalMove, Invalid, NotAllowed
from app.services import cases as svc
from app.services import reporting, verification
from app.services.calendar import load_calendar
from app.workflow import Action, Status
from models import Attachment, CalendarDay, Case, CaseEvent, Finding, Notification, Rectification, Staff
from tests.conftest import at, login, visible_text
from tests.factories import case_in, handler_of, refused
from tests.integration.test_reporter_side import track

NOW = at("2026-09-30 10:00")  # the eve of National Day: Oct 1-7 off, Sat Oct 10 a workday
FACTS = "经调阅审批系统，该申请确已超期十五个工作日，经办人员王某未按规定办理。"
SUMMARY = "经初步核查，您反映的问题基本属实，已责成相关单位整改。"
MEASURES = "对经办人员批评教育，三日内办结积压件并公开办理时限。"
RESPONSIBLE = "审批科李科长"
COMPLETION = "积压件已全部办结，办理时限已在窗口公示。"


@pytest.fixture
def client(app):
    return app.test_client()


def act(session, case, action, actor, when=None, **params):
    return svc.perform(session, case.id, action, actor=actor, now=when or NOW + timedelta(hours=1), **params)


def handling(session, actors, cats, depts, **extra):
    """A complaint signed for by X102 and not verified yet."""
    return case_in(session, actors, cats, depts, Status.HANDLING, now=NOW, finding=None, **extra)


def found(session, actors, case, result="true", **extra):
    act(session, case, Action.RECORD_FINDING, handler_of(actors, "X102"), result=result, facts=FACTS,
        summary=SUMMARY, **extra)  # fmt: skip


def plan(session, actors, case, days=5, when=None):
    act(
        session,
        case,
        Action.PLAN_RECTIFICATION,
        handler_of(actors, "X102"),
        when=when,
        measures=MEASURES,
        responsible=RESPONSIBLE,
        days=days,
    )


def end_of(day: str):
    return at(f"{day} 23:59") + timedelta(seconds=59)


def png() -> bytes:
    output = io.BytesIO()
    Image.new("RGB", (32, 24), "green").save(output, "PNG")
    return output.getvalue()


def test_a_complaint_cannot_be_replied_before_its_finding(session, actors, cats, depts):
    case = handling(session, actors, cats, depts)
    handler = handler_of(actors, "X102")
    assert Action.REPLY not in svc.available_actions(session, case, handler)
    with refused(IllegalMove, "finding"):
        act(session, case, Action.REPLY, handler, reply="已办结")
    assert case.status == Status.HANDLING and case.reply is None
    found(session, actors, case, "untrue")
    assert case.finding == "untrue" and case.verified_at is not None
    assert not case.rectifications  # nothing to rectify
    act(session, case, Action.REPLY, handler, reply="经核查，情况不属实。")
    assert case.status == Status.REPLIED


def test_a_consultation_needs_no_finding(session, actors, cats, depts):
    case = case_in(session, actors, cats, depts, Status.HANDLING, now=NOW, case_type="consultation")
    handler = handler_of(actors, "X102")
    assert Action.RECORD_FINDING not in svc.available_actions(session, case, handler)
    act(session, case, Action.REPLY, handler, reply="已解答")
    assert case.status == Status.REPLIED and not case.findings


def test_a_founded_finding_opens_rectification_and_the_case_cannot_close_until_it_is_re_checked(
    session, actors, cats, depts
):
    case = handling(session, actors, cats, depts)
    handler, supervisor = handler_of(actors, "X102"), actors["supervisor"]
    found(session, actors, case, "partly_true")
    [finding] = case.findings
    [rectification] = case.rectifications
    assert (finding.result, finding.stage, finding.facts, finding.summary) == (
        "partly_true",
        "handling",
        FACTS,
        SUMMARY,
    )
    assert rectification.state == "awaiting_plan" and rectification.finding is finding
    assert rectification.department_id == depts["X102"].id
    # The reply and the rating may come first; the closing may not.
    act(session, case, Action.REPLY, handler, reply="已责成整改。")
    act(session, case, Action.EVALUATE, supervisor, rating="satisfied", source="revisit_call", method="phone")
    assert case.status == Status.EVALUATED
    assert Action.CLOSE not in svc.available_actions(session, case, supervisor)
    with refused(IllegalMove, "rectification"):
        act(session, case, Action.CLOSE, supervisor)
    # Plan, report done, re-check: each step one event, the status unchanged.
    plan(session, actors, case)
    assert rectification.state == "planned" and rectification.measures == MEASURES
    assert rectification.responsible == RESPONSIBLE and rectification.due_days == 5
    with pytest.raises(IllegalMove):
        act(session, case, Action.CLOSE, supervisor)
    act(session, case, Action.REPORT_RECTIFICATION, handler, completion=COMPLETION)
    assert rectification.state == "submitted" and rectification.completion == COMPLETION
    with pytest.raises(IllegalMove):
        act(session, case, Action.CLOSE, supervisor)
    act(session, case, Action.ACCEPT_RECTIFICATION, supervisor, note="现场复核，整改到位。")
    assert rectification.state == "accepted" and case.open_rectification is None
    assert rectification.reviewed_by_id == supervisor.id and rectification.reviewed_at is not None
    assert rectification.review_note == "现场复核，整改到位。"
    act(session, case, Action.CLOSE, supervisor)
    assert case.status == Status.CLOSED
    steps = [(e.action, e.from_status, e.to_status) for e in case.events][-5:]
    assert steps == [
        ("evaluate", "replied", "evaluated"),
        ("plan_rectification", "evaluated", "evaluated"),
        ("report_rectification", "evaluated", "evaluated"),
        ("accept_rectification", "evaluated", "evaluated"),
        ("close", "evaluated", "closed"),
    ]
    assert {e.data["rectification"] for e in case.events if "rectification" in e.action} == {rectification.id}


def test_a_rectification_is_due_in_working_days_from_its_plan_across_national_day(
    session, actors, cats, depts
):
    case = handling(session, actors, cats, depts)
    found(session, actors, case)
    plan(session, actors, case, days=5, when=NOW)
    rectification = case.open_rectification
    # Thu Oct 8, Fri Oct 9, Sat Oct 10 (make-up workday), Mon Oct 12, Tue Oct 13.
    assert rectification.due_start_at == NOW and rectification.due_at == end_of("2026-10-13")
    assert not rectification.due_provisional
    assert case.events[-1].data["due_at"] == rectification.due_at.isoformat()


def test_the_rectification_period_is_between_one_day_and_the_setting(session, actors, cats, depts):
    from models import Setting

    case = handling(session, actors, cats, depts)
    found(session, actors, case)
    before = len(case.events)
    for days in (0, -3, 31, "", None, "five", 2.5):
        with pytest.raises(Invalid):
            plan(session, actors, case, days=days)
    row = session.query(Setting).filter_by(key="max_rectification_working_days").one_or_none()
    if row is None:
        session.add(Setting(key="max_rectification_working_days", value=40, description="x"))
    else:
        row.value = 40
    session.flush()
    plan(session, actors, case, days=40)  # the limit is the setting (30 by default)
    assert len(case.events) == before + 1 and case.open_rectification.due_days == 40


def test_bad_input_gives_invalid_and_nothing_is_saved(session, actors, cats, depts):
    case = handling(session, actors, cats, depts)
    handler, supervisor = handler_of(actors, "X102"), actors["supervisor"]

    def nothing_saved():
        session.flush()
        return (
            len(case.events),
            session.query(Finding).filter_by(case_id=case.id).count(),
            session.query(Attachment).filter_by(case_id=case.id).count(),
            case.finding,
        )

    before = nothing_saved()
    for params in (
        {"result": "maybe", "facts": FACTS, "summary": SUMMARY},  # unknown result
        {"result": "", "facts": FACTS, "summary": SUMMARY},
        {"result": "true", "facts": "  ", "summary": SUMMARY},  # missing facts
        {"result": "true", "facts": FACTS, "summary": ""},  # nothing for the reporter
        {"result": "true", "facts": "x" * 20001, "summary": SUMMARY},
        {"result": "true", "facts": FACTS, "summary": SUMMARY, "files": [("空.pdf", b"")]},  # an empty file
        {"result": "true", "facts": FACTS, "summary": SUMMARY, "files": [["a.pdf", "text"]]},  # not a file
        {"result": "true", "facts": FACTS, "summary": SUMMARY, "files": "a.pdf"},
    ):
        with pytest.raises(Invalid):
            act(session, case, Action.RECORD_FINDING, handler, **params)
        assert nothing_saved() == before, params
    found(session, actors, case)
    before = len(case.events)
    for params in (
        {"measures": "", "responsible": RESPONSIBLE, "days": 5},
        {"measures": MEASURES, "responsible": "", "days": 5},
        {"measures": MEASURES, "responsible": "李" * 101, "days": 5},
    ):
        with pytest.raises(Invalid):
            act(session, case, Action.PLAN_RECTIFICATION, handler, **params)
    plan(session, actors, case)
    with pytest.raises(Invalid):
        act(session, case, Action.REPORT_RECTIFICATION, handler, completion="")
    act(session, case, Action.REPORT_RECTIFICATION, handler, completion=COMPLETION)
    for params in ({"note": ""}, {"note": "整改不到位", "days": 0}, {"note": "整改不到位", "days": 31}):
        with pytest.raises(Invalid):
            act(session, case, Action.REJECT_RECTIFICATION, supervisor, **params)
    assert len(case.events) == before + 2 and case.open_rectification.state == "submitted"
    assert case.open_rectification.send_backs == 0


def test_only_the_lead_department_plans_and_only_the_office_re_checks(session, actors, cats, depts):
    case = case_in(session, actors, cats, depts, Status.HANDLING, now=NOW, co=("X103",), finding=None)
    found(session, actors, case)
    co_handler = handler_of(actors, "X103")
    with pytest.raises(IllegalMove):  # a co-handler neither verifies nor plans
        act(session, case, Action.RECORD_FINDING, co_handler, result="untrue", facts=FACTS, summary=SUMMARY)
    with pytest.raises(IllegalMove):
        act(session, case, Action.PLAN_RECTIFICATION, co_handler, measures=MEASURES, responsible="x", days=3)
    with pytest.raises(NotAllowed):
        act(session, case, Action.PLAN_RECTIFICATION, actors["supervisor"], measures=MEASURES,
            responsible="x", days=3)  # fmt: skip
    plan(session, actors, case)
    with pytest.raises(IllegalMove):  # nothing reported yet
        act(session, case, Action.ACCEPT_RECTIFICATION, actors["supervisor"])
    act(session, case, Action.REPORT_RECTIFICATION, handler_of(actors, "X102"), completion=COMPLETION)
    with pytest.raises(NotAllowed):  # the department does not re-check its own work
        act(session, case, Action.ACCEPT_RECTIFICATION, handler_of(actors, "X102"))


def test_a_rectification_sent_back_gets_a_new_deadline(session, actors, cats, depts):
    case = handling(session, actors, cats, depts)
    handler, supervisor = handler_of(actors, "X102"), actors["supervisor"]
    found(session, actors, case)
    plan(session, actors, case, days=5, when=NOW)
    rectification = case.open_rectification
    assert rectification.due_at == end_of("2026-10-13")
    act(
        session,
        case,
        Action.REPORT_RECTIFICATION,
        handler,
        when=at("2026-10-09 10:00"),
        completion=COMPLETION,
    )
    reported = session.query(Notification).filter_by(template="rectification_reported", case_id=case.id)
    assert {n.user_id for n in reported} == {
        session.query(Staff.id).filter_by(username=name).scalar() for name in ("supervisor", "supervisor2")
    }
    act(
        session,
        case,
        Action.REJECT_RECTIFICATION,
        supervisor,
        when=at("2026-10-12 10:00"),
        note="公示内容不全，请补充办理时限公示照片。",
        days=3,
    )
    assert rectification.state == "planned" and rectification.send_backs == 1
    assert rectification.completed_at is None and rectification.review_note.startswith("公示内容不全")
    # 5 + 3 working days from the plan: Wed Oct 14, Thu Oct 15, Fri Oct 16.
    assert rectification.due_days == 8 and rectification.due_at == end_of("2026-10-16")
    event = case.events[-1]
    assert (event.action, event.note, event.public_text) == (
        "reject_rectification",
        "公示内容不全，请补充办理时限公示照片。",
        None,
    )
    assert event.data["due_at"] == rectification.due_at.isoformat() and event.data["days"] == 3
    sent_back = session.query(Notification).filter_by(
        template="rectification_sent_back", case_id=case.id, channel="inbox"
    )
    assert [n.user_id for n in sent_back] == [handler.id]
    assert sent_back[0].params["due"] == "2026-10-16 23:59"
    # Reported again, re-checked again: the office is told once more, then accepts it.
    act(
        session,
        case,
        Action.REPORT_RECTIFICATION,
        handler,
        when=at("2026-10-13 10:00"),
        completion="已补充公示。",
    )
    assert (
        session.query(Notification).filter_by(template="rectification_reported", channel="inbox").count() == 4
    )
    act(session, case, Action.ACCEPT_RECTIFICATION, supervisor, when=at("2026-10-14 10:00"))
    assert rectification.state == "accepted" and rectification.completed_at == at("2026-10-13 10:00")


def test_a_send_back_without_more_days_keeps_the_deadline(session, actors, cats, depts):
    case = handling(session, actors, cats, depts)
    found(session, actors, case)
    plan(session, actors, case, days=5, when=NOW)
    act(session, case, Action.REPORT_RECTIFICATION, handler_of(actors, "X102"), completion=COMPLETION)
    act(session, case, Action.REJECT_RECTIFICATION, actors["supervisor"], note="整改不到位")
    rectification = case.open_rectification
    assert rectification.state == "planned" and rectification.due_at == end_of("2026-10-13")


def test_a_finding_revised_to_untrue_drops_the_rectification_waiting_for_its_plan(
    session, actors, cats, depts
):
    case = handling(session, actors, cats, depts)
    found(session, actors, case, "true")
    [dropped] = case.rectifications
    dropped_id = dropped.id
    found(session, actors, case, "unverifiable")
    assert case.finding == "unverifiable" and len(case.findings) == 2
    assert case.rectifications == [] and session.get(Rectification, dropped_id) is None
    assert [e.action for e in case.events][-2:] == ["record_finding", "drop_rectification"]
    assert case.events[-1].data == {"rectification": dropped_id, "finding": case.findings[-1].id}
    assert case.events[-1].public_text is None
    assert Action.CLOSE not in svc.available_actions(session, case, actors["supervisor"])  # not replied yet
    act(session, case, Action.REPLY, handler_of(actors, "X102"), reply="无法核实。")  # nothing holds it up


def test_a_finding_cannot_be_revised_to_untrue_once_the_rectification_is_under_way(
    session, actors, cats, depts
):
    case = handling(session, actors, cats, depts)
    found(session, actors, case, "true")
    plan(session, actors, case)
    before = len(case.events)
    with refused(IllegalMove, "under way"):
        found(session, actors, case, "untrue")
    assert len(case.events) == before and case.finding == "true" and len(case.findings) == 1
    found(session, actors, case, "partly_true")  # still founded: the rectification carries on
    assert case.open_rectification.state == "planned" and len(case.rectifications) == 1


def test_the_reporter_is_told_the_result_and_the_rectification_in_neutral_words(
    session, client, actors, cats, depts
):
    case = handling(session, actors, cats, depts, reporter_name="林晓燕", reporter_phone="13912345678")
    code = case.query_code
    handler, supervisor = handler_of(actors, "X102"), actors["supervisor"]
    found(session, actors, case)
    plan(session, actors, case)
    act(session, case, Action.REPORT_RECTIFICATION, handler, completion=COMPLETION)
    act(session, case, Action.REJECT_RECTIFICATION, supervisor, note="复核发现仍有积压件", days=2)
    act(session, case, Action.REPORT_RECTIFICATION, handler, completion=COMPLETION)
    act(session, case, Action.ACCEPT_RECTIFICATION, supervisor, note="复核通过")
    shown = [e.public_text for e in reporting.public_timeline(case)]
    assert shown[-3:] == [SUMMARY, verification.PLANNED_TEXT, verification.RECTIFIED_TEXT]
    sms = {n.template for n in session.query(Notification).filter_by(channel="sms", case_id=case.id)}
    assert {"case_verified", "case_rectified"} <= sms
    session.commit()
    track(client, case.number, code)
    html = client.get("/track/case").get_data(as_text=True)
    page = visible_text(html)
    assert 'id="track-finding"' in html and 'id="track-rectified"' in html and SUMMARY in page
    staff_names = [e.actor_name for e in case.events if e.actor_id]
    for secret in (FACTS, MEASURES, RESPONSIBLE, COMPLETION, "复核发现仍有积压件", "复核通过", *staff_names):
        assert secret not in page, secret


def test_the_case_page_shows_the_finding_and_the_rectification_to_staff(session, client, actors, cats, depts):
    case = handling(session, actors, cats, depts)
    handler = handler_of(actors, "X102")
    found(session, actors, case, files=[("核查照片.png", png())])
    plan(session, actors, case)
    act(
        session,
        case,
        Action.REPORT_RECTIFICATION,
        handler,
        completion=COMPLETION,
        files=[("整改.png", png())],
    )
    act(
        session, case, Action.REJECT_RECTIFICATION, actors["supervisor"], note="请补充佐证<b>材料</b>", days=2
    )
    session.commit()
    login(client, "supervisor")
    html = client.get(f"/cases/show/{case.id}").get_data(as_text=True)
    section = html[html.index('id="case-verification"') :]
    text = visible_text(section)
    for shown in (FACTS, SUMMARY, MEASURES, RESPONSIBLE, COMPLETION, "核查照片.png", "整改.png"):
        assert shown in text, shown
    assert "请补充佐证&lt;b&gt;材料&lt;/b&gt;" in section  # typed text is escaped
    assert re.search(r'class="label label-warning rectification-send-backs"', section)
    [finding_file] = [a for a in case.attachments if a.purpose == "finding"]
    assert f"/cases/act/{case.id}/file/{finding_file.id}" in section
    assert client.get(f"/cases/act/{case.id}/file/{finding_file.id}").status_code == 200


def test_a_finding_with_evidence_is_recorded_through_the_form(session, client, actors, cats, depts):
    case = handling(session, actors, cats, depts)
    session.commit()
    login(client, "handler")
    form = client.get(f"/cases/act/{case.id}/record_finding").get_data(as_text=True)
    assert 'name="attachments"' in form and 'enctype="multipart/form-data"' in form
    response = client.post(
        f"/cases/act/{case.id}/record_finding",
        data={
            "result": "true",
            "facts": FACTS,
            "summary": SUMMARY,
            "attachments": [(io.BytesIO(png()), "现场照片.png")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)[-800:]
    session.expire_all()
    case = session.get(Case, case.id)
    [finding] = case.findings
    [evidence] = case.attachments
    assert (finding.result, finding.facts, finding.recorded_by_id) == ("true", FACTS, actors["handler"].id)
    assert (evidence.purpose, evidence.ref_id, evidence.uploaded_by_id) == (
        "finding",
        finding.id,
        actors["handler"].id,
    )
    assert evidence.reporter_id is None and evidence.clean_state == "clean"
    assert verification.evidence(case, "finding", finding.id) == [evidence]
    assert case.open_rectification.state == "awaiting_plan"
    # A wrong result through the form: refused, nothing more saved.
    response = client.post(
        f"/cases/act/{case.id}/record_finding",
        data={"result": "perhaps", "facts": FACTS, "summary": SUMMARY},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert response.status_code == 200
    session.expire_all()
    assert session.query(Finding).filter_by(case_id=case.id).count() == 1
    assert session.query(CaseEvent).filter_by(case_id=case.id, action="record_finding").count() == 1


def test_a_calendar_change_moves_the_rectification_deadline(session, actors, cats, depts):
    case = handling(session, actors, cats, depts)
    found(session, actors, case)
    plan(session, actors, case, days=5, when=NOW)
    rectification = case.open_rectification
    assert rectification.due_at == end_of("2026-10-13")
    session.add(CalendarDay(day=at("2026-10-12 12:00").date(), kind="holiday", name="调整"))
    session.flush()
    assert verification.recompute_rectification_due(session, load_calendar(session)) >= 1
    assert rectification.due_at == end_of("2026-10-14")


def test_every_verification_action_has_its_service_and_form(session):
    from views.forms import ACTION_FIELDS

    for action in (
        Action.RECORD_FINDING,
        Action.PLAN_RECTIFICATION,
        Action.REPORT_RECTIFICATION,
        Action.ACCEPT_RECTIFICATION,
        Action.REJECT_RECTIFICATION,
    ):
        service = svc.ACTION_SERVICES[action]
        assert service.__module__ == "app.services.verification"
        assert action in ACTION_FIELDS
    with pytest.raises(DomainError):
        svc.perform(session, 10**9, Action.RECORD_FINDING, actor=svc.SYSTEM, now=NOW)
