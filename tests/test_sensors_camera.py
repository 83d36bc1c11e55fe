"""The ONVIF session (onvif-zeep-async) against the ONVIF camera simulator, over real HTTP."""

from __future__ import annotations

import datetime as dt
import re
import signal
import subprocess
import sys
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import requests
from lxml import etree

from sensors.camera import CameraLoop, CameraUnauthorized, CameraUnreachable, read_number
from sensors.config import CameraConfig
from sensors.onvif_camera import (
    LINE_COUNT_TOPIC,
    OCCUPANCY_TOPIC,
    OnvifCounter,
    parse_notifications,
)
from sensors.simulator import CameraSimulator
from tests.support.cameras import LUNCH, NIGHT, PEAK, ManualClock

T = TypeVar("T")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(PEAK)


@pytest.fixture(scope="module")
def loop() -> Iterator[CameraLoop]:
    camera_loop = CameraLoop()
    yield camera_loop
    camera_loop.close()


@pytest.fixture
def run(loop: CameraLoop) -> Any:
    """Run a session's coroutine on the camera loop and wait for it."""
    def call(coro: Coroutine[Any, Any, T]) -> T:
        return loop.run(coro, timeout=60)

    return call


@pytest.fixture
def sim(clock: ManualClock) -> Iterator[CameraSimulator]:
    with CameraSimulator("front_intake", user="admin", password="s3cret", clock=clock) as camera:
        yield camera


@pytest.fixture
def door(clock: ManualClock) -> Iterator[CameraSimulator]:
    with CameraSimulator("public_affairs", role="entrance", user="admin", password="d00r",
                         clock=clock) as camera:
        yield camera


@pytest.fixture
def counter(clock: ManualClock, loop: CameraLoop) -> Iterator[Callable[..., OnvifCounter]]:
    """Opens sessions with the simulators; each is closed (unsubscribed) after the test."""
    opened: list[OnvifCounter] = []

    def open_session(sim: CameraSimulator, *, password: str | None = None,
                     role: str = "occupancy", timeout: float = 3.0,
                     subscription_seconds: int = 300) -> OnvifCounter:
        config = CameraConfig(f"cam-{sim.zone}", sim.zone, "127.0.0.1", sim.port, sim.user,
                              password or sim.password, role=role)
        session = OnvifCounter(config, timeout=timeout, clock=clock,
                               subscription_seconds=subscription_seconds)
        opened.append(session)
        return session

    yield open_session
    for session in opened:
        loop.run(session.close(), timeout=30)


def test_connect_learns_services_clock_and_device(sim, clock, counter, run) -> None:
    camera = counter(sim)
    info = run(camera.connect())
    assert (info.manufacturer, info.serial) == ("hall-ops", sim.serial)
    assert camera.device is not None
    base = f"http://127.0.0.1:{sim.port}"
    assert camera.device.xaddrs["http://www.onvif.org/ver10/events/wsdl"] == \
        f"{base}/onvif/events_service"
    assert camera.clock_offset is not None and abs(camera.clock_offset) < 2
    # Nothing was subscribed just by connecting.
    assert sim.subscriptions == {}


def test_pull_point_counts_follow_the_crowd_scenario(sim, clock, counter, run) -> None:
    camera = counter(sim, subscription_seconds=6 * 3600)  # outlasts the morning
    seen = {}
    for label, moment in (("night", NIGHT), ("peak", PEAK), ("lunch", LUNCH)):
        clock.now = moment
        counts = run(camera.read_counts())
        assert counts.present == sim.scenario.present(moment)
        seen[label] = counts.present
    assert seen["peak"] > 0.8 * sim.scenario.capacity
    assert seen["peak"] > seen["lunch"] > seen["night"] == 0
    # The three readings came through one subscription: Initialized, then Changed.
    assert len(sim.subscriptions) == 1
    assert sim.requests.count("CreatePullPointSubscription") == 1


