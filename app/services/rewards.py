"""Reward services: propose, approve (once or twice), refuse, claim, pay, reverse, confirm.

Each step appends a ledger row (RewardEntry, never updated) and refreshes the reward's
projection; totals are computed from the ledger. Payment details are encrypted and shown only
to Finance; they never appear in lists, logs or exports.

Rewards only on truth (000): a reward is proposed only for a report found 属实 or 部分属实 whose
rectification was accepted on the office's re-check (none still open), once evaluated or closed.
One reward per case, unless the supervisor splits it among the case's reporters (a case with
several, e.g. merged duplicates; DOMAIN.md): every share is then proposed as ``split``, one per
reporter, all in one tier; the shares together never exceed the tier's maximum (checked at each
proposal) and reach its minimum before any share is approved (checked at approval); the second
approval follows the total of the shares. A refused reward no longer counts.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import case as sql_case
from sqlalchemy import func, select

from app import deadlines as dl
from app.enums import FOUNDED, CaseType, RectificationState
from app.errors import IllegalMove, Invalid, NotAllowed, NotFound
from app.ids import as_id
from app.receipts import keyed_digest
from app.rewards import (
    REWARD_LABELS,
    EntryKind,
    PayMethod,
    RewardAction,
    RewardState,
    Tier,
    amount_within,
    approvals_needed,
    find_move,
)
from app.services import jurisdictions, visibility
from app.services import notifications as outbox
from app.services.actor import Actor
from app.services.calendar import load_calendar
from app.services.notices import raise_notice
from app.services.settings import get_settings
from app.supervision import NoticeCause
from app.workflow import N_, Role, Status
from models import (
    Case,
    IneligiblePerson,
    Reporter,
    Reward,
    RewardClaim,
    RewardEntry,
    RewardTier,
)


def _label(msgid: str) -> str:
    from flask_babel import gettext

    return gettext(msgid)


def _entry(reward: Reward, kind: EntryKind, actor: Actor, now: datetime, **fields) -> RewardEntry:
    entry = RewardEntry(kind=kind, at=now, actor_id=actor.id, actor_name=actor.name, **fields)
    reward.entries.append(entry)
    return entry


def _check(reward: Reward, action: RewardAction, actor: Actor):
    move = find_move(action, reward.status)
    if move is None:
        raise IllegalMove(
            N_("A reward that is “%(state)s” cannot be given the action “%(action)s”."),
            state=_label(REWARD_LABELS[reward.status]),
            action=_label(REWARD_LABELS[action]),
        )
    if not move.roles & actor.roles:
        raise NotAllowed(N_("Your role may not perform “%(action)s”."), action=_label(REWARD_LABELS[action]))
    return move


def _digest(value: str | None) -> str | None:
    return keyed_digest(current_app.config["QUERY_CODE_KEY"], value) if value else None


def person_digests(phone: str | None, credit_code: str | None) -> tuple[str | None, str | None]:
    """Keyed hashes of a phone (digits only) and a credit code (upper case), to match people
    against the ineligible list without storing either."""
    digits = "".join(c for c in phone or "" if c.isdigit()) or None
    return _digest(digits), _digest((credit_code or "").strip().upper() or None)


def ineligibility(session, case: Case, reporter: Reporter) -> str | None:
    """Why this reporter may not be rewarded on this case, or None."""
    digests = [d for d in person_digests(reporter.phone, reporter.credit_code) if d]
    if not digests:
        return None
    query = session.query(IneligiblePerson).filter(
        IneligiblePerson.phone_digest.in_(digests) | IneligiblePerson.credit_digest.in_(digests)
    )
    involved = {case.concerned_department_id, case.lead_department_id} - {None}
    for person in query:
        if person.department_id is None or person.department_id in involved:
            return person.reason
    return None


# When a report may be rewarded (000): verified as true or partly true, its rectification
# accepted on re-check, the reply rated.
REWARDABLE_STATUSES = (Status.EVALUATED, Status.CLOSED)


def why_not_rewardable(case: Case) -> str | None:
    """Why this case cannot earn a reward (a message id), or None: only a report found 属实 or
    部分属实 whose rectification was accepted on re-check, once evaluated or closed."""
    if case.case_type != CaseType.REPORT:
        return N_("Only reports are rewarded.")
    if case.finding is None:
        return N_("A report is rewarded only once verification has found it true or partly true.")
    if case.finding not in FOUNDED:
        return N_("A report found untrue or unverifiable earns no reward.")
    if case.open_rectification is not None or not any(
        r.state == RectificationState.ACCEPTED for r in case.rectifications
    ):
        return N_("A report is rewarded once its rectification has been accepted on re-check.")
    if case.status not in REWARDABLE_STATUSES:
        return N_("A report is rewarded once it has been verified and rectified.")
    return None


def _still_rewardable(reward: Reward) -> None:
    """A reward is approved and paid only while its report stands as found true and rectified:
    a later finding (after a re-handling) that it is untrue stops it until the office decides."""
    why_not = why_not_rewardable(reward.case)
    if why_not is not None:
        raise IllegalMove(
            N_("This reward cannot go further now: %(reason)s Refuse it or wait for the re-check."),
            reason=_label(why_not),
        )


def may_propose(case: Case, actor: Actor) -> bool:
    """The supervisor's office proposes rewards for reports once verified and rectified."""
    return (
        Role.SUPERVISOR in actor.roles
        and jurisdictions.is_own(actor, case.jurisdiction)
        and why_not_rewardable(case) is None
    )


