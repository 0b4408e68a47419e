"""Numbers of the rulebook that administrators may change (DOMAIN.md defaults)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from app.errors import Invalid
from app.services.levels_rules import DEFAULT_VALUE, chain_of
from app.workflow import N_
from models import Jurisdiction, JurisdictionSetting, Setting

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
    "assessment_min_cases": (
        5,
        N_("Fewest cases a department or lower office must handle in the period to be ranked"),
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
    "send_down_max_working_days": (
        30,
        N_("Most working days an office may give a lower office when it sends a case down"),
    ),
    "identity_grant_hours": (
        24,
        N_("Hours an approved request lets its holder see who filed a case"),
    ),
    # Inspections (入企扫码, seed 002) and early warnings (seed 003).
    "inspection_repeat_times": (
        3,
        N_("Inspections of one enterprise allowed within the set days before it is flagged"),
    ),
    "inspection_repeat_days": (30, N_("Days over which repeated inspections of one enterprise are counted")),
    "inspection_multi_units": (
        2,
        N_("Different units that may inspect one enterprise within the set days before it is flagged"),
    ),
    "inspection_officer_repeat_times": (
        2,
        N_("Inspections of one enterprise by the same officer within the set days that are flagged"),
    ),
    "inspection_confirm_days": (3, N_("Days an enterprise has to confirm a finished inspection")),
    "warning_work_working_days": (5, N_("Working days the supervisor's office has to work a warning")),
    "assessment_deduction_warning_tenths": (
        0,
        N_("Points deducted per early warning received (tenths of a point)"),
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


def check_setting(session, key: str, value: int, jurisdiction=None) -> None:
    """Refuse a value the rulebook cannot work with: an unknown setting, negative, too large,
    or all the rate weights at 0 where it applies (the dashboard and the assessment report
    could not rank anyone). ``jurisdiction``: the one whose value it is (None: the root's)."""
    if key not in DEFAULTS:
        raise Invalid(N_("Choose one of the settings offered."))
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(N_("Enter a whole number."))
    highest = HIGHEST.get(key, HIGHEST_DEFAULT)
    if not 0 <= value <= highest:
        raise Invalid(N_("Enter a value between 0 and %(high)s."), high=highest)
    if key in RATE_WEIGHTS:
        weights = {**get_settings(session, jurisdiction), key: value}
        if sum(weights[k] for k in RATE_WEIGHTS) <= 0:
            raise Invalid(N_("At least one assessment weight must be above 0."))


def check_override(session, jurisdiction_id, key: str, value: int) -> None:
    """Refuse a jurisdiction's own value of a setting that is not valid there; the root's
    values are the settings table itself (全省), not an override."""
    from app.services import jurisdictions

    if jurisdiction_id is None:
        raise Invalid(N_("Jurisdiction: choose an existing jurisdiction."))
    own = jurisdictions.get(session, jurisdiction_id)
    if own.parent_id is None:
        raise Invalid(N_("The root jurisdiction's values are the settings themselves: edit them there."))
    check_setting(session, key, value, own)


def _overrides(session, chain: tuple[int, ...]) -> list[tuple[int, str, int]]:
    """The jurisdictions' own values along ``chain`` below the root, nearest last."""
    if len(chain) < 2:  # the root's values are the settings table
        return []
    depth = {jid: i for i, jid in enumerate(chain)}
    rows = session.execute(
        select(JurisdictionSetting.jurisdiction_id, JurisdictionSetting.key, JurisdictionSetting.value).where(
            JurisdictionSetting.jurisdiction_id.in_(chain[1:])
        )
    ).all()
    return sorted(rows, key=lambda r: depth[r[0]])


# The most working days a deadline policy may give (a year and a half of working days): more
# would put a deadline past any calendar and nobody would be held to it.
MAX_POLICY_WORKING_DAYS = 365


def check_policy_days(days) -> None:
    """Refuse a deadline policy's working days outside 0 … MAX_POLICY_WORKING_DAYS."""
    if days is None or not 0 <= int(days) <= MAX_POLICY_WORKING_DAYS:
        raise Invalid(N_("Enter a value between 0 and %(high)s."), high=MAX_POLICY_WORKING_DAYS)


def get_settings(session, jurisdiction=None) -> dict[str, int]:
    """Return every setting in force in ``jurisdiction`` (None: the root): the defaults, then
    the stored values (the root's), then the values of the jurisdictions from the root down
    to it; the nearest that sets a key wins (levels_rules)."""
    values = {key: default for key, (default, _) in DEFAULTS.items()}
    values.update({s.key: s.value for s in session.query(Setting).all()})
    for _, key, value in _overrides(session, chain_of(session, jurisdiction)):
        values[key] = value
    return values


def settings_of_every_jurisdiction(
    session, root_values: dict[str, int] | None = None
) -> dict[int, dict[str, int]]:
    """The settings in force in each jurisdiction, read at once (three queries, whatever the
    number of jurisdictions; two given the root's values): for work over the cases of all of
    them (the sweep)."""
    root_values = root_values if root_values is not None else get_settings(session)
    rows = session.execute(
        select(JurisdictionSetting.jurisdiction_id, JurisdictionSetting.key, JurisdictionSetting.value)
    ).all()
    paths = dict(session.execute(select(Jurisdiction.id, Jurisdiction.path)).all())
    own: dict[int, dict[str, int]] = {}
    for jid, key, value in rows:
        own.setdefault(jid, {})[key] = value
    found = {}
    for jid, path in paths.items():
        values = dict(root_values)
        for level in [int(p) for p in (path or "").strip("/").split("/") if p][1:]:  # root's: the table
            values.update(own.get(level, {}))
        found[jid] = values
    return found


@dataclass(frozen=True)
class SettingInForce:
    """A setting's value in a jurisdiction and where it comes from."""

    key: str
    description: str  # msgid
    value: int
    source_id: int | None  # the jurisdiction that set it (None: the built-in default)
    source: str  # that jurisdiction's name, or the msgid DEFAULT_VALUE


def settings_in_force(session, jurisdiction=None) -> list[SettingInForce]:
    """Every setting in force in ``jurisdiction``, with the jurisdiction it comes from: the
    root for a stored value (全省), a lower one for its own value, else the default."""
    from app.services import jurisdictions

    chain = chain_of(session, jurisdiction) or (jurisdictions.root_id(session),)
    names = jurisdictions.names(session, chain)
    found = {key: (default, None) for key, (default, _) in DEFAULTS.items()}
    for s in session.query(Setting).filter(Setting.key.in_(list(DEFAULTS))):
        found[s.key] = (s.value, chain[0])
    for jid, key, value in _overrides(session, chain):
        if key in found:
            found[key] = (value, jid)
    return [
        SettingInForce(key, DEFAULTS[key][1], value, source, names.get(source, DEFAULT_VALUE))
        for key, (value, source) in found.items()
    ]


def setting_choices() -> list[tuple[str, str]]:
    """(key, description msgid) of every setting, for a select."""
    return [(key, description) for key, (_, description) in DEFAULTS.items()]


def seed_settings(session) -> None:
    """Store the defaults so administrators can see and edit them."""
    existing = {k for (k,) in session.query(Setting.key)}
    for key, (value, description) in DEFAULTS.items():
        if key not in existing:
            session.add(Setting(key=key, value=value, description=description))
    session.flush()


def _whole(value) -> int:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        raise Invalid(N_("Enter a whole number.")) from None


def set_override(session, jurisdiction_id, key: str, value) -> JurisdictionSetting:
    """Give a jurisdiction its own value of a setting (it and those below it use it unless they
    set their own); the open deadlines of that subtree are recomputed."""
    from app.ids import as_id
    from app.services.levels_rules import recompute_below

    jurisdiction_id, value = as_id(jurisdiction_id), _whole(value)
    check_override(session, jurisdiction_id, key, value)
    row = session.get(JurisdictionSetting, (jurisdiction_id, key))
    if row is None:
        row = JurisdictionSetting(jurisdiction_id=jurisdiction_id, key=key, value=value)
        session.add(row)
    else:
        row.value = value
    session.flush()
    recompute_below(session, [jurisdiction_id])
    return row


def clear_override(session, jurisdiction_id, key: str) -> None:
    """Remove a jurisdiction's own value: it inherits its parent's again."""
    from app.ids import as_id
    from app.services.levels_rules import recompute_below

    jurisdiction_id = as_id(jurisdiction_id)
    row = session.get(JurisdictionSetting, (jurisdiction_id, key)) if jurisdiction_id else None
    if row is None:
        raise Invalid(N_("This jurisdiction has no value of its own for this setting."))
    session.delete(row)
    session.flush()
    recompute_below(session, [jurisdiction_id])


def overrides(session) -> list[JurisdictionSetting]:
    """Every jurisdiction's own values, by jurisdiction and setting."""
    return list(
        session.execute(
            select(JurisdictionSetting).order_by(JurisdictionSetting.jurisdiction_id, JurisdictionSetting.key)
        ).scalars()
    )
