"""Column helpers shared by the models."""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app
from sqlalchemy import Enum, Text
from sqlalchemy.types import TypeDecorator


def enum_column_type(enum_cls, length: int = 24) -> Enum:
    """Store a StrEnum by its value as a VARCHAR with a CHECK (portable across databases).

    Flask-AppBuilder looks enum members up by the stored value, so each value is also made an
    alias of its member (``Status.__members__["closed"] is Status.CLOSED``). Unknown strings in
    a filter simply match nothing; the CHECK constraint keeps them out of the table.
    """
    for member in enum_cls:
        enum_cls._member_map_.setdefault(member.value, member)
    return Enum(
        enum_cls,
        native_enum=False,
        create_constraint=True,
        length=length,
        values_callable=lambda e: [m.value for m in e],
        name=f"ck_{enum_cls.__name__.lower()}",
        validate_strings=False,
    )


def _fernet(secret: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest()))


def identity_fernet() -> MultiFernet:
    """The cipher for reporter identity, keyed from IDENTITY_KEY: a comma-separated list of keys
    (any strings; each hashed to 32 bytes), newest first. The first encrypts, all decrypt."""
    from app.keys import identity_keys

    value = current_app.config["IDENTITY_KEY"]
    cached = current_app.extensions.get("identity_fernet")
    if cached is None or cached[0] != value:
        cached = (value, MultiFernet([_fernet(key) for key in identity_keys(value)]))
        current_app.extensions["identity_fernet"] = cached
    return cached[1]


class EncryptedText(TypeDecorator):
    """Text encrypted at rest (Fernet: AES-128-CBC + HMAC); only ciphertext reaches the database."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return identity_fernet().encrypt(str(value).encode()).decode()

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        try:
            return identity_fernet().decrypt(value.encode()).decode()
        except InvalidToken:
            return None  # a wrong key must not crash a page; the identity is simply unreadable


def append_only(*model_classes) -> None:
    """Refuse ORM updates and deletes of these models' rows (ledgers and audit records)."""
    from sqlalchemy import event

    def refuse(mapper, connection, target):
        raise PermissionError(f"{type(target).__name__} rows are append-only")

    for model_class in model_classes:
        event.listen(model_class, "before_update", refuse)
        event.listen(model_class, "before_delete", refuse)
