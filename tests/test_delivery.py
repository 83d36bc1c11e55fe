"""One window delivers: ready when decided, notice sent once, delivery ticket, hand-over."""

from __future__ import annotations

import datetime as dt

import pytest

from hall_ops import queue
from hall_ops.cases import delivery
from hall_ops.cases.catalogue import load_catalogue
from hall_ops.cases.intake import get_case, set_item_status
from hall_ops.cases.notices import NoticeError, OutgoingNotice, notify_ready
from hall_ops.errors import Conflict, InvalidInput, NotFound
from tests.test_intake import NOW, ROOT, flat_case


class Recording:
    channel = "sms"

    def __init__(self, fail: int = 0) -> None:
        self.sent: list[OutgoingNotice] = []
        self.fail = fail

    def send(self, notice: OutgoingNotice) -> str:
        if self.fail:
            self.fail -= 1
            raise NoticeError("gateway down")
        self.sent.append(notice)
        return f"biz-{len(self.sent)}"


def sent(db, notifier: Recording, now: dt.datetime = NOW) -> int:
    return notify_ready(db, {"sms": notifier}, now).sent


def decide(db, number: str, status: str = "approved") -> None:
    with db.write() as s:
        for item in get_case(s, number).items:
            set_item_status(s, number, item.item_code, "in_review", "审批员", now=NOW)
            set_item_status(s, number, item.item_code, status, "审批员",
                            None if status == "approved" else "材料不符", now=NOW)


@pytest.fixture
def case_number(db, hall_config):
    with db.write() as s:
        load_catalogue(s, ROOT / "data" / "catalogue")
    return flat_case(db, hall_config)


def test_ready_only_when_every_item_is_decided_and_notice_sent_once(db, case_number):
    notifier = Recording(fail=1)
    assert sent(db, notifier) == 0  # nothing decided yet
    with db.write() as s:
        first = get_case(s, case_number).items[0]
        set_item_status(s, case_number, first.item_code, "in_review", "a", now=NOW)
        set_item_status(s, case_number, first.item_code, "approved", "a", now=NOW)
    assert sent(db, notifier) == 0  # other items still open
    decide_rest = [code for code, status in get_case_items(db, case_number) if status != "approved"]
    with db.write() as s:
        for code in decide_rest:
            set_item_status(s, case_number, code, "in_review", "a", now=NOW)
            set_item_status(s, case_number, code, "approved", "a", now=NOW)
    assert sent(db, notifier) == 0  # the gateway failed …
    later = NOW + dt.timedelta(minutes=10)  # past the backoff
    assert sent(db, notifier, later) == 1  # … and the notice went on the next run
    assert sent(db, notifier, later) == 0
    (notice,) = notifier.sent
    assert notice.case_number == case_number and case_number in notice.text_zh
    assert notice.recipient == "13800138000"


def get_case_items(db, number):
    with db.read() as s:
        return [(i.item_code, i.status) for i in get_case(s, number).items]


def test_check_in_and_hand_over_at_the_delivery_window(db, hall_config, case_number):
    with pytest.raises(Conflict), db.write() as s:
        delivery.check_in(s, hall_config, case_number, "8000", NOW, ignore_hours=True)
    decide(db, case_number)
    sent(db, Recording())
    with pytest.raises(NotFound), db.write() as s:
        delivery.check_in(s, hall_config, case_number, "1111", NOW, ignore_hours=True)
    with pytest.raises(InvalidInput), db.write() as s:
        delivery.check_in(s, hall_config, case_number, "80", NOW, ignore_hours=True)
    with db.write() as s:
        ticket = delivery.check_in(s, hall_config, case_number, "8000", NOW, ignore_hours=True)
        assert ticket.number.startswith("E") and ticket.service_code == "delivery"
        again = delivery.check_in(s, hall_config, case_number, "8000", NOW, ignore_hours=True)
        assert again.id == ticket.id  # one delivery ticket, not a second one
    with db.write() as s:
        queue.open_window(s, 14, "c14", NOW)
        called, _ = queue.call_next(s, hall_config, 14, "c14", NOW)
        assert called.id == ticket.id
        with pytest.raises(Conflict):
            delivery.hand_over(s, 14, "c14", NOW)  # not started
        queue.start_service(s, 14, "c14", NOW)
    # The case was accepted with gaps still outstanding: no silent hand-over (issue 10, 6).
    with pytest.raises(Conflict) as err, db.write() as s:
        delivery.hand_over(s, 14, "c14", NOW + dt.timedelta(minutes=3))
    assert err.value.code == "gaps_outstanding" and err.value.details["materials"]
    with pytest.raises(Conflict), db.write() as s:
        delivery.hand_over(s, 14, "c14", NOW, confirm_gaps=True, reason="  ")
    with db.write() as s:
        case = delivery.hand_over(s, 14, "c14", NOW + dt.timedelta(minutes=3),
                                  confirm_gaps=True, reason="科长同意先行出件")
        assert {i.status for i in case.items} == {"delivered"}
        last = case.items[0].events[-1]
        assert last.to_status == "delivered" and last.actor == "c14"
        assert "科长同意先行出件" in last.reason and "gaps outstanding" in last.reason
        assert case.windows_visited == 2
        assert delivery.delivery_view(s, ticket.id)["handed_over"] is True
    with pytest.raises(Conflict), db.write() as s:
        delivery.check_in(s, hall_config, case_number, "8000", NOW, ignore_hours=True)


def test_a_rejected_case_is_not_waiting_for_delivery(db, case_number):
    decide(db, case_number, "rejected")
    assert sent(db, Recording()) == 0
