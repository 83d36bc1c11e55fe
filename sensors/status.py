"""Camera status as the manager sees it: every configured camera and what the poller learned."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hall_ops.clock import iso_utc
from hall_ops.config import HallConfig
from sensors.config import parse_cameras
from sensors.models import Camera
from sensors.poller import CameraReading


def camera_statuses(hall: HallConfig, session: Session) -> list[dict[str, Any]]:
    """Every configured camera with what the poller last learned (``unknown``: never polled)."""
    rows = {c.name: c for c in session.scalars(select(Camera))}
    out = []
    for config in parse_cameras(hall.raw, {z.code for z in hall.zones}):
        row = rows.get(config.name)
        out.append({
            "camera": config.name,
            "zone": config.zone,
            "role": config.role,
            "status": row.status if row else "unknown",
            "last_seen_at": iso_utc(row.last_seen_at) if row else None,
            "error": row.last_error if row else None,
        })
    return out

def reading_view(reading: CameraReading) -> dict[str, Any]:
    return {
        "camera": reading.camera,
        "zone": reading.zone,
        "role": reading.role,
        "status": reading.status,
        "last_seen_at": iso_utc(reading.last_seen_at),
        "error": reading.error,
    }
