"""The password policy for staff accounts (pure: no framework, no database).

A password is refused when it is short, when it is (or contains) the user's own name, when it
is a password this platform has published (the demo's) or when zxcvbn, Dropbox's estimator with
its lists of common passwords, names and keyboard patterns, judges it easy to guess.
"""

from __future__ import annotations

from app.workflow import N_

DEMO_PASSWORD = "Demo@2026"  # the demo's published password (app/demo.py, README)
# Passwords anyone who has read this project's README or run its demo would try first.
PUBLISHED = frozenset(
    {DEMO_PASSWORD.lower(), "营商110", "yingshang110", "admin", "password", "correcthorsebatterystaple"}
)
# Read as an attacker's list does: accents dropped, digits and signs as the letters they stand for.
_LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"}
)
# Words anyone attacking this platform tries in every combination: its names, the place, the
# year. zxcvbn counts a password built from them (Yingshang110!, yingshang110yingshang110) as
# easy, as it does with the account's own names.
PLATFORM_WORDS = (
    "yingshang",
    "yingshang110",
    "ys110",
    "营商",
    "营商110",
    "营商环境",
    "yingshanghuanjing",
    "qingyuan",
    "shimen",
    "demo",
    "admin",
    "2026",
    "hotline",
    "12345",
)
MAX_LENGTH = 128  # hashing stays cheap; zxcvbn looks at the first 72 characters
_ZXCVBN_LENGTH = 72


def password_problems(
    password: str,
    *,
    username: str = "",
    user_inputs: tuple[str, ...] = (),
    min_length: int = 12,
    min_score: int = 3,
) -> list[tuple[str, dict]]:
    """Why ``password`` may not be set, as (msgid, parameters) pairs; empty when it is good.

    ``user_inputs`` are other words tied to the account (names, e-mail) that zxcvbn counts as
    easy to guess; ``min_score`` is zxcvbn's 0-4 scale (3: "safely unguessable")."""
    if not isinstance(password, str) or not password:
        return [(N_("Enter a password."), {})]
    problems: list[tuple[str, dict]] = []
    if len(password) < min_length:
        problems.append((N_("A password needs at least %(n)s characters."), {"n": min_length}))
    if len(password) > MAX_LENGTH:
        problems.append((N_("A password may have at most %(n)s characters."), {"n": MAX_LENGTH}))
    variants = _variants(_folded(password))
    name = _folded(username or "")
    if name and any(name in variant for variant in variants):
        problems.append((N_("A password must not contain the user name."), {}))
    demo = _folded(DEMO_PASSWORD).translate(_LEET)
    if any(variant in PUBLISHED or demo in variant.translate(_LEET) for variant in variants):
        problems.append((N_("This password is published (the demo's); choose your own."), {}))
    elif not problems and (
        any(_only_platform_words(variant) for variant in variants)
        or _score(password, (username, *user_inputs, *PLATFORM_WORDS)) < min_score
    ):
        problems.append(
            (
                N_(
                    "This password is too common or too easy to guess: use a longer phrase of "
                    "unrelated words, or mix letters, digits and signs."
                ),
                {},
            )
        )
    return problems


def _folded(password: str) -> str:
    """Lower case without accents or spaces (yíngshāng → yingshang, Correct Horse → correcthorse)."""
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", password.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c) and not c.isspace())


def _variants(lowered: str) -> tuple[str, ...]:
    """The password, reversed, and with digits and signs read as letters (Dem0@2026 → demoa2o26)."""
    return (lowered, lowered[::-1], lowered.translate(_LEET), lowered[::-1].translate(_LEET))


def _only_platform_words(lowered: str) -> bool:
    """Built on the platform's own words, with under 6 letters besides them and digits/signs."""
    rest = lowered
    for word in sorted(PLATFORM_WORDS, key=len, reverse=True):
        rest = rest.replace(word, "")
    return rest != lowered and len([c for c in rest if c.isalpha()]) < 6


def _score(password: str, user_inputs: tuple[str, ...]) -> int:
    from zxcvbn import zxcvbn

    words = [w for w in user_inputs if isinstance(w, str) and w.strip()]
    return int(zxcvbn(password[:_ZXCVBN_LENGTH], user_inputs=words)["score"])
