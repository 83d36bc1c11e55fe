"""The hall as configured in config.toml: zones, services, windows, clerks, rules.

Loading validates everything up front and names the offending entry, so a
mistyped window never surfaces as a 500 on the hall floor: first every key's type and
bounds (``hall_ops.config_file``, the typed file kept as ``HallConfig.sections``), then
what spans keys (zones of windows, opening hours, letters).
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hall_ops.config_file import ConfigFile, JobsSection, read
from zones import rules_for

if TYPE_CHECKING:
    from hall_ops.cases.intake import IntakeRules

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
    missed_shown: int = 6
    """Recently missed (过号) numbers a call screen lists, so a returning citizen sees theirs."""
    rejoin_position: str = "back"
    """Where a returning missed ticket rejoins: ``back`` of its queue, or ``after`` the next
    ``rejoin_after_people`` waiting."""
    rejoin_after_people: int = 3
    rejoin_limit: int = 1
    """How often one ticket may rejoin after being missed."""
    notify_ahead: int = 3
    """Silent calling: the SMS "N people ahead of you" goes out at this many."""
    elderly_age: int = 60
    """A ticket taken by resident ID of someone this old or older is elderly priority (绿色通道)."""
    remote_tickets: bool = False
    """Whether citizens may take a ticket on the phone before arriving (checked in at the hall)."""
    remote_checkin_minutes: int = 60
    """A remote ticket lapses unless checked in at the hall within this many minutes."""


@dataclass(frozen=True)
class DashboardConfig:
    queue_alert: int = 15
    """Alert when this many people or more wait for one service."""
    chart_hours: float = 3.0
    workload_seconds: int = 60


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
    def from_section(cls, section: JobsSection) -> JobsConfig:
        values = {key: float(getattr(cls, key) if value is None else value)
                  for key, value in section.model_dump().items()}
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
    instance_dir: Path | None = None
    """Where the hall keeps what is its own (session key, scans, archive): ``instance/``
    beside the config file unless a deployment gives each of its halls a folder."""

    @property
    def instance(self) -> Path:
        return self.instance_dir or self.base_dir / "instance"

    @cached_property
    def sections(self) -> ConfigFile:
        """Every section, typed: read these, not ``raw`` (checked once by ``parse_config``;
        a copy made with ``dataclasses.replace(raw=…)`` is checked on first use)."""
        file, problem = read(self.raw)
        if file is None:
            raise ConfigError(str(problem))
        return file

    @cached_property
    def intake_rules(self) -> IntakeRules:
        """``[intake]`` and ``[calendar]`` as the rules of cases, built once."""
        from hall_ops.cases.intake import IntakeRules

        return IntakeRules.from_config(self)

    def is_open(self, utc_now: dt.datetime) -> bool:
        from hall_ops.clock import to_local

        local = to_local(utc_now, self.timezone)
        hours = self.opening_hours.get(WEEKDAYS[local.weekday()])
        return hours is not None and hours[0] <= local.time() < hours[1]


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
    file, problem = read(data)
    if file is None:
        raise ConfigError(str(problem))
    hall = file.hall
    try:
        tz = ZoneInfo(hall.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"[hall] timezone: unknown time zone {hall.timezone!r}") from exc
    hours = {str(day): text for day, text in hall.opening_hours.items()}
    opening_hours = {
        day: _parse_hours(hours.get(day, ""), f"[hall.opening_hours] {day}")
        for day in WEEKDAYS
    }

    zones = tuple(
        ZoneConfig(
            code=z.code,
            name_zh=z.name_zh or rules_for(z.code).name_zh,
            name_en=z.name_en or rules_for(z.code).name_en,
        )
        for z in file.zones
    )
    zone_codes = {z.code for z in zones}
    if len(zone_codes) != len(zones):
        raise ConfigError("zones: duplicate zone code")

    services: list[ServiceConfig] = []
    for i, s in enumerate(file.services):
        where = f"services[{i}] ({s.code})"
        if not re.fullmatch(r"[A-Z]", s.letter):
            raise ConfigError(f"{where}: letter must be one capital letter, got {s.letter!r}")
        if s.zone not in zone_codes:
            raise ConfigError(f"{where}: unknown zone {s.zone!r}")
        services.append(ServiceConfig(s.code, s.letter, s.name_zh, s.name_en, s.zone, s.board,
                                      s.mean_service_minutes))
    for attr in ("code", "letter"):
        values = [getattr(s, attr) for s in services]
        dupes = {v for v in values if values.count(v) > 1}
        if dupes:
            raise ConfigError(f"services: duplicate {attr} {sorted(dupes)}")
    service_codes = {s.code for s in services}

    windows: list[WindowConfig] = []
    for i, w in enumerate(file.windows):
        where = f"windows[{i}] (number {w.number})"
        if w.zone not in zone_codes:
            raise ConfigError(f"{where}: unknown zone {w.zone!r}")
        if w.kind not in rules_for(w.zone).window_kinds:
            raise ConfigError(f"{where}: a {w.kind!r} window cannot stand in zone {w.zone!r}")
        unknown = [c for c in w.services if c not in service_codes]
        if unknown:
            raise ConfigError(f"{where}: unknown service(s) {unknown}")
        windows.append(WindowConfig(w.number, w.zone, w.kind, tuple(w.services)))
    numbers = [w.number for w in windows]
    if len(set(numbers)) != len(numbers):
        raise ConfigError("windows: duplicate window number")

    clerks = tuple(ClerkConfig(c.id, c.name) for c in file.clerks)

    q = file.queue
    head_start = {str(p): minutes for p, minutes in q.priority_head_start_minutes.items()}
    queue = QueueRules(
        no_show_after_recalls=q.no_show_after_recalls,
        priority_head_start_minutes={
            **QueueRules().priority_head_start_minutes, **head_start
        },
        recent_calls_shown=q.recent_calls_shown,
        service_time_sample=q.service_time_sample,
        appointment_early_minutes=q.appointment_early_minutes,
        appointment_late_minutes=q.appointment_late_minutes,
        missed_shown=q.missed_shown,
        rejoin_position=q.rejoin_position,
        rejoin_after_people=q.rejoin_after_people,
        rejoin_limit=q.rejoin_limit,
        notify_ahead=q.notify_ahead,
        elderly_age=q.elderly_age,
        remote_tickets=q.remote_tickets,
        remote_checkin_minutes=q.remote_checkin_minutes,
    )

    url = file.database.url
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////") and ":memory:" not in url:
        url = "sqlite:///" + str((base_dir / url.removeprefix("sqlite:///")).resolve())
    server = file.server
    dashboard = file.dashboard

    config = HallConfig(
        name_zh=hall.name_zh,
        name_en=hall.name_en,
        timezone=tz,
        opening_hours=opening_hours,
        zones=zones,
        services=tuple(services),
        windows=tuple(windows),
        clerks=clerks,
        queue=queue,
        dashboard=DashboardConfig(dashboard.queue_alert, dashboard.chart_hours,
                                  dashboard.workload_seconds),
        database_url=url,
        async_mode=server.async_mode,
        message_queue=server.message_queue or None,
        host=server.host,
        port=server.port,
        raw=data,
        base_dir=base_dir.resolve(),
        schema_upgrade=file.database.upgrade,
        demo=hall.demo,
        jobs=JobsConfig.from_section(file.jobs),
        server=ServerOptions(
            connections=server.connections, graceful_timeout=server.graceful_timeout,
            trusted_proxies=server.trusted_proxies, log_format=server.log_format,
        ),
    )
    config.intake_rules  # noqa: B018 - its cross-key checks (calendar) stop the start too
    return config


def load_config(path: str | Path) -> HallConfig:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: no such config file") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    try:
        return parse_config(data, path.parent)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
