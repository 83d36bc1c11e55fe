"""The field findings of issue 11, one test (or a few) each, against the strict simulator.

Each docstring says what the code before this change did in the same test
(run on that code with this simulator). Everything goes through the poller, as
the hall runs it: real HTTP on loopback, a real database.
"""

from __future__ import annotations

import datetime as dt
import logging
import socket
from collections.abc import Iterator

import pytest
import requests

from hall_ops.db import Database
from sensors.config import CameraConfig
from sensors.poller import CameraPool, poll_cameras, zone_occupancy
from sensors.simulator import LINE_COUNT_TOPIC, OCCUPANCY_TOPIC, CameraSimulator, Rule
from sensors.status import reading_view
from tests.support.cameras import PEAK, ManualClock, by_camera, config_for, pool_of

LIBRARY_WORDS = ("NoneType", "tzinfo", "Duration", "zeep", "Traceback", "onvif", "aiohttp",
                 "Errno")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(PEAK)


@pytest.fixture
def pools() -> Iterator[list[CameraPool]]:
    made: list[CameraPool] = []
    yield made
    for pool in made:
        pool.close()


def polled(db: Database, pools: list[CameraPool], clock: ManualClock, *configs: CameraConfig,
           **options):
    pool = pool_of(configs, clock, **options)
    pools.append(pool)
    return pool


def test_1_event_calls_carry_ws_addressing_and_renew_keeps_one_subscription(
    db: Database, pools: list[CameraPool], clock: ManualClock
) -> None:
    """Finding 1. Before: onvif-zeep sent Renew without WS-Addressing; at 40 s the camera
    refused it (wsa:MessageAddressingHeaderRequired) and was marked 'offline'."""
    with CameraSimulator("front_intake", password="p", clock=clock) as sim:
        pool = polled(db, pools, clock, config_for(sim), subscription_seconds=60)
        for _ in range(4):  # 0, 20, 40, 60 s: renewed when less than 30 s were left
            reading = by_camera(poll_cameras(db, pool, clock()))["cam-1"]
            assert (reading.status, reading.count) == ("online", sim.scenario.present(clock()))
            clock.advance(seconds=20)
        assert sim.requests.count("Renew") >= 1
        assert sim.requests.count("CreatePullPointSubscription") == 1
        assert sim.requests.count("SetSynchronizationPoint") >= 1
        assert len(sim.subscriptions) == 1
        pool.close()
        assert sim.subscriptions == {}  # unsubscribed at shutdown


def test_2_advertised_addresses_are_rewritten_to_the_configured_host_and_port(
    db: Database, pools: list[CameraPool], clock: ManualClock
) -> None:
    """Finding 2. Before: the client followed the advertised 127.0.0.2:1 (NAT / another
    interface), got 'connection refused' and marked the camera offline."""
    with CameraSimulator("front_intake", password="p", clock=clock,
                         advertise="127.0.0.2:1") as sim:
        pool = polled(db, pools, clock, config_for(sim))
        reading = by_camera(poll_cameras(db, pool, clock()))["cam-1"]
        assert (reading.status, reading.count) == ("online", sim.scenario.present(PEAK))
        assert len(sim.subscriptions) == 1


def test_3_counts_are_keyed_by_video_source_and_rule(
    db: Database, pools: list[CameraPool], clock: ManualClock
) -> None:
    """Finding 3. Before: two sources with a rule "Area" (12 and 30 people) gave 30, and
    the line counter "Hall" overwrote the occupancy rule "Hall" (the zone got 30, not 42+5)."""
    rules = [Rule("VideoSource_1", "Area", OCCUPANCY_TOPIC, 12),
             Rule("VideoSource_2", "Area", OCCUPANCY_TOPIC, 30),
             Rule("VideoSource_1", "Hall", OCCUPANCY_TOPIC, 5),
             Rule("VideoSource_1", "Hall", LINE_COUNT_TOPIC, 900, kind="tt:LineCounting")]
    with CameraSimulator("front_intake", password="p", clock=clock, rules=rules) as sim:
        pool = polled(db, pools, clock, config_for(sim))
        assert by_camera(poll_cameras(db, pool, clock()))["cam-1"].count == 12 + 30 + 5


