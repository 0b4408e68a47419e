"""Reporters' files after the filing: the copy without hidden data is made in a job, the original
is opened only by those entitled to the reporter's identity, and nothing is left on disk that no
row refers to.

The filing saves the originals (checked by content, SHA-256 recorded) with the case, in the
request's unit of work, so the receipt is shown at once; each file is then ``pending``. Once the
unit commits, one ``clean_attachment`` job per file makes the staff copy (app.uploads /
app.scrub) and marks it ``clean``, or ``refused`` with the reason when the file cannot be
cleaned. Until then staff see that the file is being cleaned and cannot open it.

Nothing stays pending forever: each run of the job is counted before it starts (a run that kills
the worker — out of memory, SIGKILL — still counts); RQ retries a failed run; the sweep queues
again every file still pending STALE after it was queued; after MAX_ATTEMPTS runs the file is
refused ("could not be cleaned"). A copy is always written under the same generated name, so a
second run overwrites the first. Files of a unit that rolls back are removed by its
after-rollback callback; files left by a process killed mid-write (no callback ran) are removed
by ``reap_orphans`` once they are older than ORPHAN_AGE and no row refers to them.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select

from app import queue
from app.errors import NotAllowed, NotFound
from app.services import protection
from app.services.actor import Actor
from app.storage import TEMP_PREFIX, Store, area
from app.transaction import after_rollback
from app.uploads import (
    StoredFile,
    UploadRejected,
    is_generated_name,
    make_staff_copy,
    open_for_staff,
    open_original,
)
from app.workflow import N_
from models import Attachment, Case, IdentityAccess

log = logging.getLogger(__name__)

PENDING, CLEAN, REFUSED = "pending", "clean", "refused"
MAX_ATTEMPTS = 3
STALE = timedelta(minutes=15)  # longer than a cleaning job may run (JOB_SECONDS)
JOB_SECONDS = 600
RETRY_SECONDS = [30, 300]  # RQ runs a failed job again after these delays (MAX_ATTEMPTS in all)
ORPHAN_AGE = timedelta(hours=1)  # longer than any filing request takes to write its files
BATCH = 500

GAVE_UP = N_(
    "%(name)s: the hidden data of this file could not be removed (the cleaning failed several "
    "times), so it is not shown. The original is kept as evidence."
)
NOT_ENTITLED = N_("Only those entitled to see who filed this case may open the original files.")


def upload_store() -> Store:
    """Where reporters' files are kept (app/storage.py: UPLOAD_DIR, or the bucket's uploads/)."""
    return area("uploads")


def stored_file(attachment: Attachment) -> StoredFile:
    return StoredFile(
        stored_name=attachment.stored_name,
        staff_name=attachment.staff_name,
        original_name=attachment.original_name,
        content_type=attachment.content_type,
        size=attachment.size,
        sha256=attachment.sha256,
    )


def refusal(attachment: Attachment) -> tuple[str, dict] | None:
    """(msgid, params) saying why a refused file has no staff copy."""
    if attachment.clean_state != REFUSED or not attachment.clean_error:
        return None
    error = attachment.clean_error
    return error.get("msgid") or GAVE_UP, {"name": attachment.original_name, **(error.get("params") or {})}


# --- making the staff copy ---------------------------------------------------------------------


def request_cleaning(session, attachments: list[Attachment], now: datetime) -> None:
    """Have the staff copies made: by the workers once the unit of work commits or, where no
    queue is configured (tests, one-process tools), right away in this unit."""
    if not attachments:
        return
    session.flush()  # the ids
    for attachment in attachments:
        if queue.enabled():
            _queue(session, attachment, now)
        else:
            clean_now(session, attachment, now)


def _queue(session, attachment: Attachment, now: datetime) -> None:
    from rq import Retry

    attachment.clean_queued_at = now
    queue.enqueue_after_commit(
        session,
        "clean_attachment",
        attachment.id,
        job_id=f"clean-attachment-{attachment.id}",
        job_timeout=JOB_SECONDS,
        retry=Retry(max=len(RETRY_SECONDS), interval=RETRY_SECONDS),
    )


def clean_now(session, attachment: Attachment, now: datetime) -> str:
    """All steps in the caller's unit of work (no queue). An unexpected failure leaves the file
    pending for the sweep instead of failing the caller."""
    stored = begin_cleaning(session, attachment.id, now)
    if stored is None:
        return attachment.clean_state
    try:
        outcome = make_copy(stored)
    except Exception:  # noqa: BLE001 - counted; the sweep tries again
        log.exception("cleaning attachment %s failed", attachment.id)
        return PENDING
    return finish_cleaning(session, attachment.id, outcome, now)


def begin_cleaning(session, attachment_id: int, now: datetime) -> StoredFile | None:
    """Count this run (committed before the work starts, so a run that kills the worker counts
    too) and return the file to clean; None when there is nothing to do."""
    attachment = session.get(Attachment, attachment_id)
    if attachment is None or attachment.clean_state != PENDING:
        return None
    if attachment.clean_attempts >= MAX_ATTEMPTS:
        _refuse(attachment, GAVE_UP, {}, now)
        session.flush()
        return None
    attachment.clean_attempts += 1
    session.flush()
    return stored_file(attachment)


def make_copy(stored: StoredFile) -> str | UploadRejected:
    """The file work, outside any transaction: the staff copy's name, or the refusal when the
    file cannot be cleaned. Anything else (a tool missing or killed) is raised: a retry."""
    try:
        return make_staff_copy(upload_store(), stored)
    except UploadRejected as refused:
        return refused


def finish_cleaning(session, attachment_id: int, outcome: str | UploadRejected, now: datetime) -> str:
    """Record the outcome of ``make_copy``; a copy no row will refer to is removed."""
    attachment = session.get(Attachment, attachment_id)
    if isinstance(outcome, UploadRejected):
        if attachment is not None and attachment.clean_state == PENDING:
            params = {k: v for k, v in outcome.params.items() if k != "name"}
            _refuse(attachment, outcome.msgid, params, now)
            session.flush()
        return REFUSED
    if attachment is None or attachment.clean_state == REFUSED:
        _remove(outcome)  # the file or its case is gone, or it was given up meanwhile
        return "gone" if attachment is None else REFUSED
    if attachment.clean_state == CLEAN:
        return CLEAN  # another run finished first (the same name, the same bytes)
    after_rollback(session, lambda: _remove(outcome))
    attachment.staff_name, attachment.clean_state = outcome, CLEAN
    attachment.clean_error, attachment.cleaned_at = None, now
    session.flush()
    return CLEAN


def _refuse(attachment: Attachment, msgid: str, params: dict, now: datetime) -> None:
    attachment.clean_state, attachment.cleaned_at = REFUSED, now
    attachment.clean_error = {"msgid": msgid, "params": {k: str(v) for k, v in params.items()}}
    log.warning("attachment %s refused: %s", attachment.id, msgid)


def _remove(name: str) -> None:
    upload_store().delete(name)


# --- the sweep's part ------------------------------------------------------------------------


def sweep_pending(session, now: datetime) -> int:
    """Queue again the files still pending STALE after they were queued (a job lost with
    Redis, a worker killed) and give up on those tried MAX_ATTEMPTS times."""
    rows = (
        session.execute(
            select(Attachment)
            .where(
                Attachment.clean_state == PENDING,
                or_(Attachment.clean_queued_at.is_(None), Attachment.clean_queued_at < now - STALE),
            )
            .order_by(Attachment.id)
            .limit(BATCH)
            .with_for_update(skip_locked=True)
        )
        .scalars()
        .all()
    )
    for attachment in rows:
        if attachment.clean_attempts >= MAX_ATTEMPTS:
            _refuse(attachment, GAVE_UP, {}, now)
        elif queue.enabled():
            _queue(session, attachment, now)
        else:
            clean_now(session, attachment, now)
    session.flush()
    return len(rows)


def reap_orphans(session, now: datetime, *, min_age: timedelta = ORPHAN_AGE) -> int:
    """Remove what a killed process left in the upload store: half-written temporary files
    (local folders only: an object store never shows a half-written object) and generated files
    no attachment refers to, once older than ``min_age`` (a filing still writing its files is
    younger). The store is walked a page at a time (app/storage.py: ``STORAGE_PAGE_SIZE``
    names), each page's names checked against the attachments in one query, so that the
    listing is never held whole. Returns the number of files removed."""
    store = upload_store()
    cutoff = (now - min_age).replace(tzinfo=UTC).timestamp()  # naive UTC, as everywhere
    removed = 0
    for page in store.pages():
        candidates = []
        for entry in page:
            if entry.modified >= cutoff:
                continue
            if entry.name.startswith(TEMP_PREFIX):
                store.delete(entry.name)
                removed += 1
            elif is_generated_name(entry.name):
                candidates.append(entry.name)
        removed += _reap_unreferenced(session, store, candidates)
    if removed:
        log.warning("removed %d orphan upload files", removed)
    return removed


def _reap_unreferenced(session, store: Store, names: list[str]) -> int:
    """Delete those of ``names`` (one page of the listing) that no attachment refers to."""
    if not names:
        return 0
    referenced = set()
    for stored_name, staff_name in session.execute(
        select(Attachment.stored_name, Attachment.staff_name).where(
            or_(Attachment.stored_name.in_(names), Attachment.staff_name.in_(names))
        )
    ):
        referenced |= {stored_name, staff_name}
    removed = 0
    for name in names:
        if name not in referenced:
            store.delete(name)
            removed += 1
    return removed


# --- the original (evidence) ---------------------------------------------------------------------


def open_original_file(session, case: Case, attachment_id: int, *, actor: Actor, now: datetime):
    """(file, attachment): a file's untouched original (a local path or the checked bytes, for
    ``send_file``) for someone entitled to the reporter's identity (it may carry the reporter's
    name, device and position), after checking its SHA-256; every opening is recorded like a
    look at the identity."""
    attachment = next((a for a in case.attachments if a.id == attachment_id), None)
    if attachment is None:
        raise NotFound(N_("This file does not exist."))
    if not protection.can_see_identity(case, actor):
        raise NotAllowed(NOT_ENTITLED)
    path = open_original(upload_store(), stored_file(attachment))
    session.add(
        IdentityAccess(
            case_id=case.id, actor_id=actor.id, actor_name=actor.name, at=now, purpose="original_file"
        )
    )
    from app.services import audit

    audit.record(
        session,
        "original_file_view",
        actor=actor,
        now=now,
        subject=case.number or str(case.id),
        details={"attachment": attachment.id, "sha256": attachment.sha256},
    )
    session.flush()
    return path, attachment


def open_staff_copy(attachment: Attachment):
    """The staff copy of a clean file for ``send_file`` (a local path or a stream from the
    object store); NotFound when there is none."""
    return open_for_staff(upload_store(), staff_copy_name(attachment) or "")


def staff_copy_name(attachment: Attachment) -> str | None:
    """The staff copy's name once the file is clean (else None: staff cannot open it)."""
    return attachment.staff_name if attachment.clean_state == CLEAN else None
