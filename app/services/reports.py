"""Generated reports: request one for a period, generate it in a job (never in a request),
archive the files with who asked and when, publish bulletins."""

from __future__ import annotations

import re
import traceback
from datetime import datetime
from pathlib import Path

from flask import current_app

from app import clock
from app.errors import Invalid, NotAllowed, NotFound
from app.publication import ReportKind
from app.services.actor import SYSTEM, Actor
from app.workflow import N_, Role
from models import GeneratedReport


def parse_period(text: str | None):
    """'2026-10' (month), '2026-Q3' (quarter) or '2026' (year) as an assessment Period."""
    from app.services.assessment import Period

    text = (text or "").strip().upper()
    if m := re.fullmatch(r"(\d{4})-(\d{1,2})", text):
        year, month = int(m[1]), int(m[2])
        if 1 <= month <= 12:
            return Period.month(year, month)
    if m := re.fullmatch(r"(\d{4})-?Q([1-4])", text):
        return Period.quarter(int(m[1]), int(m[2]))
    if re.fullmatch(r"\d{4}", text):
        return Period.year(int(text))
    raise Invalid(N_("Give the period as 2026-10 (month), 2026-Q3 (quarter) or 2026 (year)."))


def request_report(session, *, actor: Actor, now: datetime, kind, period) -> GeneratedReport:
    if not actor.roles & {Role.LEADER, Role.SUPERVISOR, Role.ADMIN} and actor is not SYSTEM:
        raise NotAllowed(N_("Only leaders and the supervisor's office generate reports."))
    try:
        kind = ReportKind(kind)
    except ValueError:
        raise Invalid(N_("Choose the monthly bulletin or the assessment report.")) from None
    period = parse_period(period)
    report = GeneratedReport(kind=kind, period_label=period.label, period_start=period.start,
                             period_end=period.end, state="queued", requested_at=now,
                             requested_by_id=actor.id, requested_by_name=actor.name)
    session.add(report)
    session.flush()
    return report


def start(report_id: int) -> str:
    """Generate in a job; without a queue (tests, a broken Redis) generate right away."""
    from jobs import tasks

    if current_app.config.get("ENQUEUE_AFTER_COMMIT"):
        try:
            tasks.queue().enqueue(tasks.generate_report, report_id, job_timeout=1800,
                                  job_id=f"report-{report_id}")
            return "queued"
        except Exception:  # noqa: BLE001 - fall back to doing it now
            pass
    tasks.generate_report(report_id)
    return "done"


def report_dir() -> Path:
    path = Path(current_app.config["REPORT_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def report_file(report: GeneratedReport, fmt: str) -> Path | None:
    if not report.file_name:
        return None
    path = report_dir() / f"{report.file_name}.{fmt}"
    return path if path.is_file() else None


def generate(session, report_id: int) -> GeneratedReport:
    """Build the report's data with set-based queries, render it, archive the files."""
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
    except Exception as error:  # noqa: BLE001 - recorded for the archive screen
        report.state, report.error = "failed", (type(error).__name__ + ": " + str(error))[:500]
        current_app.logger.error("report %s failed: %s", report_id, traceback.format_exc())
    report.finished_at = clock.utcnow()
    session.flush()
    return report


def _page_count(path: Path) -> int | None:
    """Pages of a PDF as pdfinfo (poppler-utils, installed by the setup) reports them."""
    import subprocess

    try:
        out = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"^Pages:\s+(\d+)", out.stdout, re.M)
    return int(match[1]) if match else None


def publish(session, report_id: int, *, actor: Actor) -> GeneratedReport:
    if not actor.roles & {Role.LEADER}:
        raise NotAllowed(N_("Only a leader publishes a bulletin."))
    report = session.get(GeneratedReport, report_id)
    if report is None or report.kind != ReportKind.BULLETIN or report.state != "done":
        raise NotFound(N_("Report not found."))
    report.published = True
    session.flush()
    return report
