"""What every blueprint needs from a request: its JSON body and fields, a write
transaction that records where the change came from, who acts (from the session)."""

from __future__ import annotations

from typing import Any

from flask import request

from hall_ops import queue
from hall_ops.errors import InvalidInput, Unauthorized
from hall_web.access import current_device, current_staff
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
    """A write transaction whose audit trail records the caller's address (and device)."""
    device = current_device()
    origin = f"{request.remote_addr or '-'}" + (f" device:{device.id}" if device else "")
    return current_hall().db.write(origin=origin)


def actor() -> str:
    """The login of the staff member acting: audit rows name them, never a body field."""
    user = current_staff()
    if user is None:
        raise Unauthorized("log in first", code="login_required")
    return str(user.login)


def clerk_at(number: int) -> str:
    """The clerk this session holds window ``number`` for."""
    user = current_staff()
    if user is None or not user.is_clerk_at(number):
        raise Unauthorized(f"log in at window {number} first", code="not_logged_in")
    return str(user.login)


def layout() -> dict[str, Any]:
    """Zones, services and windows, for the pages that draw the hall."""
    with current_hall().db.read() as s:
        return queue.hall_layout(s)
