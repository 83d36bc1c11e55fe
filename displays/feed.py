"""Coalesced queue pushes and the cached snapshot a screen gets when it joins.

Why: rebuilding the queue snapshot after every commit, in the committing request's thread,
was about 60 % of a ticket's request; and every ``join`` built its snapshot from the database
(500 screens reconnecting took 13–15 s). So, per hall (one ``HallFeed`` per app):

* A committed change marks parts of the hall's picture stale (``queue``, ``missed``,
  ``calls``). One background task re-reads them from the database — after the commit, so
  what the screens get is committed state — and pushes ``queue`` and ``missed`` at most once
  per ``interval``, carrying the latest state. The first change after a quiet spell goes out
  at once; changes within the interval after a push wait for the next one.
* A join is served from the cache: it waits until the cache holds every change committed
  before it (at most about ``interval``), then gets its room's snapshot. A room's recent calls
  and missed numbers are read once per room after each change, however many screens join.
* Pushes from another process of the hall (the Redis message queue) mark this process's cache
  stale too (``watch``): it re-reads its own database, without pushing again — the other
  process's push already went to every screen of every process.

Calls are not coalesced: ``Publisher`` emits each at once, before any queue push of its change
(``changing`` holds the task back while it does).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from flask_socketio import SocketIO
from socketio import PubSubManager

from displays import manager as manager_room
from hall_ops import queue
from hall_ops.clock import Clock, hall_day, iso_utc
from hall_ops.config import HallConfig
from hall_ops.db import Database
from hall_ops.floor.plan import zone_codes

log = logging.getLogger(__name__)

PARTS = frozenset({"queue", "missed", "calls"})
"""What a change can make stale: the queue snapshot, the missed numbers, the recent calls."""
REMOTE = {"queue": {"queue"}, "missed": {"missed"}, "call": {"calls"}}
"""Another process's push → the parts of this process's cache it makes stale."""
MAX_AGE = dt.timedelta(seconds=10)
"""Waits and estimates move with time, and the hall day turns: no join gets older figures."""
WAIT_LIMIT = 10.0
"""Seconds a join waits for the refresh before building its snapshot from the database."""

Scope = tuple[str | None, int | None]
"""(zone, window) of a room: ``hall`` and ``manager`` are (None, None)."""


def scope_of(room: str) -> Scope:
    kind, _, key = room.partition(":")
    return (key if kind == "zone" else None, int(key) if kind == "window" else None)


MAX_RETRY_SECONDS = 30.0
"""The longest wait between two tries of a failing refresh."""


class HallFeed:
    """The hall's coalesced ``queue``/``missed`` pushes and its cached snapshots."""

    def __init__(self, socketio: SocketIO, db: Database, hall: HallConfig, clock: Clock,
                 interval: float) -> None:
        self.socketio = socketio
        self.db = db
        self.hall = hall
        self.clock = clock
        self.interval = interval
        self._lock = threading.Lock()
        self._wanted = 0  # changes marked so far
        self._fresh = 0  # changes the cache holds
        self._stale: set[str] = set()
        self._to_push: set[str] = set()
        self._holding = 0  # publishers still emitting the calls of their change
        self._running = False
        self._last_refresh = float("-inf")  # time.monotonic()
        self._failures = 0  # refreshes failed in a row (the database away): back off
        self._refreshed = self._event()
        self._queue: tuple[dict[str, Any], dict[str, Any]] | None = None  # full, public
        self._queue_at = dt.datetime.min
        self._rooms: dict[Scope, tuple[list[dict[str, Any]], list[dict[str, Any]]]] = {}
        self._building: dict[Scope, Any] = {}

    def _event(self) -> Any:
        """An event object of the server's async mode (threading, gevent or eventlet)."""
        return self.socketio.server.eio.create_event()

    # ------------------------------------------------------------ changes

    @contextmanager
    def changing(self, parts: Iterable[str], *, push: bool = True) -> Iterator[None]:
        """A committed change to ``parts``: from here on joins wait for the refresh that holds
        it; the refresh (and ``push``) happens after the block, in which the change's calls go
        out."""
        parts = set(parts) & PARTS
        if not parts:
            yield
            return
        with self._lock:
            self._wanted += 1
            self._stale |= parts
            if push:
                self._to_push |= parts
            self._holding += 1
        try:
            yield
        finally:
            with self._lock:
                self._holding -= 1
                start, self._running = not self._running, True
            if start:
                self.socketio.start_background_task(self._run)

    def changed(self, parts: Iterable[str], *, push: bool = True) -> None:
        with self.changing(parts, push=push):
            pass

    def watch(self, manager: Any) -> None:
        """Hear the other processes' pushes on the message queue (python-socketio's pub/sub
        manager hands each one to ``_handle_emit``; ours are told apart by ``host_id``)."""
        if not isinstance(manager, PubSubManager):
            return
        handle: Callable[[dict[str, Any]], None] = manager._handle_emit

        def handle_and_mark(message: dict[str, Any]) -> None:
            parts = REMOTE.get(message.get("event", ""), set())
            if parts and message.get("host_id") != manager.host_id:
                self.changed(parts, push=False)  # before the push reaches this process's rooms
            handle(message)

        manager._handle_emit = handle_and_mark
        server = manager.server
        if not server.manager_initialized:
            # The server would start listening at its first connection; this process's
            # cache may be filled before that (by its own changes), so listen from now on.
            server.manager_initialized = True
            manager.initialize()

    def _run(self) -> None:
        """The hall's one refresh task: runs while there is something stale, then ends."""
        while True:
            with self._lock:
                pause = self._last_refresh + self._gap() - time.monotonic()
                if pause <= 0 and self._holding:
                    pause = 0.002  # a publisher is still emitting its calls: they go first
                elif pause <= 0:
                    if not self._stale:
                        self._running = False
                        return
                    wanted, parts, push = self._wanted, self._stale, self._to_push
                    self._stale, self._to_push = set(), set()
            if pause > 0:
                self.socketio.sleep(pause)
                continue
            try:
                self._refresh(wanted, parts, push)
            except Exception:
                self._failures += 1
                if self._failures == 1:  # once per outage, not ten tracebacks a second
                    log.exception("refreshing the hall's screens failed; trying again")
                with self._lock:
                    self._stale |= parts
                    self._to_push |= push
            else:
                if self._failures:
                    log.warning("the hall's screens are refreshed again after %d failed "
                                "tries", self._failures)
                self._failures = 0
            self._last_refresh = time.monotonic()

    def _gap(self) -> float:
        """Seconds between refreshes: the interval, doubled per failure in a row up to
        ``MAX_RETRY_SECONDS`` while the database does not answer."""
        if not self._failures:
            return self.interval
        return min(MAX_RETRY_SECONDS, self.interval * 2 ** min(self._failures, 16))

    def _refresh(self, wanted: int, parts: set[str], push: set[str]) -> None:
        now = self.clock()
        full = missed = None
        zones: list[str] = []
        if "queue" in parts or "missed" in push:
            with self.db.read() as session:
                if "queue" in parts:
                    full = queue.queue_snapshot(session, self.hall, now)
                    zones = zone_codes(session)  # the admin page may add one at any time
                if "missed" in push:
                    missed = self._missed_lists(session, now)
        with self._lock:
            if full is not None:
                self._queue, self._queue_at = (full, queue.public_snapshot(full)), now
            if parts & {"calls", "missed"}:
                self._rooms.clear()
            self._fresh = max(self._fresh, wanted)
            done, self._refreshed = self._refreshed, self._event()
        done.set()
        if full is not None and "queue" in push:
            self.socketio.emit("queue", full, to=manager_room.ROOM)
            public = ["hall", *(f"zone:{code}" for code in zones)]
            self.socketio.emit("queue", queue.public_snapshot(full), to=public)
        if missed is not None:
            for room, numbers in missed.items():
                self.socketio.emit("missed", {"room": room, "missed": numbers}, to=room)

    def _missed_lists(self, session: Any, now: dt.datetime) -> dict[str, list[dict[str, Any]]]:
        """The missed (过号) numbers of the hall's screens and of each zone's own."""
        limit = self.hall.queue.missed_shown
        return {"hall": queue.missed_numbers(session, self.hall, now, limit=limit)} | {
            f"zone:{code}": queue.missed_numbers(session, self.hall, now, limit=limit,
                                                 zone=code)
            for code in zone_codes(session)  # the admin page may add one at any time
        }

    # ------------------------------------------------------------ joins

    def snapshot(self, room: str) -> dict[str, Any]:
        """What a screen or console joining ``room`` is shown: the committed state, including
        every change committed before the join."""
        now = self.clock()
        with self._lock:
            target = self._wanted
            old = (self._queue is None or abs(now - self._queue_at) > MAX_AGE
                   or hall_day(now, self.hall.timezone)
                   != hall_day(self._queue_at, self.hall.timezone))
        if old:
            self.changed(PARTS, push=False)
            with self._lock:
                target = self._wanted
        if not self._wait(target):
            log.warning("no refresh within %ss: the snapshot of %s read directly", WAIT_LIMIT,
                        room)
            return snapshot_for(room, self.db, self.hall, self.clock)
        (calls, missed), (full, public) = self._room(scope_of(room))
        return {"room": room, "calls": calls, "missed": missed, "at": iso_utc(now),
                "queue": full if room == manager_room.ROOM else public}

    def _wait(self, target: int) -> bool:
        deadline = time.monotonic() + WAIT_LIMIT
        while True:
            with self._lock:
                if self._fresh >= target:
                    return True
                refreshed = self._refreshed
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            refreshed.wait(remaining)

    def _room(self, scope: Scope) -> tuple[tuple[list[dict[str, Any]], list[dict[str, Any]]],
                                           tuple[dict[str, Any], dict[str, Any]]]:
        """The room's recent calls and missed numbers (read once per change, whoever asks
        first), with the queue snapshot the cache holds."""
        while True:
            with self._lock:
                if scope in self._rooms and self._queue is not None:
                    return self._rooms[scope], self._queue
                building = self._building.get(scope)
                if building is None:
                    building = self._building[scope] = self._event()
                    fresh, mine = self._fresh, True
                else:
                    mine = False
            if not mine:
                building.wait(WAIT_LIMIT)
                continue
            parts = None
            try:
                parts = self._read_room(scope)
            finally:
                with self._lock:
                    del self._building[scope]
                    if parts is not None and self._fresh == fresh:
                        self._rooms[scope] = parts
                    held = self._queue
                building.set()
            if held is not None:
                return parts, held

    def _read_room(self, scope: Scope) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        zone, window = scope
        now = self.clock()
        with self.db.read() as session:
            calls = queue.recent_calls(session, self.hall.queue.recent_calls_shown, zone=zone,
                                       window=window, day=hall_day(now, self.hall.timezone))
            missed = queue.missed_numbers(session, self.hall, now,
                                          limit=self.hall.queue.missed_shown, zone=zone,
                                          window=window)
        return calls, missed


def snapshot_for(room: str, db: Database, hall: HallConfig, clock: Clock) -> dict[str, Any]:
    """A room's snapshot read straight from the database (when the feed's refresh is late)."""
    now = clock()
    zone, window = scope_of(room)
    with db.read() as session:
        calls = queue.recent_calls(session, hall.queue.recent_calls_shown, zone=zone,
                                   window=window, day=hall_day(now, hall.timezone))
        snapshot = queue.queue_snapshot(session, hall, now)
        missed = queue.missed_numbers(session, hall, now, limit=hall.queue.missed_shown,
                                      zone=zone, window=window)
    if room != manager_room.ROOM:
        snapshot = queue.public_snapshot(snapshot)
    return {"room": room, "calls": calls, "queue": snapshot, "missed": missed,
            "at": iso_utc(now)}
