"""Append to the hash-chained audit log and verify it (identity views, logins, role changes,
exports, configuration overrides)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app.services.actor import Actor
from models.audit import AuditHead, AuditRecord

GENESIS = "0" * 64


def _digest(
    prev_hash: str, at: datetime, kind: str, actor_id, actor_name: str, subject: str, details: dict
) -> str:
    canonical = json.dumps(
        [prev_hash, at.isoformat(timespec="microseconds"), kind, actor_id, actor_name, subject, details],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def record(
    session, kind: str, *, actor: Actor | None, now: datetime, subject: str = "", details: dict | None = None
) -> AuditRecord:
    """Append one record; the head row is locked so concurrent writers form one chain."""
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one_or_none()
    if head is None:
        head = AuditHead(id=1, last_id=0, last_hash=GENESIS)
        session.add(head)
        session.flush()
    details = json.loads(json.dumps(details or {}, ensure_ascii=False, default=str))
    actor_id, actor_name = (actor.id, actor.name) if actor else (None, "system")
    digest = _digest(head.last_hash, now, kind, actor_id, actor_name, subject[:200], details)
    row = AuditRecord(
        at=now,
        kind=kind,
        actor_id=actor_id,
        actor_name=actor_name,
        subject=subject[:200],
        details=details,
        prev_hash=head.last_hash,
        hash=digest,
    )
    session.add(row)
    session.flush()
    head.last_id, head.last_hash = row.id, digest
    session.flush()
    return row


def verify(session) -> list[str]:
    """Recompute the chain; return the problems found (an empty list means intact)."""
    problems, previous = [], GENESIS
    last_id = 0
    for row in session.execute(select(AuditRecord).order_by(AuditRecord.id)).scalars():
        if row.prev_hash != previous:
            problems.append(
                f"record {row.id}: does not follow record {last_id} "
                "(a record was deleted or the chain was rewritten)"
            )
        expected = _digest(
            row.prev_hash, row.at, row.kind, row.actor_id, row.actor_name, row.subject, row.details
        )
        if expected != row.hash:
            problems.append(f"record {row.id}: its content does not match its hash (edited)")
        previous, last_id = row.hash, row.id
    head = session.get(AuditHead, 1)
    if head is not None and (head.last_hash != previous or head.last_id != last_id):
        problems.append(
            f"the chain ends at record {last_id} but its head says {head.last_id} "
            "(the last records were deleted)"
        )
    return problems


# --- configuration changes, from one place ------------------------------------------------------
# Every change to the reference data (screens, REST API, CLI, jobs) is recorded in the same
# transaction as the change itself: the changes are collected at each flush and written just
# before the commit, so a change and its record commit, or roll back, together.

_AUDITED: tuple[type, ...] = ()
_USERS: tuple[type, ...] = ()  # user accounts: their roles, department and state
_PENDING = "config_changes"
_SECRET = ("hash", "token", "secret", "password")
_resolve_actor = lambda: None  # noqa: E731 - replaced by the factory with the request's user


def audit_configuration(*models: type, users: tuple[type, ...] = (), actor_resolver=None) -> None:
    """Record every add, edit and delete of these models as a ``config_change``, and of the
    ``users`` models (roles, department, active) as a ``role_change``."""
    global _AUDITED, _USERS, _resolve_actor
    _AUDITED, _USERS = tuple(models) + tuple(users), tuple(users)
    if actor_resolver is not None:
        _resolve_actor = actor_resolver


# Bookkeeping that changes without anyone configuring anything (a login, a key's last use).
_BOOKKEEPING = frozenset(
    {
        "last_login",
        "login_count",
        "fail_login_count",
        "changed_on",
        "changed_by_fk",
        "last_used_on",
        "last_used",
    }
)
# What makes an account change worth a record: who it is, what it may do, how it logs in.
_ACCOUNT = (
    "roles",
    "department_id",
    "jurisdiction_id",
    "active",
    "username",
    "email",
    "password",
    "first_name",
    "last_name",
)


def _changed(obj) -> dict:
    """Changed columns as [old, new] (secrets only as "…"), changed collections as the items
    added and removed (a role's permissions)."""
    from sqlalchemy import inspect

    state, changes = inspect(obj), {}
    for attr in state.mapper.attrs:
        if attr.key in _BOOKKEEPING or not hasattr(attr, "columns") and not getattr(attr, "uselist", False):
            continue
        history = state.attrs[attr.key].history
        if not history.has_changes():
            continue
        if hasattr(attr, "columns"):
            secret = any(word in attr.key for word in _SECRET)
            old = history.deleted[0] if history.deleted else None
            new = history.added[0] if history.added else None
            changes[attr.key] = "…" if secret else [old, new]
        else:
            changes[attr.key] = {
                "added": sorted(map(str, history.added))[:100],
                "removed": sorted(map(str, history.deleted))[:100],
            }
    return changes


def _account_changes(user) -> list[str]:
    """Which of the account's identity, rights and login changed (not a login's counters)."""
    from sqlalchemy import inspect

    attrs = inspect(user).attrs
    return [name for name in _ACCOUNT if name in attrs and attrs[name].history.has_changes()]


@event.listens_for(Session, "before_flush")
def _collect_configuration_changes(session, _flush_context, _instances) -> None:
    if not _AUDITED:
        return
    pending = session.info.setdefault(_PENDING, [])
    for obj in session.new:
        if isinstance(obj, _AUDITED):
            pending.append((obj, "add", None))
    for obj in session.dirty:
        if isinstance(obj, _USERS):
            if changed := _account_changes(obj):
                pending.append((obj, "edit", {"changed": changed}))
        elif isinstance(obj, _AUDITED) and session.is_modified(obj):
            if changes := _changed(obj):
                pending.append((obj, "edit", changes))
    for obj in session.deleted:
        if isinstance(obj, _AUDITED):
            pending.append((obj, "delete", {"item": str(obj)}))
    if not pending:
        session.info.pop(_PENDING, None)


@event.listens_for(Session, "before_commit")
def _write_configuration_changes(session) -> None:
    if not _AUDITED:
        return
    session.flush()  # collect what the last statements changed
    pending = session.info.pop(_PENDING, [])
    if not pending:
        return
    from app import clock

    actor, now = _resolve_actor(), clock.utcnow()
    seen, groups = set(), {}
    for obj, change, details in pending:
        if isinstance(obj, _USERS):
            if (id(obj), change) in seen:
                continue
            seen.add((id(obj), change))
            record(
                session,
                "role_change",
                actor=actor,
                now=now,
                subject=obj.username,
                details={
                    "change": change,
                    "changed": (details or {}).get("changed", []),  # a password only as its name
                    "roles": sorted(r.name for r in obj.roles),
                    "department_id": obj.department_id,
                    "active": obj.active,
                },
            )
            continue
        item = details.pop("item", None) if change == "delete" else str(obj)
        groups.setdefault((type(obj).__name__, change), []).append({"item": item, "changes": details or {}})
    for (model, change), items in groups.items():
        # one record per kind of change: a seeded calendar is one record, not a thousand
        record(
            session,
            "config_change",
            actor=actor,
            now=now,
            subject=f"{model}:{change}",
            details=items[0] if len(items) == 1 else {"count": len(items), "items": items[:200]},
        )


@event.listens_for(Session, "after_transaction_end")
def _forget_configuration_changes(session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_PENDING, None)
