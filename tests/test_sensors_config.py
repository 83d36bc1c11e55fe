"""The [[cameras]] section of config.toml, and the crowd the simulated cameras see."""

from __future__ import annotations

import datetime as dt
import textwrap
import tomllib
from zoneinfo import ZoneInfo

import pytest

import sensors.config
from hall_ops.config import ConfigError
from sensors.config import (
    CameraConfig,
    CameraConfigError,
    SensorSettings,
    parse_cameras,
    parse_sensors,
)
from sensors.scenario import CrowdScenario, crowd_share

ZONES = {"front_intake", "back_approval", "public_affairs", "egov_experience", "business"}
SHANGHAI = ZoneInfo("Asia/Shanghai")


def documented_example() -> str:
    """The TOML block of sensors.config's docstring: the documented format must parse."""
    doc = sensors.config.__doc__ or ""
    block = doc.split("::\n", 1)[1]
    lines = []
    for line in block.splitlines()[1:]:
        if line.strip() and not line.startswith("    "):
            break
        lines.append(line)
    return textwrap.dedent("\n".join(lines))


def test_the_documented_example_parses() -> None:
    raw = tomllib.loads(documented_example())
    cameras = parse_cameras(raw, ZONES)
    assert cameras == (
        CameraConfig("cam-front-1", "front_intake", "127.0.0.1", 8081, "admin", "change-me",
                     "occupancy", occupancy_rules=("Hall",)),
        CameraConfig("cam-public-door", "public_affairs", "127.0.0.1", 8082, "admin", "change-me",
                     "entrance", "In", "Out", video_source="VideoSource_1"),
        CameraConfig("cam-hik-door", "business", "127.0.0.1", 8083, "admin", "change-me",
                     "entrance", kind="hikvision", channel=1),
    )
    assert "change-me" not in repr(cameras[0])  # passwords stay out of logs
    assert parse_sensors(raw) == SensorSettings(10, 5, 120)


def test_the_shipped_config_parses() -> None:
    from tests.conftest import ROOT

    raw = tomllib.loads((ROOT / "config.toml").read_text())
    assert parse_cameras(raw, ZONES) and parse_sensors(raw).poll_seconds > 0


def test_no_cameras_section_means_no_cameras() -> None:
    assert parse_cameras({"hall": {}}) == ()


def test_defaults() -> None:
    [camera] = parse_cameras({"cameras": [
        {"name": "c", "zone": "business", "host": "10.0.0.9", "user": "u", "password": "p"},
    ]}, ZONES)
    assert (camera.port, camera.role, camera.in_rule, camera.out_rule) == (
        80, "occupancy", "In", "Out")


BASE = {"name": "cam-1", "zone": "business", "host": "h", "port": 80, "user": "u", "password": "p"}


@pytest.mark.parametrize(("change", "message"), [
    ({"zone": "lobby"}, "cameras[0] (cam-1): unknown zone 'lobby'"),
    ({"role": "ptz"}, "role must be one of ('occupancy', 'entrance'), got 'ptz'"),
    ({"port": 70000}, "'port' must be a number from 1 to 65535"),
    ({"port": "80"}, "'port' must be a number from 1 to 65535"),
    ({"host": ""}, "'host' must be a non-empty string"),
    ({"password": None}, "missing 'password'"),
    ({"name": "front camera"}, "name may use letters, digits"),
    ({"pasword": "x"}, "unknown key(s) ['pasword']"),
    ({"in_rule": "A"}, "in_rule/out_rule only apply to role = 'entrance'"),
    ({"role": "entrance", "in_rule": "X", "out_rule": "X"}, "in_rule and out_rule must differ"),
    ({"kind": "sony"}, "kind must be one of ('onvif', 'hikvision', 'dahua', 'axis')"),
    ({"kind": "dahua", "occupancy_rules": ["A"]}, "['occupancy_rules'] only apply to kind"),
    ({"kind": "hikvision"}, "Hikvision people counting reports crossings"),
    ({"channel": 2}, "'channel' only applies to the vendor HTTP APIs"),
    ({"kind": "axis", "channel": 0}, "'channel' must be a number from 1 to 256"),
    ({"occupancy_rules": "Hall"}, "'occupancy_rules' must be a list of rule names"),
    ({"occupancy_rules": ["A", "A"]}, "'occupancy_rules' names a rule twice"),
    ({"role": "entrance", "occupancy_rules": ["A"]}, "occupancy_rules only apply to role"),
    ({"rewrite_addresses": "yes"}, "'rewrite_addresses' must be true or false"),
    ({"video_source": ""}, "'video_source' must be a non-empty string"),
])
def test_clear_errors(change: dict[str, object], message: str) -> None:
    entry = {k: v for k, v in {**BASE, **change}.items() if v is not None}
    with pytest.raises(CameraConfigError) as excinfo:
        parse_cameras({"cameras": [entry]}, ZONES)
    assert message in str(excinfo.value)
    assert isinstance(excinfo.value, ConfigError)


