"""The scheduler as the server runs it: camera polling pushes occupancy to the manager room."""

from __future__ import annotations

import time
import tomllib

from hall_ops.config import parse_config
from hall_web.app import ROOT, create_app
from hall_web.jobs import start_jobs, waiting_by_zone
from sensors.simulator import CameraSimulator


def test_camera_poll_runs_in_scheduler_and_reaches_the_dashboard(tmp_path, clock):
    with CameraSimulator("front_intake", user="admin", password="pw", name="cam-t") as sim:
        raw = tomllib.loads((ROOT / "config.toml").read_text())
        raw["cameras"] = [{"name": "cam-t", "zone": "front_intake", "host": "127.0.0.1",
                           "port": sim.port, "user": "admin", "password": "pw"}]
        raw["sensors"] = {"poll_seconds": 1}
        hall = parse_config(raw, ROOT)
        app = create_app(hall, database_url=f"sqlite:///{tmp_path / 'h.db'}", secret_key="t",
                         clock=clock)
        manager = app.extensions["hall"].socketio.test_client(app)
        manager.emit("join", {"room": "manager"})
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
            assert waiting_by_zone(app.extensions["hall"], clock.now)["public_affairs"] == 1
        finally:
            scheduler.shutdown(wait=True)
            app.extensions["camera_pool"].close()
            app.extensions["hall"].db.dispose()
