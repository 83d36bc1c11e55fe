"""Camera status as the manager sees it: every configured camera and what the poller learned.

The views carry the status code (``sensors.camera.STATUSES``) and the clock
offset; the page words them in the manager's language. Our English sentence
about the last problem stays in the database and the server log.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hall_ops.clock import iso_utc
from hall_ops.config import HallConfig
from hall_ops.floor.plan import zone_codes
from sensors.camera import UNKNOWN
from sensors.config import parse_cameras
from sensors.models import Camera
from sensors.poller import CameraReading


def camera_statuses(hall: HallConfig, session: Session) -> list[dict[str, Any]]:
    """Every configured camera with what the poller last learned (``unknown``: never polled)."""
    rows = {c.name: c for c in session.scalars(select(Camera))}
    out = []
    for config in parse_cameras(hall.raw, set(zone_codes(session))):
        row = rows.get(config.name)
        out.append({
            "camera": config.name,
            "zone": config.zone,
            "role": config.role,
            "kind": config.kind,
            "status": row.status if row else UNKNOWN,
            "last_seen_at": iso_utc(row.last_seen_at) if row else None,
            "clock_offset_s": row.clock_offset_s if row else None,
        })
    return out


def reading_view(reading: CameraReading) -> dict[str, Any]:
    return {
        "camera": reading.camera,
        "zone": reading.zone,
        "role": reading.role,
        "status": reading.status,
        "last_seen_at": iso_utc(reading.last_seen_at),
        "clock_offset_s": reading.clock_offset_s,
    }
