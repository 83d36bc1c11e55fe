"""The security log: written in the same transaction as the change it records.

Logins and lockouts, staff and device changes, unmasked reads of a citizen's data, and
the admin's hand-off resends: what an admin (or an auditor) looks back on.

The origin (address, device) comes from the write session, where the web
edge put it (``Database.write(origin=...)``), like every other audit trail.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hall_ops.staff.models import SecurityEvent

KINDS = (
    "first_admin",
    "login",
    "login_failed",
    "locked_out",
    "logout",
    "staff_added",
    "staff_disabled",
    "staff_enabled",
    "password_reset",
    "pin_reset",
    "role_granted",
    "role_revoked",
    "windows_set",
    "device_issued",
    "device_revoked",
    "personal_data_read",
    "outbox_resent",
)


def record(
    session: Session,
    kind: str,
    now: dt.datetime,
    /,
    *,
    actor: str | None = None,
    subject: str | None = None,
    **detail: Any,
) -> SecurityEvent:
    if kind not in KINDS:
        raise ValueError(f"unknown security event {kind!r}")
    event = SecurityEvent(
        at=now,
        kind=kind,
        actor=actor,
        subject=subject,
        origin=(session.info.get("origin") or None),
        detail=detail,
    )
    session.add(event)
    return event


def log_personal_data_read(
    session: Session,
    actor: str,
    case_number: str,
    now: dt.datetime,
    *,
    fields: Sequence[str] = ("name", "id_number", "phone"),
    purpose: str | None = None,
) -> SecurityEvent:
    """Someone saw a citizen's personal data unmasked (PIPL: who, when, which case)."""
    return record(
        session,
        "personal_data_read",
        now,
        actor=actor,
        subject=f"case:{case_number}",
        fields=list(fields),
        **({"purpose": purpose} if purpose else {}),
    )


def recent_events(
    session: Session,
    *,
    kinds: Iterable[str] | None = None,
    subject: str | None = None,
    limit: int = 200,
) -> list[dict[str, Any]]:
    """Newest first, for the admin page: failed logins and lockouts, who read which case."""
    query = select(SecurityEvent).order_by(SecurityEvent.id.desc()).limit(limit)
    if kinds is not None:
        query = query.where(SecurityEvent.kind.in_(list(kinds)))
    if subject is not None:
        query = query.where(SecurityEvent.subject == subject)
    return [
        {
            "id": e.id,
            "at": e.at.isoformat(),
            "kind": e.kind,
            "actor": e.actor,
            "subject": e.subject,
            "origin": e.origin,
            "detail": e.detail,
        }
        for e in session.scalars(query)
    ]
