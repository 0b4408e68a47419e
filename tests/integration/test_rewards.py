"""Rewards for verified reports: tiers, eligibility, approvals, anonymous claims, payment,
the ledger and its supervision."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app.errors import DomainError, IllegalMove, Invalid, NotAllowed
from app.rewards import RewardState
from app.services import rewards as rw
from app.services import sweep
from app.workflow import Status
from models import IneligiblePerson, Notice, Notification, Reward, RewardClaim, RewardEntry, RewardTier, Staff
from tests.conftest import api_token as conftest_api_token
from tests.conftest import at, login
from tests.factories import case_in

NOW = at("2026-11-02 10:00")


@pytest.fixture
def tiers(session):
    return {t.code: t for t in session.query(RewardTier)}


def verified_report(session, actors, cats, depts, status=Status.CLOSED, finding="true", **extra):
    """A report found true whose rectification was accepted on re-check (the factory's path)."""
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
        finding=finding,
        **extra,
    )


def propose(session, actors, case, tiers, amount=300, tier="tier2", **extra):
    return rw.propose_reward(
        session,
        case.id,
        actor=actors["supervisor"],
        now=NOW,
        reporter_id=case.reporters[0].id,
        tier_id=tiers[tier].id,
        amount=amount,
        reasons="线索详实，经查属实并已整改",
        **extra,
    )


def test_the_amount_must_fit_the_tier(session, actors, cats, depts, tiers):
    case = verified_report(session, actors, cats, depts)
    for tier, amount in [("tier1", 499), ("tier1", 2001), ("tier3", 250), ("tier2", "abc")]:
        with pytest.raises(Invalid):
            propose(session, actors, case, tiers, amount=amount, tier=tier)
    assert propose(session, actors, case, tiers, amount=2000, tier="tier1").amount_yuan == 2000


def test_only_verified_reports_are_rewarded(session, actors, cats, depts, tiers):
    complaint = case_in(session, actors, cats, depts, Status.CLOSED, now=NOW, finding="true")
    handling = verified_report(session, actors, cats, depts, status=Status.HANDLING)  # not replied yet
    for case, why in (
        (complaint, "Only reports are rewarded."),
        (handling, "A report is rewarded once it has been verified and rectified."),
    ):
        with pytest.raises(Invalid) as refused:
            propose(session, actors, case, tiers)
        assert refused.value.msgid == why


def test_a_report_found_untrue_cannot_earn_a_reward(session, actors, cats, depts, tiers):
    for finding in ("untrue", "unverifiable"):
        case = verified_report(session, actors, cats, depts, finding=finding)
        assert case.status == Status.CLOSED
        assert not rw.may_propose(case, actors["supervisor"])
        with pytest.raises(Invalid) as refused:
            propose(session, actors, case, tiers)
        assert refused.value.msgid == "A report found untrue or unverifiable earns no reward."
    assert not session.query(Reward).count()


def test_a_founded_report_earns_a_reward_only_once_rectified(session, actors, cats, depts, tiers):
    from app.services import cases as svc
    from tests.factories import handler_of

    case = verified_report(session, actors, cats, depts, status=Status.HANDLING, finding=None)
    handler, supervisor = handler_of(actors, "X102"), actors["supervisor"]
    steps = iter(NOW + timedelta(minutes=i) for i in range(1, 50))

    def do(action, actor, **params):
        svc.perform(session, case.id, action, actor=actor, now=next(steps), **params)

    do("record_finding", handler, result="partly_true", facts="部分收费无依据。", summary="经核查部分属实。")
    do("reply", handler, reply="已核实，正在整改。")
    do("evaluate", supervisor, rating="satisfied", source="revisit_call", method="phone")
    assert case.status == Status.EVALUATED and case.open_rectification is not None
    refusal = "A report is rewarded once its rectification has been accepted on re-check."
    for step in (
        lambda: do("plan_rectification", handler, measures="退还违规收费", responsible="李科长", days=5),
        lambda: do("report_rectification", handler, completion="已退还全部费用"),
        lambda: do("reject_rectification", supervisor, note="凭证不全"),  # sent back: open again
        lambda: do("report_rectification", handler, completion="已退还全部费用，附凭证"),
    ):
        step()
        assert not rw.may_propose(case, supervisor)
        with pytest.raises(Invalid) as refused:
            propose(session, actors, case, tiers)
        assert refused.value.msgid == refusal
    do("accept_rectification", supervisor)
    assert rw.may_propose(case, supervisor)
    assert propose(session, actors, case, tiers).status == RewardState.PROPOSED


