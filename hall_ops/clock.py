"""Time: stored as naive UTC, reasoned about in the hall's own time zone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import overload
from zoneinfo import ZoneInfo

Clock = Callable[[], dt.datetime]
"""Returns the current time as naive UTC. Tests pass a fixed or stepping clock."""


def system_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def to_local(utc: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    return utc.replace(tzinfo=dt.UTC).astimezone(tz)


def from_local(local: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """Naive hall-local time → naive UTC."""
    aware = local.replace(tzinfo=tz) if local.tzinfo is None else local
    return aware.astimezone(dt.UTC).replace(tzinfo=None)


def hall_day(utc: dt.datetime, tz: ZoneInfo) -> dt.date:
    return to_local(utc, tz).date()


@overload
def iso_utc(value: dt.datetime) -> str: ...
@overload
def iso_utc(value: dt.datetime | None) -> str | None: ...
def iso_utc(value: dt.datetime | None) -> str | None:
    """A stored naive-UTC time as ISO 8601 with its offset: how every edge sends times."""
    return value.replace(tzinfo=dt.UTC).isoformat() if value else None
