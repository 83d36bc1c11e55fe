"""Paused time per window or clerk, by reason (break, meeting, system fault).

A window's pauses are recorded with their reason (``hall_ops.queue.windows.pause_window``);
here they are added up over hall-local days, a pause still open counting up to now. A
manager sees how much of the day windows stood paused, and why.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from hall_ops.clock import from_local
from hall_ops.config import HallConfig
from hall_ops.errors import InvalidInput
from hall_ops.queue.models import PAUSE_REASONS, WindowPause
from hall_ops.reports.tickets import MAX_DAYS, _sort_key

PAUSE_GROUPINGS = ("window", "clerk")


@dataclass
class PauseRow:
    key: str
    pauses: int
    break_minutes: float
    meeting_minutes: float
    system_fault_minutes: float
    paused_minutes: float


def pause_report(
    session: Session, hall: HallConfig, first_day: dt.date, last_day: dt.date, group_by: str,
    now: dt.datetime,
) -> list[PauseRow]:
    """Minutes paused per reason within the days (a pause is cut at the range's edges)."""
    if group_by not in PAUSE_GROUPINGS:
        raise InvalidInput("group_by must be window or clerk", code="invalid_group")
    if last_day < first_day or (last_day - first_day).days >= MAX_DAYS:
        raise InvalidInput(f"a range of 1 to {MAX_DAYS} days", code="invalid_range")
    start = from_local(dt.datetime.combine(first_day, dt.time()), hall.timezone)
    end = min(from_local(dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time()),
                         hall.timezone), max(now, start))
    rows = session.scalars(
        select(WindowPause).where(
            WindowPause.started_at < end,
            or_(WindowPause.ended_at.is_(None), WindowPause.ended_at > start),
        )
    ).all()
    minutes: dict[str, dict[str, float]] = defaultdict(lambda: dict.fromkeys(PAUSE_REASONS, 0.0))
    counts: dict[str, int] = defaultdict(int)
    for pause in rows:
        key = str(pause.window_number) if group_by == "window" else pause.clerk_id
        span = min(pause.ended_at or end, end) - max(pause.started_at, start)
        minutes[key][pause.reason] += max(span.total_seconds(), 0) / 60
        counts[key] += 1
    return [
        PauseRow(
            key=key,
            pauses=counts[key],
            break_minutes=round(minutes[key]["break"], 1),
            meeting_minutes=round(minutes[key]["meeting"], 1),
            system_fault_minutes=round(minutes[key]["system_fault"], 1),
            paused_minutes=round(sum(minutes[key].values()), 1),
        )
        for key in sorted(minutes, key=_sort_key)
    ]
