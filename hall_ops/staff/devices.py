"""Screens, kiosks and rating pads: an admin issues each a token, shown once.

The device presents the token once (as a link or QR code opened on it) and
keeps it in a cookie. Only its SHA-256 is stored, so a copy of the database
cannot be turned into a working screen.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hall_ops.errors import InvalidInput, NotFound
from hall_ops.staff import log
from hall_ops.staff.models import DEVICE_KINDS, Device
from hall_ops.staff.policy import StaffPolicy

SCOPE = re.compile(r"^(hall|zone:[a-z_]{1,32}|window:\d{1,4})$")
TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,128}$")


@dataclass(frozen=True)
class DeviceIdentity:
    id: int
    hall: str
    kind: str
    name: str
    scope: str
    last_seen_at: dt.datetime | None

    def covers(self, scope: str) -> bool:
        """A hall-wide device shows every zone and window; others only their own."""
        return self.scope in ("hall", scope)


def device_path(kind: str, scope: str) -> str:
    """The page a device of this kind shows for its scope (its link adds ``device=<token>``)."""
    page = {"screen": "/screen", "kiosk": "/kiosk", "pad": "/pad"}[kind]
    what, _, key = scope.partition(":")
    return f"{page}?{what}={key}" if key else page


def device_link(kind: str, scope: str, token: str) -> str:
    path = device_path(kind, scope)
    return f"{path}{'&' if '?' in path else '?'}device={token}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_device(
    session: Session,
    actor: str | None,
    kind: str,
    name: str,
    scope: str,
    now: dt.datetime,
    policy: StaffPolicy,
    *,
    token: str | None = None,
) -> tuple[Device, str]:
    """A new device and its token; the token is returned here and nowhere else, ever.

    ``token`` lets the demo derive stable tokens from its own secret; otherwise random.
    """
    if kind not in DEVICE_KINDS:
        raise InvalidInput(f"kind must be one of {DEVICE_KINDS}", code="invalid_device_kind")
    name = name.strip() if isinstance(name, str) else ""
    if not 1 <= len(name) <= 64:
        raise InvalidInput("a device name has 1–64 characters", code="invalid_name")
    if not isinstance(scope, str) or not SCOPE.match(scope):
        raise InvalidInput("scope is hall, zone:<code> or window:<n>", code="invalid_scope")
    token = token or secrets.token_urlsafe(32)
    if not TOKEN.match(token):
        raise InvalidInput("a device token is 32–128 URL-safe characters", code="invalid_token")
    device = Device(
        hall=policy.hall,
        kind=kind,
        name=name,
        scope=scope,
        token_hash=token_hash(token),
        issued_at=now,
        issued_by=actor,
    )
    session.add(device)
    session.flush()
    log.record(
        session,
        "device_issued",
        now,
        actor=actor,
        subject=f"device:{device.id}",
        kind=kind,
        name=name,
        scope=scope,
    )
    return device, token


def verify_device(session: Session, token: str | None) -> DeviceIdentity | None:
    """The device a token belongs to, unless revoked. Read-only: safe on every request."""
    if not token or not TOKEN.match(token):
        return None
    device = session.scalars(
        select(Device).where(Device.token_hash == token_hash(token), Device.revoked_at.is_(None))
    ).first()
    if device is None:
        return None
    return DeviceIdentity(
        device.id, device.hall, device.kind, device.name, device.scope, device.last_seen_at
    )


def touch_device(session: Session, device_id: int, now: dt.datetime) -> None:
    """Record that the device was seen (call at most every minute or so, not per request)."""
    session.execute(
        update(Device)
        .where(Device.id == device_id)
        .values(last_seen_at=now, last_seen_from=session.info.get("origin") or None)
    )


def revoke_device(session: Session, actor: str | None, device_id: int, now: dt.datetime) -> Device:
    device = session.get(Device, device_id, with_for_update=True)
    if device is None:
        raise NotFound(f"no device {device_id}", code="unknown_device")
    if device.revoked_at is None:
        device.revoked_at, device.revoked_by = now, actor
        log.record(
            session,
            "device_revoked",
            now,
            actor=actor,
            subject=f"device:{device.id}",
            name=device.name,
        )
    return device


def list_devices(session: Session, hall: str) -> list[dict[str, Any]]:
    rows = session.scalars(select(Device).where(Device.hall == hall).order_by(Device.id))
    return [
        {
            "id": d.id,
            "kind": d.kind,
            "name": d.name,
            "scope": d.scope,
            "issued_at": d.issued_at.isoformat(),
            "issued_by": d.issued_by,
            "revoked_at": d.revoked_at.isoformat() if d.revoked_at else None,
            "last_seen_at": d.last_seen_at.isoformat() if d.last_seen_at else None,
            "last_seen_from": d.last_seen_from,
        }
        for d in rows
    ]
