"""The one place that reads the wall clock; everything else takes ``now`` as a parameter."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    """Return the current time as a naive UTC datetime (how the database stores time)."""
    return datetime.now(UTC).replace(tzinfo=None)


def to_local(moment: datetime | None) -> datetime | None:
    """Convert a stored naive UTC datetime to Asia/Shanghai time."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC).astimezone(LOCAL_TZ)


def local_date(moment: datetime) -> date:
    """Return the Asia/Shanghai calendar date of a stored naive UTC datetime."""
    return to_local(moment).date()


def end_of_local_day_utc(day: date) -> datetime:
    """Return 23:59:59 Asia/Shanghai of ``day`` as a naive UTC datetime."""
    local = datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=LOCAL_TZ)
    return local.astimezone(UTC).replace(tzinfo=None)
