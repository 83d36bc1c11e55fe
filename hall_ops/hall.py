"""Bring the database in line with config.toml: zones, services, windows, clerks.

Run at every start. It adds and renames but does not undo what the hall did
at run time: a window's current services may have been reassigned by a
manager, and tickets are never touched.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from hall_ops.config import HallConfig
from hall_ops.queue.models import Clerk, Service, Window, WindowService
from zones.models import Zone


def load_hall(session: Session, hall: HallConfig) -> None:
    for position, z in enumerate(hall.zones):
        zone = session.get(Zone, z.code) or Zone(code=z.code)
        zone.name_zh, zone.name_en, zone.position = z.name_zh, z.name_en, position
        session.add(zone)
    session.flush()
    for position, s in enumerate(hall.services):
        service = session.get(Service, s.code) or Service(code=s.code)
        service.letter, service.name_zh, service.name_en = s.letter, s.name_zh, s.name_en
        service.zone_code, service.board = s.zone, s.board
        service.mean_service_minutes, service.position = s.mean_service_minutes, position
        session.add(service)
    for c in hall.clerks:
        clerk = session.get(Clerk, c.id) or Clerk(id=c.id)
        clerk.name = c.name
        session.add(clerk)
    session.flush()
    for w in hall.windows:
        window = session.get(Window, w.number)
        if window is None:
            window = Window(number=w.number, state="closed")
            window.assignments = [WindowService(service_code=code) for code in w.services]
            session.add(window)
        window.zone_code, window.kind = w.zone, w.kind
    session.flush()
