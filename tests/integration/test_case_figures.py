"""The case figures' rollup (models.case_figures): a quarter's or a year's dashboard, bulletin
and assessment figures are summed from monthly rows per (jurisdiction, department complained
about), and equal what the cases themselves say after every change, whichever path made it
(a service, a bulk statement, SQL typed by hand), because the database's triggers mark the
months it touches; the clocks' overdue counts move with time although a month's rows do not."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import and_, func, select, text

from app.services import case_figures as rules
from app.services import cases as svc
from app.services import jurisdictions
from app.services.assessment import Period, month_of
from app.services.dashboard import clock_figures
from app.services.visibility import rollup_keep, visible_cases_clause
from app.workflow import Action, Status
from models import Case, CaseFigureBuilt, CaseFigureMonth, CaseFigureStale, Category
from reports.builders import cases_clause, figures
from tests.conftest import at
from tests.factories import case_in, file_case, handler_of

OCT, NOV = Period.month(2026, 10), Period.month(2026, 11)
AUTUMN = Period(OCT.start, NOV.end, "2026年10-11月")  # two whole months: read from the rollup
YEAR = Period.year(2026)
NOW = at("2026-11-20 09:00")


def stale(session) -> int:
    return session.scalar(select(func.count()).select_from(CaseFigureStale))


def same_as_live(session, actor, now=NOW, periods=(AUTUMN, YEAR, OCT, NOV)) -> None:
    """The rollup's figures and clocks equal those counted from the cases, for the whole
    platform and for each office under the root, as ``actor`` may see them."""
    root = jurisdictions.root(session)
    for office in (root, *jurisdictions.children(session, root.id)):
        for period in periods:
            assert rules.read(session, period) is not None
            rolled = figures(session, period, jurisdiction=office)
            assert dataclasses.asdict(rolled) == dataclasses.asdict(
                figures(session, period, jurisdiction=office, live=True)
            )
            scope = and_(visible_cases_clause(actor), cases_clause(office))
            keep = rollup_keep(session, actor, office)
            assert keep is not None
            rolled_clocks = clock_figures(session, period, now, scope, keep)
            assert rolled_clocks == clock_figures(session, period, now, scope)


def build(session) -> None:
    rules.build(session, now=NOW, rebuild=True)
    session.commit()
    assert stale(session) == 0
    assert {month_of(OCT.start), month_of(NOV.start)} <= set(session.scalars(select(CaseFigureBuilt.month)))


@pytest.fixture
def history(session, actors, cats, depts):
    """Cases of October and November in several states, and the rollup built over them."""
    case_in(session, actors, cats, depts, Status.CLOSED, now=at("2026-10-20 10:00"), finding="true")
    case_in(session, actors, cats, depts, Status.CLOSED, now=at("2026-11-02 10:00"), lead="X103")
    case_in(session, actors, cats, depts, Status.DISPATCHED, now=at("2026-11-05 10:00"))
    file_case(session, actors, cats, now=at("2026-10-08 10:00"))  # never accepted: overdue
    session.commit()
    build(session)
    return session


def test_the_figures_follow_every_action_through_the_services(history, session, actors, cats, depts):
    leader, h102, sup = actors["leader"], handler_of(actors, "X102"), actors["supervisor"]
    steps = iter(at("2026-11-06 09:00") + timedelta(minutes=30 * i) for i in range(100))
    same_as_live(session, leader)

    def act(case, action, actor, **params):
        svc.perform(session, case.id, action, actor=actor, now=next(steps), **params)
        session.commit()
        same_as_live(session, leader)

    case = file_case(session, actors, cats, now=next(steps))
    session.commit()
    assert stale(session) > 0  # November, where it was filed
    same_as_live(session, leader)
    act(case, Action.ACCEPT, actors["clerk"])
    act(case, Action.DISPATCH, actors["dispatcher"], lead_department_id=depts["X102"].id)
    act(case, Action.SIGN, h102)
    act(case, Action.RECORD_FINDING, h102, result="untrue", facts="经核查不属实。", summary="不属实。")
    act(case, Action.REPLY, h102, reply="已办结")
    act(case, Action.EVALUATE, sup, rating="satisfied", source="revisit_call", method="phone")
    act(case, Action.CLOSE, sup)
    other = file_case(session, actors, cats, now=next(steps))
    session.commit()
    act(other, Action.DECLINE, actors["clerk"], reason="duplicate", note="已另案办理")

    from jobs.tasks import refresh_kpis

    refresh_kpis()  # the job: every marker read is gone, the stored rows exact on their own
    session.expire_all()
    assert stale(session) == 0
    same_as_live(session, leader)


def test_a_change_made_by_hand_in_sql_marks_its_month(history, session, actors):
    """No ORM, no service: the trigger still marks October, and the dashboard counts the
    change at once (a rating given by a bulk statement, a case moved to another category)."""
    october = session.scalar(
        select(Case).where(Case.created_at >= OCT.start, Case.created_at < OCT.end, Case.status == "closed")
    )
    before = figures(session, AUTUMN).satisfied
    session.execute(text("UPDATE cases SET rating = 'satisfied' WHERE id = :id"), {"id": october.id})
    session.commit()
    assert stale(session) >= 1
    assert figures(session, AUTUMN).satisfied == before + (0 if october.rating == "satisfied" else 1)
    same_as_live(session, actors["leader"])
    session.execute(text("DELETE FROM case_event WHERE case_id = :id"), {"id": october.id})
    session.execute(text("DELETE FROM assignment WHERE case_id = :id"), {"id": october.id})
    session.commit()
    same_as_live(session, actors["leader"])


def test_the_stored_rows_are_what_is_read(history, session):
    """A month's rows altered by hand (no marker) are summed as they are: the rollup is read,
    not recomputed, for that month alone as for several."""
    rows = session.scalars(select(CaseFigureMonth).where(CaseFigureMonth.month == month_of(NOV.start))).all()
    assert rows
    rows[0].figures = {**rows[0].figures, "filed": rows[0].figures.get("filed", 0) + 100}
    session.commit()
    assert figures(session, AUTUMN).filed == figures(session, AUTUMN, live=True).filed + 100
    assert figures(session, NOV).filed == figures(session, NOV, live=True).filed + 100


def test_regrouping_a_category_forgets_every_built_month(history, session, actors):
    child = session.scalar(select(Category).where(Category.parent_id.isnot(None)))
    other_parent = session.scalar(
        select(Category).where(Category.parent_id.is_(None), Category.id != child.parent_id)
    )
    child.parent_id = other_parent.id
    session.commit()
    assert session.scalar(select(func.count()).select_from(CaseFigureBuilt)) == 0
    same_as_live(session, actors["leader"])  # computed live until the job builds them again
    rules.build(session, now=NOW)
    session.commit()
    same_as_live(session, actors["leader"])


def test_overdue_counts_move_with_time_after_the_build(history, session, actors, cats):
    """A clock not met whose deadline passes after the month was built counts as overdue then,
    with nothing rebuilt: the month's overdue count as of its build plus those passed since."""
    case = file_case(session, actors, cats, now=at("2026-11-19 16:00"))
    session.commit()
    rules.refresh(session, now=NOW)  # November rebuilt at NOW: the case's clocks still running
    session.commit()
    assert stale(session) == 0
    leader = actors["leader"]
    root = jurisdictions.root(session)
    scope, keep = and_(visible_cases_clause(leader), cases_clause(root)), rollup_keep(session, leader, root)
    later = case.accept_due_at + timedelta(minutes=1)
    assert later > NOW

    def overdue(now, **kw):
        found = clock_figures(session, AUTUMN, now, scope, **kw)["clocks"]
        return {c.key: c.overdue for c in found}

    assert overdue(later, keep=keep) == overdue(later)
    assert overdue(later)["acceptance"] == overdue(NOW)["acceptance"] + 1
    same_as_live(session, leader, now=later)
    # November built again later than October: each month's own moment counts (no case twice)
    session.execute(CaseFigureStale.__table__.insert().values(month=month_of(NOV.start)))
    rules.refresh(session, now=later)
    session.commit()
    built = dict(session.execute(select(CaseFigureBuilt.month, CaseFigureBuilt.built_at)).all())
    assert built[month_of(OCT.start)] == NOW and built[month_of(NOV.start)] == later
    same_as_live(session, leader, now=later + timedelta(days=3))


