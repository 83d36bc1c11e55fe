"""Periodic camera polling and the live occupancy figure per zone.

A poll asks every camera that is due for its counts (all at once on the
pool's camera loop, each call with a short timeout), records a sample per
camera and updates the camera's status (``sensors.camera.STATUSES``). A camera
that fails is left alone for a growing while (30 s, 1 min, 2 min … up to
15 min by default), so a dead camera costs one timeout per back-off step, not
one per poll. Nothing a camera does can make the poll raise: failures end up
as a status and a sentence in ``cameras.last_error``.

The figure per zone is the sum of its cameras' latest counts, flagged stale
when a camera is not counting or its latest count is older than
``stale_after``, and flagged clamped when a camera reported fewer than nobody.
Zones without a camera get an estimate from the tickets waiting there.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.job import Job
from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy import delete, func, select

from hall_ops.clock import Clock, system_clock
from hall_ops.db import Database
from sensors.camera import (
    CLOCK,
    COUNTING,
    GARBLED,
    ONLINE,
    UNKNOWN,
    UNREACHABLE,
    UTC_ZONE,
    CameraClockOff,
    CameraError,
    CameraLoop,
    CountingCamera,
    Counts,
    open_camera,
)
from sensors.config import CameraConfig
from sensors.models import Camera, OccupancySample

log = logging.getLogger(__name__)

PEOPLE_PER_WAITING_TICKET = 1.3
"""Citizens often come with someone (an agent, a relative): people per waiting ticket."""
STALE_AFTER = dt.timedelta(minutes=3)


@dataclass(frozen=True)
class CameraReading:
    """One camera after a poll. ``polled`` is False while it waits out its back-off."""

    camera: str
    zone: str
    role: str
    status: str
    polled: bool
    at: dt.datetime
    count: int | None = None
    entered: int | None = None
    exited: int | None = None
    last_seen_at: dt.datetime | None = None
    error: str | None = None
    next_try_at: dt.datetime | None = None
    clamped: bool = False
    clock_offset_s: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v.isoformat() if isinstance(v, dt.datetime) else v
                for k, v in asdict(self).items()}


@dataclass(frozen=True)
class ZoneOccupancy:
    """People in a zone now. ``estimate``: from waiting tickets, no camera figure."""

    zone: str
    count: int | None
    at: dt.datetime | None
    stale: bool
    estimate: bool
    cameras: tuple[str, ...] = ()
    entered: int | None = None
    exited: int | None = None
    clamped: bool = False

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["at"] = self.at.isoformat() if self.at else None
        data["cameras"] = list(self.cameras)
        return data


@dataclass(frozen=True)
class OccupancyPoint:
    at: dt.datetime
    count: int
    source: str


class CameraPool:
    """The configured cameras and their live sessions, kept between polls.

    Sessions run on the pool's own :class:`CameraLoop`. ``subscription_seconds``
    must outlast two poll intervals (ONVIF sessions renew when half of it is
    left; ``register_jobs`` checks this). ``clock`` is the hall's clock, the
    reference for each camera's clock offset.
    """

    def __init__(
        self,
        configs: Iterable[CameraConfig],
        *,
        timeout: float = 5.0,
        subscription_seconds: int = 300,
        retry_base: dt.timedelta = dt.timedelta(seconds=30),
        retry_max: dt.timedelta = dt.timedelta(minutes=15),
        clock: Clock = system_clock,
        clock_tolerance: float = 120.0,
        timezone: ZoneInfo = UTC_ZONE,
    ) -> None:
        self.configs = tuple(configs)
        self.timeout = timeout
        self.subscription_seconds = subscription_seconds
        self.retry_base = retry_base
        self.retry_max = retry_max
        self.clock = clock
        self.clock_tolerance = clock_tolerance
        self.timezone = timezone
        self.lock = threading.Lock()
        """Held for a whole poll: two polls must not drive one session at once."""
        self.loop = CameraLoop()
        self._sessions: dict[str, CountingCamera] = {}

    def session(self, config: CameraConfig) -> CountingCamera:
        current = self._sessions.get(config.name)
        if current is None or current.config != config:
            if current is not None:
                self.loop.run(current.close())
            current = open_camera(config, timeout=self.timeout, clock=self.clock,
                                  subscription_seconds=self.subscription_seconds,
                                  clock_tolerance=self.clock_tolerance, timezone=self.timezone)
            self._sessions[config.name] = current
        return current

    def backoff(self, failures: int) -> dt.timedelta:
        """Wait before try number ``failures + 1``: doubling from retry_base, capped."""
        return min(self.retry_base * 2 ** max(failures - 1, 0), self.retry_max)

    def read(self, sessions: list[CountingCamera]) -> list[Counts | BaseException]:
        """Every session's counts (or what went wrong), asked all at once."""
        async def everyone() -> list[Counts | BaseException]:
            return list(await asyncio.gather(*(_read(s) for s in sessions)))

        # Each call has its own timeout; this one only guards against a hung library.
        return self.loop.run(everyone(), timeout=self.timeout * 20 + 30)

    def close(self) -> None:
        """Unsubscribe from every camera and stop the loop (at shutdown)."""
        with self.lock:
            for session in self._sessions.values():
                self.loop.run(session.close(), timeout=self.timeout * 3 + 5)
            self._sessions.clear()
            self.loop.close()


