"""Hand-off of intake records to the departments' approval back-ends (transactional outbox).

``enqueue_handoff`` adds the message in the caller's transaction, next to the
intake record. ``dispatch_due`` (run by an APScheduler job) then:

1. claims due messages in one short transaction (PostgreSQL: ``FOR UPDATE
   SKIP LOCKED``; SQLite: the write transaction is ``BEGIN IMMEDIATE``) by
   giving each a lease — ``next_attempt_at`` moves to the end of the lease and
   ``lease_token`` names the run — so no other dispatcher picks it up;
2. delivers each *outside* any database lock (an HTTP call must not hold the
   database);
3. settles each in its own transaction: delivered only on success; a failure
   is retried after an exponential backoff with full jitter, and after
   ``max_attempts`` the message is dead-lettered for an admin to ``resend``.

If a run outlives its lease, another dispatcher may deliver the same message
again; back-ends get the idempotency key on every try and count it once, and
our side marks a message delivered once (a late success finds it delivered).
A run that has used half its lease gives its untried messages back.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from apscheduler.job import Job
from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hall_ops.cases.models import MESSAGE_STATUSES, HandoffMessage
from hall_ops.clock import Clock, system_clock
from hall_ops.config import ConfigError
from hall_ops.db import Database
from hall_ops.errors import Conflict, InvalidInput, NotFound
from hall_ops.staff import log as security_log

log = logging.getLogger(__name__)

MAX_ERROR_LENGTH = 1000


# ---------------------------------------------------------------- the back-end interface


@dataclass(frozen=True)
class OutgoingMessage:
    """What a back-end gets: a snapshot, so delivery touches no database session."""

    id: int
    idempotency_key: str
    case_number: str
    department: str
    payload: dict[str, Any]
    attempt: int
    """1 for the first try."""


class DeliveryError(Exception):
    """The back-end did not accept the message; it will be retried.

    ``status``: the HTTP status the back-end answered, if it answered at all.
    """

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class ApprovalBackend(Protocol):
    """A department's approval back-end. ``deliver`` returns once the message is accepted."""

    name: str
    """Kind of back-end, recorded on the message: ``console`` or ``webhook``."""

    def deliver(self, message: OutgoingMessage) -> None:
        """Raises ``DeliveryError`` if the back-end did not accept the message."""
        ...


BackendFor = Callable[[str], ApprovalBackend]
"""Department code → its back-end (``hall_ops.cases.approval.Backends`` is one)."""


# ---------------------------------------------------------------- policy


POLICY_KEYS = frozenset({"max_attempts", "backoff_base_seconds", "backoff_cap_seconds",
                         "lease_seconds"})
"""Keys of ``[approval]`` read by ``policy_from_config``."""


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    """Tries before a message is dead-lettered."""
    base_seconds: float = 2.0
    cap_seconds: float = 300.0
    lease_seconds: float = 60.0
    """How long a claimed message is hidden from other dispatchers while it is delivered."""

    def ceiling(self, attempts: int) -> float:
        """Longest wait after the ``attempts``-th failed try: base·2^(attempts−1), capped."""
        return min(self.cap_seconds, self.base_seconds * 2 ** (attempts - 1))

    def delay(self, attempts: int, rng: random.Random) -> float:
        """Full jitter, uniform in [0, ceiling]: retries of many messages after one outage
        spread out instead of arriving at the recovering back-end together."""
        return rng.uniform(0, self.ceiling(attempts))


def policy_from_config(section: Mapping[str, Any]) -> RetryPolicy:
    """The retry policy from ``[approval]`` (``max_attempts``, ``backoff_base_seconds``,
    ``backoff_cap_seconds``, ``lease_seconds``); absent keys keep their defaults."""
    defaults = RetryPolicy()

    def number(key: str, default: float) -> float:
        value = section.get(key, default)
        if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
            raise ConfigError(f"[approval] {key}: must be a positive number, got {value!r}")
        return float(value)

    attempts = section.get("max_attempts", defaults.max_attempts)
    if not isinstance(attempts, int) or isinstance(attempts, bool) or attempts < 1:
        raise ConfigError(f"[approval] max_attempts: must be a whole number ≥ 1, got {attempts!r}")
    base = number("backoff_base_seconds", defaults.base_seconds)
    cap = number("backoff_cap_seconds", defaults.cap_seconds)
    if cap < base:
        raise ConfigError("[approval] backoff_cap_seconds: must not be below backoff_base_seconds")
    return RetryPolicy(
        max_attempts=attempts, base_seconds=base, cap_seconds=cap,
        lease_seconds=number("lease_seconds", defaults.lease_seconds),
    )


