"""The onvif-zeep client against the ONVIF camera simulator, over real HTTP on loopback."""

from __future__ import annotations

import datetime as dt
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from sensors.camera import (
    LINE_COUNT_TOPIC,
    OCCUPANCY_TOPIC,
    CameraUnauthorized,
    CameraUnreachable,
    OnvifCounter,
)
from sensors.config import CameraConfig
from sensors.simulator import CameraSimulator

# 2026-11-25 is a Wednesday; the hall is in Asia/Shanghai (UTC+8).
PEAK = dt.datetime(2026, 11, 25, 2, 0)    # 10:00 local
LUNCH = dt.datetime(2026, 11, 25, 4, 45)  # 12:45 local
NIGHT = dt.datetime(2026, 11, 24, 23, 0)  # 07:00 local


class ManualClock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += dt.timedelta(**kwargs)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(PEAK)


@pytest.fixture
def sim(clock: ManualClock) -> Iterator[CameraSimulator]:
    with CameraSimulator("front_intake", user="admin", password="s3cret", clock=clock) as camera:
        yield camera


@pytest.fixture
def door(clock: ManualClock) -> Iterator[CameraSimulator]:
    with CameraSimulator("public_affairs", role="entrance", user="admin", password="d00r",
                         clock=clock) as camera:
        yield camera


def counter(sim: CameraSimulator, *, password: str | None = None, role: str = "occupancy",
            timeout: float = 3.0, subscription_seconds: int = 300) -> OnvifCounter:
    config = CameraConfig(f"cam-{sim.zone}", sim.zone, "127.0.0.1", sim.port, sim.user,
                          password or sim.password, role=role)
    return OnvifCounter(config, timeout=timeout, subscription_seconds=subscription_seconds)


def test_device_information_capabilities_and_services(sim: CameraSimulator) -> None:
    camera = counter(sim)
    info = camera.connect()
    assert info.manufacturer == "hall-ops"
    assert info.serial == sim.serial
    base = f"http://127.0.0.1:{sim.port}"
    assert camera.capabilities() == {
        "Device": f"{base}/onvif/device_service",
        "Events": f"{base}/onvif/events_service",
        "Media": f"{base}/onvif/media_service",
    }
    services = camera.services()
    assert services["http://www.onvif.org/ver10/events/wsdl"] == f"{base}/onvif/events_service"
    assert services["http://www.onvif.org/ver10/media/wsdl"] == f"{base}/onvif/media_service"
    # The camera's clock as ONVIF reports it (UTC and hall-local).
    assert camera.device is not None
    clock_reply = camera.device.devicemgmt.GetSystemDateAndTime()
    assert (clock_reply.UTCDateTime.Time.Hour, clock_reply.LocalDateTime.Time.Hour) == (2, 10)
    assert clock_reply.TimeZone.TZ == "CST-8"


def test_profiles_snapshot_uri_and_snapshot_bytes(sim: CameraSimulator) -> None:
    camera = counter(sim)
    profiles = camera.profiles()
    assert [(p.token, p.width, p.height) for p in profiles] == [("Profile_1", 1920, 1080)]
    uri = camera.snapshot_uri("Profile_1")
    assert uri == f"http://127.0.0.1:{sim.port}/onvif/snapshot/Profile_1.png"
    # The URI alone is not enough: the camera wants HTTP digest credentials.
    assert requests.get(uri, timeout=3).status_code == 401
    content_type, image = camera.snapshot()
    assert content_type == "image/png"
    assert image.startswith(b"\x89PNG\r\n\x1a\n") and image == sim.snapshot


def test_event_properties_announce_the_counting_topic(sim: CameraSimulator) -> None:
    camera = counter(sim)
    camera.connect()
    assert camera.device is not None
    properties = camera.device.events.GetEventProperties()
    topic_set = properties.TopicSet._value_1[0]
    assert topic_set.tag == "{http://www.onvif.org/ver10/topics}RuleEngine"
    assert topic_set.find("CountAggregation/OccupancyCounter") is not None


def test_pull_point_counts_follow_the_crowd_scenario(
    sim: CameraSimulator, clock: ManualClock
) -> None:
    camera = counter(sim, subscription_seconds=6 * 3600)  # outlasts the morning
    seen = {}
    for label, moment in (("night", NIGHT), ("peak", PEAK), ("lunch", LUNCH)):
        clock.now = moment
        counts = camera.read_counts()
        assert counts.present == sim.scenario.present(moment)
        seen[label] = counts.present
    assert seen["peak"] > 0.8 * sim.scenario.capacity
    assert seen["peak"] > seen["lunch"] > seen["night"] == 0
    # The three readings came through one subscription: Initialized, then Changed.
    assert len(sim.subscriptions) == 1
    assert sim.requests.count("CreatePullPointSubscription") == 1


def test_pull_messages_carry_profile_m_topics(sim: CameraSimulator, door: CameraSimulator) -> None:
    occupancy = counter(sim)
    occupancy.subscribe()
    [event] = occupancy.pull()
    assert (event.topic, event.rule, event.operation) == (
        OCCUPANCY_TOPIC, "Occupancy", "Initialized")
    assert event.at == PEAK

    entrance = counter(door, role="entrance")
    entrance.subscribe()
    events = {e.rule: e for e in entrance.pull()}
    assert {e.topic for e in events.values()} == {LINE_COUNT_TOPIC}
    entered, exited = door.scenario.crossings(PEAK)
    assert (events["In"].count, events["Out"].count) == (entered, exited)
    # Nothing changed since: the next pull is empty, the counts stay.
    assert entrance.pull() == []
    counts = entrance.counts()
    assert (counts.entered, counts.exited, counts.present) == (entered, exited, entered - exited)
    assert counts.present is not None
    assert abs(counts.present - door.scenario.expected(PEAK)) <= 2


