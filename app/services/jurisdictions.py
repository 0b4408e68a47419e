"""Jurisdictions: the province, its cities and its counties, each with its own office.

The rule (DOMAIN.md "Jurisdictions", issue 15):

- A case belongs to the jurisdiction of the region it concerns: the deepest active
  jurisdiction whose region is the case's region or contains it (清源省/石门市/长河县 belongs to
  长河县 if 长河县 runs an office, else to 石门市). The root (the province) takes the rest.
- Every staff account belongs to one jurisdiction (None is read as the root). The office roles
  (clerk, dispatcher, supervisor, leader, administrator, custodian) see the cases of their
  jurisdiction and of every jurisdiction under it: that is ``scope_clause``, the one clause
  every list, count, export, report and search adds (through
  ``visibility.visible_cases_clause``). They *act* only on their own jurisdiction's cases; an
  upper office reads, supervises and can take a lower one's case over (``Guard.OWN_JURISDICTION``
  and ``Guard.IN_LOWER_JURISDICTION`` of the transition table).
- ``Jurisdiction.path`` ("/1/4/9/") is kept here whenever the tree changes, so "this one and
  every one under it" is a LIKE on a table of a few hundred rows.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select, true

from app.enums import LABELS, DeptLevel
from app.errors import Invalid
from app.workflow import N_
from models import Jurisdiction


def root(session) -> Jurisdiction:
    """The root jurisdiction (the province); the migration creates it, so there is one."""
    found = session.execute(
        select(Jurisdiction).where(Jurisdiction.parent_id.is_(None)).order_by(Jurisdiction.id).limit(1)
    ).scalar_one_or_none()
    if found is None:
        raise Invalid(N_("No jurisdiction is configured."))
    return found


def root_id(session) -> int:
    return root(session).id


def get(session, jurisdiction_id: int | None) -> Jurisdiction:
    """A jurisdiction by id; None is the root."""
    if jurisdiction_id is None:
        return root(session)
    found = session.get(Jurisdiction, jurisdiction_id)
    if found is None:
        raise Invalid(N_("Jurisdiction: choose an existing jurisdiction."))
    return found


def chain_ids(jurisdiction: Jurisdiction) -> list[int]:
    """The ids from the root down to this jurisdiction (read from its path)."""
    return [int(part) for part in jurisdiction.path.strip("/").split("/") if part]


def chain(session, jurisdiction_id: int | None) -> list[Jurisdiction]:
    """The jurisdictions from the root down to this one (root first)."""
    own = get(session, jurisdiction_id)
    ids = chain_ids(own)
    rows = {j.id: j for j in session.execute(select(Jurisdiction).where(Jurisdiction.id.in_(ids))).scalars()}
    return [rows[i] for i in ids if i in rows]


def subtree_ids_select(path: str):
    """SELECT the ids of the jurisdiction with this path and of every one under it."""
    return select(Jurisdiction.id).where(Jurisdiction.path.like(f"{path}%"))


def subtree_ids(session, jurisdiction_id: int | None) -> set[int]:
    own = get(session, jurisdiction_id)
    return set(session.execute(subtree_ids_select(own.path)).scalars())


def is_within(inner: Jurisdiction | None, outer_path: str | None) -> bool:
    """Whether ``inner`` is the jurisdiction of ``outer_path`` or under it (None path: the root's
    whole tree)."""
    if outer_path is None:
        return True
    return inner is not None and inner.path.startswith(outer_path)


def is_own(actor, jurisdiction: Jurisdiction | None) -> bool:
    """Whether ``jurisdiction`` is the actor's own (an actor of no jurisdiction is the root's)."""
    if jurisdiction is None:
        return False
    path = getattr(actor, "jurisdiction_path", None)
    return jurisdiction.path == path if path is not None else jurisdiction.parent_id is None


def is_below(actor, jurisdiction: Jurisdiction | None) -> bool:
    """Whether ``jurisdiction`` lies strictly under the actor's own."""
    if jurisdiction is None or is_own(actor, jurisdiction):
        return False
    return is_within(jurisdiction, getattr(actor, "jurisdiction_path", None))


