"""Need to know (issue 13, point 5): a named reporter is shown only to the people investigating
the case — the supervisor it is assigned to, discipline inspection for an A-grade report, the
identity custodian — and to whoever the custodian lets see it, for a limited time. Each request,
approval, refusal and look is recorded."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.errors import DomainError, IllegalMove, Invalid, NotAllowed
from app.services import protection
from app.workflow import Status
from models import AuditRecord, IdentityAccess, IdentityRequest, Staff
from tests.conftest import at, login, visible_text
from tests.factories import case_in

NOW = at("2026-11-02 10:00")
NAME, PHONE = "林晓燕", "13912345678"


@pytest.fixture
def client(app):
    return app.test_client()


def named_report(session, actors, cats, depts, *, grade="b", lead="X103", status=Status.HANDLING, **extra):
    return case_in(
        session,
        actors,
        cats,
        depts,
        status,
        now=NOW,
        lead=lead,
        case_type="report",
        category="ENF01",
        region="清源省",
        grade=grade,
        reporter_name=NAME,
        reporter_phone=PHONE,
        confidential=True,
        **extra,
    )


def user_id(session, username: str) -> int:
    return session.query(Staff.id).filter_by(username=username).scalar()


def looks(session, case) -> list[str]:
    return [
        a.purpose
        for a in session.query(IdentityAccess).filter_by(case_id=case.id).order_by(IdentityAccess.id)
    ]


def audit_kinds(session, since: int) -> list[str]:
    """The audit records about identities written since ``since`` (logins are audited too)."""
    rows = session.query(AuditRecord.kind).filter(AuditRecord.id > since).order_by(AuditRecord.id)
    return [kind for (kind,) in rows if kind.startswith(("identity", "supervisor_assigned"))]


def last_audit_id(session) -> int:
    return session.query(AuditRecord.id).order_by(AuditRecord.id.desc()).limit(1).scalar() or 0


def reveal_page(client, case) -> str:
    return visible_text(
        client.post(f"/cases/act/{case.id}/identity", data={}, follow_redirects=True).get_data(as_text=True)
    )


def test_a_supervisor_not_assigned_to_the_case_cannot_see_who_filed_it(session, client, actors, cats, depts):
    case = named_report(session, actors, cats, depts)
    protection.assign_supervisor(
        session, case.id, actor=actors["dispatcher"], now=NOW, supervisor_id=user_id(session, "supervisor")
    )
    login(client, "supervisor2")
    page = client.get(f"/cases/show/{case.id}").get_data(as_text=True)
    assert f'action="/cases/act/{case.id}/identity"' not in page  # no reveal button
    assert NAME not in reveal_page(client, case)
    assert looks(session, case) == []
    with pytest.raises(NotAllowed):
        protection.reveal_identity(session, case, actor=actors["supervisor2"], now=NOW)
    login(client, "supervisor")  # the assigned supervisor sees it, and the look is recorded
    assert f'action="/cases/act/{case.id}/identity"' in client.get(f"/cases/show/{case.id}").get_data(
        as_text=True
    )
    shown = reveal_page(client, case)
    assert NAME in shown and PHONE in shown
    assert looks(session, case) == [protection.ASSIGNED_SUPERVISOR]


def test_the_case_supervisor_is_named_by_the_dispatcher_never_by_themselves(
    session, client, actors, cats, depts
):
    case = named_report(session, actors, cats, depts)
    with pytest.raises(NotAllowed):  # a supervisor cannot give themselves a case to see its reporter
        protection.assign_supervisor(
            session,
            case.id,
            actor=actors["supervisor"],
            now=NOW,
            supervisor_id=user_id(session, "supervisor"),
        )
    with pytest.raises(Invalid):  # only a supervisor can supervise
        protection.assign_supervisor(
            session, case.id, actor=actors["dispatcher"], now=NOW, supervisor_id=user_id(session, "handler")
        )
    before = last_audit_id(session)
    login(client, "dispatcher")
    response = client.post(
        f"/cases/act/{case.id}/supervisor", data={"supervisor_id": user_id(session, "supervisor2")}
    )
    assert response.status_code == 302
    session.expire_all()
    assert case.supervisor_id == user_id(session, "supervisor2")
    assert case.events[-1].action == "assign_supervisor"
    assert audit_kinds(session, before) == ["supervisor_assigned"]
    assert protection.can_see_identity(case, actors["supervisor2"])
    assert not protection.can_see_identity(case, actors["supervisor"])


def test_discipline_inspection_sees_who_filed_an_a_grade_report_it_handles(session, actors, cats, depts):
    a_grade = named_report(session, actors, cats, depts, grade="a", lead="P02")
    b_grade = named_report(session, actors, cats, depts, grade="b", lead="P02")
    # An A-grade report goes to discipline inspection only: one not dispatched yet is no one's.
    a_elsewhere = named_report(session, actors, cats, depts, grade="a", status=Status.ACCEPTED)
    inspector = actors["handler6"]  # 清源省纪委监委驻营商局纪检组 (P02), a discipline inspection department
    assert depts["P02"].discipline_inspection
    assert protection.can_see_identity(a_grade, inspector)
    assert not protection.can_see_identity(b_grade, inspector)
    assert not protection.can_see_identity(a_elsewhere, inspector)
    assert not protection.can_see_identity(a_elsewhere, actors["handler2"])  # an ordinary department: no
    [reporter] = protection.reveal_identity(session, a_grade, actor=inspector, now=NOW)
    assert reporter.name == NAME and looks(session, a_grade) == [protection.DISCIPLINE_INSPECTION]


def test_the_custodian_sees_who_filed_and_anonymous_reports_stay_anonymous(session, actors, cats, depts):
    case = named_report(session, actors, cats, depts)
    anonymous = case_in(session, actors, cats, depts, Status.HANDLING, now=NOW, anonymous=True)
    assert protection.can_see_identity(case, actors["custodian"])
    assert not protection.can_see_identity(anonymous, actors["custodian"])
    for name in ("supervisor", "supervisor2", "leader", "clerk", "dispatcher", "handler2", "admin"):
        assert not protection.can_see_identity(case, actors[name]), name


def test_a_request_approved_by_the_custodian_lets_its_holder_see_for_a_limited_time(
    session, client, actors, cats, depts
):
    case = named_report(session, actors, cats, depts)
    before = last_audit_id(session)
    login(client, "supervisor2")
    page = client.get(f"/cases/show/{case.id}").get_data(as_text=True)
    assert 'id="identity-request-form"' in page
    assert client.post(f"/cases/act/{case.id}/identity/request", data={"reason": ""}).status_code == 302
    assert session.query(IdentityRequest).count() == 0  # a reason is required
    client.post(f"/cases/act/{case.id}/identity/request", data={"reason": "核实举报人是否为利害关系人"})
    [request] = session.query(IdentityRequest).all()
    assert request.state == "pending" and request.requested_by_name
    assert 'id="identity-request-pending"' in client.get(f"/cases/show/{case.id}").get_data(as_text=True)
    assert NAME not in reveal_page(client, case)  # asking is not seeing
    # The custodian's queue lists it; approving it shows nothing to the custodian by itself.
    login(client, "custodian")
    queue = client.get("/identity/pending/list/").get_data(as_text=True)
    assert case.number in queue and "核实举报人是否为利害关系人" in queue
    assert 'id="identity-request-decide"' in client.get(f"/identity/show/{request.id}").get_data(as_text=True)
    client.post(f"/identity/act/{request.id}/decide", data={"approve": "1"})
    session.expire_all()
    assert request.state == "approved" and request.decided_by_name
    assert request.expires_at == request.decided_at + timedelta(hours=24)  # the setting's default
    assert case.number not in client.get("/identity/pending/list/").get_data(as_text=True)
    # The holder sees it now; the look says which entitlement it used.
    login(client, "supervisor2")
    assert 'id="identity-grant"' in client.get(f"/cases/show/{case.id}").get_data(as_text=True)
    shown = reveal_page(client, case)
    assert NAME in shown and PHONE in shown
    assert looks(session, case) == [protection.APPROVED_REQUEST]
    assert audit_kinds(session, before) == ["identity_request", "identity_request_approved", "identity_view"]
    # ...until the grant expires.
    hours = 24
    assert protection.entitlement(
        case, actors["supervisor2"], now=request.decided_at + timedelta(hours=hours - 1)
    )
    assert not protection.entitlement(
        case, actors["supervisor2"], now=request.decided_at + timedelta(hours=hours)
    )
    with pytest.raises(NotAllowed):
        protection.reveal_identity(
            session,
            case,
            actor=actors["supervisor2"],
            now=request.decided_at + timedelta(hours=hours, minutes=1),
        )


def test_a_refused_request_shows_nothing_and_is_recorded(session, client, actors, cats, depts):
    case = named_report(session, actors, cats, depts)
    request = protection.request_identity(
        session, case.id, actor=actors["leader"], now=NOW, reason="了解情况"
    )
    with pytest.raises(Invalid):  # a refusal says why
        protection.decide_identity_request(
            session, request.id, actor=actors["custodian"], now=NOW, approve=False
        )
    before = last_audit_id(session)
    login(client, "custodian")
    client.post(f"/identity/act/{request.id}/decide", data={"approve": "0", "note": "无办案需要"})
    session.expire_all()
    assert request.state == "refused" and request.decision_note == "无办案需要" and request.expires_at is None
    assert audit_kinds(session, before) == ["identity_request_refused"]
    assert not protection.can_see_identity(case, actors["leader"])
    with pytest.raises(IllegalMove):  # decided once
        protection.decide_identity_request(
            session, request.id, actor=actors["custodian"], now=NOW, approve=True
        )


def test_only_the_custodian_decides_and_never_their_own_request(app, session, actors, cats, depts):
    case = named_report(session, actors, cats, depts)
    request = protection.request_identity(
        session, case.id, actor=actors["supervisor"], now=NOW, reason="核查"
    )
    for name in ("supervisor", "supervisor2", "leader", "admin"):
        with pytest.raises(DomainError):
            protection.decide_identity_request(session, request.id, actor=actors[name], now=NOW, approve=True)
    # Someone who is both custodian and the requester cannot approve themselves.
    both = actors["custodian"].__class__(
        actors["supervisor"].id, "督办兼保管", actors["supervisor"].roles | actors["custodian"].roles, None
    )
    with pytest.raises(NotAllowed):
        protection.decide_identity_request(session, request.id, actor=both, now=NOW, approve=True)
    with pytest.raises(IllegalMove):  # one waiting request per person and case
        protection.request_identity(session, case.id, actor=actors["supervisor"], now=NOW, reason="再次")


def test_a_department_accused_by_a_report_cannot_ask_to_see_it(session, actors, cats, depts):
    """The visibility rule comes first: the accused department cannot even reach the case."""
    case = named_report(session, actors, cats, depts, lead="X103", concerned_department_id=depts["C10"].id)
    with pytest.raises(DomainError):
        protection.request_identity(session, case.id, actor=actors["handler"], now=NOW, reason="想知道是谁")
    assert session.query(IdentityRequest).count() == 0
