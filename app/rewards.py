"""Rewards for verified reports (DOMAIN.md, seed 000): tiers, the reward flow and its table (pure).

tier 1 key evidence 500–2000 yuan, tier 2 detailed lead 200–500, tier 3 general lead 100–200;
paid within 15 working days after verification and rectification; amounts above a limit need a
second approver. Every step is a ledger row; the state below is a projection of the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from app.workflow import N_, Role


class RewardState(StrEnum):
    PROPOSED = "proposed"
    PARTLY_APPROVED = "partly_approved"  # one of two approvals given
    APPROVED = "approved"  # payment clock running, waiting for the reporter's details
    CLAIMED = "claimed"  # the reporter said how to be paid
    PAID = "paid"
    CONFIRMED = "confirmed"  # the reporter confirmed receipt
    REFUSED = "refused"


class RewardAction(StrEnum):
    APPROVE = "approve"
    REFUSE = "refuse"
    CLAIM = "claim"
    PAY = "pay"
    REVERSE = "reverse"  # a payment that did not arrive is reversed (a new row, never an edit)
    CONFIRM = "confirm"


class EntryKind(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    REFUSED = "refused"
    CLAIMED = "claimed"
    PAID = "paid"
    REVERSED = "reversed"
    CONFIRMED = "confirmed"
    PAYMENT_REMINDED = "payment_reminded"


class PayMethod(StrEnum):
    BANK = "bank"
    MOBILE = "mobile"


@dataclass(frozen=True)
class RewardMove:
    action: RewardAction
    source: RewardState
    target: RewardState | None  # None: decided by the number of approvals
    roles: frozenset[Role]


def _m(action, sources, target, roles):
    return [RewardMove(action, s, target, frozenset(roles)) for s in sources]


_S, _A, _R = RewardState, RewardAction, Role
REWARD_MOVES: tuple[RewardMove, ...] = tuple(
    _m(_A.APPROVE, [_S.PROPOSED, _S.PARTLY_APPROVED], None, [_R.SUPERVISOR, _R.LEADER])
    + _m(_A.REFUSE, [_S.PROPOSED, _S.PARTLY_APPROVED], _S.REFUSED, [_R.SUPERVISOR, _R.LEADER])
    + _m(_A.CLAIM, [_S.APPROVED, _S.CLAIMED], _S.CLAIMED, [_R.REPORTER])
    + _m(_A.PAY, [_S.CLAIMED], _S.PAID, [_R.FINANCE])
    + _m(_A.REVERSE, [_S.PAID], _S.CLAIMED, [_R.FINANCE])
    + _m(_A.CONFIRM, [_S.PAID], _S.CONFIRMED, [_R.REPORTER])
)
_BY_KEY = {(m.action, m.source): m for m in REWARD_MOVES}


def find_move(action: RewardAction, source: RewardState) -> RewardMove | None:
    return _BY_KEY.get((RewardAction(action), RewardState(source)))


def allowed_reward_actions(state: RewardState, roles) -> list[RewardAction]:
    return [m.action for m in REWARD_MOVES if m.source == state and m.roles & set(roles)]


@dataclass(frozen=True)
class Tier:
    code: str
    min_yuan: int
    max_yuan: int


DEFAULT_TIERS = (
    ("tier1", "一档：关键证据（录音、合同等）", 500, 2000),
    ("tier2", "二档：线索详实、需进一步查证", 200, 500),
    ("tier3", "三档：一般线索", 100, 200),
)


def approvals_needed(amount_yuan: int, second_approval_above: int) -> int:
    """Amounts above the limit need a second, different approver."""
    return 2 if amount_yuan > second_approval_above else 1


def amount_within(tier: Tier, amount_yuan: int) -> bool:
    return tier.min_yuan <= amount_yuan <= tier.max_yuan


REWARD_LABELS = {
    RewardState.PROPOSED: N_("Proposed"),
    RewardState.PARTLY_APPROVED: N_("First approval given"),
    RewardState.APPROVED: N_("Approved, awaiting payment details"),
    RewardState.CLAIMED: N_("Payment details received"),
    RewardState.PAID: N_("Paid"),
    RewardState.CONFIRMED: N_("Receipt confirmed"),
    RewardState.REFUSED: N_("Refused"),
    RewardAction.APPROVE: N_("Approve"),
    RewardAction.REFUSE: N_("Refuse"),
    RewardAction.CLAIM: N_("Submit payment details"),
    RewardAction.PAY: N_("Record payment"),
    RewardAction.REVERSE: N_("Reverse payment"),
    RewardAction.CONFIRM: N_("Confirm receipt"),
    EntryKind.CLAIMED: N_("Payment details submitted"),
    EntryKind.REVERSED: N_("Payment reversed"),
    EntryKind.PAYMENT_REMINDED: N_("Payment overdue: supervision raised"),
    PayMethod.BANK: N_("Bank transfer"),
    PayMethod.MOBILE: N_("Mobile top-up"),
}
