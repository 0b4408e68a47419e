"""Supervision notices, the notification outbox, the in-app inbox and revisit tasks."""

from __future__ import annotations

from datetime import date, datetime

from flask_appbuilder import Model
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.enums import Rating
from app.supervision import NoticeCause, NoticeKind, NoticeState
from models.reference import Department
from models.types import EncryptedText, enum_column_type

# The cases a notice names. The case id has no foreign key: its check (a locking look-up of the
# case, row by row) cost the sweep more than the row; the id is copied from a case the writer
# holds, and a case is never deleted (migration fc1d2e3f4a5b).
notice_case = Table(
    "notice_case",
    Model.metadata,
    Column("notice_id", ForeignKey("notice.id"), primary_key=True),
    Column("case_id", Integer, primary_key=True, autoincrement=False),
)


class NoticeCounter(Model):
    """The last notice number of a jurisdiction's year (locked while a number is taken): each
    office numbers its own documents."""

    __tablename__ = "notice_counter"

    jurisdiction_id: Mapped[int] = mapped_column(
        ForeignKey("jurisdiction.id"), primary_key=True, autoincrement=False
    )
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class Notice(Model):
    __tablename__ = "notice"
    __table_args__ = (UniqueConstraint("jurisdiction_id", "year", "sequence", name="uq_notice_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[NoticeKind] = mapped_column(enum_column_type(NoticeKind), nullable=False)
    cause: Mapped[NoticeCause] = mapped_column(enum_column_type(NoticeCause, 32), nullable=False)
    cause_key: Mapped[str] = mapped_column(String(120), nullable=False, unique=True)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    sequence: Mapped[int] = mapped_column(Integer, nullable=False)
    number: Mapped[str] = mapped_column(String(40), nullable=False, unique=True)
    issued_on: Mapped[date] = mapped_column(Date, nullable=False)
    issued_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, index=True)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    # The office that issued it (its number series and its name on the document); searched
    # through uq_notice_number, whose first column it is.
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdiction.id"), nullable=False)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), nullable=False, index=True)
    details: Mapped[str] = mapped_column(Text, nullable=False)
    reply_due_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    state: Mapped[NoticeState] = mapped_column(
        enum_column_type(NoticeState), nullable=False, default=NoticeState.ISSUED
    )
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    closing_note: Mapped[str | None] = mapped_column(Text)
    # 约谈通知书: when and where, who must attend, what to bring (None on the other kinds).
    meeting_at: Mapped[datetime | None] = mapped_column(DateTime)
    meeting_place: Mapped[str | None] = mapped_column(String(200))
    attendees: Mapped[str | None] = mapped_column(Text)
    materials: Mapped[str | None] = mapped_column(Text)
    # Frozen when issued: the document's content (plain data in Chinese, taken in the issuing
    # transaction), then the PDF rendered once from it, stored under NOTICE_DIR by its SHA-256
    # and served as issued; a later change to the data never changes an issued notice.
    document: Mapped[dict | None] = mapped_column(JSON)
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    pdf_pages: Mapped[int | None] = mapped_column(Integer)

    department: Mapped[Department] = relationship()
    jurisdiction = relationship("Jurisdiction")  # the issuing office
    cases = relationship(
        "Case",
        secondary=notice_case,
        secondaryjoin="Case.id == foreign(notice_case.c.case_id)",
        order_by="Case.id",
        viewonly=True,  # written by notices.raise_notices
    )

    def __str__(self) -> str:
        return self.number


class Notification(Model):
    """The outbox: written in the same transaction as the change that causes it, delivered by
    jobs. The key makes delivery idempotent; no reporter identity is in the payload.

    A log, without foreign keys: the user and case ids are copied from rows the writer holds
    (a case is never deleted), and the sweep writes thousands of rows at once, whose key checks
    cost the database more than the rows (migration fc1d2e3f4a5b). Only the callback stream
    reads it by case."""

    __tablename__ = "notification"
    __table_args__ = (
        Index("ix_notification_pending", "status", "next_attempt_at"),
        Index(
            "ix_notification_callback_case",
            "case_id",
            postgresql_where=text("channel = 'callback'"),
            sqlite_where=text("channel = 'callback'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(160), nullable=False, unique=True)
    channel: Mapped[str] = mapped_column(String(10), nullable=False)  # email, sms, inbox
    user_id: Mapped[int | None] = mapped_column(Integer)  # ab_user.id
    address: Mapped[str | None] = mapped_column(EncryptedText)  # e-mail or phone, encrypted
    template: Mapped[str] = mapped_column(String(40), nullable=False)
    params: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    case_id: Mapped[int | None] = mapped_column(Integer)  # cases.id
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="pending")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)

    # How a message reads (subject, body) is the outbox service's business; it sets this.
    renderer = None

    @property
    def subject(self) -> str:
        return type(self).renderer(self)[0]

    @property
    def body(self) -> str:
        return type(self).renderer(self)[1]


class InboxMessage(Model):
    """A message in a staff user's in-app inbox (one per notification: seen once)."""

    __tablename__ = "inbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notification.id"), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id"), nullable=False, index=True)
    subject: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    # Unread until its user opens it or its case.
    read: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    case = relationship("Case")


class RevisitTask(Model):
    """A call to the reporter: an unrated reply, or a quality sample of a closed case."""

    __tablename__ = "revisit_task"
    __table_args__ = (UniqueConstraint("case_id", "reason", name="uq_revisit_case_reason"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), nullable=False, index=True)
    reason: Mapped[str] = mapped_column(String(16), nullable=False)  # unrated, sample
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    due_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    done_at: Mapped[datetime | None] = mapped_column(DateTime)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    outcome: Mapped[str | None] = mapped_column(Text)
    # Worked from the queue: each call attempt counts; a reached call records the rating.
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    reached: Mapped[bool | None] = mapped_column(Boolean)
    rating: Mapped[Rating | None] = mapped_column(enum_column_type(Rating))
    notes: Mapped[str | None] = mapped_column(Text)

    case = relationship("Case")
