"""Webhook hand-off to a real external approval system (a separate process on loopback).

Signatures both ways, failures kept in the outbox, and exactly-once arrival
of forty intake records through an outage and a crash-and-restart of the
external system; one run of two dispatchers over PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import threading
import time
from collections import Counter

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select

from hall_ops.cases.approval import WebhookBackend, sign, verify_callback
from hall_ops.cases.handoff import (
    DeliveryError,
    DispatchReport,
    OutgoingMessage,
    RetryPolicy,
    dispatch_due,
    list_messages,
    register_dispatcher,
)
from hall_ops.cases.models import HandoffMessage
from hall_ops.db import Database
from tests.support.external_approval import ExternalApproval
from tests.support.server import free_port
from tests.test_handoff import enqueue, message, statuses, utcnow, wait_for

SECRET = "change-me"
BODY = b'{"case_number":"SQ20261125-0001","item":"SCJ-01","status":"approved"}'


@pytest.fixture
def external(tmp_path):
    with ExternalApproval(tmp_path, free_port(), SECRET) as server:
        yield server


def outgoing(key: str = "SQ20261125-0001:scj", payload: dict | None = None) -> OutgoingMessage:
    return OutgoingMessage(1, key, key.split(":")[0], "scj",
                           payload if payload is not None else {"case_number": key[:15]}, 1)


# ---------------------------------------------------------------- signatures


def test_signature_is_hmac_sha256_over_timestamp_and_body():
    expected = hmac.new(SECRET.encode(), b"1764036000." + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, "1764036000", BODY) == "sha256=" + expected


def test_verify_callback_accepts_a_good_signature_and_rejects_the_rest():
    now = dt.datetime(2026, 11, 25, 2, 0)
    ts = str(int(now.replace(tzinfo=dt.UTC).timestamp()))
    good = sign(SECRET, ts, BODY)
    assert verify_callback(SECRET, BODY, good, ts, now)
    assert verify_callback(SECRET, BODY, good, ts, now + dt.timedelta(seconds=299))
    assert verify_callback(SECRET, BODY, good, ts, now.replace(tzinfo=dt.UTC))
    assert not verify_callback("other-secret", BODY, good, ts, now)
    assert not verify_callback(SECRET, BODY.replace(b"approved", b"rejected"), good, ts, now)
    assert not verify_callback(SECRET, BODY, good, str(int(ts) + 1), now)  # timestamp is signed
    assert not verify_callback(SECRET, BODY, good.upper(), ts, now)
    assert not verify_callback(SECRET, BODY, good.removeprefix("sha256="), ts, now)
    # Stale (a replay) or from the future, beyond the tolerance.
    assert not verify_callback(SECRET, BODY, good, ts, now + dt.timedelta(seconds=301))
    assert not verify_callback(SECRET, BODY, good, ts, now - dt.timedelta(seconds=301))
    assert verify_callback(SECRET, BODY, good, ts, now + dt.timedelta(seconds=1000),
                           tolerance_s=1200)
    for signature, timestamp in ((None, ts), (good, None), ("", ts), (good, ""),
                                 (good, "17640360OO"), (good, "-1"), ("sha256=å", ts)):
        assert not verify_callback(SECRET, BODY, signature, timestamp, now)
    assert not verify_callback("", BODY, sign("", ts, BODY), ts, now)


# ---------------------------------------------------------------- one delivery


def test_webhook_delivery_is_signed_and_accepted(external):
    external.start()
    payload = {"case_number": "SQ20261125-0001", "applicant": {"name": "张三"},
               "items": [{"code": "SCJ-01"}]}
    WebhookBackend(external.url, SECRET, timeout=10).deliver(outgoing(payload=payload))
    received = external.received()
    assert list(received) == ["SQ20261125-0001:scj"]
    body = received["SQ20261125-0001:scj"]["body"]
    assert body == {**payload, "idempotency_key": "SQ20261125-0001:scj"}
    assert external.statuses() == [("SQ20261125-0001:scj", 200)]


def test_webhook_failures_raise_delivery_error_with_the_status(external):
    external.start(fail_first=1)
    with pytest.raises(DeliveryError) as unavailable:
        WebhookBackend(external.url, SECRET, timeout=10).deliver(outgoing())
    assert unavailable.value.status == 503 and "HTTP 503" in str(unavailable.value)
    with pytest.raises(DeliveryError) as refused:  # the external system checks our signature
        WebhookBackend(external.url, "wrong-secret", timeout=10).deliver(outgoing())
    assert refused.value.status == 401 and "signature" in str(refused.value)
    wrong_path = external.url.replace("/intake", "/elsewhere")
    with pytest.raises(DeliveryError) as missing:
        WebhookBackend(wrong_path, SECRET, timeout=10).deliver(outgoing())
    assert missing.value.status == 404
    assert external.received() == {}
    external.kill()
    with pytest.raises(DeliveryError) as down:
        WebhookBackend(external.url, SECRET, timeout=10).deliver(outgoing())
    assert down.value.status is None and "ConnectionError" in str(down.value)


def test_the_outbox_keeps_the_status_and_message_of_a_failed_try(db, external):
    (key,) = enqueue(db, 1, now=utcnow())
    external.start(fail_first=1)
    backend = WebhookBackend(external.url, SECRET, timeout=10)
    assert dispatch_due(db, lambda d: backend, utcnow()).failed == [key]
    row = message(db, key)
    assert row.adapter == "webhook" and row.status == "pending"
    assert row.last_error.startswith(f"{external.url} answered HTTP 503") and "warming up" in (
        row.last_error)
    assert dispatch_due(db, lambda d: backend, row.next_attempt_at).delivered == [key]
    assert list(external.received()) == [key]


# ---------------------------------------------------------------- end to end


def test_forty_records_arrive_exactly_once_through_an_outage_and_a_restart(db, external):
    """The external system answers 503 for a while, then takes fifteen records and hangs
    with the fifteenth stored but not acknowledged; it is killed and restarted on the same
    port (503 again for a moment). The scheduled dispatcher keeps going until all forty
    are delivered: each arrives once by key, the unacknowledged one twice on the wire."""
    keys = enqueue(db, 40, now=utcnow())
    with db.read() as s:
        rows = s.execute(select(HandoffMessage.idempotency_key, HandoffMessage.payload))
        payloads = dict(rows.all())
    backend = WebhookBackend(external.url, SECRET, timeout=10)
    policy = RetryPolicy(max_attempts=1000, base_seconds=0.02, cap_seconds=0.25, lease_seconds=60)
    reports: list[DispatchReport] = []
    scheduler = BackgroundScheduler()
    register_dispatcher(scheduler, db, lambda d: backend, 0.05, policy=policy,
                        on_report=reports.append)
    external.start(fail_first=12, hang_after=15)
    scheduler.start()
    try:
        wait_for(lambda: len(external.received()) >= 15, "fifteen records at the external system")
        (held,) = [k for k, status in external.statuses()[-1:] if status == 200]
        external.kill()
        assert len(external.received()) == 15
        assert statuses(db).get("delivered", 0) <= 14  # the fifteenth was never acknowledged
        wait_for(lambda: (message(db, held).last_error or "HTTP 503").find("HTTP 503") < 0,
                 "the dispatcher to notice the dead connection")
        external.start(fail_first=3)
        wait_for(lambda: statuses(db) == {"delivered": 40}, "all forty delivered", timeout=60)
    finally:
        scheduler.shutdown(wait=True)

    received = external.received()
    assert sorted(received) == keys  # none lost, each stored once by its key
    assert {k: r["deliveries"] for k, r in received.items()} == {
        k: 2 if k == held else 1 for k in keys}  # the unacknowledged one came twice
    for key, record in received.items():
        assert record["body"] == {**payloads[key], "idempotency_key": key}
    wire = Counter(status for _, status in external.statuses())
    assert wire[503] == 12 + 3 and wire[200] == 41
    # Our side marked each one delivered exactly once.
    marked = Counter(k for r in reports for k in r.delivered)
    assert sorted(marked) == keys and set(marked.values()) == {1}
    with db.read() as s:
        assert all(m.delivered_at is not None and m.last_error is None
                   for m in list_messages(s, "delivered"))


@pytest.mark.postgres
def test_two_dispatchers_over_postgres_put_each_message_on_the_wire_once(pg_url, external):
    """SKIP LOCKED and the lease keep two dispatchers (two engines, as in two processes)
    from ever claiming the same message."""
    dbs = [Database(pg_url), Database(pg_url)]
    try:
        dbs[0].create_all()
        keys = enqueue(dbs[0], 60, now=utcnow())
        external.start()
        backend = WebhookBackend(external.url, SECRET, timeout=10)
        reports: list[DispatchReport] = []
        start = threading.Barrier(2)
        deadline = time.monotonic() + 60

        def run(db: Database) -> None:
            start.wait()
            while statuses(db).get("pending", 0) and time.monotonic() < deadline:
                reports.append(dispatch_due(db, lambda d: backend, utcnow(), batch=5))

        threads = [threading.Thread(target=run, args=(db,)) for db in dbs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(90)
        assert statuses(dbs[1]) == {"delivered": 60}
        wire = Counter(key for key, _ in external.statuses())
        assert sorted(wire) == keys and set(wire.values()) == {1}
        marked = Counter(k for r in reports for k in r.delivered)
        assert sorted(marked) == keys and set(marked.values()) == {1}
        assert not any(r.superseded or r.failed for r in reports)
    finally:
        for db in dbs:
            db.dispose()