def live_rewards(session, case_id: int) -> list[Reward]:
    """The rewards of a case that still stand (proposed, approved or paid; not refused)."""
    return (
        session.query(Reward)
        .filter(Reward.case_id == case_id, Reward.status != RewardState.REFUSED.value)
        .order_by(Reward.id)
        .all()
    )


def tiers_for(session, case: Case) -> list[RewardTier]:
    """The reward tiers of the case's jurisdiction: its own tier of a code overrides the one it
    inherits (levels_rules)."""
    from app.services.levels_rules import reward_tiers

    return reward_tiers(session, case.jurisdiction)


def may_split(case: Case) -> bool:
    """A reward may be split among the reporters of a case that has several (merged duplicates)."""
    return len(case.reporters) > 1


def _check_amount(session, case: Case, tier: RewardTier, amount: int, split: bool) -> None:
    """One reward per case, within its tier; or, split among the case's reporters, shares of one
    tier that together stay within the tier's maximum (the minimum applies to the whole reward
    when a share is approved, see ``_check_split_total``)."""
    others = live_rewards(session, case.id)
    if split and not may_split(case):
        raise Invalid(N_("A reward is split only among the several reporters of one case."))
    if others and not split:
        raise IllegalMove(
            N_("This case already has a reward: one reward per case, unless it is split among its reporters.")
        )
    if others and not all(r.split for r in others):
        raise IllegalMove(
            N_("This case's reward was not proposed as split; only shares of a split reward may be added.")
        )
    low, high = tier.min_yuan, tier.max_yuan
    if not split:
        if not amount_within(Tier(tier.code, low, high), amount):
            raise Invalid(
                N_("The amount must be between %(low)s and %(high)s yuan for this tier."), low=low, high=high
            )
        return
    if any(r.tier_id != tier.id for r in others):
        raise Invalid(N_("The shares of a split reward are all of the same tier."))
    given = sum(r.amount_yuan for r in others)
    if amount < 1 or given + amount > high:
        raise Invalid(
            N_(
                "The shares of a split reward together must stay within %(low)s to %(high)s yuan for "
                "this tier (already proposed: %(given)s yuan)."
            ),
            low=low,
            high=high,
            given=given,
        )


def split_total(session, case_id: int) -> int:
    """The amounts of a case's split reward, all its standing shares together."""
    return sum(r.amount_yuan for r in live_rewards(session, case_id) if r.split)


def _check_split_total(session, reward: Reward) -> int:
    """A share of a split reward is approved only once the shares together reach the tier's
    minimum; returns the total."""
    total = split_total(session, reward.case_id)
    if total < reward.tier.min_yuan:
        raise Invalid(
            N_(
                "The shares of this split reward come to %(total)s yuan, below this tier's minimum of "
                "%(low)s yuan: propose the other reporters' shares first."
            ),
            total=total,
            low=reward.tier.min_yuan,
        )
    return total


