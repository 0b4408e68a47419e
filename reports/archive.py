"""Generate an archived report: the services gather the data, the builders render it, the
files go to the report archive. Runs in a job; inline only where no queue is configured."""

from __future__ import annotations

import hashlib
import traceback

from flask import current_app
from sqlalchemy import update

from app import clock, queue
from app.errors import NotFound
from app.services.reports import report_store
from app.transaction import unit_of_work
from app.workflow import N_
from models import GeneratedReport


def start(session, report_id: int) -> str:
    """Generate in a job once the request commits; without a queue, right away. Each edit of a
    bulletin is its own job (an edit made while the previous one renders is not folded into it)."""
    if queue.enabled():
        report = session.get(GeneratedReport, report_id)
        version = _version(report.edited_at) if report is not None else "0"
        queue.enqueue_after_commit(
            session,
            "generate_report",
            report_id,
            job_id=f"report-{report_id}-{version}",
            job_timeout=1800,
            fallback=lambda: _generate_in_own_unit(report_id),
        )
        return "queued"
    generate(session, report_id)
    return "done"


def _generate_in_own_unit(report_id: int) -> None:
    with current_app.app_context(), unit_of_work() as session:
        generate(session, report_id)


def generate(session, report_id: int) -> GeneratedReport:
    """Build the report's data with set-based queries, render it, archive the files (again,
    over the earlier ones, after a bulletin's edit: the edit queues it)."""
    from reports import builders

    report = session.get(GeneratedReport, report_id)
    if report is None:
        raise NotFound(N_("Report not found."))
    if report.state == "done":
        return report  # a job run twice does nothing twice
    # The texts this run renders are those of the edit it was started for; if another edit
    # comes while it renders, its result is dropped (that edit's own job renders again), so a
    # bulletin is "done" only with a PDF of its latest texts, and only that one is published.
    edited_at = report.edited_at
    values: dict = {"finished_at": clock.utcnow()}
    try:
        files = builders.build_files(session, report)
        sha256 = hashlib.sha256(files["pdf"]).hexdigest()
        # Files named by their content: an earlier version stays whole until the row points here.
        name = f"{report.kind}-{report.period_label}-{report.id}-{sha256[:12]}"
        store = report_store()
        for fmt, content in files.items():
            store.put(f"{name}.{fmt}", content)  # whole or nothing, on every host's store
        values.update(
            file_name=name, state="done", error=None, pages=page_count(files["pdf"]), pdf_sha256=sha256
        )
    except Exception as error:  # noqa: BLE001 - recorded for the archive screen
        values.update(state="failed", error=(type(error).__name__ + ": " + str(error))[:500])
        current_app.logger.error("report %s failed: %s", report_id, traceback.format_exc())
    session.execute(
        update(GeneratedReport)
        .where(
            GeneratedReport.id == report_id,
            GeneratedReport.state != "done",
            GeneratedReport.edited_at.is_(None)
            if edited_at is None
            else GeneratedReport.edited_at == edited_at,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    session.expire(report)
    return session.get(GeneratedReport, report_id)


def _version(edited_at) -> str:
    """The job id's suffix of a report's texts as last edited."""
    return "0" if edited_at is None else edited_at.strftime("%Y%m%d%H%M%S%f")


def page_count(pdf: bytes) -> int | None:
    """Pages of a rendered PDF, read from its bytes (pikepdf: no file, no subprocess)."""
    import io

    import pikepdf

    try:
        with pikepdf.open(io.BytesIO(pdf)) as document:
            return len(document.pages)
    except (pikepdf.PdfError, ValueError):
        return None
