"""Numbers of the rulebook that administrators may change (DOMAIN.md defaults)."""

from __future__ import annotations

from app.errors import Invalid
from app.workflow import N_
from models import Setting

DEFAULTS: dict[str, tuple[int, str]] = {
    "accept_working_days": (5, N_("Working days to decide whether a case is accepted")),
    "dispatch_minutes": (20, N_("Minutes to dispatch an accepted case")),
    "sign_hours": (2, N_("Hours for a department to sign for a dispatched case")),
    "max_rehandles": (1, N_("Re-handlings allowed before a case must be escalated")),
    "due_soon_hours": (24, N_("Hours before a deadline when a case counts as due soon")),
    "max_extension_days": (10, N_("Most working days one extension may add")),
    "notice_reply_working_days": (5, N_("Working days a department has to answer a notice")),
    "rectify_after_reminder_working_days": (
        3,
        N_("Working days a case may stay overdue after its reminder before a rectification notice"),
    ),
    "returns_for_rectification": (2, N_("Returns of one case that count as buck-passing")),
    "revisit_after_working_days": (3, N_("Working days without a rating before a revisit call is due")),
    "reward_payment_working_days": (15, N_("Working days to pay a reward after its approval")),
    "reward_second_approval_above": (1000, N_("Rewards above this amount (yuan) need a second approver")),
    "assessment_weight_on_time": (35, N_("Assessment weight of the on-time rate (percent)")),
    "assessment_weight_resolution": (25, N_("Assessment weight of the resolution rate (percent)")),
    "assessment_weight_satisfaction": (25, N_("Assessment weight of the satisfaction rate (percent)")),
    "assessment_weight_signing": (15, N_("Assessment weight of signing on time (percent)")),
    "assessment_deduction_reminder_tenths": (
        5,
        N_("Points deducted per reminder letter (tenths of a point)"),
    ),
    "assessment_deduction_rectification_tenths": (
        20,
        N_("Points deducted per rectification notice (tenths of a point)"),
    ),
    "assessment_deduction_interview_tenths": (
        0,
        N_("Points deducted per interview notice (tenths of a point)"),
    ),
    "sample_percent": (10, N_("Percent of closed cases sampled each week for a quality revisit")),
    "first_response_hours": (24, N_("Hours to give the reporter a first response")),
    "verify_working_days": (
        3,
        N_("Working days from acceptance to tell the reporter the initial verification result"),
    ),
    "verify_working_days_12345": (1, N_("Working days to verify a 12345 hotline ticket")),
    "handling_counts_from_dispatch": (
        0,
        N_("Handling period counts from dispatch to the department (1) or from filing (0)"),
    ),
    "max_rectification_working_days": (30, N_("Most working days a rectification plan may take")),
    "improper_replies_for_rectification": (
        2,
        N_("Replies of one case refused as improper that bring a rectification notice"),
    ),
    "revisit_attempts": (3, N_("Unanswered revisit calls before the call is given up")),
    "identity_grant_hours": (
        24,
        N_("Hours an approved request lets its holder see who filed a case"),
    ),
}


# The scored rates' weights: the ranking needs one of them above 0.
RATE_WEIGHTS = (
    "assessment_weight_on_time",
    "assessment_weight_resolution",
    "assessment_weight_satisfaction",
    "assessment_weight_signing",
)
# The largest value each setting may take: percentages up to 100, an amount in yuan, and
# otherwise counts of days, hours or minutes (deadlines computed from larger ones overflow).
HIGHEST = {
    **dict.fromkeys((*RATE_WEIGHTS, "sample_percent"), 100),
    "reward_second_approval_above": 100_000_000,
    "handling_counts_from_dispatch": 1,
}
HIGHEST_DEFAULT = 1000


def check_setting(session, key: str, value: int) -> None:
    """Refuse a value the rulebook cannot work with: negative, too large, or all the rate
    weights at 0 (the dashboard and the assessment report could not rank anyone)."""
    highest = HIGHEST.get(key, HIGHEST_DEFAULT)
    if not 0 <= value <= highest:
        raise Invalid(N_("Enter a value between 0 and %(high)s."), high=highest)
    if key in RATE_WEIGHTS:
        weights = {**get_settings(session), key: value}
        if sum(weights[k] for k in RATE_WEIGHTS) <= 0:
            raise Invalid(N_("At least one assessment weight must be above 0."))


def get_settings(session) -> dict[str, int]:
    """Return every setting, stored values overriding the defaults."""
    values = {key: default for key, (default, _) in DEFAULTS.items()}
    values.update({s.key: s.value for s in session.query(Setting).all()})
    return values


def seed_settings(session) -> None:
    """Store the defaults so administrators can see and edit them."""
    existing = {k for (k,) in session.query(Setting.key)}
    for key, (value, description) in DEFAULTS.items():
        if key not in existing:
            session.add(Setting(key=key, value=value, description=description))
    session.flush()
