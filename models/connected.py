"""Connected systems: a system that files cases through the API (the 12345 platform) registers a
callback URL and is told, as signed JSON, what happens to the cases it filed."""

from __future__ import annotations

from datetime import datetime

from flask_appbuilder import Model
from sqlalchemy import Boolean, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.types import EncryptedText
from models.user import Staff


class CallbackSubscription(Model):
    """Where a connected system's user is told about the cases it filed (Case.created_by_id).

    The secret signs every delivery (HMAC-SHA256); it is shown once when made and stored
    encrypted like the other secrets (IDENTITY_KEY, rotated with them)."""

    __tablename__ = "callback_subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("ab_user.id"), nullable=False, index=True)
    url: Mapped[str] = mapped_column(String(500), nullable=False)
    secret: Mapped[str] = mapped_column(EncryptedText, nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)

    user: Mapped[Staff] = relationship()

    def __str__(self) -> str:
        return self.url
