"""Results collected at another hall of the deployment (跨域通办): the two halls' records.

Each hall has its own database; they meet only through the ``HallDirectory``. Two outboxes,
each written in its own hall's transaction and delivered by the job ``exchange``:

1. The origin hall's ready result → the collecting hall (``hall_transfers`` →
   ``incoming_results``). ``send_transfers`` claims due rows with a lease, writes the
   snapshot into the collecting hall's database in *that* database's transaction (insert
   or nothing on the unique (origin hall, case number)), and only after that commit marks
   the transfer ``landed`` at home. A failure between the two commits leaves it pending; the
   retry finds the row already there and lands nothing twice. Only a landed result is
   announced to the citizen (``notices``), naming the collecting hall.
2. The collecting hall's hand-over → the origin hall's case (``incoming_results`` with
   ``handed_over_at`` and no ``reported_at``). ``report_deliveries`` records it in the
   origin hall's database (``record_delivered_elsewhere``: the items delivered, by the
   collecting hall's clerk, at its window; a second report changes nothing) and only then
   sets ``reported_at``.

A hall that cannot be reached is retried with the outbox's backoff, for as long as it takes.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hall_ops.cases.delivery import outstanding_gaps
from hall_ops.cases.handoff import RetryPolicy
from hall_ops.cases.intake import get_case, set_item_status
from hall_ops.cases.models import Case, Delivery, HallTransfer, IncomingResult
from hall_ops.db import Database
from hall_ops.errors import Conflict
from hall_ops.region.directory import HallDirectory

log = logging.getLogger(__name__)

MAX_ERROR_LENGTH = 1000
DEFAULT_POLICY = RetryPolicy(max_attempts=1_000_000, cap_seconds=600)
"""Never given up: a result is not lost because a hall was down for a day."""


@dataclass
class ExchangeReport:
    landed: list[str] = field(default_factory=list)
    """Case numbers whose result landed at the collecting hall in this run."""
    reported: list[str] = field(default_factory=list)
    """Case numbers whose hand-over here the origin hall recorded in this run."""
    failed: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- origin → collecting hall


def _snapshot(session: Session, row: HallTransfer) -> dict[str, Any]:
    case = session.get(Case, row.case_id)
    assert case is not None
    approved = [i for i in case.items if i.status == "approved"]
    return {
        "case_number": case.number,
        "accepted_on": case.day.isoformat(),
        "applicant": {"kind": case.applicant_kind, "name": case.applicant_name,
                      "phone": case.applicant_phone},
        "items": [{"code": i.item_code, "name_zh": i.item.name_zh, "name_en": i.item.name_en,
                   "department": i.department_name_zh} for i in approved],
        "gaps": [{"name_zh": m.name_zh, "name_en": m.name_en}
                 for m in outstanding_gaps(case, approved)],
    }


def _claim(db: Database, now: dt.datetime, policy: RetryPolicy,
           batch: int) -> list[tuple[int, str, dict[str, Any]]]:
    with db.write() as session:
        rows = session.scalars(
            select(HallTransfer)
            .where(HallTransfer.status == "pending", HallTransfer.next_attempt_at <= now)
            .order_by(HallTransfer.next_attempt_at, HallTransfer.id)
            .limit(batch).with_for_update(skip_locked=True)
        ).all()
        claimed = []
        for row in rows:
            row.attempts += 1
            row.next_attempt_at = now + dt.timedelta(seconds=policy.lease_seconds)
            claimed.append((row.id, row.to_hall, _snapshot(session, row)))
        return claimed


def land(session: Session, from_hall: str, payload: dict[str, Any],
         now: dt.datetime) -> IncomingResult:
    """At the collecting hall: the result is here, once however often it is sent."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(
        insert(IncomingResult)
        .values(from_hall=from_hall, case_number=payload["case_number"], payload=payload,
                received_at=now, report_attempts=0)
        .on_conflict_do_nothing(index_elements=[IncomingResult.from_hall,
                                                IncomingResult.case_number])
    )
    return session.scalars(select(IncomingResult).where(
        IncomingResult.from_hall == from_hall,
        IncomingResult.case_number == payload["case_number"])).one()


def _settle_transfer(db: Database, transfer_id: int, error: str | None,
                     names: tuple[str, str] | None, at: dt.datetime, policy: RetryPolicy,
                     rng: random.Random) -> None:
    with db.write() as session:
        row = session.get(HallTransfer, transfer_id, with_for_update=True)
        assert row is not None
        if error is None:
            row.status, row.landed_at, row.last_error = "landed", at, None
            if names is not None:
                row.to_hall_name_zh, row.to_hall_name_en = names
            return
        row.last_error = error[:MAX_ERROR_LENGTH]
        row.next_attempt_at = at + dt.timedelta(seconds=policy.delay(row.attempts, rng))


