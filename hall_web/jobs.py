"""The hall's scheduler: periodic jobs run in the server process, never in a request.

Queue and window changes made by a job reach the screens through the committed
domain events like any other change; the manager's periodic pushes (proposals,
alerts, deadlines, occupancy) go through ``displays.manager``.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask

from displays import manager as manager_room
from hall_ops import queue
from hall_ops.cases.delivery import LoggingNotifier, notify_ready
from hall_ops.cases.handoff import policy_from_config, register_dispatcher
from hall_ops.cases.intake import IntakeRules
from hall_ops.cases.time_limits import deadline_watch
from hall_ops.clock import iso_utc
from hall_ops.floor.alerts import alerts_now
from hall_ops.floor.auto_mode import workload_tick
from hall_web.context import HallContext
from sensors.config import parse_cameras
from sensors.poller import CameraPool, register_jobs
from zones.occupancy import waiting_per_zone

log = logging.getLogger(__name__)


def expire_stale_tickets(hall: HallContext) -> None:
    with hall.db.write() as session:
        expired = queue.expire_stale_tickets(session, hall.config, hall.clock())
    if expired:
        log.info("expired %d tickets left from earlier days", expired)


def push_deadlines(hall: HallContext, rules: IntakeRules) -> None:
    """Supervision during the case: items at 80 % of their limit or overdue, to the manager."""
    with hall.db.read() as session:
        watched = deadline_watch(session, rules, hall.clock())
    manager_room.push_deadlines(hall.socketio, watched)


def push_workload(hall: HallContext) -> list[dict[str, Any]]:
    """Proposals now (auto mode applies its share first), then the alerts, to the manager.
    Returns the audit records of what auto mode applied."""
    now = hall.clock()
    applied, payload = workload_tick(hall.db, hall.config, now)
    manager_room.push_proposals(hall.socketio, payload)
    manager_room.push_alerts(hall.socketio, alerts_now(hall.db, hall.config, now), iso_utc(now))
    return applied


def _waiting_per_zone(hall: HallContext, now: datetime) -> dict[str, int]:
    with hall.db.read() as session:
        return waiting_per_zone(session, hall.config, now)


def start_jobs(app: Flask) -> BackgroundScheduler:
    hall: HallContext = app.extensions["hall"]
    scheduler = BackgroundScheduler(timezone=hall.config.timezone)
    scheduler.add_job(
        expire_stale_tickets, "interval", minutes=10, args=[hall], id="expire_stale_tickets",
        max_instances=1, coalesce=True, next_run_time=datetime.now(hall.config.timezone),
    )
    register_dispatcher(
        scheduler, hall.db, hall.approval_backends, interval_seconds=5,
        policy=policy_from_config(hall.config.sections.approval.model_dump(exclude_none=True)),
        clock=hall.clock,
    )
    scheduler.add_job(
        push_deadlines, "interval", minutes=5, args=[hall, hall.config.intake_rules],
        id="push_deadlines", max_instances=1, coalesce=True,
        next_run_time=datetime.now(hall.config.timezone),
    )
    scheduler.add_job(
        push_workload, "interval", seconds=hall.config.dashboard.workload_seconds,
        args=[hall], id="workload_tick", max_instances=1, coalesce=True,
    )
    notifier = LoggingNotifier()
    scheduler.add_job(
        lambda: notify_ready(hall.db, notifier, hall.clock()), "interval", seconds=60,
        id="notify_ready", max_instances=1, coalesce=True,
    )
    cameras = parse_cameras(hall.config.raw, {z.code for z in hall.config.zones})
    if cameras:
        pool = CameraPool(cameras)
        app.extensions["camera_pool"] = pool
        register_jobs(
            scheduler, hall.db, pool,
            interval_seconds=hall.config.sections.sensors.poll_seconds,
            on_update=lambda readings: manager_room.push_camera_update(
                hall.socketio, hall.db, hall.config, hall.clock(), readings),
            clock=hall.clock,
            waiting_by_zone=lambda now: _waiting_per_zone(hall, now),
        )
    scheduler.start()
    app.extensions["scheduler"] = scheduler
    return scheduler
