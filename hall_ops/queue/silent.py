"""Silent calling (无声叫号): an SMS when N people are ahead and when the ticket is called.

A citizen leaves a mobile number for a ticket (at the kiosk or on the ticket's phone page);
it is stored encrypted (``TicketPhone``) and deleted when the ticket is over. After each
committed call or queue change (``TicketCalled``, ``QueueChanged``, see ``SilentCalling``)
``record_due`` adds the messages now due — one ``ticket_messages`` row per ticket and kind,
inserted with ON CONFLICT DO NOTHING, so retries and two processes add it once — and
``send_due`` sends them the way the result notices do: claim with a lease, send outside any
transaction, settle each; ``sent_at`` only when the gateway accepted it, retries with backoff.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import re
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from hall_ops.cases.handoff import RetryPolicy
from hall_ops.cases.identity import mask_phone
from hall_ops.cases.notices import (
    DEFAULT_POLICY,
    MAX_ERROR_LENGTH,
    NoticeError,
    NoticeReport,
    Notifier,
    OutgoingNotice,
    SmsGateway,
)
from hall_ops.clock import hall_day
from hall_ops.config import HallConfig
from hall_ops.db import Database
from hall_ops.errors import Conflict, InvalidInput
from hall_ops.events import Event, QueueChanged, TicketCalled
from hall_ops.queue.models import Ticket, TicketMessage, TicketPhone
from hall_ops.queue.views import ticket_status

log = logging.getLogger(__name__)

MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
OVER = ("done", "cancelled", "expired")
"""A ticket in these states needs no message and keeps no number (a missed one may rejoin)."""


def gateway_of(channels: dict[str, Notifier] | None) -> SmsGateway | None:
    """The SMS gateway if it has silent calling's approved template; else none is offered."""
    sms = (channels or {}).get("sms")
    if isinstance(sms, SmsGateway) and sms.queue_template_code:
        return sms
    return None


def normalise_mobile(phone: str) -> str:
    digits = re.sub(r"[\s-]", "", phone)
    digits = re.sub(r"^(\+86|0086)", "", digits)
    if not MOBILE.match(digits):
        raise InvalidInput("a mainland mobile number of 11 digits", code="invalid_phone")
    return digits


def phone_state(session: Session, ticket: Ticket, hall: HallConfig) -> dict[str, Any]:
    """What the ticket's page shows: the masked number and the messages already sent."""
    row = session.get(TicketPhone, ticket.id)
    sent = session.scalars(select(TicketMessage.kind).where(
        TicketMessage.ticket_id == ticket.id, TicketMessage.status == "sent")).all()
    return {"phone": mask_phone(row.phone) if row else None,
            "notify_ahead": hall.queue.notify_ahead, "sent": sorted(sent)}


def leave_phone(session: Session, ticket: Ticket, phone: str, now: dt.datetime) -> None:
    """Keep ``phone`` (a mainland mobile) for ``ticket`` while it waits; a new one replaces it."""
    number = normalise_mobile(phone)
    if ticket.status != "waiting":
        raise Conflict(f"ticket {ticket.number} is {ticket.status}", code="ticket_not_waiting")
    row = session.get(TicketPhone, ticket.id)
    if row is None:
        session.add(TicketPhone(ticket_id=ticket.id, phone=number, created_at=now))
    else:
        row.phone, row.created_at = number, now


def withdraw_phone(session: Session, ticket: Ticket) -> None:
    """The citizen takes the number back: deleted, and nothing more is sent."""
    _forget(session, [ticket.id])


def _forget(session: Session, ticket_ids: Sequence[int]) -> None:
    if not ticket_ids:
        return
    session.execute(delete(TicketPhone).where(TicketPhone.ticket_id.in_(ticket_ids)))
    session.execute(update(TicketMessage).where(
        TicketMessage.ticket_id.in_(ticket_ids), TicketMessage.status == "pending")
        .values(status="dropped", lease_token=None))


