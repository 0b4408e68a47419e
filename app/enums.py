"""Enumerations of the domain with their translatable labels (pure)."""

from __future__ import annotations

from enum import StrEnum

from app.workflow import N_


class CaseType(StrEnum):
    CONSULTATION = "consultation"
    HELP = "help"
    COMPLAINT = "complaint"
    REPORT = "report"
    SUGGESTION = "suggestion"


class Urgency(StrEnum):
    NORMAL = "normal"
    IMMEDIATE = "immediate"  # 立即查处
    THREE_DAY = "three_day"  # 3日办结
    SEVEN_DAY = "seven_day"  # 7日跟进


class Grade(StrEnum):
    """A/B/C grading of reports (Qiu county, seed 002)."""

    A = "a"
    B = "b"
    C = "c"


class Channel(StrEnum):
    WEB = "web"
    PHONE_12345 = "phone_12345"
    WINDOW = "window"
    LETTER = "letter"
    QR = "qr"
    API = "api"
    INSPECTION = "inspection"  # an enterprise reporting a problem with an inspection (入企扫码)
    WARNING = "warning"  # an early warning the supervisor's office dispatched as a case


class Rating(StrEnum):
    SATISFIED = "satisfied"
    BASICALLY_SATISFIED = "basically_satisfied"
    UNSATISFIED = "unsatisfied"


class EvaluationSource(StrEnum):
    REPORTER = "reporter"
    REVISIT_CALL = "revisit_call"


class RevisitMethod(StrEnum):
    """How a revisit to the reporter was made (recorded with the evaluation it gave)."""

    PHONE = "phone"
    SMS = "sms"
    VISIT = "visit"
    VIDEO = "video"


class DeclineReason(StrEnum):
    OUT_OF_SCOPE = "out_of_scope"
    DUPLICATE = "duplicate"
    INSUFFICIENT = "insufficient"


class DeptLevel(StrEnum):
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"


class AssignmentRole(StrEnum):
    LEAD = "lead"
    CO = "co"


class AssignmentState(StrEnum):
    DISPATCHED = "dispatched"
    SIGNED = "signed"
    DONE = "done"
    RETURNED = "returned"
    WITHDRAWN = "withdrawn"


class ExtensionState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"  # its round ended (another department, a re-handling) undecided


class IdentityRequestState(StrEnum):
    """A request to see who filed a case, decided by the identity custodian."""

    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"


class FindingResult(StrEnum):
    """What verification (核查) established about a report or complaint (seed 000)."""

    TRUE = "true"  # 属实
    PARTLY_TRUE = "partly_true"  # 部分属实
    UNTRUE = "untrue"  # 不属实
    UNVERIFIABLE = "unverifiable"  # 无法核实


# Findings that open rectification (整改) and may earn a reward.
FOUNDED = frozenset({FindingResult.TRUE, FindingResult.PARTLY_TRUE})


class RectificationState(StrEnum):
    """整改: opened by a founded finding, planned by the department, re-checked (复核) by the office."""

    AWAITING_PLAN = "awaiting_plan"
    PLANNED = "planned"  # measures, responsible person and deadline set; being carried out
    SUBMITTED = "submitted"  # completion reported with evidence, awaiting the re-check
    ACCEPTED = "accepted"  # the office's re-check accepted it


OPEN_RECTIFICATION = frozenset(
    {RectificationState.AWAITING_PLAN, RectificationState.PLANNED, RectificationState.SUBMITTED}
)


class RevisitOutcome(StrEnum):
    REACHED = "reached"
    NOT_REACHED = "not_reached"


class DisputeState(StrEnum):
    """A dispute between departments over who is responsible (004), decided by the office."""

    OPEN = "open"
    DECIDED = "decided"


class DeadlineState(StrEnum):
    NONE = "none"
    ON_TIME = "on_time"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    MET = "met"  # finished by the deadline
    MISSED = "missed"  # finished after the deadline