def propose_reward(
    session,
    case_id: int,
    *,
    actor: Actor,
    now: datetime,
    reporter_id,
    tier_id,
    amount,
    reasons,
    evidence=None,
    interested_party: bool = False,
    split: bool = False,
) -> Reward:
    """Propose a reward for a report found true or partly true and rectified (000); with
    ``split``, one reporter's share of a reward split among the case's reporters."""
    from app.services.cases import get_case

    if Role.SUPERVISOR not in actor.roles:
        raise NotAllowed(N_("Only the supervisor's office proposes rewards."))
    case = get_case(session, case_id, actor)
    _check_own_office(case, actor)
    why_not = why_not_rewardable(case)
    if why_not:
        raise Invalid(why_not)
    split = bool(split)
    try:
        reporter = next(r for r in case.reporters if r.id == int(reporter_id))
        tier_id = as_id(tier_id)
        tier = session.get(RewardTier, tier_id) if tier_id is not None else None
        amount = int(amount)
    except (StopIteration, TypeError, ValueError):
        raise Invalid(N_("Choose the reporter, the tier and a whole amount in yuan.")) from None
    if tier is None or tier.id not in {t.id for t in tiers_for(session, case)}:
        raise Invalid(N_("Choose the reporter, the tier and a whole amount in yuan."))
    if session.query(Reward.id).filter_by(case_id=case.id, reporter_id=reporter.id).first():
        raise IllegalMove(N_("This reporter already has a reward on this case."))
    _check_amount(session, case, tier, amount, split)
    reasons = (reasons or "").strip()
    if not reasons:
        raise Invalid(N_("State the reasons for the reward."))
    if interested_party:
        raise Invalid(N_("An interested party is not eligible for a reward."))
    why_not = ineligibility(session, case, reporter)
    if why_not:
        raise Invalid(N_("This reporter is not eligible: %(reason)s"), reason=why_not)
    settings = get_settings(session, case.jurisdiction)
    reward = Reward(
        case_id=case.id,
        reporter_id=reporter.id,
        tier_id=tier.id,
        department_id=case.concerned_department_id or case.lead_department_id,
        amount_yuan=amount,
        status=RewardState.PROPOSED,
        proposed_at=now,
        approvals_needed=approvals_needed(amount, settings["reward_second_approval_above"]),
        split=split,
    )
    session.add(reward)
    _entry(
        reward,
        EntryKind.PROPOSED,
        actor,
        now,
        amount_yuan=amount,
        note=f"{reasons}\n{(evidence or '').strip()}".strip(),
    )
    session.flush()
    return reward


def _reward(session, reward_id, actor: Actor | None = None) -> Reward:
    """A reward the actor may see (its case's visibility); an office acts only on the rewards
    of its own jurisdiction's cases (an upper office reads a county's, the county decides)."""
    reward_id = as_id(reward_id)
    reward = session.get(Reward, reward_id) if reward_id is not None else None
    if reward is not None and actor is not None:
        seen = session.execute(
            select(Reward.id).where(Reward.id == reward.id, visibility.visible_rewards_clause(actor))
        ).first()
        reward = reward if seen else None
    if reward is None:
        raise NotFound(N_("Reward not found."))
    if actor is not None:
        _check_own_office(reward.case, actor)
    return reward


def _check_own_office(case: Case, actor: Actor) -> None:
    if actor.sees_all_cases and not jurisdictions.is_own(actor, case.jurisdiction):
        raise NotAllowed(N_("A reward is decided by the office of the case's own jurisdiction."))


