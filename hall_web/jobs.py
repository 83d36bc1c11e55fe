"""The hall's scheduler: periodic jobs run in the server process, never in a request.

Every process builds the scheduler paused; only the leader of the deployment
(``hall_ops.runtime.leader``) resumes it, so each job runs in one process however
many serve the hall. A process that loses the lead pauses again. Queue and window
changes made by a job reach the screens through the committed domain events like
any other change; the manager's periodic pushes (proposals, alerts, deadlines,
occupancy) go through ``displays.manager``.
"""

from __future__ import annotations

import atexit
import logging
from datetime import datetime, timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask

from displays import manager as manager_room
from hall_ops import printing, queue
from hall_ops.archive.package import ArchiveSettings, archive_finished
from hall_ops.archive.package import settings_from_config as archive_settings
from hall_ops.audit.roots import take_root
from hall_ops.cases.handoff import policy_from_config, register_dispatcher
from hall_ops.cases.intake import IntakeRules
from hall_ops.cases.notices import notify_ready, settings_from_config
from hall_ops.cases.supervision import supervise
from hall_ops.cases.time_limits import deadline_watch
from hall_ops.clock import hall_day, iso_utc
from hall_ops.config import JobsConfig
from hall_ops.floor.alerts import alerts_now, build_alerts, screens_today
from hall_ops.floor.auto_mode import workload_tick
from hall_ops.forms.drafts import delete_expired
from hall_ops.runtime.leader import Election, beat, begin_term, end_term, lock_for
from hall_web.context import HallContext
from sensors.config import parse_cameras, parse_sensors
from sensors.poller import CameraPool, register_jobs
from zones.occupancy import waiting_per_zone

log = logging.getLogger(__name__)


def expire_stale_tickets(hall: HallContext) -> None:
    with hall.db.write() as session:
        expired = queue.expire_stale_tickets(session, hall.config, hall.clock())
    if expired:
        log.info("expired %d tickets left from earlier days", expired)


def lapse_remote_tickets(hall: HallContext) -> int:
    """Remote tickets not checked in by their time are recorded as lapsed (a remote ticket
    is never callable either way: only checked-in tickets wait)."""
    with hall.db.write() as session:
        lapsed = queue.lapse_remote_tickets(session, hall.clock())
    if lapsed:
        log.info("%d remote tickets lapsed unchecked", lapsed)
    return lapsed


def push_deadlines(hall: HallContext, rules: IntakeRules) -> None:
    """Supervision during the case: record the cards that changed colour (the only writer of
    the card history), then push items at 80 % of their limit or overdue to the manager."""
    now = hall.clock()
    with hall.db.write(origin="deadline job") as session:
        changed = supervise(session, rules, now)
    if changed:
        log.info("supervision: %d card(s) changed colour", len(changed))
    with hall.db.read() as session:
        watched = deadline_watch(session, rules, now)
    manager_room.push_deadlines(hall.socketio, watched)


def take_daily_root(hall: HallContext) -> None:
    """The root of yesterday (hall-local) over every chain's head, once: run hourly, so a
    hall that was down at midnight takes it when it is back."""
    now = hall.clock()
    yesterday = hall_day(now, hall.config.timezone) - timedelta(days=1)
    with hall.db.write(origin="audit root job") as session:
        root = take_root(session, yesterday, now)
    if root is not None:
        log.info("audit: root of %s is %s (%d streams moved)", yesterday, root.root,
                 len(root.heads))


def push_workload(hall: HallContext) -> list[dict[str, Any]]:
    """Proposals now (auto mode applies its share first), then the alerts, to the manager.
    Returns the audit records of what auto mode applied."""
    now = hall.clock()
    applied, payload = workload_tick(hall.db, hall.config, now)
    manager_room.push_proposals(hall.socketio, payload)
    manager_room.push_alerts(hall.socketio, alerts_now(hall.db, hall.config, now), iso_utc(now))
    return applied


def delete_expired_drafts(hall: HallContext) -> int:
    """Citizens' form drafts past their time are deleted (personal data not needed any more)."""
    with hall.db.write() as session:
        gone = delete_expired(session, hall.clock())
    if gone:
        log.info("deleted %d expired form drafts", gone)
    return gone


def archive_cases(hall: HallContext, settings: ArchiveSettings) -> list[str]:
    """Finished cases get their archive package (the durable path: see hall_ops.archive)."""
    done = archive_finished(hall.db, settings, hall.config.intake_rules, hall.clock())
    if done:
        log.info("archived %d finished cases", len(done))
    return done


