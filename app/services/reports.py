"""Generated reports: request one for a period, generate it in a job (never in a request),
archive the files with who asked and when, publish bulletins."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from flask import current_app

from app.errors import Invalid, NotAllowed, NotFound
from app.publication import ReportKind
from app.services.actor import SYSTEM, Actor
from app.workflow import N_, Role
from models import GeneratedReport


def parse_period(text: str | None):
    """'2026-10' (month), '2026-Q3' (quarter) or '2026' (year) as an assessment Period."""
    from app.services.assessment import Period

    text = (text or "").strip().upper()
    try:
        if m := re.fullmatch(r"(\d{4})-(\d{1,2})", text):
            year, month = int(m[1]), int(m[2])
            if 1 <= month <= 12:
                return Period.month(year, month)
        if m := re.fullmatch(r"(\d{4})-?Q([1-4])", text):
            return Period.quarter(int(m[1]), int(m[2]))
        if re.fullmatch(r"\d{4}", text):
            return Period.year(int(text))
    except (ValueError, OverflowError):  # year 0000 or 9999: no such dates
        pass
    raise Invalid(N_("Give the period as 2026-10 (month), 2026-Q3 (quarter) or 2026 (year)."))


def request_report(session, *, actor: Actor, now: datetime, kind, period) -> GeneratedReport:
    if not actor.roles & {Role.LEADER, Role.SUPERVISOR, Role.ADMIN} and actor is not SYSTEM:
        raise NotAllowed(N_("Only leaders and the supervisor's office generate reports."))
    try:
        kind = ReportKind(kind)
    except ValueError:
        raise Invalid(N_("Choose the monthly bulletin or the assessment report.")) from None
    period = parse_period(period)
    report = GeneratedReport(
        kind=kind,
        period_label=period.label,
        period_start=period.start,
        period_end=period.end,
        state="queued",
        requested_at=now,
        requested_by_id=actor.id,
        requested_by_name=actor.name,
    )
    session.add(report)
    session.flush()
    return report


def report_dir() -> Path:
    path = Path(current_app.config["REPORT_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def report_file(report: GeneratedReport, fmt: str) -> Path | None:
    if not report.file_name:
        return None
    path = report_dir() / f"{report.file_name}.{fmt}"
    return path if path.is_file() else None


def publish(session, report_id: int, *, actor: Actor) -> GeneratedReport:
    if not actor.roles & {Role.LEADER}:
        raise NotAllowed(N_("Only a leader publishes a bulletin."))
    report = session.get(GeneratedReport, report_id)
    if report is None or report.kind != ReportKind.BULLETIN or report.state != "done":
        raise NotFound(N_("Report not found."))
    report.published = True
    session.flush()
    return report
