"""Prometheus metrics of one hall process (prometheus-client), served at ``/metrics``.

Where each figure comes from:

* counters and the wait histogram count the domain events committed in this process
  (a subscriber of ``Database.write``, like the screens' ``Publisher``), so no view has to
  remember to count: ``hall_tickets_issued_total``, ``hall_calls_total``,
  ``hall_wait_seconds`` (take → call, as the reports measure it);
* ``hall_job_runs_total`` counts the scheduler's job events (APScheduler listener);
* gauges are read when scraped: waiting tickets, the hand-off outbox and the cameras from
  the database, Socket.IO clients from this process (``displays.screens``).

Several processes: each runs one gunicorn worker (Socket.IO needs it) and exposes its own
``/metrics``, so prometheus-client's multiprocess mode (several workers behind one port,
sharing files) is not needed. Scrape every process; sum the counters, histograms and
Socket.IO clients over them; the database gauges are the whole hall's on every process
(take ``max``, not ``sum``). docs/deploy.md has the queries.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Histogram,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from displays.screens import connected_clients
from hall_ops.cases.models import HallTransfer, HandoffMessage, IncomingResult
from hall_ops.clock import hall_day
from hall_ops.config import PRIORITIES
from hall_ops.events import Event, TicketCalled, TicketIssued
from hall_ops.floor.plan import FloorPlan, floor_plan
from hall_ops.queue import waiting_by_service
from hall_web.context import HallContext
from sensors.camera import STATUSES as CAMERA_STATUSES
from sensors.status import camera_statuses

log = logging.getLogger(__name__)

WAIT_BUCKETS = (60, 180, 300, 600, 900, 1200, 1800, 2700, 3600, 5400, 7200, float("inf"))
"""Seconds: one minute to two hours, the range a hall's waits fall in."""


class HallMetrics:
    """The metrics of one app, in a registry of its own (tests build many apps per process)."""

    def __init__(self, hall: HallContext, scheduler: Callable[[], Any]) -> None:
        self.registry = CollectorRegistry()
        for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
            self.registry.register(collector)
        self.tickets = Counter(
            "hall_tickets_issued", "Tickets taken (kiosk, phone, appointment check-in)",
            ["service", "priority"], registry=self.registry)
        self.calls = Counter(
            "hall_calls", "Calls of a ticket to a window; recall=true for a recall",
            ["service", "recall"], registry=self.registry)
        self.waits = Histogram(
            "hall_wait_seconds", "Wait of a called ticket, from taking it to its call",
            ["service"], buckets=WAIT_BUCKETS, registry=self.registry)
        self.job_runs = Counter(
            "hall_job_runs", "Scheduled job runs by outcome (ok, error, missed)",
            ["job", "outcome"], registry=self.registry)
        with hall.db.read() as session:
            services = floor_plan(session).services
        for service in services:  # every series exists from the start, at 0
            for priority in PRIORITIES:
                self.tickets.labels(service.code, priority)
            for recall in ("false", "true"):
                self.calls.labels(service.code, recall)
            self.waits.labels(service.code)
        self.registry.register(_ScrapeTime(hall, scheduler))

    def observe(self, events: Sequence[Event]) -> None:
        """Subscriber of the database's committed events."""
        for event in events:
            if isinstance(event, TicketIssued):
                self.tickets.labels(event.service, event.priority).inc()
            elif isinstance(event, TicketCalled):
                service = event.call["service"]
                self.calls.labels(service, "true" if event.call["recall"] else "false").inc()
                if event.waited_seconds is not None:
                    self.waits.labels(service).observe(event.waited_seconds)

    def watch(self, scheduler: Any) -> None:
        """Count the runs of ``scheduler``'s jobs (an APScheduler ``BaseScheduler``)."""
        from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED

        outcomes = {EVENT_JOB_EXECUTED: "ok", EVENT_JOB_ERROR: "error", EVENT_JOB_MISSED: "missed"}

        def count(event: Any) -> None:
            self.job_runs.labels(event.job_id, outcomes[event.code]).inc()

        scheduler.add_listener(count, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED)


