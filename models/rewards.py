"""Rewards: tiers, who is not eligible, the reward (a projection) and its append-only ledger."""

from __future__ import annotations

from datetime import datetime

from flask_appbuilder import Model
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.rewards import EntryKind, PayMethod, RewardState
from models.reference import Department, Jurisdiction, _where
from models.types import EncryptedText, append_only, enum_column_type


class RewardTier(Model):
    __tablename__ = "reward_tier"
    __table_args__ = (
        CheckConstraint("min_yuan > 0 AND max_yuan >= min_yuan", name="ck_tier_range"),
        # A code once for every jurisdiction, and once more in each jurisdiction that overrides it.
        Index("uq_reward_tier_code", "code", unique=True, **_where("jurisdiction_id IS NULL")),
        Index("uq_reward_tier_jurisdiction_code", "jurisdiction_id", "code", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), nullable=False)
    # None: the tier of every jurisdiction; else a jurisdiction's own tier of that code.
    jurisdiction_id: Mapped[int | None] = mapped_column(ForeignKey("jurisdiction.id"))
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    min_yuan: Mapped[int] = mapped_column(Integer, nullable=False)
    max_yuan: Mapped[int] = mapped_column(Integer, nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    jurisdiction: Mapped[Jurisdiction | None] = relationship()

    def __str__(self) -> str:
        return f"{self.name}（{self.min_yuan}–{self.max_yuan}元）"


class IneligiblePerson(Model):
    """Staff of the platform or of a department, and interested parties: not eligible. Only
    keyed hashes of the phone and credit code are kept, to match reporters blind."""

    __tablename__ = "ineligible_person"

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(100), nullable=False)
    phone_digest: Mapped[str | None] = mapped_column(String(64), index=True)
    credit_digest: Mapped[str | None] = mapped_column(String(64), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    reason: Mapped[str] = mapped_column(String(200), nullable=False)

    department: Mapped[Department | None] = relationship()


class Reward(Model):
    """One reporter's reward on one case. Its state and amounts are a projection of the ledger,
    written only by the reward services."""

    __tablename__ = "reward"
    __table_args__ = (
        UniqueConstraint("case_id", "reporter_id", name="uq_reward_case_reporter"),
        Index("ix_reward_status_due", "status", "payment_due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), nullable=False, index=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("reporter.id"), nullable=False)
    tier_id: Mapped[int] = mapped_column(ForeignKey("reward_tier.id"), nullable=False)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    amount_yuan: Mapped[int] = mapped_column(Integer, nullable=False)
    approvals_needed: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[RewardState] = mapped_column(enum_column_type(RewardState), nullable=False)
    proposed_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    approved_at: Mapped[datetime | None] = mapped_column(DateTime)
    payment_due_at: Mapped[datetime | None] = mapped_column(DateTime)
    paid_at: Mapped[datetime | None] = mapped_column(DateTime)
    # One reward per case, unless the supervisor splits it among the case's reporters.
    split: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default="0")

    case = relationship("Case")
    tier: Mapped[RewardTier] = relationship()
    department: Mapped[Department | None] = relationship()
    entries = relationship("RewardEntry", order_by="RewardEntry.id", back_populates="reward")

    def __str__(self) -> str:
        return f"#{self.id}"


class RewardEntry(Model):
    """The ledger: proposals, approvals, refusals, claims, payments, reversals. Never updated."""

    __tablename__ = "reward_entry"
    __table_args__ = (Index("ix_reward_entry_kind_at", "kind", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reward_id: Mapped[int] = mapped_column(ForeignKey("reward.id"), nullable=False, index=True)
    kind: Mapped[EntryKind] = mapped_column(enum_column_type(EntryKind), nullable=False)
    amount_yuan: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    actor_name: Mapped[str] = mapped_column(String(128), nullable=False)
    note: Mapped[str | None] = mapped_column(Text)
    method: Mapped[PayMethod | None] = mapped_column(enum_column_type(PayMethod))
    reference: Mapped[str | None] = mapped_column(String(100))
    due_at: Mapped[datetime | None] = mapped_column(DateTime)

    reward = relationship("Reward", back_populates="entries")


class RewardClaim(Model):
    """How the reporter wants to be paid; encrypted, read only by those who pay. Never updated:
    a new claim replaces the previous one."""

    __tablename__ = "reward_claim"

    id: Mapped[int] = mapped_column(primary_key=True)
    reward_id: Mapped[int] = mapped_column(ForeignKey("reward.id"), nullable=False, index=True)
    method: Mapped[PayMethod] = mapped_column(enum_column_type(PayMethod), nullable=False)
    account_name: Mapped[str | None] = mapped_column(EncryptedText)
    bank: Mapped[str | None] = mapped_column(EncryptedText)
    account_number: Mapped[str | None] = mapped_column(EncryptedText)
    phone: Mapped[str | None] = mapped_column(EncryptedText)
    submitted_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)


append_only(RewardEntry, RewardClaim)
