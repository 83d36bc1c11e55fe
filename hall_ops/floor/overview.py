"""The manager's live view of the floor in one read: queues, people per zone, cameras,
alerts, overdue items, auto mode and the latest workload changes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hall_ops import queue
from hall_ops.clock import hall_day, iso_utc
from hall_ops.config import HallConfig
from hall_ops.db import Database
from hall_ops.evaluation import rectification
from hall_ops.floor.alerts import build_alerts, overdue_cases, screens_today
from hall_ops.floor.auto_mode import (
    auto_settings,
    auto_view,
    last_change_at,
    recent_changes,
)
from sensors.poller import zone_occupancy
from sensors.status import camera_statuses
from zones.occupancy import waiting_per_zone, zone_view


def floor_state(db: Database, hall: HallConfig, now: dt.datetime) -> dict[str, Any]:
    """Everything the manager's live page shows, now (then kept fresh by pushes)."""
    config = hall.dashboard
    with db.read() as session:
        snapshot = queue.queue_snapshot(session, hall, now)
        cameras = camera_statuses(hall, session)
        settings = auto_settings(session)
        last = last_change_at(session)
        changes = recent_changes(session, 10)
        waiting = waiting_per_zone(session, hall, now)
        late = rectification.overdue_count(session, hall_day(now, hall.timezone))
        screens = screens_today(session, hall, now)
    zones = zone_occupancy(db, now, waiting)
    overdue = overdue_cases(hall, db, now)
    return {
        "at": iso_utc(now),
        "queue_alert": config.queue_alert,
        "chart_hours": config.chart_hours,
        "queue": snapshot,
        "occupancy": {code: zone_view(z) for code, z in zones.items()},
        "cameras": cameras,
        "alerts": build_alerts(snapshot, cameras, overdue, config.queue_alert, late,
                               screens, now),
        "overdue": overdue,
        "auto": auto_view(settings, last),
        "changes": changes,
    }
