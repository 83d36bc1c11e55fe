"""What config.toml may hold: every section and key with its type and bounds.

pydantic models rather than hand checks per section: one declaration per key, an unknown
key or a wrong type refused the same way everywhere, and the message names the key
(``config.toml: [sensors] poll_seconds: …``) before anything starts. Checks that need
more than one key (a window's zone exists, opening hours parse, the back-off cap is not
below its base) stay with the code that builds each section's rules.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

PRIORITY = Literal["normal", "elderly", "disabled", "appointment"]
WEEKDAY = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

Positive = Annotated[int, Field(ge=1)]
Seconds = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Code = Annotated[str, Field(min_length=1, max_length=64)]
Day = Annotated[dt.date, Field(strict=False)]
"""TOML writes a bare date (2027-01-01); a string of one is taken too."""


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class HallSection(Section):
    name_zh: Name = "政务服务大厅"
    name_en: Name = "Administrative Service Hall"
    timezone: Name = "Asia/Shanghai"
    code: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")] = "main"
    """The scope of the hall's staff grants, windows and devices."""
    opening_hours: dict[WEEKDAY, str] = {}
    demo: bool = False
    """The demo hall, which ``serve`` runs only with ``--demo``."""


class DatabaseSection(Section):
    url: Name = "sqlite:///instance/hall.db"
    upgrade: bool = True
    """Migrate the schema at start, or refuse a database that is behind."""


class ServerSection(Section):
    host: Name = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 5000
    async_mode: Literal["threading", "gevent", "eventlet"] = "threading"
    message_queue: str = ""
    message_queue_channel: Code = "hall-ops"
    connections: Annotated[int, Field(ge=10, le=100_000)] = 1000
    graceful_timeout: Annotated[int, Field(ge=1, le=600)] = 10
    trusted_proxies: Annotated[int, Field(ge=0, le=5)] = 0
    log_format: Literal["text", "json"] = "text"
    push_seconds: Annotated[float, Field(ge=0.01, le=5)] = 0.1
    """Screens get at most one ``queue`` (and ``missed``) push per this interval, carrying
    the latest state; calls go out at once."""
    report_seconds: Annotated[float, Field(ge=0.01, le=5)] = 0.1
    """Screens' reports (receipts, heartbeats) are written together, one transaction per
    this interval; a report is acknowledged once written."""


class MetricsSection(Section):
    token: str = ""
    """With a token, /metrics answers only ``Authorization: Bearer <token>``."""


class QueueSection(Section):
    no_show_after_recalls: Annotated[int, Field(ge=0, le=10)] = 2
    priority_head_start_minutes: dict[PRIORITY, Annotated[float, Field(ge=0, le=240)]] = {}
    recent_calls_shown: Annotated[int, Field(ge=1, le=100)] = 8
    service_time_sample: Annotated[int, Field(ge=1, le=1000)] = 20
    appointment_early_minutes: Annotated[int, Field(ge=0, le=240)] = 30
    appointment_late_minutes: Annotated[int, Field(ge=0, le=240)] = 15
    missed_shown: Annotated[int, Field(ge=0, le=50)] = 6
    rejoin_position: Literal["back", "after"] = "back"
    rejoin_after_people: Annotated[int, Field(ge=0, le=100)] = 3
    rejoin_limit: Annotated[int, Field(ge=0, le=5)] = 1
    notify_ahead: Annotated[int, Field(ge=1, le=50)] = 3
    elderly_age: Annotated[int, Field(ge=50, le=100)] = 60
    remote_tickets: bool = False
    remote_checkin_minutes: Annotated[int, Field(ge=5, le=24 * 60)] = 60


class CatalogueSection(Section):
    path: Name | None = None
    """Folder of the service-item CSV files, relative to the config file."""


class CalendarSection(Section):
    holidays: list[Day] = []
    workdays: list[Day] = []


class IntakeSection(Section):
    supplement_working_days: Positive = 5
    warning_fraction: Annotated[float, Field(gt=0, le=1)] = 0.8


class FormsSection(Section):
    draft_hours: Annotated[float, Field(gt=0, le=24 * 90)] = 72.0
    """A citizen's form draft is deleted this long after its last save."""
    cleanup_minutes: Annotated[int, Field(ge=1, le=1440)] = 15


class ArchiveSection(Section):
    path: Name | None = None
    """Folder of the archive packages, relative to the config file (default instance/archive)."""
    default_retention: Literal["permanent", "30y", "10y"] = "30y"
    applicant: Literal["masked", "full"] = "masked"
    fonds: Annotated[str, Field(max_length=32)] = ""
    interval_seconds: Annotated[int, Field(ge=5, le=86_400)] = 60


