"""Socket.IO edge for screens, clerk consoles and the manager page.

Rooms: ``hall`` (every call), ``zone:<code>``, ``window:<n>``, ``manager``.
A client emits ``join`` on every (re)connect and, if the web edge's access
rule admits it to the room, gets a ``snapshot`` of the committed state, so a
screen that was offline, or is connected to another process behind the Redis
message queue, shows exactly what the others show. Snapshots and the ``queue`` and
``missed`` pushes come from the hall's feed (``displays.feed``: cached, coalesced, off the
request path); calls and the window consoles' ``window`` are pushed at once.

A screen *device* also reports: ``heartbeat`` every few seconds, and a ``receipt`` for each
call it showed and, separately, spoke (``hall_ops.screens.reach``), stored together and
answered once stored (``displays.reports``). After the reports the
calling window's console gets ``reach``: how many of the screens that count showed and
spoke its latest call.

``Publisher.publish`` is subscribed to the database's committed domain events
(``hall_ops.events``): this module decides which room learns what. ``hall``,
``zone:<code>`` and ``window:<n>`` are seen on public screens: they get ticket
numbers, windows and counts, never a name or a staff login.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from flask import request
from flask_socketio import SocketIO, emit, join_room

from displays import manager as manager_room
from displays.feed import HallFeed
from displays.reports import ReportWriter
from hall_ops import queue
from hall_ops.clock import Clock
from hall_ops.config import HallConfig
from hall_ops.db import Database
from hall_ops.errors import HallError
from hall_ops.events import (
    CallReached,
    CallRepeated,
    CaseAccepted,
    Event,
    MissedChanged,
    QueueChanged,
    ResultReady,
    TicketCalled,
    WindowChanged,
    WorkloadChanged,
)
from hall_ops.screens import reach
from hall_ops.staff.devices import DeviceIdentity
from hall_ops.staff.policy import hall_code

ROOM = re.compile(r"^(hall|manager|zone:[a-z_]{1,32}|window:[0-9]{1,4})$")
RECHECK_SECONDS = 5.0
"""A connection's screen device is read again after this long: a revoked screen's reports
stop counting within it."""


class Publisher:
    """Pushes committed domain events to the rooms that show them."""

    REACH_EVERY = 0.25
    """Seconds: the screens' reports of one call arrive together (two per screen); the
    window's console gets one ``reach`` per this interval, counted after the last of them."""

    def __init__(self, socketio: SocketIO, db: Database, hall: HallConfig, clock: Clock,
                 feed: HallFeed, reports: ReportWriter) -> None:
        self.socketio = socketio
        self.db = db
        self.hall = hall
        self.clock = clock
        self.feed = feed
        self.reports = reports
        self._lock = threading.Lock()
        self._reach_due: set[int] = set()

    def publish(self, events: Sequence[Event]) -> None:
        """One transaction's events, in the committing thread: calls first and at once
        (screens announce them), then each changed window's console (so the clerk's console
        is current before the clerk's answer); the queue snapshot and missed numbers are
        pushed by the hall's feed, once however many tickets changed."""
        called: set[int] = set()
        stale = ({"calls"} if any(isinstance(e, TicketCalled) for e in events) else set()) | (
            {"queue"} if any(isinstance(e, QueueChanged) for e in events) else set()) | (
            {"missed"} if any(isinstance(e, MissedChanged) for e in events) else set())
        with self.feed.changing(stale):
            for event in events:
                if isinstance(event, (TicketCalled, CallRepeated)):
                    self.call(event.call)
                    called.add(event.call["window"])
        for number in sorted(called):
            self.reach(number)  # at once: the console's count starts again from 0
        for number in sorted({e.window for e in events if isinstance(e, CallReached)} - called):
            self.reach_soon(number)
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
        self.reports.called(call)
        rooms = ["hall", manager_room.ROOM, f"zone:{call['zone']}", f"window:{call['window']}"]
        self.socketio.emit("call", call, to=rooms)

    def reach(self, number: int) -> None:
        """The window's latest call: screens that showed and spoke it, to its console."""
        with self.db.read() as session:
            view = reach.call_reach(session, hall_code(self.hall), self.hall.timezone, number,
                                    self.clock())
        self.socketio.emit("reach", view, to=f"window:{number}")

    def reach_soon(self, number: int) -> None:
        """``reach`` for the window within ``REACH_EVERY``, once however many reports came."""
        with self._lock:
            if number in self._reach_due:
                return
            self._reach_due.add(number)
        self.socketio.start_background_task(self._reach_later, number)

    def _reach_later(self, number: int) -> None:
        self.socketio.sleep(self.REACH_EVERY)
        with self._lock:
            self._reach_due.discard(number)
        self.reach(number)

    def window_changed(self, number: int) -> None:
        with self.db.read() as session:
            view = queue.window_view(session, self.hall, number, self.clock())
        self.socketio.emit("window", view, to=f"window:{number}")


