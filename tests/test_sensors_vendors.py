"""Hikvision, Dahua and Axis counting through their own HTTP APIs, against simulators built
from the vendors' documents (see ``sensors.vendor_sim``), polled as the hall polls.

Finding 8: before, these cameras (most of what halls buy) could only be asked over ONVIF
events, which they do not use for counting, and showed "no counting events yet"."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest

from hall_ops.db import Database
from sensors.config import parse_cameras
from sensors.poller import CameraPool, poll_cameras
from sensors.vendor_sim import VendorCameraSimulator
from tests.support.cameras import PEAK, ManualClock, by_camera

ZONES = {"front_intake", "public_affairs", "business", "egov_experience", "back_approval"}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(PEAK)


@pytest.fixture
def pools() -> Iterator[list[CameraPool]]:
    made: list[CameraPool] = []
    yield made
    for pool in made:
        pool.close()


def poll(db: Database, pools: list[CameraPool], clock: ManualClock,
         *entries: dict[str, object]) -> dict:
    """One poll of cameras written as [[cameras]] entries (the documented config keys)."""
    configs = parse_cameras({"cameras": list(entries)}, ZONES)
    pool = CameraPool(configs, timeout=2.0, clock=clock, timezone=ZoneInfo("Asia/Shanghai"))
    pools.append(pool)
    return by_camera(poll_cameras(db, pool, clock()))


def entry(sim: VendorCameraSimulator, name: str, **extra: object) -> dict[str, object]:
    return {"name": name, "zone": sim.zone, "kind": sim.kind, "host": "127.0.0.1",
            "port": sim.port, "user": "admin", "password": "pw", "role": sim.role, **extra}


def test_door_counters_of_each_family_report_today_s_crossings(
    db: Database, pools: list[CameraPool], clock: ManualClock
) -> None:
    sims = [VendorCameraSimulator(kind, "public_affairs", password="pw", clock=clock)
            for kind in ("hikvision", "dahua", "axis")]
    for sim in sims:
        sim.start()
    try:
        readings = poll(db, pools, clock, *(entry(s, f"cam-{s.kind}") for s in sims))
    finally:
        for sim in sims:
            sim.stop()
    entered, exited = sims[0].scenario.crossings(PEAK)
    for sim in sims:
        reading = readings[f"cam-{sim.kind}"]
        assert (reading.status, reading.entered, reading.exited, reading.count) == (
            "online", entered, exited, entered - exited), sim.kind
    assert sims[0].requests == ["POST /ISAPI/System/Video/inputs/channels/1/counting/search"]
    assert sims[1].requests == ["GET /cgi-bin/videoStatServer.cgi"]
    assert sims[2].requests == ["GET /local/tvpc/.api"]


def test_a_dahua_area_rule_reports_the_people_inside(
    db: Database, pools: list[CameraPool], clock: ManualClock
) -> None:
    with VendorCameraSimulator("dahua", "front_intake", role="occupancy", password="pw",
                               clock=clock, channel=2) as sim:
        reading = poll(db, pools, clock, entry(sim, "cam-area", channel=2))["cam-area"]
    assert (reading.status, reading.count) == ("online", sim.scenario.present(PEAK))


@pytest.mark.parametrize("kind", ["hikvision", "dahua", "axis"])
def test_statuses_of_vendor_cameras(db: Database, pools: list[CameraPool], clock: ManualClock,
                                    kind: str) -> None:
    with VendorCameraSimulator(kind, "business", password="pw", clock=clock) as sim:
        wrong = poll(db, pools, clock, {**entry(sim, "c1"), "password": "nope"})["c1"]
        assert wrong.status == "unauthorized"
        sim.counting = False
        assert poll(db, pools, clock, entry(sim, "c2"))["c2"].status == "no_analytics"
        sim.counting = True
        sim.clock = ManualClock(PEAK + dt.timedelta(hours=2))
        late = poll(db, pools, clock, entry(sim, "c3"))["c3"]
        assert (late.status, late.clock_offset_s) == ("clock", 7200)
        assert late.count is not None
        stopped = entry(sim, "c4")
    gone = poll(db, pools, clock, stopped)["c4"]  # the camera is off now
    assert gone.status == "unreachable"
