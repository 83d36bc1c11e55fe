"""The clerk console and missed numbers (issue 10): a call out of order, pauses with a
reason and their report, a missed ticket's rejoin by policy, transfers to a closed window,
the no-show rule's count, and a result ready the moment it is decided."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import select

from hall_ops import queue
from hall_ops.errors import Conflict, InvalidInput
from hall_ops.queue.models import TicketEvent, WindowPause
from hall_ops.queue.windows import missed_ticket
from hall_ops.reports.pauses import pause_report
from tests.test_queue import login, take


def called(db, hall, clock, window=4, clerk="c01"):
    with db.write() as s:
        ticket, _ = queue.call_next(s, hall, window, clerk, clock())
        return ticket


def miss(db, hall, clock, window=4, clerk="c01"):
    """Call the next ticket and mark it missed after the configured recalls."""
    ticket = called(db, hall, clock, window, clerk)
    for _ in range(hall.queue.no_show_after_recalls):
        with db.write() as s:
            queue.recall(s, window, clerk, clock())
    with db.write() as s:
        queue.mark_no_show(s, hall, window, clerk, clock())
    return ticket


def order(db, hall, clock, window=4, clerk="c01") -> list[str]:
    with db.read() as s:
        return queue.window_view(s, hall, window, clock())["waiting_numbers"]


# ---------------------------------------------------------------- out of order


def test_call_a_chosen_number_out_of_order_with_a_reason(db, hall_config, clock):
    login(db, 4)
    first, second, third = (take(db, hall_config, clock) for _ in range(3))
    with pytest.raises(InvalidInput) as err, db.write() as s:
        queue.call_ticket(s, hall_config, 4, "c01", clock(), third.number, "  ")
    assert err.value.code == "reason_required"
    with db.write() as s:
        ticket, event = queue.call_ticket(s, hall_config, 4, "c01", clock(),
                                          third.number.lower(), "轮椅，需就近办理")
        assert ticket.number == third.number and ticket.status == "called"
        assert event.kind == "called" and event.clerk_id == "c01"
        assert event.detail == {"out_of_order": "yes", "reason": "轮椅，需就近办理"}
    # the others keep their order
    assert order(db, hall_config, clock) == [first.number, second.number]
    with db.write() as s:
        queue.start_service(s, 4, "c01", clock())
        queue.finish(s, 4, "c01", clock())
    # a number no longer waiting, or of a service the window does not serve, is refused
    other = take(db, hall_config, clock, "investment")
    for number in (third.number, other.number, "B999"):
        with pytest.raises(Conflict) as err, db.write() as s:
            queue.call_ticket(s, hall_config, 4, "c01", clock(), number, "test")
        assert err.value.code == "ticket_not_callable"


def test_a_ticket_called_at_one_window_cannot_be_chosen_at_another(db, hall_config, clock):
    login(db, 4, "c01")
    login(db, 5, "c02")
    ticket = take(db, hall_config, clock)
    called(db, hall_config, clock, 4, "c01")
    with pytest.raises(Conflict) as err, db.write() as s:
        queue.call_ticket(s, hall_config, 5, "c02", clock(), ticket.number, "test")
    assert err.value.code == "ticket_not_callable"


# ---------------------------------------------------------------- no-show rule


def test_no_show_refusal_says_how_many_recalls_are_left(db, hall_config, clock):
    login(db, 4)
    take(db, hall_config, clock)
    called(db, hall_config, clock)
    needed = hall_config.queue.no_show_after_recalls
    with pytest.raises(Conflict) as err, db.write() as s:
        queue.mark_no_show(s, hall_config, 4, "c01", clock())
    assert err.value.details == {"recalls": 0, "needed": needed, "left": needed}
    with db.read() as s:
        view = queue.window_view(s, hall_config, 4, clock())
    assert view["recalls_needed"] == needed and view["ticket"]["recalls"] == 0


# ---------------------------------------------------------------- missed numbers


def test_missed_numbers_are_listed_until_they_rejoin(db, hall_config, clock):
    login(db, 4)
    take(db, hall_config, clock)
    missed = miss(db, hall_config, clock)
    with db.read() as s:
        listed = queue.missed_numbers(s, hall_config, clock(), limit=6)
        zone = queue.missed_numbers(s, hall_config, clock(), limit=6, zone="front_intake")
        elsewhere = queue.missed_numbers(s, hall_config, clock(), limit=6, zone="business")
        console = queue.window_view(s, hall_config, 4, clock())["missed"]
    assert [m["ticket"] for m in listed] == [missed.number] and listed == zone
    assert listed[0]["window"] == 4 and elsewhere == [] and console == [missed.number]
    with db.write() as s:
        ticket = missed_ticket(s, hall_config, missed.number, clock())
        queue.rejoin(s, hall_config, ticket, clock(), via="window", clerk_id="c01", window=4)
    with db.read() as s:
        assert queue.missed_numbers(s, hall_config, clock(), limit=6) == []
        event = s.scalars(select(TicketEvent).where(TicketEvent.kind == "rejoined")).one()
    assert event.clerk_id == "c01" and event.from_status == "no_show"
    assert event.detail["via"] == "window" and event.detail["policy"] == "back"


def test_rejoin_at_the_back_and_only_as_often_as_allowed(db, hall_config, clock):
    login(db, 4)
    take(db, hall_config, clock)
    missed = miss(db, hall_config, clock)
    waiting = [take(db, hall_config, clock).number for _ in range(4)]
    with db.write() as s:
        queue.rejoin(s, hall_config, missed_ticket(s, hall_config, missed.number, clock()),
                     clock(), via="kiosk")
    assert order(db, hall_config, clock) == [*waiting, missed.number]
    later = take(db, hall_config, clock)
    assert order(db, hall_config, clock)[-2:] == [missed.number, later.number]
    # missed again: the limit (1) is used up
    for _ in waiting:
        with db.write() as s:
            queue.call_next(s, hall_config, 4, "c01", clock())
            queue.start_service(s, 4, "c01", clock())
            queue.finish(s, 4, "c01", clock())
    assert miss(db, hall_config, clock).number == missed.number
    with pytest.raises(Conflict) as err, db.write() as s:
        queue.rejoin(s, hall_config, missed_ticket(s, hall_config, missed.number, clock()),
                     clock(), via="kiosk")
    assert err.value.code == "rejoin_limit"
    # a ticket that was not missed cannot "rejoin"
    with pytest.raises(Conflict) as err, db.write() as s:
        queue.rejoin(s, hall_config, missed_ticket(s, hall_config, later.number, clock()),
                     clock(), via="kiosk")
    assert err.value.code == "not_missed"


def test_rejoin_after_n_people(db, hall_config, clock):
    rules = dataclasses.replace(hall_config.queue, rejoin_position="after",
                                rejoin_after_people=2)
    hall = dataclasses.replace(hall_config, queue=rules)
    login(db, 4)
    take(db, hall, clock)
    missed = miss(db, hall, clock)
    waiting = [take(db, hall, clock).number for _ in range(4)]
    with db.write() as s:
        queue.rejoin(s, hall, missed_ticket(s, hall, missed.number, clock()), clock(),
                     via="window", clerk_id="c01", window=4)
    assert order(db, hall, clock) == [*waiting[:2], missed.number, *waiting[2:]]
    with db.read() as s:
        view = queue.ticket_status(s, hall, missed.status_token)
    assert view["status"] == "waiting" and view["people_ahead"] == 2


# ---------------------------------------------------------------- transfers


def test_transfer_to_a_closed_window_is_refused(db, hall_config, clock):
    login(db, 4)
    take(db, hall_config, clock)
    called(db, hall_config, clock)
    with pytest.raises(Conflict) as err, db.write() as s:
        queue.transfer(s, 4, "c01", clock(), to_window=6)  # nobody at window 6
    assert err.value.code == "window_closed"


def test_closing_a_window_returns_tickets_sent_to_it(db, hall_config, clock):
    login(db, 4, "c01")
    login(db, 6, "c03")
    ticket = take(db, hall_config, clock)
    called(db, hall_config, clock)
    with db.write() as s:
        queue.transfer(s, 4, "c01", clock(), to_window=6)
    with db.read() as s:
        assert queue.window_view(s, hall_config, 6, clock())["next"] == [ticket.number]
        assert queue.window_view(s, hall_config, 4, clock())["next"] == []
    with db.write() as s:
        queue.close_window(s, 6, "c03", clock())
    with db.read() as s:
        status = queue.ticket_status(s, hall_config, ticket.status_token)
        assert queue.window_view(s, hall_config, 4, clock())["next"] == [ticket.number]
        event = s.scalars(select(TicketEvent).where(TicketEvent.kind == "untargeted")).one()
    assert status["target_window"] is None and status["estimated_wait_minutes"] is not None
    assert event.detail == {"reason": "window_closed", "from_window": 6}


# ---------------------------------------------------------------- pauses


def test_pause_needs_a_reason_and_the_report_counts_it(db, hall_config, clock):
    login(db, 4, "c01")
    login(db, 5, "c02")
    with pytest.raises(InvalidInput) as err, db.write() as s:
        queue.pause_window(s, 4, "c01", True, clock())
    assert err.value.code == "pause_reason_required"
    start = clock.now
    with db.write() as s:
        queue.pause_window(s, 4, "c01", True, start, "break")
        queue.pause_window(s, 5, "c02", True, start, "system_fault")
    with db.read() as s:
        view = queue.window_view(s, hall_config, 4, start)
    assert view["state"] == "paused" and view["pause_reason"] == "break"
    with db.write() as s:
        queue.pause_window(s, 4, "c01", False, start + dt.timedelta(minutes=15))
        queue.pause_window(s, 4, "c01", True, start + dt.timedelta(minutes=20), "meeting")
        queue.close_window(s, 4, "c01", start + dt.timedelta(minutes=50))  # ends the pause
    now = start + dt.timedelta(minutes=60)  # window 5 is still paused: counted up to now
    day = dt.date(2026, 11, 25)
    with db.read() as s:
        rows = {r.key: r for r in pause_report(s, hall_config, day, day, "window", now)}
        by_clerk = {r.key: r for r in pause_report(s, hall_config, day, day, "clerk", now)}
        assert s.scalars(select(WindowPause).where(WindowPause.ended_at.is_(None))).all()
    assert (rows["4"].pauses, rows["4"].break_minutes, rows["4"].meeting_minutes) == (2, 15, 30)
    assert rows["4"].paused_minutes == 45 and rows["5"].system_fault_minutes == 60
    assert by_clerk["c01"].paused_minutes == 45 and set(by_clerk) == {"c01", "c02"}


def test_resume_leaves_a_window_that_is_not_paused_as_it_is(db, hall_config, clock):
    login(db, 4)
    take(db, hall_config, clock)
    called(db, hall_config, clock)
    with db.write() as s:
        window = queue.pause_window(s, 4, "c01", False, clock())
        assert window.state == "calling" and window.current_ticket_id is not None