class ScreenWatch:
    """Every 10 s: when a call screen falls silent (or speaks again) the manager's alerts are
    pushed at once, not at the next workload tick (``build_alerts`` holds the 30-s rule)."""

    def __init__(self, hall: HallContext) -> None:
        self.hall = hall
        self.silent: set[int] = set()

    def __call__(self) -> None:
        now = self.hall.clock()
        with self.hall.db.read() as session:
            screens = screens_today(session, self.hall.config, now)
        # the screens' rule alone (cheap); the whole list only when it changed
        only_screens = build_alerts({"services": []}, (), None, 0, screens=screens, now=now)
        silent = {a["device"] for a in only_screens}
        if silent != self.silent:
            self.silent = silent
            manager_room.push_alerts(self.hall.socketio,
                                     alerts_now(self.hall.db, self.hall.config, now), iso_utc(now))


class PrinterWatch:
    """Every 30 s: each kiosk printer's paper sensor, recorded; the manager's alerts are pushed
    when a printer runs out, comes back or stops answering (``build_alerts`` holds the rule)."""

    def __init__(self, hall: HallContext) -> None:
        self.hall = hall
        self.seen: dict[str, str] = {}

    def __call__(self) -> None:
        now = self.hall.clock()
        answers = {p.name: (p, *printing.query_paper(p)) for p in self.hall.printers}
        with self.hall.db.write() as session:
            for printer, paper, error in answers.values():
                printing.record_status(session, printer, paper, error, now)
        seen = {name: paper for name, (_, paper, _) in answers.items()}
        if seen != self.seen:
            self.seen = seen
            manager_room.push_alerts(self.hall.socketio,
                                     alerts_now(self.hall.db, self.hall.config, now), iso_utc(now))


def _waiting_per_zone(hall: HallContext, now: datetime) -> dict[str, int]:
    with hall.db.read() as session:
        return waiting_per_zone(session, hall.config, now)


class Leadership:
    """What the election does to this process's scheduler, and the term it records."""

    def __init__(self, hall: HallContext, scheduler: BackgroundScheduler, backend: str) -> None:
        self.hall = hall
        self.scheduler = scheduler
        self.backend = backend
        self.term_id: int | None = None

    def elected(self) -> None:
        self.term_id = None
        self.scheduler.resume()  # jobs due while paused run now (no misfire grace limit)

    def deposed(self) -> None:
        self.scheduler.pause()
        term_id, self.term_id = self.term_id, None
        if term_id is not None:
            try:
                end_term(self.hall.db, term_id, self.hall.clock)
            except Exception:
                log.exception("leader: term %s not closed", term_id)

    def heartbeat(self) -> None:
        if self.term_id is None:
            self.term_id = begin_term(self.hall.db, self.backend, self.hall.clock)
        else:
            beat(self.hall.db, self.term_id, self.hall.clock)


def start_jobs(app: Flask) -> BackgroundScheduler:
    """Build the scheduler (paused) and join the election; the leader runs the jobs."""
    hall: HallContext = app.extensions["hall"]
    lock = lock_for(hall.db, hall.message_queue, lock_seconds=hall.config.jobs.lock_seconds)
    leadership = _build_scheduler(app, lock.backend)
    app.extensions["leader"] = Election(
        lock, leadership.elected, leadership.deposed,
        check_seconds=hall.config.jobs.check_seconds,
    ).start()
    return leadership.scheduler


def start_deployment_jobs(root: Flask) -> Election:
    """Every hall's scheduler (paused) and ONE election for the whole deployment: the
    process that wins runs every hall's jobs. One lock per deployment, not per hall, so a
    process holds one leader connection however many halls it serves (PostgreSQL: one
    session lock on the deployment's database; Redis: ``<channel>:leader``); each hall still
    records its own terms (``scheduler_terms`` in its database)."""
    from hall_ops.region.deployment import Deployment

    deployment: Deployment = root.extensions["deployment"]
    jobs = deployment.file.jobs
    check = JobsConfig.from_section(jobs)
    lock = lock_for(deployment.db, deployment.message_queue, lock_seconds=check.lock_seconds,
                    redis_name=f"{deployment.file.deployment.message_queue_channel}:leader")
    led = [_build_scheduler(app, lock.backend) for app in root.extensions["halls"].values()]
    root.extensions["leaderships"] = led

    def elected() -> None:
        for leadership in list(led):
            leadership.elected()

    def deposed() -> None:
        for leadership in list(led):
            leadership.deposed()

    election = Election(lock, elected, deposed, check_seconds=check.check_seconds).start()
    root.extensions["leader"] = election
    return election


def join_deployment_jobs(root: Flask, app: Flask) -> None:
    """A hall mounted after the start (``hall_web.deployment.mount_hall``) joins the
    deployment's election: its jobs run at once if this process leads."""
    election: Election = root.extensions["leader"]
    leadership = _build_scheduler(app, election.lock.backend)
    root.extensions["leaderships"].append(leadership)
    if election.leader:
        leadership.elected()


