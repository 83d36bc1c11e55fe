"""Polling cameras into the hall database: statuses, back-off, stale zones, estimates, the job."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import func, select

from hall_ops.db import Database
from sensors.config import CameraConfig
from sensors.models import Camera, OccupancySample
from sensors.poller import (
    CameraPool,
    CameraReading,
    estimate_people,
    occupancy_series,
    poll_cameras,
    record_estimates,
    register_jobs,
    zone_occupancy,
)
from sensors.simulator import CameraSimulator
from tests.support.cameras import PEAK, ManualClock, by_camera


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(PEAK)


@pytest.fixture
def front(clock: ManualClock) -> Iterator[CameraSimulator]:
    with CameraSimulator("front_intake", password="f1", clock=clock) as sim:
        yield sim


@pytest.fixture
def door(clock: ManualClock) -> Iterator[CameraSimulator]:
    with CameraSimulator("public_affairs", role="entrance", password="d1", clock=clock) as sim:
        yield sim


def config_for(sim: CameraSimulator, name: str, password: str | None = None) -> CameraConfig:
    return CameraConfig(name, sim.zone, "127.0.0.1", sim.port, sim.user,
                        password or sim.password, role=sim.role)


@pytest.fixture
def pool(front: CameraSimulator, door: CameraSimulator, clock: ManualClock
         ) -> Iterator[CameraPool]:
    cameras = CameraPool([config_for(front, "cam-front"), config_for(door, "cam-door")],
                         timeout=2.0, subscription_seconds=120, clock=clock,
                         retry_base=dt.timedelta(seconds=10), retry_max=dt.timedelta(minutes=2))
    yield cameras
    cameras.close()


def camera_row(db: Database, name: str) -> Camera:
    with db.read() as session:
        row = session.get(Camera, name)
        assert row is not None
        return row


def test_poll_records_counts_and_marks_cameras_online(
    db: Database, pool: CameraPool, front: CameraSimulator, door: CameraSimulator
) -> None:
    readings = by_camera(poll_cameras(db, pool, PEAK))
    assert readings["cam-front"].status == "online" and readings["cam-front"].polled
    assert readings["cam-front"].count == front.scenario.present(PEAK)
    entered, exited = door.scenario.crossings(PEAK)
    assert (readings["cam-door"].entered, readings["cam-door"].exited) == (entered, exited)
    assert readings["cam-door"].count == entered - exited

    row = camera_row(db, "cam-front")
    assert (row.status, row.last_seen_at, row.failures, row.next_try_at) == (
        "online", PEAK, 0, None)
    with db.read() as session:
        samples = session.scalars(select(OccupancySample).order_by(OccupancySample.zone_code)).all()
    assert [(s.zone_code, s.camera_name, s.count, s.source) for s in samples] == [
        ("front_intake", "cam-front", front.scenario.present(PEAK), "camera"),
        ("public_affairs", "cam-door", entered - exited, "camera"),
    ]

    zones = zone_occupancy(db, PEAK, {"front_intake": 40, "business": 3})
    assert zones["front_intake"].count == front.scenario.present(PEAK)
    assert not zones["front_intake"].stale and not zones["front_intake"].estimate
    assert (zones["public_affairs"].entered, zones["public_affairs"].exited) == (entered, exited)
    # The business zone has no camera: estimated from its waiting tickets.
    assert zones["business"].estimate and zones["business"].count == estimate_people(3)


def test_one_subscription_per_camera_lives_across_polls(
    db: Database, pool: CameraPool, front: CameraSimulator, clock: ManualClock
) -> None:
    for _ in range(4):
        poll_cameras(db, pool, clock())
        clock.advance(seconds=30)
    assert len(front.subscriptions) == 1
    assert front.requests.count("CreatePullPointSubscription") == 1
    assert front.requests.count("PullMessages") == 4
    assert front.requests.count("Renew") == 1  # when half of 120 s was gone


def test_offline_camera_is_marked_stale_backs_off_and_recovers(
    db: Database, pool: CameraPool, front: CameraSimulator, clock: ManualClock
) -> None:
    poll_cameras(db, pool, clock())
    first_count = front.scenario.present(PEAK)

    front.fail = "drop"
    t1 = clock.advance(seconds=30)
    reading = by_camera(poll_cameras(db, pool, t1))["cam-front"]
    assert (reading.status, reading.polled, reading.count) == ("unreachable", True, None)
    assert reading.last_seen_at == PEAK
    assert reading.next_try_at == t1 + dt.timedelta(seconds=10)
    assert "unreachable" in (reading.error or "")
    zone = zone_occupancy(db, t1, {})["front_intake"]
    assert zone.stale and zone.count == first_count and zone.at == PEAK

    # Within the back-off the camera is not asked at all.
    asked = len(front.requests)
    reading = by_camera(poll_cameras(db, pool, clock.advance(seconds=5)))["cam-front"]
    assert (reading.status, reading.polled) == ("unreachable", False)
    assert len(front.requests) == asked

    # After it: tried again, still silent, so the wait doubles.
    t2 = clock.advance(seconds=6)
    reading = by_camera(poll_cameras(db, pool, t2))["cam-front"]
    assert reading.polled and reading.next_try_at == t2 + dt.timedelta(seconds=20)
    assert camera_row(db, "cam-front").failures == 2

    # It comes back after a restart (subscriptions forgotten): online again, fresh figure.
    front.fail = None
    front.reboot()
    t3 = clock.advance(seconds=21)
    reading = by_camera(poll_cameras(db, pool, t3))["cam-front"]
    assert (reading.status, reading.count) == ("online", front.scenario.present(t3))
    row = camera_row(db, "cam-front")
    assert (row.failures, row.next_try_at, row.last_error, row.last_seen_at) == (0, None, None, t3)
    zone = zone_occupancy(db, t3, {})["front_intake"]
    assert not zone.stale and zone.count == front.scenario.present(t3)
    assert len(front.subscriptions) == 1


def test_slow_camera_times_out_and_old_figures_go_stale(
    db: Database, pool: CameraPool, front: CameraSimulator, clock: ManualClock
) -> None:
    poll_cameras(db, pool, clock())
    front.fail = "slow"
    front.slow_seconds = 30  # far beyond the 2 s timeout; stopping the camera cuts it short
    reading = by_camera(poll_cameras(db, pool, clock.advance(seconds=30)))["cam-front"]
    assert reading.status == "unreachable"
    assert "did not answer PullMessages within 2 s" in (reading.error or "")
    front.fail = None
    # Even an online camera's figure is stale once it is older than stale_after.
    door_zone = zone_occupancy(db, clock.advance(minutes=10), {})["public_affairs"]
    assert door_zone.stale


def test_wrong_password_marks_the_camera_unauthorized(
    db: Database, front: CameraSimulator, clock: ManualClock
) -> None:
    cameras = CameraPool([config_for(front, "cam-front", password="nope")], timeout=2.0,
                         retry_base=dt.timedelta(seconds=10), clock=clock)
    reading = by_camera(poll_cameras(db, cameras, clock()))["cam-front"]
    assert reading.status == "unauthorized"
    assert reading.error == (
        f"camera cam-front (127.0.0.1:{front.port}) rejected the user name or password"
    )
    assert reading.next_try_at == PEAK + dt.timedelta(seconds=10)
    zone = zone_occupancy(db, PEAK, {"front_intake": 10})["front_intake"]
    # Never counted: the zone falls back to the ticket estimate, flagged as such.
    assert zone.estimate and zone.stale and zone.count == estimate_people(10)
    cameras.close()


def test_zone_without_camera_gets_an_estimate_and_a_history(
    db: Database, pool: CameraPool, front: CameraSimulator, clock: ManualClock
) -> None:
    for waiting in (4, 10, 7):
        now = clock()
        poll_cameras(db, pool, now)
        recorded = record_estimates(db, now, {"front_intake": 99, "egov_experience": waiting})
        assert recorded == {"egov_experience": estimate_people(waiting)}  # front has a camera
        clock.advance(minutes=1)

    series = occupancy_series(db, "egov_experience", PEAK)
    assert [(p.count, p.source) for p in series] == [
        (estimate_people(4), "estimate"), (estimate_people(10), "estimate"),
        (estimate_people(7), "estimate"),
    ]
    front_series = occupancy_series(db, "front_intake", PEAK + dt.timedelta(seconds=30))
    assert [p.at for p in front_series] == [PEAK + dt.timedelta(minutes=1),
                                           PEAK + dt.timedelta(minutes=2)]
    assert all(p.source == "camera" for p in front_series)
    assert front_series[0].count == front.scenario.present(PEAK + dt.timedelta(minutes=1))

    zones = zone_occupancy(db, clock(), {"egov_experience": 5})
    assert zones["egov_experience"].estimate and zones["egov_experience"].count == 6
    assert not zones["front_intake"].estimate


def test_cameras_removed_from_the_config_leave_the_table_not_the_history(
    db: Database, pool: CameraPool, front: CameraSimulator
) -> None:
    poll_cameras(db, pool, PEAK)
    smaller = CameraPool([config_for(front, "cam-front")], timeout=2.0, clock=lambda: PEAK)
    readings = poll_cameras(db, smaller, PEAK + dt.timedelta(minutes=1))
    smaller.close()
    assert [r.camera for r in readings] == ["cam-front"]
    with db.read() as session:
        assert session.scalars(select(Camera.name)).all() == ["cam-front"]
        kept = session.scalar(select(func.count()).where(OccupancySample.camera_name == "cam-door"))
    assert kept == 1
    assert "public_affairs" not in zone_occupancy(db, PEAK, {})


def test_scheduled_job_polls_and_pushes_updates(
    db: Database, front: CameraSimulator, door: CameraSimulator, clock: ManualClock
) -> None:
    cameras = CameraPool([config_for(front, "cam-front")], timeout=2.0, subscription_seconds=60,
                         clock=clock)
    updates: list[list[CameraReading]] = []
    arrived = threading.Event()

    def on_update(readings: list[CameraReading]) -> None:
        updates.append(readings)
        arrived.set()

    scheduler = BackgroundScheduler(timezone="UTC")
    with pytest.raises(ValueError, match="poll at least twice"):
        register_jobs(scheduler, db, cameras, 30, on_update)
    job = register_jobs(scheduler, db, cameras, 1, on_update, clock=clock,
                        waiting_by_zone=lambda now: {"business": 2})
    assert job.id == "poll_cameras"
    scheduler.start()
    try:
        assert arrived.wait(timeout=30), "the camera job never reported"
    finally:
        scheduler.shutdown(wait=True)
        cameras.close()
    [reading] = updates[0]
    assert (reading.camera, reading.status, reading.count) == (
        "cam-front", "online", front.scenario.present(PEAK))
    assert reading.as_dict()["at"] == PEAK.isoformat()
    with db.read() as session:
        sources = set(session.scalars(select(OccupancySample.source)))
    assert sources == {"camera", "estimate"}


def test_the_job_survives_a_failing_update_callback(
    db: Database, front: CameraSimulator, clock: ManualClock
) -> None:
    cameras = CameraPool([config_for(front, "cam-front")], timeout=2.0, subscription_seconds=60,
                         clock=clock)
    calls: list[float] = []

    def broken(_readings: list[CameraReading]) -> None:
        calls.append(time.monotonic())
        raise RuntimeError("dashboard push failed")

    scheduler = BackgroundScheduler(timezone="UTC")
    register_jobs(scheduler, db, cameras, 0.5, broken, clock=clock)
    scheduler.start()
    try:
        deadline = time.monotonic() + 30
        while len(calls) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        scheduler.shutdown(wait=True)
        cameras.close()
    assert len(calls) >= 2
