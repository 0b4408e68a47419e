"""The jobs. Each takes ids, runs one unit of work (app.transaction) in a session of its own,
and is idempotent: running one twice has no second effect."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from datetime import timedelta

from flask import current_app, has_app_context

from app import clock
from app.transaction import unit_of_work

log = logging.getLogger(__name__)
_app = None


@contextmanager
def app_context():
    """Run in an app context of the job's own (so a session of its own, as in a worker):
    of the current app when there is one (tests, a request), else of one built per process."""
    global _app
    if has_app_context():
        application = current_app._get_current_object()
        with application.app_context():
            yield application
        return
    if _app is None:
        from app.factory import create_app

        _app = create_app()
    with _app.app_context():
        yield _app


@contextmanager
def job():
    """One job: its own app context and session, one unit of work."""
    with app_context(), unit_of_work() as session:
        yield session


def sweep() -> dict:
    """Run the periodic sweep, then hand pending outbox messages to the delivery jobs."""
    from app.services.sweep import pending_notifications, run_sweep

    with job() as session:
        now = clock.utcnow()
        done = run_sweep(session, now)
    with job() as session:
        pending = pending_notifications(session, now)
    queued = enqueue_deliveries(pending)
    log.info("sweep: %s, %d messages to deliver (%d queued)", done, len(pending), queued)
    return {**done, "to_deliver": len(pending)}


def refresh_kpis() -> int:
    """Recompute the rollups' stale rows (the KPI's (department, month) pairs, the case
    figures' months), so readers rarely compute, and build one month of each a migrated
    database has not built yet (the latest first)."""
    from app.services import case_figures
    from app.services.assessment import build_rollup, refresh_rollup

    with job() as session:
        now = clock.utcnow()
        kpis = refresh_rollup(session, now=now) + build_rollup(session, now=now, limit=1)
    with job() as session:
        now = clock.utcnow()
        return kpis + case_figures.refresh(session, now=now) + case_figures.build(session, now=now, limit=1)


def evaluate_warnings() -> int:
    """Run the active early-warning models over their current and previous periods (idempotent)."""
    from app.services.early_warnings import evaluate

    with job() as session:
        raised = evaluate(session, now=clock.utcnow())
    log.info("early warnings: %d raised", len(raised))
    return len(raised)


def deliver(notification_id: int) -> str:
    """Deliver one outbox message (at least once; seen once thanks to its key)."""
    from app.services.delivery import deliver as deliver_one

    with job() as session:
        return deliver_one(session, notification_id, clock.utcnow())


def recompute_deadlines() -> int:
    """Recompute open deadlines after the calendar, a policy or a setting changed."""
    from app.services.cases import recompute_open_deadlines

    with job() as session:
        return recompute_open_deadlines(session)


def weekly_sample() -> int:
    """Sample last week's closed cases for quality revisits (Monday, Asia/Shanghai)."""
    from app.services.sweep import sample_closed_cases

    with job() as session:
        now = clock.utcnow()
        today = clock.local_date(now)
        monday = today - timedelta(days=today.weekday())
        # Monday 00:00 Beijing time, as naive UTC.
        week_start = clock.end_of_local_day_utc(monday - timedelta(days=1)) + timedelta(seconds=1)
        return sample_closed_cases(session, week_start=week_start, now=now)


def enqueue_deliveries(ids) -> int:
    """Hand messages to the workers; if Redis is down the next sweep will do it."""
    from app.services.notifications import hand_to_workers

    with app_context():
        return hand_to_workers(ids)


def clean_attachment(attachment_id: int) -> str:
    """Make the staff copy of one file without its hidden data (app.services.attachments):
    the run is counted and committed first, the file work runs outside any transaction, the
    outcome is recorded in a unit of its own. A failure raises, and RQ or the sweep retries."""
    from app.services import attachments

    with job() as session:
        stored = attachments.begin_cleaning(session, attachment_id, clock.utcnow())
    if stored is None:
        return "nothing to do"
    with app_context():
        outcome = attachments.make_copy(stored)
    with job() as session:
        return attachments.finish_cleaning(session, attachment_id, outcome, clock.utcnow())


def reap_uploads() -> int:
    """Hourly: remove upload files a killed process left behind (no row refers to them)."""
    from app.services.attachments import reap_orphans

    with job() as session:
        return reap_orphans(session, clock.utcnow())


def generate_report(report_id: int) -> str:
    """Render an archived bulletin or assessment report (PDFs are made in jobs only)."""
    from reports.archive import generate

    with job() as session:
        return generate(session, report_id).state


def render_notices(notice_ids) -> int:
    """Render the issued PDF of each notice from its frozen document, once (a notice rendered
    already is left as it is); each in a unit of its own, so one failure keeps the others."""
    from reports.notice_files import ensure_pdf

    done = 0
    for notice_id in notice_ids:
        try:
            with job() as session:
                ensure_pdf(session, notice_id)
            done += 1
        except Exception:  # noqa: BLE001 - rendered at its first download instead
            log.exception("notice %s: PDF not rendered", notice_id)
    return done


def monthly_bulletin() -> int:
    """On the 1st of each month: every office's bulletin and assessment of the previous month."""
    from app.services.actor import SYSTEM
    from app.services.reports import office_choices, request_report

    with job() as session:
        today = clock.local_date(clock.utcnow())
        year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
        ids = [
            request_report(
                session,
                actor=SYSTEM,
                now=clock.utcnow(),
                kind=kind,
                period=f"{year}-{month:02d}",
                jurisdiction_id=office.id,
            ).id
            for office in office_choices(session, SYSTEM)
            for kind in ("bulletin", "assessment")
        ]
    for report_id in ids:
        generate_report(report_id)
    return len(ids)
