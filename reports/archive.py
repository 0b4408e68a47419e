"""Generate an archived report: the services gather the data, the builders render it, the
files go to the report archive. Runs in a job; inline only where no queue is configured."""

from __future__ import annotations

import hashlib
import traceback

from flask import current_app

from app import clock, queue
from app.errors import NotFound
from app.services.reports import report_dir
from app.transaction import unit_of_work
from app.workflow import N_
from models import GeneratedReport


def start(session, report_id: int) -> str:
    """Generate in a job once the request commits; without a queue, right away."""
    if queue.enabled():
        queue.enqueue_after_commit(
            session,
            "generate_report",
            report_id,
            job_id=f"report-{report_id}",
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
    name = f"{report.kind}-{report.period_label}-{report.id}"
    try:
        files = builders.build_files(session, report)
        for fmt, content in files.items():
            (report_dir() / f"{name}.{fmt}").write_bytes(content)
        report.file_name, report.state, report.error = name, "done", None
        report.pages = _page_count(report_dir() / f"{name}.pdf")
        report.pdf_sha256 = hashlib.sha256(files["pdf"]).hexdigest()
    except Exception as error:  # noqa: BLE001 - recorded for the archive screen
        report.state, report.error = "failed", (type(error).__name__ + ": " + str(error))[:500]
        current_app.logger.error("report %s failed: %s", report_id, traceback.format_exc())
    report.finished_at = clock.utcnow()
    session.flush()
    return report


def _page_count(path) -> int | None:
    """Pages of a PDF as pdfinfo (poppler-utils, installed by the setup) reports them."""
    import re
    import subprocess

    try:
        out = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"^Pages:\s+(\d+)", out.stdout, re.M)
    return int(match[1]) if match else None
