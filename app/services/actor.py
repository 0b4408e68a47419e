"""Who acts: a plain value passed to every service (jobs use SYSTEM)."""

from __future__ import annotations

from dataclasses import dataclass

from app.workflow import OFFICE_ROLES, Role

#: The office roles: they see every case of their jurisdiction and of those under it (and act
#: on their own jurisdiction's); a handler sees only its own department's cases.
SEE_ALL_ROLES = OFFICE_ROLES


@dataclass(frozen=True)
class Actor:
    id: int | None
    name: str
    roles: frozenset[Role]
    department_id: int | None = None
    # The jurisdiction the account works for and its path ("/1/4/"); None: the root's.
    jurisdiction_id: int | None = None
    jurisdiction_path: str | None = None
    # An office below the root: the ids of its jurisdiction and of those under it, read once
    # when the actor is made (a request, a job), so the scope clause filters on known values:
    # PostgreSQL then plans with its statistics per jurisdiction (behind a sub-select it sorted a
    # county's 87,000 cases for every page: bench/lists.py at 1 million cases).
    jurisdiction_scope: tuple[int, ...] | None = None

    @property
    def sees_all_cases(self) -> bool:
        """An office role: sees every case of its jurisdiction's scope (not only its department's)."""
        return bool(self.roles & SEE_ALL_ROLES)

    @classmethod
    def from_user(cls, user) -> Actor:
        """Build an actor from a logged-in FAB user (unknown role names are ignored)."""
        names = {r.name for r in getattr(user, "roles", [])}
        roles = frozenset(r for r in Role if r.value in names)
        name = f"{user.last_name}{user.first_name}" if user.last_name else user.username
        jurisdiction = getattr(user, "jurisdiction", None)
        return cls(
            user.id,
            name,
            roles,
            getattr(user, "department_id", None),
            jurisdiction.id if jurisdiction is not None else None,
            jurisdiction.path if jurisdiction is not None else None,
            _scope_of(user, jurisdiction) if roles & SEE_ALL_ROLES else None,
        )


def _scope_of(user, jurisdiction) -> tuple[int, ...] | None:
    """The ids of an office's jurisdiction and of those under it (None for the root's office,
    which is not limited), read once per loaded account."""
    if jurisdiction is None or jurisdiction.parent_id is None:
        return None
    cached = getattr(user, "_jurisdiction_scope", None)
    if cached is not None and cached[0] == jurisdiction.path:
        return cached[1]
    from sqlalchemy import select
    from sqlalchemy.orm import object_session

    from models import Jurisdiction

    session = object_session(user)
    if session is None:
        return None  # the scope clause reads the tree itself
    ids = tuple(
        sorted(
            session.execute(
                select(Jurisdiction.id).where(Jurisdiction.path.like(f"{jurisdiction.path}%"))
            ).scalars()
        )
    )
    user._jurisdiction_scope = (jurisdiction.path, ids)
    return ids


SYSTEM = Actor(None, "system", frozenset({Role.SUPERVISOR}))