def _build_scheduler(app: Flask, backend: str) -> Leadership:
    """The hall's jobs in a paused scheduler, and what the election does to it."""
    hall: HallContext = app.extensions["hall"]
    # A job due while this process followed runs once when it leads, however late.
    scheduler = BackgroundScheduler(timezone=hall.config.timezone,
                                    job_defaults={"misfire_grace_time": None})
    scheduler.add_job(
        expire_stale_tickets, "interval", minutes=10, args=[hall], id="expire_stale_tickets",
        max_instances=1, coalesce=True, next_run_time=datetime.now(hall.config.timezone),
    )
    if hall.config.queue.remote_tickets:
        scheduler.add_job(
            lapse_remote_tickets, "interval", minutes=1, args=[hall], id="lapse_remote_tickets",
            max_instances=1, coalesce=True,
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
        take_daily_root, "interval", hours=1, args=[hall], id="audit_root", max_instances=1,
        coalesce=True, next_run_time=datetime.now(hall.config.timezone),
    )
    scheduler.add_job(
        push_workload, "interval", seconds=hall.config.dashboard.workload_seconds,
        args=[hall], id="workload_tick", max_instances=1, coalesce=True,
    )
    scheduler.add_job(
        ScreenWatch(hall), "interval", seconds=10, id="screen_watch", max_instances=1,
        coalesce=True,
    )
    notices = hall.notices or settings_from_config({})
    scheduler.add_job(
        lambda: notify_ready(hall.db, notices.channels, hall.clock(), policy=notices.policy,
                             link_for=hall.rating_link),
        "interval", seconds=notices.interval_seconds, id="notify_ready", max_instances=1,
        coalesce=True,
    )
    if hall.silent_calling is not None:  # retries; new messages go at once after each call
        scheduler.add_job(hall.silent_calling.run, "interval", seconds=notices.interval_seconds,
                          id="silent_calling", max_instances=1, coalesce=True)
    if hall.printers:
        scheduler.add_job(PrinterWatch(hall), "interval", seconds=30, id="printer_watch",
                          max_instances=1, coalesce=True,
                          next_run_time=datetime.now(hall.config.timezone))
    forms, archive = hall.config.sections.forms, hall.config.sections.archive
    scheduler.add_job(
        delete_expired_drafts, "interval", minutes=forms.cleanup_minutes, args=[hall],
        id="delete_expired_drafts", max_instances=1, coalesce=True,
        next_run_time=datetime.now(hall.config.timezone),
    )
    scheduler.add_job(
        archive_cases, "interval", seconds=archive.interval_seconds,
        args=[hall, archive_settings(hall.config)], id="archive_cases", max_instances=1,
        coalesce=True, next_run_time=datetime.now(hall.config.timezone),
    )
    cameras = parse_cameras(hall.config.raw, {z.code for z in hall.config.zones})
    if cameras:
        sensors = parse_sensors(hall.config.raw)
        pool = CameraPool(cameras, timeout=sensors.timeout_seconds, clock=hall.clock,
                          clock_tolerance=sensors.clock_tolerance_seconds,
                          timezone=hall.config.timezone)
        app.extensions["camera_pool"] = pool
        atexit.register(pool.close)  # end the cameras' subscriptions: they have few slots
        register_jobs(
            scheduler, hall.db, pool,
            interval_seconds=sensors.poll_seconds,
            on_update=lambda readings: manager_room.push_camera_update(
                hall.socketio, hall.db, hall.config, hall.clock(), readings),
            clock=hall.clock,
            waiting_by_zone=lambda now: _waiting_per_zone(hall, now),
        )
    leadership = Leadership(hall, scheduler, backend)
    scheduler.add_job(
        leadership.heartbeat, "interval", seconds=hall.config.jobs.heartbeat_seconds,
        id="leader_heartbeat", max_instances=1, coalesce=True,
        next_run_time=datetime.now(hall.config.timezone),
    )
    app.extensions["metrics"].watch(scheduler)
    scheduler.start(paused=True)
    app.extensions["scheduler"] = scheduler
    return leadership


def stop_jobs(app: Flask) -> None:
    """Step down (the next process takes over at once) and stop the scheduler(s): a hall's
    app, or a deployment's root and every hall in it."""
    election: Election | None = app.extensions.pop("leader", None)
    if election is not None:
        election.stop()
    for hall in [app, *app.extensions.get("halls", {}).values()]:
        scheduler: BackgroundScheduler | None = hall.extensions.pop("scheduler", None)
        if scheduler is not None:
            scheduler.shutdown(wait=True)
