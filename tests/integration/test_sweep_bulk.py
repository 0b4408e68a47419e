"""The sweep at province scale (issue 18): the revisit calls of a batch of unrated replies go
out in one INSERT (not a query, a check and an insert per case), each case gets its call once,
its supervisors are told once, and a second sweep adds nothing; a case another sweep called
meanwhile is not called again; the rows a sweep marks read as marked without a second write."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.services import sweep
from app.workflow import Status
from models import Assignment, Case, Notification, RevisitTask
from tests.conftest import at
from tests.factories import case_in, statements_run

NOW = at("2026-11-02 10:00")


def statements_on(table: str):
    return statements_run(db.engine, lambda statement: table in statement)


def test_unrated_replies_get_their_revisit_calls_in_one_insert_and_only_once(session, actors, cats, depts):
    cases = [case_in(session, actors, cats, depts, Status.REPLIED, now=NOW) for _ in range(4)]
    session.commit()
    with statements_on("revisit_task") as seen:
        done = sweep.run_sweep(session, NOW + timedelta(days=10))
    session.commit()
    assert done["unrated"] == len(cases)
    # the due cases (their ids, then the locked batch), the calls each had, one INSERT: it was
    # three more statements per case
    assert len(seen) <= 4, "\n".join(seen)
    tasks = session.execute(select(RevisitTask.case_id, RevisitTask.reason)).all()
    assert sorted(tasks) == sorted((c.id, "unrated") for c in cases)
    told = session.scalar(
        select(func.count()).select_from(Notification).where(Notification.template == "revisit")
    )
    assert told >= len(cases)

    again = sweep.run_sweep(session, NOW + timedelta(days=11))
    session.commit()
    assert again["unrated"] == 0
    assert session.scalar(select(func.count()).select_from(RevisitTask)) == len(cases)
    assert (
        session.scalar(
            select(func.count()).select_from(Notification).where(Notification.template == "revisit")
        )
        == told
    )


def test_a_revisit_call_already_there_is_neither_created_nor_told_twice(session, actors, cats, depts):
    case = case_in(session, actors, cats, depts, Status.REPLIED, now=NOW)
    session.commit()
    first = sweep.add_revisits(session, [(case, "sample")], now=NOW + timedelta(days=1))
    told = session.scalar(
        select(func.count()).select_from(Notification).where(Notification.template == "revisit")
    )
    second = sweep.add_revisits(session, [(case, "sample")], now=NOW + timedelta(days=2))
    assert first == {(case.id, "sample")} and second == set()
    assert (
        session.scalar(
            select(func.count()).select_from(Notification).where(Notification.template == "revisit")
        )
        == told
    )
    assert (
        session.scalar(select(func.count()).select_from(RevisitTask).where(RevisitTask.case_id == case.id))
        == 1
    )


def test_a_reply_called_meanwhile_by_another_sweep_gets_no_second_call(
    session, actors, cats, depts, monkeypatch
):
    case = case_in(session, actors, cats, depts, Status.REPLIED, now=NOW)
    session.commit()
    later = NOW + timedelta(days=10)
    original = sweep.batches

    def read_before_the_other_sweep(session, query, lock=None):
        """The ids are read before another sweep makes the call and commits; then the batch is
        locked (the case is free again)."""
        if lock is not None and query.column_descriptions[0]["entity"] is Case:
            session.add(RevisitTask(case_id=case.id, reason="unrated", created_at=later, due_at=later))
            session.flush()
            return original(session, lock, lock)  # (the case among the ids, as read earlier)
        return original(session, query, lock)

    monkeypatch.setattr(sweep, "batches", read_before_the_other_sweep)
    assert sweep.run_sweep(session, later)["unrated"] == 0
    assert session.execute(
        select(RevisitTask.reason).where(RevisitTask.case_id == case.id)
    ).scalars().all() == ["unrated"]
    assert not session.scalar(
        select(func.count()).select_from(Notification).where(Notification.template == "revisit")
    )


def test_the_rows_a_sweep_marked_read_as_marked_without_being_written_again(session, actors, cats, depts):
    case = case_in(session, actors, cats, depts, Status.HANDLING, now=NOW)
    session.commit()
    late = case.due_at + timedelta(minutes=1)
    [assignment] = session.query(Assignment).filter_by(case_id=case.id).all()  # held by the caller
    assert assignment.overdue_reminded_at is None
    assert sweep.run_sweep(session, late)["overdue"] == 1
    assert assignment.overdue_reminded_at == late and not session.dirty
    with statements_on("assignment") as seen:
        session.flush()
    assert seen == []
    stored = session.execute(select(Assignment.overdue_reminded_at).where(Assignment.id == assignment.id))
    assert stored.scalar_one() == late
