"""Cases, their assignments to departments, extension requests and the event log."""

from __future__ import annotations

from datetime import datetime

from flask_appbuilder import Model
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.enums import (
    AssignmentRole,
    AssignmentState,
    CaseType,
    Channel,
    DeclineReason,
    EvaluationSource,
    ExtensionState,
    FindingResult,
    Grade,
    Rating,
    Urgency,
)
from app.workflow import Status
from models.reference import Category, Department, Jurisdiction
from models.reporting import Attachment, CaseMessage, Reporter, ServiceWindow
from models.types import enum_column_type


def _where(condition: str) -> dict:
    """A partial index's condition, on PostgreSQL and SQLite alike."""
    return {"postgresql_where": text(condition), "sqlite_where": text(condition)}


# Assignments whose deadline runs (the sweep's queries say state IN these, literally the same).
RUNNING_SQL = "('dispatched', 'signed')"
# Cases that may be overdue (app.services.cases.OVERDUE_STATUSES): submitted, or being handled.
OVERDUE_SQL = "('submitted', 'accepted', 'dispatched', 'returned', 'handling')"


class Case(Model):
    __tablename__ = "cases"
    __table_args__ = (
        CheckConstraint("rehandle_count >= 0", name="ck_case_rehandle_count"),
        CheckConstraint("status <> 'declined' OR decline_reason IS NOT NULL", name="ck_case_declined_reason"),
        CheckConstraint("grade IS NULL OR case_type = 'report'", name="ck_case_grade_for_reports"),
        Index("ix_cases_status_due", "status", "due_at"),
        Index("ix_cases_jurisdiction_status", "jurisdiction_id", "status"),
        Index("ix_cases_jurisdiction_created", "jurisdiction_id", "created_at"),
        # An office's lists, newest first (WHERE jurisdiction_id IN (...) ORDER BY id DESC); with
        # the department a case is about, their bounded count reads the index alone (a county's
        # list counted 10,001 rows of the table in 60-190 ms at 5 million cases, bench/lists.py).
        Index(
            "ix_cases_jurisdiction_case",
            "jurisdiction_id",
            "id",
            postgresql_include=["concerned_department_id"],
        ),
        # The queues at 5 million cases (issue 18, bench/lists.py). Overdue: the open cases whose
        # clock may run, walked in the list's (due_at, id) order; the count reads the index alone.
        # Its condition is the one of overdue_clause (OVERDUE_STATUSES), word for word.
        Index(
            "ix_cases_overdue",
            "due_at",
            "id",
            postgresql_include=["status", "accept_due_at", "concerned_department_id", "jurisdiction_id"],
            **_where(f"status IN {OVERDUE_SQL}"),
        ),
        # A status filter on the cases not closed (a handler's "handling"): the cases of a status by
        # id, merged with the department's assignments (ix_assignment_active_dept_case); 144,000
        # handling cases were read from the table for the count (0.6-1.2 s at 5 million cases).
        Index(
            "ix_cases_open_status_case",
            "status",
            "id",
            postgresql_include=["concerned_department_id"],
            **_where("status <> 'closed'"),
        ),
        # A department's cases of a status, within an office's jurisdictions: the bounded count of
        # "by department and status" reads the index alone (a BitmapAnd of 350,000 and 440,000
        # rows took 0.5 s at 5 million cases, bench/lists.py).
        Index(
            "ix_cases_lead_status",
            "lead_department_id",
            "status",
            "jurisdiction_id",
            postgresql_include=["concerned_department_id"],
        ),
        Index("ix_cases_status_accept_due", "status", "accept_due_at"),
        Index("ix_cases_status_replied", "status", "replied_at"),
        Index("ix_cases_replied_at", "replied_at"),  # early warnings: replies of a period
        # The sweep's pending work: small partial indexes holding only what has not been acted on.
        Index(
            "ix_cases_sweep_not_accepted",
            "accept_due_at",
            **_where("status = 'submitted' AND accept_reminded_at IS NULL"),
        ),
        Index("ix_cases_sweep_unrated", "replied_at", **_where("status = 'replied'")),
        Index(
            "ix_cases_sweep_first_response",
            "first_response_due_at",
            **_where("first_responded_at IS NULL AND first_response_reminded_at IS NULL"),
        ),
        Index(
            "ix_cases_sweep_not_dispatched",
            "dispatch_due_at",
            **_where("status = 'accepted' AND dispatch_reminded_at IS NULL"),
        ),
        Index(
            "ix_cases_sweep_not_verified",
            "verify_due_at",
            **_where("verified_at IS NULL AND verify_reminded_at IS NULL"),
        ),
        # The clocks not met whose deadline passed since a month of the figures' rollup was built
        # (its overdue counts are live: app.services.case_figures, the migration f9c0d1e2f3a4).
        Index(
            "ix_cases_open_first_response", "first_response_due_at", **_where("first_responded_at IS NULL")
        ),
        Index("ix_cases_open_dispatch", "dispatch_due_at", **_where("status = 'accepted'")),
        Index("ix_cases_open_verify", "verify_due_at", **_where("verified_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(20), unique=True)
    status: Mapped[Status] = mapped_column(enum_column_type(Status), nullable=False, default=Status.SUBMITTED)
    case_type: Mapped[CaseType] = mapped_column(enum_column_type(CaseType), nullable=False)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("category.id"), index=True)
    urgency: Mapped[Urgency] = mapped_column(
        enum_column_type(Urgency), nullable=False, default=Urgency.NORMAL
    )
    grade: Mapped[Grade | None] = mapped_column(enum_column_type(Grade))
    channel: Mapped[Channel] = mapped_column(enum_column_type(Channel), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    region: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    # The jurisdiction whose office owns the case (its region's, moved by escalation).
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdiction.id"), nullable=False)
    # The deadline an upper office set when it sent the case down to this jurisdiction (交办).
    jurisdiction_due_at: Mapped[datetime | None] = mapped_column(DateTime)
    location: Mapped[str | None] = mapped_column(String(200))
    # The department (and official) the case is about: never dispatched to it.
    concerned_department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    concerned_official: Mapped[str | None] = mapped_column(String(100))
    window_id: Mapped[int | None] = mapped_column(ForeignKey("service_window.id"))
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    # A problem an enterprise reported about an inspection (入企扫码) files a case linked to it.
    inspection_id: Mapped[int | None] = mapped_column(ForeignKey("inspection.id"), index=True)
    # The supervisor investigating the case (named by the dispatcher or the identity
    # custodian, never by themselves): the one supervisor who sees who filed it.
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))

    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime)
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime)  # the latest dispatch
    # The first dispatch (to any department, in any round): the dispatch clock's end, which the
    # dashboard read as the least of the case's assignments' times (2 s for a year at 1 million
    # cases); set once by the dispatch service.
    first_dispatched_at: Mapped[datetime | None] = mapped_column(DateTime)
    replied_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)

    # Stored deadlines (computed by services, recomputed when the calendar changes).
    # The handling period counts from filing, and anew from each re-handling or escalation.
    clock_start_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    accept_due_at: Mapped[datetime | None] = mapped_column(DateTime)
    dispatch_due_at: Mapped[datetime | None] = mapped_column(DateTime)
    due_at: Mapped[datetime | None] = mapped_column(DateTime)
    due_provisional: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    proposed_department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    lead_department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    decline_reason: Mapped[DeclineReason | None] = mapped_column(enum_column_type(DeclineReason))
    decline_note: Mapped[str | None] = mapped_column(Text)
    reply: Mapped[str | None] = mapped_column(Text)  # what the reporter sees
    rating: Mapped[Rating | None] = mapped_column(enum_column_type(Rating))
    rating_source: Mapped[EvaluationSource | None] = mapped_column(enum_column_type(EvaluationSource))
    rating_reason: Mapped[str | None] = mapped_column(Text)
    rehandle_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    escalation_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    is_difficult: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    accept_reminded_at: Mapped[datetime | None] = mapped_column(DateTime)

    # The clocks of the seeds besides handling: first response (24 hours, 000), dispatch
    # (20 minutes, 002), the initial verification result (3 working days, 000; 1 for a 12345
    # ticket, 004); each with when it was met and when the sweep reminded.
    first_response_due_at: Mapped[datetime | None] = mapped_column(DateTime)
    first_responded_at: Mapped[datetime | None] = mapped_column(DateTime)
    first_response_reminded_at: Mapped[datetime | None] = mapped_column(DateTime)
    dispatch_reminded_at: Mapped[datetime | None] = mapped_column(DateTime)
    verify_due_at: Mapped[datetime | None] = mapped_column(DateTime)
    verified_at: Mapped[datetime | None] = mapped_column(DateTime)
    verify_reminded_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The current verification finding (the latest Finding row's result).
    finding: Mapped[FindingResult | None] = mapped_column(enum_column_type(FindingResult))

    category: Mapped[Category | None] = relationship()
    jurisdiction: Mapped[Jurisdiction] = relationship()
    concerned_department: Mapped[Department | None] = relationship(foreign_keys=[concerned_department_id])
    proposed_department: Mapped[Department | None] = relationship(foreign_keys=[proposed_department_id])
    lead_department: Mapped[Department | None] = relationship(foreign_keys=[lead_department_id])
    assignments: Mapped[list[Assignment]] = relationship(
        back_populates="case", order_by="Assignment.id", cascade="all, delete-orphan"
    )
    events: Mapped[list[CaseEvent]] = relationship(
        back_populates="case", order_by="CaseEvent.id", cascade="all, delete-orphan"
    )
    extensions: Mapped[list[ExtensionRequest]] = relationship(
        back_populates="case", order_by="ExtensionRequest.id", cascade="all, delete-orphan"
    )
    reporters: Mapped[list[Reporter]] = relationship(
        back_populates="case", order_by="Reporter.id", cascade="all, delete-orphan"
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="case", order_by="Attachment.id", cascade="all, delete-orphan"
    )
    messages: Mapped[list[CaseMessage]] = relationship(
        back_populates="case", order_by="CaseMessage.id", cascade="all, delete-orphan"
    )
    window: Mapped[ServiceWindow | None] = relationship()
    inspection = relationship("Inspection", back_populates="problem_cases")
    supervisor = relationship("Staff", foreign_keys=[supervisor_id])
    findings = relationship("Finding", order_by="Finding.id", cascade="all, delete-orphan")
    rectifications = relationship("Rectification", order_by="Rectification.id", cascade="all, delete-orphan")
    pauses = relationship("ClockPause", order_by="ClockPause.id", cascade="all, delete-orphan")
    disputes = relationship("Dispute", order_by="Dispute.id", cascade="all, delete-orphan")
    revisits = relationship("RevisitTask", order_by="RevisitTask.id", viewonly=True)

    def __str__(self) -> str:
        return self.number or f"#{self.id}"

    @property
    def active_assignments(self) -> list[Assignment]:
        return [a for a in self.assignments if a.active]

    @property
    def lead_assignment(self) -> Assignment | None:
        return next((a for a in self.active_assignments if a.role == AssignmentRole.LEAD), None)

    @property
    def deadline(self) -> tuple[datetime | None, datetime | None]:
        """The deadline that matters now and when its step was finished (if it was):
        the decision on acceptance while submitted, otherwise the handling deadline."""
        if self.status in (Status.SUBMITTED, Status.DECLINED):
            return self.accept_due_at, self.closed_at
        return self.due_at, self.replied_at if self.status in (
            Status.REPLIED,
            Status.UNSATISFIED,
            Status.EVALUATED,
            Status.CLOSED,
        ) else None

    @property
    def open_rectification(self):
        """The rectification not yet accepted on re-check, if any (a case has at most one)."""
        from app.enums import OPEN_RECTIFICATION

        return next((r for r in self.rectifications if r.state in OPEN_RECTIFICATION), None)

    @property
    def open_pause(self):
        return next((p for p in self.pauses if p.resumed_at is None), None)

    @property
    def open_dispute(self):
        from app.enums import DisputeState

        return next((d for d in self.disputes if d.state == DisputeState.OPEN), None)

    @property
    def pending_extension(self) -> ExtensionRequest | None:
        return next((e for e in self.extensions if e.state == ExtensionState.PENDING), None)


class Assignment(Model):
    """One department's duty on a case in one round (lead or co-handling)."""

    __tablename__ = "assignment"
    __table_args__ = (
        # A department's current cases, newest first (the handler's list and its row filter).
        Index("ix_assignment_active_dept_case", "department_id", "case_id", **_where("active")),
        Index("ix_assignment_sign_due", "state", "sign_due_at"),
        Index("ix_assignment_due", "active", "state", "due_at"),
        Index("ix_assignment_role_dispatched", "role", "dispatched_at"),
        # Early warnings: assignments due, or due to be signed, in a period.
        Index("ix_assignment_role_due", "role", "due_at"),
        Index("ix_assignment_sign_due_at", "sign_due_at"),
        # The cases whose clock stands (a few): the overdue list leaves them out (NOT EXISTS),
        # which read the whole table without this (150 ms at 1 million cases, bench/lists.py).
        Index("ix_assignment_paused", "case_id", **_where("active IS TRUE AND paused_at IS NOT NULL")),
        Index(
            "ix_assignment_sweep_unsigned",
            "sign_due_at",
            **_where("active AND state = 'dispatched' AND sign_reminded_at IS NULL"),
        ),
        Index(
            "ix_assignment_sweep_due_soon",
            "due_at",
            **_where(
                f"active AND state IN {RUNNING_SQL} AND paused_at IS NULL AND due_soon_notified_at IS NULL"
            ),
        ),
        Index(
            "ix_assignment_sweep_overdue",
            "due_at",
            **_where(
                f"active AND state IN {RUNNING_SQL} AND paused_at IS NULL AND overdue_reminded_at IS NULL"
            ),
        ),
        Index(
            "ix_assignment_sweep_still_overdue",
            "overdue_reminded_at",
            **_where(
                f"active AND state IN {RUNNING_SQL} AND paused_at IS NULL "
                "AND overdue_reminded_at IS NOT NULL AND escalated_notice_at IS NULL"
            ),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), nullable=False, index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), nullable=False)
    role: Mapped[AssignmentRole] = mapped_column(enum_column_type(AssignmentRole), nullable=False)
    round: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    state: Mapped[AssignmentState] = mapped_column(
        enum_column_type(AssignmentState), nullable=False, default=AssignmentState.DISPATCHED
    )
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    dispatched_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    sign_due_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    signed_at: Mapped[datetime | None] = mapped_column(DateTime)
    done_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The deadline is stored, with what it was computed from so a calendar edit can redo it.
    due_start_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    due_days: Mapped[int] = mapped_column(Integer, nullable=False)
    extension_days: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # Working days the clock stood still (停表), added to the deadline on each resume.
    pause_days: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    paused_at: Mapped[datetime | None] = mapped_column(DateTime)  # set while the clock stands
    due_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    due_provisional: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # When the sweep last acted on this assignment's deadlines (each fires once in effect).
    due_soon_notified_at: Mapped[datetime | None] = mapped_column(DateTime)
    sign_reminded_at: Mapped[datetime | None] = mapped_column(DateTime)
    overdue_reminded_at: Mapped[datetime | None] = mapped_column(DateTime)
    escalated_notice_at: Mapped[datetime | None] = mapped_column(DateTime)

    case: Mapped[Case] = relationship(back_populates="assignments")
    department: Mapped[Department] = relationship()