def test_one_reward_per_case_unless_split_among_its_reporters(session, actors, cats, depts, tiers):
    from app.services import cases as svc
    from tests.factories import file_case

    case = verified_report(session, actors, cats, depts, status=Status.EVALUATED)
    single = verified_report(session, actors, cats, depts)
    with pytest.raises(Invalid):  # one reporter: nothing to split
        propose(session, actors, single, tiers, split=True)
    duplicate = file_case(
        session, actors, cats, now=NOW, case_type="report", grade="c", category="FEE01", reporter_name="李四"
    )
    svc.perform(
        session,
        duplicate.id,
        "merge",
        actor=actors["clerk"],
        now=NOW + timedelta(hours=1),
        into_case=case.number,
    )
    first, second = case.reporters

    def offer(reporter, amount, tier="tier3", **extra):  # tier 3: 100–200 yuan for the whole reward
        return rw.propose_reward(
            session,
            case.id,
            actor=actors["supervisor"],
            now=NOW,
            reporter_id=reporter.id,
            tier_id=tiers[tier].id,
            amount=amount,
            reasons="两人分别提供关键线索",
            **extra,
        )

    whole = offer(first, 150)
    assert not whole.split
    with pytest.raises(IllegalMove):  # one reward per case
        offer(second, 50)
    with pytest.raises(IllegalMove):  # the first was not proposed as split
        offer(second, 50, split=True)
    rw.refuse_reward(session, whole.id, actor=actors["leader"], now=NOW, note="改为分配给两名举报人")

    with pytest.raises(Invalid):  # a share alone may be below the minimum, never above the maximum
        offer(second, 201, split=True)
    low = offer(second, 60, split=True)
    with pytest.raises(Invalid):  # below the tier's minimum together: not approved yet
        rw.approve_reward(session, low.id, actor=actors["leader"], now=NOW)
    with pytest.raises(IllegalMove):  # one reward per reporter (the refused one stays on record)
        offer(first, 141, split=True)
    third = file_case(
        session, actors, cats, now=NOW, case_type="report", grade="c", category="FEE01", reporter_name="王五"
    )
    svc.perform(
        session, third.id, "merge", actor=actors["clerk"], now=NOW + timedelta(hours=2), into_case=case.number
    )
    with pytest.raises(Invalid):  # all shares in one tier
        offer(case.reporters[2], 60, split=True, tier="tier2")
    with pytest.raises(Invalid) as refused:  # together at most 200 yuan
        offer(case.reporters[2], 141, split=True)
    assert refused.value.params == {"low": 100, "high": 200, "given": 60}
    other = offer(case.reporters[2], 140, split=True)
    assert (low.split, other.split) == (True, True)
    assert rw.split_total(session, case.id) == 200
    for reward in (low, other):
        rw.approve_reward(session, reward.id, actor=actors["leader"], now=NOW)
        assert reward.status == RewardState.APPROVED


def test_staff_and_interested_parties_are_not_eligible(app, session, actors, cats, depts, tiers):
    from app.receipts import keyed_digest

    key = app.config["QUERY_CODE_KEY"]
    session.add(
        IneligiblePerson(
            label="平台工作人员", phone_digest=keyed_digest(key, "13700000001"), reason="平台工作人员"
        )
    )
    session.add(
        IneligiblePerson(
            label="审批局干部",
            phone_digest=keyed_digest(key, "13700000002"),
            department_id=depts["X102"].id,
            reason="被反映单位工作人员",
        )
    )
    staff = verified_report(session, actors, cats, depts, reporter_phone="137 0000 0001")
    with pytest.raises(Invalid) as refused:
        propose(session, actors, staff, tiers)
    assert "not eligible" in refused.value.msgid and refused.value.params["reason"] == "平台工作人员"
    other_dept = verified_report(session, actors, cats, depts, reporter_phone="13700000002", lead="X103")
    assert propose(session, actors, other_dept, tiers).status == RewardState.PROPOSED
    own_dept = verified_report(session, actors, cats, depts, reporter_phone="13700000002", lead="X102")
    with pytest.raises(Invalid):
        propose(session, actors, own_dept, tiers)
    ordinary = verified_report(session, actors, cats, depts)
    with pytest.raises(Invalid):
        propose(session, actors, ordinary, tiers, interested_party=True)


