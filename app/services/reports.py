"""Generated reports: request one for a period, generate it in a job (never in a request),
archive the files with who asked and when, publish bulletins. Each office has its own: a report
is issued by one jurisdiction's office and is seen within that jurisdiction's scope."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.clock import local_date
from app.enums import DeptLevel
from app.errors import Invalid, NotAllowed, NotFound
from app.ids import as_id
from app.publication import ReportKind
from app.services import jurisdictions
from app.services.actor import SYSTEM, Actor
from app.services.bulk import dialect_insert
from app.storage import Store, area
from app.workflow import N_, Role
from models import GeneratedReport, Jurisdiction, ReportCounter


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


def report_for(session, report_id, actor: Actor, *, lock: bool = False) -> GeneratedReport:
    """A report of the actor's scope (any other is not found: a county cannot open its city's).
    ``lock``: the row stays locked until commit (an edit and a publication never interleave)."""
    report_id = as_id(report_id)
    query = select(GeneratedReport).where(GeneratedReport.id == report_id, reports_clause(actor))
    report = (
        session.execute(
            query.with_for_update(of=GeneratedReport).execution_options(populate_existing=True)
            if lock
            else query
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
    earlier = session.execute(
        select(GeneratedReport)
        .where(
            GeneratedReport.jurisdiction_id == office.id,
            GeneratedReport.kind == kind,
            GeneratedReport.period_start == period.start,
            GeneratedReport.period_end == period.end,
            GeneratedReport.issue_number.isnot(None),
        )
        .order_by(GeneratedReport.id.desc())
        .limit(1)
    ).scalar()
    if earlier is not None:  # a later draft of the same issue keeps its number and its lines
        year, number = earlier.issue_year, earlier.issue_number
        recipients, copy_to = earlier.recipients, earlier.copy_to
    else:
        year = local_date(period.start).year  # the period's year, not the request's
        number = take_issue_number(session, office.id, kind, series_of(period.label), year)
        recipients, copy_to = default_recipients(session, office), default_copy_to(session, office)
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
        issue_year=year,
        issue_number=number,
        recipients=recipients if kind == ReportKind.BULLETIN else None,
        copy_to=copy_to if kind == ReportKind.BULLETIN else None,
    )
    session.add(report)
    session.flush()
    return report


def series_of(label: str) -> str:
    """month, quarter or year, from a period's label (2026年11月, 2026年第3季度, 2026年度)."""
    if label.endswith("年度"):
        return "year"
    return "quarter" if label.endswith("季度") else "month"


def take_issue_number(session, jurisdiction_id: int, kind: str, series: str, year: int) -> int:
    """The next number of an office's series (kind, month/quarter/year) in a year: one upsert
    that locks the counter row until commit (no gaps, no duplicates under concurrent requests)."""
    insert = dialect_insert(session, ReportCounter)
    upsert = (
        insert.values(jurisdiction_id=jurisdiction_id, kind=str(kind), series=series, year=year, last=1)
        .on_conflict_do_update(
            index_elements=["jurisdiction_id", "kind", "series", "year"],
            set_={"last": ReportCounter.last + 1},
        )
        .returning(ReportCounter.last)
    )
    return session.execute(upsert).scalar_one()


_LOWER = {DeptLevel.PROVINCE: "各市营商环境主管部门", DeptLevel.CITY: "各县（市、区）营商环境主管部门"}


def default_recipients(session, office: Jurisdiction) -> str:
    """主送 proposed for an office's bulletin: its own government's departments, and its lower
    offices when it has some (one a line; the supervisor's office edits them)."""
    found = [f"{_level_word(office)}直各有关部门"]
    if jurisdictions.children(session, office.id):  # the lower offices first, as documents list them
        found.insert(0, _LOWER.get(office.level, "下级营商环境主管部门"))
    return "\n".join(found)


def _level_word(office: Jurisdiction) -> str:
    """省, 市, 县 or 区: how documents name the level's own departments (省直, 市直, 区直)."""
    if office.level == DeptLevel.PROVINCE:
        return "省"
    if office.level == DeptLevel.CITY:
        return "市"
    return "区" if office.name.endswith("区") else "县"


def default_copy_to(session, office: Jurisdiction) -> str:
    """抄送 proposed: the upper office and the discipline inspection of the office's level."""
    found = []
    if office.parent_id is not None:
        found.append(jurisdictions.get(session, office.parent_id).authority)
    found.append(f"{office.name}纪委监委")
    return "\n".join(found)