class ExtensionRequest(Model):
    __tablename__ = "extension_request"
    __table_args__ = (
        CheckConstraint("days > 0", name="ck_extension_days"),
        Index("ix_extension_request_requested", "requested_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), nullable=False, index=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id"), nullable=False)
    days: Mapped[int] = mapped_column(Integer, nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    state: Mapped[ExtensionState] = mapped_column(
        enum_column_type(ExtensionState), nullable=False, default=ExtensionState.PENDING
    )
    requested_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    decision_note: Mapped[str | None] = mapped_column(Text)

    case: Mapped[Case] = relationship(back_populates="extensions")


class CaseEvent(Model):
    """One line of a case's history: who did what, when, from which status to which."""

    __tablename__ = "case_event"
    __table_args__ = (Index("ix_case_event_action_at", "action", "at"),)  # early warnings: a period's returns

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), nullable=False, index=True)
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16), nullable=False)
    at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    actor_name: Mapped[str] = mapped_column(String(128), nullable=False)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    note: Mapped[str | None] = mapped_column(Text)  # internal: never shown to the reporter
    public_text: Mapped[str | None] = mapped_column(Text)  # shown to the reporter
    data: Mapped[dict | None] = mapped_column(JSON)

    case: Mapped[Case] = relationship(back_populates="events")
    department: Mapped[Department | None] = relationship()
