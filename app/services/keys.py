"""Identity key rotation: re-encrypt every encrypted column with the newest IDENTITY_KEY."""

from __future__ import annotations

from datetime import datetime

from cryptography.fernet import InvalidToken
from sqlalchemy import Text, bindparam, select, type_coerce

from app.services import audit
from models import Case
from models.types import EncryptedText, identity_fernet

BATCH = 1000


def encrypted_columns() -> list[tuple]:
    """Every (table, column) stored with EncryptedText, in the models' metadata."""
    return [
        (table, column)
        for table in Case.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, EncryptedText)
    ]


def reencrypt_identities(session, *, now: datetime) -> dict[str, int]:
    """Re-encrypt every stored identity with the first IDENTITY_KEY (MultiFernet.rotate: any
    listed key decrypts). Returns how many values were re-encrypted and how many no listed key
    can read (left untouched: they were written with a key that is no longer configured)."""
    fernet = identity_fernet()
    counts = {"reencrypted": 0, "unreadable": 0}
    for table, column in encrypted_columns():
        (key,) = table.primary_key.columns
        raw = type_coerce(column, Text)
        rows = session.execute(select(key, raw).where(column.isnot(None)).order_by(key)).all()
        stmt = (
            table.update()
            .where(key == bindparam("_key"))
            .values({column.name: bindparam("_value", type_=Text)})
        )
        batch = []
        for row_key, token in rows:
            try:
                batch.append({"_key": row_key, "_value": fernet.rotate(token.encode()).decode()})
            except InvalidToken:
                counts["unreadable"] += 1
            if len(batch) >= BATCH:
                session.execute(stmt, batch)
                counts["reencrypted"] += len(batch)
                batch = []
        if batch:
            session.execute(stmt, batch)
            counts["reencrypted"] += len(batch)
    audit.record(session, "identity_key_rotated", actor=None, now=now, details=counts)
    return counts
