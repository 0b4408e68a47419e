"""Publication: typical cases (示范/警示) and the archive of generated bulletins and reports."""

from __future__ import annotations

from datetime import datetime

from flask_appbuilder import Model
from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.publication import ReportKind, TypicalKind, TypicalState
from models.types import enum_column_type


class TypicalCase(Model):
    """A closed case chosen as typical: a redacted summary, edited, approved, then published."""

    __tablename__ = "typical_case"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), nullable=False, unique=True)
    kind: Mapped[TypicalKind] = mapped_column(enum_column_type(TypicalKind), nullable=False)
    state: Mapped[TypicalState] = mapped_column(enum_column_type(TypicalState), nullable=False)
    # the public heading, written from the redacted title (NULL on rows chosen before it existed:
    # the bulletin drafts one from the title)
    heading: Mapped[str | None] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, nullable=False)
    marked_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    marked_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    edited_at: Mapped[datetime | None] = mapped_column(DateTime)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    decision_note: Mapped[str | None] = mapped_column(Text)
    published_month: Mapped[str | None] = mapped_column(String(7), index=True)  # YYYY-MM

    case = relationship("Case")


class ReportCounter(Model):
    """The last issue number of an office's series of one kind in a year (locked while taken)."""

    __tablename__ = "report_counter"

    jurisdiction_id: Mapped[int] = mapped_column(
        ForeignKey("jurisdiction.id"), primary_key=True, autoincrement=False
    )
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    series: Mapped[str] = mapped_column(String(10), primary_key=True)  # month, quarter, year
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class GeneratedReport(Model):
    """An archived bulletin or assessment report: who asked, when, and the file."""

    __tablename__ = "generated_report"
    __table_args__ = (Index("ix_generated_report_kind_period", "kind", "period_label"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ReportKind] = mapped_column(enum_column_type(ReportKind), nullable=False)
    period_label: Mapped[str] = mapped_column(String(20), nullable=False)
    period_start: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    period_end: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    state: Mapped[str] = mapped_column(String(10), nullable=False, default="queued")
    file_name: Mapped[str | None] = mapped_column(String(80))
    pages: Mapped[int | None] = mapped_column(Integer)
    requested_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    requested_by_name: Mapped[str] = mapped_column(String(128), nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    error: Mapped[str | None] = mapped_column(String(500))
    published: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # The office it is issued by and whose cases it covers (None: the root).
    jurisdiction_id: Mapped[int | None] = mapped_column(ForeignKey("jurisdiction.id"), index=True)
    jurisdiction = relationship("Jurisdiction")
    # Its place in the office's series (2026年第11期): one number per office, kind, series
    # (month, quarter, year) and year, kept by every later draft of the same period.
    issue_year: Mapped[int | None] = mapped_column(Integer)
    issue_number: Mapped[int | None] = mapped_column(Integer)
    # What the supervisor's office writes before a leader publishes (the system proposes a
    # draft from the figures): the problem analysis and the next-step requirements, and the
    # 主送/抄送 lines (one office per line).
    analysis: Mapped[str | None] = mapped_column(Text)
    requirements: Mapped[str | None] = mapped_column(Text)
    recipients: Mapped[str | None] = mapped_column(Text)
    copy_to: Mapped[str | None] = mapped_column(Text)
    edited_at: Mapped[datetime | None] = mapped_column(DateTime)
    edited_by_name: Mapped[str | None] = mapped_column(String(128))
    # The PDF as generated last (and, once published, as published).
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))

    @property
    def download(self) -> tuple[int, str, str]:
        return self.id, self.state, self.kind

    @property
    def issue(self) -> str:
        """2026年第11期 (empty for a report requested before issue numbers existed)."""
        if self.issue_year is None or self.issue_number is None:
            return ""
        return f"{self.issue_year}年第{self.issue_number}期"

    @property
    def editing(self) -> tuple[int, str, bool, int | None, str]:
        """What the archive needs to offer a bulletin's edit screen and its publication."""
        return self.id, self.kind, self.published, self.jurisdiction_id, self.state
