"""Revisit calls worked from a queue (002): reached or not, the rating and the notes; a revisit
rating is the case's rating, an unsatisfied one re-opens the path to re-handling, and an
unreached reporter is called again until the attempts run out."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app.enums import EvaluationSource, Rating, RevisitMethod
from app.errors import IllegalMove, Invalid, NotAllowed
from app.services import assessment as asm
from app.services import cases as svc
from app.services import sweep
from app.supervision import NoticeCause
from app.workflow import Action, Status
from models import CaseEvent, Notice, RevisitTask
from tests.conftest import at, login
from tests.factories import case_in, handler_of

NOW = at("2026-11-02 10:00")
CALL = NOW + timedelta(days=6, hours=1)  # the unrated reply's call is due by then


def unrated_call(session, actors, cats, depts, **extra):
    """A replied case left unrated: the sweep puts a revisit call in the queue."""
    case = case_in(session, actors, cats, depts, Status.REPLIED, now=NOW, **extra)
    assert sweep.run_sweep(session, NOW + timedelta(days=6))["unrated"] == 1
    session.commit()
    return case


def call(session, case, actor, when=CALL, **params):
    return svc.perform(session, case.id, Action.RECORD_REVISIT, actor=actor, now=when, **params)


def tasks_of(session, case):
    return session.query(RevisitTask).filter_by(case_id=case.id).order_by(RevisitTask.id).all()


def test_a_revisit_rating_counts_as_the_cases_rating(session, actors, cats, depts):
    case = unrated_call(session, actors, cats, depts)
    clerk = actors["clerk"]  # a 12345 agent makes the call
    for refused in (
        {"outcome": "reached"},  # no rating
        {"outcome": "reached", "rating": "satisfied"},  # how the call was made
        {"outcome": "reached", "rating": "unsatisfied", "method": "phone"},  # the reason
        {"outcome": "maybe"},
    ):
        with pytest.raises(Invalid):
            call(session, case, clerk, **refused)
    with pytest.raises(NotAllowed):
        call(session, case, handler_of(actors, "X102"), outcome="reached", rating="satisfied", method="phone")

    call(
        session,
        case,
        clerk,
        outcome="reached",
        rating="basically_satisfied",
        method="phone",
        notes="基本满意",
    )
    assert case.status == Status.EVALUATED
    assert (case.rating, case.rating_source) == (Rating.BASICALLY_SATISFIED, EvaluationSource.REVISIT_CALL)
    [task] = tasks_of(session, case)
    assert task.done_at == CALL and task.reached and task.attempts == 1
    assert (task.rating, task.outcome, task.notes) == (
        "basically_satisfied",
        "basically_satisfied:phone",
        "基本满意",
    )
    event = case.events[-1]
    assert (event.action, event.from_status, event.to_status) == ("record_revisit", "replied", "evaluated")
    assert event.data["rating"] == "basically_satisfied" and event.data["method"] == "phone"
    # The assessment counts the call's rating as the rating of the reply.
    [x102] = [k for k in asm.department_kpis(session, asm.Period.month(2026, 11)) if k.code == "X102"]
    assert x102.satisfaction == asm.Rate(1, 1)
    with pytest.raises(IllegalMove):  # the call is done: nothing left to call
        call(session, case, clerk, outcome="reached", rating="satisfied", method="phone")


def test_a_second_unsatisfied_result_by_revisit_call_raises_the_rectification_notice(
    session, actors, cats, depts
):
    case = case_in(session, actors, cats, depts, Status.UNSATISFIED, now=NOW)
    handler, supervisor = handler_of(actors, "X102"), actors["supervisor"]
    later = NOW + timedelta(days=1)
    svc.perform(session, case.id, Action.REHANDLE, actor=supervisor, now=later, note="诉求合理，重办")
    svc.perform(session, case.id, Action.SIGN, actor=handler, now=later + timedelta(minutes=5))
    svc.perform(session, case.id, Action.REPLY, actor=handler, now=later + timedelta(hours=1), reply="已重办")
    assert sweep.run_sweep(session, later + timedelta(days=7))["unrated"] == 1
    session.commit()
    call(
        session,
        case,
        actors["clerk"],
        when=later + timedelta(days=7, hours=1),
        outcome="reached",
        rating="unsatisfied",
        method="phone",
        notes="仍未解决",
    )
    assert (case.status, case.rating_reason) == (Status.UNSATISFIED, "仍未解决")
    [notice] = session.query(Notice).filter_by(cause=NoticeCause.TWO_UNSATISFIED).all()
    assert notice.department_id == depts["X102"].id and case in notice.cases


def test_an_unsatisfied_sampled_revisit_reopens_the_path_to_re_handling(session, actors, cats, depts):
    unhappy = case_in(session, actors, cats, depts, Status.CLOSED, now=NOW)
    happy = case_in(session, actors, cats, depts, Status.CLOSED, now=NOW)
    for case in (unhappy, happy):
        sweep.add_revisit(session, case, reason="sample", now=NOW + timedelta(days=7))
    session.commit()
    supervisor = actors["supervisor"]

    call(session, happy, supervisor, outcome="reached", rating="satisfied", method="visit")
    assert happy.status == Status.CLOSED and happy.closed_at is not None
    assert (happy.rating, happy.rating_source) == (Rating.SATISFIED, EvaluationSource.REVISIT_CALL)

    call(
        session,
        unhappy,
        supervisor,
        outcome="reached",
        rating="unsatisfied",
        method="phone",
        notes="问题复发",
    )
    assert unhappy.status == Status.UNSATISFIED and unhappy.closed_at is None
    assert (unhappy.rating, unhappy.rating_source, unhappy.rating_reason) == (
        Rating.UNSATISFIED,
        EvaluationSource.REVISIT_CALL,
        "问题复发",
    )
    [task] = tasks_of(session, unhappy)
    assert task.reason == "sample" and task.outcome == "unsatisfied:phone" and task.done_at is not None
    # The supervisor decides: re-handle, escalate or close again.
    actions = svc.available_actions(session, unhappy, supervisor)
    assert {Action.REHANDLE, Action.CLOSE} <= set(actions)
    svc.perform(session, unhappy.id, Action.REHANDLE, actor=supervisor, now=CALL, note="回访不满意，重办")
    assert unhappy.status == Status.DISPATCHED


def test_an_unreached_reporter_is_called_again_until_the_attempts_run_out(session, actors, cats, depts):
    case = unrated_call(session, actors, cats, depts)
    clerk = actors["clerk"]
    with pytest.raises(Invalid):  # a rating only when the reporter was reached
        call(session, case, clerk, outcome="not_reached", rating="satisfied")
    for attempt in (1, 2):
        when = CALL + timedelta(hours=attempt)
        call(session, case, clerk, when=when, outcome="not_reached", notes="无人接听")
        [task] = tasks_of(session, case)
        assert (task.attempts, task.last_attempt_at, task.done_at) == (attempt, when, None)
        assert case.status == Status.REPLIED
    assert svc.available_actions(session, case, clerk) == [Action.RECORD_REVISIT]
    call(session, case, clerk, when=CALL + timedelta(hours=3), outcome="not_reached", notes="关机")
    [task] = tasks_of(session, case)
    assert (task.attempts, task.outcome, task.reached) == (3, "unreachable", False)
    assert task.done_at == CALL + timedelta(hours=3) and case.status == Status.REPLIED
    calls = session.query(CaseEvent).filter_by(case_id=case.id, action="record_revisit").all()
    assert [(e.data["attempt"], e.data.get("gave_up", False)) for e in calls] == [
        (1, False),
        (2, False),
        (3, True),
    ]
    assert all(e.from_status == e.to_status == "replied" for e in calls)
    with pytest.raises(IllegalMove):
        call(session, case, clerk, outcome="not_reached")


def test_a_call_works_the_oldest_open_revisit_of_the_case(session, actors, cats, depts):
    case = unrated_call(session, actors, cats, depts)
    sweep.add_revisit(session, case, reason="sample", now=CALL)
    session.commit()
    call(session, case, actors["supervisor"], when=CALL + timedelta(hours=1), outcome="not_reached")
    unrated, sample = tasks_of(session, case)
    assert (unrated.attempts, sample.attempts) == (1, 0)


def test_the_revisit_queue_and_its_call_form(app, session, actors, cats, depts):
    case = unrated_call(session, actors, cats, depts)
    done = unrated_call(session, actors, cats, depts)
    call(session, done, actors["supervisor"], outcome="reached", rating="satisfied", method="phone")
    session.commit()
    client = app.test_client()
    login(client, "clerk")

    def rows(url):  # the table of the list, not its search form
        page = client.get(url).get_data(as_text=True)
        return page[page.index("<table") :]

    page = rows("/revisits/list/")
    assert case.number in page and done.number in page
    assert page.index(case.number) < page.index(done.number)  # open calls first
    form_url = f"/cases/act/{case.id}/record_revisit"
    assert re.findall(r'href="(/cases/act/\d+/record_revisit)"', page) == [form_url]
    open_page = rows("/revisits/list/?state=open")
    assert case.number in open_page and done.number not in open_page
    done_page = rows("/revisits/list/?state=done")
    assert done.number in done_page and case.number not in done_page

    assert client.get(form_url).status_code == 200
    notes = '<script>alert("x")</script>无人接听'
    response = client.post(form_url, data={"outcome": "not_reached", "notes": notes})
    assert response.status_code == 302
    session.expire_all()
    [task] = tasks_of(session, case)
    assert (task.attempts, task.notes, task.done_at) == (1, notes, None)
    shown = client.get(f"/revisits/show/{task.id}").get_data(as_text=True)
    assert "<script>alert" not in shown and "&lt;script&gt;" in shown
    client.post(form_url, data={"outcome": "reached", "rating": "satisfied", "method": "phone", "notes": ""})
    session.expire_all()
    [task] = tasks_of(session, case)
    assert task.done_at is not None and session.get(type(case), case.id).status == Status.EVALUATED
    assert client.get(f"/cases/show/{case.id}").status_code == 200
    from views.common import label
    from views.supervision import revisit_outcome

    # A call's outcome reads as the rating (not the status of the same name) and how it was made.
    assert (
        revisit_outcome("unsatisfied:phone") == f"{label(Rating.UNSATISFIED)} · {label(RevisitMethod.PHONE)}"
    )
    assert (
        revisit_outcome("unsatisfied:phone") != f"{label(Status.UNSATISFIED)} · {label(RevisitMethod.PHONE)}"
    )

    login(client, "handler")  # departments do not work the revisit queue
    assert client.get("/revisits/list/").status_code in (302, 403)
