"""The hall floor as it stands: zones, services and windows read from the database.

config.toml seeds a new installation (``hall_ops.hall.load_hall``); after that the rows are
the truth, changed in the admin page (``hall_ops.floor.admin``). Code that needs the floor
at run time (auto mode, the planner's skills, the manager's apply check, screens' rooms,
metrics) reads it here, never from ``HallConfig.zones/services/windows``, which only say
what the file seeded. Same shapes as the config's, so ``zones.skills`` takes either.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from hall_ops.config import ServiceConfig, WindowConfig, ZoneConfig
from hall_ops.queue.models import Service, Window
from zones.models import Zone


@dataclass(frozen=True)
class FloorPlan:
    zones: tuple[ZoneConfig, ...]
    services: tuple[ServiceConfig, ...]
    windows: tuple[WindowConfig, ...]
    """Windows in service (not retired), with their default services."""


def zone_codes(session: Session) -> list[str]:
    """The hall's zones in their order: the ``zone:<code>`` rooms screens join."""
    return list(session.scalars(select(Zone.code).order_by(Zone.position, Zone.code)))


def floor_plan(session: Session) -> FloorPlan:
    zones = tuple(
        ZoneConfig(z.code, z.name_zh, z.name_en)
        for z in session.scalars(select(Zone).order_by(Zone.position, Zone.code))
    )
    services = tuple(
        ServiceConfig(s.code, s.letter, s.name_zh, s.name_en, s.zone_code, s.board,
                      s.mean_service_minutes)
        for s in session.scalars(select(Service).order_by(Service.position, Service.code))
    )
    windows = tuple(
        WindowConfig(w.number, w.zone_code, w.kind, tuple(w.default_codes))
        for w in session.scalars(
            select(Window).where(Window.retired_at.is_(None)).order_by(Window.number)
            .options(selectinload(Window.defaults))
        )
    )
    return FloorPlan(zones, services, windows)
