"""Domain core: numbering, priorities, the ticket life cycle, estimates."""

from __future__ import annotations

import datetime as dt

import pytest

from hall_ops import queue
from hall_ops.errors import Conflict, InvalidInput, NotFound, Unauthorized


def login(db, window: int, clerk: str = "c01", now=None) -> None:
    with db.write() as s:
        queue.open_window(s, window, clerk, now or dt.datetime(2026, 11, 25, 2))


def take(db, hall, clock, service="enterprise", priority="normal"):
    with db.write() as s:
        return queue.take_ticket(s, hall, service, clock(), priority=priority)


def test_numbers_count_up_per_service_per_day(db, hall_config, clock):
    assert [take(db, hall_config, clock).number for _ in range(3)] == ["B001", "B002", "B003"]
    assert take(db, hall_config, clock, "investment").number == "A001"
    clock.advance(days=1)
    assert take(db, hall_config, clock).number == "B001"


def test_unknown_service_closed_hall_bad_priority(db, hall_config, clock):
    with pytest.raises(NotFound), db.write() as s:
        queue.take_ticket(s, hall_config, "nope", clock())
    with pytest.raises(InvalidInput), db.write() as s:
        queue.take_ticket(s, hall_config, "enterprise", clock(), priority="vip")
    sunday = dt.datetime(2026, 11, 29, 2, 0)
    with pytest.raises(Conflict) as err, db.write() as s:
        queue.take_ticket(s, hall_config, "enterprise", sunday)
    assert err.value.code == "hall_closed"
    evening = dt.datetime(2026, 11, 25, 10, 0)  # 18:00 in Shanghai
    with pytest.raises(Conflict), db.write() as s:
        queue.take_ticket(s, hall_config, "enterprise", evening)


def test_call_next_serves_in_rank_order_with_bounded_priority(db, hall_config, clock):
    login(db, 4)
    early = take(db, hall_config, clock)  # normal, waited longest
    clock.advance(minutes=12)
    recent = take(db, hall_config, clock)  # normal, taken 1 minute before the elderly
    clock.advance(minutes=1)
    elderly = take(db, hall_config, clock, priority="elderly")
    order = []
    for _ in range(3):
        with db.write() as s:
            ticket, _ = queue.call_next(s, hall_config, 4, "c01", clock())
            order.append(ticket.number)
            queue.start_service(s, 4, "c01", clock())
            queue.finish(s, 4, "c01", clock())
    # The elderly ticket overtakes the one taken a minute earlier, never the one
    # that had already waited longer than its 10-minute head start.
    assert order == [early.number, elderly.number, recent.number]


def test_call_next_only_from_services_of_the_window(db, hall_config, clock):
    login(db, 1)  # window 1 serves investment only
    take(db, hall_config, clock, "enterprise")
    with db.write() as s:
        assert queue.call_next(s, hall_config, 1, "c01", clock()) == (None, None)


def test_life_cycle_and_stamps(db, hall_config, clock):
    login(db, 4)
    t = take(db, hall_config, clock)
    with db.write() as s:
        called, event = queue.call_next(s, hall_config, 4, "c01", clock())
        assert called.id == t.id and event.kind == "called"
        with pytest.raises(Conflict):
            queue.call_next(s, hall_config, 4, "c01", clock())  # window busy
        with pytest.raises(Conflict):
            queue.finish(s, 4, "c01", clock())  # must start first
        queue.start_service(s, 4, "c01", clock())
        done = queue.finish(s, 4, "c01", clock())
        assert done.status == "done" and done.started_at < done.finished_at
    with pytest.raises(Conflict) as err, db.write() as s:
        queue.finish(s, 4, "c01", clock())
    assert err.value.code == "no_current_ticket"


def test_no_show_needs_recalls(db, hall_config, clock):
    login(db, 4)
    take(db, hall_config, clock)
    with db.write() as s:
        queue.call_next(s, hall_config, 4, "c01", clock())
    for _ in range(hall_config.queue.no_show_after_recalls):
        with pytest.raises(Conflict), db.write() as s:
            queue.mark_no_show(s, hall_config, 4, "c01", clock())
        with db.write() as s:
            queue.recall(s, 4, "c01", clock())
    with db.write() as s:
        ticket = queue.mark_no_show(s, hall_config, 4, "c01", clock())
        assert ticket.status == "no_show"


def test_transfer_keeps_place_by_original_take_time(db, hall_config, clock):
    login(db, 4, "c01")
    login(db, 8, "c02")  # real estate
    moved = take(db, hall_config, clock, "enterprise")
    clock.advance(minutes=5)
    later = take(db, hall_config, clock, "real_estate")
    with db.write() as s:
        queue.call_next(s, hall_config, 4, "c01", clock())
        queue.transfer(s, 4, "c01", clock(), to_service="real_estate")
        nxt, _ = queue.call_next(s, hall_config, 8, "c02", clock())
    assert nxt.id == moved.id and nxt.id != later.id


