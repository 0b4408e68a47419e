"""SQLAlchemy models of 营商110 (tables share FAB's MetaData)."""

from models.case import Assignment, Case, CaseEvent, ExtensionRequest, ReporterIdentity
from models.reference import (
    CalendarDay,
    CalendarYear,
    Category,
    DeadlinePolicy,
    Department,
    DispatchRule,
    Setting,
)
from models.user import Staff

__all__ = [
    "Assignment",
    "CalendarDay",
    "CalendarYear",
    "Case",
    "CaseEvent",
    "Category",
    "DeadlinePolicy",
    "Department",
    "DispatchRule",
    "ExtensionRequest",
    "ReporterIdentity",
    "Setting",
    "Staff",
]
