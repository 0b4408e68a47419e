"""Co-handling that works (004): parts returned and answered, disputes over responsibility
decided by the office, and replies refused as improper requests to close (the third cause of a
整改通知书)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.enums import AssignmentState, DisputeState
from app.errors import IllegalMove, Invalid, NotAllowed, NotFound
from app.services import cases as svc
from app.services import reporting
from app.supervision import NoticeCause
from app.workflow import Action, Status
from models import Case, Dispute, Notice, Notification
from tests.conftest import at, login
from tests.factories import case_in, handler_of

NOW = at("2026-09-30 10:00")
LATER = NOW + timedelta(hours=3)


def act(session, case, action, actor, when=None, **params):
    return svc.perform(session, case.id, action, actor=actor, now=when or LATER, **params)


def told(session, template: str) -> set[int]:
    """The users told (in their inbox) with ``template``."""
    return {n.user_id for n in session.query(Notification).filter_by(template=template, channel="inbox")}


def part_of(case, code):
    return next(a for a in case.assignments if a.department.code == code and a.role == "co")


def co_handled(session, actors, cats, depts, status=Status.HANDLING, *, sign_co=True, **extra):
    """A case led by X102 with X103 co-handling (X103 signed when ``sign_co``)."""
    case = case_in(session, actors, cats, depts, Status.HANDLING, now=NOW, co=["X103"], **extra)
    if sign_co:
        act(session, case, Action.SIGN, handler_of(actors, "X103"), when=NOW + timedelta(hours=1))
    if status == Status.REPLIED:
        act(
            session,
            case,
            Action.REPLY,
            handler_of(actors, "X102"),
            when=NOW + timedelta(hours=2),
            reply="已办结",
        )
    return case


def test_a_co_handler_returns_its_own_part_and_the_lead_keeps_the_case(session, actors, cats, depts):
    case = co_handled(session, actors, cats, depts)
    due, lead = case.due_at, case.lead_assignment
    act(session, case, Action.RETURN_PART, handler_of(actors, "X103"), reason="本单位不涉及该事项的审批环节")
    part = part_of(case, "X103")
    assert part.state == AssignmentState.RETURNED and not part.active and part.done_at == LATER
    assert case.status == Status.HANDLING and case.due_at == due
    assert case.lead_assignment is lead and lead.state == AssignmentState.SIGNED and lead.due_at == due
    event = case.events[-1]
    assert (event.action, event.note, event.public_text) == (
        "return_part",
        "本单位不涉及该事项的审批环节",
        None,
    )
    users = told(session, "part_returned")
    assert {handler_of(actors, "X102").id, actors["dispatcher"].id, actors["supervisor"].id} <= users
    assert handler_of(actors, "X103").id not in users
    with pytest.raises(NotFound):  # its part is over: the case is no longer its own to see
        act(session, case, Action.RETURN_PART, handler_of(actors, "X103"), reason="再次退回")


def test_the_lead_cannot_return_a_co_handling_part_and_a_reason_is_needed(session, actors, cats, depts):
    case = co_handled(session, actors, cats, depts)
    with pytest.raises(IllegalMove):
        act(session, case, Action.RETURN_PART, handler_of(actors, "X102"), reason="牵头单位不能退协办")
    with pytest.raises(Invalid):
        act(session, case, Action.RETURN_PART, handler_of(actors, "X103"), reason="   ")
    assert part_of(case, "X103").state == AssignmentState.SIGNED
    assert case.events[-1].action == "sign"


def test_a_co_handler_answers_its_part_to_the_lead(session, actors, cats, depts):
    case = co_handled(session, actors, cats, depts)
    act(
        session,
        case,
        Action.REPLY_PART,
        handler_of(actors, "X103"),
        part_answer="内部：协办部分已核查，无异常",
    )
    part = part_of(case, "X103")
    assert part.state == AssignmentState.DONE and part.done_at == LATER and part.active
    assert case.status == Status.HANDLING
    event = case.events[-1]
    assert event.action == "reply_part" and event.note == "内部：协办部分已核查，无异常"
    assert event.public_text is None and case.reply is None
    assert event.data["assignment"] == part.id
    assert handler_of(actors, "X102").id in told(session, "part_answered")
    assert all("内部" not in (e.public_text or "") for e in reporting.public_timeline(case))
    with pytest.raises(IllegalMove):  # answered once: the part is no longer running
        act(session, case, Action.REPLY_PART, handler_of(actors, "X103"), part_answer="再答一次")
    with pytest.raises(Invalid):
        act(session, case, Action.REPLY_PART, handler_of(actors, "X103"), part_answer="")
    # The lead's reply leaves the co-handler's answered part as it was.
    act(
        session,
        case,
        Action.REPLY,
        handler_of(actors, "X102"),
        when=LATER + timedelta(hours=1),
        reply="已办结",
    )
    assert part.done_at == LATER


def test_a_co_handler_that_has_not_signed_cannot_answer(session, actors, cats, depts):
    case = co_handled(session, actors, cats, depts, sign_co=False)
    assert case.status == Status.HANDLING  # the lead has signed
    with pytest.raises(IllegalMove) as refused:
        act(session, case, Action.REPLY_PART, handler_of(actors, "X103"), part_answer="协办意见")
    assert "Sign for the case" in refused.value.message or "签收" in refused.value.message
    assert part_of(case, "X103").state == AssignmentState.DISPATCHED
    assert case.events[-1].action != "reply_part"
    with pytest.raises(IllegalMove):  # the lead has no co-handling part to answer
        act(session, case, Action.REPLY_PART, handler_of(actors, "X102"), part_answer="牵头意见")


def test_a_dispute_goes_to_the_office_which_names_the_lead(session, actors, cats, depts):
    case = co_handled(session, actors, cats, depts)
    due = case.due_at
    act(session, case, Action.RAISE_DISPUTE, handler_of(actors, "X103"), reason="该事项应由牵头单位负责")
    [dispute] = case.disputes
    assert dispute.state == DisputeState.OPEN and dispute.department.code == "X103"
    assert (
        dispute.reason == "该事项应由牵头单位负责" and dispute.raised_by_id == handler_of(actors, "X103").id
    )
    assert case.events[-1].action == "raise_dispute" and case.events[-1].data == {"dispute": dispute.id}
    assert {actors["dispatcher"].id, actors["supervisor"].id} <= told(session, "dispute_raised")
    waiting = svc.awaiting_supervisor_clause()
    assert session.query(Case.id).filter(Case.id == case.id, waiting).scalar() == case.id
    from app.services.cohandling import dispatch_queue_clause

    assert session.query(Case.id).filter(Case.id == case.id, dispatch_queue_clause()).scalar() == case.id
    assert Action.DECIDE_DISPUTE in svc.available_actions(session, case, actors["dispatcher"])

    act(
        session,
        case,
        Action.DECIDE_DISPUTE,
        actors["dispatcher"],
        when=LATER + timedelta(hours=1),
        lead_department_id=depts["X102"].id,
        note="经研究，由原牵头单位负责",
    )
    assert dispute.state == DisputeState.DECIDED and dispute.lead_department.code == "X102"
    assert (
        dispute.decided_by_id == actors["dispatcher"].id
        and dispute.decision_note == "经研究，由原牵头单位负责"
    )
    assert dispute.decided_at == LATER + timedelta(hours=1)
    event = case.events[-1]
    assert (event.action, event.from_status, event.to_status) == ("decide_dispute", "handling", "handling")
    assert case.status == Status.HANDLING and case.lead_department.code == "X102" and case.due_at == due
    assert {a.department.code for a in case.active_assignments} == {"X102", "X103"}
    assert session.query(Case.id).filter(Case.id == case.id, svc.awaiting_supervisor_clause()).first() is None
    assert session.query(Case.id).filter(Case.id == case.id, dispatch_queue_clause()).first() is None
    assert {handler_of(actors, "X102").id, handler_of(actors, "X103").id} <= told(session, "dispute_decided")


def test_naming_another_lead_re_dispatches_with_the_others_as_co_handlers(session, actors, cats, depts):
    case = co_handled(session, actors, cats, depts)
    act(session, case, Action.RAISE_DISPUTE, handler_of(actors, "X102"), reason="本单位并非主管部门")
    act(
        session,
        case,
        Action.DECIDE_DISPUTE,
        actors["supervisor"],
        lead_department_id=depts["C10"].id,
        note="由市级部门牵头",
    )
    assert case.status == Status.DISPATCHED and case.lead_department.code == "C10"
    roles = {a.department.code: a.role for a in case.active_assignments}
    assert roles == {"C10": "lead", "X102": "co", "X103": "co"}
    assert all(a.state == AssignmentState.DISPATCHED and a.round == 2 for a in case.active_assignments)
    old = [a for a in case.assignments if a.round == 1]
    assert all(not a.active and a.state == AssignmentState.WITHDRAWN for a in old)
    assert case.lead_assignment.due_days == 15  # a multi-department case
    assert case.due_at == case.lead_assignment.due_at
    assert handler_of(actors, "C10").id in told(session, "new_case")
    [dispute] = case.disputes
    assert dispute.lead_department.code == "C10" and dispute.state == DisputeState.DECIDED
    # The new lead signs and handles it.
    act(session, case, Action.SIGN, handler_of(actors, "C10"), when=LATER + timedelta(hours=1))
    assert case.status == Status.HANDLING


def test_a_second_dispute_waits_for_the_first(session, actors, cats, depts):
    case = co_handled(session, actors, cats, depts)
    act(session, case, Action.RAISE_DISPUTE, handler_of(actors, "X103"), reason="职责交叉")
    with pytest.raises(IllegalMove) as refused:
        act(session, case, Action.RAISE_DISPUTE, handler_of(actors, "X102"), reason="同样有异议")
    assert len(case.disputes) == 1
    assert refused.value.message
    act(
        session,
        case,
        Action.DECIDE_DISPUTE,
        actors["supervisor"],
        lead_department_id=depts["X102"].id,
        note="维持",
    )
    act(session, case, Action.RAISE_DISPUTE, handler_of(actors, "X102"), reason="仍有异议")
    assert [d.state for d in case.disputes] == [DisputeState.DECIDED, DisputeState.OPEN]


def test_a_dispute_and_its_decision_need_reasons_and_a_real_department(session, actors, cats, depts):
    case = co_handled(session, actors, cats, depts)
    with pytest.raises(Invalid):
        act(session, case, Action.RAISE_DISPUTE, handler_of(actors, "X103"), reason=" ")
    assert case.disputes == [] and session.query(Dispute).count() == 0
    with pytest.raises(IllegalMove):  # nothing to decide yet
        act(
            session,
            case,
            Action.DECIDE_DISPUTE,
            actors["supervisor"],
            lead_department_id=depts["X102"].id,
            note="x",
        )
    act(session, case, Action.RAISE_DISPUTE, handler_of(actors, "X103"), reason="职责交叉")
    for bad in ({"lead_department_id": 999999, "note": "x"}, {"lead_department_id": "", "note": "x"}):
        with pytest.raises(Invalid):
            act(session, case, Action.DECIDE_DISPUTE, actors["supervisor"], **bad)
    with pytest.raises(Invalid):
        act(
            session,
            case,
            Action.DECIDE_DISPUTE,
            actors["supervisor"],
            lead_department_id=depts["C10"].id,
            note="",
        )
    with pytest.raises(NotAllowed):  # a handler does not decide
        act(
            session,
            case,
            Action.DECIDE_DISPUTE,
            handler_of(actors, "X102"),
            lead_department_id=depts["X102"].id,
            note="x",
        )
    assert case.open_dispute is not None and case.lead_department.code == "X102"
    assert case.events[-1].action == "raise_dispute"


def test_the_office_never_names_the_department_a_case_is_about(session, actors, cats, depts):
    case = co_handled(session, actors, cats, depts, concerned_department_id=depts["X111"].id)
    act(session, case, Action.RAISE_DISPUTE, handler_of(actors, "X103"), reason="应由被反映单位负责")
    with pytest.raises(Invalid):
        act(
            session,
            case,
            Action.DECIDE_DISPUTE,
            actors["supervisor"],
            lead_department_id=depts["X111"].id,
            note="x",
        )
    assert case.open_dispute is not None and case.lead_department.code == "X102"


def test_a_reply_refused_twice_brings_one_rectification_notice(session, actors, cats, depts):
    case = co_handled(session, actors, cats, depts, status=Status.REPLIED)
    lead = case.lead_assignment
    assert case.status == Status.REPLIED and lead.state == AssignmentState.DONE
    step = iter(LATER + timedelta(hours=i) for i in range(1, 20))
    act(
        session, case, Action.REJECT_REPLY, actors["supervisor"], when=next(step), reason="答复未说明核查过程"
    )
    assert case.status == Status.HANDLING and case.replied_at is None and case.reply is None
    assert lead.state == AssignmentState.SIGNED and lead.done_at is None
    assert part_of(case, "X103").state == AssignmentState.SIGNED
    assert handler_of(actors, "X102").id in told(session, "reply_refused")
    assert session.query(Notice).filter_by(cause=NoticeCause.IMPROPER_CLOSE_REQUESTS).count() == 0
    with pytest.raises(Invalid):
        act(session, case, Action.REJECT_REPLY, actors["supervisor"], when=next(step), reason="")

    for _ in range(2):  # refused a second and a third time: one notice
        act(session, case, Action.REPLY, handler_of(actors, "X102"), when=next(step), reply="已办结，请查收")
        act(
            session,
            case,
            Action.REJECT_REPLY,
            actors["supervisor"],
            when=next(step),
            reason="仍未说明整改措施",
        )
    [notice] = session.query(Notice).filter_by(cause=NoticeCause.IMPROPER_CLOSE_REQUESTS).all()
    assert notice.kind == "rectification" and notice.department.code == "X102" and case in notice.cases
    assert case.number in notice.details
    assert sum(1 for e in case.events if e.action == "reject_reply") == 3


def test_the_rectification_notice_for_improper_replies_is_a_pdf(app, session, actors, cats, depts):
    import subprocess

    from reports.notice import render_notice_pdf

    case = co_handled(session, actors, cats, depts, status=Status.REPLIED)
    act(session, case, Action.REJECT_REPLY, actors["supervisor"], reason="答复不当")
    act(
        session, case, Action.REPLY, handler_of(actors, "X102"), when=LATER + timedelta(hours=1), reply="再答"
    )
    act(
        session,
        case,
        Action.REJECT_REPLY,
        actors["supervisor"],
        when=LATER + timedelta(hours=2),
        reason="仍不当",
    )
    [notice] = session.query(Notice).filter_by(cause=NoticeCause.IMPROPER_CLOSE_REQUESTS).all()
    pdf = render_notice_pdf(notice.document)
    assert pdf.startswith(b"%PDF")
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True).stdout.decode()
    assert "整改通知书" in text and notice.number in text and case.number in text


def test_a_refused_reply_is_not_shown_to_the_reporter_as_the_answer(app, session, actors, cats, depts):
    case = case_in(session, actors, cats, depts, Status.HANDLING, now=NOW)
    code = case.query_code
    act(session, case, Action.REPLY, handler_of(actors, "X102"), reply="敷衍的答复：已处理")
    act(
        session,
        case,
        Action.REJECT_REPLY,
        actors["supervisor"],
        when=LATER + timedelta(hours=1),
        reason="内部：敷衍",
    )
    shown = [e.public_text for e in reporting.public_timeline(case)]
    assert "敷衍的答复：已处理" not in shown
    assert any("not accepted" in (t or "") for t in shown)

    client = app.test_client()
    assert client.post("/track/", data={"number": case.number, "code": code}).status_code == 302
    page = client.get("/track/case").get_data(as_text=True)
    assert "敷衍的答复：已处理" not in page and "内部：敷衍" not in page
    assert 'id="track-reply"' not in page and 'id="track-rate"' not in page

    act(
        session,
        case,
        Action.REPLY,
        handler_of(actors, "X102"),
        when=LATER + timedelta(hours=2),
        reply="真正的答复",
    )
    page = client.get("/track/case").get_data(as_text=True)
    assert "真正的答复" in page and "敷衍的答复：已处理" not in page

    # The staff keep the whole history: the refused reply and the reason.
    login(client, "supervisor")
    staff = client.get(f"/cases/show/{case.id}").get_data(as_text=True)
    assert 'id="case-refused-replies"' in staff and "敷衍的答复：已处理" in staff and "内部：敷衍" in staff


def test_a_dispute_through_the_web_forms(app, session, actors, cats, depts):
    case = co_handled(session, actors, cats, depts)
    client = app.test_client()
    login(client, "handler2")  # X103, the co-handler
    assert client.get(f"/cases/act/{case.id}/raise_dispute").status_code == 200
    response = client.post(f"/cases/act/{case.id}/raise_dispute", data={"reason": ""})
    assert response.status_code == 200 and session.query(Dispute).count() == 0  # refused, shown again
    response = client.post(f"/cases/act/{case.id}/raise_dispute", data={"reason": "<b>职责交叉</b>"})
    assert response.status_code == 302
    [dispute] = session.query(Dispute).all()

    login(client, "dispatcher")
    queue = client.get("/cases/dispatch/list/").get_data(as_text=True)
    assert case.number in queue
    page = client.get(f"/cases/show/{case.id}").get_data(as_text=True)
    assert (
        'id="case-disputes"' in page and "&lt;b&gt;职责交叉&lt;/b&gt;" in page and "<b>职责交叉" not in page
    )
    assert f"/cases/act/{case.id}/decide_dispute" in page
    bad = client.post(
        f"/cases/act/{case.id}/decide_dispute", data={"lead_department_id": "999999", "note": "x"}
    )
    assert bad.status_code == 200
    session.expire_all()
    assert session.get(Dispute, dispute.id).state == DisputeState.OPEN
    response = client.post(
        f"/cases/act/{case.id}/decide_dispute",
        data={"lead_department_id": str(depts["X103"].id), "note": "由协办单位牵头"},
    )
    assert response.status_code == 302
    session.expire_all()
    dispute = session.get(Dispute, dispute.id)
    assert dispute.state == DisputeState.DECIDED and dispute.lead_department.code == "X103"
    case = session.get(Case, case.id)
    assert case.status == Status.DISPATCHED and case.lead_department.code == "X103"
    page = client.get(f"/cases/show/{case.id}").get_data(as_text=True)
    assert "由协办单位牵头" in page and 'id="case-cohandling"' in page
    disputes = page[page.index('id="case-disputes"') :].split("</table>")[0]  # who raised, who decided
    assert actors["dispatcher"].name in disputes and handler_of(actors, "X103").name in disputes
    assert case.number not in client.get("/cases/dispatch/list/").get_data(as_text=True)
