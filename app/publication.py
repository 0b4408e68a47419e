"""Typical cases and published reports: kinds and states (pure)."""

from __future__ import annotations

from enum import StrEnum

from app.workflow import N_


class TypicalKind(StrEnum):
    TYPICAL = "typical"
    EXEMPLARY = "exemplary"  # 示范
    WARNING = "warning"  # 警示


class TypicalState(StrEnum):
    DRAFT = "draft"  # the supervisor edits the redacted draft
    SUBMITTED = "submitted"  # waiting for a leader
    APPROVED = "approved"  # published
    RETURNED = "returned"  # the leader sent it back with a note


class ReportKind(StrEnum):
    BULLETIN = "bulletin"  # monthly typical-case bulletin
    ASSESSMENT = "assessment"  # department assessment and ranking


PUBLICATION_LABELS = {
    TypicalKind.TYPICAL: N_("Typical"),
    TypicalKind.EXEMPLARY: N_("Exemplary"),
    TypicalKind.WARNING: N_("Warning"),
    TypicalState.DRAFT: N_("Draft"),
    TypicalState.SUBMITTED: N_("Awaiting approval"),
    TypicalState.APPROVED: N_("Approved and published"),
    TypicalState.RETURNED: N_("Returned for revision"),
    ReportKind.BULLETIN: N_("Bulletin"),  # monthly, quarterly or annual, by its period
    ReportKind.ASSESSMENT: N_("Assessment report"),
}


# What the detector of personal data (app.redaction.Found) found, and where, in the message that
# refuses the publication of a typical case.
FOUND_LABELS = {
    "name": N_("name"),
    "company": N_("company name"),
    "phone": N_("phone number"),
    "id_number": N_("ID number"),
    "credit_code": N_("unified social credit code"),
    "account": N_("bank account"),
    "address": N_("detailed address"),
    "plate": N_("licence plate"),
    "email": N_("e-mail address"),
    "im": N_("QQ or WeChat id"),
    "self": N_("first-person self-description"),
    "case_number": N_("case number"),
}
FOUND_IN_HEADING = N_("heading")
FOUND_IN_PARAGRAPH = N_("summary, paragraph %(n)s")
FOUND_ITEM = N_("%(what)s “%(text)s” (%(where)s)")
