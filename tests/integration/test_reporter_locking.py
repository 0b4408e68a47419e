"""The reporter's own actions on the tracking page lock the case row, as the staff's do: two
requests on one case at once (a reporter rating from two tabs, a rating beside a staff
action) run one after the other, so only one of them passes the checks. Each request runs in
its own thread with its own session, as under gunicorn (one session per request)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest

from app.services import cases as svc
from app.workflow import Action, Status
from models import Case, CaseEvent
from tests.conftest import at
from tests.factories import case_in

NOW = at("2026-11-02 10:00")  # a Monday
PAUSE = 0.6  # seconds each rating waits once it passed the checks, before it is committed


@pytest.fixture
def on_postgresql(app):
    from app.extensions import db

    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip(
                "needs PostgreSQL: SQLite locks the whole database for a writer and ignores "
                "SELECT ... FOR UPDATE, so there is no row lock to test"
            )


@pytest.fixture
def slow_evaluation(monkeypatch):
    """Every evaluation waits a little after its checks, so that a second request that does
    not wait for the case's lock has all the time to pass the same checks meanwhile."""
    evaluate = svc.evaluate_case

    def slow(*args, **kwargs):
        time.sleep(PAUSE)
        return evaluate(*args, **kwargs)

    monkeypatch.setattr(svc, "evaluate_case", slow)


def replied_case(session, actors, cats, depts) -> tuple[int, int]:
    """A case whose reply waits for the reporter's rating, committed: (case id, reporter id)."""
    case = case_in(session, actors, cats, depts, Status.REPLIED, now=NOW)
    [reporter] = case.reporters
    ids = case.id, reporter.id
    session.commit()
    return ids


def tracking_client(app, reporter_id: int):
    """A browser following the case (as after the lookup with the number and query code)."""
    from views.public import SESSION_KEY

    client = app.test_client()
    with client.session_transaction() as flask_session:
        flask_session[SESSION_KEY] = reporter_id
    return client


def race(*jobs) -> list:
    """Run the jobs at the same moment, each in its own thread; return what each returned."""
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)
    errors: list = []

    def run(index, job):
        try:
            barrier.wait(timeout=10)
            results[index] = job()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert not any(thread.is_alive() for thread in threads)
    return results


def texts(app):
    from flask_babel import gettext

    with app.test_request_context():
        return gettext("Thank you, it has been recorded."), gettext("You have already rated this reply.")


def evaluations(session, case_id: int) -> list[CaseEvent]:
    session.expire_all()
    return session.query(CaseEvent).filter_by(case_id=case_id, action=Action.EVALUATE.value).all()


@pytest.mark.real_commits
def test_two_ratings_of_one_reply_at_once_give_one_rating_and_one_refusal(
    app, session, actors, cats, depts, on_postgresql, slow_evaluation
):
    case_id, reporter_id = replied_case(session, actors, cats, depts)
    tabs = [tracking_client(app, reporter_id) for _ in range(2)]

    def rate(client, rating, reason):
        def post():
            response = client.post(
                "/track/rate", data={"rating": rating, "reason": reason}, follow_redirects=True
            )
            assert response.status_code == 200
            return response.get_data(as_text=True)

        return post

    pages = race(rate(tabs[0], "satisfied", ""), rate(tabs[1], "unsatisfied", "两个标签页同时评价"))

    recorded, refused = texts(app)
    assert sorted(recorded in page for page in pages) == [False, True]  # one recorded
    assert sorted(refused in page for page in pages) == [False, True]  # the other refused
    [evaluation] = evaluations(session, case_id)  # never two evaluations of one reply
    case = session.get(Case, case_id)
    [reporter] = case.reporters
    assert case.status in (Status.EVALUATED, Status.UNSATISFIED)
    assert evaluation.data["rating"] == reporter.rating == case.rating
    winner = 0 if recorded in pages[0] else 1
    assert reporter.rating == ("satisfied", "unsatisfied")[winner]


@pytest.mark.real_commits
def test_a_rating_beside_the_supervisors_revisit_is_evaluated_once(
    app, session, actors, cats, depts, on_postgresql, slow_evaluation
):
    case_id, reporter_id = replied_case(session, actors, cats, depts)
    tab = tracking_client(app, reporter_id)

    def reporter_rates():
        response = tab.post("/track/rate", data={"rating": "satisfied"}, follow_redirects=True)
        assert response.status_code == 200
        return response.get_data(as_text=True)

    def supervisor_records_the_revisit():
        from app.errors import DomainError
        from app.extensions import db

        with app.app_context():  # a request of its own: its own session
            try:
                svc.perform(
                    db.session,
                    case_id,
                    Action.EVALUATE,
                    actor=actors["supervisor"],
                    now=NOW + timedelta(minutes=90),
                    rating="satisfied",
                    source="revisit_call",
                    method="phone",
                )
                db.session.commit()
                return "evaluated"
            except DomainError:
                db.session.rollback()
                return "refused"

    page, staff = race(reporter_rates, supervisor_records_the_revisit)

    recorded, _ = texts(app)
    assert [recorded in page, staff == "evaluated"].count(True) == 1  # exactly one got through
    assert len(evaluations(session, case_id)) == 1
