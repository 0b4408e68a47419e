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
    ReportKind.BULLETIN: N_("Monthly bulletin"),
    ReportKind.ASSESSMENT: N_("Assessment report"),
}
