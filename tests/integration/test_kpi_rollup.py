"""The KPI rollup (models.kpi): a period of whole months is summed from each department's
monthly rows, and every action that can change a past figure marks its (department, month)
stale in the same transaction, so the rollup's figures equal the live query's after each
action; a period that is not whole months runs the live query."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.services import assessment as asm
from app.services import cases as svc
from app.services.assessment import Period
from app.services.notices import raise_notice
from app.supervision import NoticeCause
from app.workflow import Action, Status
from models import KpiBuiltMonth, KpiMonth, KpiStale
from models.kpi import month_of
from tests.conftest import at
from tests.factories import case_in, file_case, handler_of

OCT, NOV = Period.month(2026, 10), Period.month(2026, 11)
AUTUMN = Period(OCT.start, NOV.end, "2026年10-11月")  # two whole months: read from the rollup
YEAR = Period.year(2026)
NOW = at("2026-11-02 09:00")


def same_as_live(session, *periods) -> None:
    """The rollup's KPIs (and the lower offices' figures) equal the live query's."""
    from app.services import jurisdictions

    root = jurisdictions.root(session)
    offices = jurisdictions.children(session, root.id)
    for period in periods or (AUTUMN, YEAR, NOV):
        assert asm.whole_months(period) is not None
        assert asm.department_kpis(session, period) == asm.department_kpis(session, period, live=True)
        assert asm.office_kpis(session, period, offices) == asm.office_kpis(
            session, period, offices, live=True
        )


def stale(session) -> int:
    return session.scalar(select(func.count()).select_from(KpiStale))


def build(session) -> None:
    asm.build_rollup(session, now=NOW, rebuild=True)
    session.commit()
    assert stale(session) == 0
    assert set(session.scalars(select(KpiBuiltMonth.month))) >= {month_of(OCT.start), month_of(NOV.start)}


@pytest.fixture
def history(session, actors, cats, depts):
    """Some October and November rounds already settled, and the rollup built over them."""
    case_in(session, actors, cats, depts, Status.CLOSED, now=at("2026-10-20 10:00"), finding="true")
    case_in(session, actors, cats, depts, Status.CLOSED, now=at("2026-11-02 10:00"), lead="X103")
    session.commit()
    build(session)
    return session


def test_a_months_figures_follow_every_action_through_the_services(history, session, actors, cats, depts):
    h102, sup = handler_of(actors, "X102"), actors["supervisor"]
    steps = iter(at("2026-11-03 09:00") + timedelta(minutes=20 * i) for i in range(200))

    def act(case, action, actor, **params):
        svc.perform(session, case.id, action, actor=actor, now=next(steps), **params)
        session.commit()
        same_as_live(session)

    same_as_live(session)
    case = file_case(session, actors, cats, now=next(steps))
    session.commit()
    same_as_live(session)
    act(case, Action.ACCEPT, actors["clerk"])
    act(case, Action.DISPATCH, actors["dispatcher"], lead_department_id=depts["X102"].id)
    assert stale(session) > 0  # the new round's department and month
    act(case, Action.SIGN, h102)
    act(case, Action.RECORD_FINDING, h102, result="true", facts="经核查属实。", summary="属实。")
    act(case, Action.PLAN_RECTIFICATION, h102, measures="限期整改", responsible="王科长", days=5)
    act(case, Action.PAUSE_CLOCK, h102, reason="等待企业补充材料")
    act(case, Action.RESUME_CLOCK, h102, note="材料已收到")
    act(case, Action.REPLY, h102, reply="已办结")
    act(
        case,
        Action.EVALUATE,
        sup,
        rating="unsatisfied",
        source="revisit_call",
        method="phone",
        reason="没解决",
    )
    act(case, Action.REHANDLE, sup, note="诉求合理，重办")
    act(case, Action.SIGN, h102)
    act(case, Action.REPLY, h102, reply="已重新办结")
    # the rectification passes its re-check after the reply: the round becomes resolved
    act(case, Action.REPORT_RECTIFICATION, h102, completion="已整改到位")
    act(case, Action.ACCEPT_RECTIFICATION, sup)
    act(case, Action.EVALUATE, sup, rating="satisfied", source="revisit_call", method="phone")
    act(case, Action.CLOSE, sup)
    # A second case: returned by the department, then re-dispatched to another one.
    other = case_in(session, actors, cats, depts, Status.DISPATCHED, now=next(steps), lead="X103")
    session.commit()
    same_as_live(session)
    act(other, Action.RETURN, handler_of(actors, "X103"), reason="不属于本单位职责")
    act(other, Action.DISPATCH, actors["dispatcher"], lead_department_id=depts["C10"].id)
    act(other, Action.SIGN, handler_of(actors, "C10"))
    # A notice issued to a department (a bulk INSERT: read live, never rolled up).
    raise_notice(
        session,
        cause=NoticeCause.UNSIGNED,
        subject=f"case:{other.id}",
        department_id=depts["C10"].id,
        cases=[other],
        now=next(steps),
        details="测试",
    )
    session.commit()
    same_as_live(session)
    kpis = {k.code: k for k in asm.department_kpis(session, NOV)}
    assert kpis["X102"].rehandle.numerator == 1 and kpis["X102"].resolution.numerator == 1
    assert kpis["X103"].returns.numerator == 1 and kpis["C10"].reminders == 1
    assert stale(session) > 0
    from jobs.tasks import refresh_kpis

    refresh_kpis()  # the job: every marker gone, the stored rows now exact on their own
    session.expire_all()
    assert stale(session) == 0
    same_as_live(session, AUTUMN, YEAR, Period.quarter(2026, 4))


