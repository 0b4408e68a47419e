"""Reference data an administrator configures: departments, categories, calendar, rules."""

from __future__ import annotations

from datetime import date

from flask_appbuilder import Model
from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.enums import CaseType, DeptLevel, Urgency
from models.types import enum_column_type


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
    # 纪检监察: its staff investigate A-grade reports (a detailed allegation against an official)
    # and see who filed the ones their department handles.
    discipline_inspection: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )

    parent: Mapped[Department | None] = relationship(remote_side=[id], backref="children")

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
    """An exception to Monday–Friday: a holiday, or a make-up workday (调休)."""

    __tablename__ = "calendar_day"
    __table_args__ = (CheckConstraint("kind in ('holiday', 'workday')", name="ck_calendar_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True, nullable=False)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    name: Mapped[str] = mapped_column(String(64), nullable=False, default="")

    def __str__(self) -> str:
        return f"{self.day} {self.name}"


class DeadlinePolicy(Model):
    """Working days allowed for a case type / urgency / multi-department combination."""

    __tablename__ = "deadline_policy"
    __table_args__ = (CheckConstraint("working_days >= 0", name="ck_policy_days"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_type: Mapped[CaseType | None] = mapped_column(enum_column_type(CaseType))
    urgency: Mapped[Urgency | None] = mapped_column(enum_column_type(Urgency))
    multi_department: Mapped[bool | None] = mapped_column(Boolean)
    working_days: Mapped[int] = mapped_column(Integer, nullable=False)
    note: Mapped[str | None] = mapped_column(String(200))


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

    category: Mapped[Category | None] = relationship()
    department: Mapped[Department] = relationship()


class Setting(Model):
    """A number of the rulebook an administrator may change (e.g. hours to sign)."""

    __tablename__ = "setting"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, nullable=False)
    description: Mapped[str | None] = mapped_column(String(200))
