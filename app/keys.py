"""The platform's secrets: which must be set, what counts as unusable, and the demo's keys.

Whoever knows SECRET_KEY signs session cookies (and is then any user) and receipt tokens;
IDENTITY_KEY decrypts reporters' names, phones and companies; QUERY_CODE_KEY keys the hashes of
query codes and company digests. A published default is as good as none, so outside the demo
(``YS_DEMO=1``) the platform refuses to start while any of them is unset, short, a known
default, or equal to another. IDENTITY_KEY may list several keys separated by commas: the
first encrypts, every one decrypts (key rotation; ``flask ys rotate-identity-key`` re-encrypts
what the older keys wrote).
"""

from __future__ import annotations

REQUIRED = ("SECRET_KEY", "IDENTITY_KEY", "QUERY_CODE_KEY")
MIN_LENGTH = 32
MIN_DISTINCT = 12  # "aaaa…" or "abcabc…" is long but guessable

# The demo's keys are published in this file: they protect nothing and are refused outside it.
DEMO_KEYS = {
    "SECRET_KEY": "demo-secret-key-营商110-published-never-use-in-production",
    "IDENTITY_KEY": "demo-identity-key-营商110-published-never-use-in-production",
    "QUERY_CODE_KEY": "demo-query-code-key-营商110-published-never-use-in-production",
}
# Defaults earlier versions shipped, and placeholders people copy from examples.
PUBLISHED = {
    *DEMO_KEYS.values(),
    "dev-only-change-me-营商110",
    # fixed test keys an earlier commit wrote into tests/conftest.py (the tests now make fresh ones)
    "test-secret-key-0123456789abcdef0123456789",
    "test-identity-key-0123456789abcdef0123456789",
    "test-query-code-key-0123456789abcdef0123456789",
    "demo-identity-key-dev-only-change-me-营商110",
    "demo-query-code-key-dev-only-change-me-营商110",
    "change-me",
    "changeme",
    "secret",
}

HOW_TO_MAKE = "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"


class InsecureConfiguration(RuntimeError):
    """Raised at start-up (web, worker, CLI) while a secret is missing or unusable."""


def identity_keys(value: str) -> list[str]:
    """The identity keys, newest first (the one that encrypts), from a comma-separated value."""
    return [key.strip() for key in (value or "").split(",") if key.strip()]


def problems(config) -> list[str]:
    """Say, per variable, why the configured secrets cannot be used (empty when they can)."""
    found = []
    seen: dict[str, str] = {}
    for name in REQUIRED:
        value = config.get(name) or ""
        keys = identity_keys(value) if name == "IDENTITY_KEY" else ([value] if value else [])
        if not keys:
            found.append(f"{name} is not set.")
            continue
        for key in keys:
            if key in PUBLISHED:
                found.append(f"{name} is a published default; anyone can use it.")
            elif len(key) < MIN_LENGTH:
                found.append(f"{name} is too short ({len(key)} characters; at least {MIN_LENGTH}).")
            elif len(set(key)) < MIN_DISTINCT:
                found.append(f"{name} is not random ({len(set(key))} different characters).")
            elif key in seen:
                found.append(f"{name} is the same as {seen[key]}; each secret must be its own.")
            else:
                seen[key] = name
    return found


def apply(config) -> None:
    """Fill the demo's keys under YS_DEMO=1, else refuse to go on with unusable secrets."""
    if config.get("YS_DEMO"):
        for name, value in DEMO_KEYS.items():
            if not config.get(name):
                config[name] = value
        return
    found = problems(config)
    if found:
        raise InsecureConfiguration(
            "营商110 refuses to start: its secrets are not safe.\n  "
            + "\n  ".join(found)
            + f"\nSet each of {', '.join(REQUIRED)} in the environment to its own random value, e.g.\n"
            + f"  export SECRET_KEY=$({HOW_TO_MAKE})\n"
            + "(IDENTITY_KEY may list several keys, newest first, separated by commas.)\n"
            + "Only to try the platform out, set YS_DEMO=1 (make run does): it uses published demo keys."
        )
