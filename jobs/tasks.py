"""The jobs. Each is idempotent: running one twice has no second effect."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from datetime import timedelta

from flask import current_app, has_app_context

from app import clock

log = logging.getLogger(__name__)
_app = None


@contextmanager
def app_context():
    """Use the current app (tests) or build one once per worker process."""
    global _app
    if has_app_context():
        yield current_app
        return
    if _app is None:
        from app.factory import create_app

        _app = create_app()
    with _app.app_context():
        yield _app


def sweep() -> dict:
    """Run the periodic sweep, then hand pending outbox messages to the delivery jobs."""
    from app.extensions import db
    from app.services.sweep import pending_notifications, run_sweep

    with app_context():
        now = clock.utcnow()
        done = run_sweep(db.session, now)
        db.session.commit()
        pending = pending_notifications(db.session, now)
        enqueue_deliveries(pending)
        log.info("sweep: %s, %d messages to deliver", done, len(pending))
        return {**done, "to_deliver": len(pending)}


def deliver(notification_id: int) -> str:
    """Deliver one outbox message (at least once; seen once thanks to its key)."""
    from app.extensions import db
    from app.services.delivery import deliver as deliver_one

    with app_context():
        status = deliver_one(db.session, notification_id, clock.utcnow())
        db.session.commit()
        return status


def recompute_deadlines() -> int:
    """Recompute open deadlines after the calendar, a policy or a setting changed."""
    from app.extensions import db
    from app.services.cases import recompute_open_deadlines

    with app_context():
        count = recompute_open_deadlines(db.session)
        db.session.commit()
        return count


def weekly_sample() -> int:
    """Sample last week's closed cases for quality revisits (Monday, Asia/Shanghai)."""
    from app.extensions import db
    from app.services.sweep import sample_closed_cases

    with app_context():
        now = clock.utcnow()
        today = clock.local_date(now)
        monday = today - timedelta(days=today.weekday())
        # Monday 00:00 Beijing time, as naive UTC.
        week_start = clock.end_of_local_day_utc(monday - timedelta(days=1)) + timedelta(seconds=1)
        added = sample_closed_cases(db.session, week_start=week_start, now=now)
        db.session.commit()
        return added


def queue():
    """The default queue on REDIS_URL (None when Redis cannot be reached)."""
    from redis import Redis
    from rq import Queue

    with app_context() as app:
        return Queue("default", connection=Redis.from_url(app.config["REDIS_URL"]))


def enqueue_deliveries(ids) -> int:
    """Hand messages to the workers; if Redis is down the next sweep will do it."""
    if not ids:
        return 0
    try:
        q = queue()
        for notification_id in ids:
            q.enqueue(deliver, notification_id, job_id=f"deliver-{notification_id}",
                      result_ttl=3600, failure_ttl=86400)
        return len(ids)
    except Exception as error:  # noqa: BLE001 - Redis holds only work in flight
        log.warning("could not enqueue deliveries (%s); the next sweep retries", error)
        return 0


def request_recompute() -> str:
    """After a calendar, policy or setting edit: recompute open deadlines in a job, or right
    away when no queue is configured or reachable (the change must never be lost)."""
    from app.extensions import db
    from app.services.cases import recompute_open_deadlines

    if current_app.config.get("ENQUEUE_AFTER_COMMIT"):
        try:
            queue().enqueue(recompute_deadlines, job_id="recompute-deadlines", job_timeout=1800)
            return "queued"
        except Exception as error:  # noqa: BLE001
            log.warning("recompute job not queued (%s); recomputing now", error)
    recompute_open_deadlines(db.session)
    db.session.commit()
    return "done"


def generate_report(report_id: int) -> str:
    """Render an archived bulletin or assessment report (PDFs are made in jobs only)."""
    from app.extensions import db
    from app.services.reports import generate

    with app_context():
        report = generate(db.session, report_id)
        db.session.commit()
        return report.state


def monthly_bulletin() -> int:
    """On the 1st of each month: the bulletin and the assessment of the previous month."""
    from app.extensions import db
    from app.services.actor import SYSTEM
    from app.services.reports import request_report

    with app_context():
        today = clock.local_date(clock.utcnow())
        year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
        ids = []
        for kind in ("bulletin", "assessment"):
            report = request_report(db.session, actor=SYSTEM, now=clock.utcnow(), kind=kind,
                                    period=f"{year}-{month:02d}")
            ids.append(report.id)
        db.session.commit()
        for report_id in ids:
            generate_report(report_id)
        return len(ids)