def register_handlers(
    socketio: SocketIO,
    feed: HallFeed,
    reports: ReportWriter,
    may_join: Callable[[str], bool],
    screen_of: Callable[[], DeviceIdentity | None],
) -> None:
    """``may_join(room)``: whether the connection asking (its login or device) may join;
    ``screen_of()``: the screen device of the connection asking, if it is one. Snapshots
    come from the hall's ``feed``, reports are stored by ``reports``."""

    checked: dict[str, tuple[float, DeviceIdentity | None]] = {}  # per connection (sid)

    def screen() -> DeviceIdentity | None:
        """The connection's screen device, checked again at most every ``RECHECK_SECONDS``:
        a call's reports from 500 screens would otherwise be 500 device reads at once."""
        sid, now = request.sid, time.monotonic()  # type: ignore[attr-defined]
        known = checked.get(sid)
        if known is not None and now - known[0] < RECHECK_SECONDS:
            return known[1]
        device = screen_of()
        checked[sid] = (now, device)
        return device

    @socketio.on("disconnect")
    def on_disconnect(_reason: Any = None) -> None:
        checked.pop(request.sid, None)  # type: ignore[attr-defined]

    def refused() -> dict[str, Any]:
        return {"error": "forbidden", "message": "only a screen device reports"}

    @socketio.on("join")
    def on_join(data: Any) -> dict[str, Any] | None:
        room = data.get("room") if isinstance(data, dict) else None
        if not isinstance(room, str) or not ROOM.match(room):
            return {"error": "invalid_room",
                    "message": "room must be hall, manager, zone:<code> or window:<n>"}
        if not may_join(room):
            return {"error": "forbidden",
                    "message": "this login or device may not join this room"}
        join_room(room)  # first: a push from now on reaches it, the snapshot has what came before
        emit("snapshot", feed.snapshot(room))
        if room != manager_room.ROOM and (device := screen()) is not None:
            reports.heard(device.id)  # counted for the next call once the join is answered
        return {"ok": True, "room": room}

    @socketio.on("heartbeat")
    def on_heartbeat(_data: Any = None) -> dict[str, Any]:
        device = screen()
        if device is None:
            return refused()
        return reports.heard(device.id)

    @socketio.on("receipt")
    def on_receipt(data: Any) -> dict[str, Any]:
        """``{call: seq, repeat: id | null, stage: "shown" | "spoken"}`` from a screen."""
        fields = data if isinstance(data, dict) else {}
        call, repeat, stage = fields.get("call"), fields.get("repeat"), fields.get("stage")
        if not (isinstance(call, int) and _positive(call)
                and (repeat is None or _positive(repeat)) and stage in reach.STAGES):
            return {"error": "invalid_receipt",
                    "message": "call: a call's seq, repeat: null or an id, stage: shown|spoken"}
        device = screen()
        if device is None:
            return refused()
        try:
            return reports.receipt(device, call, repeat, stage)
        except HallError as exc:
            return exc.to_dict()


def _positive(value: Any) -> bool:
    """A database id: an int (not a bool) in the 32-bit range."""
    return type(value) is int and 0 < value < 2**31


def connected_clients(socketio: SocketIO, hall: HallConfig) -> tuple[int, dict[str, int]]:
    """Socket.IO clients connected to this process: in all, and per room of the hall.

    Each process counts only its own (python-socketio keeps rooms per process, even
    behind the Redis message queue); a hall's total is the sum over its processes."""
    manager = socketio.server.manager
    rooms = ["hall", manager_room.ROOM, *(f"zone:{z.code}" for z in hall.zones),
             *(f"window:{w.number}" for w in hall.windows)]
    total = sum(1 for _ in manager.get_participants("/", None))
    return total, {room: sum(1 for _ in manager.get_participants("/", room)) for room in rooms}
