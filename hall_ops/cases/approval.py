"""Approval back-ends behind one interface, and the status that comes back from them.

- ``ConsoleBackend``: the built-in back-office console, for departments
  without a system of their own. Delivering creates a console case; an
  approver claims it, then approves, rejects or asks for a supplement, and
  the department's items of the intake record follow.
- ``WebhookBackend``: POSTs the hand-off as JSON to the department's own
  system. ``X-Hall-Signature: sha256=<hex>`` is the HMAC-SHA256, with the
  shared secret, of ``<X-Hall-Timestamp>.<raw body>``: the timestamp is
  signed too, so a captured request cannot be replayed later under a fresh
  timestamp. Status comes back on a callback signed the same way and checked
  by ``verify_callback``.

The interface itself (``ApprovalBackend``, ``DeliveryError``,
``OutgoingMessage``) lives in ``hall_ops.cases.handoff`` and is re-exported here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hall_ops.cases.delivery import gaps_reason, outstanding_gaps, record_if_ready
from hall_ops.cases.handoff import (
    POLICY_KEYS,
    ApprovalBackend,
    DeliveryError,
    OutgoingMessage,
)
from hall_ops.cases.intake import set_item_status
from hall_ops.cases.models import Case, CaseItem, ConsoleCase, SeenCallback
from hall_ops.clock import Clock, system_clock
from hall_ops.config import ConfigError
from hall_ops.db import Database
from hall_ops.errors import Conflict, InvalidInput, NotFound

__all__ = [
    "ApprovalBackend", "Backends", "ConsoleBackend", "DeliveryError", "OutgoingMessage",
    "WebhookBackend", "approve", "backends_from_config", "claim", "console_act",
    "console_queue", "console_view", "reject", "remember_callback", "request_supplement", "sign",
    "verify_callback",
]

SIGNATURE_HEADER = "X-Hall-Signature"
TIMESTAMP_HEADER = "X-Hall-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"
DEFAULT_TOLERANCE_S = 300
DEFAULT_TIMEOUT_S = 10.0


# ---------------------------------------------------------------- signatures


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256 over ``timestamp.body`` with the shared secret."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body,
                   hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_callback(
    secret: str,
    body: bytes,
    signature_header: str | None,
    timestamp_header: str | None,
    now: dt.datetime,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
) -> bool:
    """True only for a fresh request signed with ``secret`` (naive ``now`` is UTC).

    A timestamp more than ``tolerance_s`` away from ``now`` either way is
    refused (a replay, or a badly wrong clock); the signature is compared in
    constant time. Malformed or missing headers are simply ``False``.
    """
    if not secret or not signature_header or not timestamp_header:
        return False
    timestamp = timestamp_header.strip()
    if not re.fullmatch(r"[0-9]{1,12}", timestamp):
        return False
    now_s = (now if now.tzinfo else now.replace(tzinfo=dt.UTC)).timestamp()
    if abs(now_s - int(timestamp)) > tolerance_s:
        return False
    expected = sign(secret, timestamp, body).encode("ascii")
    return hmac.compare_digest(expected, signature_header.strip().encode("utf-8"))


def remember_callback(
    session: Session,
    department: str,
    signature_header: str,
    timestamp_header: str,
    now: dt.datetime,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
) -> None:
    """Refuse (409 ``replayed_callback``) a verified callback whose signature was seen before.

    Call in the transaction that applies the callback: if that rolls back, the signature is
    not remembered. The insert is atomic on both databases, so of two identical requests at
    the same instant exactly one gets through. Signatures older than the tolerance window are
    dropped: their timestamp alone refuses them now.
    """
    signature = signature_header.strip()
    expires_at = dt.datetime.fromtimestamp(
        int(timestamp_header.strip()) + tolerance_s, dt.UTC
    ).replace(tzinfo=None)
    session.execute(delete(SeenCallback).where(SeenCallback.expires_at < now))
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    added = session.execute(
        insert(SeenCallback)
        .values(signature=signature, department=department, seen_at=now, expires_at=expires_at)
        .on_conflict_do_nothing(index_elements=[SeenCallback.signature])
        .returning(SeenCallback.signature)
    ).first()
    if added is None:
        raise Conflict("this callback was received before; sign a fresh one to resend",
                       code="replayed_callback")


# ---------------------------------------------------------------- back-ends


class WebhookBackend:
    """A department's own approval system, reached by a signed POST; 2xx means accepted.

    Redirects are not followed (a 3xx is not an acceptance). Any other status
    or a network failure raises ``DeliveryError`` with the status and the
    start of the answer, which the outbox keeps as ``last_error``.
    """

    name = "webhook"

    def __init__(self, url: str, secret: str, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        self.url, self.secret, self.timeout = url, secret, timeout

    def deliver(self, message: OutgoingMessage) -> None:
        body = json.dumps(
            {**message.payload, "idempotency_key": message.idempotency_key},
            ensure_ascii=False, separators=(",", ":"),
        ).encode("utf-8")
        timestamp = str(int(time.time()))
        try:
            response = requests.post(
                self.url, data=body, timeout=self.timeout, allow_redirects=False,
                headers={
                    "Content-Type": "application/json; charset=utf-8",
                    "User-Agent": "hall-ops",
                    SIGNATURE_HEADER: sign(self.secret, timestamp, body),
                    TIMESTAMP_HEADER: timestamp,
                    IDEMPOTENCY_HEADER: message.idempotency_key,
                },
            )
        except requests.RequestException as exc:
            raise DeliveryError(f"{self.url}: {type(exc).__name__}: {exc}") from exc
        with response:
            if not 200 <= response.status_code < 300:
                raise DeliveryError(
                    f"{self.url} answered HTTP {response.status_code}: {response.text[:200]}",
                    status=response.status_code,
                )


class ConsoleBackend:
    """Delivering = the case appears in the department's console queue, once per key."""

    name = "console"

    def __init__(self, db: Database, clock: Clock = system_clock) -> None:
        self.db, self.clock = db, clock

    def deliver(self, message: OutgoingMessage) -> None:
        if message.department.startswith("_"):
            # a report to a platform (``hall_ops.evaluation.export``) whose back-end is gone
            raise DeliveryError(f"no back-end is configured for {message.department}")
        now = self.clock()
        with self.db.write() as session:
            dialect = session.get_bind().dialect.name
            insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
            session.execute(
                insert(ConsoleCase)
                .values(
                    handoff_key=message.idempotency_key, department=message.department,
                    case_number=message.case_number, payload=message.payload,
                    status="submitted", received_at=now, updated_at=now,
                )
                .on_conflict_do_nothing(index_elements=[ConsoleCase.handoff_key])
            )


