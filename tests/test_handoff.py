"""Hand-off outbox: enqueue, dispatch, backoff, dead letters, leases, the console, configuration.

Deliveries over HTTP to a real external system are in test_webhook_delivery.py.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import func, select

from hall_ops.cases import handoff
from hall_ops.cases.approval import (
    Backends,
    ConsoleBackend,
    WebhookBackend,
    approve,
    backends_from_config,
    claim,
    console_act,
    console_queue,
    reject,
    request_supplement,
)
from hall_ops.cases.handoff import (
    DeliveryError,
    DispatchReport,
    OutgoingMessage,
    RetryPolicy,
    dispatch_due,
    enqueue_handoff,
    policy_from_config,
    register_dispatcher,
)
from hall_ops.cases.models import ConsoleCase, HandoffMessage
from hall_ops.config import ConfigError
from hall_ops.errors import Conflict, InvalidInput, NotFound
from hall_ops.staff import log

T0 = dt.datetime(2026, 11, 25, 2, 0)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def enqueue(db, n: int, department: str = "scj", *, now: dt.datetime = T0,
            first: int = 1) -> list[str]:
    """``n`` hand-offs of fresh cases to ``department``; returns their idempotency keys."""
    keys = []
    with db.write() as s:
        for i in range(first, first + n):
            number = f"SQ20261125-{i:04d}"
            payload = {"case_number": number, "department": {"code": department},
                       "items": [{"code": "SCJ-01", "name_zh": "企业设立登记"}]}
            enqueue_handoff(s, case_number=number, department=department, payload=payload,
                            idempotency_key=f"{number}:{department}", now=now)
            keys.append(f"{number}:{department}")
    return keys


def statuses(db) -> dict[str, int]:
    with db.read() as s:
        return dict(s.execute(select(HandoffMessage.status, func.count())
                              .group_by(HandoffMessage.status)).all())


def message(db, key: str) -> HandoffMessage:
    with db.read() as s:
        return s.scalars(select(HandoffMessage).where(HandoffMessage.idempotency_key == key)).one()


def wait_for(predicate: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


class ScriptedBackend:
    """A back-end that fails its first ``failures`` tries: misbehaving on purpose."""

    name = "scripted"

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.accepted: list[str] = []

    def deliver(self, message: OutgoingMessage) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise DeliveryError("HTTP 503: maintenance", status=503)
        self.accepted.append(message.idempotency_key)


# ---------------------------------------------------------------- enqueue


def test_enqueue_is_idempotent_on_the_key(db):
    (key,) = enqueue(db, 1)
    with db.write() as s:
        again = enqueue_handoff(s, case_number="SQ20261125-0001", department="scj",
                                payload={"changed": True}, idempotency_key=key, now=T0)
        assert again.payload["case_number"] == "SQ20261125-0001"  # the first one stands
    assert statuses(db) == {"pending": 1}
    with pytest.raises(Conflict) as reused, db.write() as s:
        enqueue_handoff(s, case_number="SQ20261125-0002", department="scj", payload={},
                        idempotency_key=key, now=T0)
    assert reused.value.code == "idempotency_key_reused"
    for bad in ({"idempotency_key": ""}, {"department": " "}, {"payload": {"at": T0}}):
        args = {"case_number": "SQ20261125-0003", "department": "scj", "payload": {},
                "idempotency_key": "k3", **bad}
        with pytest.raises(InvalidInput), db.write() as s:
            enqueue_handoff(s, now=T0, **args)
    assert statuses(db) == {"pending": 1}


def test_the_message_exists_only_if_the_callers_transaction_commits(db):
    """Transactional outbox: an intake record that fails takes its hand-off with it."""
    with pytest.raises(RuntimeError), db.write() as s:
        enqueue_handoff(s, case_number="SQ20261125-0001", department="scj", payload={},
                        idempotency_key="SQ20261125-0001:scj", now=T0)
        raise RuntimeError("the intake record could not be written")
    assert statuses(db) == {}


# ---------------------------------------------------------------- dispatch


def test_delivered_only_on_success_and_retried_with_backoff(db):
    (key,) = enqueue(db, 1)
    backend = ScriptedBackend(failures=2)
    policy = RetryPolicy(max_attempts=5, base_seconds=10, cap_seconds=100)
    report = dispatch_due(db, lambda d: backend, T0, policy=policy, rng=random.Random(1))
    assert report.failed == [key] and not report.delivered
    row = message(db, key)
    assert (row.status, row.attempts, row.adapter) == ("pending", 1, "scripted")
    assert row.last_error == "HTTP 503: maintenance" and row.delivered_at is None
    assert T0 <= row.next_attempt_at <= T0 + dt.timedelta(seconds=10 + 5)
    # Not due yet: nothing is tried.
    assert not dispatch_due(db, lambda d: backend, T0, policy=policy)
    t = row.next_attempt_at
    assert dispatch_due(db, lambda d: backend, t, policy=policy).failed == [key]
    row = message(db, key)
    assert row.attempts == 2 and t <= row.next_attempt_at <= t + dt.timedelta(seconds=20 + 5)
    t = row.next_attempt_at
    assert dispatch_due(db, lambda d: backend, t, policy=policy).delivered == [key]
    row = message(db, key)
    assert (row.status, row.attempts, row.last_error) == ("delivered", 3, None)
    assert row.delivered_at >= t and backend.accepted == [key]
    assert not dispatch_due(db, lambda d: backend, t + dt.timedelta(days=1), policy=policy)
    assert backend.accepted == [key]


def test_full_jitter_stays_under_an_exponential_ceiling():
    policy = RetryPolicy(base_seconds=2, cap_seconds=60)
    assert [policy.ceiling(n) for n in range(1, 8)] == [2, 4, 8, 16, 32, 60, 60]
    rng = random.Random(7)
    for attempts in range(1, 10):
        delays = [policy.delay(attempts, rng) for _ in range(300)]
        ceiling = policy.ceiling(attempts)
        assert all(0 <= d <= ceiling for d in delays)
        assert min(delays) < ceiling * 0.1 and max(delays) > ceiling * 0.9  # the whole range
        assert len(set(delays)) == len(delays)


def test_retries_after_one_outage_are_spread_out(db):
    """Twenty messages failing at the same moment do not all come back at the same moment."""
    keys = enqueue(db, 20)
    policy = RetryPolicy(base_seconds=30, cap_seconds=300)
    report = dispatch_due(db, lambda d: ScriptedBackend(failures=1), T0, policy=policy)
    assert sorted(report.failed) == keys
    with db.read() as s:
        retries = s.scalars(select(HandoffMessage.next_attempt_at)).all()
    assert all(T0 <= at <= T0 + dt.timedelta(seconds=30 + 5) for at in retries)
    assert len(set(retries)) == 20


def test_dead_letter_after_max_attempts_and_resend(db):
    (key,) = enqueue(db, 1)
    backend = ScriptedBackend(failures=10)
    policy = RetryPolicy(max_attempts=3, base_seconds=0.001, cap_seconds=0.001)
    t = T0
    reports = []
    for _ in range(3):
        t += dt.timedelta(seconds=1)
        reports.append(dispatch_due(db, lambda d: backend, t, policy=policy))
    assert [r.failed for r in reports] == [[key], [key], []] and reports[2].dead == [key]
    assert statuses(db) == {"dead": 1}
    # A dead letter is never due again by itself.
    assert not dispatch_due(db, lambda d: backend, t + dt.timedelta(days=30), policy=policy)
    with db.read() as s:
        (dead,) = handoff.list_messages(s, "dead")
        assert handoff.list_messages(s, "pending") == []
        assert dead.attempts == 3 and "503" in dead.last_error
        with pytest.raises(InvalidInput):
            handoff.list_messages(s, "lost")
    with pytest.raises(NotFound), db.write() as s:
        handoff.resend(s, dead.id + 1000, t, "admin")
    with db.write() as s:
        resent = handoff.resend(s, dead.id, t, "admin")
    assert (resent.status, resent.attempts, resent.next_attempt_at) == ("pending", 0, t)
    with pytest.raises(Conflict), db.write() as s:  # pending again, not dead
        handoff.resend(s, dead.id, t, "admin")
    with db.read() as s:
        (logged,) = log.recent_events(s, kinds=["outbox_resent"])
    assert (logged["actor"], logged["subject"]) == ("admin", f"message:{dead.id}")
    backend.failures = 0
    assert dispatch_due(db, lambda d: backend, t, policy=policy).delivered == [key]
    assert statuses(db) == {"delivered": 1} and backend.accepted == [key]


def test_a_claimed_message_is_hidden_from_other_dispatchers_while_it_is_delivered(db):
    (key,) = enqueue(db, 1)
    seen_by_other: list[DispatchReport] = []

    class Observing:
        name = "observing"

        def deliver(self, message: OutgoingMessage) -> None:
            # Another dispatcher runs while this delivery is under way: nothing is due for it.
            seen_by_other.append(dispatch_due(db, lambda d: ScriptedBackend(), T0))

    assert dispatch_due(db, lambda d: Observing(), T0).delivered == [key]
    assert seen_by_other == [DispatchReport()]


@pytest.mark.parametrize("late_outcome", ["success", "failure"])
def test_after_the_lease_runs_out_another_dispatcher_takes_over_and_delivered_is_marked_once(
    db, late_outcome
):
    (key,) = enqueue(db, 1)
    policy = RetryPolicy(lease_seconds=60)
    other = ScriptedBackend()
    inner: list[DispatchReport] = []

    class Slow:
        name = "slow"

        def deliver(self, message: OutgoingMessage) -> None:
            # So slow that the lease ran out and another dispatcher delivered the message.
            inner.append(dispatch_due(db, lambda d: other, T0 + dt.timedelta(seconds=61),
                                      policy=policy))
            if late_outcome == "failure":
                raise DeliveryError("timed out")

    outer = dispatch_due(db, lambda d: Slow(), T0, policy=policy)
    assert inner[0].delivered == [key] and other.accepted == [key]
    assert outer.superseded == [key] and not outer.delivered and not outer.failed
    row = message(db, key)
    assert (row.status, row.adapter, row.last_error) == ("delivered", "scripted", None)
    assert row.delivered_at >= T0 + dt.timedelta(seconds=61)


def test_a_run_gives_back_what_it_cannot_deliver_within_half_its_lease(db):
    keys = enqueue(db, 3)
    policy = RetryPolicy(lease_seconds=0.001)

    class Slow(ScriptedBackend):
        def deliver(self, message: OutgoingMessage) -> None:
            time.sleep(0.01)
            super().deliver(message)

    backend = Slow()
    first = dispatch_due(db, lambda d: backend, T0, policy=policy)
    assert first.delivered == keys[:1] and first.released == keys[1:]
    assert [message(db, k).attempts for k in keys] == [1, 0, 0]  # given back untried
    assert dispatch_due(db, lambda d: backend, T0, policy=policy).delivered == keys[1:2]
    assert dispatch_due(db, lambda d: backend, T0, policy=policy).delivered == keys[2:]
    assert backend.accepted == keys and statuses(db) == {"delivered": 3}


def test_a_broken_back_end_is_a_failed_try_and_the_others_still_go(db):
    broken_key = enqueue(db, 1, "gaj")[0]
    good_key = enqueue(db, 1, "swj", first=2)[0]

    class Broken:
        name = "broken"

        def deliver(self, message: OutgoingMessage) -> None:
            raise RuntimeError("bug in an adapter")

    good = ScriptedBackend()
    report = dispatch_due(db, lambda d: Broken() if d == "gaj" else good, T0)
    assert report.failed == [broken_key] and report.delivered == [good_key]
    assert message(db, broken_key).last_error == "RuntimeError: bug in an adapter"


def test_the_scheduled_dispatcher_delivers_to_the_console(db):
    keys = enqueue(db, 5, "bdc", now=utcnow())
    scheduler = BackgroundScheduler()
    reports: list[DispatchReport] = []
    job = register_dispatcher(scheduler, db, Backends(ConsoleBackend(db), {}, {}), 0.1,
                              on_report=reports.append)
    assert (job.max_instances, job.coalesce) == (1, True)
    scheduler.start()
    try:
        wait_for(lambda: statuses(db) == {"delivered": 5}, "the console deliveries")
    finally:
        scheduler.shutdown(wait=True)
    assert sorted(k for r in reports for k in r.delivered) == keys
    with db.read() as s:
        assert [c["case_number"] for c in console_queue(s, "bdc")] == [k[:15] for k in keys]
    assert message(db, keys[0]).adapter == "console"
    with pytest.raises(ValueError):
        register_dispatcher(scheduler, db, lambda d: ScriptedBackend(), 0)


# ---------------------------------------------------------------- the console


def console_case(db, key: str = "SQ20261125-0001:bdc", department: str = "bdc") -> int:
    ConsoleBackend(db, clock=lambda: T0).deliver(
        OutgoingMessage(1, key, key.split(":")[0], department, {"items": [{"code": "X"}]}, 1)
    )
    with db.read() as s:
        return s.scalars(select(ConsoleCase.id).where(ConsoleCase.handoff_key == key)).one()


def test_console_delivery_is_idempotent_on_the_key(db):
    first = console_case(db)
    assert console_case(db) == first
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(ConsoleCase)) == 1
        (view,) = console_queue(s, "bdc")
        assert console_queue(s, "gaj") == []
    assert (view["status"], view["items"], view["claimed_by"]) == ("submitted", [{"code": "X"}],
                                                                     None)


def test_console_transitions(db):
    case_id = console_case(db)
    t = T0 + dt.timedelta(hours=1)

    def act(fn, *args, **kwargs):
        with db.write() as s:
            row = fn(s, case_id, *args, now=t, **kwargs)
            return row.status

    with pytest.raises(Conflict, match="claim it first"):
        act(approve, "审批员甲")
    with pytest.raises(InvalidInput):
        act(claim, " ")
    assert act(claim, "审批员甲") == "claimed"
    assert act(claim, "审批员甲") == "claimed"  # a repeated click
    with pytest.raises(Conflict) as taken:
        act(claim, "审批员乙")
    assert taken.value.code == "claimed_by_other"
    with pytest.raises(Conflict):
        act(approve, "审批员乙")
    with pytest.raises(InvalidInput) as no_reason:
        act(request_supplement, "审批员甲", "  ")
    assert no_reason.value.code == "reason_required"
    assert act(request_supplement, "审批员甲", "请补充完税凭证") == "supplement_requested"
    with pytest.raises(Conflict):
        act(approve, "审批员甲")
    assert act(claim, "审批员乙") == "claimed"  # the supplement came in; anyone may pick it up
    with pytest.raises(InvalidInput):
        act(reject, "审批员乙", "")
    assert act(approve, "审批员乙") == "approved"
    for fn, args in ((claim, ()), (approve, ()), (reject, ("too late",))):
        with pytest.raises(Conflict) as decided:
            act(fn, "审批员乙", *args)
        assert decided.value.code in ("invalid_transition", "claimed_by_other")
    with db.read() as s:
        row = s.get(ConsoleCase, case_id)
        assert (row.claimed_by, row.claimed_at, row.decided_at, row.reason) == ("审批员乙", t, t,
                                                                                None)
    with pytest.raises(NotFound), db.write() as s:
        claim(s, case_id + 100, "审批员甲", now=t)

    other = console_case(db, "SQ20261125-0002:bdc")
    with db.write() as s:
        console_act(s, other, "claim", "审批员甲", t)
        assert console_act(s, other, "reject", "审批员甲", t, "材料不符合法定形式").reason == (
            "材料不符合法定形式")
        with pytest.raises(InvalidInput):
            console_act(s, other, "delete", "审批员甲", t)
    with db.read() as s:
        assert [(c["id"], c["status"]) for c in console_queue(s, "bdc")] == [
            (other, "rejected"), (case_id, "approved")]


def test_console_decisions_move_the_department_items_of_the_intake_record(db, hall_config):
    from hall_ops.cases.catalogue import load_catalogue
    from hall_ops.cases.intake import get_case
    from tests.test_intake import NOW, ROOT, flat_case

    with db.write() as s:
        load_catalogue(s, ROOT / "data" / "catalogue")
    number = flat_case(db, hall_config)
    dispatch_due(db, Backends(ConsoleBackend(db), {}, {}), NOW)
    with db.read() as s:
        (case,) = console_queue(s, "bdc")
    assert case["case_number"] == number and case["applicant"]["name"] == "张三"
    t = NOW + dt.timedelta(days=1)

    def items() -> set[str]:
        with db.read() as s:
            return {i.status for i in get_case(s, number).items if i.department_code == "bdc"}

    with db.write() as s:
        claim(s, case["id"], "审批员甲", now=t)
    assert items() == {"in_review"}
    with db.write() as s:
        request_supplement(s, case["id"], "审批员甲", "补充完税凭证", now=t)
    assert items() == {"supplement_requested"}
    with db.write() as s:
        claim(s, case["id"], "审批员甲", now=t)
    # Its gap materials are still outstanding: approving needs a confirmed reason (issue 10, 6).
    with pytest.raises(Conflict) as err, db.write() as s:
        approve(s, case["id"], "审批员甲", now=t)
    assert err.value.code == "gaps_outstanding"
    assert items() == {"in_review"}
    with db.write() as s:
        approve(s, case["id"], "审批员甲", now=t, note="凭承诺书先行审批", confirm_gaps=True)
    assert items() == {"approved"}
    with db.read() as s:
        others = {i.status for i in get_case(s, number).items if i.department_code != "bdc"}
    assert others == {"submitted"}  # the other departments decide for themselves


# ---------------------------------------------------------------- configuration


def test_backends_and_policy_from_the_shipped_config(db, hall_config):
    section = hall_config.raw["approval"]
    backends = backends_from_config(section, db)
    assert isinstance(backends("scj"), ConsoleBackend)
    policy = policy_from_config(section)
    assert (policy.max_attempts, policy.base_seconds, policy.cap_seconds) == (8, 2, 300)


def test_backends_from_config(db):
    section = {
        "default": "console",
        "max_attempts": 5,
        "webhooks": [{"department": "market_supervision", "url": "http://127.0.0.1:9900/intake",
                      "secret": "change-me", "timeout_seconds": 3}],
    }
    backends = backends_from_config(section, db)
    hook = backends("market_supervision")
    assert isinstance(hook, WebhookBackend)
    assert backends.for_department("market_supervision") is hook
    assert (hook.url, hook.secret, hook.timeout) == ("http://127.0.0.1:9900/intake", "change-me", 3)
    assert isinstance(backends("gaj"), ConsoleBackend)
    assert backends.secrets == {"market_supervision": "change-me"}
    hook_entry = section["webhooks"][0]
    for bad in (
        {"default": "email"},
        {"retries": 3},
        {"webhooks": {"department": "scj"}},
        {"webhooks": [{"department": "scj", "url": "http://x"}]},
        {"webhooks": [{**hook_entry, "url": "ftp://127.0.0.1/intake"}]},
        {"webhooks": [{**hook_entry, "timeout_seconds": 0}]},
        {"webhooks": [{**hook_entry, "verify": False}]},
        {"webhooks": [hook_entry, hook_entry]},
    ):
        with pytest.raises(ConfigError):
            backends_from_config(bad, db)


def test_policy_from_config():
    assert policy_from_config({}) == RetryPolicy()
    policy = policy_from_config({"max_attempts": 3, "backoff_base_seconds": 0.5,
                                 "backoff_cap_seconds": 10, "lease_seconds": 30})
    assert policy == RetryPolicy(max_attempts=3, base_seconds=0.5, cap_seconds=10,
                                 lease_seconds=30)
    for bad in ({"max_attempts": 0}, {"max_attempts": True}, {"max_attempts": 2.5},
                {"backoff_base_seconds": -1},
                {"backoff_base_seconds": 10, "backoff_cap_seconds": 5},
                {"lease_seconds": "60"}):
        with pytest.raises(ConfigError):
            policy_from_config(bad)