class _ScrapeTime:
    """Gauges read when Prometheus scrapes: the database's figures and this process's state."""

    def __init__(self, hall: HallContext, scheduler: Callable[[], Any]) -> None:
        self.hall = hall
        self.scheduler = scheduler

    def collect(self) -> Iterator[Metric]:
        yield from self._socketio()
        scheduler = self.scheduler()
        running = GaugeMetricFamily(
            "hall_scheduler_running", "1 if this process runs the scheduled jobs")
        running.add_metric([], 1 if scheduler is not None and scheduler.running else 0)
        yield running
        up = GaugeMetricFamily("hall_database_up", "1 if the database answered this scrape")
        try:
            figures = list(self._database())
        except SQLAlchemyError:
            log.warning("metrics: database unreachable", exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from figures

    def _floor(self) -> FloorPlan:
        """The hall's rooms from the database, or config.toml's seeded ones while it is down:
        this process's clients are counted either way."""
        try:
            with self.hall.db.read() as session:
                return floor_plan(session)
        except SQLAlchemyError:
            config = self.hall.config
            return FloorPlan(config.zones, config.services, config.windows)

    def _socketio(self) -> Iterator[Metric]:
        total, rooms = connected_clients(self.hall.socketio, self._floor())
        clients = GaugeMetricFamily(
            "hall_socketio_clients", "Socket.IO clients connected to this process")
        clients.add_metric([], total)
        yield clients
        per_room = GaugeMetricFamily(
            "hall_socketio_room_clients", "Socket.IO clients of this process in each room",
            labels=["room"])
        for room, count in rooms.items():
            per_room.add_metric([room], count)
        yield per_room

    def _database(self) -> Iterator[Metric]:
        now = self.hall.clock()
        config = self.hall.config
        with self.hall.db.read() as session:
            waiting = waiting_by_service(session, hall_day(now, config.timezone))
            services = floor_plan(session).services
            outbox = dict(session.execute(
                select(HandoffMessage.status, func.count())
                .where(HandoffMessage.status.in_(("pending", "dead")))
                .group_by(HandoffMessage.status)).all())
            oldest = session.scalar(select(func.min(HandoffMessage.created_at))
                                    .where(HandoffMessage.status == "pending"))
            cameras = camera_statuses(config, session)
            to_other_hall = session.scalar(select(func.count()).select_from(HallTransfer)
                                           .where(HallTransfer.status == "pending"))
            to_origin = session.scalar(select(func.count()).select_from(IncomingResult).where(
                IncomingResult.handed_over_at.is_not(None), IncomingResult.reported_at.is_(None)))

        tickets = GaugeMetricFamily(
            "hall_waiting_tickets", "Tickets waiting now, by service (whole hall)",
            labels=["service"])
        for service in services:
            tickets.add_metric([service.code], waiting.get(service.code, 0))
        yield tickets
        messages = GaugeMetricFamily(
            "hall_outbox_messages",
            "Hand-off messages not delivered: pending (backlog) and dead (dead letters)",
            labels=["status"])
        for status in ("pending", "dead"):
            messages.add_metric([status], outbox.get(status, 0))
        yield messages
        age = GaugeMetricFamily(
            "hall_outbox_oldest_pending_seconds", "Age of the oldest pending hand-off message")
        age.add_metric([], (now - oldest) / dt.timedelta(seconds=1) if oldest else 0)
        yield age
        backlog = GaugeMetricFamily(
            "hall_cross_hall_backlog",
            "Results collected at another hall not yet recorded there (to_other_hall: ready "
            "results not landed; to_origin: hand-overs here the origin hall has not recorded)",
            labels=["direction"])
        backlog.add_metric(["to_other_hall"], to_other_hall or 0)
        backlog.add_metric(["to_origin"], to_origin or 0)
        yield backlog
        states = GaugeMetricFamily(
            "hall_cameras", "Configured counting cameras by state (unknown: never polled)",
            labels=["status"])
        for status in (*CAMERA_STATUSES, "unknown"):
            states.add_metric([status], sum(1 for c in cameras if c["status"] == status))
        yield states
