"""What every counting camera gives the hall, whatever its make, and what can go wrong.

Only counts are read: people present, and for door counters the crossings
today. No frame, face or track ever leaves a camera through this package.

A camera session (:class:`CountingCamera`) is asynchronous: every camera
speaks HTTP through aiohttp on one :class:`CameraLoop` (an asyncio loop on its
own thread), so the scheduler's worker threads hand it work and wait, and many
cameras are polled at once without a thread each.

Failures come out as :class:`CameraError` subclasses, one per status a hall
manager can act on (``status``); their messages are our own sentences, never a
library's exception text (that goes to the server log only).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import threading
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, TypeVar
from zoneinfo import ZoneInfo

from hall_ops.clock import Clock, system_clock
from sensors.config import CameraConfig

T = TypeVar("T")
UTC_ZONE = ZoneInfo("UTC")

ONLINE = "online"
NO_ANALYTICS = "no_analytics"
UNAUTHORIZED = "unauthorized"
CLOCK = "clock"
UNREACHABLE = "unreachable"
GARBLED = "garbled"
UNKNOWN = "unknown"
STATUSES = (UNKNOWN, ONLINE, NO_ANALYTICS, UNAUTHORIZED, CLOCK, UNREACHABLE, GARBLED)
"""What the dashboard says about a camera: online · no counting analytics · wrong
credentials · clock off by N s · unreachable · answers garbled (unknown: not asked yet)."""
COUNTING = (ONLINE, CLOCK)
"""Statuses whose counts are current (a camera whose clock is off still counts)."""


class CameraError(Exception):
    """Something went wrong with a camera; the message names the camera."""

    status: ClassVar[str] = GARBLED


class CameraUnreachable(CameraError):
    """No answer: wrong address, camera off, network down, or too slow."""

    status = UNREACHABLE


class CameraUnauthorized(CameraError):
    """The camera refused the configured user name and password."""

    status = UNAUTHORIZED


class CameraClockOff(CameraError):
    """The camera refused us, and its clock is far from ours: the likely reason."""

    status = CLOCK

    def __init__(self, message: str, offset_seconds: float) -> None:
        super().__init__(message)
        self.offset_seconds = offset_seconds


class CameraNoAnalytics(CameraError):
    """The camera answers but offers no people counting (a plain video camera)."""

    status = NO_ANALYTICS


class CameraGarbled(CameraError):
    """The camera answered, but not with what a counting camera should."""

    status = GARBLED


@dataclass(frozen=True)
class Counts:
    """What a camera says now: people present, and for door counters the crossings today.

    ``clamped``: the camera reported fewer than nobody and the figure was
    raised to zero. ``clock_offset``: the camera's clock minus ours, seconds.
    """

    present: int | None
    entered: int | None = None
    exited: int | None = None
    at: dt.datetime | None = None
    clamped: bool = False
    clock_offset: float | None = None


class CountingCamera(Protocol):
    """One camera session; methods run on the :class:`CameraLoop`."""

    config: CameraConfig

    @property
    def label(self) -> str: ...

    async def read_counts(self) -> Counts: ...

    async def close(self) -> None: ...


def label(config: CameraConfig) -> str:
    return f"camera {config.name} ({config.host}:{config.port})"


def read_number(text: str | None) -> int | None:
    """A count as cameras write it: "17", "17.0", " 17 " → 17; anything else → None."""
    if text is None:
        return None
    try:
        value = float(text.strip())
    except ValueError:
        return None
    if value != value or value in (float("inf"), float("-inf")) or value != round(value):
        return None
    return int(value)


def offset_from_date_header(headers: Mapping[str, str], now: dt.datetime) -> float | None:
    """The camera's clock minus ours (naive UTC ``now``) from an HTTP Date header, if any."""
    value = headers.get("Date")
    if not value:
        return None
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        return None
    return (moment.astimezone(dt.UTC).replace(tzinfo=None) - now).total_seconds()


def door_counts(entered: int, exited: int, at: dt.datetime | None,
                clock_offset: float | None) -> Counts:
    """A door counter's figure: in minus out, never below zero (flagged when raised)."""
    present = entered - exited
    return Counts(max(present, 0), entered, exited, at, clamped=present < 0,
                  clock_offset=clock_offset)


class CameraLoop:
    """An asyncio event loop on a daemon thread: where every camera session runs."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="camera-loop",
                                        daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coro`` on the loop and wait for its result (from any other thread)."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def close(self) -> None:
        if self._loop.is_closed():
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()


def open_camera(config: CameraConfig, *, timeout: float, clock: Clock = system_clock,
                subscription_seconds: int = 300, clock_tolerance: float = 120.0,
                timezone: ZoneInfo = UTC_ZONE) -> CountingCamera:
    """The session for a camera of any supported kind (nothing is sent yet)."""
    from sensors import vendors
    from sensors.onvif_camera import OnvifCounter

    if config.kind == "onvif":
        return OnvifCounter(config, timeout=timeout, clock=clock, clock_tolerance=clock_tolerance,
                            subscription_seconds=subscription_seconds)
    return vendors.ADAPTERS[config.kind](config, timeout=timeout, clock=clock, timezone=timezone)
