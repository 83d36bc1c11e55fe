"""Socket.IO pushes to the manager dashboard (room ``manager``).

Events, each a JSON object (times ISO 8601 UTC):

* ``occupancy`` {zones: {zone_code: zone figure}, cameras: [camera status]} after a camera poll;
* ``alerts`` {alerts: [alert], at} — the full list, replacing what the page had;
* ``proposals`` {proposals: [proposal], auto: auto settings, at} — workload proposals now;
* ``workload`` {applied: [audit record]} or {auto: auto settings} after a change.

The payloads are built by ``hall_web.dashboard``; these helpers only name the
events and the room, so every sender (request, scheduler job, another
process behind the Redis message queue) emits the same thing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flask_socketio import SocketIO

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
