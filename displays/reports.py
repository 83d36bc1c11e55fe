"""The screens' reports (receipts, heartbeats, joins), written together.

Why: each report was its own write transaction; at 100 screens a call's 200 reports held
the database's write lock for 0.8–2.3 s on SQLite, stalling every ticket and call behind them.
Reports are now checked at once (a report that cannot count is refused at once) and stored
together: one transaction per ``interval`` (the first after a quiet spell at once), however
many screens reported. A screen is answered ``ok`` only once its report is stored — the
console's "shown n/m" counts stored reports, so a lost report is one the screen resends.

Where a call was shown never changes once it is recorded (``reach.CallPlace``), so it is kept:
500 screens reporting one call cost one read, or none for a call made by this process.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from flask_socketio import SocketIO

from hall_ops.clock import Clock
from hall_ops.db import Database
from hall_ops.screens import reach
from hall_ops.staff.devices import DeviceIdentity

log = logging.getLogger(__name__)

WAIT_LIMIT = 10.0
"""Seconds a report waits to be stored before the screen is told it was not."""
PLACES_KEPT = 4096


@dataclass
class _Batch:
    done: Any  # an event of the server's async mode
    receipts: list[reach.Receipt] = field(default_factory=list)
    heard: dict[int, dt.datetime] = field(default_factory=dict)
    stored: bool = False


class ReportWriter:
    """Stores the hall's screen reports, one transaction per ``interval``."""

    def __init__(self, socketio: SocketIO, db: Database, clock: Clock, interval: float) -> None:
        self.socketio = socketio
        self.db = db
        self.clock = clock
        self.interval = interval
        self._lock = threading.Lock()
        self._batch = self._new_batch()
        self._running = False
        self._last_write = float("-inf")  # time.monotonic()
        self._places: dict[tuple[int, int], reach.CallPlace] = {}

    def _new_batch(self) -> _Batch:
        return _Batch(self.socketio.server.eio.create_event())

    def called(self, call: dict[str, Any]) -> None:
        """A call this process published: where it was shown, known before any screen reports."""
        place = reach.CallPlace(call["seq"], call.get("repeat") or 0, call["window"],
                                call["zone"])
        with self._lock:
            self._keep(place)

    def _keep(self, place: reach.CallPlace) -> None:
        if len(self._places) >= PLACES_KEPT:
            self._places.clear()
        self._places[(place.call, place.announcement)] = place

    def receipt(self, device: DeviceIdentity, call: int, announcement: int | None,
                stage: str) -> dict[str, Any]:
        """Check and store one receipt; the screen's answer (raises ``HallError`` if it
        cannot count)."""
        key = (call, announcement or 0)
        with self._lock:
            place = self._places.get(key)
        if place is None:
            with self.db.read() as session:
                place = reach.call_place(session, call, announcement)
            with self._lock:
                self._keep(place)
        report = reach.receipt(device, place, stage, self.clock())
        return self._wait(self._add(report, device.id, report.at))

    def heard(self, device_id: int) -> dict[str, Any]:
        """A sign of life (join, heartbeat): the screen's answer once it is stored."""
        return self._wait(self._add(None, device_id, self.clock()))

    def _add(self, report: reach.Receipt | None, device_id: int, at: dt.datetime) -> _Batch:
        with self._lock:
            batch = self._batch
            if report is not None:
                batch.receipts.append(report)
            batch.heard[device_id] = max(at, batch.heard.get(device_id, at))
            start, self._running = not self._running, True
        if start:
            self.socketio.start_background_task(self._run)
        return batch

    def _wait(self, batch: _Batch) -> dict[str, Any]:
        if batch.done.wait(WAIT_LIMIT) and batch.stored:
            return {"ok": True}
        return {"error": "not_recorded", "message": "the report was not stored; send it again"}

    def _run(self) -> None:
        """The hall's one writer task: runs while reports wait, then ends."""
        while True:
            with self._lock:
                pause = self._last_write + self.interval - time.monotonic()
                if pause <= 0:
                    batch = self._batch
                    if not batch.heard:
                        self._running = False
                        return
                    self._batch = self._new_batch()
            if pause > 0:
                self.socketio.sleep(pause)
                continue
            try:
                with self.db.write() as session:
                    reach.store_reports(session, batch.receipts, batch.heard)
                batch.stored = True
            except Exception:
                log.exception("storing %d screen reports failed", len(batch.heard))
            self._last_write = time.monotonic()
            batch.done.set()