def test_one_reward_per_reporter_on_a_case(session, actors, cats, depts, tiers):
    case = verified_report(session, actors, cats, depts)
    propose(session, actors, case, tiers)
    with pytest.raises(IllegalMove):
        propose(session, actors, case, tiers, amount=400)


def test_one_approval_starts_fifteen_working_days_to_pay(session, actors, cats, depts, tiers):
    case = verified_report(session, actors, cats, depts)
    reward = propose(session, actors, case, tiers, amount=500, tier="tier1")
    with pytest.raises(IllegalMove):  # not by the proposer
        rw.approve_reward(session, reward.id, actor=actors["supervisor"], now=NOW)
    with pytest.raises(NotAllowed):
        rw.approve_reward(session, reward.id, actor=actors["finance"], now=NOW)
    rw.approve_reward(session, reward.id, actor=actors["leader"], now=NOW)
    assert reward.status == RewardState.APPROVED
    # Mon Nov 2 + 15 working days = Mon Nov 23.
    assert reward.payment_due_at == at("2026-11-23 23:59") + timedelta(seconds=59)


def test_amounts_above_the_limit_need_two_different_approvers(session, actors, cats, depts, tiers):
    case = verified_report(session, actors, cats, depts)
    reward = propose(session, actors, case, tiers, amount=1500, tier="tier1")
    rw.approve_reward(session, reward.id, actor=actors["leader"], now=NOW)
    assert reward.status == RewardState.PARTLY_APPROVED
    with pytest.raises(IllegalMove):
        rw.approve_reward(session, reward.id, actor=actors["leader"], now=NOW)
    rw.approve_reward(session, reward.id, actor=actors["supervisor2"], now=NOW)
    assert reward.status == RewardState.APPROVED


def test_a_refusal_needs_a_reason_and_ends_the_reward(session, actors, cats, depts, tiers):
    reward = propose(session, actors, verified_report(session, actors, cats, depts), tiers)
    with pytest.raises(Invalid):
        rw.refuse_reward(session, reward.id, actor=actors["leader"], now=NOW, note=" ")
    rw.refuse_reward(session, reward.id, actor=actors["leader"], now=NOW, note="线索不实")
    with pytest.raises(IllegalMove):
        rw.approve_reward(session, reward.id, actor=actors["supervisor2"], now=NOW)


