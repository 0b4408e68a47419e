"""The early-warning rules: each raises on cases built to cross its threshold and not just below;
once only; only for active models; and only from what happened in the period examined."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from app.early_warning import RuleType
from app.services.early_warnings import evaluate, seed_models
from models import Assignment, Case, CaseEvent, EarlyWarning, ExtensionRequest, ServiceWindow, WarningModel
from models.inspection import EnforcementOfficer, Enterprise, Inspection, InspectionItem
from tests.conftest import at

NOW = at("2026-11-16 10:00")  # a Monday: week Nov 16–22, month November, quarter Q4
THIS_MONTH = at("2026-11-03 10:00")
LAST_MONTH = at("2026-10-12 10:00")
_seq = itertools.count(1)


@pytest.fixture
def models(session):
    seed_models(session)
    return {m.code: m for m in session.query(WarningModel)}


def _case(session, depts, *, when, lead="X102", **extra) -> Case:
    dept = depts[lead]
    case = Case(
        status=extra.pop("status", "closed"),
        case_type="complaint",
        channel="web",
        title="t",
        content="c",
        jurisdiction_id=dept.jurisdiction_id or 1,
        created_at=when,
        clock_start_at=when,
        lead_department_id=dept.id,
        **extra,
    )
    session.add(case)
    session.flush()
    return case


def _assignment(session, case, depts, *, lead="X102", at_, signed_after=None, done_after=None, due_days=10):
    a = Assignment(
        case_id=case.id,
        department_id=depts[lead].id,
        role="lead",
        state="done" if done_after is not None else "signed",
        active=True,
        dispatched_at=at_,
        sign_due_at=at_ + timedelta(hours=2),
        signed_at=None if signed_after is None else at_ + signed_after,
        done_at=None if done_after is None else at_ + done_after,
        due_start_at=at_,
        due_days=due_days,
        due_at=at_ + timedelta(days=due_days),
    )
    session.add(a)
    session.flush()
    return a


def _raised(session, model):
    return session.query(EarlyWarning).filter_by(model_id=model.id).all()


# Builders: make ``n`` cases (or inspections) of the kind the rule counts; the threshold is the
# smallest n that raises with the default thresholds.
def overdue(session, depts, n):
    for _ in range(5):  # last month: 5 assignments all on time
        c = _case(session, depts, when=LAST_MONTH - timedelta(days=10))
        _assignment(session, c, depts, at_=LAST_MONTH - timedelta(days=10), done_after=timedelta(days=1))
    for i in range(5):  # this month: n of 5 overdue (10 points per 20 %: 1 of 5 is 20 points)
        c = _case(session, depts, when=THIS_MONTH - timedelta(days=10))
        late = timedelta(days=12) if i < n else timedelta(days=1)
        _assignment(session, c, depts, at_=THIS_MONTH - timedelta(days=10), done_after=late)


def unsatisfied(session, depts, n):
    for _ in range(5):
        _case(session, depts, when=LAST_MONTH, replied_at=LAST_MONTH, rating="satisfied")
    for i in range(5):
        _case(
            session,
            depts,
            when=THIS_MONTH,
            replied_at=THIS_MONTH,
            rating="unsatisfied" if i < n else "satisfied",
        )


def window(session, depts, n):
    w = ServiceWindow(name="3号窗口", hall="政务大厅", department_id=depts["X102"].id, token=f"w{next(_seq)}")
    session.add(w)
    session.flush()
    for _ in range(n):
        _case(session, depts, when=THIS_MONTH, window_id=w.id)


def official(session, depts, n):
    for _ in range(n):
        _case(
            session,
            depts,
            when=THIS_MONTH,
            concerned_department_id=depts["X102"].id,
            concerned_official="张某",
        )


def unsigned(session, depts, n):
    for i in range(3):  # this week's signing deadlines: n signed late, the rest in time
        c = _case(session, depts, when=NOW - timedelta(hours=20))
        _assignment(
            session, c, depts, at_=NOW - timedelta(hours=20), signed_after=timedelta(hours=5 if i < n else 1)
        )


def returns(session, depts, n):
    c = _case(session, depts, when=THIS_MONTH, status="returned")
    for i in range(n):
        session.add(
            CaseEvent(
                case_id=c.id,
                action="return",
                from_status="handling",
                to_status="returned",
                at=THIS_MONTH + timedelta(hours=i),
                actor_name="x",
                department_id=depts["X102"].id,
            )
        )


def extensions(session, depts, n):
    for _ in range(n):
        c = _case(session, depts, when=THIS_MONTH)
        a = _assignment(session, c, depts, at_=THIS_MONTH)
        session.add(
            ExtensionRequest(case_id=c.id, assignment_id=a.id, days=5, reason="r", requested_at=THIS_MONTH)
        )


def quick(session, depts, n):
    for i in range(3):
        minutes = 10 if i < n else 120
        c = _case(session, depts, when=THIS_MONTH, replied_at=THIS_MONTH + timedelta(minutes=minutes + 60))
        _assignment(session, c, depts, at_=THIS_MONTH, signed_after=timedelta(minutes=60))


def _enterprise(session, name="某某科技有限公司"):
    k = next(_seq)
    e = Enterprise(
        name=name, credit_code=f"91{k:016d}", token=f"t{k}", confirm_token=f"c{k}", created_at=THIS_MONTH
    )
    session.add(e)
    session.flush()
    return e


def _basis(session):
    basis = session.query(InspectionItem).filter_by(kind="basis").first()
    if basis is None:
        basis = InspectionItem(kind="basis", code=f"B{next(_seq)}", name="双随机抽查任务")
        session.add(basis)
        session.flush()
    return basis


def _inspection(session, e, dept, when, **extra):
    k = next(_seq)
    i = Inspection(
        number=f"JC{k:014d}",
        enterprise_id=e.id,
        department_id=dept.id,
        basis_id=_basis(session).id,
        state=extra.pop("state", "in_progress"),
        started_at=when,
        created_at=when,
        **extra,
    )
    session.add(i)
    session.flush()
    return i


def repeated(session, depts, n):  # more than 3 in 30 days: 4 raises
    e = _enterprise(session)
    for k in range(n + 1):
        _inspection(session, e, depts["X102"], NOW - timedelta(days=k + 1))


def multi_unit(session, depts, n):  # more than 2 units: 3 raises
    e = _enterprise(session)
    codes = [d for d in depts if d != "X102"][: n + 1] + ["X102"]
    for k, code in enumerate(codes[: n + 1]):
        _inspection(session, e, depts[code], NOW - timedelta(days=k + 1))


def officer(session, depts, n):  # the same officer 3 times in 90 days
    e = _enterprise(session)
    o = EnforcementOfficer(name="李四", certificate_no=f"Z{next(_seq)}", department_id=depts["X102"].id)
    session.add(o)
    session.flush()
    for k in range(n):
        i = _inspection(session, e, depts["X102"], NOW - timedelta(days=k + 1))
        i.officers.append(o)
    session.flush()


def unconfirmed(session, depts, n):
    e = _enterprise(session)
    for k in range(n):
        ended = THIS_MONTH + timedelta(hours=k + 1)
        _inspection(
            session, e, depts["X102"], THIS_MONTH, state="finished", result="no_problem", ended_at=ended
        )


CASES = {
    RuleType.OVERDUE_RATE_RISING: (overdue, 1, 0),  # 20 points >= 10 raises; 0 points does not
    RuleType.UNSATISFIED_RISING: (unsatisfied, 1, 0),
    RuleType.WINDOW_REPEATED: (window, 3, 2),
    RuleType.OFFICIAL_NAMED: (official, 2, 1),
    RuleType.UNSIGNED_CASES: (unsigned, 3, 2),
    RuleType.RETURNS_BOUNCING: (returns, 2, 1),
    RuleType.EXTENSIONS_REPEATED: (extensions, 3, 2),
    RuleType.QUICK_CLOSE: (quick, 3, 2),
    RuleType.INSPECTIONS_REPEATED: (repeated, 3, 2),  # builds n + 1 inspections
    RuleType.INSPECTIONS_MULTI_UNIT: (multi_unit, 2, 1),  # builds n + 1 units
    RuleType.OFFICER_REPEATED: (officer, 3, 2),
    RuleType.INSPECTIONS_UNCONFIRMED: (unconfirmed, 3, 2),
}


@pytest.mark.parametrize("rule", list(CASES), ids=str)
def test_rule_raises_when_its_threshold_is_crossed(session, depts, models, rule):
    build, crossing, _ = CASES[rule]
    build(session, depts, crossing)
    model = models[rule.value]
    raised = evaluate(session, now=NOW, model_ids=[model.id])
    warnings = _raised(session, model)
    assert raised and {w.id for w in warnings} == set(raised)
    w = warnings[0]
    assert w.figures and w.state == "open" and w.due_at > NOW
    assert [e.action for e in w.events] == ["raise"] and w.events[0].actor_name == "系统"
    if rule not in (
        RuleType.INSPECTIONS_REPEATED,
        RuleType.INSPECTIONS_MULTI_UNIT,
        RuleType.OFFICER_REPEATED,
        RuleType.INSPECTIONS_UNCONFIRMED,
    ):
        assert w.cases
    else:
        assert w.figures["inspection_ids"]
    assert model.last_run_at == NOW
    assert evaluate(session, now=NOW, model_ids=[model.id]) == []  # a second run raises nothing
    assert len(_raised(session, model)) == len(warnings)


@pytest.mark.parametrize("rule", list(CASES), ids=str)
def test_rule_is_silent_just_below_its_threshold(session, depts, models, rule):
    build, _, below = CASES[rule]
    build(session, depts, below)
    model = models[rule.value]
    assert evaluate(session, now=NOW, model_ids=[model.id]) == []


def test_rewards_unpaid_past_their_deadline_raise_for_the_office(session, depts, models, actors, cats):
    from models import Reporter, Reward, RewardTier

    case = _case(session, depts, when=THIS_MONTH)
    reporter = Reporter(case_id=case.id, name="王五", receipt_number=f"R{next(_seq)}", created_at=THIS_MONTH)
    session.add(reporter)
    session.flush()
    tier = session.query(RewardTier).first()
    session.add(
        Reward(
            case_id=case.id,
            reporter_id=reporter.id,
            tier_id=tier.id,
            amount_yuan=500,
            approvals_needed=1,
            status="approved",
            proposed_at=THIS_MONTH,
            approved_at=THIS_MONTH,
            payment_due_at=THIS_MONTH + timedelta(days=5),
        )
    )
    session.flush()
    model = models[RuleType.REWARDS_UNPAID.value]
    assert evaluate(session, now=THIS_MONTH + timedelta(days=4), model_ids=[model.id]) == []  # not due yet
    raised = evaluate(session, now=NOW, model_ids=[model.id])
    assert len(raised) == 1
    w = session.get(EarlyWarning, raised[0])
    assert w.subject_kind == "office" and w.figures["rewards"] == 1 and [c.id for c in w.cases] == [case.id]


def test_an_inactive_model_raises_nothing(session, depts, models):
    window(session, depts, 5)
    model = models[RuleType.WINDOW_REPEATED.value]
    model.active = False
    session.flush()
    assert [w for w in evaluate(session, now=NOW) if session.get(EarlyWarning, w).model_id == model.id] == []
    assert _raised(session, model) == []


def test_cases_of_earlier_years_do_not_count_in_this_month(session, depts, models):
    w = ServiceWindow(name="5号窗口", hall="", department_id=depts["X102"].id, token=f"w{next(_seq)}")
    session.add(w)
    session.flush()
    for years in (1, 2, 3):
        _case(session, depts, when=THIS_MONTH - timedelta(days=365 * years), window_id=w.id)
    _case(session, depts, when=THIS_MONTH, window_id=w.id)
    model = models[RuleType.WINDOW_REPEATED.value]
    assert evaluate(session, now=NOW, model_ids=[model.id]) == []


def test_a_warning_is_raised_for_last_month_too_keyed_by_its_period(session, depts, models):
    w = ServiceWindow(name="6号窗口", hall="", department_id=depts["X102"].id, token=f"w{next(_seq)}")
    session.add(w)
    session.flush()
    for _ in range(3):
        _case(session, depts, when=LAST_MONTH, window_id=w.id)
    model = models[RuleType.WINDOW_REPEATED.value]
    [raised] = evaluate(session, now=NOW, model_ids=[model.id])
    warning = session.get(EarlyWarning, raised)
    assert str(warning.period_start) == "2026-10-01" and warning.key.endswith(":2026-10-01")
    assert warning.figures == {"cases": 3} and len(warning.cases) == 3


def test_seed_models_adds_one_per_rule_type_once(session, models):
    assert set(models) >= {r.value for r in RuleType}
    assert seed_models(session) == 0


def test_the_scheduled_job_raises_once_as_the_system(session, depts, models):
    from app import clock
    from jobs import tasks

    w = ServiceWindow(name="9号窗口", hall="", department_id=depts["X102"].id, token=f"w{next(_seq)}")
    session.add(w)
    session.flush()
    for _ in range(3):
        _case(session, depts, when=clock.utcnow() - timedelta(minutes=1), window_id=w.id)
    session.commit()
    assert tasks.evaluate_warnings() >= 1
    assert tasks.evaluate_warnings() == 0
    session.expire_all()
    [warning] = session.query(EarlyWarning).filter_by(subject_kind="window", subject_key=str(w.id)).all()
    assert warning.events[0].actor_name == "系统"
