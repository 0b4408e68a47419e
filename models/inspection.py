"""Enterprises, enforcement officers and the inspections they register by scanning (入企扫码)."""

from __future__ import annotations

from datetime import datetime

from flask_appbuilder import Model
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.enums import Rating
from app.inspections import BasisKind, InspectionResult, InspectionState
from models.reference import Department, Jurisdiction
from models.types import EncryptedText, enum_column_type


class Enterprise(Model):
    """An enterprise of the registry (imported from CSV/XLSX, editable). Its QR code carries
    ``token`` (never the credit code); ``confirm_token`` is the enterprise's own code, kept by
    the enterprise, through which it confirms and rates inspections."""

    __tablename__ = "enterprise"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    credit_code: Mapped[str] = mapped_column(String(18), unique=True, nullable=False)
    region: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    industry: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    # The office whose area the enterprise is in (from the region), for scope.
    jurisdiction_id: Mapped[int | None] = mapped_column(ForeignKey("jurisdiction.id"), index=True)
    contact_name: Mapped[str | None] = mapped_column(String(64))
    contact_phone: Mapped[str | None] = mapped_column(EncryptedText)
    token: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    confirm_token: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    # 无事不扰: an inspection needs a reason the supervisor sees.
    no_disturb: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)

    jurisdiction: Mapped[Jurisdiction | None] = relationship()

    def __str__(self) -> str:
        return self.name


class InspectionItem(Model):
    """An administrator's list entry: a basis of inspection (双随机 task, a complaint, a
    special campaign) or an item inspected."""

    __tablename__ = "inspection_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[BasisKind] = mapped_column(enum_column_type(BasisKind), nullable=False)
    code: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    sort_order: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    def __str__(self) -> str:
        return self.name


class EnforcementOfficer(Model):
    """A law-enforcement officer with a certificate (执法证), of a unit (department); an
    officer who registers inspections has a staff account with the Inspector role."""

    __tablename__ = "enforcement_officer"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    certificate_no: Mapped[str] = mapped_column(String(40), unique=True, nullable=False)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), nullable=False, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    department: Mapped[Department] = relationship()
    user = relationship("Staff")

    def __str__(self) -> str:
        return f"{self.name}（{self.certificate_no}）"


inspection_officer = Table(
    "inspection_officer",
    Model.metadata,
    Column("inspection_id", ForeignKey("inspection.id"), primary_key=True),
    Column("officer_id", ForeignKey("enforcement_officer.id"), primary_key=True),
    Index("ix_inspection_officer_officer", "officer_id", "inspection_id"),
)
inspection_item_link = Table(
    "inspection_item_link",
    Model.metadata,
    Column("inspection_id", ForeignKey("inspection.id"), primary_key=True),
    Column("item_id", ForeignKey("inspection_item.id"), primary_key=True),
)
# The other units of a joint inspection (联合检查); the lead unit is Inspection.department_id.
inspection_unit = Table(
    "inspection_unit",
    Model.metadata,
    Column("inspection_id", ForeignKey("inspection.id"), primary_key=True),
    Column("department_id", ForeignKey("department.id"), primary_key=True),
)


class Inspection(Model):
    """One inspection of an enterprise, registered on entering by an officer who scanned its
    code; finished with the time out and the result; confirmed and rated by the enterprise."""

    __tablename__ = "inspection"
    __table_args__ = (
        UniqueConstraint("number", name="uq_inspection_number"),
        CheckConstraint("ended_at IS NULL OR ended_at >= started_at", name="ck_inspection_times"),
        CheckConstraint("state = 'in_progress' OR result IS NOT NULL", name="ck_inspection_result"),
        Index("ix_inspection_enterprise_started", "enterprise_id", "started_at"),
        Index("ix_inspection_department_started", "department_id", "started_at"),
        Index("ix_inspection_jurisdiction_started", "jurisdiction_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(24), nullable=False)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), nullable=False)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), nullable=False)
    jurisdiction_id: Mapped[int | None] = mapped_column(ForeignKey("jurisdiction.id"))
    registered_by_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id"))
    basis_id: Mapped[int] = mapped_column(ForeignKey("inspection_item.id"), nullable=False)
    basis_note: Mapped[str | None] = mapped_column(String(200))  # e.g. the 双随机 task number
    joint: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    state: Mapped[InspectionState] = mapped_column(
        enum_column_type(InspectionState), nullable=False, default=InspectionState.IN_PROGRESS
    )
    started_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)
    result: Mapped[InspectionResult | None] = mapped_column(enum_column_type(InspectionResult))
    result_note: Mapped[str | None] = mapped_column(Text)
    # Required when the enterprise is on the 无事不扰 list; the supervisor sees it.
    no_disturb_reason: Mapped[str | None] = mapped_column(Text)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime)
    rating: Mapped[Rating | None] = mapped_column(enum_column_type(Rating))
    rating_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)

    enterprise: Mapped[Enterprise] = relationship()
    department: Mapped[Department] = relationship(foreign_keys=[department_id])
    jurisdiction: Mapped[Jurisdiction | None] = relationship()
    basis: Mapped[InspectionItem] = relationship(foreign_keys=[basis_id])
    officers: Mapped[list[EnforcementOfficer]] = relationship(
        secondary=inspection_officer, order_by=EnforcementOfficer.id
    )
    items: Mapped[list[InspectionItem]] = relationship(
        secondary=inspection_item_link, order_by=InspectionItem.id
    )
    partner_units: Mapped[list[Department]] = relationship(secondary=inspection_unit, order_by=Department.id)
    problem_cases = relationship("Case", back_populates="inspection", order_by="Case.id")

    def __str__(self) -> str:
        return self.number
