"""Need to know: requests to see who filed a case, decided by the identity custodian."""

from __future__ import annotations

from datetime import datetime

from flask_appbuilder import Model
from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.enums import IdentityRequestState
from models.types import enum_column_type


class IdentityRequest(Model):
    """Someone not investigating a case asks to see its reporter, with a reason; the custodian
    approves (for a limited time) or refuses. Each step is also in the audit log, each look in
    IdentityAccess."""

    __tablename__ = "identity_request"
    __table_args__ = (
        CheckConstraint(
            "state = 'pending' OR (decided_at IS NOT NULL AND decided_by_id IS NOT NULL)",
            name="ck_identity_request_decided",
        ),
        CheckConstraint("state <> 'approved' OR expires_at IS NOT NULL", name="ck_identity_request_expiry"),
        Index("ix_identity_request_state_requested", "state", "requested_at"),
        Index("ix_identity_request_case_requester", "case_id", "requested_by_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), nullable=False)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id"), nullable=False)
    requested_by_name: Mapped[str] = mapped_column(String(128), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    requested_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    state: Mapped[IdentityRequestState] = mapped_column(
        enum_column_type(IdentityRequestState), nullable=False, default=IdentityRequestState.PENDING
    )
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    decided_by_name: Mapped[str | None] = mapped_column(String(128))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)

    case = relationship("Case")

    def __str__(self) -> str:
        return f"#{self.id}"
