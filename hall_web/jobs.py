"""The hall's scheduler: periodic jobs run in the server process, never in a request."""

from __future__ import annotations

import logging
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask

from hall_ops import queue
from hall_web.context import HallContext

log = logging.getLogger(__name__)


def expire_stale_tickets(hall: HallContext) -> None:
    with hall.db.write() as session:
        expired = queue.expire_stale_tickets(session, hall.config, hall.clock())
    if expired:
        log.info("expired %d tickets left from earlier days", expired)
        hall.publisher.queue_changed()


def start_jobs(app: Flask) -> BackgroundScheduler:
    hall: HallContext = app.extensions["hall"]
    scheduler = BackgroundScheduler(timezone=hall.config.timezone)
    scheduler.add_job(
        expire_stale_tickets, "interval", minutes=10, args=[hall], id="expire_stale_tickets",
        max_instances=1, coalesce=True, next_run_time=datetime.now(hall.config.timezone),
    )
    scheduler.start()
    app.extensions["scheduler"] = scheduler
    return scheduler
