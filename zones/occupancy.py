"""People per zone: camera counts where a zone has cameras, an estimate from waiting
tickets where it has none, and the trend the workload planner reads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hall_ops import queue
from hall_ops.clock import hall_day, iso_utc
from hall_ops.config import HallConfig
from hall_ops.db import Database
from hall_ops.floor.plan import zone_codes
from hall_ops.queue.models import Service
from sensors.poller import ZoneOccupancy, occupancy_series

TREND_MINUTES = 15

TREND_FLOOR = 10
"""People: below this a zone's count changes are noise, not a trend."""

def occupancy_trends(db: Database, zones: Iterable[str], now: dt.datetime) -> dict[str, float]:
    """Relative change of each zone's camera count over the last minutes (+0.2: 20 % more).

    Camera counts only: the estimate is made from waiting tickets, which the
    demand already counts. ``Demand.forecast_rate`` clamps the result.
    """
    since = now - dt.timedelta(minutes=TREND_MINUTES)
    trends: dict[str, float] = {}
    for zone in zones:
        points = [p for p in occupancy_series(db, zone, since, now) if p.source == "camera"]
        if len(points) >= 2 and points[-1].at - points[0].at >= dt.timedelta(minutes=10):
            trends[zone] = (points[-1].count - points[0].count) / max(points[0].count, TREND_FLOOR)
    return trends

def zone_view(zone: ZoneOccupancy) -> dict[str, Any]:
    return {
        "zone": zone.zone,
        "count": zone.count,
        "at": iso_utc(zone.at),
        "stale": zone.stale,
        "estimate": zone.estimate,
        "cameras": list(zone.cameras),
        "entered": zone.entered,
        "exited": zone.exited,
        "clamped": zone.clamped,
    }


def waiting_per_zone(session: Session, hall: HallConfig, now: dt.datetime) -> dict[str, int]:
    """Tickets waiting per zone today: the occupancy estimate where a zone has no camera."""
    waiting = queue.waiting_by_service(session, hall_day(now, hall.timezone))
    zone_of = dict(session.execute(select(Service.code, Service.zone_code)).all())
    totals = dict.fromkeys(zone_codes(session), 0)
    for service, count in waiting.items():
        totals[zone_of[service]] = totals.get(zone_of[service], 0) + count
    return totals