@pytest.mark.parametrize(("section", "message"), [
    ({"poll_second": 5}, "sensors: unknown key(s) ['poll_second']"),
    ({"poll_seconds": 0}, "'poll_seconds' must be a number from 0.1 to 3600"),
    ({"timeout_seconds": True}, "'timeout_seconds' must be a number"),
    ({"clock_tolerance_seconds": "2"}, "'clock_tolerance_seconds' must be a number"),
])
def test_the_sensors_table_is_strict(section: dict[str, object], message: str) -> None:
    with pytest.raises(CameraConfigError) as excinfo:
        parse_sensors({"sensors": section})
    assert message in str(excinfo.value)
    assert parse_sensors({}) == SensorSettings()


def test_duplicate_names_and_wrong_shape() -> None:
    with pytest.raises(CameraConfigError, match=r"duplicate name\(s\) \['cam-1'\]"):
        parse_cameras({"cameras": [BASE, {**BASE, "zone": "front_intake"}]}, ZONES)
    with pytest.raises(CameraConfigError, match=r"\[\[cameras\]\]"):
        parse_cameras({"cameras": {"name": "x"}})


def local(hour: int, minute: int = 0) -> dt.datetime:
    """Naive UTC for a hall-local time on a Wednesday."""
    moment = dt.datetime(2026, 11, 25, hour, minute, tzinfo=SHANGHAI)
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def test_crowd_curve_has_a_morning_peak_a_lunch_dip_and_an_afternoon_bump() -> None:
    assert crowd_share(7.0) == 0 and crowd_share(19.0) == 0
    peak = min(crowd_share(h / 10) for h in range(95, 106))
    lunch = max(crowd_share(h / 10) for h in range(125, 131))
    afternoon = crowd_share(15.0)
    assert peak >= 0.8 and lunch <= 0.3 and afternoon > lunch + 0.3 and afternoon < peak


def test_scenario_scales_with_capacity_and_stays_close_to_the_curve() -> None:
    small = CrowdScenario.for_zone("business", SHANGHAI)
    large = CrowdScenario.for_zone("front_intake", SHANGHAI)
    assert large.expected(local(10)) == pytest.approx(large.capacity * crowd_share(10))
    assert large.expected(local(10)) > small.expected(local(10))
    readings = [large.present(local(10, m)) for m in range(60)]
    assert all(abs(r - large.expected(local(10, m))) <= 0.2 * large.capacity
               for m, r in enumerate(readings))
    assert len(set(readings)) > 1  # a little noise
    assert large.present(local(10, 5)) == large.present(local(10, 5) + dt.timedelta(seconds=40))


def test_door_counts_only_go_up_and_balance_with_the_crowd() -> None:
    door = CrowdScenario.for_zone("public_affairs", SHANGHAI)
    previous = (0, 0)
    for minute in range(8 * 60, 18 * 60 + 1, 15):
        entered, exited = door.crossings(local(minute // 60, minute % 60))
        assert entered >= previous[0] and exited >= previous[1]
        assert abs((entered - exited) - door.expected(local(minute // 60, minute % 60))) <= 1
        previous = (entered, exited)
    assert door.crossings(local(7)) == (0, 0)
    assert previous[0] == previous[1] > door.capacity  # everyone left by evening
