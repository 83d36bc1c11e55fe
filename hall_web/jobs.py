"""The hall's scheduler: periodic jobs run in the server process, never in a request."""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask
from sqlalchemy import select

from hall_ops import queue
from hall_ops.clock import hall_day
from hall_ops.delivery import LoggingNotifier, notify_ready
from hall_ops.handoff import policy_from_config, register_dispatcher
from hall_ops.intake import IntakeRules, deadline_watch
from hall_ops.models import Service
from hall_web import dashboard
from hall_web.context import HallContext
from hall_web.intake_api import approval_backends
from sensors.config import parse_cameras
from sensors.poller import CameraPool, register_jobs

log = logging.getLogger(__name__)


def expire_stale_tickets(hall: HallContext) -> None:
    with hall.db.write() as session:
        expired = queue.expire_stale_tickets(session, hall.config, hall.clock())
    if expired:
        log.info("expired %d tickets left from earlier days", expired)
        hall.publisher.queue_changed()


def waiting_by_zone(hall: HallContext, now: dt.datetime) -> dict[str, int]:
    """Tickets waiting per zone: the occupancy estimate where a zone has no camera."""
    with hall.db.read() as session:
        waiting = queue.waiting_by_service(session, hall_day(now, hall.config.timezone))
        zones = dict(session.execute(select(Service.code, Service.zone_code)).all())
    totals: Counter[str] = Counter()
    for service, count in waiting.items():
        totals[zones[service]] += count
    return {z.code: totals.get(z.code, 0) for z in hall.config.zones}


def push_deadlines(hall: HallContext, rules: IntakeRules) -> None:
    """Supervision during the case: items at 80 % of their limit or overdue, to the manager."""
    with hall.db.read() as session:
        watched = deadline_watch(session, rules, hall.clock())
    hall.socketio.emit("deadlines", {"items": watched}, to="manager")


def start_jobs(app: Flask) -> BackgroundScheduler:
    hall: HallContext = app.extensions["hall"]
    scheduler = BackgroundScheduler(timezone=hall.config.timezone)
    scheduler.add_job(
        expire_stale_tickets, "interval", minutes=10, args=[hall], id="expire_stale_tickets",
        max_instances=1, coalesce=True, next_run_time=datetime.now(hall.config.timezone),
    )
    register_dispatcher(
        scheduler, hall.db, approval_backends(app), interval_seconds=5,
        policy=policy_from_config(hall.config.raw.get("approval", {})), clock=hall.clock,
    )
    scheduler.add_job(
        push_deadlines, "interval", minutes=5, args=[hall, IntakeRules.from_config(hall.config)],
        id="push_deadlines", max_instances=1, coalesce=True,
        next_run_time=datetime.now(hall.config.timezone),
    )
    scheduler.add_job(
        dashboard.workload_tick, "interval",
        seconds=dashboard.DashboardConfig.from_config(hall.config).workload_seconds,
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
            interval_seconds=float(hall.config.raw.get("sensors", {}).get("poll_seconds", 10)),
            on_update=lambda readings: dashboard.camera_update(hall, readings),
            clock=hall.clock,
            waiting_by_zone=lambda now: waiting_by_zone(hall, now),
        )
    scheduler.start()
    app.extensions["scheduler"] = scheduler
    return scheduler