class Webhook(Section):
    department: Code
    url: Name
    secret: Name
    timeout_seconds: Seconds | None = None


class ApprovalSection(Section):
    default: Literal["console"] = "console"
    webhooks: list[Webhook] = []
    max_attempts: Positive | None = None
    backoff_base_seconds: Seconds | None = None
    backoff_cap_seconds: Seconds | None = None
    lease_seconds: Seconds | None = None


class PlatformSection(Section):
    """The provincial evaluation platform: a signed webhook, as ``[[approval.webhooks]]``."""

    url: Annotated[str, Field(pattern=r"^https?://[^/\s]+")]
    secret: Name
    timeout_seconds: Seconds | None = None


class EvaluationSection(Section):
    """好差评 (``hall_ops.evaluation``): 追评, rectification, rating links, the platform."""

    follow_up_days: Annotated[int, Field(ge=0, le=365)] = 7
    """Calendar days after a rating in which the citizen may add to it (追评)."""
    rectify_working_days: Annotated[int, Field(ge=1, le=60)] = 15
    link_days: Annotated[int, Field(ge=1, le=365)] = 30
    """How long the rating link in a result notice stays valid."""
    public_url: Annotated[str, Field(pattern=r"^https?://[^/\s]+")] | None = None
    """The hall's address as citizens reach it; without it notices carry no rating link."""
    hall_manager: Code | None = None
    """Owner of rectifications whose department names none (default: the first manager)."""
    department_managers: dict[Code, Code] = {}
    """Department code → login of its manager, who owns its rectifications."""
    platform: PlatformSection | None = None


class DashboardSection(Section):
    queue_alert: Annotated[int, Field(ge=1, le=10_000)] = 15
    chart_hours: Annotated[float, Field(ge=0.5, le=24)] = 3.0
    workload_seconds: Annotated[int, Field(ge=10, le=3600)] = 60


class SensorsSection(Section):
    poll_seconds: Annotated[float, Field(ge=0.1, le=3600)] = 10.0
    timeout_seconds: Seconds | None = None
    clock_tolerance_seconds: Seconds | None = None


class JobsSection(Section):
    """Leader election; ``hall_ops.config.JobsConfig`` checks the keys against each other."""

    check_seconds: Seconds | None = None
    lock_seconds: Seconds | None = None
    heartbeat_seconds: Seconds | None = None


class SmsSection(Section):
    endpoint: Name
    access_key_id: Name
    access_key_secret: Name
    sign_name: Name
    template_code: Name
    queue_template_code: Name | None = None
    """Silent calling's approved template (``hall_ops.queue.silent``); none: not offered."""
    region_id: Name | None = None
    timeout_seconds: Seconds | None = None


class EmailSection(Section):
    host: Name
    sender: Name
    port: Annotated[int, Field(ge=1, le=65535)] | None = None
    security: Literal["ssl", "starttls", "none"] | None = None
    username: Name | None = None
    password: Name | None = None
    ca_file: Name | None = None
    timeout_seconds: Seconds | None = None


class NoticesSection(Section):
    """Result notices (``hall_ops.cases.notices.settings_from_config``)."""

    interval_seconds: Seconds | None = None
    max_attempts: Positive | None = None
    backoff_base_seconds: Seconds | None = None
    backoff_cap_seconds: Seconds | None = None
    sms: SmsSection | None = None
    email: EmailSection | None = None


class SecuritySection(Section):
    """Staff sessions and logins (``hall_web.security``, ``hall_ops.staff.policy``)."""

    idle_minutes: Positive | None = None
    window_idle_minutes: Positive | None = None
    login_rate: Name | None = None
    account_rate: Name | None = None
    lookup_rate: Name | None = None
    rate_limit_storage: Name | None = None
    max_failures: Positive | None = None
    min_password_length: Positive | None = None
    lockout_minutes: Positive | None = None


class TrustedIssuer(Section):
    """An issuer whose signed licence bundles are imported (``hall_ops.licences.library``)."""

    name: Code
    algorithm: Literal["sm2", "ed25519"]
    public_key: Name
    """SM2: hex x‖y (128 digits); Ed25519: base64 of the 32 raw bytes."""


class LicencesSection(Section):
    """The e-licence library: the algorithm new licences are signed with, where the QR codes
    point, whose bundles are trusted."""

    algorithm: Literal["sm2", "ed25519"] = "sm2"
    public_url: str = ""
    """Base URL of the verify page printed in QR codes (``https://hall.example.gov``); empty:
    the address the request came to."""
    trusted_issuers: list[TrustedIssuer] = []


