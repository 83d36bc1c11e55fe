"""Approval back-ends behind one interface, and the status that comes back from them.

- ``ConsoleBackend``: the built-in back-office console, for departments
  without a system of their own; approvers claim, approve, reject or ask for
  a supplement, and the case items follow.
- ``WebhookBackend``: POSTs the hand-off as JSON to the department's own
  system, signed with HMAC-SHA256 over ``timestamp.body``; status comes back
  on the signed callback endpoint, checked by ``verify_callback``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from hall_ops.config import ConfigError
from hall_ops.db import Database
from hall_ops.errors import Conflict, InvalidInput, NotFound
from hall_ops.handoff import ApprovalBackend, DeliveryError, OutgoingMessage
from hall_ops.handoff_models import ConsoleCase
from hall_ops.intake import set_item_status
from hall_ops.intake_models import Case, CaseItem

SIGNATURE_HEADER = "X-Hall-Signature"
TIMESTAMP_HEADER = "X-Hall-Timestamp"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` over ``timestamp.body``: a replayed body with a new timestamp fails."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_callback(
    secret: str,
    body: bytes,
    signature_header: str | None,
    timestamp_header: str | None,
    now: dt.datetime,
    tolerance_s: int = 300,
) -> bool:
    if not signature_header or not timestamp_header or not timestamp_header.isdigit():
        return False
    sent = dt.datetime.fromtimestamp(int(timestamp_header), dt.UTC).replace(tzinfo=None)
    if abs((now - sent).total_seconds()) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, timestamp_header, body), signature_header)


class WebhookBackend:
    name = "webhook"

    def __init__(self, url: str, secret: str, timeout: float = 10.0) -> None:
        self.url, self.secret, self.timeout = url, secret, timeout

    def deliver(self, message: OutgoingMessage) -> None:
        body = json.dumps(
            {"idempotency_key": message.idempotency_key, **message.payload},
            ensure_ascii=False, separators=(",", ":"),
        ).encode()
        timestamp = str(int(dt.datetime.now(dt.UTC).timestamp()))
        try:
            response = requests.post(
                self.url, data=body, timeout=self.timeout,
                headers={
                    "Content-Type": "application/json; charset=utf-8",
                    SIGNATURE_HEADER: sign(self.secret, timestamp, body),
                    TIMESTAMP_HEADER: timestamp,
                    "Idempotency-Key": message.idempotency_key,
                },
            )
        except requests.RequestException as exc:
            raise DeliveryError(f"{self.url}: {type(exc).__name__}: {exc}") from exc
        if not 200 <= response.status_code < 300:
            raise DeliveryError(f"{self.url} answered {response.status_code}: {response.text[:200]}")


class ConsoleBackend:
    """Delivering = the case appears in the department's console queue (once per message)."""

    name = "console"

    def __init__(self, db: Database) -> None:
        self.db = db

    def deliver(self, message: OutgoingMessage) -> None:
        with self.db.write() as session:
            exists = session.scalars(
                select(ConsoleCase.id).where(ConsoleCase.message_id == message.id)
            ).first()
            if exists is None:
                now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
                session.add(ConsoleCase(
                    message_id=message.id, department=message.department,
                    case_number=message.case_number, status="submitted",
                    received_at=now, updated_at=now,
                ))


@dataclass(frozen=True)
class Backends:
    default: ApprovalBackend
    by_department: Mapping[str, ApprovalBackend]
    secrets: Mapping[str, str]
    """Webhook secrets per department: the callback of that department is checked with it."""

    def for_department(self, department: str) -> ApprovalBackend:
        return self.by_department.get(department, self.default)


def backends_from_config(section: Mapping[str, Any], db: Database) -> Backends:
    """``[approval]`` with ``[[approval.webhooks]]`` (department, url, secret); others use the console."""
    console = ConsoleBackend(db)
    if section.get("default", "console") != "console":
        raise ConfigError("[approval] default: only 'console' can be the default back-end")
    by_department: dict[str, ApprovalBackend] = {}
    secrets: dict[str, str] = {}
    for i, hook in enumerate(section.get("webhooks", [])):
        where = f"[[approval.webhooks]] #{i + 1}"
        for key in ("department", "url", "secret"):
            if not isinstance(hook.get(key), str) or not hook[key]:
                raise ConfigError(f"{where}: '{key}' is required")
        if hook["department"] in by_department:
            raise ConfigError(f"{where}: department {hook['department']!r} twice")
        by_department[hook["department"]] = WebhookBackend(
            hook["url"], hook["secret"], float(hook.get("timeout_seconds", 10)))
        secrets[hook["department"]] = hook["secret"]
    return Backends(console, by_department, secrets)


# ---------------------------------------------------------------- the built-in console

CONSOLE_TRANSITIONS = {
    "claim": ({"submitted", "supplement_requested"}, "claimed", "in_review"),
    "approve": ({"claimed"}, "approved", "approved"),
    "reject": ({"claimed", "submitted"}, "rejected", "rejected"),
    "supplement": ({"claimed"}, "supplement_requested", "supplement_requested"),
}
"""action: (from console states, to console state, status of the department's case items)."""


def console_queue(session: Session, department: str) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(ConsoleCase).where(ConsoleCase.department == department)
        .order_by(ConsoleCase.status != "submitted", ConsoleCase.id)
    ).all()
    return [console_view(row) for row in rows]


def console_view(row: ConsoleCase) -> dict[str, Any]:
    payload = row.message.payload
    return {
        "id": row.id,
        "case_number": row.case_number,
        "department": row.department,
        "status": row.status,
        "claimed_by": row.claimed_by,
        "reason": row.reason,
        "items": payload.get("items", []),
        "materials": payload.get("materials", []),
        "applicant": payload.get("applicant", {}),
        "received_at": row.received_at.replace(tzinfo=dt.UTC).isoformat(),
    }


def console_act(
    session: Session, case_id: int, action: str, approver: str, now: dt.datetime,
    reason: str | None = None,
) -> ConsoleCase:
    """An approver acts on a console case; the department's items of the case follow."""
    if action not in CONSOLE_TRANSITIONS:
        raise InvalidInput(f"action must be one of {', '.join(CONSOLE_TRANSITIONS)}",
                           code="invalid_action")
    if not approver or not approver.strip():
        raise InvalidInput("approver is required", code="approver_required")
    row = session.get(ConsoleCase, case_id, with_for_update=True)
    if row is None:
        raise NotFound(f"no console case {case_id}", code="unknown_console_case")
    allowed, to_state, item_status = CONSOLE_TRANSITIONS[action]
    if row.status not in allowed:
        raise Conflict(f"case {row.case_number} is {row.status}; cannot {action}",
                       code="invalid_transition")
    if action != "claim" and row.claimed_by not in (None, approver.strip()):
        raise Conflict(f"case {row.case_number} is claimed by {row.claimed_by}",
                       code="claimed_by_other")
    items = session.scalars(
        select(CaseItem.item_code).join(Case, Case.id == CaseItem.case_id)
        .where(Case.number == row.case_number, CaseItem.department_code == row.department)
    ).all()
    for item_code in items:
        set_item_status(session, row.case_number, item_code, item_status, approver, reason, now=now)
    row.status = to_state
    row.claimed_by = approver.strip()
    row.reason = (reason or "").strip() or None
    row.updated_at = now
    return row