def test_the_clocks_never_count_a_case_about_the_readers_department(history, session, actors, cats, depts):
    """The visibility rule over the rollup's rows: a case about the reader's own department is
    in no clock of theirs, as in the live count (its figures still count in 登记, as the
    bulletin's do)."""
    reader = next(a for a in actors.values() if a.sees_all_cases and a.department_id is not None)
    case = file_case(session, actors, cats, now=at("2026-11-10 10:00"))
    case.concerned_department_id = reader.department_id
    session.commit()
    rules.refresh(session, now=NOW)
    session.commit()
    root = jurisdictions.root(session)
    keep = rollup_keep(session, reader, root)
    assert not keep(case.jurisdiction_id, reader.department_id)
    same_as_live(session, reader)
    with_it = clock_figures(session, AUTUMN, NOW, None)["clocks"]
    scope = and_(visible_cases_clause(reader), cases_clause(root))
    without = clock_figures(session, AUTUMN, NOW, scope, keep)
    assert sum(c.on_time + c.late + c.overdue for c in with_it) > sum(
        c.on_time + c.late + c.overdue for c in without["clocks"]
    )


def test_a_reader_of_no_jurisdiction_rule_reads_the_cases_themselves(session, actors):
    handler = handler_of(actors, "X102")
    assert not handler.sees_all_cases
    assert rollup_keep(session, handler, jurisdictions.root(session)) is None