LABELS: dict[StrEnum, str] = {
    CaseType.CONSULTATION: N_("Consultation"),
    CaseType.HELP: N_("Help request"),
    CaseType.COMPLAINT: N_("Complaint"),
    CaseType.REPORT: N_("Report"),
    CaseType.SUGGESTION: N_("Suggestion"),
    Urgency.NORMAL: N_("Normal"),
    Urgency.IMMEDIATE: N_("Investigate immediately"),
    Urgency.THREE_DAY: N_("Close within 3 days"),
    Urgency.SEVEN_DAY: N_("Follow up within 7 days"),
    Grade.A: N_("A: detailed allegation against an official"),
    Grade.B: N_("B: allegation needing verification"),
    Grade.C: N_("C: ordinary business problem"),
    Channel.WEB: N_("Online"),
    Channel.PHONE_12345: N_("12345 hotline"),
    Channel.WINDOW: N_("Service window"),
    Channel.LETTER: N_("Letter"),
    Channel.QR: N_("Window QR code"),
    Channel.API: N_("Connected system"),
    Channel.INSPECTION: N_("Inspection registration (enterprise)"),
    Channel.WARNING: N_("Early warning"),
    Rating.SATISFIED: N_("Satisfied"),
    Rating.BASICALLY_SATISFIED: N_("Basically satisfied"),
    Rating.UNSATISFIED: N_("Unsatisfied"),
    EvaluationSource.REPORTER: N_("By the reporter"),
    EvaluationSource.REVISIT_CALL: N_("Revisit call"),
    RevisitMethod.PHONE: N_("By phone"),
    RevisitMethod.SMS: N_("By text message"),
    RevisitMethod.VISIT: N_("In person"),
    RevisitMethod.VIDEO: N_("By video call"),
    DeclineReason.OUT_OF_SCOPE: N_("Not within scope"),
    DeclineReason.DUPLICATE: N_("Duplicate"),
    DeclineReason.INSUFFICIENT: N_("Insufficient information"),
    DeptLevel.PROVINCE: N_("Province"),
    DeptLevel.CITY: N_("City"),
    DeptLevel.COUNTY: N_("County"),
    AssignmentRole.LEAD: N_("Lead"),
    AssignmentRole.CO: N_("Co-handling"),
    AssignmentState.DISPATCHED: N_("Awaiting signature"),
    AssignmentState.SIGNED: N_("Signed"),
    AssignmentState.DONE: N_("Done"),
    AssignmentState.RETURNED: N_("Returned"),
    AssignmentState.WITHDRAWN: N_("Withdrawn"),
    ExtensionState.PENDING: N_("Pending"),
    ExtensionState.APPROVED: N_("Approved"),
    ExtensionState.REFUSED: N_("Refused"),
    ExtensionState.WITHDRAWN: N_("Withdrawn with its round"),
    IdentityRequestState.PENDING: N_("Pending"),
    IdentityRequestState.APPROVED: N_("Approved"),
    IdentityRequestState.REFUSED: N_("Refused"),
    FindingResult.TRUE: N_("True"),
    FindingResult.PARTLY_TRUE: N_("Partly true"),
    FindingResult.UNTRUE: N_("Untrue"),
    FindingResult.UNVERIFIABLE: N_("Cannot be verified"),
    RectificationState.AWAITING_PLAN: N_("Awaiting the rectification plan"),
    RectificationState.PLANNED: N_("Being rectified"),
    RectificationState.SUBMITTED: N_("Completion reported, awaiting re-check"),
    RectificationState.ACCEPTED: N_("Rectified and re-checked"),
    RevisitOutcome.REACHED: N_("Reached"),
    RevisitOutcome.NOT_REACHED: N_("Not reached"),
    DisputeState.OPEN: N_("Awaiting the office's decision"),
    DisputeState.DECIDED: N_("Decided"),
    DeadlineState.NONE: N_("No deadline"),
    DeadlineState.ON_TIME: N_("On time"),
    DeadlineState.DUE_SOON: N_("Due soon"),
    DeadlineState.OVERDUE: N_("Overdue"),
    DeadlineState.MET: N_("Finished on time"),
    DeadlineState.MISSED: N_("Finished late"),
}
