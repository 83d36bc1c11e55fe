"""The hall's people-counting cameras: ``[sensors]`` and the ``[[cameras]]`` array of config.toml.

Each camera watches one zone. ``kind`` says how it is asked for its counts:
ONVIF (Profile M counting rules, any vendor) or the vendor's own HTTP API
(Hikvision ISAPI, Dahua video statistics, the AXIS People Counter app)::

    [sensors]
    poll_seconds = 10             # how often every camera is asked
    timeout_seconds = 5           # one camera's answer, at most
    clock_tolerance_seconds = 120 # a camera clock further off is reported

    # ONVIF occupancy counter: people inside its area(s) now.
    [[cameras]]
    name = "cam-front-1"          # unique; shown on the dashboard and in the log
    zone = "front_intake"         # a zone code from [[zones]]
    host = "127.0.0.1"            # address of the camera (its ONVIF device service)
    port = 8081                   # its HTTP port (default 80)
    user = "admin"
    password = "change-me"
    role = "occupancy"
    occupancy_rules = ["Hall"]    # which OccupancyCounting rule(s) count this zone
                                  # (default: every occupancy rule, added up)

    # ONVIF door counter: two line-counting rules, one per direction; the
    # people present are "in" minus "out" since the camera's daily reset.
    [[cameras]]
    name = "cam-public-door"
    zone = "public_affairs"
    host = "127.0.0.1"
    port = 8082
    user = "admin"
    password = "change-me"
    role = "entrance"
    in_rule = "In"                # rule names as configured on the camera
    out_rule = "Out"              # (these two are the defaults)
    video_source = "VideoSource_1"  # only this video source's rules (default: any)

    # Hikvision people counting over ISAPI (HTTP digest): enter/exit today.
    [[cameras]]
    name = "cam-hik-door"
    zone = "business"
    kind = "hikvision"
    host = "127.0.0.1"
    port = 8083
    user = "admin"
    password = "change-me"
    role = "entrance"
    channel = 1                   # the camera's video input (default 1)

A zone may have several cameras (their counts add up) or none (its figure is
then estimated from the tickets waiting there). Unknown keys are refused, by
name: a typo must not silently drop a setting.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from hall_ops.config import ConfigError

ROLES = ("occupancy", "entrance")
KINDS = ("onvif", "hikvision", "dahua", "axis")
_KEYS = {"name", "zone", "kind", "host", "port", "user", "password", "role", "in_rule",
         "out_rule", "occupancy_rules", "video_source", "channel", "rewrite_addresses"}
_SENSOR_KEYS = {"poll_seconds", "timeout_seconds", "clock_tolerance_seconds"}
_ONVIF_ONLY = ("in_rule", "out_rule", "occupancy_rules", "video_source", "rewrite_addresses")


class CameraConfigError(ConfigError):
    pass


@dataclass(frozen=True)
class CameraConfig:
    name: str
    zone: str
    host: str
    port: int
    user: str
    password: str = field(repr=False)
    role: str = "occupancy"
    in_rule: str = "In"
    out_rule: str = "Out"
    kind: str = "onvif"
    occupancy_rules: tuple[str, ...] = ()
    """ONVIF occupancy rules counted for the zone; empty: every occupancy rule."""
    video_source: str | None = None
    """Only rules on this ONVIF video source token; None: any source."""
    channel: int = 1
    """Video input number for the vendor HTTP APIs."""
    rewrite_addresses: bool = True
    """Reach every service at the configured host and port, whatever address the
    camera advertises (NAT, port forwarding, a second interface)."""


@dataclass(frozen=True)
class SensorSettings:
    poll_seconds: float = 10.0
    timeout_seconds: float = 5.0
    clock_tolerance_seconds: float = 120.0


def _text(entry: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = entry.get(key, default)
    if value is None:
        raise CameraConfigError(f"{where}: missing '{key}'")
    if not isinstance(value, str) or not value.strip():
        raise CameraConfigError(f"{where}: '{key}' must be a non-empty string")
    return value.strip() if key != "password" else value


def _whole(entry: Mapping[str, Any], key: str, where: str, default: int, high: int) -> int:
    value = entry.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= high:
        raise CameraConfigError(f"{where}: '{key}' must be a number from 1 to {high}")
    return value


def _unknown(table: Mapping[str, Any], known: set[str], where: str) -> None:
    unknown = sorted(set(table) - known)
    if unknown:
        raise CameraConfigError(f"{where}: unknown key(s) {unknown}")


def parse_sensors(raw: Mapping[str, Any]) -> SensorSettings:
    """The ``[sensors]`` table (all keys optional)."""
    section = raw.get("sensors", {})
    if not isinstance(section, dict):
        raise CameraConfigError("sensors: write it as a [sensors] table")
    _unknown(section, _SENSOR_KEYS, "sensors")
    values: dict[str, float] = {}
    for key, low, high in (("poll_seconds", 0.1, 3600), ("timeout_seconds", 0.1, 120),
                           ("clock_tolerance_seconds", 1, 86400)):
        if key in section:
            value = section[key]
            if isinstance(value, bool) or not isinstance(value, int | float) \
                    or not low <= value <= high:
                raise CameraConfigError(f"sensors: '{key}' must be a number from {low} to {high}")
            values[key] = float(value)
    return SensorSettings(**values)


def _rules(entry: Mapping[str, Any], where: str) -> tuple[str, ...]:
    value = entry.get("occupancy_rules", [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise CameraConfigError(f"{where}: 'occupancy_rules' must be a list of rule names")
    rules = tuple(v.strip() for v in value)
    if len(set(rules)) != len(rules):
        raise CameraConfigError(f"{where}: 'occupancy_rules' names a rule twice")
    return rules


def _camera(entry: Mapping[str, Any], where: str, zones: Collection[str] | None) -> CameraConfig:
    _unknown(entry, _KEYS, where)
    name = _text(entry, "name", where)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", name):
        raise CameraConfigError(
            f"{where}: name may use letters, digits, '.', '_' and '-' (at most 64)"
        )
    zone = _text(entry, "zone", where)
    if zones is not None and zone not in zones:
        raise CameraConfigError(f"{where}: unknown zone {zone!r}")
    kind = _text(entry, "kind", where, "onvif")
    if kind not in KINDS:
        raise CameraConfigError(f"{where}: kind must be one of {KINDS}, got {kind!r}")
    if kind != "onvif":
        misplaced = sorted(k for k in _ONVIF_ONLY if k in entry)
        if misplaced:
            raise CameraConfigError(f"{where}: {misplaced} only apply to kind = 'onvif'")
    elif "channel" in entry:
        raise CameraConfigError(f"{where}: 'channel' only applies to the vendor HTTP APIs")
    role = _text(entry, "role", where, "occupancy")
    if role not in ROLES:
        raise CameraConfigError(f"{where}: role must be one of {ROLES}, got {role!r}")
    if role != "entrance" and ({"in_rule", "out_rule"} & set(entry)):
        raise CameraConfigError(f"{where}: in_rule/out_rule only apply to role = 'entrance'")
    if role != "occupancy" and "occupancy_rules" in entry:
        raise CameraConfigError(f"{where}: occupancy_rules only apply to role = 'occupancy'")
    if kind == "hikvision" and role != "entrance":
        raise CameraConfigError(
            f"{where}: Hikvision people counting reports crossings: use role = 'entrance'"
        )
    in_rule = _text(entry, "in_rule", where, "In")
    out_rule = _text(entry, "out_rule", where, "Out")
    if in_rule == out_rule:
        raise CameraConfigError(f"{where}: in_rule and out_rule must differ")
    rewrite = entry.get("rewrite_addresses", True)
    if not isinstance(rewrite, bool):
        raise CameraConfigError(f"{where}: 'rewrite_addresses' must be true or false")
    return CameraConfig(
        name=name, zone=zone, kind=kind,
        host=_text(entry, "host", where),
        port=_whole(entry, "port", where, 80, 65535),
        user=_text(entry, "user", where),
        password=_text(entry, "password", where),
        role=role, in_rule=in_rule, out_rule=out_rule,
        occupancy_rules=_rules(entry, where),
        video_source=_text(entry, "video_source", where) if "video_source" in entry else None,
        channel=_whole(entry, "channel", where, 1, 256),
        rewrite_addresses=rewrite,
    )


def parse_cameras(
    raw: Mapping[str, Any], zones: Collection[str] | None = None
) -> tuple[CameraConfig, ...]:
    """The cameras of a parsed config.toml (``HallConfig.raw``); none if the section is absent.

    ``zones``, if given, are the hall's zone codes: a camera in another zone is
    refused here rather than failing later in the database.
    """
    entries = raw.get("cameras", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise CameraConfigError("cameras: write each camera as a [[cameras]] table")
    cameras = tuple(_camera(entry, f"cameras[{i}] ({entry.get('name', '?')})", zones)
                    for i, entry in enumerate(entries))
    names = [c.name for c in cameras]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise CameraConfigError(f"cameras: duplicate name(s) {duplicates}")
    return cameras