async def _read(session: CountingCamera) -> Counts | BaseException:
    try:
        return await session.read_counts()
    except Exception as exc:  # one camera's failure must not end the poll
        if not isinstance(exc, CameraError):
            log.exception("unexpected error polling %s", session.label)
        return exc


def _sync_cameras(db: Database, configs: tuple[CameraConfig, ...]) -> dict[str, Camera]:
    """Make the cameras table match the config; a changed address is tried at once."""
    with db.write() as session:
        rows = {c.name: c for c in session.scalars(select(Camera))}
        for name in set(rows) - {c.name for c in configs}:
            session.execute(delete(Camera).where(Camera.name == name))
            del rows[name]
        for config in configs:
            row = rows.get(config.name)
            if row is None:
                row = Camera(name=config.name, zone_code=config.zone, host=config.host,
                             port=config.port, role=config.role, status=UNKNOWN, failures=0)
                session.add(row)
                rows[config.name] = row
            elif (row.zone_code, row.host, row.port, row.role) != \
                    (config.zone, config.host, config.port, config.role):
                row.zone_code, row.host, row.port, row.role = \
                    config.zone, config.host, config.port, config.role
                row.failures, row.next_try_at = 0, None
    return rows


def _due(row: Camera, now: dt.datetime) -> bool:
    return row.next_try_at is None or row.next_try_at <= now


def poll_cameras(db: Database, cameras: CameraPool, now: dt.datetime) -> list[CameraReading]:
    """Poll every camera that is due; record samples and statuses; one reading per camera."""
    with cameras.lock:
        rows = _sync_cameras(db, cameras.configs)
        due = [c for c in cameras.configs if _due(rows[c.name], now)]
        results: dict[str, Counts | BaseException] = {}
        if due:
            outcomes = cameras.read([cameras.session(c) for c in due])
            results = {c.name: outcome for c, outcome in zip(due, outcomes, strict=True)}

        readings = []
        with db.write() as session:
            for config in cameras.configs:
                row = session.get(Camera, config.name)
                assert row is not None
                result: Counts | BaseException | None = results.get(config.name)
                counts = result if isinstance(result, Counts) else None
                if result is not None:
                    _apply(cameras, row, result, now)
                    if counts is not None and counts.present is not None:
                        session.add(OccupancySample(
                            zone_code=config.zone, camera_name=config.name, at=now,
                            count=counts.present, entered=counts.entered, exited=counts.exited,
                            source="camera", clamped=counts.clamped,
                        ))
                readings.append(CameraReading(
                    camera=config.name, zone=config.zone, role=config.role, status=row.status,
                    polled=result is not None, at=now,
                    count=counts.present if counts else None,
                    entered=counts.entered if counts else None,
                    exited=counts.exited if counts else None,
                    last_seen_at=row.last_seen_at, error=row.last_error,
                    next_try_at=row.next_try_at, clamped=bool(counts and counts.clamped),
                    clock_offset_s=row.clock_offset_s,
                ))
    return readings


def _apply(
    cameras: CameraPool, row: Camera, result: Counts | BaseException, now: dt.datetime
) -> None:
    if isinstance(result, Counts):
        offset = result.clock_offset
        row.clock_offset_s = round(offset) if offset is not None else None
        row.status = CLOCK if offset is not None and abs(offset) > cameras.clock_tolerance \
            else ONLINE
        row.last_seen_at, row.failures, row.next_try_at = now, 0, None
        row.last_error = None if result.present is not None else (
            "the camera sent no counting events yet (check its counting rules"
            + (" and in_rule/out_rule)" if row.role == "entrance" else ")")
        )
        return
    row.failures = (row.failures or 0) + 1
    row.next_try_at = now + cameras.backoff(row.failures)
    if isinstance(result, CameraError):
        row.status, row.last_error = result.status, str(result)
        if isinstance(result, CameraClockOff):
            row.clock_offset_s = round(result.offset_seconds)
        if row.status != UNREACHABLE:
            log.warning("camera %s: %s", row.name, row.last_error)
    else:
        row.status = GARBLED
        row.last_error = f"camera {row.name}: unexpected error while reading it (see the log)"


def estimate_people(waiting_tickets: int) -> int:
    return round(waiting_tickets * PEOPLE_PER_WAITING_TICKET)


def record_estimates(
    db: Database, now: dt.datetime, waiting_by_zone: Mapping[str, int]
) -> dict[str, int]:
    """Store an estimate sample for each zone without a camera, so its chart has a history."""
    with db.write() as session:
        covered = set(session.scalars(select(Camera.zone_code).distinct()))
        recorded = {zone: estimate_people(waiting) for zone, waiting in waiting_by_zone.items()
                    if zone not in covered}
        session.add_all(OccupancySample(zone_code=zone, camera_name=None, at=now, count=count,
                                        source="estimate")
                        for zone, count in recorded.items())
    return recorded


