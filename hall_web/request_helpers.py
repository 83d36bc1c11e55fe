"""What every blueprint needs from a request: a write transaction that records where the
change came from, who acts (from the session), a number from a page's query string. API
bodies and query strings are read by the views' models (``hall_web.api``)."""

from __future__ import annotations

from typing import Any

from flask import request

from hall_ops import queue
from hall_ops.cases.destination import HERE, Destination, check_destination
from hall_ops.errors import InvalidInput, Unauthorized
from hall_web.access import current_device, current_staff
from hall_web.context import current_hall
from hall_web.schemas.clerks import DeliveryChoice


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


def page_number(text: str | None, high: int = 9999) -> int | None:
    """A number from a page's query string (``?window=7``), or None if it is not one."""
    if text is None or not text.isascii() or not text.isdigit() or len(text) > 9:
        return None
    value = int(text)
    return value if value <= high else None


def attached_licences(licences: list[Any]) -> dict[str, str]:
    """Material → licence number; a material listed twice is refused, not silently merged."""
    attached: dict[str, str] = {}
    for entry in licences:
        if entry.material in attached:
            raise InvalidInput(f"{entry.material!r} has two licences", code="material_twice")
        attached[entry.material] = entry.number
    return attached


def destination_of(choice: DeliveryChoice | None) -> Destination:
    """The request's delivery choice, checked against this deployment's other halls."""
    if choice is None:
        return HERE
    hall = current_hall()
    others = [h.code for h in hall.other_halls()] if hall.directory is not None else None
    return check_destination(
        Destination(choice.mode, choice.hall, choice.address, choice.postcode), others)
