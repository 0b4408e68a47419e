"""Who sees which case: the one rule every place that shows or names a case applies.

Two parts (DOMAIN.md "Protection of reporters", "Dispatch"):

1. Role and jurisdiction: an office (clerk, dispatcher, supervisor, leader, administrator,
   custodian) sees every case of its jurisdiction and of the jurisdictions under it (a county
   its own, a city its own and its counties', the province all: ``jurisdictions.scope_clause``);
   a handler sees the cases their own department is handling now; a connected system the cases
   it filed.
2. Conflict of interest: a case about a department (被反映单位, ``concerned_department``: the
   department a report accuses or a complaint is about) never reaches that department or any
   department under it, whatever the role of the person there. Departments form a tree
   (``Department.parent``), so a person of department X is kept from every case about X or
   about a department above X.

The case lists and search, the case page, the REST API (lists, filters, shows, events), the
linked and similar cases, merges, the cases a notice names (page and PDF), typical cases and
the dashboard's drill-down all ask here; dispatch, re-handling and escalation refuse to send a
case into the departments it may not reach.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import exists, or_, select, true

from app.errors import Invalid
from app.services import case_figures, jurisdictions
from app.services.actor import Actor
from app.workflow import N_, Role
from models import Assignment, Case, Department, Jurisdiction, Reward


def _chain_select(department_id: int):
    """The ids of a department and of every department above it (a recursive query, so any
    depth of tree is followed; UNION stops on a cycle)."""
    table = Department.__table__
    chain = (
        select(table.c.id, table.c.parent_id)
        .where(table.c.id == department_id)
        .cte("department_chain", recursive=True, nesting=True)
    )
    chain = chain.union(select(table.c.id, table.c.parent_id).join(chain, table.c.id == chain.c.parent_id))
    return select(chain.c.id)


def department_chain(session, department_id: int | None) -> set[int]:
    """A department and every department above it."""
    if department_id is None:
        return set()
    return set(session.execute(_chain_select(department_id)).scalars())


def department_subtree(session, department_id: int | None) -> set[int]:
    """A department and every department under it: the departments a case about it never reaches."""
    if department_id is None:
        return set()
    children: dict[int | None, list[int]] = {}
    for dept_id, parent_id in session.execute(select(Department.id, Department.parent_id)):
        children.setdefault(parent_id, []).append(dept_id)
    found, todo = set(), [department_id]
    while todo:
        current = todo.pop()
        if current not in found:
            found.add(current)
            todo.extend(children.get(current, ()))
    return found


def not_about_clause(department_id: int | None):
    """Cases that are not about this department nor about any department above it."""
    if department_id is None:
        return Case.id.isnot(None)
    return or_(
        Case.concerned_department_id.is_(None),
        Case.concerned_department_id.not_in(_chain_select(department_id)),
    )


def department_cases_clause(department_id: int | None):
    """Cases a department is handling now (an active assignment, lead or co-handling)."""
    if department_id is None:
        return Case.id.is_(None)
    return exists().where(
        Assignment.case_id == Case.id,
        Assignment.active == true(),
        Assignment.department_id == department_id,
    )


def visible_cases_clause(actor: Actor):
    """A WHERE clause keeping the cases ``actor`` may see (both parts of the rule)."""
    if actor.sees_all_cases:
        by_role = jurisdictions.scope_clause(Case.jurisdiction_id, actor)
    elif Role.INTEGRATION in actor.roles:  # a connected system reads back what it filed
        by_role = Case.created_by_id == actor.id if actor.id is not None else Case.id.is_(None)
    else:
        by_role = department_cases_clause(actor.department_id)
    if actor.department_id is None:
        return by_role
    return by_role & not_about_clause(actor.department_id)


def reward_cases_clause(actor: Actor):
    """The cases whose rewards the actor may see: the cases they may see; for Finance, who pays
    rewards without reading cases, the cases of their jurisdiction and those under it (still
    never a case about their own department)."""
    if Role.FINANCE in actor.roles and not actor.sees_all_cases:
        by_role = jurisdictions.scope_clause(Case.jurisdiction_id, actor)
        return by_role if actor.department_id is None else by_role & not_about_clause(actor.department_id)
    return visible_cases_clause(actor)


def visible_rewards_clause(actor: Actor):
    """A WHERE clause on rewards: a reward is seen when its case is (``reward_cases_clause``)."""
    return Reward.case_id.in_(select(Case.id).where(reward_cases_clause(actor)))


def visible(session, cases: Iterable[Case], actor: Actor) -> list[Case]:
    """The cases of ``cases`` the actor may see, in their order (one query)."""
    cases = list(cases)
    if not cases:
        return []
    ids = set(
        session.execute(
            select(Case.id).where(Case.id.in_([c.id for c in cases]), visible_cases_clause(actor))
        ).scalars()
    )
    return [c for c in cases if c.id in ids]


def may_see(session, case: Case, actor: Actor) -> bool:
    return bool(visible(session, [case], actor))


def reaches(session, case: Case, department_id: int | None) -> bool:
    """Whether the case may be shown or named to the department (it is not about it or one above)."""
    return (
        department_id is None
        or case.concerned_department_id is None
        or case.concerned_department_id not in department_chain(session, department_id)
    )


def reaching(session, cases: Iterable[Case], department_ids: Iterable[int | None]) -> list[Case]:
    """The cases that may be shown or named to every one of these departments."""
    chains = set().union(*(department_chain(session, d) for d in department_ids if d is not None))
    return [c for c in cases if c.concerned_department_id is None or c.concerned_department_id not in chains]


def check_departments(session, case: Case, departments: Iterable[Department]) -> None:
    """Refuse to send a case to the department it is about or to one under it."""
    barred = department_subtree(session, case.concerned_department_id)
    if any(d.id in barred for d in departments):
        raise Invalid(
            N_("A case about a department is never sent to that department or to a department under it.")
        )


def barred_departments(session, case: Case) -> set[int]:
    """The departments the case may never be sent to (for the dispatch proposal)."""
    return department_subtree(session, case.concerned_department_id)


def check_merge(session, duplicate: Case, main: Case) -> None:
    """Refuse a merge that would show the duplicate to a department it may not reach: everything
    of the duplicate (its reporters, files, messages) is then read on the main case, by whoever
    handles that case now or later."""
    if duplicate.concerned_department_id is None:
        return
    refused = Invalid(
        N_(
            "This case is about %(department)s; the case to merge into may be read by that department "
            "or one under it. Link the two cases instead of merging them."
        ),
        department=duplicate.concerned_department.name,
    )
    # The main case may go where the duplicate may not (its own department concerned is not
    # the duplicate's nor one above it)...
    if main.concerned_department_id not in department_chain(session, duplicate.concerned_department_id):
        raise refused
    # ...or is already with a department the duplicate may not reach.
    barred = department_subtree(session, duplicate.concerned_department_id)
    if any(a.department_id in barred for a in main.assignments if a.active):
        raise refused


def rollup_keep(session, actor: Actor, jurisdiction: Jurisdiction | None):
    """``visible_cases_clause`` within the cases of ``jurisdiction`` and those under it (None:
    every case), as a filter of the case figures' rollup rows, which are kept per
    (jurisdiction, department complained about): the jurisdictions of both scopes, never a case
    about the actor's department or one above it. None when the actor's rule is not one of
    jurisdictions (a department's own cases, a connected system's): read the cases themselves."""
    if not actor.sees_all_cases:
        return None
    scopes = []
    path = getattr(actor, "jurisdiction_path", None)
    if path is not None and path.count("/") > 2:  # not the root (jurisdictions.scope_clause)
        scopes.append(set(session.scalars(jurisdictions.subtree_ids_select(path))))
    if jurisdiction is not None and jurisdiction.parent_id is not None:
        scopes.append(set(session.scalars(jurisdictions.subtree_ids_select(jurisdiction.path))))
    ids = set.intersection(*scopes) if scopes else None
    return case_figures.visible_keep(ids, department_chain(session, actor.department_id))
