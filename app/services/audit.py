"""Append to the hash-chained audit log and verify it (identity views, logins, role changes,
exports, configuration overrides)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from sqlalchemy import select

from app.services.actor import Actor
from models.audit import AuditHead, AuditRecord

GENESIS = "0" * 64


def _digest(prev_hash: str, at: datetime, kind: str, actor_id, actor_name: str, subject: str,
            details: dict) -> str:
    canonical = json.dumps([prev_hash, at.isoformat(timespec="microseconds"), kind, actor_id,
                            actor_name, subject, details], ensure_ascii=False, sort_keys=True,
                           separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def record(session, kind: str, *, actor: Actor | None, now: datetime, subject: str = "",
           details: dict | None = None) -> AuditRecord:
    """Append one record; the head row is locked so concurrent writers form one chain."""
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()
                           ).scalar_one_or_none()
    if head is None:
        head = AuditHead(id=1, last_id=0, last_hash=GENESIS)
        session.add(head)
        session.flush()
    details = json.loads(json.dumps(details or {}, ensure_ascii=False, default=str))
    actor_id, actor_name = (actor.id, actor.name) if actor else (None, "system")
    digest = _digest(head.last_hash, now, kind, actor_id, actor_name, subject[:200], details)
    row = AuditRecord(at=now, kind=kind, actor_id=actor_id, actor_name=actor_name,
                      subject=subject[:200], details=details, prev_hash=head.last_hash,
                      hash=digest)
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
            problems.append(f"record {row.id}: does not follow record {last_id} "
                            "(a record was deleted or the chain was rewritten)")
        expected = _digest(row.prev_hash, row.at, row.kind, row.actor_id, row.actor_name,
                           row.subject, row.details)
        if expected != row.hash:
            problems.append(f"record {row.id}: its content does not match its hash (edited)")
        previous, last_id = row.hash, row.id
    head = session.get(AuditHead, 1)
    if head is not None and (head.last_hash != previous or head.last_id != last_id):
        problems.append(f"the chain ends at record {last_id} but its head says {head.last_id} "
                        "(the last records were deleted)")
    return problems
