"""Who acts: a plain value passed to every service (jobs use SYSTEM)."""

from __future__ import annotations

from dataclasses import dataclass

from app.workflow import Role

#: Roles that see every case; a handler sees only its own department's cases.
SEE_ALL_ROLES = frozenset(
    {Role.ADMIN, Role.CLERK, Role.DISPATCHER, Role.SUPERVISOR, Role.LEADER, Role.CUSTODIAN}
)


@dataclass(frozen=True)
class Actor:
    id: int | None
    name: str
    roles: frozenset[Role]
    department_id: int | None = None

    @property
    def sees_all_cases(self) -> bool:
        return bool(self.roles & SEE_ALL_ROLES)

    @classmethod
    def from_user(cls, user) -> Actor:
        """Build an actor from a logged-in FAB user (unknown role names are ignored)."""
        names = {r.name for r in getattr(user, "roles", [])}
        roles = frozenset(r for r in Role if r.value in names)
        name = f"{user.last_name}{user.first_name}" if user.last_name else user.username
        return cls(user.id, name, roles, getattr(user, "department_id", None))


SYSTEM = Actor(None, "system", frozenset({Role.SUPERVISOR}))