def test_pull_messages_carry_profile_m_topics(sim, door, counter, run) -> None:
    occupancy = counter(sim)
    run(occupancy.subscribe())
    [event] = run(occupancy.pull())
    assert (event.topic, event.source, event.rule, event.operation) == (
        OCCUPANCY_TOPIC, "VideoSource_1", "Occupancy", "Initialized")
    assert event.at == PEAK

    entrance = counter(door, role="entrance")
    run(entrance.subscribe())
    events = {e.rule: e for e in run(entrance.pull())}
    assert {e.topic for e in events.values()} == {LINE_COUNT_TOPIC}
    entered, exited = door.scenario.crossings(PEAK)
    assert (events["In"].count, events["Out"].count) == (entered, exited)
    assert run(entrance.pull()) == []  # nothing changed since; the counts stay
    counts = entrance.counts()
    assert (counts.entered, counts.exited, counts.present) == (entered, exited, entered - exited)


def test_subscription_is_renewed_before_it_expires(sim, clock, counter, run) -> None:
    camera = counter(sim, subscription_seconds=60)
    run(camera.read_counts())
    [subscription] = sim.subscriptions.values()
    assert subscription.expires == PEAK + dt.timedelta(seconds=60)
    renewals = sim.requests.count("Renew")

    clock.advance(seconds=20)  # 40 s left: more than half, no renewal
    run(camera.read_counts())
    assert sim.requests.count("Renew") == renewals

    clock.advance(seconds=20)  # 20 s left: renew
    run(camera.read_counts())
    assert sim.requests.count("Renew") == renewals + 1
    assert subscription.expires == clock.now + dt.timedelta(seconds=60)
    assert list(sim.subscriptions) == [subscription.id]


def test_a_forgotten_subscription_is_created_again(sim, clock, counter, run) -> None:
    camera = counter(sim, subscription_seconds=60)
    run(camera.read_counts())
    first = camera.subscription_address
    clock.advance(seconds=90)  # expired on the camera
    assert run(camera.read_counts()).present == sim.scenario.present(clock.now)
    assert camera.subscription_address != first

    sim.reboot()
    assert run(camera.read_counts()).present == sim.scenario.present(clock.now)
    assert len(sim.subscriptions) == 1


def test_close_unsubscribes(sim, clock, counter, run) -> None:
    camera = counter(sim)
    run(camera.read_counts())
    assert len(sim.subscriptions) == 1
    run(camera.close())
    assert sim.subscriptions == {}
    assert "Unsubscribe" in sim.requests


def test_wrong_password_is_a_clear_error(sim, clock, counter, run) -> None:
    camera = counter(sim, password="wrong")
    with pytest.raises(CameraUnauthorized) as excinfo:
        run(camera.read_counts())
    assert str(excinfo.value) == (
        f"camera cam-front_intake (127.0.0.1:{sim.port}) rejected the user name or password"
    )
    assert excinfo.value.__cause__ is None  # no library traceback attached
    assert sim.subscriptions == {}


def test_http_digest_cameras_refuse_a_wrong_password_with_401(clock, counter, run) -> None:
    with CameraSimulator("business", password="right", clock=clock, http_digest=True) as sim:
        assert run(counter(sim).read_counts()).present == sim.scenario.present(PEAK)
        with pytest.raises(CameraUnauthorized):
            run(counter(sim, password="wrong").read_counts())


def test_the_simulator_refuses_calls_without_ws_security(sim) -> None:
    envelope = (
        '<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" '
        'xmlns:tds="http://www.onvif.org/ver10/device/wsdl"><env:Body>'
        "<tds:GetDeviceInformation/></env:Body></env:Envelope>"
    )
    url = f"http://127.0.0.1:{sim.port}/onvif/device_service"
    headers = {"Content-Type": "application/soap+xml"}
    response = requests.post(url, data=envelope, headers=headers, timeout=3)
    assert response.status_code == 400
    assert "ter:NotAuthorized" in response.text
    # GetSystemDateAndTime is answered without credentials, as ONVIF allows.
    unauthenticated = envelope.replace("GetDeviceInformation", "GetSystemDateAndTime")
    response = requests.post(url, data=unauthenticated, headers=headers, timeout=3)
    assert response.status_code == 200 and "UTCDateTime" in response.text
    # The snapshot needs HTTP digest (the session itself never fetches images).
    snapshot = f"http://127.0.0.1:{sim.port}/onvif/snapshot/Profile_1.png"
    assert requests.get(snapshot, timeout=3).status_code == 401
    image = requests.get(snapshot, timeout=3, auth=requests.auth.HTTPDigestAuth("admin", "s3cret"))
    assert image.content == sim.snapshot


