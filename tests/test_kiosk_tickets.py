"""Kiosk and remote tickets (issue 10): a ticket by resident ID (checked, encrypted, masked,
elderly priority from the birth date), remote tickets that wait only once checked in and
lapse otherwise, the kiosk's per-service figures, and the clerk's pre-filled ID."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import func, select, text

from hall_ops import queue
from hall_ops.cases.identity import resident_id_check_char
from hall_ops.errors import Conflict, InvalidInput
from hall_ops.queue.models import Ticket, TicketEvent
from hall_ops.staff.models import SecurityEvent
from tests.support.web import device_client, hall_app, window_client


def resident_id(birth: str, serial: str = "002") -> str:
    """A valid resident ID of someone born on ``birth`` (YYYYMMDD) in Beijing's Chaoyang."""
    first17 = "110105" + birth + serial
    return first17 + resident_id_check_char(first17)


ELDER = resident_id("19500101")
"""Born 1950: 76 on the hall day of the tests (2026-11-25)."""


# ---------------------------------------------------------------- domain


def test_a_bad_resident_id_is_refused_before_a_number_is_used(db, hall_config, clock):
    wrong_check = ELDER[:17] + ("0" if ELDER[17] != "0" else "1")
    for bad in (wrong_check, "123", resident_id("20301201")):  # check digit, length, future
        with pytest.raises(InvalidInput) as err, db.write() as s:
            queue.take_ticket(s, hall_config, "enterprise", clock(), resident_id=bad)
        assert err.value.code == "invalid_resident_id"
    with db.write() as s:
        assert queue.take_ticket(s, hall_config, "enterprise", clock()).number == "B001"


@pytest.mark.parametrize(("birth", "priority"), [
    ("19661125", "elderly"),  # 60 today (hall day 2026-11-25)
    ("19661126", "normal"),   # 60 tomorrow
    ("19661124", "elderly"),
    ("19900101", "normal"),
])
def test_elderly_priority_from_the_birth_date_across_the_boundary(
    db, hall_config, clock, birth, priority
):
    number = resident_id(birth)
    with db.write() as s:
        ticket = queue.take_ticket(s, hall_config, "enterprise", clock(), resident_id=number)
        assert ticket.priority == priority
        assert ticket.priority_reason == ("age" if priority == "elderly" else None)
        taken = s.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)).one()
        if priority == "elderly":
            assert taken.detail["priority_reason"] == "age"
            assert taken.detail["elderly_age"] == 60
        view = queue.ticket_view(ticket)
        assert view["resident_id"] == number[0] + "*" * 16 + number[-1]
        head_start = hall_config.queue.priority_head_start_minutes[priority]
        assert ticket.rank_at == ticket.taken_at - dt.timedelta(minutes=head_start)


def test_the_elderly_age_is_configurable(db, hall_config, clock):
    strict = dataclasses.replace(
        hall_config, queue=dataclasses.replace(hall_config.queue, elderly_age=80))
    with db.write() as s:
        assert queue.take_ticket(s, strict, "enterprise", clock(),
                                 resident_id=ELDER).priority == "normal"


def test_the_resident_id_is_stored_encrypted_and_found_by_blind_index(db, hall_config, clock):
    with db.write() as s:
        ticket = queue.take_ticket(s, hall_config, "enterprise", clock(), resident_id=ELDER)
        ticket_id = ticket.id
    with db.read() as s:
        raw = s.execute(text("SELECT resident_id_number, resident_id_hash FROM tickets "
                             "WHERE id = :id"), {"id": ticket_id}).one()
        assert ELDER not in raw[0] and raw[0].startswith("v1:")
        assert s.get(Ticket, ticket_id).resident_id_number == ELDER
        from hall_ops.privacy import blind_index
        found = s.scalars(select(Ticket.id).where(
            Ticket.resident_id_hash == blind_index(ELDER.lower(), "tickets.resident_id_number")
        )).all()
        assert found == [ticket_id]


