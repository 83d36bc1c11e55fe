"""Silent calling (无声叫号) sent for real through the signed SMS gateway stub of the notices:
once per threshold per ticket through outages, retries and two senders at once; the number
encrypted at rest, masked when shown, deleted when the ticket is over; the API."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import threading
import time
import tomllib

import pytest
from sqlalchemy import select, text

from hall_ops import queue
from hall_ops.cases.handoff import RetryPolicy
from hall_ops.cases.notices import SmsGateway
from hall_ops.config import HallConfig, parse_config
from hall_ops.errors import Conflict, InvalidInput
from hall_ops.queue import silent
from hall_ops.queue.models import Ticket, TicketMessage, TicketPhone
from tests.conftest import OPEN_NOW, ROOT
from tests.support.sms_gateway import SmsGatewayStub
from tests.support.web import device_client, hall_app

KEY_ID, SECRET = "LTAI-hall-test", "s3cret-hall-key"
SIGN, TEMPLATE, QUEUE_TEMPLATE = "市民中心", "SMS_305000001", "SMS_305000777"
POLICY = RetryPolicy(max_attempts=4, base_seconds=1, cap_seconds=10)
PHONE = "13800138000"


@pytest.fixture
def gateway():
    with SmsGatewayStub(KEY_ID, SECRET, SIGN, TEMPLATE, QUEUE_TEMPLATE) as stub:
        yield stub


def sms(stub: SmsGatewayStub) -> SmsGateway:
    return SmsGateway(endpoint=stub.url, access_key_id=KEY_ID, access_key_secret=SECRET,
                      sign_name=SIGN, template_code=TEMPLATE, timeout_seconds=3,
                      queue_template_code=QUEUE_TEMPLATE)


def sent(stub: SmsGatewayStub) -> list[tuple[str, dict[str, str]]]:
    return [(a["PhoneNumbers"], json.loads(a["TemplateParam"])) for a in stub.accepted
            if a["TemplateCode"] == QUEUE_TEMPLATE]


def take(db, hall: HallConfig, n: int, at: dt.datetime) -> list[Ticket]:
    with db.write() as s:
        return [queue.take_ticket(s, hall, "investment", at) for _ in range(n)]


def call(db, hall: HallConfig, at: dt.datetime) -> Ticket:
    with db.write() as s:
        ticket, _ = queue.call_next(s, hall, 1, "c01", at)
        assert ticket is not None
        return ticket


def leave(db, ticket: Ticket, phone: str = PHONE) -> None:
    with db.write() as s:
        silent.leave_phone(s, s.get(Ticket, ticket.id), phone, OPEN_NOW)


def test_an_sms_at_n_ahead_and_when_called_each_once(any_db, hall_config, gateway):
    db = any_db
    hall = dataclasses.replace(hall_config,
                               queue=dataclasses.replace(hall_config.queue, notify_ahead=3))
    tickets = take(db, hall, 6, OPEN_NOW)
    leave(db, tickets[5], "+86 138-0013-8000")  # 5 ahead of it
    with db.write() as s:
        queue.open_window(s, 1, "c01", OPEN_NOW)
    with db.engine.connect() as conn:
        stored = conn.execute(text("SELECT phone FROM ticket_phones")).scalar()
    assert stored.startswith("v1:") and PHONE not in stored  # encrypted at rest
    gw, at = sms(gateway), OPEN_NOW
    assert silent.send_due(db, gw, hall, at, policy=POLICY).sent == 0  # 5 ahead: not yet

    call(db, hall, at)  # 4 ahead
    assert silent.send_due(db, gw, hall, at, policy=POLICY).sent == 0
    with db.write() as s:  # the called one is served and done, the window calls the next
        queue.start_service(s, 1, "c01", at)
        queue.finish(s, 1, "c01", at)
    call(db, hall, at)  # 3 ahead: the threshold
    assert silent.send_due(db, gw, hall, at, policy=POLICY).sent == 1
    assert sent(gateway) == [(PHONE, {"ticket": tickets[5].number, "ahead": "3"})]
    for _ in range(3):  # more changes, more runs: the "ahead" SMS is not sent again
        assert silent.send_due(db, gw, hall, at, policy=POLICY).sent == 0
    with db.read() as s:
        ticket = s.get(Ticket, tickets[5].id)
        assert silent.phone_state(s, ticket, hall) == {
            "phone": "138****8000", "notify_ahead": 3, "sent": ["ahead"]}

    for _ in range(4):  # served one by one until its own call
        with db.write() as s:
            queue.start_service(s, 1, "c01", at)
            queue.finish(s, 1, "c01", at)
        called = call(db, hall, at)
    assert called.id == tickets[5].id
    assert silent.send_due(db, gw, hall, at, policy=POLICY).sent == 1
    assert sent(gateway)[-1] == (PHONE, {"ticket": called.number, "window": "1"})
    assert silent.send_due(db, gw, hall, at, policy=POLICY).sent == 0
    assert len(sent(gateway)) == 2

    with db.write() as s:  # over: the number is deleted
        queue.start_service(s, 1, "c01", at)
        queue.finish(s, 1, "c01", at)
    silent.send_due(db, gw, hall, at, policy=POLICY)
    with db.read() as s:
        assert s.scalars(select(TicketPhone)).all() == []
        assert {m.status for m in s.scalars(select(TicketMessage))} == {"sent"}


def test_through_a_gateway_outage_sent_only_when_accepted(db, hall_config, gateway):
    (ticket,) = take(db, hall_config, 1, OPEN_NOW)
    leave(db, ticket)  # 0 ahead: due at once
    gw = sms(gateway)
    gateway.down = True
    report = silent.send_due(db, gw, hall_config, OPEN_NOW, policy=POLICY)
    assert (report.sent, report.failed) == (0, 1)
    with db.read() as s:
        message = s.scalars(select(TicketMessage)).one()
    assert message.status == "pending" and message.sent_at is None
    assert "503" in (message.last_error or "")
    gateway.down = False
    later = OPEN_NOW + dt.timedelta(minutes=1)
    assert silent.send_due(db, gw, hall_config, later, policy=POLICY).sent == 1
    with db.read() as s:
        message = s.scalars(select(TicketMessage)).one()
    assert message.status == "sent" and message.sent_at is not None and message.attempts == 2
    assert sent(gateway) == [(PHONE, {"ticket": ticket.number, "ahead": "0"})]


def test_two_senders_at_once_send_each_message_once(any_db, hall_config, gateway):
    db = any_db  # SQLite and PostgreSQL: the unique key and SKIP LOCKED claims
    tickets = take(db, hall_config, 3, OPEN_NOW)
    for ticket in tickets:
        leave(db, ticket)
    gw = sms(gateway)
    start = threading.Barrier(2)

    def run() -> None:
        start.wait()
        silent.send_due(db, gw, hall_config, OPEN_NOW, policy=POLICY)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(p["ticket"] for _, p in sent(gateway)) == sorted(t.number for t in tickets)
    with db.read() as s:
        assert s.scalars(select(TicketMessage.status)).all() == ["sent"] * 3


def test_a_withdrawn_number_gets_nothing_and_bad_input_is_refused(db, hall_config, gateway):
    (ticket,) = take(db, hall_config, 1, OPEN_NOW)
    with pytest.raises(InvalidInput):
        leave(db, ticket, "12345")
    leave(db, ticket)
    with db.write() as s:
        silent.withdraw_phone(s, s.get(Ticket, ticket.id))
    assert silent.send_due(db, sms(gateway), hall_config, OPEN_NOW, policy=POLICY).sent == 0
    assert sent(gateway) == []
    with db.write() as s:
        queue.cancel_ticket(s, ticket.status_token, OPEN_NOW)
    with pytest.raises(Conflict):
        leave(db, ticket)


def app_with(tmp_path, sms_section: dict[str, object] | None):
    raw = tomllib.loads((ROOT / "config.toml").read_text())
    if sms_section is not None:
        raw["notices"] = {"sms": sms_section}
    return hall_app(parse_config(raw, ROOT), database_url=f"sqlite:///{tmp_path / 'h.db'}",
                    clock=lambda: OPEN_NOW, always_open=True)


def test_the_api_after_commit_in_the_background(tmp_path, gateway):
    app = app_with(tmp_path, {
        "endpoint": gateway.url, "access_key_id": KEY_ID, "access_key_secret": SECRET,
        "sign_name": SIGN, "template_code": TEMPLATE, "queue_template_code": QUEUE_TEMPLATE})
    hall = app.extensions["hall"]
    client = app.test_client()
    tickets = [client.post("/api/v1/tickets", json={"service": "investment"}).json
               for _ in range(5)]
    token = tickets[4]["token"]
    assert client.get(f"/api/v1/tickets/{token}/phone").json == {
        "available": True, "phone": None, "notify_ahead": 3, "sent": []}
    assert client.put(f"/api/v1/tickets/{token}/phone",
                      json={"phone": "12"}).status_code == 422
    answer = client.put(f"/api/v1/tickets/{token}/phone", json={"phone": PHONE})
    assert answer.status_code == 200 and answer.json["phone"] == "138****8000"
    with hall.db.write() as s:
        queue.open_window(s, 1, "c01", OPEN_NOW)
        queue.call_next(s, hall.config, 1, "c01", OPEN_NOW)  # 3 ahead now
    deadline = time.monotonic() + 10  # the subscriber's sender works after the commit
    while not sent(gateway) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sent(gateway) == [(PHONE, {"ticket": tickets[4]["number"], "ahead": "3"})]
    while client.get(f"/api/v1/tickets/{token}/phone").json["sent"] != ["ahead"]:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    page = client.get(f"/t/{token}").get_data(as_text=True)
    assert 'id="phone-form"' in page and "ticket_sms.js" in page
    assert 'id="sms-phone"' in hall_app_kiosk_page(app)
    gone = client.delete(f"/api/v1/tickets/{token}/phone")  # as the page does, CSRF token too
    assert gone.status_code == 200 and gone.json["phone"] is None
    hall.db.dispose()


def hall_app_kiosk_page(app) -> str:
    return device_client(app, "hall", "kiosk").get("/kiosk").get_data(as_text=True)


def test_without_the_gateway_the_option_is_not_offered(tmp_path):
    app = app_with(tmp_path, None)
    client = app.test_client()
    token = client.post("/api/v1/tickets", json={"service": "investment"}).json["token"]
    assert client.get(f"/api/v1/tickets/{token}/phone").json["available"] is False
    answer = client.put(f"/api/v1/tickets/{token}/phone", json={"phone": PHONE})
    assert answer.status_code == 409 and answer.json["error"] == "sms_unavailable"
    assert "phone-form" not in client.get(f"/t/{token}").get_data(as_text=True)
    assert 'id="sms-phone"' not in hall_app_kiosk_page(app)
    app.extensions["hall"].db.dispose()