def test_3_the_config_chooses_occupancy_rules_and_a_video_source(
    db: Database, pools: list[CameraPool], clock: ManualClock
) -> None:
    """Finding 3. Before: overlapping areas were always added up (the zone got 15 + 40) and
    [[cameras]] refused occupancy_rules / video_source."""
    rules = [Rule("VideoSource_1", "Front", OCCUPANCY_TOPIC, 15),
             Rule("VideoSource_1", "Whole floor", OCCUPANCY_TOPIC, 40),
             Rule("VideoSource_2", "Front", OCCUPANCY_TOPIC, 7)]
    with CameraSimulator("front_intake", password="p", clock=clock, rules=rules) as sim:
        pool = polled(db, pools, clock,
                      config_for(sim, "front", occupancy_rules=("Front",)),
                      config_for(sim, "floor", occupancy_rules=("Whole floor",)),
                      config_for(sim, "front-2", occupancy_rules=("Front",),
                                 video_source="VideoSource_2"))
        readings = by_camera(poll_cameras(db, pool, clock()))
        assert {name: r.count for name, r in readings.items()} == \
            {"front": 15 + 7, "floor": 40, "front-2": 7}


def test_3_negative_occupancy_is_clamped_and_flagged(
    db: Database, pools: list[CameraPool], clock: ManualClock
) -> None:
    """Finding 3. Before: the camera's -3 went to the dashboard as -3 people."""
    rules = [Rule("VideoSource_1", "Hall", OCCUPANCY_TOPIC, -3)]
    with CameraSimulator("front_intake", password="p", clock=clock, rules=rules) as sim:
        pool = polled(db, pools, clock, config_for(sim))
        reading = by_camera(poll_cameras(db, pool, clock()))["cam-1"]
        assert (reading.count, reading.clamped) == (0, True)
        zone = zone_occupancy(db, clock(), {})["front_intake"]
        assert (zone.count, zone.clamped) == (0, True)


def test_3_rules_that_vanish_expire(
    db: Database, pools: list[CameraPool], clock: ManualClock
) -> None:
    """Finding 3. Before: a deleted rule kept its last count forever (the zone stayed at
    5 + 7 + 11 after two of the three rules were removed)."""
    rules = [Rule("VideoSource_1", name, OCCUPANCY_TOPIC, count)
             for name, count in (("A", 5), ("B", 7), ("C", 11))]
    with CameraSimulator("front_intake", password="p", clock=clock, rules=rules) as sim:
        pool = polled(db, pools, clock, config_for(sim), subscription_seconds=3600)
        assert by_camera(poll_cameras(db, pool, clock()))["cam-1"].count == 23
        sim.delete_rule("B")  # announced: a Deleted property message
        assert by_camera(poll_cameras(db, pool, clock.advance(seconds=10)))["cam-1"].count == 16
        sim.delete_rule("C", announce=False)  # gone without a word
        assert by_camera(poll_cameras(db, pool, clock.advance(seconds=10)))["cam-1"].count == 16
        # Every ten minutes the camera is asked to re-send every value; C is not among them.
        poll_cameras(db, pool, clock.advance(minutes=11))
        assert by_camera(poll_cameras(db, pool, clock.advance(seconds=10)))["cam-1"].count == 5


def _no_library_text(text: str | None) -> None:
    for word in LIBRARY_WORDS:
        assert word not in (text or ""), text


