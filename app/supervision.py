"""Supervision notices (DOMAIN.md, seed 004): kinds, causes and numbering (pure).

1. 提醒敦促函 reminder letter — a case left unsigned, overdue, or reported again unhandled;
2. 整改通知书 rectification notice — repeated returns, two unsatisfied results on one case, or a
   case still overdue some working days after its reminder;
3. 约谈通知书 interview notice — a supervisor's decision (the system lists qualifying cases).
The first two are raised by the sweep; each cause has a key, so none is raised twice.
"""

from __future__ import annotations

from enum import StrEnum

from app.workflow import N_


class NoticeKind(StrEnum):
    REMINDER = "reminder"
    RECTIFICATION = "rectification"
    INTERVIEW = "interview"
    ASSIGNMENT = "assignment"  # 交办函: a C-grade report handed to its functional department


class NoticeCause(StrEnum):
    UNSIGNED = "unsigned"
    OVERDUE = "overdue"
    REPORTED_AGAIN = "reported_again"
    REPEATED_RETURNS = "repeated_returns"
    TWO_UNSATISFIED = "two_unsatisfied"
    OVERDUE_AFTER_REMINDER = "overdue_after_reminder"
    REWARD_UNPAID = "reward_unpaid"
    SUPERVISOR_DECISION = "supervisor_decision"
    IMPROPER_CLOSE_REQUESTS = "improper_close_requests"  # replies refused as improper, 004
    GRADE_C_ASSIGNMENT = "grade_c_assignment"  # the 交办函 of a C-grade report, 002
    WARNING_REMINDER = "warning_reminder"  # an early warning worked by a reminder letter
    WARNING_RECTIFICATION = "warning_rectification"  # an early warning worked by a rectification notice


class NoticeState(StrEnum):
    ISSUED = "issued"
    ACKNOWLEDGED = "acknowledged"
    ANSWERED = "answered"
    CLOSED = "closed"


KIND_OF_CAUSE = {
    NoticeCause.UNSIGNED: NoticeKind.REMINDER,
    NoticeCause.OVERDUE: NoticeKind.REMINDER,
    NoticeCause.REPORTED_AGAIN: NoticeKind.REMINDER,
    NoticeCause.REPEATED_RETURNS: NoticeKind.RECTIFICATION,
    NoticeCause.TWO_UNSATISFIED: NoticeKind.RECTIFICATION,
    NoticeCause.OVERDUE_AFTER_REMINDER: NoticeKind.RECTIFICATION,
    NoticeCause.REWARD_UNPAID: NoticeKind.REMINDER,
    NoticeCause.SUPERVISOR_DECISION: NoticeKind.INTERVIEW,
    NoticeCause.IMPROPER_CLOSE_REQUESTS: NoticeKind.RECTIFICATION,
    NoticeCause.GRADE_C_ASSIGNMENT: NoticeKind.ASSIGNMENT,
    NoticeCause.WARNING_REMINDER: NoticeKind.REMINDER,
    NoticeCause.WARNING_RECTIFICATION: NoticeKind.RECTIFICATION,
}

NOTICE_LABELS = {
    NoticeKind.REMINDER: N_("Reminder letter"),
    NoticeKind.RECTIFICATION: N_("Rectification notice"),
    NoticeKind.INTERVIEW: N_("Interview notice"),
    NoticeKind.ASSIGNMENT: N_("Assignment letter"),
    NoticeCause.UNSIGNED: N_("Dispatched case not signed for in time"),
    NoticeCause.OVERDUE: N_("Case not handled by its deadline"),
    NoticeCause.REPORTED_AGAIN: N_("Case reported again without being handled"),
    NoticeCause.REPEATED_RETURNS: N_("Case returned repeatedly (buck-passing)"),
    NoticeCause.TWO_UNSATISFIED: N_("Two unsatisfied results on one case"),
    NoticeCause.OVERDUE_AFTER_REMINDER: N_("Case still overdue after a reminder letter"),
    NoticeCause.REWARD_UNPAID: N_("Reward not paid by its deadline"),
    NoticeCause.SUPERVISOR_DECISION: N_("Decision of the supervisor's office"),
    NoticeCause.IMPROPER_CLOSE_REQUESTS: N_("Replies refused repeatedly as improper requests to close"),
    NoticeCause.GRADE_C_ASSIGNMENT: N_("C-grade report assigned with a rectification duty"),
    NoticeCause.WARNING_REMINDER: N_("Early warning"),
    NoticeCause.WARNING_RECTIFICATION: N_("Early warning"),
    NoticeState.ISSUED: N_("Issued"),
    NoticeState.ACKNOWLEDGED: N_("Acknowledged"),
    NoticeState.ANSWERED: N_("Answered"),
    NoticeState.CLOSED: N_("Closed"),
}

# Chinese titles on the documents themselves.
DOCUMENT_TITLES = {
    NoticeKind.REMINDER: "提醒敦促函",
    NoticeKind.RECTIFICATION: "整改通知书",
    NoticeKind.INTERVIEW: "约谈通知书",
    NoticeKind.ASSIGNMENT: "交办函",
}


def notice_number(prefix: str, year: int, sequence: int) -> str:
    """Format a notice number the way Chinese government documents are numbered (GB/T 9704:
    发文机关代字, the year in 六角括号, the sequence without 第 or leading zeros), in the issuing
    office's own series: ``石营商督〔2026〕12号``."""
    return f"{prefix}〔{year}〕{sequence}号"


def cause_key(cause: NoticeCause, subject: str) -> str:
    """The idempotency key of a cause: the same cause on the same subject raises one notice."""
    return f"{KIND_OF_CAUSE[cause]}:{cause}:{subject}"