def zone_occupancy(
    db: Database,
    now: dt.datetime,
    waiting_by_zone: Mapping[str, int],
    *,
    stale_after: dt.timedelta = STALE_AFTER,
) -> dict[str, ZoneOccupancy]:
    """The figure per zone: cameras' latest counts, or an estimate where there is no camera."""
    with db.read() as session:
        cameras = list(session.scalars(select(Camera).order_by(Camera.name)))
        # Each camera's newest sample from the end of its (camera_name, at) index: a few
        # rows read, where grouping the whole history scanned a week of samples.
        newest = (
            select(OccupancySample.id)
            .where(OccupancySample.camera_name == Camera.name,
                   OccupancySample.source == "camera")
            .order_by(OccupancySample.at.desc())
            .limit(1)
            .correlate(Camera)
            .scalar_subquery()
        )
        latest = {s.camera_name: s for s in session.scalars(
            select(OccupancySample).join(Camera, OccupancySample.id == newest))}

    by_zone: dict[str, list[Camera]] = {}
    for camera in cameras:
        by_zone.setdefault(camera.zone_code, []).append(camera)

    out: dict[str, ZoneOccupancy] = {}
    for zone, zone_cameras in by_zone.items():
        names = tuple(c.name for c in zone_cameras)
        samples = [latest[c.name] for c in zone_cameras if c.name in latest]
        if not samples:
            # Never counted yet: the ticket estimate, if any, flagged as such.
            waiting = waiting_by_zone.get(zone)
            guess = estimate_people(waiting) if waiting is not None else None
            out[zone] = ZoneOccupancy(zone, guess, now if waiting is not None else None,
                                      stale=True, estimate=waiting is not None, cameras=names)
            continue
        oldest = min(s.at for s in samples)
        doors = [s for s in samples if s.entered is not None]
        out[zone] = ZoneOccupancy(
            zone,
            count=sum(s.count for s in samples),
            at=oldest,
            stale=(len(samples) < len(zone_cameras) or now - oldest > stale_after
                   or any(c.status not in COUNTING for c in zone_cameras)),
            estimate=False,
            cameras=names,
            entered=sum(s.entered or 0 for s in doors) if doors else None,
            exited=sum(s.exited or 0 for s in doors) if doors else None,
            clamped=any(s.clamped for s in samples),
        )
    for zone, waiting in waiting_by_zone.items():
        if zone not in out:
            out[zone] = ZoneOccupancy(zone, estimate_people(waiting), now,
                                      stale=False, estimate=True)
    return out


def occupancy_series(
    db: Database, zone: str, since: dt.datetime, until: dt.datetime | None = None
) -> list[OccupancyPoint]:
    """People in a zone over time, oldest first: the cameras of one poll added up."""
    query = (
        select(OccupancySample.at, func.sum(OccupancySample.count), OccupancySample.source)
        .where(OccupancySample.zone_code == zone, OccupancySample.at >= since)
        .group_by(OccupancySample.at, OccupancySample.source)
        .order_by(OccupancySample.at)
    )
    if until is not None:
        query = query.where(OccupancySample.at <= until)
    with db.read() as session:
        rows = session.execute(query).all()
    return [OccupancyPoint(at, int(count), source) for at, count, source in rows]


def register_jobs(
    scheduler: BaseScheduler,
    db: Database,
    cameras: CameraPool,
    interval_seconds: float,
    on_update: Callable[[list[CameraReading]], None],
    *,
    clock: Clock = system_clock,
    waiting_by_zone: Callable[[dt.datetime], Mapping[str, int]] | None = None,
) -> Job:
    """Poll the cameras every ``interval_seconds`` on an APScheduler 3 scheduler.

    Each run polls, records estimates for camera-less zones when
    ``waiting_by_zone(now)`` is given, then hands the readings to
    ``on_update`` (the web edge pushes them to the dashboard). A failing run
    is logged and the next one comes as planned.
    """
    if interval_seconds <= 0:
        raise ValueError("interval_seconds must be positive")
    if interval_seconds * 2 >= cameras.subscription_seconds:
        raise ValueError(
            f"camera subscriptions last {cameras.subscription_seconds} s: poll at least twice "
            f"in that time (interval {interval_seconds} s is too long)"
        )

    def run() -> None:
        now = clock()
        try:
            readings = poll_cameras(db, cameras, now)
            if waiting_by_zone is not None:
                record_estimates(db, now, waiting_by_zone(now))
            on_update(readings)
        except Exception:
            log.exception("camera poll failed")

    return scheduler.add_job(
        run, "interval", seconds=interval_seconds, id="poll_cameras", replace_existing=True,
        max_instances=1, coalesce=True, next_run_time=dt.datetime.now(dt.UTC),
    )
