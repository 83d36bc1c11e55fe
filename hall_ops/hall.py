"""Seed the database from config.toml: zones, services, windows (and the demo's clerks).

Run at every start. config.toml seeds a new installation: a zone, service or window the
database does not have yet is added as the file describes it, and a window without
recorded default services (one of a hall upgraded from before the admin page) gets the
file's. What the database already has is left alone: after seeding, the rows are the
truth, changed in the admin page (``hall_ops.floor.admin``, with its audit trail), so a
restart never undoes a rename, a moved service or a retired window. Tickets are never
touched. The demo roster's clerks are still added and renamed from the file.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hall_ops.config import ConfigError, HallConfig
from hall_ops.queue.models import Clerk, Service, Window, WindowDefault, WindowService
from zones.models import Zone


def next_position(session: Session, column: Any) -> int:
    """After the last zone or service: where one added now goes."""
    last = session.scalar(select(func.max(column)))
    return 0 if last is None else last + 1


def load_hall(session: Session, hall: HallConfig) -> None:
    base = next_position(session, Zone.position)
    for position, z in enumerate(hall.zones):
        if session.get(Zone, z.code) is None:
            session.add(Zone(code=z.code, name_zh=z.name_zh, name_en=z.name_en,
                             position=base + position))
    session.flush()
    letters = dict(session.execute(select(Service.letter, Service.code)).all())
    base = next_position(session, Service.position)
    for position, s in enumerate(hall.services):
        if session.get(Service, s.code) is not None:
            continue
        if s.letter in letters:
            raise ConfigError(f"services ({s.code}): letter {s.letter} is already the letter "
                              f"of service {letters[s.letter]!r} in the database")
        session.add(Service(code=s.code, letter=s.letter, name_zh=s.name_zh, name_en=s.name_en,
                            zone_code=s.zone, board=s.board,
                            mean_service_minutes=s.mean_service_minutes,
                            position=base + position))
        letters[s.letter] = s.code
    for c in hall.clerks:
        clerk = session.get(Clerk, c.id) or Clerk(id=c.id)
        clerk.name = c.name
        session.add(clerk)
    session.flush()
    for w in hall.windows:
        window = session.get(Window, w.number)
        if window is None:
            window = Window(number=w.number, state="closed", zone_code=w.zone, kind=w.kind)
            window.assignments = [WindowService(service_code=code) for code in w.services]
            session.add(window)
        if not window.defaults:
            window.defaults = [WindowDefault(service_code=code) for code in w.services]
    session.flush()