def approve_reward(session, reward_id, *, actor: Actor, now: datetime, note=None) -> Reward:
    """Approve; the payment clock starts when the last approval needed is given."""
    reward = _reward(session, reward_id, actor)
    _check(reward, RewardAction.APPROVE, actor)
    _still_rewardable(reward)
    proposer = next(e.actor_id for e in reward.entries if e.kind == EntryKind.PROPOSED)
    approvers = {e.actor_id for e in reward.entries if e.kind == EntryKind.APPROVED}
    if actor.id == proposer or actor.id in approvers:
        raise IllegalMove(
            N_("The approver must be someone other than the proposer and any earlier approver.")
        )
    if reward.split:  # the second approval follows the whole reward, not one share
        total = _check_split_total(session, reward)
        limit = get_settings(session, reward.case.jurisdiction)["reward_second_approval_above"]
        reward.approvals_needed = max(reward.approvals_needed, approvals_needed(total, limit))
    given = len(approvers) + 1
    due = None
    if given >= reward.approvals_needed:
        place = reward.case.jurisdiction
        due = dl.working_day_deadline(
            load_calendar(session, place), now, get_settings(session, place)["reward_payment_working_days"]
        ).due_at
        reward.status, reward.approved_at, reward.payment_due_at = RewardState.APPROVED, now, due
        reporter = session.get(Reporter, reward.reporter_id)
        if not reporter.anonymous and reporter.phone:
            outbox.add(
                session,
                key=f"reward_approved:{reward.id}",
                channel="sms",
                template="reward_approved",
                now=now,
                address=reporter.phone,
                case_id=reward.case_id,
                params={"number": reporter.receipt_number},
            )
    else:
        reward.status = RewardState.PARTLY_APPROVED
    _entry(reward, EntryKind.APPROVED, actor, now, note=note, due_at=due)
    session.flush()
    return reward


def refuse_reward(session, reward_id, *, actor: Actor, now: datetime, note) -> Reward:
    reward = _reward(session, reward_id, actor)
    _check(reward, RewardAction.REFUSE, actor)
    note = (note or "").strip()
    if not note:
        raise Invalid(N_("State the reason for refusing."))
    reward.status = RewardState.REFUSED
    _entry(reward, EntryKind.REFUSED, actor, now, note=note)
    session.flush()
    return reward


def claim_reward(
    session,
    reward: Reward,
    reporter: Reporter,
    *,
    now: datetime,
    method,
    account_name=None,
    bank=None,
    account_number=None,
    phone=None,
) -> Reward:
    """The reporter (named or anonymous, through the receipt) says how to be paid."""
    from app.services.reporting import REPORTER

    if reward.reporter_id != reporter.id:
        raise NotFound(N_("Reward not found."))
    _check(reward, RewardAction.CLAIM, REPORTER)
    try:
        method = PayMethod(method)
    except ValueError:
        raise Invalid(N_("Choose bank transfer or mobile top-up.")) from None
    clean = {
        k: (v or "").strip()[:100] or None
        for k, v in dict(
            account_name=account_name, bank=bank, account_number=account_number, phone=phone
        ).items()
    }
    if method == PayMethod.BANK and not (clean["account_name"] and clean["bank"] and clean["account_number"]):
        raise Invalid(N_("For a bank transfer give the account name, the bank and the account number."))
    if method == PayMethod.MOBILE and not (clean["phone"] or "").replace(" ", "").isdigit():
        raise Invalid(N_("For a mobile top-up give the phone number."))
    if method == PayMethod.MOBILE:
        clean.update(account_name=None, bank=None, account_number=None)
    else:
        clean["phone"] = None
    session.add(RewardClaim(reward_id=reward.id, method=method, submitted_at=now, **clean))
    reward.status = RewardState.CLAIMED
    _entry(reward, EntryKind.CLAIMED, REPORTER, now, method=method)
    session.flush()
    return reward


def payment_details(session, reward_id, *, actor: Actor) -> RewardClaim | None:
    """The latest payment details, for Finance only."""
    if Role.FINANCE not in actor.roles:
        raise NotAllowed(N_("Only those who pay see payment details."))
    reward = _reward(session, reward_id, actor)
    return session.query(RewardClaim).filter_by(reward_id=reward.id).order_by(RewardClaim.id.desc()).first()


def pay_reward(session, reward_id, *, actor: Actor, now: datetime, method, reference, note=None) -> Reward:
    """Finance records the payment (date, method, reference)."""
    reward = _reward(session, reward_id, actor)
    _check(reward, RewardAction.PAY, actor)
    _still_rewardable(reward)
    try:
        method = PayMethod(method)
    except ValueError:
        raise Invalid(N_("Choose bank transfer or mobile top-up.")) from None
    reference = (reference or "").strip()
    if not reference:
        raise Invalid(N_("Give the payment reference."))
    reward.status, reward.paid_at = RewardState.PAID, now
    _entry(
        reward,
        EntryKind.PAID,
        actor,
        now,
        amount_yuan=reward.amount_yuan,
        method=method,
        reference=reference[:100],
        note=note,
    )
    session.flush()
    return reward


