"""Reference data an administrator configures: departments, categories, calendar, rules."""

from __future__ import annotations

from datetime import date

from flask_appbuilder import Model
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.enums import CaseType, DeptLevel, Urgency
from models.types import enum_column_type


def _where(condition: str) -> dict:
    """A partial index's condition, on PostgreSQL and SQLite alike."""
    return {"postgresql_where": text(condition), "sqlite_where": text(condition)}


class Jurisdiction(Model):
    """A level of government that runs a 营商环境 office (province, city, county): it owns the
    cases of its region, its staff act on them, and it issues documents in its own name.

    ``path`` holds the ids from the root down to this one ("/1/4/9/"), kept by
    ``app.services.jurisdictions``: "this jurisdiction and every one under it" is then one
    ``LIKE '/1/4/%'`` on a small table (the scope clause, DOMAIN.md "Jurisdictions")."""

    __tablename__ = "jurisdiction"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    level: Mapped[DeptLevel] = mapped_column(enum_column_type(DeptLevel), nullable=False)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("jurisdiction.id"), index=True)
    # The region path it governs (清源省/石门市/长河县): a case of this region or below is its own.
    region: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    path: Mapped[str] = mapped_column(String(200), nullable=False, default="", index=True)
    # The office that runs the platform here, and the authority documents are issued by.
    office_name: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    issuing_authority: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    # The prefix of its document numbers: 石营商督 gives 石营商督〔2026〕12号.
    doc_prefix: Mapped[str] = mapped_column(String(20), unique=True, nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    # What its official documents print (GB/T 9704): the 附注 contact person and phone, the 抄送
    # line of notices (one office per line), and the seal image an administrator uploaded (the
    # SHA-256 of a PNG kept content-addressed under SEAL_DIR; None: the no-seal layout).
    contact_name: Mapped[str] = mapped_column(String(40), nullable=False, default="")
    contact_phone: Mapped[str] = mapped_column(String(40), nullable=False, default="")
    notice_copy_to: Mapped[str] = mapped_column(Text, nullable=False, default="")
    seal_sha256: Mapped[str | None] = mapped_column(String(64))

    parent: Mapped[Jurisdiction | None] = relationship(remote_side=[id], backref="children")

    @property
    def authority(self) -> str:
        """The name documents are issued under."""
        return self.issuing_authority or self.office_name or self.name

    def __str__(self) -> str:
        return self.name


class Department(Model):
    __tablename__ = "department"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    code: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    level: Mapped[DeptLevel] = mapped_column(enum_column_type(DeptLevel), nullable=False)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), index=True)
    head: Mapped[str | None] = mapped_column(String(64))
    region: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    # The jurisdiction whose government the department belongs to (None: the root).
    jurisdiction_id: Mapped[int | None] = mapped_column(ForeignKey("jurisdiction.id"), index=True)
    # 纪检监察: its staff investigate A-grade reports (a detailed allegation against an official)
    # and see who filed the ones their department handles.
    discipline_inspection: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )

    parent: Mapped[Department | None] = relationship(remote_side=[id], backref="children")
    jurisdiction: Mapped[Jurisdiction | None] = relationship()

    def __str__(self) -> str:
        return self.name


class Category(Model):
    __tablename__ = "category"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    code: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("category.id"), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    sort_order: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    parent: Mapped[Category | None] = relationship(remote_side=[id], backref="children")

    def __str__(self) -> str:
        return f"{self.parent.name} / {self.name}" if self.parent else self.name


class CalendarYear(Model):
    """A year whose official schedule has been entered (others count Monday–Friday)."""

    __tablename__ = "calendar_year"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    official: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    note: Mapped[str | None] = mapped_column(String(200))

    def __str__(self) -> str:
        return str(self.year)


class CalendarDay(Model):
    """An exception to Monday–Friday: a holiday, or a make-up workday (调休). Without a
    jurisdiction it is the State Council's; with one, a regional day of that jurisdiction
    (Guangxi's 三月三), inherited by the jurisdictions below it."""

    __tablename__ = "calendar_day"
    __table_args__ = (
        CheckConstraint("kind in ('holiday', 'workday')", name="ck_calendar_kind"),
        Index("uq_calendar_day_national", "day", unique=True, **_where("jurisdiction_id IS NULL")),
        Index("uq_calendar_day_regional", "jurisdiction_id", "day", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, nullable=False)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    name: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    jurisdiction_id: Mapped[int | None] = mapped_column(ForeignKey("jurisdiction.id"))

    jurisdiction: Mapped[Jurisdiction | None] = relationship()

    def __str__(self) -> str:
        return f"{self.day} {self.name}"


class DeadlinePolicy(Model):
    """Working days allowed for a case type / urgency / multi-department combination."""

    __tablename__ = "deadline_policy"
    __table_args__ = (CheckConstraint("working_days >= 0 AND working_days <= 365", name="ck_policy_days"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_type: Mapped[CaseType | None] = mapped_column(enum_column_type(CaseType))
    urgency: Mapped[Urgency | None] = mapped_column(enum_column_type(Urgency))
    multi_department: Mapped[bool | None] = mapped_column(Boolean)
    working_days: Mapped[int] = mapped_column(Integer, nullable=False)
    note: Mapped[str | None] = mapped_column(String(200))
    # None: the rule of every jurisdiction; else this jurisdiction's (and those below it).
    jurisdiction_id: Mapped[int | None] = mapped_column(ForeignKey("jurisdiction.id"), index=True)

    jurisdiction: Mapped[Jurisdiction | None] = relationship()


class DispatchRule(Model):
    """Category / region / keywords → department; the most specific match wins."""

    __tablename__ = "dispatch_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("category.id"))
    region: Mapped[str | None] = mapped_column(String(100))
    keywords: Mapped[str | None] = mapped_column(String(500))
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), nullable=False)
    priority: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    note: Mapped[str | None] = mapped_column(String(200))
    jurisdiction_id: Mapped[int | None] = mapped_column(ForeignKey("jurisdiction.id"), index=True)

    category: Mapped[Category | None] = relationship()
    department: Mapped[Department] = relationship()
    jurisdiction: Mapped[Jurisdiction | None] = relationship()


class Setting(Model):
    """A number of the rulebook an administrator may change (e.g. hours to sign)."""

    __tablename__ = "setting"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, nullable=False)
    description: Mapped[str | None] = mapped_column(String(200))


class JurisdictionSetting(Model):
    """A jurisdiction's own value of a setting (the settings table holds the root's): the
    nearest jurisdiction up the tree that sets a key wins."""

    __tablename__ = "jurisdiction_setting"

    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdiction.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, nullable=False)

    jurisdiction: Mapped[Jurisdiction] = relationship()

    def __str__(self) -> str:
        return f"{self.jurisdiction_id}:{self.key}={self.value}"


# The tables a filing reads its jurisdiction, calendar and settings from (app.services.cases):
# any change to one of their rows gives ``reference_version`` a new random value, by triggers
# (models/migrations, f8b9c0d1e2f3), whatever made the change (a screen, the API, a migration,
# plain SQL). Random, not counted: a rolled-back edit's value is never given again to another.
REFERENCE_TABLES = ("calendar_day", "calendar_year", "setting", "jurisdiction_setting", "jurisdiction")


class ReferenceVersion(Model):
    """One row: the version of the reference data a filing caches (``REFERENCE_TABLES``)."""

    __tablename__ = "reference_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, nullable=False)
