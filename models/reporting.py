"""The reporter's side: reporters (identity encrypted, apart from the case), attachments,
messages, service windows with QR codes, and the audit and abuse records."""

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
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.enums import Rating
from models.reference import Department
from models.types import EncryptedText, append_only, enum_column_type


class Reporter(Model):
    """One person or company behind a case (a merged case has several), with their own receipt
    (query code, stored only as a keyed hash) and their own rating."""

    __tablename__ = "reporter"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), nullable=False, index=True)
    anonymous: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    confidential: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    name: Mapped[str | None] = mapped_column(EncryptedText)
    phone: Mapped[str | None] = mapped_column(EncryptedText)
    company: Mapped[str | None] = mapped_column(EncryptedText)
    credit_code: Mapped[str | None] = mapped_column(EncryptedText)
    # Keyed hashes that let duplicates be found without decrypting anyone.
    company_digest: Mapped[str | None] = mapped_column(String(64), index=True)
    receipt_number: Mapped[str] = mapped_column(String(20), nullable=False, index=True)
    code_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    # Once confirmed, the receipt page after filing never shows the code again.
    receipt_confirmed_at: Mapped[datetime | None] = mapped_column(DateTime)
    rating: Mapped[Rating | None] = mapped_column(enum_column_type(Rating))
    rating_reason: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime | None] = mapped_column(DateTime)

    case = relationship("Case", back_populates="reporters")


class ServiceWindow(Model):
    """A service window or hall whose QR code opens the filing page with it preset."""

    __tablename__ = "service_window"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    hall: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), nullable=False)
    region: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    token: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    department: Mapped[Department] = relationship()

    def __str__(self) -> str:
        return f"{self.hall} {self.name}".strip()


class Attachment(Model):
    """A file a reporter (or staff) added; the original is evidence, staff see a clean copy.

    The original is saved with the filing; the copy without hidden data is made afterwards in a
    job (app.services.attachments). Until then the file is "pending" (staff see it is being
    cleaned and cannot open it); a file that cannot be cleaned is "refused", with the reason."""

    __tablename__ = "attachment"
    __table_args__ = (
        CheckConstraint("clean_state IN ('pending', 'clean', 'refused')", name="ck_attachment_clean_state"),
        CheckConstraint("clean_state <> 'clean' OR staff_name IS NOT NULL", name="ck_attachment_clean_copy"),
        # The sweep's pending work: files whose copy is not made yet.
        Index(
            "ix_attachment_pending",
            "clean_queued_at",
            postgresql_where=text("clean_state = 'pending'"),
            sqlite_where=text("clean_state = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), nullable=False, index=True)
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("reporter.id"))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    original_name: Mapped[str] = mapped_column(String(200), nullable=False)
    stored_name: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    staff_name: Mapped[str | None] = mapped_column(String(64))  # the cleaned copy, once made
    content_type: Mapped[str] = mapped_column(String(100), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)  # of the original
    uploaded_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    clean_state: Mapped[str] = mapped_column(
        String(16), nullable=False, default="pending", server_default="pending"
    )
    clean_error: Mapped[dict | None] = mapped_column(JSON)  # {"msgid", "params"} when refused
    clean_attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    clean_queued_at: Mapped[datetime | None] = mapped_column(DateTime)
    cleaned_at: Mapped[datetime | None] = mapped_column(DateTime)
    # What the file is: the reporter's material, or staff evidence for a finding or a
    # rectification (ref_id: that row's id).
    purpose: Mapped[str] = mapped_column(
        String(16), nullable=False, default="material", server_default="material"
    )
    ref_id: Mapped[int | None] = mapped_column(Integer)

    case = relationship("Case", back_populates="attachments")


class CaseMessage(Model):
    """A message between the reporter and the handling staff (two-way, also when anonymous)."""

    __tablename__ = "case_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), nullable=False, index=True)
    from_reporter: Mapped[bool] = mapped_column(Boolean, nullable=False)
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("reporter.id"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    author_name: Mapped[str] = mapped_column(String(128), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    at: Mapped[datetime] = mapped_column(DateTime, nullable=False)

    case = relationship("Case", back_populates="messages")


class CaseLink(Model):
    """Two cases about the same matter, linked by the intake clerk."""

    __tablename__ = "case_link"
    __table_args__ = (UniqueConstraint("case_id", "linked_case_id", name="uq_case_link"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), nullable=False, index=True)
    linked_case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))


class IdentityAccess(Model):
    """Append-only: every time someone is shown who filed a case (updates are refused)."""

    __tablename__ = "identity_access"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), nullable=False, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    actor_name: Mapped[str] = mapped_column(String(128), nullable=False)
    at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    purpose: Mapped[str] = mapped_column(String(32), nullable=False)


class TrackingAttempt(Model):
    """A lookup with a case number and query code (failures are what rate limits watch)."""

    __tablename__ = "tracking_attempt"
    __table_args__ = (Index("ix_tracking_attempt_client_at", "client_digest", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    client_digest: Mapped[str] = mapped_column(String(64), nullable=False)
    success: Mapped[bool] = mapped_column(Boolean, nullable=False)


class UsedChallenge(Model):
    """A filing challenge already answered (each may be used once)."""

    __tablename__ = "used_challenge"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    used_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)


append_only(IdentityAccess)