@dataclass(frozen=True)
class Backends:
    """Department → back-end: its webhook if configured, else the console.

    Callable, so it can be handed straight to ``dispatch_due`` and
    ``register_dispatcher``.
    """

    default: ApprovalBackend
    by_department: Mapping[str, ApprovalBackend]
    secrets: Mapping[str, str]
    """Webhook secret per department: that department's callbacks are checked with it."""

    def for_department(self, department: str) -> ApprovalBackend:
        return self.by_department.get(department, self.default)

    def __call__(self, department: str) -> ApprovalBackend:
        return self.for_department(department)


APPROVAL_KEYS = frozenset({"default", "webhooks"}) | POLICY_KEYS
WEBHOOK_KEYS = frozenset({"department", "url", "secret", "timeout_seconds"})


def backends_from_config(
    section: Mapping[str, Any], db: Database, *, clock: Clock = system_clock
) -> Backends:
    """The back-ends from the ``[approval]`` section of config.toml::

        [approval]
        default = "console"            # departments without a webhook
        max_attempts = 8               # retry policy: see hall_ops.cases.handoff.policy_from_config
        backoff_base_seconds = 2
        backoff_cap_seconds = 300
        [[approval.webhooks]]
        department = "scj"             # department code of the catalogue
        url = "https://approval.example.gov/intake"
        secret = "…"                   # shared HMAC secret, also checks its callbacks
        timeout_seconds = 10           # optional
    """
    unknown = set(section) - APPROVAL_KEYS
    if unknown:
        raise ConfigError(f"[approval]: unknown key(s) {sorted(unknown)}")
    if section.get("default", "console") != "console":
        raise ConfigError("[approval] default: only 'console' can be the default back-end")
    hooks = section.get("webhooks", [])
    if not isinstance(hooks, list):
        raise ConfigError("[approval] webhooks: write each as [[approval.webhooks]]")
    by_department: dict[str, ApprovalBackend] = {}
    secrets: dict[str, str] = {}
    for i, hook in enumerate(hooks):
        where = f"[[approval.webhooks]] #{i + 1}"
        if not isinstance(hook, dict):
            raise ConfigError(f"{where}: must be a table")
        unknown = set(hook) - WEBHOOK_KEYS
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {sorted(unknown)}")
        for key in ("department", "url", "secret"):
            if not isinstance(hook.get(key), str) or not hook[key].strip():
                raise ConfigError(f"{where}: '{key}' is required")
        department, url = hook["department"].strip(), hook["url"].strip()
        if not re.match(r"https?://[^/\s]+", url):
            raise ConfigError(f"{where}: url must start with http:// or https://, got {url!r}")
        timeout = hook.get("timeout_seconds", DEFAULT_TIMEOUT_S)
        if not isinstance(timeout, int | float) or isinstance(timeout, bool) or timeout <= 0:
            raise ConfigError(f"{where}: timeout_seconds must be a positive number")
        if department in by_department:
            raise ConfigError(f"{where}: department {department!r} has a webhook already")
        by_department[department] = WebhookBackend(url, hook["secret"], float(timeout))
        secrets[department] = hook["secret"]
    return Backends(ConsoleBackend(db, clock), by_department, secrets)