def _add_once(session: Session, values: dict[str, Any]) -> None:
    """Insert unless this ticket already has this kind: the unique key decides, not a read."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(TicketMessage).values(**values)
                    .on_conflict_do_nothing(index_elements=["ticket_id", "kind"]))


def record_due(session: Session, hall: HallConfig, now: dt.datetime) -> int:
    """Add the messages due now for every ticket with a number; forget the numbers of
    tickets that are over. Returns how many tickets were looked at."""
    today = hall_day(now, hall.timezone)
    rows = session.execute(select(TicketPhone.ticket_id, Ticket)
                           .join(Ticket, Ticket.id == TicketPhone.ticket_id)).all()
    over = [t.id for _, t in rows if t.status in OVER or t.day < today]
    _forget(session, over)
    have = {(m.ticket_id, m.kind) for m in session.execute(
        select(TicketMessage.ticket_id, TicketMessage.kind)
        .where(TicketMessage.ticket_id.in_([t.id for _, t in rows])))}
    base = {"status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now}
    for _, ticket in rows:
        if ticket.id in over:
            continue
        if ticket.status in ("called", "serving") and (ticket.id, "called") not in have:
            _add_once(session, {**base, "ticket_id": ticket.id, "kind": "called",
                                "window_number": ticket.window_number})
        elif ticket.status == "waiting" and (ticket.id, "ahead") not in have:
            ahead = ticket_status(session, hall, ticket.status_token)["people_ahead"]
            if ahead <= hall.queue.notify_ahead:
                _add_once(session, {**base, "ticket_id": ticket.id, "kind": "ahead",
                                    "people_ahead": ahead})
    return len(rows)


def _template(gateway: SmsGateway, ticket: Ticket,
              message: TicketMessage) -> tuple[str, tuple[tuple[str, str], ...]]:
    assert gateway.queue_template_code
    params = [("ticket", ticket.number)]
    if message.kind == "ahead":
        params.append(("ahead", str(message.people_ahead or 0)))
    else:
        params.append(("window", str(message.window_number or "")))
    return gateway.queue_template_code, tuple(params)


def _claim(db: Database, gateway: SmsGateway, hall: HallConfig, now: dt.datetime,
           policy: RetryPolicy, token: str, batch: int) -> list[OutgoingNotice]:
    with db.write() as session:
        record_due(session, hall, now)
        session.flush()
        rows = session.scalars(
            select(TicketMessage)
            .where(TicketMessage.status == "pending", TicketMessage.next_attempt_at <= now)
            .order_by(TicketMessage.next_attempt_at, TicketMessage.id)
            .limit(batch).with_for_update(skip_locked=True)).all()
        claimed = []
        for row in rows:
            phone = session.get(TicketPhone, row.ticket_id)
            ticket = session.get(Ticket, row.ticket_id)
            assert ticket is not None
            if phone is None:  # withdrawn, or the ticket is over: nothing to send to
                row.status = "dropped"
                continue
            row.attempts += 1
            row.lease_token = token
            row.next_attempt_at = now + dt.timedelta(seconds=policy.lease_seconds)
            claimed.append(OutgoingNotice(row.id, phone.phone, ticket.number, "", "",
                                          template=_template(gateway, ticket, row)))
        return claimed


def _settle(db: Database, notice: OutgoingNotice, token: str, provider_id: str | None,
            error: str | None, at: dt.datetime, policy: RetryPolicy, rng: random.Random,
            report: NoticeReport) -> None:
    with db.write() as session:
        row = session.get(TicketMessage, notice.id, with_for_update=True)
        if row is None or row.status == "sent":
            return
        if error is None:  # accepted by the gateway: true whoever holds the lease now
            row.status, row.sent_at, row.provider_id = "sent", at, (provider_id or "")[:64]
            row.lease_token, row.last_error = None, None
            report.sent += 1
            return
        if row.lease_token != token:
            return
        row.last_error, row.lease_token = error[:MAX_ERROR_LENGTH], None
        if row.attempts >= policy.max_attempts:
            row.status = "failed"
            report.given_up += 1
            log.error("silent-calling SMS %s failed after %d tries: %s", row.id, row.attempts,
                      error)
        else:
            row.next_attempt_at = at + dt.timedelta(seconds=policy.delay(row.attempts, rng))
            report.failed += 1


def send_due(db: Database, gateway: SmsGateway, hall: HallConfig, now: dt.datetime, *,
             policy: RetryPolicy = DEFAULT_POLICY, rng: random.Random | None = None,
             batch: int = 50) -> NoticeReport:
    """Record what is due, send the due messages, settle each (see the module's text)."""
    rng = rng or random.Random()
    token = uuid.uuid4().hex
    report = NoticeReport()
    with db.read() as session:  # most runs find nothing: no write lock taken for them
        if session.scalar(select(TicketPhone.ticket_id).limit(1)) is None and session.scalar(
                select(TicketMessage.id).where(TicketMessage.status == "pending").limit(1)) is None:
            return report
    started = time.monotonic()
    for notice in _claim(db, gateway, hall, now, policy, token, batch):
        provider_id: str | None = None
        error: str | None = None
        try:
            provider_id = gateway.send(notice)
        except NoticeError as exc:
            error = str(exc)
        except Exception as exc:
            log.exception("silent-calling SMS %s failed", notice.id)
            error = f"{type(exc).__name__}: {exc}"
        at = now + dt.timedelta(seconds=time.monotonic() - started)
        _settle(db, notice, token, provider_id, error, at, policy, rng, report)
    return report


@dataclass
class SilentCalling:
    """Subscribed to the database's committed events: a call or queue change wakes one
    background sender, so ``call_next`` never waits for the gateway. Wakes while it runs
    coalesce into one more run; the scheduler's periodic run retries what failed."""

    db: Database
    gateway: SmsGateway
    hall: HallConfig
    clock: Any
    policy: RetryPolicy = DEFAULT_POLICY

    def __post_init__(self) -> None:
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def on_events(self, events: Sequence[Event]) -> None:
        if any(isinstance(e, TicketCalled | QueueChanged) for e in events):
            self.wake()

    def wake(self) -> None:
        self._wake.set()
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="silent-calling",
                                                daemon=True)
                self._thread.start()

    def _loop(self) -> None:
        """Runs while woken; ends after 5 s idle (under the lock, so no wake is lost)."""
        while True:
            if not self._wake.wait(timeout=5):
                with self._lock:
                    if not self._wake.is_set():
                        self._thread = None
                        return
            self._wake.clear()
            self.run()

    def run(self) -> NoticeReport:
        try:
            return send_due(self.db, self.gateway, self.hall, self.clock(), policy=self.policy)
        except Exception:
            log.exception("silent calling: run failed")
            return NoticeReport()
