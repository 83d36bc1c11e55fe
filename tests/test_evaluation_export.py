"""Ratings and rectifications up to the provincial evaluation platform through the outbox:
through an outage and a crash of the platform nothing is lost and nothing counted twice."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import select

from hall_ops.cases.approval import backends_from_config
from hall_ops.cases.handoff import DeliveryError, OutgoingMessage, RetryPolicy, dispatch_due
from hall_ops.cases.models import HandoffMessage
from hall_ops.config_file import PlatformSection
from hall_ops.evaluation import ratings, rectification
from hall_ops.evaluation.export import PLATFORM, with_platform
from hall_ops.evaluation.models import Rectification
from hall_ops.evaluation.ratings import EvaluationRules
from tests.support.external_approval import ExternalApproval
from tests.support.server import free_port
from tests.test_handoff import statuses, utcnow
from tests.test_ratings import managed_hall, served

SECRET = "platform secret"
FAST = RetryPolicy(max_attempts=1000, base_seconds=0.01, cap_seconds=0.05, lease_seconds=60)


@pytest.fixture
def hall(db, clock):
    return managed_hall(db, clock.now)


@pytest.fixture
def platform(tmp_path):
    with ExternalApproval(tmp_path, free_port(), SECRET) as server:
        yield server


def rate_a_day(db, hall_config, rules: EvaluationRules, now: dt.datetime) -> None:
    """Six visits rated (two bad), one 追评, one rectification carried to its end."""
    tokens = [served(db, hall_config, 4, "c01", now) for _ in range(6)]
    levels = [5, 4, 3, 5, 2, 1]
    with db.write() as s:
        for token, level in zip(tokens, levels, strict=True):
            ratings.rate_visit(s, rules, token, level, now,
                               tags=["long_wait"] if level <= 2 else [])
        ratings.add_follow_up(s, rules, ratings.rating_of_ticket(s, tokens[0]), "很好", now)
        rect = s.scalars(select(Rectification).order_by(Rectification.id)).first()
        assert rect is not None and rect.owner is not None
        for step, extra in (("rectify", {"text": "增派引导员"}),
                            ("call_back", {"reached": True}), ("answer", {"text": "已整改"})):
            rectification.act(s, rules, rect.id, step, rect.owner, now, **extra)


def test_reports_go_up_once_each_through_an_outage_and_a_crash(hall, hall_config, platform):
    now = utcnow()
    rules = dataclasses.replace(EvaluationRules.from_config(hall_config), export=True)
    rate_a_day(hall, hall_config, rules, now)
    with hall.read() as s:
        keys = set(s.scalars(select(HandoffMessage.idempotency_key)
                             .where(HandoffMessage.department == PLATFORM)))
    assert len(keys) == 6 + 1 + 1  # ratings, the follow-up, the closed rectification
    assert "evaluation:rectification:1:closed" in keys
    backends = with_platform(backends_from_config({}, hall),
                             PlatformSection(url=platform.url, secret=SECRET,
                                             timeout_seconds=1.0))

    # the platform is down: every report waits in the outbox
    report = dispatch_due(hall, backends, now, policy=FAST)
    assert (len(report.failed), report.delivered) == (8, [])
    # it comes back warming up (503 twice), stores four reports and then hangs on the fourth
    # — stored there, never acknowledged — until it is killed
    platform.start(fail_first=2, hang_after=4)
    at = now + dt.timedelta(minutes=1)
    dispatch_due(hall, backends, at, policy=FAST)
    platform.kill()
    assert len(platform.received()) == 4
    assert statuses(hall).get("delivered", 0) == 3
    # restarted: the dispatcher carries on until everything is delivered
    platform.start(fail_first=1)
    for minute in range(2, 30):
        if statuses(hall) == {"delivered": 8}:
            break
        dispatch_due(hall, backends, now + dt.timedelta(minutes=minute), policy=FAST)
    assert statuses(hall) == {"delivered": 8}

    received = platform.received()
    assert set(received) == keys  # nothing lost
    wire = [key for key, status in platform.statuses() if status == 200]
    assert sorted(set(wire)) == sorted(keys) and len(wire) == 9  # the held one came twice …
    assert sum(r["deliveries"] for r in received.values()) == 9  # … and is stored once
    closed = received["evaluation:rectification:1:closed"]["body"]
    assert (closed["kind"], closed["status"], closed["on_time"], closed["called_back"]) == (
        "rectification", "closed", True, True)
    levels = sorted(r["body"]["level_code"] for k, r in received.items()
                    if r["body"]["kind"] == "rating")
    assert levels == ["basic", "dissatisfied", "satisfied", "very_dissatisfied",
                      "very_satisfied", "very_satisfied"]


def test_without_a_platform_nothing_is_queued_and_the_console_never_takes_a_report(
        hall, hall_config, db):
    now = utcnow()
    rate_a_day(hall, hall_config, EvaluationRules.from_config(hall_config), now)
    assert statuses(hall) == {}
    console = backends_from_config({}, db).for_department(PLATFORM)
    with pytest.raises(DeliveryError, match="no back-end"):
        console.deliver(OutgoingMessage(1, "evaluation:rating:1", "rating:1", PLATFORM, {}, 1))
