"""Hand-off of intake records to the departments' approval back-ends (transactional outbox).

``enqueue_handoff`` adds the message in the caller's transaction, next to
the intake record. ``dispatch_due`` (an APScheduler job) claims due messages
with a short lease, delivers them *outside* any database lock, and marks each
delivered only on success; a failure is retried with exponential backoff and
full jitter, and after ``max_attempts`` the message is dead-lettered for an
admin to resend. Back-ends see the idempotency key on every try, so a retry
after a lost answer is recognised, not applied twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy import select
from sqlalchemy.orm import Session

from hall_ops.clock import Clock, system_clock
from hall_ops.db import Database
from hall_ops.errors import Conflict, InvalidInput, NotFound
from hall_ops.handoff_models import MESSAGE_STATUSES, HandoffMessage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutgoingMessage:
    id: int
    idempotency_key: str
    case_number: str
    department: str
    payload: dict[str, Any]
    attempt: int


class DeliveryError(Exception):
    """The back-end did not accept the message (it will be retried)."""


class ApprovalBackend(Protocol):
    name: str

    def deliver(self, message: OutgoingMessage) -> None: ...


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base_seconds: float = 2.0
    cap_seconds: float = 300.0
    lease_seconds: float = 60.0
    """How long a claimed message is hidden from other dispatchers while it is delivered."""

    def delay(self, attempts: int, rng: random.Random) -> float:
        """Full jitter: uniform in [0, min(cap, base·2^attempts)] — retries spread out."""
        return rng.uniform(0, min(self.cap_seconds, self.base_seconds * 2 ** attempts))


@dataclass
class DispatchReport:
    delivered: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    dead: list[str] = field(default_factory=list)


def enqueue_handoff(
    session: Session,
    *,
    case_number: str,
    department: str,
    payload: dict[str, Any],
    idempotency_key: str,
    now: dt.datetime,
) -> HandoffMessage:
    """Add a hand-off to the caller's transaction; the same key twice gives the same message."""
    existing = session.scalars(
        select(HandoffMessage).where(HandoffMessage.idempotency_key == idempotency_key)
    ).first()
    if existing is not None:
        return existing
    message = HandoffMessage(
        idempotency_key=idempotency_key,
        case_number=case_number,
        department=department,
        payload=payload,
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(message)
    session.flush()
    return message


def _claim(db: Database, now: dt.datetime, policy: RetryPolicy, batch: int) -> list[OutgoingMessage]:
    with db.write() as session:
        rows = session.scalars(
            select(HandoffMessage)
            .where(HandoffMessage.status == "pending", HandoffMessage.next_attempt_at <= now)
            .order_by(HandoffMessage.next_attempt_at, HandoffMessage.id)
            .limit(batch)
            .with_for_update(skip_locked=True)
        ).all()
        claimed = []
        for row in rows:
            row.next_attempt_at = now + dt.timedelta(seconds=policy.lease_seconds)
            claimed.append(OutgoingMessage(row.id, row.idempotency_key, row.case_number,
                                           row.department, row.payload, row.attempts + 1))
        return claimed


def dispatch_due(
    db: Database,
    backend_for: Callable[[str], ApprovalBackend],
    now: dt.datetime,
    *,
    policy: RetryPolicy = RetryPolicy(),
    rng: random.Random | None = None,
    batch: int = 50,
) -> DispatchReport:
    """Deliver every due message once; see the module docstring for the guarantees."""
    rng = rng or random.Random()
    report = DispatchReport()
    for message in _claim(db, now, policy, batch):
        backend = backend_for(message.department)
        error: str | None = None
        try:
            backend.deliver(message)
        except DeliveryError as exc:
            error = str(exc)
        except Exception as exc:  # noqa: BLE001 - any failure of a back-end is a failed try
            error = f"{type(exc).__name__}: {exc}"
        with db.write() as session:
            row = session.get(HandoffMessage, message.id, with_for_update=True)
            if row is None or row.status != "pending":
                continue
            row.attempts = message.attempt
            row.adapter = backend.name
            if error is None:
                row.status = "delivered"
                row.delivered_at = now
                row.last_error = None
                report.delivered.append(message.idempotency_key)
            elif row.attempts >= policy.max_attempts:
                row.status = "dead"
                row.last_error = error[:2000]
                report.dead.append(message.idempotency_key)
                log.error("hand-off %s dead after %d tries: %s", row.idempotency_key,
                          row.attempts, error)
            else:
                row.last_error = error[:2000]
                row.next_attempt_at = now + dt.timedelta(seconds=policy.delay(row.attempts, rng))
                report.failed.append(message.idempotency_key)
    return report


def resend(db: Database, message_id: int, now: dt.datetime) -> HandoffMessage:
    """An admin sends a dead-lettered message again, from a fresh count of tries."""
    with db.write() as session:
        row = session.get(HandoffMessage, message_id, with_for_update=True)
        if row is None:
            raise NotFound(f"no hand-off message {message_id}", code="unknown_message")
        if row.status != "dead":
            raise Conflict(f"message {message_id} is {row.status}, not dead", code="not_dead")
        row.status = "pending"
        row.attempts = 0
        row.next_attempt_at = now
        return row


def list_messages(session: Session, status: str | None = None, limit: int = 200) -> list[HandoffMessage]:
    if status is not None and status not in MESSAGE_STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(MESSAGE_STATUSES)}",
                           code="invalid_status")
    query = select(HandoffMessage).order_by(HandoffMessage.id.desc()).limit(limit)
    if status is not None:
        query = query.where(HandoffMessage.status == status)
    return list(session.scalars(query))


def register_dispatcher(
    scheduler: BaseScheduler,
    db: Database,
    backend_for: Callable[[str], ApprovalBackend],
    interval_seconds: float,
    *,
    policy: RetryPolicy = RetryPolicy(),
    clock: Clock = system_clock,
    on_report: Callable[[DispatchReport], None] | None = None,
) -> None:
    def run() -> None:
        try:
            report = dispatch_due(db, backend_for, clock(), policy=policy)
            if on_report is not None and (report.delivered or report.dead):
                on_report(report)
        except Exception:
            log.exception("hand-off dispatch failed")

    scheduler.add_job(run, "interval", seconds=interval_seconds, id="dispatch_handoffs",
                      replace_existing=True, max_instances=1, coalesce=True)


def policy_from_config(section: Mapping[str, Any]) -> RetryPolicy:
    defaults = RetryPolicy()
    return RetryPolicy(
        max_attempts=int(section.get("max_attempts", defaults.max_attempts)),
        base_seconds=float(section.get("backoff_base_seconds", defaults.base_seconds)),
        cap_seconds=float(section.get("backoff_cap_seconds", defaults.cap_seconds)),
    )
