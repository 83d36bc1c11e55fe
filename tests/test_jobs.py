"""The scheduler as the server runs it: camera polling pushes occupancy to the manager room."""

from __future__ import annotations

import time
import tomllib

from hall_ops.config import parse_config
from hall_web.jobs import start_jobs
from sensors.simulator import CameraSimulator
from tests.conftest import ROOT
from tests.support.web import hall_app, staff_client
from zones.occupancy import waiting_per_zone


def test_camera_poll_runs_in_scheduler_and_reaches_the_dashboard(tmp_path, clock):
    with CameraSimulator("front_intake", user="admin", password="pw", name="cam-t",
                         clock=clock) as sim:
        raw = tomllib.loads((ROOT / "config.toml").read_text())
        raw["cameras"] = [{"name": "cam-t", "zone": "front_intake", "host": "127.0.0.1",
                           "port": sim.port, "user": "admin", "password": "pw"}]
        raw["sensors"] = {"poll_seconds": 1}
        hall = parse_config(raw, ROOT)
        app = hall_app(hall, database_url=f"sqlite:///{tmp_path / 'h.db'}", clock=clock)
        manager = app.extensions["hall"].socketio.test_client(
            app, flask_test_client=staff_client(app, "manager"))
        assert manager.emit("join", {"room": "manager"}, callback=True)["ok"]
        app.test_client().post("/api/v1/tickets", json={"service": "notary"})
        scheduler = start_jobs(app)
        try:
            deadline = time.monotonic() + 30
            pushes: list[dict] = []
            while time.monotonic() < deadline and not pushes:
                pushes = [e["args"][0] for e in manager.get_received() if e["name"] == "occupancy"]
                time.sleep(0.2)
            assert pushes, "no occupancy push within 30 s"
            zones = pushes[0]["zones"]
            assert zones["front_intake"]["estimate"] is False
            assert zones["front_intake"]["count"] > 0
            # No camera in public affairs: the figure is an estimate from waiting tickets.
            assert zones["public_affairs"]["estimate"] is True
            assert pushes[0]["cameras"][0]["status"] == "online"
            hall = app.extensions["hall"]
            with hall.db.read() as session:
                assert waiting_per_zone(session, hall.config, clock.now)["public_affairs"] == 1
        finally:
            scheduler.shutdown(wait=True)
            app.extensions["camera_pool"].close()
            app.extensions["hall"].db.dispose()


def test_dispatcher_and_deadline_jobs_run_in_the_scheduler(tmp_path):
    """An intake record's hand-off reaches the console, and deadline warnings reach the manager."""
    import datetime as dt

    from sqlalchemy import select

    from hall_ops import queue
    from hall_ops.audit.models import AuditRoot
    from hall_ops.cases.intake import IntakeRules, create_intake
    from hall_ops.cases.models import CardEvent, ConsoleCase
    from tests.test_intake import FLAT_E, FLAT_ITEMS, FLAT_PAPER, PERSON

    long_ago = dt.datetime(2026, 11, 2, 2, 0)  # a Monday; limits of 5 working days are past
    app = hall_app(ROOT / "config.toml", database_url=f"sqlite:///{tmp_path / 'h.db'}",
                   clock=lambda: long_ago, always_open=True)
    hall = app.extensions["hall"]
    with hall.db.write() as s:
        queue.open_window(s, 8, "c08", long_ago)
        queue.take_ticket(s, hall.config, "real_estate", long_ago, ignore_hours=True)
        ticket, _ = queue.call_next(s, hall.config, 8, "c08", long_ago)
        queue.start_service(s, 8, "c08", long_ago)
        create_intake(s, IntakeRules.from_config(hall.config), ticket_id=ticket.id,
                      window_number=8, clerk_id="c08", applicant=PERSON, item_codes=FLAT_ITEMS,
                      received=FLAT_PAPER, e_licences=FLAT_E, now=long_ago)
    hall.clock = lambda: dt.datetime.now(dt.UTC).replace(tzinfo=None)
    manager = hall.socketio.test_client(app, flask_test_client=staff_client(app, "manager"))
    assert manager.emit("join", {"room": "manager"}, callback=True)["ok"]
    scheduler = start_jobs(app)
    try:
        deadline = time.monotonic() + 30
        delivered, warnings = 0, []
        while time.monotonic() < deadline and not (delivered == 3 and warnings):
            with hall.db.read() as s:
                delivered = len(s.scalars(select(ConsoleCase)).all())
            warnings += [e["args"][0] for e in manager.get_received() if e["name"] == "deadlines"]
            time.sleep(0.3)
        assert delivered == 3  # one console case per department of the flat sale
        overdue = [w for w in warnings[0]["items"] if w["overdue"]]
        assert overdue, warnings
        # the same job recorded the red cards, and the root job took yesterday's root
        with hall.db.read() as s:
            cards = s.scalars(select(CardEvent.to_colour)).all()
            roots = s.scalars(select(AuditRoot)).all()
        assert cards.count("red") == 3, cards
        assert len(roots) == 1 and roots[0].heads
    finally:
        scheduler.shutdown(wait=True)
        hall.db.dispose()
