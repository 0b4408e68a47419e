"""An offline filing challenge (no third-party captcha): a small sum written in Chinese
numerals, signed so the server keeps no state until it is answered (pure)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

DIGITS = "零一二三四五六七八九"
MAX_AGE_SECONDS = 2 * 3600


def chinese_number(n: int) -> str:
    """Write 0–99 in Chinese numerals (十二, 二十, 三十七)."""
    if n < 10:
        return DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else DIGITS[tens]) + "十" + (DIGITS[ones] if ones else "")


def _sign(secret: str, challenge_id: str, issued: int, answer: int) -> str:
    message = f"{challenge_id}:{issued}:{answer}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def new_challenge(secret: str, now: float | None = None) -> tuple[str, str]:
    """Return (question, token); the token carries no answer, only a signature over it."""
    a, b = secrets.randbelow(20) + 1, secrets.randbelow(20) + 1
    issued = int(now if now is not None else time.time())
    challenge_id = secrets.token_hex(8)
    question = f"{chinese_number(a)}加{chinese_number(b)}等于多少？（请填写阿拉伯数字）"
    return question, f"{challenge_id}.{issued}.{_sign(secret, challenge_id, issued, a + b)}"


def check_answer(secret: str, token: str | None, answer: str | None, now: float | None = None) -> str | None:
    """Return the challenge id when the answer is right and fresh, else None."""
    try:
        challenge_id, issued_text, signature = (token or "").split(".")
        issued, given = int(issued_text), int((answer or "").strip())
    except ValueError:
        return None
    age = (now if now is not None else time.time()) - issued
    if not 0 <= age <= MAX_AGE_SECONDS:
        return None
    expected = _sign(secret, challenge_id, issued, given)
    return challenge_id if hmac.compare_digest(expected, signature) else None
