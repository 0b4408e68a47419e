"""Early-warning models and the warnings they raise, with each warning's history."""

from __future__ import annotations

from datetime import date, datetime

from flask_appbuilder import Model
from sqlalchemy import JSON, Boolean, Column, Date, DateTime, ForeignKey, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.early_warning import PeriodKind, RuleType, SubjectKind, WarningState
from models.reference import Department, Jurisdiction
from models.types import enum_column_type

early_warning_case = Table(
    "early_warning_case",
    Model.metadata,
    Column("warning_id", ForeignKey("early_warning.id"), primary_key=True),
    Column("case_id", ForeignKey("cases.id"), primary_key=True),
)


class WarningModel(Model):
    """A rule type with thresholds and a period, switched on or off by an administrator."""

    __tablename__ = "warning_model"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    rule: Mapped[RuleType] = mapped_column(enum_column_type(RuleType, 32), nullable=False)
    thresholds: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    period: Mapped[PeriodKind] = mapped_column(enum_column_type(PeriodKind), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    # Working days the supervisor's office has to work a warning of this model.
    handle_working_days: Mapped[int] = mapped_column(nullable=False, default=5)
    last_run_at: Mapped[datetime | None] = mapped_column(DateTime)

    def __str__(self) -> str:
        return self.name


class EarlyWarning(Model):
    """One warning: a model's finding about one subject in one period (``key`` unique)."""

    __tablename__ = "early_warning"
    __table_args__ = (
        Index("ix_early_warning_state_due", "state", "due_at"),
        Index("ix_early_warning_jurisdiction_created", "jurisdiction_id", "created_at"),
        Index("ix_early_warning_department_period", "department_id", "period_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    model_id: Mapped[int] = mapped_column(ForeignKey("warning_model.id"), nullable=False, index=True)
    subject_kind: Mapped[SubjectKind] = mapped_column(enum_column_type(SubjectKind), nullable=False)
    subject_key: Mapped[str] = mapped_column(String(120), nullable=False)
    subject_label: Mapped[str] = mapped_column(String(200), nullable=False)
    # The department it concerns (None: an office, an enterprise without a unit in view).
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id"), index=True)
    # The office that works it (its supervisors' queue).
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdiction.id"), nullable=False)
    period_start: Mapped[date] = mapped_column(Date, nullable=False)
    period_end: Mapped[date] = mapped_column(Date, nullable=False)
    # The figures that triggered it (plain numbers and ids: inspection ids, rates, counts).
    figures: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    state: Mapped[WarningState] = mapped_column(
        enum_column_type(WarningState, 16), nullable=False, default=WarningState.OPEN
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    due_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    worked_at: Mapped[datetime | None] = mapped_column(DateTime)
    worked_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    reason: Mapped[str | None] = mapped_column(Text)  # why it was dismissed
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))  # the case it became
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("notice.id"))  # the notice issued

    model: Mapped[WarningModel] = relationship()
    department: Mapped[Department | None] = relationship()
    jurisdiction: Mapped[Jurisdiction] = relationship()
    enterprise = relationship("Enterprise")
    cases = relationship("Case", secondary=early_warning_case, order_by="Case.id")
    case = relationship("Case", foreign_keys=[case_id])
    notice = relationship("Notice")
    events: Mapped[list[WarningEvent]] = relationship(
        back_populates="warning", order_by="WarningEvent.id", cascade="all, delete-orphan"
    )

    def __str__(self) -> str:
        return f"{self.model.name if self.model else ''} {self.subject_label}".strip()


class WarningEvent(Model):
    """One line of a warning's history (raised, dispatched, notice issued, dismissed)."""

    __tablename__ = "warning_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    warning_id: Mapped[int] = mapped_column(ForeignKey("early_warning.id"), nullable=False, index=True)
    action: Mapped[str] = mapped_column(String(24), nullable=False)
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16), nullable=False)
    at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    actor_name: Mapped[str] = mapped_column(String(128), nullable=False)
    note: Mapped[str | None] = mapped_column(Text)

    warning: Mapped[EarlyWarning] = relationship(back_populates="events")
