"""The one unit-of-work boundary (Indico's ``RH.process``, Superset's ``@transaction``).

A request, a job or a command is one unit of work: the services it calls change and flush,
never commit. When the unit ends without an exception it commits once, then runs the
after-commit callbacks (enqueue jobs, hand messages to the workers); any exception rolls
everything back and the callbacks are dropped, so a refused change sends nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)
_CALLBACKS = "after_commit"
_UNDO = "after_rollback"


def after_commit(session: Session, callback: Callable[[], object], key: str | None = None) -> None:
    """Run ``callback`` once the current transaction has committed (never if it rolls back).
    A ``key`` registers the callback once per transaction (the last one registered wins)."""
    callbacks = session.info.setdefault(_CALLBACKS, {})
    callbacks[key or object()] = callback


def after_rollback(session: Session, callback: Callable[[], object]) -> None:
    """Run ``callback`` if the current transaction rolls back (never if it commits): undo what
    the database cannot, such as files written for rows that will not exist."""
    session.info.setdefault(_UNDO, []).append(callback)


@event.listens_for(Session, "after_commit")
def _run_callbacks(session: Session) -> None:
    session.info.pop(_UNDO, None)
    callbacks = session.info.pop(_CALLBACKS, {})
    for callback in callbacks.values():
        try:
            callback()
        except Exception:  # noqa: BLE001 - the change is committed; the sweep is the safety net
            log.exception("after-commit callback failed")


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction) -> None:
    """Per-transaction state (callbacks of a rolled-back unit, caches) never outlives it."""
    if transaction.parent is None:
        session.info.pop(_CALLBACKS, None)
        for undo in session.info.pop(_UNDO, []):  # left only when the transaction rolled back
            try:
                undo()
            except Exception:  # noqa: BLE001
                log.exception("after-rollback callback failed")
        session.info.pop("staff_by_role", None)
        session.info.pop("new_notifications", None)


def discard(session: Session) -> None:
    """Throw away the unit's changes so far (a refused action whose form is shown again)."""
    session.rollback()


@contextmanager
def unit_of_work(session: Session | None = None, *, commit_on: tuple[type, ...] = ()) -> Iterator[Session]:
    """Commit once at the end of the block, or roll back on any exception (jobs, commands).
    Exceptions in ``commit_on`` are refusals that are themselves a record (a failed tracking
    attempt): what the block wrote is committed, then the exception goes on."""
    if session is None:
        from app.extensions import db

        session = db.session
    try:
        yield session
    except commit_on:
        session.commit()
        raise
    except BaseException:
        session.rollback()
        raise
    session.commit()


def run_request(dispatch: Callable[[], object]) -> object:
    """The request boundary: dispatch the view, then commit (or roll back on an exception)."""
    from app.extensions import db

    try:
        response = dispatch()
    except BaseException:
        db.session.rollback()
        raise
    if not db.session.is_active:
        # a flush failed and the view answered anyway (FAB's REST API turns some database
        # errors into a 4xx): its unit of work is lost, never committed half-done
        db.session.rollback()
        return response
    db.session.commit()
    return response