def scope_clause(column, actor):
    """The one scope clause: rows whose jurisdiction ``column`` is the actor's jurisdiction or
    one under it. An actor of the root (or of no jurisdiction) is not limited."""
    path = getattr(actor, "jurisdiction_path", None)
    if path is None or path.count("/") <= 2:  # the root: "/1/"
        return true()
    known = getattr(actor, "jurisdiction_scope", None)
    if known:  # read when the actor was made: the planner sees the values (see Actor)
        return column.in_(known)
    return column.in_(subtree_ids_select(path))


def for_region(session, region: str | None) -> Jurisdiction:
    """The jurisdiction a case of ``region`` belongs to: the deepest active one whose region is
    the region or contains it; the root when none does."""
    parts = [p for p in (region or "").strip().split("/") if p]
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    if prefixes:  # one indexed lookup of the region and each region above it
        rows = session.execute(
            select(Jurisdiction).where(Jurisdiction.region.in_(prefixes), Jurisdiction.active.is_(True))
        ).scalars()
        best = max(rows, key=lambda j: len(j.region), default=None)
        if best is not None:
            return best
    return root(session)


def children(session, jurisdiction_id: int) -> list[Jurisdiction]:
    return list(
        session.execute(
            select(Jurisdiction)
            .where(Jurisdiction.parent_id == jurisdiction_id, Jurisdiction.active.is_(True))
            .order_by(Jurisdiction.code)
        ).scalars()
    )


def refresh_paths(session) -> None:
    """Recompute every path from the parents (after a jurisdiction is added or moved); refuse
    a tree with a cycle or with no root."""
    rows = list(session.execute(select(Jurisdiction)).scalars())
    by_id = {j.id: j for j in rows}
    paths: dict[int, str] = {}

    def path_of(j: Jurisdiction, seen: tuple[int, ...] = ()) -> str:
        if j.id in paths:
            return paths[j.id]
        if j.id in seen:
            raise Invalid(N_("A jurisdiction cannot be placed under itself or under one below it."))
        parent = by_id.get(j.parent_id) if j.parent_id is not None else None
        prefix = path_of(parent, (*seen, j.id)) if parent is not None else "/"
        paths[j.id] = f"{prefix}{j.id}/"
        return paths[j.id]

    for j in rows:
        path_of(j)
    if rows and not any(j.parent_id is None for j in rows):
        raise Invalid(N_("One jurisdiction must be the root (the province)."))
    for j in rows:
        if j.path != paths[j.id]:
            j.path = paths[j.id]
    session.flush()


def add(
    session, *, code: str, name: str, level, region: str, parent: Jurisdiction | None, **fields
) -> Jurisdiction:
    """Add a jurisdiction (its path is set at once)."""
    row = Jurisdiction(code=code, name=name, level=level, region=region, parent=parent, path="", **fields)
    session.add(row)
    session.flush()
    refresh_paths(session)
    return row


def names(session, ids: Iterable[int]) -> dict[int, str]:
    ids = list(set(ids))
    if not ids:
        return {}
    return dict(
        session.execute(select(Jurisdiction.id, Jurisdiction.name).where(Jurisdiction.id.in_(ids))).all()
    )


def within(region: str | None, outer: str | None) -> bool:
    """Whether ``region`` is ``outer`` or lies under it (no ``outer``: anywhere)."""
    if not outer:
        return True
    return bool(region) and (region == outer or region.startswith(outer + "/"))


LEVEL_RANK = {level: rank for rank, level in enumerate(DeptLevel)}  # province 0, city 1, county 2


def _level_label(level) -> str:
    from flask_babel import gettext

    return gettext(LABELS[level])


# --- the rules of the tree (the jurisdiction form checks each one) ---------------------------


def _other(session, column, value, own_id) -> Jurisdiction | None:
    query = session.query(Jurisdiction).filter(column == value)
    if own_id is not None:
        query = query.filter(Jurisdiction.id != own_id)
    return query.first()


def check_code(session, code: str, own_id: int | None) -> None:
    other = _other(session, Jurisdiction.code, code, own_id)
    if other is not None:
        raise Invalid(N_("Another jurisdiction already has this code: %(name)s."), name=other.name)


