"""Socket.IO edge for screens, clerk consoles and the manager page.

Rooms: ``hall`` (every call), ``zone:<code>``, ``window:<n>``, ``manager``.
A client emits ``join`` on every (re)connect and, if the web edge's access
rule admits it to the room, gets a ``snapshot`` built from the database, so a
screen that was offline, or is connected to another process behind the Redis
message queue, shows exactly what the others show.

``Publisher.publish`` is subscribed to the database's committed domain events
(``hall_ops.events``): this module decides which room learns what. ``hall``,
``zone:<code>`` and ``window:<n>`` are seen on public screens: they get ticket
numbers, windows and counts, never a name or a staff login.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from flask_socketio import SocketIO, emit, join_room

from displays import manager as manager_room
from hall_ops import queue
from hall_ops.clock import Clock, hall_day
from hall_ops.config import HallConfig
from hall_ops.db import Database
from hall_ops.events import (
    CaseAccepted,
    Event,
    MissedChanged,
    QueueChanged,
    ResultReady,
    TicketCalled,
    WindowChanged,
    WorkloadChanged,
)

ROOM = re.compile(r"^(hall|manager|zone:[a-z_]{1,32}|window:[0-9]{1,4})$")


class Publisher:
    """Pushes committed domain events to the rooms that show them."""

    def __init__(self, socketio: SocketIO, db: Database, hall: HallConfig, clock: Clock) -> None:
        self.socketio = socketio
        self.db = db
        self.hall = hall
        self.clock = clock

    def publish(self, events: Sequence[Event]) -> None:
        """One transaction's events: calls first (screens announce them), then one queue
        snapshot however many tickets changed, then each changed window's console."""
        for event in events:
            if isinstance(event, TicketCalled):
                self.call(event.call)
        if any(isinstance(e, QueueChanged) for e in events):
            self.queue_changed()
        if any(isinstance(e, MissedChanged) for e in events):
            self.missed_changed()
        for number in sorted({e.number for e in events if isinstance(e, WindowChanged)}):
            self.window_changed(number)
        if any(isinstance(e, ResultReady) for e in events):
            # No case number on a public room: ticket pages refresh their own ticket.
            self.socketio.emit("result", {}, to="hall")
        for event in events:
            if isinstance(event, CaseAccepted):
                self.socketio.emit("case", event.notice, to=[manager_room.ROOM,
                                                             f"window:{event.window}"])
            elif isinstance(event, WorkloadChanged):
                manager_room.push_workload(self.socketio, event.payload)

    def call(self, call: dict[str, Any]) -> None:
        rooms = ["hall", manager_room.ROOM, f"zone:{call['zone']}", f"window:{call['window']}"]
        self.socketio.emit("call", call, to=rooms)

    def queue_changed(self) -> None:
        with self.db.read() as session:
            snapshot = queue.queue_snapshot(session, self.hall, self.clock())
        self.socketio.emit("queue", snapshot, to=manager_room.ROOM)
        public = ["hall", *(f"zone:{z.code}" for z in self.hall.zones)]
        self.socketio.emit("queue", queue.public_snapshot(snapshot), to=public)

    def missed_changed(self) -> None:
        """The missed (过号) numbers, to the hall's screens and each zone's own."""
        limit, now = self.hall.queue.missed_shown, self.clock()
        with self.db.read() as session:
            lists = {"hall": queue.missed_numbers(session, self.hall, now, limit=limit)} | {
                f"zone:{zone.code}": queue.missed_numbers(session, self.hall, now, limit=limit,
                                                          zone=zone.code)
                for zone in self.hall.zones
            }
        for room, missed in lists.items():
            self.socketio.emit("missed", {"room": room, "missed": missed}, to=room)

    def window_changed(self, number: int) -> None:
        with self.db.read() as session:
            view = queue.window_view(session, self.hall, number, self.clock())
        self.socketio.emit("window", view, to=f"window:{number}")


def snapshot_for(room: str, db: Database, hall: HallConfig, clock: Clock) -> dict[str, Any]:
    now = clock()
    kind, _, key = room.partition(":")
    with db.read() as session:
        calls = queue.recent_calls(
            session,
            hall.queue.recent_calls_shown,
            zone=key if kind == "zone" else None,
            window=int(key) if kind == "window" else None,
            day=hall_day(now, hall.timezone),
        )
        snapshot = queue.queue_snapshot(session, hall, now)
        missed = queue.missed_numbers(
            session, hall, now, limit=hall.queue.missed_shown,
            zone=key if kind == "zone" else None,
            window=int(key) if kind == "window" else None,
        )
    if room != manager_room.ROOM:
        snapshot = queue.public_snapshot(snapshot)
    return {"room": room, "calls": calls, "queue": snapshot, "missed": missed}


def register_handlers(
    socketio: SocketIO,
    db: Database,
    hall: HallConfig,
    clock: Clock,
    may_join: Callable[[str], bool],
) -> None:
    """``may_join(room)``: whether the connection asking (its login or device) may join."""

    @socketio.on("join")
    def on_join(data: Any) -> dict[str, Any] | None:
        room = data.get("room") if isinstance(data, dict) else None
        if not isinstance(room, str) or not ROOM.match(room):
            return {"error": "invalid_room",
                    "message": "room must be hall, manager, zone:<code> or window:<n>"}
        if not may_join(room):
            return {"error": "forbidden",
                    "message": "this login or device may not join this room"}
        join_room(room)
        emit("snapshot", snapshot_for(room, db, hall, clock))
        return {"ok": True, "room": room}


def connected_clients(socketio: SocketIO, hall: HallConfig) -> tuple[int, dict[str, int]]:
    """Socket.IO clients connected to this process: in all, and per room of the hall.

    Each process counts only its own (python-socketio keeps rooms per process, even
    behind the Redis message queue); a hall's total is the sum over its processes."""
    manager = socketio.server.manager
    rooms = ["hall", manager_room.ROOM, *(f"zone:{z.code}" for z in hall.zones),
             *(f"window:{w.number}" for w in hall.windows)]
    total = sum(1 for _ in manager.get_participants("/", None))
    return total, {room: sum(1 for _ in manager.get_participants("/", room)) for room in rooms}
