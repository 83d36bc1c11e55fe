"""Tables of the counting cameras and the occupancy they report.

``cameras`` mirrors the ``[[cameras]]`` config plus what the poller learned
(status, last answer, back-off). ``occupancy_samples`` is the history behind
the live figure and the charts: one row per camera per poll, or one
``estimate`` row per zone without a working camera. Times are naive UTC.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from hall_ops.db import Base

SAMPLE_SOURCES = ("camera", "estimate")


class Camera(Base):
    __tablename__ = "cameras"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    zone_code: Mapped[str] = mapped_column(ForeignKey("zones.code"), index=True)
    host: Mapped[str] = mapped_column(String(255))
    port: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="unknown")
    """One of ``sensors.camera.STATUSES``: what the dashboard says about the camera."""
    last_seen_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    """Our sentence about the last problem, for the server log and the admin (not the
    dashboard, which shows the translated status)."""
    clock_offset_s: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """The camera's clock minus ours, seconds, when last known."""
    failures: Mapped[int] = mapped_column(Integer, default=0)
    """Failed polls in a row; sets the back-off before the next try."""
    next_try_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class OccupancySample(Base):
    __tablename__ = "occupancy_samples"
    __table_args__ = (Index("ix_occupancy_zone_at", "zone_code", "at"),
                      Index("ix_occupancy_camera_at", "camera_name", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    zone_code: Mapped[str] = mapped_column(ForeignKey("zones.code"))
    camera_name: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """Plain name, not a foreign key: history outlives a camera taken out of the config."""
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    count: Mapped[int] = mapped_column(Integer)
    """People present (for a door counter: in minus out since its daily reset)."""
    entered: Mapped[int | None] = mapped_column(Integer, nullable=True)
    exited: Mapped[int | None] = mapped_column(Integer, nullable=True)
    source: Mapped[str] = mapped_column(String(16), default="camera")
    clamped: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """The camera reported fewer than nobody; ``count`` was raised to zero."""
