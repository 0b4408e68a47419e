"""Staff users: FAB's user with the department they work for, and what protects the account
(app/accounts.py): the session version, the lockout and the TOTP second factor."""

from __future__ import annotations

from datetime import datetime

from flask_appbuilder.security.sqla.models import User
from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.reference import Department, Jurisdiction
from models.types import EncryptedText


class Staff(User):
    __tablename__ = "ab_user"

    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), index=True)
    department: Mapped[Department | None] = relationship()
    # The office the account works for (None: the root jurisdiction, the province).
    jurisdiction_id: Mapped[int | None] = mapped_column(ForeignKey("jurisdiction.id"), index=True)
    jurisdiction: Mapped[Jurisdiction | None] = relationship()
    # Raised at logout and whenever the password, roles, active flag or second factor change:
    # a session cookie or API token carrying an older version is refused.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0", nullable=False)
    # After repeated wrong passwords no login is accepted until then (UTC).
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    # The TOTP secret (encrypted at rest); enabled once a code from it was entered.
    totp_secret: Mapped[str | None] = mapped_column(EncryptedText)
    totp_enabled_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The last 30-second step whose code was accepted: a code is good once.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