# ---------------------------------------------------------------- the built-in console

OPEN_CONSOLE_STATUSES = ("submitted", "claimed", "supplement_requested")
RECENT_DECIDED = 50
"""Decided cases the queue still shows, newest first, so an approver sees what just happened."""

_MOVES: dict[str, tuple[frozenset[str], str, str]] = {
    "claim": (frozenset({"submitted", "supplement_requested"}), "claimed", "in_review"),
    "approve": (frozenset({"claimed"}), "approved", "approved"),
    "reject": (frozenset({"claimed"}), "rejected", "rejected"),
    "supplement": (frozenset({"claimed"}), "supplement_requested", "supplement_requested"),
}
"""action: (console states it may start from, console state after, status of the case items)."""
CONSOLE_ACTIONS = tuple(_MOVES)


def console_queue(session: Session, department: str) -> list[dict[str, Any]]:
    """The department's open cases, oldest first, then its latest decided ones."""
    base = select(ConsoleCase).where(ConsoleCase.department == department)
    open_rows = session.scalars(
        base.where(ConsoleCase.status.in_(OPEN_CONSOLE_STATUSES)).order_by(ConsoleCase.id)
    ).all()
    decided = session.scalars(
        base.where(ConsoleCase.status.not_in(OPEN_CONSOLE_STATUSES))
        .order_by(ConsoleCase.decided_at.desc(), ConsoleCase.id.desc())
        .limit(RECENT_DECIDED)
    ).all()
    return [console_view(row) for row in [*open_rows, *decided]]


def console_view(row: ConsoleCase) -> dict[str, Any]:
    """What an approver sees: the full applicant identity (the department decides on it)."""
    def iso(value: dt.datetime | None) -> str | None:
        return value.replace(tzinfo=dt.UTC).isoformat() if value else None

    return {
        "id": row.id,
        "case_number": row.case_number,
        "department": row.department,
        "status": row.status,
        "claimed_by": row.claimed_by,
        "reason": row.reason,
        "items": row.payload.get("items", []),
        "materials": row.payload.get("materials", []),
        "applicant": row.payload.get("applicant", {}),
        "received_at": iso(row.received_at),
        "claimed_at": iso(row.claimed_at),
        "decided_at": iso(row.decided_at),
    }


