"""Hand-off outbox: exactly-once delivery under failures, dead letters, the console, signatures."""

from __future__ import annotations

import datetime as dt
import json
import random
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from hall_ops import handoff
from hall_ops.approval import (
    ConsoleBackend,
    WebhookBackend,
    backends_from_config,
    console_act,
    sign,
    verify_callback,
)
from hall_ops.config import ConfigError
from hall_ops.errors import Conflict, NotFound
from hall_ops.handoff import DeliveryError, RetryPolicy, dispatch_due, enqueue_handoff
from hall_ops.handoff_models import HandoffMessage
from tests.support.server import free_port

SUPPORT = Path(__file__).parent / "support" / "external_approval.py"


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def enqueue(db, n: int, department: str = "scj") -> list[str]:
    keys = [f"SQ20261125-{i:04d}:{department}" for i in range(1, n + 1)]
    with db.write() as s:
        for key in keys:
            enqueue_handoff(s, case_number=key.split(":")[0], department=department,
                            payload={"case_number": key.split(":")[0]}, idempotency_key=key,
                            now=now())
    return keys


class FlakyBackend:
    """Fails its first ``failures`` deliveries: the back-end interface, misbehaving on purpose."""

    name = "flaky"

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.accepted: list[str] = []

    def deliver(self, message) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise DeliveryError("503 maintenance")
        self.accepted.append(message.idempotency_key)


def statuses(db) -> dict[str, int]:
    with db.read() as s:
        return dict(s.execute(select(HandoffMessage.status, func.count())
                              .group_by(HandoffMessage.status)).all())


def test_enqueue_is_idempotent_on_the_key(db):
    enqueue(db, 3)
    enqueue(db, 3)
    assert statuses(db) == {"pending": 3}


def test_delivered_only_on_success_and_retried_with_backoff(db):
    enqueue(db, 1)
    backend = FlakyBackend(failures=2)
    policy = RetryPolicy(max_attempts=5, base_seconds=10, cap_seconds=100)
    t0 = now()
    report = dispatch_due(db, lambda d: backend, t0, policy=policy, rng=random.Random(1))
    assert report.failed and statuses(db) == {"pending": 1}
    with db.read() as s:
        row = s.scalars(select(HandoffMessage)).one()
        assert row.attempts == 1 and "503" in row.last_error
        assert t0 <= row.next_attempt_at <= t0 + dt.timedelta(seconds=20)
    # Not due yet: nothing is tried.
    assert dispatch_due(db, lambda d: backend, t0, policy=policy).failed == []
    later = t0 + dt.timedelta(seconds=200)
    dispatch_due(db, lambda d: backend, later, policy=policy)
    dispatch_due(db, lambda d: backend, later + dt.timedelta(seconds=200), policy=policy)
    assert backend.accepted == ["SQ20261125-0001:scj"] and statuses(db) == {"delivered": 1}


def test_full_jitter_stays_within_the_exponential_bound():
    policy = RetryPolicy(base_seconds=2, cap_seconds=60)
    rng = random.Random(7)
    for attempts in range(1, 10):
        delays = [policy.delay(attempts, rng) for _ in range(200)]
        bound = min(60, 2 * 2 ** attempts)
        assert all(0 <= d <= bound for d in delays)
        assert max(delays) > bound * 0.8 and len(set(delays)) > 100  # spread, not fixed


def test_dead_letter_after_max_attempts_and_resend(db):
    (key,) = enqueue(db, 1)
    backend = FlakyBackend(failures=10)
    policy = RetryPolicy(max_attempts=3, base_seconds=0.001, cap_seconds=0.001)
    t = now()
    for _ in range(3):
        t += dt.timedelta(seconds=1)
        dispatch_due(db, lambda d: backend, t, policy=policy)
    assert statuses(db) == {"dead": 1}
    with db.read() as s:
        (message,) = handoff.list_messages(s, "dead")
    with pytest.raises(NotFound):
        handoff.resend(db, message.id + 1000, t)
    handoff.resend(db, message.id, t)
    with pytest.raises(Conflict):  # pending again, not dead
        handoff.resend(db, message.id, t)
    backend.failures = 0
    dispatch_due(db, lambda d: backend, t + dt.timedelta(seconds=1), policy=policy)
    assert statuses(db) == {"delivered": 1} and backend.accepted == [key]


def test_callback_signature():
    body = b'{"case_number":"SQ20261125-0001","status":"approved"}'
    ts = str(int(time.time()))
    good = sign("s3cret", ts, body)
    assert verify_callback("s3cret", body, good, ts, now())
    assert not verify_callback("other", body, good, ts, now())
    assert not verify_callback("s3cret", body + b" ", good, ts, now())
    assert not verify_callback("s3cret", body, None, ts, now())
    stale = str(int(time.time()) - 3600)
    assert not verify_callback("s3cret", body, sign("s3cret", stale, body), stale, now())


