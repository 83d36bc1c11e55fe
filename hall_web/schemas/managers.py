"""Managers: the live floor, workload proposals and auto mode, reports."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from hall_web.fields import Code, Day, LongText, QueryInt, Text, Whole, WindowNumber, coded
from hall_web.schemas.base import Answer, JSONObject, Minutes, Moment, Query, Request
from hall_web.schemas.queue import QueueSnapshot

MAX_CHART_HOURS = 24
MAX_MIN_WINDOWS = 10
MAX_INTERVAL_MINUTES = 480
MAX_SERVICES = 64

Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]
"""A JSON number (an integer too), never a bool or a string."""
ServiceCodes = Annotated[list[Code], Field(max_length=MAX_SERVICES)]
Waits = Annotated[dict[Code, Annotated[Number, Field(ge=0)] | None],
                  Field(max_length=MAX_SERVICES)]
"""Minutes of wait per service code; null where no window serves it."""
Reason = Annotated[LongText, Field(max_length=2000)]
ProposalKind = Literal["assign", "open", "move"]


class OccupancyQuery(Query):
    hours: Annotated[float, Field(gt=0, le=MAX_CHART_HOURS, allow_inf_nan=False)] | None = None


class ProposalBody(Request):
    """A proposal as ``GET /workload/proposals`` gave it (less ``id`` and ``automatic``)."""

    kind: ProposalKind
    window: WindowNumber
    from_services: ServiceCodes
    to_services: ServiceCodes
    clerk_from_window: WindowNumber | None = None
    """The window the clerk comes from: required for a ``move``."""
    before: Waits = {}
    after: Waits = {}
    gain: Number = 0.0
    reason_zh: Reason = ""
    reason_en: Reason = ""


class ApplyProposal(Request):
    """``{"id"}`` of a proposal still proposed, or the proposal sent back whole, as
    ``{"proposal": {…}}`` or its fields at the top level."""

    id: Annotated[Text, Field(max_length=64)] | None = None
    proposal: ProposalBody | None = None
    kind: ProposalKind | None = None
    window: WindowNumber | None = None
    from_services: ServiceCodes | None = None
    to_services: ServiceCodes | None = None
    clerk_from_window: WindowNumber | None = None
    before: Waits | None = None
    after: Waits | None = None
    gain: Number | None = None
    reason_zh: Reason | None = None
    reason_en: Reason | None = None


class AutoSettings(Request):
    enabled: Annotated[bool, Field(strict=True)] | None = None
    min_windows_per_service: Annotated[Whole, Field(ge=0, le=MAX_MIN_WINDOWS)] | None = None
    min_interval_minutes: Annotated[Number, Field(ge=1, le=MAX_INTERVAL_MINUTES)] | None = None


class ChangesQuery(Query):
    limit: Annotated[QueryInt, Field(ge=1, le=500)] = 20


class ReportQuery(Query):
    from_: Annotated[Day | None, Field(alias="from")] = None
    to: Day | None = None
    format: Literal["json", "csv"] = "json"


class TicketReportQuery(ReportQuery):
    group_by: Annotated[Literal["day", "hour", "service", "window", "clerk"],
                        coded("invalid_group", "day, hour, service, window or clerk")] = "service"


class PauseReportQuery(ReportQuery):
    group_by: Annotated[Literal["window", "clerk"],
                        coded("invalid_group", "window or clerk")] = "window"


class AutoView(Answer):
    enabled: bool
    min_windows_per_service: int
    min_interval_minutes: float
    last_change_at: Moment | None
    next_allowed_at: Moment | None


class Change(Answer):
    """One audited workload change; ``record`` is what was applied, before and after."""

    id: int
    at: Moment
    actor: str
    origin: str | None
    kind: str
    window: int | None
    record: JSONObject


class Dashboard(Answer):
    at: Moment
    queue_alert: int
    chart_hours: float
    queue: QueueSnapshot
    occupancy: dict[str, JSONObject]
    cameras: list[JSONObject]
    alerts: list[JSONObject]
    overdue: list[JSONObject]
    auto: AutoView
    changes: list[Change]


class OccupancyPoint(Answer):
    at: Moment
    count: int
    source: str


class Occupancy(Answer):
    since: Moment
    at: Moment
    zones: dict[str, list[OccupancyPoint]]


class ProposalView(Answer):
    id: str
    kind: ProposalKind
    window: int
    from_services: list[str]
    to_services: list[str]
    clerk_from_window: int | None
    before: dict[str, float | None]
    after: dict[str, float | None]
    gain: float
    reason_zh: str
    reason_en: str
    automatic: bool


class Proposals(Answer):
    """``GET /workload/proposals`` and the ``proposals`` push."""

    at: Moment
    proposals: list[ProposalView]
    auto: AutoView


class Applied(Answer):
    applied: JSONObject
    proposals: list[ProposalView]


class Changes(Answer):
    changes: list[Change]


class Alerts(Answer):
    alerts: list[JSONObject]
    at: Moment


class TicketRow(Answer):
    key: str
    tickets: int
    served: int
    no_shows: int
    cancelled: int
    wait_mean_minutes: Minutes | None
    wait_p90_minutes: Minutes | None
    service_mean_minutes: Minutes | None


class TicketReport(Answer):
    group_by: str
    first_day: str
    last_day: str
    rows: list[TicketRow]


class PauseRow(Answer):
    key: str
    pauses: int
    break_minutes: float
    meeting_minutes: float
    system_fault_minutes: float
    paused_minutes: float


class PauseReport(Answer):
    """Minutes windows stood paused, by reason (break, meeting, system fault)."""

    group_by: str
    first_day: str
    last_day: str
    rows: list[PauseRow]


class CaseRow(Answer):
    department: str
    department_name_zh: str
    cases: int
    items: int
    mean_windows_visited: float
    mean_materials_handed_in: float
    decided: int
    decided_within_limit: int
    mean_working_days_to_decision: float | None
    open_overdue: int


class CaseReport(Answer):
    first_day: str
    last_day: str
    rows: list[CaseRow]


class NoticeTry(Answer):
    id: int
    channel: Literal["sms", "email"]
    status: Literal["pending", "sent", "failed"]
    attempts: int
    last_error: str | None
    next_attempt_at: Moment | None


class UnsentResult(Answer):
    """A ready result whose citizen has not been told (the phone masked)."""

    case_number: str
    phone: str
    ready_at: Moment
    notices: list[NoticeTry]


class UnsentNotices(Answer):
    channels: list[Literal["sms", "email"]]
    unsent: list[UnsentResult]


class NoticeRetried(Answer):
    id: int
    status: Literal["pending", "sent", "failed"]
