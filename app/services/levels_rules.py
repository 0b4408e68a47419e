"""The rules in force in a jurisdiction: the nearest jurisdiction up the tree that sets a rule
wins, else the rule of every jurisdiction (issue 15, DOMAIN.md "Levels and jurisdictions").

One resolution for every kind of rule (``nearest``):

- settings: the defaults, then the settings table (the root's values, 全省), then the
  ``JurisdictionSetting`` rows of the chain root → jurisdiction (``settings.get_settings``);
- deadline policies: per (case type, urgency, multi-department) the row of the nearest
  jurisdiction, ``jurisdiction_id`` None being every jurisdiction's; then
  ``deadlines.select_policy`` chooses among them as before;
- reward tiers: per code the nearest jurisdiction's tier (an inactive one withdraws the code
  there);
- dispatch rules are not keyed: a case sees the rules of its chain, and among rules equally
  specific the nearer jurisdiction's wins (``dispatch.Rule.nearness``);
- the working-day calendar: ``calendar.load_calendar(session, jurisdiction)``.

A jurisdiction is given as a ``Jurisdiction``, its id, or None (the root's rules).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import or_, select

from app import deadlines as dl
from app import dispatch as rules
from app.workflow import N_
from models import Case, DeadlinePolicy, DispatchRule, Jurisdiction, RewardTier

Row = TypeVar("Row")

# How the screens name the source of a rule set for every jurisdiction.
EVERY_JURISDICTION = N_("All jurisdictions (default)")
DEFAULT_VALUE = N_("Default")


def chain_of(session, jurisdiction) -> tuple[int, ...]:
    """The ids from the root down to ``jurisdiction`` (None: no chain, the root's rules)."""
    if jurisdiction is None:
        return ()
    if not isinstance(jurisdiction, Jurisdiction):
        jurisdiction = session.get(Jurisdiction, jurisdiction)
        if jurisdiction is None:
            return ()
    return tuple(int(part) for part in (jurisdiction.path or "").strip("/").split("/") if part)


def nearest(rows: Iterable[Row], chain: tuple[int, ...], key: Callable[[Row], object]) -> dict[object, list]:
    """THE rule: per ``key``, the rows of the nearest jurisdiction of ``chain`` (root first)
    that has any; a row without a jurisdiction is every jurisdiction's and yields to any of the
    chain. Rows of jurisdictions off the chain are ignored."""
    depth = {jid: i + 1 for i, jid in enumerate(chain)}
    found: dict[object, list] = {}
    best: dict[object, int] = {}
    for row in rows:
        jid = row.jurisdiction_id
        level = 0 if jid is None else depth.get(jid)
        if level is None:
            continue
        k = key(row)
        if k not in best or level > best[k]:
            found[k], best[k] = [row], level
        elif level == best[k]:
            found[k].append(row)
    return found


def _chain_clause(column, chain: tuple[int, ...]):
    return or_(column.is_(None), column.in_(chain)) if chain else column.is_(None)


# --- deadline policies -----------------------------------------------------------------------


def policy_key(row) -> tuple:
    return (row.case_type, row.urgency, row.multi_department)


def policy_rows(session, jurisdiction) -> list[DeadlinePolicy]:
    """The stored policies in force in ``jurisdiction``, one per criteria combination."""
    chain = chain_of(session, jurisdiction)
    rows = session.execute(
        select(DeadlinePolicy).where(_chain_clause(DeadlinePolicy.jurisdiction_id, chain))
    ).scalars()
    # Several rows of one combination in one jurisdiction stay candidates side by side:
    # select_policy chooses among them (the shorter period) as it always has.
    return sorted((p for same in nearest(rows, chain, policy_key).values() for p in same), key=lambda p: p.id)


def deadline_policies(session, jurisdiction) -> list[dl.Policy]:
    """The deadline policies a case of ``jurisdiction`` is held to (the built-in ones when
    none is stored)."""
    return [
        dl.Policy(p.working_days, p.case_type, p.urgency, p.multi_department, p.id)
        for p in policy_rows(session, jurisdiction)
    ] or list(dl.DEFAULT_POLICIES)


# --- dispatch rules --------------------------------------------------------------------------


def dispatch_rules(session, jurisdiction) -> list[rules.Rule]:
    """The active dispatch rules a case of ``jurisdiction`` is proposed a department by, each
    with the nearness of the jurisdiction that set it."""
    chain = chain_of(session, jurisdiction)
    depth = {jid: i + 1 for i, jid in enumerate(chain)}
    rows = session.execute(
        select(DispatchRule).where(
            DispatchRule.active.is_(True), _chain_clause(DispatchRule.jurisdiction_id, chain)
        )
    ).scalars()
    return [
        rules.Rule(
            r.id,
            r.department_id,
            r.category_id,
            r.region,
            rules.parse_keywords(r.keywords),
            r.priority,
            0 if r.jurisdiction_id is None else depth[r.jurisdiction_id],
        )
        for r in rows
    ]


# --- reward tiers ----------------------------------------------------------------------------


def tier_rows(session, jurisdiction) -> list[RewardTier]:
    """The reward tiers in force in ``jurisdiction`` (active or not), one per code."""
    chain = chain_of(session, jurisdiction)
    rows = session.execute(
        select(RewardTier).where(_chain_clause(RewardTier.jurisdiction_id, chain))
    ).scalars()
    return sorted((same[0] for same in nearest(rows, chain, lambda t: t.code).values()), key=lambda t: t.code)


def reward_tiers(session, jurisdiction) -> list[RewardTier]:
    """The tiers a reward on a case of ``jurisdiction`` may be proposed in."""
    return [t for t in tier_rows(session, jurisdiction) if t.active]


# --- one sweep, many jurisdictions -----------------------------------------------------------


class RulesCache:
    """The settings, calendars and policies of each jurisdiction, read once within one unit of
    work that touches the cases of many (the sweep, a recomputation): never a query per case.
    With ``every``, the settings of all jurisdictions are read at once up front (the sweep needs
    their extremes for its queries)."""

    def __init__(self, session, *, every: bool = False):
        self.session = session
        self._settings: dict[int | None, dict[str, int]] = {}
        self._calendars: dict[int | None, object] = {}
        self._policies: dict[int | None, list[dl.Policy]] = {}
        self._calendar_of = None
        if every:
            from app.services.settings import get_settings, settings_of_every_jurisdiction

            root = get_settings(session)
            self._settings = {None: root, **settings_of_every_jurisdiction(session, root)}

    def settings(self, jurisdiction_id: int | None) -> dict[str, int]:
        if jurisdiction_id not in self._settings:
            from app.services.settings import get_settings

            self._settings[jurisdiction_id] = get_settings(self.session, jurisdiction_id)
        return self._settings[jurisdiction_id]

    def values(self, key: str) -> list[int]:
        """The values ``key`` takes in the jurisdictions read so far (all, with ``every``)."""
        return [s[key] for s in self._settings.values()] or [self.settings(None)[key]]

    def calendar(self, jurisdiction_id: int | None):
        if jurisdiction_id not in self._calendars:
            if self._calendar_of is None:
                from app.services.calendar import calendars

                self._calendar_of = calendars(self.session)  # the stored days checked once
            self._calendars[jurisdiction_id] = self._calendar_of(jurisdiction_id)
        return self._calendars[jurisdiction_id]

    def policies(self, jurisdiction_id: int | None) -> list[dl.Policy]:
        if jurisdiction_id not in self._policies:
            self._policies[jurisdiction_id] = deadline_policies(self.session, jurisdiction_id)
        return self._policies[jurisdiction_id]


# --- after an edit: the deadlines of the jurisdictions it concerns ---------------------------


def open_case_ids_below(session, jurisdiction_id: int) -> list[int]:
    """The open cases of the jurisdiction and of every one under it."""
    from app.services import jurisdictions
    from app.workflow import OPEN_STATUSES

    own = jurisdictions.get(session, jurisdiction_id)
    return list(
        session.execute(
            select(Case.id).where(
                Case.jurisdiction_id.in_(jurisdictions.subtree_ids_select(own.path)),
                Case.status.in_([s.value for s in OPEN_STATUSES]),
            )
        ).scalars()
    )


def recompute_below(session, jurisdiction_ids: Iterable[int | None]) -> str:
    """After a rule of some jurisdictions changed (a regional day, an override): recompute the
    open deadlines of their subtrees only. A rule of every jurisdiction or of the root
    concerns every case: that recomputation is queued (``cases.request_recompute``)."""
    from app.services import cases, jurisdictions

    ids = set(jurisdiction_ids)
    root = jurisdictions.root_id(session)
    if not ids:
        return "nothing"
    if None in ids or root in ids:
        return cases.request_recompute(session)
    case_ids = sorted({c for jid in ids for c in open_case_ids_below(session, jid)})
    cases.recompute_open_deadlines(session, case_ids=case_ids)
    return "done"


# --- what is in force, and where it comes from (the "Effective rules" page) -------------------


@dataclass(frozen=True)
class InForce:
    """A rule in force in a jurisdiction and the jurisdiction that set it (None: every
    jurisdiction's, or the built-in default)."""

    row: object
    source_id: int | None
    source: str  # a jurisdiction's name, or a msgid (EVERY_JURISDICTION / DEFAULT_VALUE)


def _source(names: dict[int, str], jurisdiction_id: int | None, fallback: str) -> tuple[int | None, str]:
    return (jurisdiction_id, names[jurisdiction_id]) if jurisdiction_id in names else (None, fallback)


def rules_in_force(session, jurisdiction) -> dict[str, list[InForce]]:
    """Every setting, deadline policy, reward tier and dispatch rule in force in
    ``jurisdiction``, each with its source."""
    from app.services import jurisdictions
    from app.services.settings import settings_in_force

    chain = chain_of(session, jurisdiction)
    names = jurisdictions.names(session, chain)
    depth = {jid: i + 1 for i, jid in enumerate(chain)}
    dispatch = session.execute(
        select(DispatchRule)
        .where(DispatchRule.active.is_(True), _chain_clause(DispatchRule.jurisdiction_id, chain))
        .order_by(DispatchRule.id)
    ).scalars()
    return {
        "settings": settings_in_force(session, jurisdiction),
        "policies": [
            InForce(p, *_source(names, p.jurisdiction_id, EVERY_JURISDICTION))
            for p in policy_rows(session, jurisdiction)
        ],
        "tiers": [
            InForce(t, *_source(names, t.jurisdiction_id, EVERY_JURISDICTION))
            for t in tier_rows(session, jurisdiction)
        ],
        "dispatch": [
            InForce(r, *_source(names, r.jurisdiction_id, EVERY_JURISDICTION))
            for r in sorted(dispatch, key=lambda r: (-depth.get(r.jurisdiction_id, 0), r.id))
        ],
    }
