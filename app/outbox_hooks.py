"""Hand new outbox messages to the workers right after the transaction that wrote them commits
(never before: a rolled-back change sends nothing). The sweep is the safety net."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session


def install(app) -> None:
    if not app.config.get("ENQUEUE_AFTER_COMMIT"):
        return

    @event.listens_for(Session, "after_flush")
    def collect(session, flush_context):
        from models import Notification

        ids = session.info.setdefault("new_notifications", set())
        ids.update(o.id for o in session.new if isinstance(o, Notification))

    @event.listens_for(Session, "after_commit")
    def enqueue(session):
        ids = session.info.pop("new_notifications", set())
        if ids:
            from jobs.tasks import enqueue_deliveries

            enqueue_deliveries(sorted(ids))

    @event.listens_for(Session, "after_rollback")
    def forget(session):
        session.info.pop("new_notifications", None)
