"""Generated reports: request one for a period, generate it in a job (never in a request),
archive the files with who asked and when, publish bulletins. Each office has its own: a report
is issued by one jurisdiction's office and is seen within that jurisdiction's scope."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from app.errors import Invalid, NotAllowed, NotFound
from app.ids import as_id
from app.publication import ReportKind
from app.services import jurisdictions
from app.services.actor import SYSTEM, Actor
from app.workflow import N_, Role
from models import GeneratedReport, Jurisdiction


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


def reports_clause(actor: Actor):
    """The archived reports an office sees: those of its jurisdiction and of the ones under it
    (a report of no jurisdiction is the root's)."""
    return jurisdictions.scope_clause(GeneratedReport.jurisdiction_id, actor)


def issuer_of(session, report: GeneratedReport):
    """The office a report is issued by and whose cases it covers."""
    return report.jurisdiction or jurisdictions.get(session, report.jurisdiction_id)


def report_for(session, report_id, actor: Actor) -> GeneratedReport:
    """A report of the actor's scope (any other is not found: a county cannot open its city's)."""
    report_id = as_id(report_id)
    report = (
        session.execute(
            select(GeneratedReport).where(GeneratedReport.id == report_id, reports_clause(actor))
        ).scalar()
        if report_id is not None
        else None
    )
    if report is None:
        raise NotFound(N_("Report not found."))
    return report


def office_choices(session, actor: Actor) -> list:
    """The offices a report may be generated for: the actor's own and those under it."""
    return list(
        session.execute(
            select(Jurisdiction)
            .where(Jurisdiction.active.is_(True), jurisdictions.scope_clause(Jurisdiction.id, actor))
            .order_by(Jurisdiction.path)
        ).scalars()
    )


def request_report(
    session, *, actor: Actor, now: datetime, kind, period, jurisdiction_id=None
) -> GeneratedReport:
    """Queue a bulletin or an assessment report of an office: the actor's own (the root's for
    the system) or one under it (``jurisdiction_id``), issued in that office's name."""
    if not actor.roles & {Role.LEADER, Role.SUPERVISOR, Role.ADMIN} and actor is not SYSTEM:
        raise NotAllowed(N_("Only leaders and the supervisor's office generate reports."))
    try:
        kind = ReportKind(kind)
    except ValueError:
        raise Invalid(N_("Choose the monthly bulletin or the assessment report.")) from None
    period = parse_period(period)
    if jurisdiction_id in (None, ""):
        office = jurisdictions.get(session, actor.jurisdiction_id)
    else:
        wanted = as_id(jurisdiction_id)
        office = session.get(Jurisdiction, wanted) if wanted is not None else None
        if (
            office is None
            or not office.active
            or not jurisdictions.is_within(office, actor.jurisdiction_path)
        ):
            raise Invalid(N_("Choose your own office or one under it."))
    report = GeneratedReport(
        jurisdiction_id=office.id,
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
    """A leader of the issuing office publishes its bulletin (an upper office does not publish
    in a lower one's name)."""
    if not actor.roles & {Role.LEADER}:
        raise NotAllowed(N_("Only a leader publishes a bulletin."))
    report = report_for(session, report_id, actor)
    if report.kind != ReportKind.BULLETIN or report.state != "done":
        raise NotFound(N_("Report not found."))
    if not jurisdictions.is_own(actor, issuer_of(session, report)):
        raise NotAllowed(N_("Only a leader of the issuing office publishes its bulletin."))
    report.published = True
    session.flush()
    return report