def reverse_payment(session, reward_id, *, actor: Actor, now: datetime, note) -> Reward:
    """A payment that did not arrive is reversed by a new, negative row (never an edit)."""
    reward = _reward(session, reward_id, actor)
    _check(reward, RewardAction.REVERSE, actor)
    note = (note or "").strip()
    if not note:
        raise Invalid(N_("State why the payment is reversed."))
    reward.status, reward.paid_at = RewardState.CLAIMED, None
    _entry(reward, EntryKind.REVERSED, actor, now, amount_yuan=-reward.amount_yuan, note=note)
    session.flush()
    return reward


def confirm_receipt(session, reward: Reward, reporter: Reporter, *, now: datetime) -> Reward:
    from app.services.reporting import REPORTER

    if reward.reporter_id != reporter.id:
        raise NotFound(N_("Reward not found."))
    _check(reward, RewardAction.CONFIRM, REPORTER)
    reward.status = RewardState.CONFIRMED
    _entry(reward, EntryKind.CONFIRMED, REPORTER, now)
    session.flush()
    return reward


REWARD_SERVICES = {
    RewardAction.APPROVE: approve_reward,
    RewardAction.REFUSE: refuse_reward,
    RewardAction.PAY: pay_reward,
    RewardAction.REVERSE: reverse_payment,
}


def paid_totals(session, start: datetime, end: datetime, by: str = "tier", actor: Actor | None = None):
    """Net amounts paid in a period (payments minus reversals), per tier or department (of the
    rewards the actor may see; None: all)."""
    column = {"tier": Reward.tier_id, "department": Reward.department_id}[by]
    net = func.sum(RewardEntry.amount_yuan)
    count = func.sum(sql_case((RewardEntry.kind == EntryKind.PAID.value, 1), else_=0))
    return session.execute(
        select(column, net, count)
        .join(Reward, Reward.id == RewardEntry.reward_id)
        .where(
            RewardEntry.kind.in_([EntryKind.PAID.value, EntryKind.REVERSED.value]),
            RewardEntry.at >= start,
            RewardEntry.at < end,
            *([] if actor is None else [visibility.visible_rewards_clause(actor)]),
        )
        .group_by(column)
        .order_by(column)
    ).all()


def sweep_unpaid(session, now: datetime, settings=None, calendar=None) -> int:
    """Rewards approved but not paid by their deadline raise supervision once."""
    from app.services.sweep import batches

    done = 0
    rewards = (
        reward
        for batch in batches(
            session,
            select(Reward).where(
                Reward.status.in_([RewardState.APPROVED.value, RewardState.CLAIMED.value]),
                Reward.payment_due_at < now,
                ~Reward.entries.any(RewardEntry.kind == EntryKind.PAYMENT_REMINDED.value),
            ),
        )
        for reward in batch
    )
    for reward in rewards:
        payer = next((e.actor_id for e in reward.entries if e.kind == EntryKind.APPROVED), None)
        from models import Staff

        department_id = (session.get(Staff, payer).department_id if payer else None) or reward.department_id
        raise_notice(
            session,
            cause=NoticeCause.REWARD_UNPAID,
            subject=f"reward:{reward.id}",
            department_id=department_id,
            cases=[reward.case],
            now=now,
            load=False,
            settings=settings,
            calendar=calendar,
            details=f"工单{reward.case.number}的举报奖励应于"
            f"{outbox.when(reward.payment_due_at)}前兑付，至今未支付。",
        )
        outbox.to_office(
            session,
            Role.FINANCE,
            jurisdiction_id=reward.case.jurisdiction_id,
            key=f"reward_unpaid:{reward.id}",
            template="reward_unpaid",
            now=now,
            case_id=reward.case_id,
            params={"number": reward.case.number, "due": outbox.when(reward.payment_due_at)},
        )
        from app.services.actor import SYSTEM

        _entry(reward, EntryKind.PAYMENT_REMINDED, SYSTEM, now)
        done += 1
    return done