def check_doc_prefix(session, prefix: str, own_id: int | None) -> None:
    other = _other(session, Jurisdiction.doc_prefix, prefix, own_id)
    if other is not None:
        raise Invalid(
            N_("Another jurisdiction already uses this document number prefix: %(name)s."), name=other.name
        )


def compose_region(region: str | None, new_place: str | None) -> str:
    """The region chosen from the tree, with a new place under it when one is typed."""
    region, place = (region or "").strip(), (new_place or "").strip()
    if place and "/" in place:
        raise Invalid(N_("Type only the name of the new place (without “/”)."))
    if not region:
        raise Invalid(N_("Choose the region the jurisdiction governs."))
    return f"{region}/{place}" if place else region


def check_region(session, region: str, parent: Jurisdiction | None, own_id: int | None) -> None:
    """A region of its own, inside the parent's, and around the regions of those under it."""
    other = _other(session, Jurisdiction.region, region, own_id)
    if other is not None:
        raise Invalid(N_("Another jurisdiction already governs this region: %(name)s."), name=other.name)
    if parent is not None and not region.startswith(parent.region + "/"):
        raise Invalid(
            N_("The region must lie inside the region of the parent jurisdiction (%(region)s)."),
            region=parent.region,
        )
    if own_id is not None:
        outside = [
            j.name
            for j in session.query(Jurisdiction).filter(Jurisdiction.parent_id == own_id)
            if not j.region.startswith(region + "/")
        ]
        if outside:
            raise Invalid(
                N_("Jurisdictions under it govern regions outside this region: %(names)s."),
                names="、".join(outside),
            )


def check_placement(session, parent: Jurisdiction | None, level, own_id: int | None) -> None:
    """The root (the province) stays at the top; every other jurisdiction has a parent of a
    higher level that is neither itself nor one below it."""
    own = session.get(Jurisdiction, own_id) if own_id is not None else None
    if own is not None and own.parent_id is None:
        if parent is not None:
            raise Invalid(N_("The province (the root jurisdiction) cannot be placed under another one."))
        return
    if parent is None:
        raise Invalid(N_("Choose the parent jurisdiction: only the province is at the top."))
    if own is not None and is_within(parent, own.path):
        raise Invalid(N_("A jurisdiction cannot be placed under itself or under one below it."))
    try:
        level = DeptLevel(level) if level else None
    except ValueError:
        level = None
    if level is None:
        raise Invalid(N_("Choose the jurisdiction's level."))
    if LEVEL_RANK[level] <= LEVEL_RANK[DeptLevel(parent.level)]:
        raise Invalid(
            N_("A %(level)s jurisdiction cannot be placed under a %(parent)s one."),
            level=_level_label(level),
            parent=_level_label(DeptLevel(parent.level)),
        )
    if own is not None:
        higher = [
            j.name
            for j in session.query(Jurisdiction).filter(Jurisdiction.parent_id == own.id)
            if LEVEL_RANK[DeptLevel(j.level)] <= LEVEL_RANK[level]
        ]
        if higher:
            raise Invalid(
                N_("Jurisdictions under it would not be of a lower level: %(names)s."),
                names="、".join(higher),
            )


def check_active(session, active: bool, own_id: int | None) -> None:
    """The province stays active; a jurisdiction with active ones under it stays active."""
    if active or own_id is None:
        return
    own = session.get(Jurisdiction, own_id)
    if own is not None and own.parent_id is None:
        raise Invalid(N_("The province (the root jurisdiction) cannot be deactivated."))
    if children(session, own_id):
        raise Invalid(N_("Deactivate the jurisdictions under it first."))


def check_department_jurisdiction(region: str | None, jurisdiction: Jurisdiction | None) -> None:
    """A department works inside its jurisdiction: its region is the jurisdiction's or under it."""
    if jurisdiction is None or not region:
        return
    if not within(region, jurisdiction.region):
        raise Invalid(
            N_("The department's region (%(region)s) lies outside the region of %(jurisdiction)s."),
            region=region,
            jurisdiction=jurisdiction.name,
        )