# ---------------------------------------------------------------- enqueue


def enqueue_handoff(
    session: Session,
    *,
    case_number: str,
    department: str,
    payload: dict[str, Any],
    idempotency_key: str,
    now: dt.datetime,
) -> HandoffMessage:
    """Add a hand-off to the caller's transaction, due at once.

    The same key again returns the existing message unchanged (even when two
    transactions race: the insert skips on the unique key); a key reused for
    another case or department is a bug and raises ``Conflict``.
    """
    for name, value, longest in (("case_number", case_number, 32), ("department", department, 32),
                                 ("idempotency_key", idempotency_key, 200)):
        if not isinstance(value, str) or not value.strip() or len(value) > longest:
            raise InvalidInput(f"{name} is required (at most {longest} characters)",
                               code="invalid_handoff")
    if not isinstance(payload, dict):
        raise InvalidInput("hand-off payload must be an object", code="invalid_handoff")
    try:
        json.dumps(payload)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"hand-off payload is not JSON: {exc}", code="invalid_handoff") from exc

    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(HandoffMessage)
        .values(
            idempotency_key=idempotency_key, case_number=case_number, department=department,
            payload=payload, status="pending", attempts=0, next_attempt_at=now, created_at=now,
        )
        .on_conflict_do_nothing(index_elements=[HandoffMessage.idempotency_key])
    )
    message = session.scalars(
        select(HandoffMessage).where(HandoffMessage.idempotency_key == idempotency_key)
    ).one()
    if (message.case_number, message.department) != (case_number, department):
        raise Conflict(
            f"idempotency key {idempotency_key!r} already names a hand-off of "
            f"{message.case_number} to {message.department}",
            code="idempotency_key_reused",
        )
    return message


# ---------------------------------------------------------------- dispatch


@dataclass
class DispatchReport:
    """Idempotency keys by what one dispatcher run did with them."""

    delivered: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    """Failed this try; a retry is scheduled."""
    dead: list[str] = field(default_factory=list)
    """Failed the last allowed try: dead-lettered."""
    released: list[str] = field(default_factory=list)
    """Claimed but not tried (half the lease was used up); due again at once."""
    superseded: list[str] = field(default_factory=list)
    """Our lease ran out and another run settled the message; its outcome stands."""

    def __bool__(self) -> bool:
        return any((self.delivered, self.failed, self.dead, self.released, self.superseded))


def _claim(
    db: Database, now: dt.datetime, policy: RetryPolicy, batch: int, token: str
) -> list[OutgoingMessage]:
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
            row.attempts += 1
            row.lease_token = token
            row.next_attempt_at = now + dt.timedelta(seconds=policy.lease_seconds)
            claimed.append(OutgoingMessage(row.id, row.idempotency_key, row.case_number,
                                           row.department, dict(row.payload), row.attempts))
        return claimed


def _settle(
    db: Database,
    message: OutgoingMessage,
    token: str,
    adapter: str | None,
    error: str | None,
    at: dt.datetime,
    policy: RetryPolicy,
    rng: random.Random,
    report: DispatchReport,
) -> None:
    key = message.idempotency_key
    with db.write() as session:
        row = session.get(HandoffMessage, message.id, with_for_update=True)
        if row is None:
            raise NotFound(f"hand-off message {message.id} vanished", code="unknown_message")
        if error is None:
            # A success is true whoever holds the lease now; recorded once.
            if row.status == "delivered":
                report.superseded.append(key)
                return
            row.status = "delivered"
            row.delivered_at = at
            row.next_attempt_at = at
            row.last_error = None
            row.lease_token = None
            row.adapter = adapter
            report.delivered.append(key)
            return
        if row.status != "pending" or row.lease_token != token:
            report.superseded.append(key)
            return
        row.last_error = error[:MAX_ERROR_LENGTH]
        row.lease_token = None
        row.adapter = adapter
        if row.attempts >= policy.max_attempts:
            row.status = "dead"
            row.next_attempt_at = at
            report.dead.append(key)
            log.error("hand-off %s dead after %d tries: %s", key, row.attempts, error)
        else:
            row.next_attempt_at = at + dt.timedelta(seconds=policy.delay(row.attempts, rng))
            report.failed.append(key)
            log.warning("hand-off %s try %d failed: %s", key, row.attempts, error)