def send_transfers(
    db: Database, directory: HallDirectory, self_code: str, now: dt.datetime, *,
    policy: RetryPolicy = DEFAULT_POLICY, rng: random.Random | None = None, batch: int = 50,
    report: ExchangeReport | None = None,
) -> ExchangeReport:
    """Send every due ready result to its collecting hall (see the module docstring)."""
    rng = rng or random.Random()
    report = report or ExchangeReport()
    for transfer_id, to_hall, payload in _claim(db, now, policy, batch):
        error: str | None = None
        names: tuple[str, str] | None = None
        try:
            ref = directory.hall(to_hall)
            if ref is None:
                raise LookupError(f"hall {to_hall!r} is not in the deployment")
            names = (ref.name_zh, ref.name_en)
            with directory.database(to_hall).write() as session:
                land(session, self_code, payload, now)
        except Exception as exc:
            log.warning("result of %s not sent to hall %s: %s", payload["case_number"], to_hall,
                        exc)
            error = f"{type(exc).__name__}: {exc}"
        _settle_transfer(db, transfer_id, error, names, now, policy, rng)
        (report.failed if error else report.landed).append(payload["case_number"])
    return report


# ---------------------------------------------------------------- collecting hall → origin


def record_delivered_elsewhere(
    session: Session, case_number: str, at_hall: str, window: int, clerk_id: str,
    at: dt.datetime, note: str | None,
) -> bool:
    """At the origin hall: the result was handed over at hall ``at_hall``'s window ``window``
    by its clerk ``clerk_id``. The items are delivered, in their history as that clerk of that
    hall. False if it was recorded before (a retried report)."""
    case = get_case(session, case_number)
    delivery = session.scalars(
        select(Delivery).where(Delivery.case_id == case.id).with_for_update()).first()
    if delivery is None or case.delivery_mode != "other_hall" or case.delivery_hall != at_hall:
        raise Conflict(f"the result of {case_number} is not for hall {at_hall}",
                       code="not_for_this_hall")
    if delivery.handed_over_at is not None:
        return False
    reason = f"handed over at hall {at_hall}, window {window}" + (f"; {note}" if note else "")
    actor = f"{clerk_id}@{at_hall}"[:64]
    for item in case.items:
        if item.status == "approved":
            set_item_status(session, case.number, item.item_code, "delivered", actor,
                            reason[:500], now=at)
    delivery.handed_over_at, delivery.window_number, delivery.clerk_id = at, window, clerk_id
    delivery.delivered_hall = at_hall
    case.windows_visited += 1
    return True


def report_deliveries(
    db: Database, directory: HallDirectory, self_code: str, now: dt.datetime, *,
    policy: RetryPolicy = DEFAULT_POLICY, rng: random.Random | None = None,
    only: int | None = None, report: ExchangeReport | None = None,
) -> ExchangeReport:
    """Tell each origin hall of the results handed over here (``only``: that one row, at once,
    as the hand-over view does after its commit; the job does the rest)."""
    rng = rng or random.Random()
    report = report or ExchangeReport()
    with db.read() as session:
        query = select(IncomingResult).where(IncomingResult.handed_over_at.is_not(None),
                                             IncomingResult.reported_at.is_(None))
        if only is not None:
            query = query.where(IncomingResult.id == only)
        else:
            query = query.where(IncomingResult.report_next_at <= now)
        due = [(r.id, r.from_hall, r.case_number, r.window_number, r.clerk_id, r.handed_over_at,
                r.reason) for r in session.scalars(query.order_by(IncomingResult.id))]
    for row_id, from_hall, number, window, clerk, at, note in due:
        assert window is not None and clerk is not None and at is not None
        error: str | None = None
        try:
            with directory.database(from_hall).write() as origin:
                record_delivered_elsewhere(origin, number, self_code, window, clerk, at, note)
        except Exception as exc:
            log.warning("hand-over of %s not recorded at hall %s: %s", number, from_hall, exc)
            error = f"{type(exc).__name__}: {exc}"
        with db.write() as session:
            row = session.get(IncomingResult, row_id, with_for_update=True)
            assert row is not None
            if error is None:
                row.reported_at, row.report_error = now, None
            elif row.reported_at is None:
                row.report_attempts += 1
                row.report_error = error[:MAX_ERROR_LENGTH]
                row.report_next_at = now + dt.timedelta(
                    seconds=policy.delay(row.report_attempts, rng))
        (report.failed if error else report.reported).append(number)
    return report


def exchange(db: Database, directory: HallDirectory, self_code: str, now: dt.datetime,
             *, policy: RetryPolicy = DEFAULT_POLICY) -> ExchangeReport:
    """The job of a hall in a deployment: send its ready results, report its hand-overs."""
    report = send_transfers(db, directory, self_code, now, policy=policy)
    return report_deliveries(db, directory, self_code, now, policy=policy, report=report)
