"""What needs the manager now: unstaffed and long queues, cameras down, items overdue,
rectifications of bad ratings past their deadline, call screens gone silent, kiosk printers
out of paper or not answering."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from hall_ops import printing, queue
from hall_ops.cases.time_limits import deadline_watch
from hall_ops.clock import hall_day, iso_utc
from hall_ops.config import HallConfig
from hall_ops.db import Database
from hall_ops.evaluation import rectification
from hall_ops.screens.reach import day_start, screens_in_service
from hall_ops.staff.policy import hall_code
from sensors.status import camera_statuses


def overdue_cases(hall: HallConfig, db: Database, now: dt.datetime) -> list[dict[str, Any]]:
    """Undecided intake items past or near their legal limit."""
    with db.read() as session:
        return deadline_watch(session, hall.intake_rules, now)


SCREEN_SILENT_AFTER = dt.timedelta(seconds=30)
"""A screen beats every 10 s: three missed beats and it is an alert."""


PRINTER_ALERTS = {"out": "critical", "offline": "warning", "low": "warning"}


def screens_today(session: Session, hall: HallConfig, now: dt.datetime) -> list[dict[str, Any]]:
    """The hall's screen devices heard from today, with when (``hall_ops.screens.reach``)."""
    return screens_in_service(session, hall_code(hall), day_start(now, hall.timezone))


def build_alerts(
    snapshot: Mapping[str, Any],
    cameras: Sequence[Mapping[str, Any]],
    overdue: Sequence[Mapping[str, Any]] | None,
    queue_alert: int,
    late_rectifications: int = 0,
    screens: Sequence[Mapping[str, Any]] = (),
    now: dt.datetime | None = None,
    printers: Sequence[Mapping[str, Any]] = (),
) -> list[dict[str, Any]]:
    """What needs the manager now: the one definition of the alert rules (the page asks
    ``/api/v1/dashboard/alerts`` after each live push instead of repeating them).

    ``screens``: screens in service today with ``last_heard_at`` (naive UTC); one heard
    from longer than ``SCREEN_SILENT_AFTER`` before ``now`` is silent: which, where, since.
    ``printers``: the kiosk printers' last paper status (``hall_ops.printing.statuses``); out
    of paper is critical (that kiosk issues no tickets), near its end or silent a warning."""
    alerts: list[dict[str, Any]] = []
    for printer in printers:
        if printer["paper"] in PRINTER_ALERTS:
            alerts.append({"kind": "printer", "severity": PRINTER_ALERTS[printer["paper"]],
                           "printer": printer["name"], "scope": printer["scope"],
                           "paper": printer["paper"], "since": printer["checked_at"]})
    for screen in screens:
        if now is not None and now - screen["last_heard_at"] > SCREEN_SILENT_AFTER:
            alerts.append({"kind": "screen", "severity": "critical", "screen": screen["name"],
                           "device": screen["id"], "scope": screen["scope"],
                           "since": iso_utc(screen["last_heard_at"])})
    for s in snapshot["services"]:
        if s["waiting"] > 0 and s["open_windows"] == 0:
            alerts.append({"kind": "unstaffed", "severity": "critical", "service": s["code"],
                           "waiting": s["waiting"]})
        if s["waiting"] >= queue_alert:
            alerts.append({"kind": "queue", "severity": "warning", "service": s["code"],
                           "waiting": s["waiting"], "threshold": queue_alert})
    for c in cameras:
        if c["status"] not in ("online", "unknown"):  # sensors.camera.STATUSES
            alerts.append({"kind": "camera", "severity": "warning", "camera": c["camera"],
                           "zone": c["zone"], "status": c["status"],
                           "clock_offset_s": c.get("clock_offset_s"),
                           "last_seen_at": c["last_seen_at"]})
    late = sum(1 for item in overdue or () if item["overdue"])
    if late:
        alerts.append({"kind": "overdue", "severity": "critical", "count": late})
    if late_rectifications:
        alerts.append({"kind": "rectification_overdue", "severity": "critical",
                       "count": late_rectifications})
    return alerts


def alerts_now(db: Database, hall: HallConfig, now: dt.datetime) -> list[dict[str, Any]]:
    with db.read() as session:
        snapshot = queue.queue_snapshot(session, hall, now)
        cameras = camera_statuses(hall, session)
        late = rectification.overdue_count(session, hall_day(now, hall.timezone))
        screens = screens_today(session, hall, now)
        printers = printing.statuses(session, printing.printers_from_config(hall.sections))
    return build_alerts(snapshot, cameras, overdue_cases(hall, db, now),
                        hall.dashboard.queue_alert, late, screens, now, printers)
