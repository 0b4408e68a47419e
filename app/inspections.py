"""Inspections registered by scanning (入企扫码, seed 002 Xingtai): states, actions, the
transition table, results and the bases of an inspection (pure).

登记 register (time in, officers present, basis, items) → 结束 finish (time out, result) →
企业确认 confirm (the enterprise rates it). The enterprise may report a problem at any time,
which files a case (category 多头检查/重复检查) linked to the inspection.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from app.workflow import N_, Role

#: Enforcement rules require at least two officers present at an inspection.
MIN_OFFICERS = 2


class InspectionState(StrEnum):
    IN_PROGRESS = "in_progress"  # registered on entering, not finished
    FINISHED = "finished"  # time out and result recorded, awaiting the enterprise
    CONFIRMED = "confirmed"  # the enterprise confirmed (and rated) it


class InspectionAction(StrEnum):
    FINISH = "finish"
    CONFIRM = "confirm"
    REPORT_PROBLEM = "report_problem"


class InspectionResult(StrEnum):
    NO_PROBLEM = "no_problem"  # 未发现问题
    ADVISED = "advised"  # 现场指导/提醒
    RECTIFY = "rectify"  # 责令整改
    PENALTY = "penalty"  # 立案处罚
    OTHER = "other"


class BasisKind(StrEnum):
    """What an administrator's list entry is: a basis (why) or an item (what is inspected)."""

    BASIS = "basis"
    ITEM = "item"


@dataclass(frozen=True)
class InspectionMove:
    action: InspectionAction
    source: InspectionState
    target: InspectionState
    roles: frozenset[Role]


_S, _A = InspectionState, InspectionAction
# The enterprise acts through its own code (Role.REPORTER: the public, never a staff account).
TRANSITIONS: tuple[InspectionMove, ...] = (
    InspectionMove(_A.FINISH, _S.IN_PROGRESS, _S.FINISHED, frozenset({Role.INSPECTOR})),
    InspectionMove(_A.CONFIRM, _S.FINISHED, _S.CONFIRMED, frozenset({Role.REPORTER})),
    *(
        InspectionMove(_A.REPORT_PROBLEM, s, s, frozenset({Role.REPORTER}))
        for s in (_S.IN_PROGRESS, _S.FINISHED, _S.CONFIRMED)
    ),
)
_BY_KEY = {(m.action, m.source): m for m in TRANSITIONS}


def find_move(action: InspectionAction, source: InspectionState) -> InspectionMove | None:
    """Return the table row for ``action`` from ``source``, if there is one."""
    return _BY_KEY.get((InspectionAction(action), InspectionState(source)))


LABELS = {
    InspectionState.IN_PROGRESS: N_("In progress"),
    InspectionState.FINISHED: N_("Finished, awaiting the enterprise"),
    InspectionState.CONFIRMED: N_("Confirmed by the enterprise"),
    InspectionAction.FINISH: N_("Finish the inspection"),
    InspectionAction.CONFIRM: N_("Confirm the inspection"),
    InspectionAction.REPORT_PROBLEM: N_("Report a problem"),
    InspectionResult.NO_PROBLEM: N_("No problem found"),
    InspectionResult.ADVISED: N_("Advice given on the spot"),
    InspectionResult.RECTIFY: N_("Rectification ordered"),
    InspectionResult.PENALTY: N_("Case opened for a penalty"),
    InspectionResult.OTHER: N_("Other"),
    BasisKind.BASIS: N_("Basis"),
    BasisKind.ITEM: N_("Item inspected"),
}


def credit_code_is_valid(code: str) -> bool:
    """Check a unified social credit code (GB 32100-2015): 18 characters of the code set,
    the last a check character of the first 17 (weights 3^i mod 31)."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    if len(code) != 18 or any(ch not in alphabet for ch in code):
        return False
    total = sum(alphabet.index(ch) * pow(3, i, 31) for i, ch in enumerate(code[:17]))
    return alphabet[(31 - total % 31) % 31] == code[17]
