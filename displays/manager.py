"""Socket.IO pushes to the manager's live page (room ``manager``).

Events, each a JSON object (times ISO 8601 UTC):

* ``occupancy`` {zones: {zone_code: zone figure}, cameras: [camera status]} after a camera poll;
* ``alerts`` {alerts: [alert], at} — the full list, replacing what the page had;
* ``proposals`` {proposals: [proposal], auto: auto settings, at} — workload proposals now;
* ``workload`` {applied: [audit record]} or {auto: auto settings} after a change.

* ``deadlines`` {items} — items at 80 % of their time limit or overdue;
* ``case`` {case_number, window, ticket, items, departments, gaps} after an intake.

The payloads are built by the domain (``hall_ops.floor``, ``zones.occupancy``);
these helpers name the events and the room, so every sender (a request's
committed events, a scheduler job, another process behind the Redis message
queue) emits the same thing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from flask_socketio import SocketIO

from hall_ops.config import HallConfig
from hall_ops.db import Database
from sensors.poller import CameraReading, zone_occupancy
from sensors.status import reading_view
from zones.occupancy import waiting_per_zone, zone_view

ROOM = "manager"


def push_occupancy(
    socketio: SocketIO, zones: Mapping[str, Mapping[str, Any]], cameras: Sequence[Mapping[str, Any]]
) -> None:
    socketio.emit("occupancy", {"zones": dict(zones), "cameras": list(cameras)}, to=ROOM)


def push_alerts(socketio: SocketIO, alerts: Sequence[Mapping[str, Any]], at: str) -> None:
    socketio.emit("alerts", {"alerts": list(alerts), "at": at}, to=ROOM)


def push_proposals(socketio: SocketIO, payload: Mapping[str, Any]) -> None:
    socketio.emit("proposals", dict(payload), to=ROOM)


def push_workload(socketio: SocketIO, payload: Mapping[str, Any]) -> None:
    socketio.emit("workload", dict(payload), to=ROOM)


def push_deadlines(socketio: SocketIO, items: Sequence[Mapping[str, Any]]) -> None:
    socketio.emit("deadlines", {"items": list(items)}, to=ROOM)


def push_camera_update(
    socketio: SocketIO, db: Database, hall: HallConfig, now: dt.datetime,
    readings: Sequence[CameraReading],
) -> None:
    """The camera poller's ``on_update``: people per zone and camera status to ``manager``."""
    with db.read() as session:
        waiting = waiting_per_zone(session, hall, now)
    zones = zone_occupancy(db, now, waiting)
    push_occupancy(socketio, {code: zone_view(z) for code, z in zones.items()},
                   [reading_view(r) for r in readings])