def test_a_remote_ticket_is_not_counted_nor_callable_until_checked_in(db, hall_config, clock):
    with db.write() as s:
        queue.open_window(s, 4, "c01", clock())
        remote = queue.take_ticket(s, hall_config, "enterprise", clock(), remote=True)
        token, number = remote.status_token, remote.number
        assert remote.status == "remote"
        assert remote.check_in_by == remote.taken_at + dt.timedelta(minutes=60)
    clock.advance(minutes=5)
    with db.write() as s:
        walk_in = queue.take_ticket(s, hall_config, "enterprise", clock())
        walk_in_number = walk_in.number
        snapshot = queue.queue_snapshot(s, hall_config, clock())
        (enterprise,) = [x for x in snapshot["services"] if x["code"] == "enterprise"]
        assert enterprise["waiting"] == 1  # the remote one is not counted
        assert queue.ticket_status(s, hall_config, walk_in.status_token)["people_ahead"] == 0
    with db.write() as s:
        ticket, _ = queue.call_next(s, hall_config, 4, "c01", clock())
        assert ticket.number == walk_in_number
        queue.start_service(s, 4, "c01", clock())
        queue.finish(s, 4, "c01", clock())
    with db.write() as s:
        assert queue.call_next(s, hall_config, 4, "c01", clock()) == (None, None)
        with pytest.raises(Conflict):
            queue.call_ticket(s, hall_config, 4, "c01", clock(), number, "test")
    clock.advance(minutes=10)
    with db.write() as s:
        now = clock()
        checked = queue.check_in_remote(s, hall_config, token, now)
        assert checked.status == "waiting" and checked.rank_at == now  # ranked from check-in
        assert checked.taken_at == now  # waits are counted in the hall
        event = s.scalars(select(TicketEvent).where(TicketEvent.kind == "checked_in")).one()
        assert (event.from_status, event.to_status) == ("remote", "waiting")
        assert event.detail["remote_taken_at"] < now.isoformat()
    with db.write() as s:
        with pytest.raises(Conflict) as err:
            queue.check_in_remote(s, hall_config, token, clock())
        assert err.value.code == "not_remote"
    with db.write() as s:
        ticket, _ = queue.call_next(s, hall_config, 4, "c01", clock())
        assert ticket.number == number


def test_a_remote_ticket_lapses_and_is_never_callable_after(db, hall_config, clock):
    with db.write() as s:
        queue.open_window(s, 4, "c01", clock())
        token = queue.take_ticket(s, hall_config, "enterprise", clock(), remote=True).status_token
    clock.advance(minutes=59)
    with db.write() as s:
        assert queue.lapse_remote_tickets(s, clock()) == 0
    clock.advance(minutes=2)
    with pytest.raises(Conflict) as err, db.write() as s:
        queue.check_in_remote(s, hall_config, token, clock())
    assert err.value.code == "remote_ticket_lapsed"
    with db.write() as s:
        assert queue.lapse_remote_tickets(s, clock()) == 1
        assert queue.ticket_by_token(s, token).status == "cancelled"
        lapsed = s.scalars(select(TicketEvent).where(TicketEvent.kind == "lapsed")).one()
        assert lapsed.from_status == "remote" and lapsed.detail["reason"] == "not_checked_in"
        assert queue.call_next(s, hall_config, 4, "c01", clock()) == (None, None)
    with pytest.raises(Conflict), db.write() as s:
        queue.check_in_remote(s, hall_config, token, clock())


def test_a_remote_ticket_may_be_cancelled_before_check_in(db, hall_config, clock):
    with db.write() as s:
        token = queue.take_ticket(s, hall_config, "enterprise", clock(), remote=True).status_token
    with db.write() as s:
        assert queue.cancel_ticket(s, token, clock()).status == "cancelled"
    with pytest.raises(Conflict), db.write() as s:
        queue.check_in_remote(s, hall_config, token, clock())


def test_remote_tickets_only_where_the_hall_allows(db, hall_config, clock):
    off = dataclasses.replace(
        hall_config, queue=dataclasses.replace(hall_config.queue, remote_tickets=False))
    with pytest.raises(Conflict) as err, db.write() as s:
        queue.take_ticket(s, off, "enterprise", clock(), remote=True)
    assert err.value.code == "remote_tickets_off"


# ---------------------------------------------------------------- API


@pytest.fixture
def app(tmp_path, hall_config, clock):
    app = hall_app(hall_config, clock=clock, database_url=f"sqlite:///{tmp_path / 'hall.db'}")
    yield app
    app.extensions["hall"].db.dispose()


def test_api_ticket_by_resident_id_masked_and_prefilled_for_the_clerk(app):
    client = app.test_client()
    r = client.post("/api/v1/tickets", json={"service": "enterprise", "resident_id": "12"})
    assert r.status_code == 422 and r.json["error"] == "invalid_resident_id"
    r = client.post("/api/v1/tickets", json={"service": "enterprise",
                                              "resident_id": ELDER[:17] + "0"
                                              if ELDER[17] != "0" else ELDER[:17] + "1"})
    assert r.status_code == 422 and r.json["error"] == "invalid_resident_id"
    r = client.post("/api/v1/tickets", json={"service": "enterprise", "resident_id": ELDER})
    assert r.status_code == 201, r.json
    assert r.json["priority"] == "elderly" and r.json["priority_reason"] == "age"
    assert r.json["resident_id"] == ELDER[0] + "*" * 16 + ELDER[-1]
    assert ELDER not in r.get_data(as_text=True)
    status = client.get(f"/api/v1/tickets/{r.json['token']}")
    assert ELDER not in status.get_data(as_text=True)
    clerk = window_client(app, 4, "c04")
    assert clerk.get("/api/v1/windows/4/ticket-identity").json["error"] == "no_current_ticket"
    assert clerk.post("/api/v1/windows/4/call-next").json["ticket"]["number"] == r.json["number"]
    assert client.get("/api/v1/windows/4/ticket-identity").status_code == 401
    got = clerk.get("/api/v1/windows/4/ticket-identity")
    assert got.status_code == 200 and got.json == {"ticket": r.json["number"], "id_number": ELDER}
    with app.extensions["hall"].db.read() as s:
        (read,) = s.scalars(select(SecurityEvent).where(
            SecurityEvent.kind == "personal_data_read",
            SecurityEvent.subject == f"case:ticket:{r.json['id']}")).all()
        assert read.actor == "c04"


