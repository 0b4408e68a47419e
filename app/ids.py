"""Ids that come from users (form fields, query strings, URL paths).

Every id and number column is a 32-bit INTEGER on PostgreSQL, and SQLite's driver cannot even
bind an integer beyond 64 bits: an id of 25 digits typed into a form or a URL used to reach the
database and fail there (a 500). Such a value names no row, so it is treated like any unknown id.
"""

from __future__ import annotations

ID_LIMIT = 2**31 - 1  # the largest value of a 32-bit INTEGER column


def as_id(value) -> int | None:
    """The id ``value`` names (an int or a string of digits), or None when it names no row:
    empty, not a whole number, negative, or beyond the range of the id columns."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    else:
        text = str(value if value is not None else "").strip()
        if not text.isdigit() or not text.isascii():
            return None
        number = int(text)
    return number if 0 <= number <= ID_LIMIT else None


def in_range(value: int) -> bool:
    """Whether an integer fits the 32-bit INTEGER columns."""
    return -ID_LIMIT - 1 <= value <= ID_LIMIT