def test_backends_from_config(db):
    backends = backends_from_config(
        {"webhooks": [{"department": "scj", "url": "http://127.0.0.1:9/x", "secret": "k"}]}, db)
    assert isinstance(backends.for_department("scj"), WebhookBackend)
    assert isinstance(backends.for_department("gaj"), ConsoleBackend)
    with pytest.raises(ConfigError):
        backends_from_config({"webhooks": [{"department": "scj"}]}, db)


def _start_external(port: int, store: Path, fail_first: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, str(SUPPORT), "--port", str(port), "--secret", "k", "--store",
         str(store), "--fail-first", str(fail_first)],
        stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "ready"
    return process


def test_webhook_exactly_once_through_outage_and_restart(db, tmp_path):
    port, store = free_port(), tmp_path / "external.db"
    keys = enqueue(db, 40)
    backend = WebhookBackend(f"http://127.0.0.1:{port}/intake", "k", timeout=2)
    policy = RetryPolicy(max_attempts=50, base_seconds=0.01, cap_seconds=0.05, lease_seconds=30)
    server = _start_external(port, store, fail_first=25)
    try:
        restarted = False
        deadline = time.monotonic() + 90
        while statuses(db).get("delivered", 0) < 40 and time.monotonic() < deadline:
            dispatch_due(db, lambda d: backend, now(), policy=policy, batch=10)
            delivered = statuses(db).get("delivered", 0)
            if not restarted and delivered >= 10:
                server.kill()  # the external system dies mid-way …
                server.wait()
                dispatch_due(db, lambda d: backend, now(), policy=policy, batch=10)
                server = _start_external(port, store, fail_first=0)  # … and comes back
                restarted = True
            time.sleep(0.05)
        assert restarted
        assert statuses(db) == {"delivered": 40}
    finally:
        server.kill()
        server.wait()
    with sqlite3.connect(store) as external:
        received = dict(external.execute("SELECT key, hits FROM received").fetchall())
        bodies = [json.loads(b) for (b,) in external.execute("SELECT body FROM received")]
    assert sorted(received) == sorted(keys)  # every record arrived, once by key
    assert all(b["idempotency_key"] in received for b in bodies)


def test_bad_signature_is_refused_by_the_external_system(tmp_path):
    port = free_port()
    server = _start_external(port, tmp_path / "e.db", fail_first=0)
    try:
        backend = WebhookBackend(f"http://127.0.0.1:{port}/intake", "wrong-secret", timeout=2)
        message = handoff.OutgoingMessage(1, "k1", "SQ1", "scj", {}, 1)
        with pytest.raises(DeliveryError, match="401"):
            backend.deliver(message)
    finally:
        server.kill()
        server.wait()


@pytest.mark.postgres
def test_two_dispatchers_on_postgres_deliver_each_message_once(pg_url, hall_config):
    import threading

    from tests.conftest import make_hall_db

    pg = make_hall_db(pg_url, hall_config)
    try:
        keys = enqueue(pg, 60)
        accepted: list[str] = []
        lock = threading.Lock()

        class Recording:
            name = "recording"

            def deliver(self, message) -> None:
                time.sleep(0.002)
                with lock:
                    accepted.append(message.idempotency_key)

        def run() -> None:
            for _ in range(20):
                dispatch_due(pg, lambda d: Recording(), now(), batch=5)

        threads = [threading.Thread(target=run) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert sorted(accepted) == sorted(keys)  # SKIP LOCKED + lease: nobody delivered twice
        assert statuses(pg) == {"delivered": 60}
    finally:
        pg.dispose()


def test_console_approval_moves_the_department_items(db, hall_config):
    from hall_ops.approval import console_queue
    from hall_ops.catalogue import load_catalogue
    from hall_ops.intake import get_case
    from tests.test_intake import ROOT, flat_case

    with db.write() as s:
        load_catalogue(s, ROOT / "data" / "catalogue")
    number = flat_case(db, hall_config)
    dispatch_due(db, lambda d: ConsoleBackend(db), now() + dt.timedelta(days=1))
    with db.read() as s:
        queue_view = console_queue(s, "bdc")
    (case,) = [c for c in queue_view if c["case_number"] == number]
    t = dt.datetime(2026, 11, 26, 2)
    with pytest.raises(Conflict), db.write() as s:
        console_act(s, case["id"], "approve", "审批员甲", t)  # must claim first
    with db.write() as s:
        console_act(s, case["id"], "claim", "审批员甲", t)
    with pytest.raises(Conflict), db.write() as s:
        console_act(s, case["id"], "approve", "审批员乙", t)  # claimed by someone else
    with db.write() as s:
        console_act(s, case["id"], "approve", "审批员甲", t)
    with db.read() as s:
        items = {i.item_code: i.status for i in get_case(s, number).items
                 if i.department_code == "bdc"}
    assert items and set(items.values()) == {"approved"}