class S3Section(Section):
    bucket: Name
    endpoint_url: Name | None = None
    region: Name | None = None
    access_key_id: Name | None = None
    secret_access_key: Name | None = None
    prefix: str = ""


class MaterialsSection(Section):
    """Uploaded scans of paper materials: limits, and the object store if not local."""

    max_bytes: Annotated[int, Field(ge=1024, le=100 * 1024 * 1024)] = 10 * 1024 * 1024
    types: list[Literal["application/pdf", "image/jpeg", "image/png"]] = [
        "application/pdf", "image/jpeg", "image/png",
    ]
    s3: S3Section | None = None


class Zone(Section):
    code: Code
    name_zh: Name | None = None
    name_en: Name | None = None


class Service(Section):
    code: Code
    letter: str
    name_zh: Name
    name_en: Name
    zone: Code
    board: Code | None = None
    mean_service_minutes: Annotated[float, Field(gt=0, le=600)] = 10.0


class Window(Section):
    number: Annotated[int, Field(ge=1, le=9999)]
    zone: Code
    kind: Code = "general"
    services: list[Code] = []


class Clerk(Section):
    """A clerk of the demo roster; real staff and their PINs live in the staff tables."""

    id: Code
    name: Name


class Camera(Section):
    """One counting camera; ``sensors.config.parse_cameras`` checks which keys go together."""

    name: Name
    zone: Code
    kind: Literal["onvif", "hikvision", "dahua", "axis"] = "onvif"
    host: Name
    port: Annotated[int, Field(ge=1, le=65535)] = 80
    user: Name
    password: str
    role: Literal["occupancy", "entrance"] = "occupancy"
    in_rule: Name | None = None
    out_rule: Name | None = None
    occupancy_rules: list[Name] | None = None
    video_source: Name | None = None
    channel: Annotated[int, Field(ge=1, le=256)] | None = None
    rewrite_addresses: bool | None = None


class Printer(Section):
    """A kiosk's ESC/POS thermal printer on the network (``hall_ops.printing``)."""

    name: Code
    host: Name
    port: Annotated[int, Field(ge=1, le=65535)] = 9100
    scope: Annotated[str, Field(pattern=r"^(hall|zone:[a-z_]{1,32})$")]
    """The kiosk device scope it serves (``hall`` or ``zone:<code>``), as the admin issued it."""
    timeout_seconds: Seconds = 5.0


class ConfigFile(Section):
    hall: HallSection = HallSection()
    database: DatabaseSection = DatabaseSection()
    server: ServerSection = ServerSection()
    queue: QueueSection = QueueSection()
    catalogue: CatalogueSection = CatalogueSection()
    calendar: CalendarSection = CalendarSection()
    intake: IntakeSection = IntakeSection()
    forms: FormsSection = FormsSection()
    archive: ArchiveSection = ArchiveSection()
    approval: ApprovalSection = ApprovalSection()
    dashboard: DashboardSection = DashboardSection()
    sensors: SensorsSection = SensorsSection()
    jobs: JobsSection = JobsSection()
    metrics: MetricsSection = MetricsSection()
    notices: NoticesSection = NoticesSection()
    evaluation: EvaluationSection = EvaluationSection()
    security: SecuritySection = SecuritySection()
    licences: LicencesSection = LicencesSection()
    materials: MaterialsSection = MaterialsSection()
    zones: list[Zone] = []
    services: list[Service] = []
    windows: list[Window] = []
    clerks: list[Clerk] = []
    cameras: list[Camera] = []
    printers: list[Printer] = []


def where(loc: tuple[int | str, ...]) -> str:
    """``("sensors", "poll_seconds")`` → ``[sensors] poll_seconds``;
    ``("windows", 3, "number")`` → ``windows[3] number`` (as the other messages say it)."""
    if not loc:
        return "config"
    head, rest = str(loc[0]), list(loc[1:])
    head = f"{head}[{rest.pop(0)}]" if rest and isinstance(rest[0], int) else f"[{head}]"
    tail = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in rest).lstrip(".")
    return f"{head} {tail}".strip()


def read(data: dict[str, Any]) -> tuple[ConfigFile | None, str | None]:
    """The typed file, or the first problem as ``<where>: <what>``."""
    try:
        return ConfigFile.model_validate(data), None
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        message = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
        return None, f"{where(first['loc'])}: {message}"
