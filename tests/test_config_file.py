"""config.toml is checked whole at start: a wrong key or type in any section stops the
start with a message naming it (issue 8), before any request could trip over it."""

from __future__ import annotations

import tomllib

import pytest

from hall_ops.config import ConfigError, load_config, parse_config
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def raw() -> dict:
    return tomllib.loads((ROOT / "config.toml").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("section", "value", "named"),
    [
        ("sensors", {"poll_seconds": "10"}, "[sensors] poll_seconds"),
        ("sensors", {"poll_secs": 10}, "[sensors] poll_secs: unknown key"),
        ("approval", {"max_attempts": 2.5}, "[approval] max_attempts"),
        ("approval", {"webhooks": [{"department": "swj", "url": "http://127.0.0.1:1/x"}]},
         "[approval] webhooks[0].secret"),
        ("intake", {"warning_fraction": "0.8"}, "[intake] warning_fraction"),
        ("calendar", {"holidays": ["soon"]}, "[calendar] holidays[0]"),
        ("catalogue", {"path": 7}, "[catalogue] path"),
        ("security", {"idle_minutes": "30"}, "[security] idle_minutes"),
        ("security", {"lockout": 15}, "[security] lockout: unknown key"),
        ("dashboard", {"chart_hours": 48}, "[dashboard] chart_hours"),
        ("server", {"port": 70000}, "[server] port"),
        ("queue", {"recent_calls_shown": "8"}, "[queue] recent_calls_shown"),
        ("hall", {"name_zh": "大厅", "timezone": 8}, "[hall] timezone"),
        ("database", {"uri": "sqlite://"}, "[database] uri: unknown key"),
        ("reports", {}, "[reports]: unknown key"),
        ("database", {"upgrade": "yes"}, "[database] upgrade"),
        ("jobs", {"lock_seconds": 0}, "[jobs] lock_seconds"),
        ("notices", {"email": {"host": "127.0.0.1"}}, "[notices] email.sender"),
        ("notices", {"sms": {"endpoint": "x"}, "interval_seconds": 30},
         "[notices] sms.access_key_id"),
        ("notices", {"email": {"host": "h", "sender": "s", "tls": True}},
         "[notices] email.tls: unknown key"),
        ("clerks", [{"id": "c01", "name": "王芳", "pin_hash": "x"}], "clerks[0] pin_hash"),
        ("evaluation", {"rectify_working_days": 0}, "[evaluation] rectify_working_days"),
        ("evaluation", {"public_url": "hall.example.gov"}, "[evaluation] public_url"),
        ("evaluation", {"platform": {"url": "https://p.example.gov"}},
         "[evaluation] platform.secret"),
        ("evaluation", {"department_managers": {"bdc": 7}},
         "[evaluation] department_managers.bdc"),
    ],
)
def test_a_wrong_key_or_type_names_it(raw, section, value, named):
    with pytest.raises(ConfigError) as err:
        parse_config({**raw, section: value}, ROOT)
    assert named in str(err.value)


def test_entries_of_arrays_are_named(raw):
    windows = [dict(w) for w in raw["windows"]]
    windows[2]["number"] = "3"
    with pytest.raises(ConfigError, match=r"windows\[2\] number"):
        parse_config({**raw, "windows": windows}, ROOT)
    cameras = [{**raw["cameras"][0], "port": "8081"}]
    with pytest.raises(ConfigError, match=r"cameras\[0\] port"):
        parse_config({**raw, "cameras": cameras}, ROOT)


def test_the_file_is_named_and_cross_key_rules_stop_the_start_too(raw, tmp_path):
    path = tmp_path / "config.toml"
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    path.write_text(text.replace("poll_seconds = 10", "poll_seconds = -1"), encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"^{tmp_path}/config.toml: \[sensors\] poll_seconds"):
        load_config(path)
    # A make-up working day must fall on a weekend: checked at start, not at the first intake.
    with pytest.raises(ConfigError, match="weekend"):
        parse_config({**raw, "calendar": {"workdays": ["2026-12-01"]}}, ROOT)


def test_sections_are_typed_once(raw):
    config = parse_config(raw, ROOT)
    assert config.sections.sensors.poll_seconds == 10.0
    assert config.sections.server.message_queue_channel == "hall-ops"
    assert config.intake_rules is config.intake_rules
    assert config.intake_rules.supplement_working_days == 5


def test_every_key_main_reads_is_taken(raw):
    """Keys of the sections other modules read again (leader election, notices, cameras)."""
    camera = {"name": "Dahua", "zone": raw["cameras"][0]["zone"], "kind": "dahua",
              "host": "127.0.0.1", "user": "u", "password": "p", "channel": 2}
    config = parse_config({
        **raw,
        "hall": {**raw["hall"], "demo": False},
        "database": {"upgrade": False},
        "jobs": {"check_seconds": 1, "lock_seconds": 5, "heartbeat_seconds": 5},
        "notices": {"interval_seconds": 10, "max_attempts": 3,
                    "email": {"host": "127.0.0.1", "sender": "hall@example.org",
                              "port": 2525, "security": "none"}},
        "sensors": {"poll_seconds": 5, "timeout_seconds": 2, "clock_tolerance_seconds": 60},
        "cameras": [*raw["cameras"], camera],
    }, ROOT)
    assert (config.demo, config.schema_upgrade, config.jobs.lock_seconds) == (False, False, 5.0)
    assert config.sections.notices.email is not None
    assert config.sections.cameras[-1].channel == 2
