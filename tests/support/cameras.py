"""Helpers for the camera tests: a hand-moved clock shared by the hall and its cameras."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sensors.config import CameraConfig
from sensors.poller import CameraPool, CameraReading

# 2026-11-25 is a Wednesday; the hall is in Asia/Shanghai (UTC+8).
PEAK = dt.datetime(2026, 11, 25, 2, 0)    # 10:00 local
LUNCH = dt.datetime(2026, 11, 25, 4, 45)  # 12:45 local
NIGHT = dt.datetime(2026, 11, 24, 23, 0)  # 07:00 local


class ManualClock:
    def __init__(self, now: dt.datetime = PEAK) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **kwargs: float) -> dt.datetime:
        self.now += dt.timedelta(**kwargs)
        return self.now


def config_for(sim, name: str = "cam-1", password: str | None = None, **extra) -> CameraConfig:
    """The configuration of a camera that is the simulator ``sim``."""
    return CameraConfig(name, sim.zone, "127.0.0.1", sim.port, sim.user,
                        password or sim.password, role=sim.role, **extra)


def pool_of(configs: Iterable[CameraConfig], clock: ManualClock, **options) -> CameraPool:
    """A pool on the test's clock, with short timeouts and back-offs."""
    settings = {"timeout": 2.0, "subscription_seconds": 120,
                "retry_base": dt.timedelta(seconds=1), "retry_max": dt.timedelta(seconds=2)}
    return CameraPool(configs, clock=clock, **{**settings, **options})


def by_camera(readings: list[CameraReading]) -> dict[str, CameraReading]:
    return {r.camera: r for r in readings}