def test_a_change_to_an_october_round_marks_october_stale(history, session, actors, depts):
    october = session.scalar(select(KpiMonth).where(KpiMonth.month == month_of(OCT.start)))
    assert october is not None
    from models import Assignment

    assignment = session.scalar(
        select(Assignment).where(Assignment.dispatched_at < OCT.end, Assignment.dispatched_at >= OCT.start)
    )
    assignment.due_at = assignment.done_at - timedelta(minutes=1)  # an extension taken back: late
    session.commit()
    assert stale(session) == 1
    same_as_live(session, AUTUMN, YEAR)
    assert asm.department_kpis(session, OCT)[0].on_time.numerator == 0


def test_the_rollup_is_what_is_read_and_other_periods_are_live(history, session):
    """A stored row is summed as it is (here altered by hand, no marker): whole months (one or
    several) read it; a period cut at another moment runs the live query."""
    x = session.execute(
        update(KpiMonth).where(KpiMonth.month == month_of(NOV.start)).values(handled=KpiMonth.handled + 100)
    ).rowcount
    session.commit()
    assert x >= 1
    for period in (AUTUMN, NOV):
        rolled = asm.department_kpis(session, period)
        live = asm.department_kpis(session, period, live=True)
        assert sum(k.handled for k in rolled) == sum(k.handled for k in live) + 100 * x
    part = Period(OCT.start, NOV.end - timedelta(hours=1), "10月至11月30日23时")
    assert asm.whole_months(part) is None
    assert asm.department_kpis(session, part) == asm.department_kpis(session, part, live=True)


def test_a_month_never_built_is_computed_live_until_the_job_builds_it(session, actors, cats, depts):
    case_in(session, actors, cats, depts, Status.CLOSED, now=at("2026-11-05 10:00"))
    session.execute(KpiBuiltMonth.__table__.delete())
    session.execute(KpiMonth.__table__.delete())
    session.commit()
    assert asm.department_kpis(session, YEAR) == asm.department_kpis(session, YEAR, live=True) != []
    asm.refresh_rollup(session, now=at("2026-11-20 10:00"))  # the job builds the current month
    session.commit()
    assert session.scalar(select(func.count()).select_from(KpiMonth)) >= 1
    same_as_live(session, YEAR)


@pytest.mark.parametrize(
    ("period", "months"),
    [
        (Period.year(2026), 12),
        (Period.quarter(2026, 4), 3),
        (NOV, 1),
        (Period(NOV.start, NOV.end + timedelta(days=1), ""), None),
        (Period(NOV.start + timedelta(hours=8), NOV.end, ""), None),  # cut at UTC, not Beijing, midnight
    ],
)
def test_whole_months_are_cut_at_beijing_midnight(period, months):
    found = asm.whole_months(period)
    assert (None if found is None else len(found)) == months