def test_api_remote_ticket_then_check_in_at_the_kiosk(app, clock):
    phone = app.test_client()
    r = phone.post("/api/v1/tickets/remote", json={"service": "enterprise"})
    assert r.status_code == 201, r.json
    remote = r.json
    assert remote["status"] == "remote" and remote["check_in_by"]
    assert phone.get("/api/v1/queue").json["services"][1]["waiting"] == 0
    kiosk = device_client(app, kind="kiosk")
    body = {"token": remote["status_url"]}
    assert phone.post("/api/v1/tickets/check-in", json=body).status_code == 401  # not a kiosk
    assert kiosk.post("/api/v1/tickets/check-in", json={"token": "nope"}).status_code == 404
    r = kiosk.post("/api/v1/tickets/check-in", json=body)
    assert r.status_code == 200, r.json
    assert r.json["status"] == "waiting" and r.json["number"] == remote["number"]
    again = kiosk.post("/api/v1/tickets/check-in", json=body)
    assert again.status_code == 409 and again.json["error"] == "not_remote"
    waiting = {s["code"]: s["waiting"] for s in phone.get("/api/v1/queue").json["services"]}
    assert waiting["enterprise"] == 1
    # one that lapses
    late = phone.post("/api/v1/tickets/remote", json={"service": "enterprise"}).json
    clock.advance(minutes=61)
    r = kiosk.post("/api/v1/tickets/check-in", json={"token": late["token"]})
    assert r.status_code == 409 and r.json["error"] == "remote_ticket_lapsed"
    page = phone.get(f"/t/{late['token']}")
    assert page.status_code == 200


def test_api_remote_tickets_off(tmp_path, hall_config, clock):
    off = dataclasses.replace(
        hall_config, queue=dataclasses.replace(hall_config.queue, remote_tickets=False))
    app = hall_app(off, clock=clock, database_url=f"sqlite:///{tmp_path / 'off.db'}")
    try:
        r = app.test_client().post("/api/v1/tickets/remote", json={"service": "enterprise"})
        assert r.status_code == 409 and r.json["error"] == "remote_tickets_off"
    finally:
        app.extensions["hall"].db.dispose()


def test_the_lapse_job_records_lapsed_tickets(app, clock):
    from hall_web.jobs import lapse_remote_tickets

    phone = app.test_client()
    phone.post("/api/v1/tickets/remote", json={"service": "enterprise"})
    hall = app.extensions["hall"]
    assert lapse_remote_tickets(hall) == 0
    clock.advance(minutes=61)
    assert lapse_remote_tickets(hall) == 1
    with hall.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Ticket)
                        .where(Ticket.status == "remote")) == 0


def test_remote_tickets_are_limited_per_address(tmp_path, hall_config, clock):
    limited = dataclasses.replace(
        hall_config, raw={**hall_config.raw, "security": {"lookup_rate": "3 per minute"}})
    app = hall_app(limited, clock=clock, database_url=f"sqlite:///{tmp_path / 'rl.db'}")
    try:
        client = app.test_client()
        statuses = [client.post("/api/v1/tickets/remote", json={"service": "enterprise"})
                    .status_code for _ in range(4)]
        assert statuses == [201, 201, 201, 429]  # successes count too: numbers are finite
    finally:
        app.extensions["hall"].db.dispose()


def test_the_kiosk_answer_is_the_ticket_page_view(tmp_path, hall_config, clock):
    """POST /tickets answers with the same view the ticket's own page reads back (it skips
    looking up a case, licences and a rating, which a ticket just issued cannot have)."""
    app = hall_app(hall_config, clock=clock, database_url=f"sqlite:///{tmp_path / 'hall.db'}")
    client = app.test_client()
    for _ in range(2):
        assert client.post("/api/v1/tickets", json={"service": "enterprise"}).status_code == 201
    taken = client.post("/api/v1/tickets", json={"service": "enterprise"})
    assert taken.status_code == 201
    view = taken.get_json()
    assert view["people_ahead"] == 2
    assert (view["case"], view["licences"], view["rating"]) == (None, None, None)
    assert client.get(f"/api/v1/tickets/{view['token']}").get_json() == view