def test_transfer_to_named_window(db, hall_config, clock):
    login(db, 4, "c01")
    login(db, 5, "c02")
    login(db, 6, "c03")
    t = take(db, hall_config, clock)
    with db.write() as s:
        queue.call_next(s, hall_config, 4, "c01", clock())
        with pytest.raises(InvalidInput) as err:
            queue.transfer(s, 4, "c01", clock(), to_service="real_estate", to_window=5)
        assert err.value.code == "window_does_not_serve"
        queue.transfer(s, 4, "c01", clock(), to_window=6)
    with db.write() as s:
        assert queue.call_next(s, hall_config, 5, "c02", clock()) == (None, None)
        got, _ = queue.call_next(s, hall_config, 6, "c03", clock())
        assert got.id == t.id


def test_window_login_rules(db, hall_config, clock):
    with pytest.raises(Unauthorized), db.write() as s:
        queue.open_window(s, 4, "nobody", clock())  # not a clerk of this hall
    login(db, 4, "c01")
    with pytest.raises(Conflict), db.write() as s:
        queue.open_window(s, 4, "c02", clock())
    with pytest.raises(Conflict), db.write() as s:
        queue.open_window(s, 5, "c01", clock())
    with pytest.raises(Unauthorized), db.write() as s:
        queue.call_next(s, hall_config, 4, "c02", clock())


def test_appointment_check_in_gives_priority_once(db, hall_config, clock):
    now = clock()
    with db.write() as s:
        appt = queue.create_appointment(
            s, "real_estate", now + dt.timedelta(minutes=20), 30, "张三", None, now
        )
        code = appt.code
    with db.write() as s:
        ticket = queue.check_in(s, hall_config, code, clock())
        assert ticket.priority == "appointment"
    with pytest.raises(Conflict), db.write() as s:
        queue.check_in(s, hall_config, code, clock())
    with pytest.raises(NotFound), db.write() as s:
        queue.check_in(s, hall_config, "999999x", clock())


def test_status_and_estimate(db, hall_config, clock):
    tickets = [take(db, hall_config, clock) for _ in range(5)]
    with db.read() as s:
        st = queue.ticket_status(s, hall_config, tickets[4].status_token)
    assert st["people_ahead"] == 4 and st["estimated_wait_minutes"] is None  # no window open
    login(db, 4, "c01")
    login(db, 5, "c02")
    with db.read() as s:
        st = queue.ticket_status(s, hall_config, tickets[4].status_token)
    assert st["estimated_wait_minutes"] == pytest.approx(4 / 2 * 12)
    # Measured service times replace the configured guess.
    with db.write() as s:
        queue.call_next(s, hall_config, 4, "c01", clock())
        queue.start_service(s, 4, "c01", clock.now)
    clock.advance(minutes=6)
    with db.write() as s:
        queue.finish(s, 4, "c01", clock.now)
    with db.read() as s:
        st = queue.ticket_status(s, hall_config, tickets[4].status_token)
    assert st["people_ahead"] == 3
    assert st["estimated_wait_minutes"] == pytest.approx(3 / 2 * 6, abs=0.1)


def test_people_ahead_by_rank_time_then_number_on_both_databases(any_db, hall_config):
    """Ties at the same whole second go by number; an elderly ticket taken later ranks ahead
    (its head start); a ticket sent to a window waits only behind that window's and the
    untargeted ones. The counts come from one prepared statement with typed parameters."""
    now = dt.datetime(2026, 11, 25, 2, 0, 0)  # whole seconds: no microseconds stored
    with any_db.write() as s:
        normal = [queue.take_ticket(s, hall_config, "enterprise", now) for _ in range(3)]
        elder = queue.take_ticket(s, hall_config, "enterprise", now + dt.timedelta(minutes=1),
                                  priority="elderly")
        other = queue.take_ticket(s, hall_config, "enterprise", now)
        other.target_window_number = 5
        sent = queue.take_ticket(s, hall_config, "enterprise", now + dt.timedelta(minutes=2))
        sent.target_window_number = 4
    with any_db.read() as s:
        ahead = {t.number: queue.ticket_status(s, hall_config, t.status_token)["people_ahead"]
                 for t in (*normal, elder, sent)}
    assert ahead == {elder.number: 0, normal[0].number: 1, normal[1].number: 2,
                     normal[2].number: 3, sent.number: 4}  # not behind window 5's ticket


def test_recent_calls_survive_in_database(db, hall_config, clock):
    login(db, 4)
    take(db, hall_config, clock)
    with db.write() as s:
        queue.call_next(s, hall_config, 4, "c01", clock())
        queue.recall(s, 4, "c01", clock())
    with db.read() as s:
        calls = queue.recent_calls(s, 8, zone="front_intake")
    assert [(c["ticket"], c["window"], c["recall"]) for c in calls] == [
        ("B001", 4, True), ("B001", 4, False)]


def test_ticket_history_is_append_only_and_says_where(db, hall_config, clock):
    from sqlalchemy import select, text
    from sqlalchemy.exc import DatabaseError

    from hall_ops.queue.models import TicketEvent

    with db.write(origin="kiosk 10.0.0.7") as s:
        queue.take_ticket(s, hall_config, "enterprise", clock())
    with db.read() as s:
        event = s.scalars(select(TicketEvent)).one()
        assert event.origin == "kiosk 10.0.0.7" and event.kind == "taken"
    for statement in ("UPDATE ticket_events SET kind = 'x'", "DELETE FROM ticket_events"):
        with pytest.raises(DatabaseError, match="append-only"), db.write() as s:
            s.execute(text(statement))
