"""The Socket.IO contract: what the server pushes to which rooms, and what a client emits.

Published as JSON Schemas at ``/api/v1/socketio-schemas.json`` (``event_schemas``); the
HTTP answers that carry the same data use the same models (``queue``, ``window`` …).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field
from pydantic.json_schema import models_json_schema

from hall_web.schemas.base import Answer, JSONObject, Moment, Open
from hall_web.schemas.managers import AutoView, Proposals
from hall_web.schemas.queue import Call, Missed, QueueSnapshot, WindowView

ROOM_PATTERN = r"^(hall|manager|zone:[a-z_]{1,32}|window:[0-9]{1,4})$"


class Join(BaseModel):
    """Client → server: join a room; the server answers with ``snapshot``."""

    room: Annotated[str, Field(pattern=ROOM_PATTERN)]


class Snapshot(Answer):
    """Everything a screen draws, sent on ``join`` (and so on every reconnect)."""

    room: str
    calls: list[Call]
    """Newest first, up to ``[queue] recent_calls_shown``; dedupe by ``seq``."""
    queue: QueueSnapshot
    at: Moment
    """The server's time: a screen judges how old a missed call is by it, not its own clock."""
    missed: list[Missed]
    """Today's missed (过号) numbers of the room, latest first, up to ``[queue] missed_shown``."""


class MissedPush(Answer):
    """The room's missed (过号) numbers after a ticket was missed or rejoined."""

    room: str
    missed: list[Missed]


class ResultPush(Answer):
    """A case's result became ready: ticket pages refresh their own ticket (no case data on
    a public room)."""


class CaseNotice(Answer):
    """An intake record was created at a window (no personal data)."""

    case_number: str
    window: int
    ticket: str
    items: list[str]
    departments: list[str]
    gaps: int


class Department(Answer):
    code: str
    name_zh: str


class Deadline(Answer):
    case_number: str
    item: str
    name_zh: str
    department: Department
    status: str
    time_limit_days: int
    used_days: int
    deadline: str | None
    fraction_used: float
    paused: bool
    warning: bool
    overdue: bool


class Deadlines(Answer):
    """Items at 80 % of their time limit or overdue, most urgent first."""

    items: list[Deadline]


class OccupancyPush(Open):
    """People per zone and the cameras' state, after each camera poll."""

    zones: dict[str, JSONObject]
    cameras: list[JSONObject]


class AlertsPush(Answer):
    alerts: list[JSONObject]
    at: Moment


class WorkloadPush(Answer):
    """Assignments applied (``applied``) or auto-mode settings changed (``auto``)."""

    applied: list[JSONObject] | None = None
    auto: AutoView | None = None


class Heartbeat(Open):
    """Screen → server, every 10 s: the screen is alive (a screen device only; anything
    else is answered ``forbidden``). Acknowledged ``{ok: true}``."""


class Receipt(BaseModel):
    """Screen → server: this screen drew (``shown``) or finished speaking (``spoken``) the
    call ``call`` (its ``seq``), or its re-announcement ``repeat``. Acknowledged ``{ok: true}``
    or ``{error, message}``."""

    call: Annotated[int, Field(gt=0, lt=2**31)]
    repeat: Annotated[int, Field(gt=0, lt=2**31)] | None = None
    stage: Literal["shown", "spoken"]


class ReachScreen(Answer):
    id: int
    name: str
    scope: str
    last_heard_at: Moment
    shown: bool
    spoken: bool


class Reach(Answer):
    """The window's latest call today: of the screens that count (screen devices showing it,
    heard from today), how many reported showing and speaking it (or its latest
    re-announcement ``repeat``)."""

    window: int
    call: int | None
    ticket: str | None
    repeat: int | None
    expected: int
    shown: int
    spoken: int
    screens: list[ReachScreen]


@dataclass(frozen=True)
class Event:
    name: str
    model: type[BaseModel]
    rooms: str
    direction: str = "server → client"


EVENTS = (
    Event("join", Join, "—", "client → server"),
    Event("heartbeat", Heartbeat, "—", "client → server"),
    Event("receipt", Receipt, "—", "client → server"),
    Event("reach", Reach, "window:<n>"),
    Event("snapshot", Snapshot, "the joining client only"),
    Event("call", Call, "hall, manager, zone:<zone>, window:<n>"),
    Event("queue", QueueSnapshot, "hall, manager, every zone:<code>"),
    Event("window", WindowView, "window:<n>"),
    Event("missed", MissedPush, "hall, every zone:<code>"),
    Event("result", ResultPush, "hall"),
    Event("case", CaseNotice, "manager, window:<n>"),
    Event("deadlines", Deadlines, "manager"),
    Event("occupancy", OccupancyPush, "manager"),
    Event("alerts", AlertsPush, "manager"),
    Event("proposals", Proposals, "manager"),
    Event("workload", WorkloadPush, "manager"),
)
MODELS = {event.name: event.model for event in EVENTS}


def event_schemas() -> dict[str, Any]:
    """One JSON Schema (2020-12) document: each event's payload, shared parts in ``$defs``."""
    keys, defs = models_json_schema(
        [(event.model, "serialization") for event in EVENTS],
        ref_template="#/$defs/{model}",
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "hall-ops Socket.IO events (default namespace)",
        "events": {
            event.name: {
                "direction": event.direction,
                "rooms": event.rooms,
                "description": (event.model.__doc__ or "").strip(),
                "payload": keys[(event.model, "serialization")],
            }
            for event in EVENTS
        },
        "$defs": defs.get("$defs", {}),
    }
