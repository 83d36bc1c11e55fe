"""The hall's people-counting cameras, from the ``[[cameras]]`` array of config.toml.

Each camera watches one zone and speaks ONVIF (Profile M counting rules)::

    # An occupancy counter: reports how many people are inside its area now.
    [[cameras]]
    name = "cam-front-1"          # unique; shown on the dashboard and in the log
    zone = "front_intake"         # a zone code from [[zones]]
    host = "127.0.0.1"            # address of the camera's ONVIF device service
    port = 8081                   # its HTTP port (default 80)
    user = "admin"
    password = "change-me"
    role = "occupancy"

    # A door counter: two line-counting rules, one per direction; the people
    # present are "in" minus "out" since the camera's daily reset.
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

A zone may have several cameras (their counts add up) or none (its figure is
then estimated from the tickets waiting there).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from hall_ops.config import ConfigError

ROLES = ("occupancy", "entrance")
_KEYS = {"name", "zone", "host", "port", "user", "password", "role", "in_rule", "out_rule"}


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


def _text(entry: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = entry.get(key, default)
    if value is None:
        raise CameraConfigError(f"{where}: missing '{key}'")
    if not isinstance(value, str) or not value.strip():
        raise CameraConfigError(f"{where}: '{key}' must be a non-empty string")
    return value.strip() if key != "password" else value


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
    cameras: list[CameraConfig] = []
    for i, entry in enumerate(entries):
        where = f"cameras[{i}] ({entry.get('name', '?')})"
        unknown = sorted(set(entry) - _KEYS)
        if unknown:
            raise CameraConfigError(f"{where}: unknown key(s) {unknown}")
        name = _text(entry, "name", where)
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", name):
            raise CameraConfigError(
                f"{where}: name may use letters, digits, '.', '_' and '-' (at most 64)"
            )
        zone = _text(entry, "zone", where)
        if zones is not None and zone not in zones:
            raise CameraConfigError(f"{where}: unknown zone {zone!r}")
        port = entry.get("port", 80)
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise CameraConfigError(f"{where}: 'port' must be a number from 1 to 65535")
        role = _text(entry, "role", where, "occupancy")
        if role not in ROLES:
            raise CameraConfigError(f"{where}: role must be one of {ROLES}, got {role!r}")
        if role != "entrance" and ({"in_rule", "out_rule"} & set(entry)):
            raise CameraConfigError(f"{where}: in_rule/out_rule only apply to role = 'entrance'")
        in_rule = _text(entry, "in_rule", where, "In")
        out_rule = _text(entry, "out_rule", where, "Out")
        if in_rule == out_rule:
            raise CameraConfigError(f"{where}: in_rule and out_rule must differ")
        cameras.append(
            CameraConfig(
                name=name,
                zone=zone,
                host=_text(entry, "host", where),
                port=port,
                user=_text(entry, "user", where),
                password=_text(entry, "password", where),
                role=role,
                in_rule=in_rule,
                out_rule=out_rule,
            )
        )
    names = [c.name for c in cameras]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise CameraConfigError(f"cameras: duplicate name(s) {duplicates}")
    return tuple(cameras)