def test_subscription_is_renewed_before_it_expires(
    sim: CameraSimulator, clock: ManualClock
) -> None:
    camera = counter(sim, subscription_seconds=60)
    camera.read_counts()
    [subscription] = sim.subscriptions.values()
    assert subscription.expires == PEAK + dt.timedelta(seconds=60)
    renewals = sim.requests.count("Renew")

    clock.advance(seconds=20)  # 40 s left: more than half, no renewal
    camera.read_counts()
    assert sim.requests.count("Renew") == renewals

    clock.advance(seconds=20)  # 20 s left: renew
    camera.read_counts()
    assert sim.requests.count("Renew") == renewals + 1
    assert subscription.expires == clock.now + dt.timedelta(seconds=60)
    assert camera.subscription_left == dt.timedelta(seconds=60)
    assert list(sim.subscriptions) == [subscription.id]


def test_a_forgotten_subscription_is_created_again(
    sim: CameraSimulator, clock: ManualClock
) -> None:
    camera = counter(sim, subscription_seconds=60)
    camera.read_counts()
    first = camera.subscription_address
    clock.advance(seconds=90)  # expired on the camera
    assert camera.read_counts().present == sim.scenario.present(clock.now)
    assert camera.subscription_address != first

    sim.reboot()
    assert camera.read_counts().present == sim.scenario.present(clock.now)
    assert len(sim.subscriptions) == 1


def test_close_unsubscribes(sim: CameraSimulator) -> None:
    camera = counter(sim)
    camera.read_counts()
    assert len(sim.subscriptions) == 1
    camera.close()
    assert sim.subscriptions == {}
    assert "Unsubscribe" in sim.requests


def test_wrong_password_is_a_clear_error(sim: CameraSimulator) -> None:
    camera = counter(sim, password="wrong")
    with pytest.raises(CameraUnauthorized) as excinfo:
        camera.read_counts()
    assert str(excinfo.value) == (
        f"camera cam-front_intake (127.0.0.1:{sim.port}) rejected the user name or password"
    )
    assert excinfo.value.__cause__ is None  # no zeep traceback attached
    assert sim.subscriptions == {}


def test_the_simulator_refuses_calls_without_ws_security(sim: CameraSimulator) -> None:
    envelope = (
        '<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" '
        'xmlns:tds="http://www.onvif.org/ver10/device/wsdl"><env:Body>'
        "<tds:GetDeviceInformation/></env:Body></env:Envelope>"
    )
    response = requests.post(f"http://127.0.0.1:{sim.port}/onvif/device_service", data=envelope,
                             headers={"Content-Type": "application/soap+xml"}, timeout=3)
    assert response.status_code == 400
    assert "ter:NotAuthorized" in response.text
    # GetSystemDateAndTime is answered without credentials, as ONVIF allows.
    unauthenticated = envelope.replace("GetDeviceInformation", "GetSystemDateAndTime")
    response = requests.post(f"http://127.0.0.1:{sim.port}/onvif/device_service",
                             data=unauthenticated, timeout=3,
                             headers={"Content-Type": "application/soap+xml"})
    assert response.status_code == 200 and "UTCDateTime" in response.text


def test_a_silent_or_slow_camera_is_unreachable_not_a_crash(sim: CameraSimulator) -> None:
    camera = counter(sim, timeout=2.0)
    camera.read_counts()
    sim.fail = "drop"
    with pytest.raises(CameraUnreachable, match="is unreachable"):
        camera.read_counts()
    sim.fail = "slow"
    sim.slow_seconds = 30  # far beyond the timeout; stopping the camera cuts it short
    with pytest.raises(CameraUnreachable, match="did not answer PullMessages within 2 s"):
        camera.read_counts()
    sim.fail = None
    assert camera.read_counts().present == sim.scenario.present(PEAK)


def test_nothing_listening_is_unreachable(clock: ManualClock) -> None:
    with CameraSimulator("business", clock=clock) as gone:
        port = gone.port
    config = CameraConfig("cam-gone", "business", "127.0.0.1", port, "admin", "admin")
    with pytest.raises(CameraUnreachable, match="cam-gone"):
        OnvifCounter(config, timeout=2.0).read_counts()


def test_simulator_runs_as_a_command() -> None:
    command = [sys.executable, "-m", "sensors.simulator", "--port", "0", "--zone", "business",
               "--user", "admin", "--password", "x", "--offset-minutes", "-90"]
    process = subprocess.Popen(command, cwd=Path(__file__).resolve().parent.parent,
                               stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)/onvif/device_service", banner)
        assert match, banner
        config = CameraConfig("cam-cli", "business", "127.0.0.1", int(match[1]), "admin", "x")
        camera = OnvifCounter(config, timeout=3.0)
        assert camera.connect().model == "Counting camera simulator (occupancy)"
        present = camera.read_counts().present
        assert present is not None and 0 <= present <= 2 * 25
        camera.close()
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0


def test_connecting_long_before_subscribing_still_subscribes(
    sim: CameraSimulator, clock: ManualClock
) -> None:
    camera = counter(sim)
    camera.connect()  # onvif-zeep opened a subscription with the camera's default 60 s
    clock.advance(minutes=5)
    assert camera.read_counts().present == sim.scenario.present(clock.now)
    assert len(sim.subscriptions) == 1