def test_4_an_incomplete_pull_messages_answer_is_read_and_a_truncated_one_is_garbled(
    db: Database, pools: list[CameraPool], clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Finding 4. Before: the reply without CurrentTime raised "'NoneType' object has no
    attribute 'tzinfo'" out of the session: a logged traceback, status 'offline', and that
    text in the camera's error on the dashboard."""
    with CameraSimulator("front_intake", password="p", clock=clock) as sim:
        pool = polled(db, pools, clock, config_for(sim))
        sim.garble = "no-times"
        reading = by_camera(poll_cameras(db, pool, clock()))["cam-1"]
        assert (reading.status, reading.count) == ("online", sim.scenario.present(PEAK))

        sim.garble = "truncated"
        reading = by_camera(poll_cameras(db, pool, clock.advance(minutes=1)))["cam-1"]
        assert reading.status == "garbled"
        assert reading.error == (f"camera cam-1 (127.0.0.1:{sim.port}) gave an unreadable "
                                 "answer to PullMessages")
        _no_library_text(reading.error)
        assert "error" not in reading_view(reading)  # the dashboard gets the status only
        assert not [r for r in caplog.records if r.exc_info]


def test_5_a_camera_whose_clock_is_off_is_reported_as_clock_not_password(
    db: Database, pools: list[CameraPool], clock: ManualClock
) -> None:
    """Finding 5 (clock). Before: a camera 2 h ahead that wants credentials even for
    GetSystemDateAndTime refused the token and was reported 'unauthorized' (wrong password)."""
    camera_clock = ManualClock(PEAK + dt.timedelta(hours=2))
    with CameraSimulator("front_intake", password="p", clock=camera_clock, max_skew=300,
                         time_needs_auth=True) as sim:
        pool = polled(db, pools, clock, config_for(sim))
        reading = by_camera(poll_cameras(db, pool, clock()))["cam-1"]
        assert reading.status == "clock"
        assert reading.clock_offset_s is not None and abs(reading.clock_offset_s - 7200) <= 2
        assert reading_view(reading)["clock_offset_s"] == reading.clock_offset_s


def test_5_a_camera_with_a_wrong_clock_that_still_answers_counts_and_is_flagged(
    db: Database, pools: list[CameraPool], clock: ManualClock
) -> None:
    """Finding 5 (clock). Before: the offset went unnoticed (status 'online'), though the
    camera's daily counters reset two hours early."""
    camera_clock = ManualClock(PEAK + dt.timedelta(hours=2))
    with CameraSimulator("front_intake", password="p", clock=camera_clock) as sim:
        pool = polled(db, pools, clock, config_for(sim))
        reading = by_camera(poll_cameras(db, pool, clock()))["cam-1"]
        assert reading.status == "clock"
        assert reading.count == sim.scenario.present(camera_clock())
        assert not zone_occupancy(db, clock(), {})["front_intake"].stale


def test_5_wrong_credentials_with_a_right_clock_are_wrong_credentials(
    db: Database, pools: list[CameraPool], clock: ManualClock
) -> None:
    """Finding 5, the other way round: a refused password is not blamed on the clock."""
    with CameraSimulator("front_intake", password="p", clock=clock, max_skew=300,
                         time_needs_auth=True, http_digest=True) as sim:
        pool = polled(db, pools, clock, config_for(sim, password="nope"))
        reading = by_camera(poll_cameras(db, pool, clock()))["cam-1"]
        assert reading.status == "unauthorized"
        assert sim.subscriptions == {}


def test_6_failed_pulls_leave_no_orphan_subscriptions(
    db: Database, pools: list[CameraPool], clock: ManualClock
) -> None:
    """Finding 6. Before: a poll whose PullMessages faulted subscribed again without ending
    the old subscription (after the first failed poll the camera held 3 subscriptions)."""
    with CameraSimulator("front_intake", password="p", clock=clock) as sim:
        pool = polled(db, pools, clock, config_for(sim))
        poll_cameras(db, pool, clock())
        sim.garble = "fault"
        for _ in range(3):
            reading = by_camera(poll_cameras(db, pool, clock.advance(seconds=10)))["cam-1"]
            assert reading.status == "garbled"
            assert len(sim.subscriptions) <= 1
        sim.garble = None
        reading = by_camera(poll_cameras(db, pool, clock.advance(seconds=10)))["cam-1"]
        assert reading.status == "online"
        assert len(sim.subscriptions) == 1


def test_7_demo_skips_a_simulator_whose_port_is_taken(
    hall_config, capsys: pytest.CaptureFixture[str]
) -> None:
    """Finding 7. Before: `./hall demo` died with "OSError: [Errno 98] Address already in
    use" when something (a real camera's emulator) already listened on a camera's port."""
    import contextlib
    import dataclasses

    from hall_web.__main__ import _start_camera_simulators

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    raw = {**hall_config.raw, "cameras": [
        {"name": "cam-real", "zone": "front_intake", "host": "127.0.0.1", "port": port,
         "user": "admin", "password": "x"}]}
    with contextlib.ExitStack() as stack, taken:
        _start_camera_simulators(dataclasses.replace(hall_config, raw=raw), stack)
    out = capsys.readouterr().out
    assert f"port {port} is taken" in out and "cam-real" in out


def test_8_counts_written_as_decimals_or_object_count_are_read_and_vendor_topics_logged_once(
    db: Database, pools: list[CameraPool], clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Finding 8. Before: Count="17.0" and ObjectCount items were skipped (the camera showed
    'no counting events yet') and the tnsaxis: topic vanished without a log line."""
    axis_topic = "tnsaxis:CameraApplicationPlatform/ObjectAnalytics/Device1Scenario1"
    rules = [Rule("VideoSource_1", "Front", OCCUPANCY_TOPIC, "17.0"),
             Rule("VideoSource_1", "Back", OCCUPANCY_TOPIC, 4, item="ObjectCount"),
             Rule("VideoSource_1", "Scenario 1", axis_topic,
                  lambda utc: utc.minute, item="total")]
    caplog.set_level(logging.INFO, logger="sensors")
    with CameraSimulator("front_intake", password="p", clock=clock, rules=rules) as sim:
        pool = polled(db, pools, clock, config_for(sim))
        assert by_camera(poll_cameras(db, pool, clock()))["cam-1"].count == 21
        assert by_camera(poll_cameras(db, pool, clock.advance(minutes=1)))["cam-1"].count == 21
    told = [r.getMessage() for r in caplog.records if axis_topic in r.getMessage()]
    assert len(told) == 1 and "not read" in told[0]


def _soap(operation: str, namespace: str, header: str = "") -> str:
    return ('<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
            'xmlns:wsa="http://www.w3.org/2005/08/addressing">'
            f"<s:Header>{header}</s:Header><s:Body><{operation} xmlns=\"{namespace}\"/>"
            "</s:Body></s:Envelope>")


def test_9_the_simulator_is_as_strict_as_the_specifications(clock: ManualClock) -> None:
    """Finding 9. Before: event calls without WS-Addressing were answered, there was no
    analytics service, GetServiceCapabilities / SetSynchronizationPoint / GetScopes got
    ActionNotSupported with HTTP 400, and HTTP digest was never asked for."""
    tev, tds = "http://www.onvif.org/ver10/events/wsdl", "http://www.onvif.org/ver10/device/wsdl"
    with CameraSimulator("front_intake", password="p", clock=clock, http_digest=True,
                         advertise="127.0.0.2:8999") as sim:
        base = f"http://127.0.0.1:{sim.port}"
        post = lambda path, body, **kw: requests.post(  # noqa: E731
            base + path, data=body, timeout=3,
            headers={"Content-Type": "application/soap+xml"}, **kw)
        # Without credentials: a Digest challenge; with HTTP digest, an answer.
        assert post("/onvif/device_service", _soap("GetScopes", tds)).status_code == 401
        digest = requests.auth.HTTPDigestAuth("admin", "p")
        scopes = post("/onvif/device_service", _soap("GetScopes", tds), auth=digest)
        assert scopes.status_code == 200 and "Profile/M" in scopes.text
        for path, ns in (("/onvif/device_service", tds), ("/onvif/events_service", tev),
                         ("/onvif/analytics_service", "http://www.onvif.org/ver20/analytics/wsdl"),
                         ("/onvif/media_service", "http://www.onvif.org/ver10/media/wsdl")):
            wsa = ("<wsa:Action>x</wsa:Action><wsa:MessageID>urn:uuid:1</wsa:MessageID>"
                   f"<wsa:To>{base}{path}</wsa:To>")
            answer = post(path, _soap("GetServiceCapabilities", ns, wsa), auth=digest)
            assert answer.status_code == 200 and "Capabilities" in answer.text, path
        # Event calls need WS-Addressing.
        bare = post("/onvif/events_service", _soap("GetEventProperties", tev), auth=digest)
        assert bare.status_code == 400 and "MessageAddressingHeaderRequired" in bare.text
        # The advertised address is the configured one, as behind NAT.
        services = post("/onvif/device_service", _soap("GetServices", tds))
        assert "http://127.0.0.2:8999/onvif/analytics_service" in services.text
        # Receiver faults are HTTP 500 (SOAP 1.2 HTTP binding).
        unknown = post("/onvif/device_service", _soap("SystemReboot", tds), auth=digest)
        assert unknown.status_code == 500 and "ActionNotSupported" in unknown.text
