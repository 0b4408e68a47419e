"""The substance of handling: verification findings, rectification, clock pauses and
responsibility disputes (DOMAIN.md: 核查, 整改, 停表; seeds 000 and 004)."""

from __future__ import annotations

from datetime import datetime

from flask_appbuilder import Model
from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.enums import DisputeState, FindingResult, RectificationState
from models.reference import Department
from models.types import enum_column_type


class Finding(Model):
    """What verification established (属实/部分属实/不属实/无法核实), the facts and what the
    reporter is told. A later finding on the same case supersedes an earlier one."""

    __tablename__ = "finding"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), nullable=False, index=True)
    result: Mapped[FindingResult] = mapped_column(enum_column_type(FindingResult), nullable=False)
    facts: Mapped[str] = mapped_column(Text, nullable=False)  # internal: the facts established
    summary: Mapped[str] = mapped_column(Text, nullable=False)  # the initial result the reporter is told
    # "preliminary": the supervisor's office before dispatch (B grade); "handling": the department.
    stage: Mapped[str] = mapped_column(String(16), nullable=False)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))

    department: Mapped[Department | None] = relationship()


class Rectification(Model):
    """整改 opened by a founded finding: the department's measures, responsible person and
    deadline (working days), its evidence of completion, and the office's re-check (复核)."""

    __tablename__ = "rectification"
    __table_args__ = (
        CheckConstraint("due_days IS NULL OR due_days > 0", name="ck_rectification_due_days"),
        Index("ix_rectification_case_state", "case_id", "state"),
        # At most one open rectification per case, even for two submits at once.
        Index(
            "uq_rectification_open_per_case",
            "case_id",
            unique=True,
            postgresql_where=text("state <> 'accepted'"),
            sqlite_where=text("state <> 'accepted'"),
        ),
        # The sweep's pending work: planned rectifications past their deadline, not yet reminded.
        Index(
            "ix_rectification_sweep_overdue",
            "due_at",
            postgresql_where=text("state = 'planned' AND overdue_reminded_at IS NULL"),
            sqlite_where=text("state = 'planned' AND overdue_reminded_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), nullable=False)
    finding_id: Mapped[int] = mapped_column(ForeignKey("finding.id"), nullable=False)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    state: Mapped[RectificationState] = mapped_column(
        enum_column_type(RectificationState), nullable=False, default=RectificationState.AWAITING_PLAN
    )
    opened_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    measures: Mapped[str | None] = mapped_column(Text)
    responsible: Mapped[str | None] = mapped_column(String(100))  # the person answerable for it
    due_days: Mapped[int | None] = mapped_column(Integer)
    due_start_at: Mapped[datetime | None] = mapped_column(DateTime)
    due_at: Mapped[datetime | None] = mapped_column(DateTime)
    due_provisional: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    planned_at: Mapped[datetime | None] = mapped_column(DateTime)
    completion: Mapped[str | None] = mapped_column(Text)  # what was done, as reported
    completed_at: Mapped[datetime | None] = mapped_column(DateTime)
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    review_note: Mapped[str | None] = mapped_column(Text)
    send_backs: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    overdue_reminded_at: Mapped[datetime | None] = mapped_column(DateTime)

    finding: Mapped[Finding] = relationship()
    department: Mapped[Department | None] = relationship()


class ClockPause(Model):
    """A stop of the handling clock (停表) while waiting for the reporter's material; on resume
    the deadline moves by the working days paused (Znuny's EscalationSuspend)."""

    __tablename__ = "clock_pause"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), nullable=False, index=True)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    paused_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    paused_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    resumed_at: Mapped[datetime | None] = mapped_column(DateTime)
    resumed_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    working_days: Mapped[int | None] = mapped_column(Integer)  # counted on resume

    department: Mapped[Department | None] = relationship()


class Dispute(Model):
    """A dispute over who is responsible for a case (004): raised by a department, decided by
    the office, which names the lead."""

    __tablename__ = "dispute"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), nullable=False, index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    raised_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    raised_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    state: Mapped[DisputeState] = mapped_column(
        enum_column_type(DisputeState), nullable=False, default=DisputeState.OPEN
    )
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    lead_department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    decision_note: Mapped[str | None] = mapped_column(Text)

    department: Mapped[Department] = relationship(foreign_keys=[department_id])
    lead_department: Mapped[Department | None] = relationship(foreign_keys=[lead_department_id])