def _release(
    db: Database, messages: list[OutgoingMessage], token: str, now: dt.datetime,
    report: DispatchReport,
) -> None:
    with db.write() as session:
        for message in messages:
            row = session.get(HandoffMessage, message.id, with_for_update=True)
            if row is not None and row.status == "pending" and row.lease_token == token:
                row.attempts -= 1
                row.lease_token = None
                row.next_attempt_at = now
                report.released.append(message.idempotency_key)


def dispatch_due(
    db: Database,
    backends: BackendFor,
    now: dt.datetime,
    *,
    policy: RetryPolicy = RetryPolicy(),
    rng: random.Random | None = None,
    batch: int = 50,
) -> DispatchReport:
    """Try every message due at ``now`` once (up to ``batch``); see the module docstring."""
    rng = rng or random.Random()
    token = uuid.uuid4().hex
    report = DispatchReport()
    claimed = _claim(db, now, policy, batch, token)
    started = time.monotonic()
    for index, message in enumerate(claimed):
        elapsed = time.monotonic() - started
        if index > 0 and elapsed > policy.lease_seconds / 2:
            _release(db, claimed[index:], token, now, report)
            break
        adapter: str | None = None
        error: str | None = None
        try:
            backend = backends(message.department)
            adapter = backend.name
            backend.deliver(message)
        except DeliveryError as exc:
            error = str(exc)
        except Exception as exc:
            log.exception("hand-off %s: back-end failed", message.idempotency_key)
            error = f"{type(exc).__name__}: {exc}"
        at = now + dt.timedelta(seconds=time.monotonic() - started)
        _settle(db, message, token, adapter, error, at, policy, rng, report)
    return report


# ---------------------------------------------------------------- admin


def resend(session: Session, message_id: int, now: dt.datetime, actor: str) -> HandoffMessage:
    """An admin sends a dead-lettered message again, due now, with a fresh count of tries;
    the security log records who (in the caller's transaction)."""
    row = session.get(HandoffMessage, message_id, with_for_update=True)
    if row is None:
        raise NotFound(f"no hand-off message {message_id}", code="unknown_message")
    if row.status != "dead":
        raise Conflict(
            f"message {message_id} is {row.status}; only a dead letter can be resent",
            code="not_dead",
        )
    row.status = "pending"
    row.attempts = 0
    row.next_attempt_at = now
    security_log.record(session, "outbox_resent", now, actor=actor,
                        subject=f"message:{message_id}", case=row.case_number,
                        department=row.department)
    return row


def list_messages(
    session: Session, status: str | None = None, limit: int = 200
) -> list[HandoffMessage]:
    """Newest first, for the admin page; ``status`` one of ``MESSAGE_STATUSES`` or all."""
    if status is not None and status not in MESSAGE_STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(MESSAGE_STATUSES)}",
                           code="invalid_status")
    query = select(HandoffMessage).order_by(HandoffMessage.id.desc()).limit(limit)
    if status is not None:
        query = query.where(HandoffMessage.status == status)
    return list(session.scalars(query))


# ---------------------------------------------------------------- scheduling


def register_dispatcher(
    scheduler: BaseScheduler,
    db: Database,
    backends: BackendFor,
    interval_seconds: float,
    *,
    policy: RetryPolicy = RetryPolicy(),
    clock: Clock = system_clock,
    on_report: Callable[[DispatchReport], None] | None = None,
) -> Job:
    """Run ``dispatch_due`` every ``interval_seconds`` on an APScheduler 3 scheduler.

    One run at a time (``max_instances=1``), missed runs collapsed into one
    (``coalesce``): a slow back-end delays the next run instead of stacking
    them. ``on_report`` gets every run that did something. A failing run is
    logged and the next one comes as planned.
    """
    if interval_seconds <= 0:
        raise ValueError("interval_seconds must be positive")

    def run() -> None:
        try:
            report = dispatch_due(db, backends, clock(), policy=policy)
            if on_report is not None and report:
                on_report(report)
        except Exception:
            log.exception("hand-off dispatch failed")

    return scheduler.add_job(
        run, "interval", seconds=interval_seconds, id="dispatch_handoffs",
        replace_existing=True, max_instances=1, coalesce=True,
        next_run_time=dt.datetime.now(dt.UTC),
    )