def _move(
    session: Session, case_id: int, action: str, approver: str, now: dt.datetime,
    reason: str | None, confirm_gaps: bool = False,
) -> ConsoleCase:
    approver = (approver or "").strip()
    if not approver or len(approver) > 64:
        raise InvalidInput("approver is required (at most 64 characters)",
                           code="approver_required")
    reason = (reason or "").strip() or None
    if action in ("reject", "supplement") and reason is None:
        raise InvalidInput(f"a reason is required to {action}: the applicant is told why",
                           code="reason_required")
    if reason is not None and len(reason) > 500:
        raise InvalidInput("reason is at most 500 characters", code="invalid_reason")
    row = session.get(ConsoleCase, case_id, with_for_update=True)
    if row is None:
        raise NotFound(f"no console case {case_id}", code="unknown_console_case")
    allowed, to_status, item_status = _MOVES[action]
    if row.status == "claimed" and row.claimed_by != approver:
        raise Conflict(f"case {row.case_number} is claimed by {row.claimed_by}",
                       code="claimed_by_other", claimed_by=row.claimed_by)
    if action == "claim" and row.status == "claimed":
        return row  # claimed by this approver already: a repeated click changes nothing
    if row.status not in allowed:
        hint = "; claim it first" if row.status in ("submitted", "supplement_requested") else ""
        raise Conflict(f"case {row.case_number} is {row.status}: cannot {action}{hint}",
                       code="invalid_transition", status=row.status)
    items = session.scalars(
        select(CaseItem)
        .join(Case, Case.id == CaseItem.case_id)
        .where(Case.number == row.case_number, CaseItem.department_code == row.department)
        .order_by(CaseItem.id)
    ).all()
    case = session.scalars(select(Case).where(Case.number == row.case_number)).first()
    if action == "approve" and case is not None:
        reason = gaps_reason(outstanding_gaps(case, items), confirm_gaps, reason, "approve")
    for item in items:
        if item.status != item_status:
            set_item_status(session, row.case_number, item.item_code, item_status, approver,
                            reason, now=now)
    if action in ("approve", "reject") and case is not None:
        record_if_ready(session, case, now)
    row.status = to_status
    row.updated_at = now
    if action == "claim":
        row.claimed_by, row.claimed_at = approver, now
    else:
        row.reason = reason
    if action in ("approve", "reject"):
        row.decided_at = now
    session.flush()
    return row


def claim(session: Session, case_id: int, approver: str, *, now: dt.datetime) -> ConsoleCase:
    """An approver takes a submitted case (or one whose supplement came in); its items go
    ``in_review``. Only the claimer may decide it."""
    return _move(session, case_id, "claim", approver, now, None)


def approve(
    session: Session, case_id: int, approver: str, *, now: dt.datetime, note: str | None = None,
    confirm_gaps: bool = False,
) -> ConsoleCase:
    """Approve the department's items; with a gap material of them still outstanding only
    when confirmed with a note (the reason, kept in the items' history)."""
    return _move(session, case_id, "approve", approver, now, note, confirm_gaps)


def reject(
    session: Session, case_id: int, approver: str, reason: str, *, now: dt.datetime
) -> ConsoleCase:
    return _move(session, case_id, "reject", approver, now, reason)


def request_supplement(
    session: Session, case_id: int, approver: str, reason: str, *, now: dt.datetime
) -> ConsoleCase:
    """Ask the applicant for a material; the items' time limits stop until it is claimed again."""
    return _move(session, case_id, "supplement", approver, now, reason)


def console_act(
    session: Session, case_id: int, action: str, approver: str, now: dt.datetime,
    reason: str | None = None, confirm_gaps: bool = False,
) -> ConsoleCase:
    """One of ``CONSOLE_ACTIONS`` by name, for the web edge."""
    if action not in _MOVES:
        raise InvalidInput(f"action must be one of {', '.join(CONSOLE_ACTIONS)}",
                           code="invalid_action")
    return _move(session, case_id, action, approver, now, reason, confirm_gaps)
