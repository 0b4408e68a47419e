"""Receipts: secret query codes and their keyed hashes (pure).

A code has 24 symbols from a 32-symbol alphabet without look-alikes (I, O, 0, 1): 120 bits of
entropy. Only HMAC-SHA256(key, receipt number + code) is stored, so a database leak reveals no
code and a code is useless with another case number.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
LENGTH = 24
GROUP = 4
BITS = LENGTH * 5  # 120


def new_query_code() -> str:
    """Return a fresh code, grouped for reading aloud: ABCD-EFGH-JKLM-NPQR-STUV-WXYZ."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return "-".join(raw[i : i + GROUP] for i in range(0, LENGTH, GROUP))


def normalize_code(text: str | None) -> str | None:
    """Accept what a person types (lower case, spaces, dashes, full-width); None if malformed."""
    if not isinstance(text, str):
        return None
    cleaned = "".join(chr(ord(c) - 0xFEE0) if "\uff01" <= c <= "\uff5e" else c for c in text).upper()
    cleaned = "".join(c for c in cleaned if c not in " -\u3000\t")
    if len(cleaned) != LENGTH or any(c not in ALPHABET for c in cleaned):
        return None
    return cleaned


def code_hash(key: str, receipt_number: str, code: str) -> str | None:
    """Return the keyed hash stored for a code (None when the code is malformed)."""
    normalized = normalize_code(code)
    if normalized is None or not receipt_number:
        return None
    message = f"{receipt_number.strip().upper()}:{normalized}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def keyed_digest(key: str, value: str) -> str:
    """A keyed hash of a value (e.g. a company) so equal values can be matched blind."""
    return hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()


def seal_receipt(key: str, number: str, code: str) -> str:
    """Encrypt a receipt for the page that shows it after the filing's redirect (the code is
    never readable from the session cookie that carries it)."""
    import base64
    import json

    from cryptography.fernet import Fernet

    fernet = Fernet(base64.urlsafe_b64encode(hashlib.sha256(f"receipt:{key}".encode()).digest()))
    return fernet.encrypt(json.dumps([number, code]).encode()).decode()


def open_receipt(key: str, sealed: str | None, max_age: int) -> tuple[str, str] | None:
    """The (number, code) of a sealed receipt younger than ``max_age`` seconds, else None."""
    import base64
    import json

    from cryptography.fernet import Fernet, InvalidToken

    if not sealed:
        return None
    fernet = Fernet(base64.urlsafe_b64encode(hashlib.sha256(f"receipt:{key}".encode()).digest()))
    try:
        number, code = json.loads(fernet.decrypt(sealed.encode(), ttl=max_age))
    except (InvalidToken, ValueError, TypeError):
        return None
    return number, code
