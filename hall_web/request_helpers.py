"""What every blueprint needs from a request: its JSON body and fields, a write
transaction that records where the change came from, the clerk at a window."""

from __future__ import annotations

from typing import Any

from flask import request, session

from hall_ops import queue
from hall_ops.errors import InvalidInput, Unauthorized
from hall_web.context import current_hall

MAX_TEXT = 200


def body() -> dict[str, Any]:
    if not request.data:
        return {}
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise InvalidInput("the body must be a JSON object", code="bad_json")
    return data

def field(data: dict[str, Any], name: str, kind: type, *, required: bool = True) -> Any:
    value = data.get(name)
    if value is None:
        if required:
            raise InvalidInput(f"'{name}' is required", code="missing_field", field=name)
        return None
    if kind is int and isinstance(value, str) and value.isdigit():
        value = int(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise InvalidInput(f"'{name}' must be {kind.__name__}", code="invalid_field", field=name)
    if isinstance(value, str) and len(value) > MAX_TEXT:
        raise InvalidInput(f"'{name}' is too long", code="invalid_field", field=name)
    return value


def write():
    """A write transaction whose audit trail records the caller's address (and device, if named)."""
    device = request.headers.get("X-Hall-Device", "")[:40]
    origin = f"{request.remote_addr or '-'} {device}".strip()
    return current_hall().db.write(origin=origin)


def clerk_at(number: int) -> str:
    clerk = session.get("clerk")
    if not clerk or session.get("window") != number:
        raise Unauthorized(f"log in at window {number} first", code="not_logged_in")
    return clerk


def layout() -> dict[str, Any]:
    """Zones, services and windows, for the pages that draw the hall."""
    with current_hall().db.read() as s:
        return queue.hall_layout(s)