def test_an_anonymous_reporter_claims_with_the_receipt_and_finance_alone_sees_the_details(
    app, session, actors, cats, depts, tiers
):
    client = app.test_client()
    login(client, "clerk")
    response = client.post(
        "/cases/new/",
        data={
            "channel": "letter",
            "case_type": "report",
            "category_id": str(cats["FEE01"].id),
            "urgency": "normal",
            "grade": "c",
            "title": "违规收费举报",
            "content": "收取无依据配套费",
            "anonymous": "y",
        },
    )
    page = response.get_data(as_text=True)
    number = re.search(r'id="receipt-number"[^>]*>([A-Z0-9]+)<', page).group(1)
    code = re.search(r'id="receipt-code"[^>]*>([A-Z0-9-]+)<', page).group(1)
    from models import Case
    from tests.factories import handler_of

    case = session.query(Case).filter_by(number=number).one()
    from app.services import cases as svc

    steps = iter(NOW + timedelta(minutes=i) for i in range(1, 50))
    for action, actor, params in [
        ("accept", actors["clerk"], {}),
        ("dispatch", actors["dispatcher"], {"lead_department_id": depts["X102"].id}),
        ("sign", handler_of(actors, "X102"), {}),
        (
            "record_finding",
            handler_of(actors, "X102"),
            {"result": "true", "facts": "收费无依据。", "summary": "经核查属实。"},
        ),
        (
            "plan_rectification",
            handler_of(actors, "X102"),
            {"measures": "退还费用", "responsible": "王科长", "days": 5},
        ),
        ("report_rectification", handler_of(actors, "X102"), {"completion": "已退还"}),
        ("accept_rectification", actors["supervisor"], {}),
        ("reply", handler_of(actors, "X102"), {"reply": "已查实并整改"}),
        (
            "evaluate",
            actors["supervisor"],
            {"rating": "satisfied", "source": "revisit_call", "method": "phone"},
        ),
        ("close", actors["supervisor"], {}),
    ]:
        svc.perform(session, case.id, action, actor=actor, now=next(steps), **params)
    reward = propose(session, actors, case, tiers)
    rw.approve_reward(session, reward.id, actor=actors["leader"], now=NOW)
    session.commit()

    client.post("/logout/")
    client.post("/track/", data={"number": number, "code": code})
    assert 'id="track-reward"' in client.get("/track/case").get_data(as_text=True)
    client.post(
        "/track/reward/claim",
        data={
            "method": "bank",
            "account_name": "金丝雀己",
            "bank": "示范银行",
            "account_number": "6222000011112222",
        },
    )
    session.expire_all()
    assert session.get(Reward, reward.id).status == RewardState.CLAIMED
    raw = session.execute(
        __import__("sqlalchemy").text("SELECT account_name, account_number FROM reward_claim")
    ).one()
    assert "6222000011112222" not in str(raw) and "金丝雀己" not in str(raw)

    with pytest.raises(NotAllowed):
        rw.payment_details(session, reward.id, actor=actors["supervisor"])
    login(client, "supervisor")
    supervisor_page = client.get(f"/rewards/show/{reward.id}").get_data(as_text=True)
    listing = client.get("/rewards/list/").get_data(as_text=True)
    assert "6222000011112222" not in supervisor_page + listing
    login(client, "finance")
    finance_page = client.get(f"/rewards/show/{reward.id}").get_data(as_text=True)
    assert "6222000011112222" in finance_page and "金丝雀己" in finance_page
    response = client.post(
        f"/rewards/act/{reward.id}/pay", data={"method": "bank", "reference": "ZF20261103001"}
    )
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Reward, reward.id).status == RewardState.PAID

    client.post("/logout/")
    client.post("/track/", data={"number": number, "code": code})
    client.post("/track/reward/confirm", data={})
    session.expire_all()
    assert session.get(Reward, reward.id).status == RewardState.CONFIRMED


def test_the_ledger_is_never_edited_a_reversal_is_a_new_row(session, actors, cats, depts, tiers):
    from app.services.reporting import REPORTER

    case = verified_report(session, actors, cats, depts)
    reward = propose(session, actors, case, tiers, amount=300)
    rw.approve_reward(session, reward.id, actor=actors["leader"], now=NOW)
    rw.claim_reward(session, reward, case.reporters[0], now=NOW, method="mobile", phone="13800001111")
    rw.pay_reward(session, reward.id, actor=actors["finance"], now=NOW, method="mobile", reference="CZ001")
    with pytest.raises(Invalid):
        rw.reverse_payment(session, reward.id, actor=actors["finance"], now=NOW, note="")
    rw.reverse_payment(session, reward.id, actor=actors["finance"], now=NOW, note="充值失败")
    assert reward.status == RewardState.CLAIMED
    rw.pay_reward(
        session,
        reward.id,
        actor=actors["finance"],
        now=NOW + timedelta(days=1),
        method="mobile",
        reference="CZ002",
    )
    kinds = [e.kind for e in reward.entries]
    assert kinds == ["proposed", "approved", "claimed", "paid", "reversed", "paid"]
    [[_, total, payments]] = rw.paid_totals(session, NOW - timedelta(days=1), NOW + timedelta(days=3), "tier")
    assert (total, payments) == (300, 2)
    session.commit()
    entry = reward.entries[3]
    entry.note = "篡改"
    with pytest.raises(PermissionError):
        session.commit()
    session.rollback()
    with pytest.raises(DomainError):  # a reporter cannot pay themselves
        rw.pay_reward(session, reward.id, actor=REPORTER, now=NOW, method="mobile", reference="x")


def test_an_unpaid_reward_raises_supervision_once(session, actors, cats, depts, tiers):
    case = verified_report(session, actors, cats, depts)
    reward = propose(session, actors, case, tiers)
    rw.approve_reward(session, reward.id, actor=actors["leader"], now=NOW)
    due = reward.payment_due_at
    assert sweep.run_sweep(session, due - timedelta(hours=1))["unpaid_rewards"] == 0
    assert sweep.run_sweep(session, due + timedelta(hours=1))["unpaid_rewards"] == 1
    assert sweep.run_sweep(session, due + timedelta(hours=2))["unpaid_rewards"] == 0
    # The leader who approved it is of the province's own bureau: an office writes no letter to
    # itself (and nobody is above the province), so its finance staff are told instead, once.
    assert session.query(Notice).filter_by(cause="reward_unpaid").count() == 0
    told = session.query(Notification).filter_by(template="reward_unpaid").all()
    assert {n.channel for n in told} == {"inbox", "email"} and len(told) == 2  # once per channel


