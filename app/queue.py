"""Hand work to the RQ workers by job name: ``app/`` and ``views/`` never import ``jobs/``.

Jobs are enqueued only after the unit of work that asked for them commits. Redis holds only
work in flight: when it cannot be reached the caller decides (do it now, or let the sweep).
"""

from __future__ import annotations

import logging

from flask import current_app

from app.transaction import after_commit

log = logging.getLogger(__name__)

JOBS = frozenset(
    {
        "sweep",
        "deliver",
        "recompute_deadlines",
        "weekly_sample",
        "generate_report",
        "monthly_bulletin",
        "clean_attachment",
        "render_notices",
    }
)


def enabled() -> bool:
    """Whether this process hands work to workers (off in tests and one-process tools)."""
    return bool(current_app.config.get("ENQUEUE_AFTER_COMMIT"))


def connection():
    from redis import Redis

    return Redis.from_url(current_app.config["REDIS_URL"])


def default_queue():
    """The default queue on REDIS_URL."""
    from rq import Queue

    return Queue("default", connection=connection())


def enqueue(name: str, *args, job_id: str | None = None, **options) -> bool:
    """Put job ``name`` (a function of jobs.tasks) on the queue; False when Redis is down."""
    if name not in JOBS:
        raise KeyError(name)
    try:
        default_queue().enqueue(f"jobs.tasks.{name}", *args, job_id=job_id, **options)
        return True
    except Exception as error:  # noqa: BLE001 - Redis holds only work in flight
        log.warning("job %s not queued (%s)", name, error)
        return False


def waiting(job_ids) -> set[str]:
    """The ids among ``job_ids`` whose job is already queued or running (one round trip; empty
    when Redis is down: then nothing is skipped and nothing is lost)."""
    from rq.job import Job, JobStatus

    job_ids = list(job_ids)
    if not job_ids:
        return set()
    try:
        jobs = Job.fetch_many(job_ids, connection=default_queue().connection)
    except Exception as error:  # noqa: BLE001 - Redis holds only work in flight
        log.warning("job states not read (%s)", error)
        return set()
    busy = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED}
    return {job.id for job in jobs if job is not None and job.get_status(refresh=False) in busy}


def enqueue_after_commit(
    session, name: str, *args, job_id: str | None = None, fallback=None, **options
) -> None:
    """Enqueue once the session's transaction commits; if Redis is down then, run
    ``fallback`` (e.g. do the work now in a unit of its own)."""

    def send():
        if not enqueue(name, *args, job_id=job_id, **options) and fallback is not None:
            fallback()

    after_commit(session, send, key=f"{name}:{job_id or args}")
