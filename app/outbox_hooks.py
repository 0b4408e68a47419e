"""Hand new outbox messages to the workers right after the transaction that wrote them commits
(never before: a rolled-back change sends nothing). The sweep is the safety net."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session

_installed = set()


@event.listens_for(Session, "after_transaction_end")
def _forget_caches(session, transaction):
    """Per-transaction caches (e.g. who to notify) never outlive their transaction."""
    if transaction.parent is None:
        session.info.pop("staff_by_role", None)
        if not _installed:
            session.info.pop("new_notifications", None)


def install(app) -> None:
    if not app.config.get("ENQUEUE_AFTER_COMMIT") or "enqueue" in _installed:
        return
    _installed.add("enqueue")

    @event.listens_for(Session, "after_commit")
    def enqueue(session):
        ids = session.info.pop("new_notifications", set())
        if ids:
            from jobs.tasks import enqueue_deliveries

            enqueue_deliveries(sorted(ids))

    @event.listens_for(Session, "after_rollback")
    def forget(session):
        session.info.pop("new_notifications", None)