MAX_TEXT = 6000  # characters of an analysis or a requirements text
MAX_LINES, MAX_LINE = 20, 100  # 主送/抄送: offices, characters each


def _paragraphs(text: str | None, what: str) -> str:
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    kept = "\n".join(line.strip() for line in text.split("\n") if line.strip())
    if len(kept) > MAX_TEXT:
        raise Invalid(N_("%(what)s is too long (at most %(n)s characters)."), what=what, n=MAX_TEXT)
    return kept


def _offices(text: str | None, what: str) -> str:
    found = [line.strip() for line in (text or "").replace("\r", "\n").split("\n") if line.strip()]
    if len(found) > MAX_LINES or any(len(line) > MAX_LINE for line in found):
        raise Invalid(
            N_("%(what)s: at most %(n)s offices, one a line, %(m)s characters each."),
            what=what,
            n=MAX_LINES,
            m=MAX_LINE,
        )
    return "\n".join(found)


def may_edit(actor: Actor, report: GeneratedReport, issuer) -> bool:
    """The supervisor's office (or an administrator) of the issuing office edits its bulletin
    until a leader publishes it."""
    return (
        report.kind == ReportKind.BULLETIN
        and not report.published
        and bool(actor.roles & {Role.SUPERVISOR, Role.ADMIN})
        and jurisdictions.is_own(actor, issuer)
    )


def edit_bulletin(
    session,
    report_id,
    *,
    actor: Actor,
    now: datetime,
    analysis: str | None,
    requirements: str | None,
    recipients: str | None,
    copy_to: str | None,
) -> GeneratedReport:
    """Keep what the supervisor's office wrote (问题分析, 下一步工作要求, 主送, 抄送; a paragraph
    or an office a line) and queue the PDF to be made again. A published bulletin stays as it
    was published."""
    if not actor.roles & {Role.SUPERVISOR, Role.ADMIN}:
        raise NotAllowed(N_("Only the supervisor's office edits a bulletin."))
    report = report_for(session, report_id, actor, lock=True)
    if report.kind != ReportKind.BULLETIN:
        raise NotFound(N_("Report not found."))
    if not jurisdictions.is_own(actor, issuer_of(session, report)):
        raise NotAllowed(N_("Only the supervisor's office of the issuing office edits its bulletin."))
    if report.published:
        raise Invalid(N_("A published bulletin can no longer be edited."))
    report.analysis = _paragraphs(analysis, _l("Problem analysis"))
    report.requirements = _paragraphs(requirements, _l("Next steps"))
    report.recipients = _offices(recipients, _l("Main recipients"))
    report.copy_to = _offices(copy_to, _l("Copied to"))
    report.edited_at, report.edited_by_name = now, actor.name
    report.state, report.error = "queued", None  # made again (a job), then downloadable
    session.flush()
    return report


def report_store() -> Store:
    """Where generated reports are kept (app/storage.py: REPORT_DIR, or the bucket's reports/)."""
    return area("reports")


def report_file(report: GeneratedReport, fmt: str) -> Path | BinaryIO | None:
    """One of a report's files for ``send_file``: the local path, or a stream from the object
    store (never read whole here); None when it has none."""
    if not report.file_name:
        return None
    try:
        return report_store().sendable(f"{report.file_name}.{fmt}")
    except FileNotFoundError:
        return None
    except OSError as error:  # the store is unreachable: as if the file were missing, logged
        current_app.logger.error("report %s: its %s file cannot be read: %s", report.id, fmt, error)
        return None


def publish(session, report_id: int, *, actor: Actor) -> GeneratedReport:
    """A leader of the issuing office publishes its bulletin (an upper office does not publish
    in a lower one's name)."""
    if not actor.roles & {Role.LEADER}:
        raise NotAllowed(N_("Only a leader publishes a bulletin."))
    report = report_for(session, report_id, actor, lock=True)
    if report.kind != ReportKind.BULLETIN or report.state not in ("done", "queued"):
        raise NotFound(N_("Report not found."))
    if not jurisdictions.is_own(actor, issuer_of(session, report)):
        raise NotAllowed(N_("Only a leader of the issuing office publishes its bulletin."))
    if report.state != "done":  # an edit is being made into the PDF: publish what it becomes
        raise Invalid(N_("The bulletin is being generated again; publish it when it is ready."))
    report.published = True
    session.flush()
    return report