def test_a_silent_or_slow_camera_is_unreachable_not_a_crash(sim, clock, counter, run) -> None:
    camera = counter(sim, timeout=1.0)
    run(camera.read_counts())
    sim.fail = "drop"
    with pytest.raises(CameraUnreachable, match="is unreachable"):
        run(camera.read_counts())
    sim.fail = "slow"
    sim.slow_seconds = 30  # far beyond the timeout; stopping the camera cuts it short
    with pytest.raises(CameraUnreachable, match="did not answer PullMessages within 1 s"):
        run(camera.read_counts())
    sim.fail = None
    assert run(camera.read_counts()).present == sim.scenario.present(PEAK)
    assert len(sim.subscriptions) == 1  # an unreachable camera keeps its subscription


def test_nothing_listening_is_unreachable(clock, run) -> None:
    with CameraSimulator("business", clock=clock) as gone:
        port = gone.port
    config = CameraConfig("cam-gone", "business", "127.0.0.1", port, "admin", "admin")
    camera = OnvifCounter(config, timeout=2.0, clock=clock)
    with pytest.raises(CameraUnreachable, match=r"cam-gone .*connection refused"):
        run(camera.read_counts())
    run(camera.close())


def test_simulator_runs_as_a_command(run) -> None:
    command = [sys.executable, "-m", "sensors.simulator", "--port", "0", "--zone", "business",
               "--user", "admin", "--password", "x"]
    process = subprocess.Popen(command, cwd=Path(__file__).resolve().parent.parent,
                               stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)/onvif/device_service", banner)
        assert match, banner
        config = CameraConfig("cam-cli", "business", "127.0.0.1", int(match[1]), "admin", "x")
        camera = OnvifCounter(config, timeout=3.0)
        assert run(camera.connect()).model == "Counting camera simulator (occupancy)"
        present = run(camera.read_counts()).present
        assert present is not None and 0 <= present <= 2 * 25
        run(camera.close())
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0


def test_counts_are_read_the_way_cameras_write_them() -> None:
    assert [read_number(t) for t in ("17", " 17.0 ", "-3", "1e2", "17.5", "x", "", None,
                                     "nan", "inf")] == [17, 17, -3, 100, None, None, None, None,
                                                        None, None]
    envelope = etree.fromstring(
        b'<e xmlns:wsnt="http://docs.oasis-open.org/wsn/b-2" '
        b'xmlns:tt="http://www.onvif.org/ver10/schema" '
        b'xmlns:ns9="http://www.onvif.org/ver10/topics"><wsnt:NotificationMessage>'
        b"<wsnt:Topic>ns9:RuleEngine/CountAggregation/OccupancyCounter</wsnt:Topic>"
        b'<wsnt:Message><tt:Message PropertyOperation="Changed"><tt:Source>'
        b'<tt:SimpleItem Name="VideoSourceConfigurationToken" Value="VSC_2"/>'
        b'<tt:SimpleItem Name="RuleName" Value="Lobby"/></tt:Source><tt:Data>'
        b'<tt:SimpleItem Name="count" Value="8.0"/></tt:Data></tt:Message></wsnt:Message>'
        b"</wsnt:NotificationMessage></e>")
    [event] = parse_notifications(envelope).events
    assert (event.topic, event.source, event.rule, event.count, event.at) == (
        OCCUPANCY_TOPIC, "VSC_2", "Lobby", 8, None)
