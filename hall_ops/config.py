"""The hall as configured in config.toml: zones, services, windows, clerks, rules.

Loading validates everything up front and names the offending entry, so a
mistyped window never surfaces as a 500 on the hall floor.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from zones import rules_for

ASYNC_MODES = ("threading", "gevent", "eventlet")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PRIORITIES = ("normal", "elderly", "disabled", "appointment")


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class ZoneConfig:
    code: str
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class ServiceConfig:
    code: str
    letter: str
    name_zh: str
    name_en: str
    zone: str
    board: str | None
    mean_service_minutes: float


@dataclass(frozen=True)
class WindowConfig:
    number: int
    zone: str
    kind: str
    services: tuple[str, ...]


@dataclass(frozen=True)
class ClerkConfig:
    """A clerk of the demo roster; real staff and their PINs live in the staff tables."""

    id: str
    name: str


@dataclass(frozen=True)
class QueueRules:
    no_show_after_recalls: int = 2
    """A called ticket may be marked no-show only after this many recalls."""
    priority_head_start_minutes: dict[str, float] = field(
        default_factory=lambda: {"normal": 0, "elderly": 10, "disabled": 10, "appointment": 15}
    )
    recent_calls_shown: int = 8
    service_time_sample: int = 20
    appointment_early_minutes: int = 30
    appointment_late_minutes: int = 15


@dataclass(frozen=True)
class DashboardConfig:
    queue_alert: int = 15
    """Alert when this many people or more wait for one service."""
    chart_hours: float = 3.0
    workload_seconds: int = 60

    @classmethod
    def from_section(cls, section: Any) -> DashboardConfig:
        if not isinstance(section, dict):
            raise ConfigError("[dashboard] must be a table")
        unknown = sorted(set(section) - {"queue_alert", "chart_hours", "workload_seconds"})
        if unknown:
            raise ConfigError(f"[dashboard]: unknown key(s) {unknown}")

        def number(key: str, default: float, low: float, high: float, whole: bool) -> Any:
            value = section.get(key, default)
            kinds = (int,) if whole else (int, float)
            if isinstance(value, bool) or not isinstance(value, kinds) or not low <= value <= high:
                kind = "a whole number" if whole else "a number"
                raise ConfigError(f"[dashboard] {key}: must be {kind} from {low:g} to {high:g}")
            return value

        return cls(
            queue_alert=number("queue_alert", cls.queue_alert, 1, 10_000, True),
            chart_hours=float(number("chart_hours", cls.chart_hours, 0.5, 24, False)),
            workload_seconds=number("workload_seconds", cls.workload_seconds, 10, 3600, True),
        )


LOG_FORMATS = ("text", "json")


@dataclass(frozen=True)
class ServerOptions:
    """How ``serve`` runs the process (``[server]``); see docs/deploy.md."""

    connections: int = 1000
    """Open connections one process takes at once (each screen's websocket holds one):
    the gevent worker's greenlets, the threaded worker's threads."""
    graceful_timeout: int = 10
    """Seconds a stopping process gives requests in flight; screens then reconnect."""
    trusted_proxies: int = 0
    """Proxies in front (nginx: 1) whose X-Forwarded-For/-Proto are believed; 0 = none."""
    log_format: str = "text"
    """``text`` or ``json`` (one object per line, with the request id)."""

    @classmethod
    def from_section(cls, section: dict[str, Any]) -> ServerOptions:
        def whole(key: str, default: int, low: int, high: int) -> int:
            value = section.get(key, default)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ConfigError(f"[server] {key}: must be a whole number from {low} to {high}")
            return value

        log_format = section.get("log_format", cls.log_format)
        if log_format not in LOG_FORMATS:
            raise ConfigError(f"[server] log_format: must be one of {LOG_FORMATS}")
        return cls(
            connections=whole("connections", cls.connections, 10, 100_000),
            graceful_timeout=whole("graceful_timeout", cls.graceful_timeout, 1, 600),
            trusted_proxies=whole("trusted_proxies", cls.trusted_proxies, 0, 5),
            log_format=log_format,
        )


@dataclass(frozen=True)
class JobsConfig:
    """``[jobs]``: the leader election that keeps scheduled jobs to one process."""

    check_seconds: float = 2.0
    """How often a follower tries the lock and the leader checks it still holds it."""
    lock_seconds: float = 10.0
    """Time-out of the Redis lock: a dead leader's lock lapses after this."""
    heartbeat_seconds: float = 10.0
    """How often the leader records that it runs (``scheduler_terms``)."""

    @classmethod
    def from_section(cls, section: Any) -> JobsConfig:
        _known_keys(section, "[jobs]", {"check_seconds", "lock_seconds", "heartbeat_seconds"})
        values = {}
        for key in ("check_seconds", "lock_seconds", "heartbeat_seconds"):
            value = section.get(key, getattr(cls, key))
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise ConfigError(f"[jobs] {key}: must be a positive number, got {value!r}")
            values[key] = float(value)
        if values["lock_seconds"] < 2 * values["check_seconds"]:
            raise ConfigError("[jobs] lock_seconds: must be at least twice check_seconds, "
                              "or a live leader's lock could lapse between renewals")
        return cls(**values)


@dataclass(frozen=True)
class HallConfig:
    name_zh: str
    name_en: str
    timezone: ZoneInfo
    opening_hours: dict[str, tuple[dt.time, dt.time] | None]
    zones: tuple[ZoneConfig, ...]
    services: tuple[ServiceConfig, ...]
    windows: tuple[WindowConfig, ...]
    clerks: tuple[ClerkConfig, ...]
    queue: QueueRules
    dashboard: DashboardConfig
    database_url: str
    async_mode: str
    message_queue: str | None
    host: str
    port: int
    raw: dict[str, Any]
    """The whole parsed file, for sections owned by other packages (cameras, approval …)."""
    base_dir: Path
    """The config file's folder: relative paths in it (SQLite file, catalogue, instance/)
    start here, so an installed hall needs only its config folder, never the source tree."""
    schema_upgrade: bool = True
    """``[database] upgrade``: migrate the schema at start, or refuse a database behind."""
    demo: bool = False
    """``[hall] demo``: the demo hall, which ``serve`` runs only with ``--demo``."""
    jobs: JobsConfig = field(default_factory=JobsConfig)
    server: ServerOptions = ServerOptions()

    def is_open(self, utc_now: dt.datetime) -> bool:
        from hall_ops.clock import to_local

        local = to_local(utc_now, self.timezone)
        hours = self.opening_hours.get(WEEKDAYS[local.weekday()])
        return hours is not None and hours[0] <= local.time() < hours[1]


def _require(table: dict[str, Any], key: str, where: str, kind: type | tuple[type, ...]) -> Any:
    if key not in table:
        raise ConfigError(f"{where}: missing '{key}'")
    value = table[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise ConfigError(f"{where}: '{key}' has the wrong type ({type(value).__name__})")
    return value


def _known_keys(table: Any, where: str, known: set[str]) -> None:
    """A section of fixed keys: a mistyped key stops the start, named."""
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table")
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {unknown}; known: {sorted(known)}")


def _typed(table: dict[str, Any], key: str, where: str, kind: type, default: Any) -> Any:
    """``table[key]`` of type ``kind`` (bool is not an int here), or ``default`` if absent."""
    value = table.get(key, default)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise ConfigError(f"{where} {key}: must be {kind.__name__}, got {value!r}")
    return value


def _parse_hours(text: str, where: str) -> tuple[dt.time, dt.time] | None:
    if text.strip() in ("", "closed"):
        return None
    match = re.fullmatch(r"(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})", text.strip())
    if not match:
        raise ConfigError(f"{where}: opening hours must look like '08:30-17:30', got {text!r}")
    h1, m1, h2, m2 = map(int, match.groups())
    start = dt.time(h1, m1)
    end = dt.time.max if (h2, m2) == (24, 0) else dt.time(h2, m2)
    if end <= start:
        raise ConfigError(f"{where}: closing time must be after opening time")
    return start, end


def parse_config(data: dict[str, Any], base_dir: Path) -> HallConfig:
    hall = data.get("hall", {})
    try:
        tz = ZoneInfo(hall.get("timezone", "Asia/Shanghai"))
    except ZoneInfoNotFoundError as exc:
        raise ConfigError(f"[hall]: unknown timezone {hall.get('timezone')!r}") from exc
    hours_table = hall.get("opening_hours", {})
    unknown_days = set(hours_table) - set(WEEKDAYS)
    if unknown_days:
        raise ConfigError(f"[hall.opening_hours]: unknown day(s) {sorted(unknown_days)}")
    opening_hours = {
        day: _parse_hours(hours_table.get(day, ""), f"[hall.opening_hours] {day}")
        for day in WEEKDAYS
    }

    zones = tuple(
        ZoneConfig(
            code=_require(z, "code", f"zones[{i}]", str),
            name_zh=z.get("name_zh") or rules_for(z["code"]).name_zh,
            name_en=z.get("name_en") or rules_for(z["code"]).name_en,
        )
        for i, z in enumerate(data.get("zones", []))
    )
    zone_codes = {z.code for z in zones}
    if len(zone_codes) != len(zones):
        raise ConfigError("zones: duplicate zone code")

    services: list[ServiceConfig] = []
    for i, s in enumerate(data.get("services", [])):
        where = f"services[{i}] ({s.get('code', '?')})"
        letter = _require(s, "letter", where, str)
        if not re.fullmatch(r"[A-Z]", letter):
            raise ConfigError(f"{where}: letter must be one capital letter, got {letter!r}")
        zone = _require(s, "zone", where, str)
        if zone not in zone_codes:
            raise ConfigError(f"{where}: unknown zone {zone!r}")
        services.append(
            ServiceConfig(
                code=_require(s, "code", where, str),
                letter=letter,
                name_zh=_require(s, "name_zh", where, str),
                name_en=_require(s, "name_en", where, str),
                zone=zone,
                board=s.get("board"),
                mean_service_minutes=float(s.get("mean_service_minutes", 10)),
            )
        )
    for attr in ("code", "letter"):
        values = [getattr(s, attr) for s in services]
        dupes = {v for v in values if values.count(v) > 1}
        if dupes:
            raise ConfigError(f"services: duplicate {attr} {sorted(dupes)}")
    service_codes = {s.code for s in services}

    windows: list[WindowConfig] = []
    for i, w in enumerate(data.get("windows", [])):
        where = f"windows[{i}] (number {w.get('number', '?')})"
        number = _require(w, "number", where, int)
        zone = _require(w, "zone", where, str)
        if zone not in zone_codes:
            raise ConfigError(f"{where}: unknown zone {zone!r}")
        kind = w.get("kind", "general")
        if kind not in rules_for(zone).window_kinds:
            raise ConfigError(f"{where}: a {kind!r} window cannot stand in zone {zone!r}")
        served = tuple(w.get("services", []))
        unknown = [c for c in served if c not in service_codes]
        if unknown:
            raise ConfigError(f"{where}: unknown service(s) {unknown}")
        windows.append(WindowConfig(number, zone, kind, served))
    numbers = [w.number for w in windows]
    if len(set(numbers)) != len(numbers):
        raise ConfigError("windows: duplicate window number")

    clerks = tuple(
        ClerkConfig(
            id=_require(c, "id", f"clerks[{i}]", str),
            name=_require(c, "name", f"clerks[{i}]", str),
        )
        for i, c in enumerate(data.get("clerks", []))
    )

    q = data.get("queue", {})
    defaults = QueueRules()
    head_start = {**defaults.priority_head_start_minutes,
                  **q.get("priority_head_start_minutes", {})}
    unknown = sorted(set(head_start) - set(PRIORITIES))
    if unknown:
        raise ConfigError(f"[queue]: unknown priorities {unknown}")
    queue = QueueRules(
        no_show_after_recalls=int(q.get("no_show_after_recalls", defaults.no_show_after_recalls)),
        priority_head_start_minutes=head_start,
        recent_calls_shown=int(q.get("recent_calls_shown", defaults.recent_calls_shown)),
        service_time_sample=int(q.get("service_time_sample", defaults.service_time_sample)),
        appointment_early_minutes=int(
            q.get("appointment_early_minutes", defaults.appointment_early_minutes)
        ),
        appointment_late_minutes=int(
            q.get("appointment_late_minutes", defaults.appointment_late_minutes)
        ),
    )

    database = data.get("database", {})
    _known_keys(database, "[database]", {"url", "upgrade"})
    url = _typed(database, "url", "[database]", str, "sqlite:///instance/hall.db")
    schema_upgrade = _typed(database, "upgrade", "[database]", bool, True)
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////") and ":memory:" not in url:
        url = "sqlite:///" + str((base_dir / url.removeprefix("sqlite:///")).resolve())
    server = data.get("server", {})
    async_mode = server.get("async_mode", "threading")
    if async_mode not in ASYNC_MODES:
        raise ConfigError(f"[server]: async_mode must be one of {ASYNC_MODES}, got {async_mode!r}")

    return HallConfig(
        name_zh=hall.get("name_zh", "政务服务大厅"),
        name_en=hall.get("name_en", "Administrative Service Hall"),
        timezone=tz,
        opening_hours=opening_hours,
        zones=zones,
        services=tuple(services),
        windows=tuple(windows),
        clerks=clerks,
        queue=queue,
        dashboard=DashboardConfig.from_section(data.get("dashboard", {})),
        database_url=url,
        async_mode=async_mode,
        message_queue=server.get("message_queue") or None,
        host=server.get("host", "127.0.0.1"),
        port=int(server.get("port", 5000)),
        raw=data,
        base_dir=base_dir.resolve(),
        schema_upgrade=schema_upgrade,
        demo=_typed(hall, "demo", "[hall]", bool, False),
        jobs=JobsConfig.from_section(data.get("jobs", {})),
        server=ServerOptions.from_section(server),
    )


def load_config(path: str | Path) -> HallConfig:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: no such config file") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    return parse_config(data, path.parent)
