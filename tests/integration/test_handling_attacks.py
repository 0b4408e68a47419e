"""What an attacker review of the handling steps found, as rules: a reward stops when the report
no longer stands as true; a round withdrawn takes its pending extension with it; a C-grade report
given to another department gets that department's own 交办函; one open rectification per case
even for two submits at once; a double submit never answers 500; an A-grade reporter is never
lent out; the most basic refusal speaks first."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from app.enums import ExtensionState, RectificationState
from app.errors import IllegalMove, Invalid
from app.services import cases as svc
from app.services import protection, sweep
from app.services import rewards as rw
from app.supervision import NoticeState
from app.workflow import Action, Status
from models import Notice, Notification, Rectification, RewardTier
from tests.conftest import api_token, at, login
from tests.factories import case_in, handler_of

NOW = at("2026-11-02 10:00")


def act(session, case, action, actor, when=None, **params):
    return svc.perform(session, case.id, action, actor=actor, now=when or NOW + timedelta(days=1), **params)


def report(session, actors, cats, depts, status, **extra):
    return case_in(
        session,
        actors,
        cats,
        depts,
        status,
        now=NOW,
        case_type="report",
        category="FEE01",
        grade="c",
        **extra,
    )


def test_a_reward_stops_when_the_report_is_found_untrue_after_a_re_handling(session, actors, cats, depts):
    case = report(session, actors, cats, depts, Status.CLOSED, finding="true")
    tier = session.query(RewardTier).filter_by(code="tier3").one()
    reward = rw.propose_reward(
        session,
        case.id,
        actor=actors["supervisor"],
        now=NOW + timedelta(days=1),
        reporter_id=case.reporters[0].id,
        tier_id=tier.id,
        amount=150,
        reasons="线索属实",
    )
    # A sampled revisit call finds the reporter unsatisfied; re-handled, the report is found untrue.
    sweep.add_revisit(session, case, reason="sample", now=NOW + timedelta(days=2))
    unsatisfied = {"outcome": "reached", "rating": "unsatisfied", "method": "phone", "notes": "并未退费"}
    act(session, case, Action.RECORD_REVISIT, actors["clerk"], NOW + timedelta(days=2), **unsatisfied)
    act(session, case, Action.REHANDLE, actors["supervisor"], NOW + timedelta(days=3), note="重新核查")
    handler = handler_of(actors, "X102")
    act(session, case, Action.SIGN, handler, NOW + timedelta(days=3))
    act(
        session,
        case,
        Action.RECORD_FINDING,
        handler,
        NOW + timedelta(days=4),
        result="untrue",
        facts="复查发现收费有文件依据",
        summary="经复查，反映的问题不属实。",
    )
    with pytest.raises(IllegalMove) as refused:
        rw.approve_reward(session, reward.id, actor=actors["supervisor2"], now=NOW + timedelta(days=5))
    assert "cannot go further" in refused.value.msgid
    assert reward.status == "proposed"


def test_a_pending_extension_is_withdrawn_with_its_round(session, actors, cats, depts):
    case = case_in(session, actors, cats, depts, Status.HANDLING, now=NOW, co=["X103"])
    lead = handler_of(actors, "X102")
    act(session, case, Action.REQUEST_EXTENSION, lead, days=5, reason="需会商")
    request = case.pending_extension
    act(session, case, Action.RAISE_DISPUTE, lead, reason="应由X103牵头")
    act(
        session,
        case,
        Action.DECIDE_DISPUTE,
        actors["dispatcher"],
        lead_department_id=depts["X103"].id,
        note="改由X103牵头",
    )
    assert request.state == ExtensionState.WITHDRAWN and case.pending_extension is None
    assert Action.APPROVE_EXTENSION not in svc.available_actions(session, case, actors["supervisor"])
    new_lead = handler_of(actors, "X103")
    act(session, case, Action.SIGN, new_lead)
    assert Action.REQUEST_EXTENSION in svc.available_actions(session, case, new_lead)


def test_a_c_grade_report_given_to_another_lead_gets_its_own_letter(session, actors, cats, depts):
    case = report(session, actors, cats, depts, Status.HANDLING, co=["X103"], finding=None)
    [first] = session.query(Notice).filter_by(kind="assignment").all()
    assert first.department_id == depts["X102"].id
    act(session, case, Action.RAISE_DISPUTE, handler_of(actors, "X102"), reason="职责在X103")
    act(
        session,
        case,
        Action.DECIDE_DISPUTE,
        actors["dispatcher"],
        lead_department_id=depts["X103"].id,
        note="X103牵头",
    )
    letters = {n.department_id: n for n in session.query(Notice).filter_by(kind="assignment")}
    assert set(letters) == {depts["X102"].id, depts["X103"].id}
    assert letters[depts["X102"].id].state == NoticeState.CLOSED  # withdrawn from the old lead
    assert letters[depts["X103"].id].state == NoticeState.ISSUED
    assert letters[depts["X103"].id].number != first.number


def test_a_case_holds_at_most_one_open_rectification_in_the_database(session, actors, cats, depts):
    case = report(session, actors, cats, depts, Status.HANDLING, finding="true")
    act(
        session,
        case,
        Action.RECORD_FINDING,
        handler_of(actors, "X102"),
        result="true",
        facts="属实",
        summary="属实",
    )
    assert case.open_rectification is not None
    session.add(
        Rectification(
            case_id=case.id,
            finding_id=case.findings[-1].id,
            state=RectificationState.AWAITING_PLAN,
            opened_at=NOW,
            due_provisional=False,
            send_backs=0,
        )
    )  # what a second, simultaneous submit would write where no row lock holds (SQLite)
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def test_a_double_submit_refused_by_the_database_answers_with_a_message_not_a_500(
    app, session, actors, cats, depts, monkeypatch
):
    case = case_in(session, actors, cats, depts, Status.HANDLING, now=NOW)
    session.commit()

    def collides(*args, **kwargs):
        raise IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed: rectification.case_id"))

    monkeypatch.setattr(svc, "perform", collides)
    client = app.test_client()
    login(client, "handler")
    page = client.post(f"/cases/act/{case.id}/add_note", data={"note": "第二次点击"}, follow_redirects=True)
    assert page.status_code == 200 and "alert-danger" in page.get_data(as_text=True)
    answer = client.post(
        f"/api/v1/case/{case.id}/actions/add_note",
        headers={"Authorization": f"Bearer {api_token(client, 'handler')}"},
        json={"note": "x"},
    )
    assert answer.status_code == 409 and answer.json["message"]


def test_an_a_grade_reporter_is_never_lent_out_beyond_discipline_inspection(session, actors, cats, depts):
    case = case_in(
        session,
        actors,
        cats,
        depts,
        Status.ACCEPTED,
        now=NOW,
        case_type="report",
        category="ENF01",
        grade="a",
    )
    supervisor = actors["supervisor"]
    assert not protection.may_request_identity(session, case, supervisor)
    with pytest.raises(Exception) as refused:
        protection.request_identity(session, case.id, actor=supervisor, now=NOW, reason="需联系举报人")
    assert refused.value.status in (403, 409)


def test_a_co_handler_trying_to_reply_is_told_only_the_lead_replies(session, actors, cats, depts):
    case = case_in(session, actors, cats, depts, Status.HANDLING, now=NOW, co=["X103"], finding=None)
    co = handler_of(actors, "X103")
    act(session, case, Action.SIGN, co)
    with pytest.raises(IllegalMove) as refused:
        act(session, case, Action.REPLY, co, reply="协办意见")
    assert refused.value.msgid == "Only the lead department may do this."


def test_missing_parameters_are_named_in_the_refusal(session, actors, cats, depts):
    case = case_in(session, actors, cats, depts, Status.HANDLING, now=NOW, finding=None)
    with pytest.raises(Invalid) as refused:
        act(session, case, Action.RECORD_FINDING, handler_of(actors, "X102"), result="true", facts="x")
    assert "summary" in refused.value.params["names"]


def test_the_reporter_is_told_when_the_answer_they_were_sent_is_refused(session, actors, cats, depts):
    case = case_in(session, actors, cats, depts, Status.REPLIED, now=NOW)
    act(session, case, Action.REJECT_REPLY, actors["supervisor"], reason="答复过于简单")
    [told] = session.query(Notification).filter_by(case_id=case.id, template="case_reply_withdrawn").all()
    assert told.channel == "sms" and "答复过于简单" not in str(told.params)


def _open_call(session, actors, cats, depts, **extra):
    case = case_in(
        session,
        actors,
        cats,
        depts,
        Status.REPLIED,
        now=NOW,
        reporter_name="林晓燕",
        reporter_phone="13912345678",
        reporter_company="晓燕商贸有限公司",
        **extra,
    )
    sweep.add_revisit(session, case, reason="unrated", now=NOW + timedelta(days=5))
    session.commit()
    return case


def test_the_revisit_caller_is_shown_only_the_number_to_dial_and_the_look_is_recorded(
    app, session, actors, cats, depts
):
    from models import IdentityAccess

    case = _open_call(session, actors, cats, depts)
    client = app.test_client()
    login(client, "clerk")
    form = client.get(f"/cases/act/{case.id}/record_revisit").get_data(as_text=True)
    assert 'id="revisit-number-form"' in form and "13912345678" not in form  # one click, a POST
    page = client.post(f"/cases/act/{case.id}/revisit_number", data={}).get_data(as_text=True)
    assert 'href="tel:13912345678"' in page
    assert "林晓燕" not in page and "晓燕商贸" not in page  # the number, not who it is
    assert f'action="/cases/act/{case.id}/record_revisit"' in page
    [look] = session.query(IdentityAccess).filter_by(case_id=case.id, purpose="revisit_call").all()
    assert look.actor_name


def test_a_confidential_reporter_is_called_back_by_the_cases_supervisor_not_the_clerk(
    app, session, actors, cats, depts
):
    case = _open_call(session, actors, cats, depts, confidential=True)
    with pytest.raises(Exception) as refused:
        protection.revisit_numbers(session, case, actor=actors["clerk"], now=NOW)
    assert refused.value.status == 403
    case.supervisor_id = actors["supervisor"].id
    session.flush()
    assert protection.revisit_numbers(session, case, actor=actors["supervisor"], now=NOW) == ["13912345678"]


def test_no_number_is_shown_without_an_open_revisit_call(app, session, actors, cats, depts):
    case = case_in(session, actors, cats, depts, Status.REPLIED, now=NOW, reporter_phone="13912345678")
    session.commit()
    client = app.test_client()
    login(client, "clerk")
    page = client.post(f"/cases/act/{case.id}/revisit_number", data={}, follow_redirects=True)
    assert "13912345678" not in page.get_data(as_text=True) and "alert-danger" in page.get_data(as_text=True)


def test_a_multi_department_problem_keeps_its_fifteen_days_when_a_co_handler_returns_its_part(
    session, actors, cats, depts
):
    case = case_in(session, actors, cats, depts, Status.HANDLING, now=NOW, co=["X103"])
    act(session, case, Action.RETURN_PART, handler_of(actors, "X103"), reason="不属于本单位职责")
    due = case.due_at
    svc.recompute_open_deadlines(session)  # after any calendar or policy edit
    assert case.lead_assignment.due_days == 15 and case.due_at == due


def test_a_letter_withdrawn_from_a_department_stands_again_when_it_leads_again(session, actors, cats, depts):
    case = report(session, actors, cats, depts, Status.HANDLING, co=["X103"], finding=None)
    x102, x103 = depts["X102"].id, depts["X103"].id
    act(session, case, Action.RAISE_DISPUTE, handler_of(actors, "X102"), reason="职责在X103")
    act(session, case, Action.DECIDE_DISPUTE, actors["dispatcher"], lead_department_id=x103, note="X103牵头")
    act(session, case, Action.RAISE_DISPUTE, handler_of(actors, "X103"), reason="职责在X102")
    act(
        session,
        case,
        Action.DECIDE_DISPUTE,
        actors["supervisor"],
        lead_department_id=x102,
        note="仍由X102牵头",
    )
    letters = {n.department_id: n for n in session.query(Notice).filter_by(kind="assignment")}
    assert letters[x102].state == NoticeState.ISSUED and letters[x102].reply_due_at == case.due_at
    assert letters[x103].state == NoticeState.CLOSED


def test_the_supervisors_are_told_when_a_revisit_call_re_opens_a_closed_case(session, actors, cats, depts):
    case = case_in(session, actors, cats, depts, Status.CLOSED, now=NOW)
    sweep.add_revisit(session, case, reason="sample", now=NOW + timedelta(days=5))
    unsatisfied = {"outcome": "reached", "rating": "unsatisfied", "method": "phone", "notes": "问题没有解决"}
    act(session, case, Action.RECORD_REVISIT, actors["clerk"], NOW + timedelta(days=5), **unsatisfied)
    assert case.status == Status.UNSATISFIED
    told = session.query(Notification).filter_by(case_id=case.id, template="reopened_by_revisit").all()
    assert told and {n.channel for n in told} >= {"inbox"}  # delivered to their inbox by the worker