def test_an_unpaid_reward_of_a_department_raises_its_reminder_letter(session, actors, cats, depts, tiers):
    from app.services import notices as notice_services

    case = verified_report(session, actors, cats, depts)
    reward = propose(session, actors, case, tiers)
    rw.approve_reward(session, reward.id, actor=actors["leader"], now=NOW)
    staff = session.get(Staff, actors["leader"].id)
    staff.department_id = depts["P01"].id  # a leader of the market regulator approved and pays it
    session.flush()
    assert sweep.run_sweep(session, reward.payment_due_at + timedelta(hours=1))["unpaid_rewards"] == 1
    [notice] = session.query(Notice).filter_by(cause="reward_unpaid").all()
    assert notice.kind == "reminder" and case in notice.cases and notice.department_id == depts["P01"].id
    assert notice_services.is_own_bureau(notice.jurisdiction, depts["P00"].name)


def test_the_reward_api_follows_the_same_rules(app, session, actors, cats, depts, tiers):
    case = verified_report(session, actors, cats, depts)
    reward = propose(session, actors, case, tiers)
    session.commit()
    client = app.test_client()

    def token(user):
        return {"Authorization": f"Bearer {conftest_api_token(client, user)}"}

    assert client.get("/api/v1/reward/", headers=token("handler")).status_code == 403
    listing = client.get("/api/v1/reward/", headers=token("supervisor")).json
    assert listing["count"] == 1 and "account_number" not in str(listing)
    denied = client.post(f"/api/v1/reward/{reward.id}/actions/approve", json={}, headers=token("supervisor"))
    assert denied.status_code == 409  # the proposer cannot approve
    approved = client.post(f"/api/v1/reward/{reward.id}/actions/approve", json={}, headers=token("leader"))
    assert approved.status_code == 200 and approved.json["status"] == "approved"
    assert session.query(RewardEntry).count() == 2 and session.query(RewardClaim).count() == 0


def test_the_proposal_form_offers_the_split_only_where_there_are_several_reporters(
    app, session, actors, cats, depts, tiers
):
    from app.services import cases as svc
    from tests.factories import file_case

    single = verified_report(session, actors, cats, depts)
    merged = verified_report(session, actors, cats, depts, status=Status.EVALUATED)
    duplicate = file_case(
        session, actors, cats, now=NOW, case_type="report", grade="c", category="FEE01", reporter_name="李四"
    )
    svc.perform(session, duplicate.id, "merge", actor=actors["clerk"], now=NOW, into_case=merged.number)
    untrue = verified_report(session, actors, cats, depts, finding="untrue")
    session.commit()
    client = app.test_client()
    login(client, "supervisor")
    assert 'name="split"' not in client.get(f"/rewards/act/propose/{single.id}").get_data(as_text=True)
    page = client.get(f"/rewards/act/propose/{merged.id}").get_data(as_text=True)
    assert 'name="split"' in page
    # The case page offers a proposal only for a report found true and rectified.
    assert "/rewards/act/propose/" in client.get(f"/cases/show/{merged.id}").get_data(as_text=True)
    assert "/rewards/act/propose/" not in client.get(f"/cases/show/{untrue.id}").get_data(as_text=True)
    share = {"tier_id": str(tiers["tier3"].id), "amount": "80", "reasons": "分别提供线索", "split": "y"}
    for reporter in merged.reporters:
        response = client.post(
            f"/rewards/act/propose/{merged.id}", data={**share, "reporter_id": str(reporter.id)}
        )
        assert response.status_code == 302
    session.expire_all()
    shares = session.query(Reward).filter_by(case_id=merged.id).all()
    assert [(r.split, r.amount_yuan) for r in shares] == [(True, 80), (True, 80)]
    assert 'id="standing-rewards"' in client.get(f"/rewards/act/propose/{merged.id}").get_data(as_text=True)
