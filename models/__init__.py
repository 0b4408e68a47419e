"""SQLAlchemy models of 营商110 (tables share FAB's MetaData)."""

from models.audit import AuditHead, AuditRecord
from models.case import Assignment, Case, CaseEvent, ExtensionRequest
from models.case_figures import CaseFigureBuilt, CaseFigureMonth, CaseFigureStale
from models.connected import CallbackSubscription
from models.early_warning import EarlyWarning, WarningEvent, WarningModel, early_warning_case
from models.handling import ClockPause, Dispute, Finding, Rectification
from models.inspection import (
    EnforcementOfficer,
    Enterprise,
    Inspection,
    InspectionItem,
    inspection_item_link,
    inspection_officer,
    inspection_unit,
)
from models.kpi import KpiBuiltMonth, KpiMonth, KpiStale
from models.protection import IdentityRequest
from models.publication import GeneratedReport, ReportCounter, TypicalCase
from models.reference import (
    CalendarDay,
    CalendarYear,
    Category,
    DeadlinePolicy,
    Department,
    DispatchRule,
    Jurisdiction,
    JurisdictionSetting,
    ReferenceVersion,
    Setting,
)
from models.reporting import (
    Attachment,
    CaseLink,
    CaseMessage,
    IdentityAccess,
    Reporter,
    ServiceWindow,
    TrackingAttempt,
    UsedChallenge,
)
from models.rewards import IneligiblePerson, Reward, RewardClaim, RewardEntry, RewardTier
from models.supervision import (
    InboxMessage,
    Notice,
    NoticeCounter,
    Notification,
    RevisitTask,
)
from models.user import Staff

__all__ = [
    "CallbackSubscription",
    "EarlyWarning",
    "WarningEvent",
    "WarningModel",
    "early_warning_case",
    "EnforcementOfficer",
    "Enterprise",
    "Inspection",
    "InspectionItem",
    "inspection_item_link",
    "inspection_officer",
    "inspection_unit",
    "CaseFigureBuilt",
    "CaseFigureMonth",
    "CaseFigureStale",
    "KpiBuiltMonth",
    "KpiMonth",
    "KpiStale",
    "Jurisdiction",
    "JurisdictionSetting",
    "ReferenceVersion",
    "ClockPause",
    "Dispute",
    "Finding",
    "Rectification",
    "AuditHead",
    "AuditRecord",
    "GeneratedReport",
    "TypicalCase",
    "IneligiblePerson",
    "Reward",
    "RewardClaim",
    "RewardEntry",
    "RewardTier",
    "InboxMessage",
    "Notice",
    "NoticeCounter",
    "ReportCounter",
    "Notification",
    "RevisitTask",
    "Attachment",
    "CaseLink",
    "CaseMessage",
    "IdentityAccess",
    "IdentityRequest",
    "ServiceWindow",
    "TrackingAttempt",
    "UsedChallenge",
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
    "Reporter",
    "Setting",
    "Staff",
]
