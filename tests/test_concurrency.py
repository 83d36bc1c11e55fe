"""Many kiosks and windows at the same instant, on SQLite and on PostgreSQL.

Each thread runs real transactions against the same database; the
assertions are on what the database holds afterwards, so a race shows up as
a duplicate number or a ticket called twice, never as a timing.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
from sqlalchemy import delete, func, select, text

from hall_ops import queue
from hall_ops.queue.models import Ticket, TicketEvent, Window, WindowService


def _run_threads(count: int, target) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(count)

    def run(i: int) -> None:
        try:
            barrier.wait()
            target(i)
        except BaseException as exc:  # reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return errors


def test_fifty_kiosks_never_share_a_number(any_db, hall_config, clock):
    def kiosk(_: int) -> None:
        for _ in range(6):
            with any_db.write() as s:
                queue.take_ticket(s, hall_config, "enterprise", clock.now)

    assert _run_threads(50, kiosk) == []
    with any_db.read() as s:
        numbers = s.scalars(select(Ticket.number)).all()
    assert len(numbers) == 300
    assert sorted(numbers) == [f"B{i:03d}" for i in range(1, 301)]


def test_windows_calling_at_once_never_get_the_same_ticket(any_db, hall_config, clock):
    windows = list(range(1, 21))
    with any_db.write() as s:
        s.execute(delete(WindowService))
        for n in windows:
            s.add(WindowService(window_number=n, service_code="enterprise"))
    for n in windows:
        with any_db.write() as s:
            queue.open_window(s, n, f"c{n:02d}", clock.now)
    for _ in range(200):
        with any_db.write() as s:
            queue.take_ticket(s, hall_config, "enterprise", clock.now)

    served: dict[int, list[str]] = {n: [] for n in windows}

    def window(i: int) -> None:
        n = windows[i]
        while True:
            with any_db.write() as s:
                ticket, _ = queue.call_next(s, hall_config, n, f"c{n:02d}", clock.now)
                if ticket is None:
                    return
                served[n].append(ticket.number)
                queue.start_service(s, n, f"c{n:02d}", clock.now)
                queue.finish(s, n, f"c{n:02d}", clock.now)

    assert _run_threads(len(windows), window) == []
    everything = [number for numbers in served.values() for number in numbers]
    assert len(everything) == 200 and len(set(everything)) == 200
    with any_db.read() as s:
        calls = Counter(
            s.scalars(select(TicketEvent.ticket_id).where(TicketEvent.kind == "called")).all()
        )
        assert len(calls) == 200 and set(calls.values()) == {1}
        assert s.scalar(select(func.count()).where(Ticket.status == "done")) == 200
        assert s.scalar(select(func.count()).where(Window.current_ticket_id.is_not(None))) == 0
    # More than one window did the work: the test really raced.
    assert sum(1 for numbers in served.values() if numbers) > 1


def test_a_call_out_of_order_never_takes_a_ticket_another_window_calls(
    any_db, hall_config, clock
):
    """Half the windows press *Call next* (oldest first), the other half call chosen numbers
    out of order from the newest down, so the two kinds meet on the same tickets: each ticket
    is called by exactly one window."""
    from hall_ops.errors import Conflict

    windows = list(range(1, 13))
    with any_db.write() as s:
        s.execute(delete(WindowService))
        for n in windows:
            s.add(WindowService(window_number=n, service_code="enterprise"))
    for n in windows:
        with any_db.write() as s:
            queue.open_window(s, n, f"c{n:02d}", clock.now)
    numbers = []
    for _ in range(60):
        with any_db.write() as s:
            numbers.append(queue.take_ticket(s, hall_config, "enterprise", clock.now).number)

    served: dict[int, list[str]] = {n: [] for n in windows}
    refused: list[str] = []

    def window(i: int) -> None:
        n, clerk = windows[i], f"c{windows[i]:02d}"
        chooser = i % 2 == 1
        for attempt in range(len(numbers)):
            try:
                with any_db.write() as s:
                    if chooser:
                        # newest first: Call next takes from the other end, and the two
                        # meet (had both started at the oldest, one kind could win them all)
                        wanted = numbers[-1 - attempt]
                        ticket, _ = queue.call_ticket(s, hall_config, n, clerk, clock.now,
                                                      wanted, "race")
                    else:
                        ticket, _ = queue.call_next(s, hall_config, n, clerk, clock.now)
                        if ticket is None:
                            return
                    served[n].append(ticket.number)
                    queue.start_service(s, n, clerk, clock.now)
                    queue.finish(s, n, clerk, clock.now)
            except Conflict as exc:
                assert exc.code == "ticket_not_callable"
                refused.append(wanted)

    assert _run_threads(len(windows), window) == []
    everything = [number for got in served.values() for number in got]
    assert sorted(everything) == sorted(numbers)  # all called, none twice
    with any_db.read() as s:
        calls = Counter(
            s.scalars(select(TicketEvent.ticket_id).where(TicketEvent.kind == "called")).all()
        )
    assert len(calls) == 60 and set(calls.values()) == {1}
    chosen = sum(len(served[n]) for i, n in enumerate(windows) if i % 2 == 1)
    assert chosen > 0 and refused  # both kinds of call took tickets, and some choices lost


def _writers_waiting(db) -> int:
    """Writers blocked behind the one holding the write: in the SQLite fair queue of this
    process, or (PostgreSQL) sessions of this database waiting on a lock."""
    if db.dialect == "sqlite":
        return len(db._write_turn._queue)
    with db.read() as s:
        return s.scalar(text(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"))


@pytest.mark.parametrize("counted_before", [0, 1])
def test_kiosks_waiting_to_write_are_served_in_arrival_order(
    any_db, hall_config, clock, counted_before
):
    """One kiosk holds its write transaction open; eight more start, one after the other,
    each only once the previous one is waiting. They commit in the order they arrived: the
    numbers, given out under the lock, follow the arrival order (SQLite: the fair write
    queue; PostgreSQL: the advisory lock of the service's daily counter — on the upsert's
    row lock alone they came out shuffled, both for the day's first number and later)."""
    holding, go = threading.Event(), threading.Event()
    got: dict[int, str] = {}
    for _ in range(counted_before):
        with any_db.write() as s:
            queue.take_ticket(s, hall_config, "enterprise", clock.now)

    def first() -> None:
        with any_db.write() as s:
            got[0] = queue.take_ticket(s, hall_config, "enterprise", clock.now).number
            holding.set()
            go.wait(30)

    def later(i: int) -> None:
        with any_db.write() as s:
            got[i] = queue.take_ticket(s, hall_config, "enterprise", clock.now).number

    threads = [threading.Thread(target=first)]
    threads[0].start()
    assert holding.wait(10)
    for i in range(1, 9):
        threads.append(threading.Thread(target=later, args=(i,)))
        threads[-1].start()
        deadline = time.monotonic() + 10
        while _writers_waiting(any_db) < i:
            assert time.monotonic() < deadline, f"kiosk {i} never started waiting"
            time.sleep(0.005)
    go.set()
    for t in threads:
        t.join(30)
    first = 1 + counted_before
    assert [got[i] for i in range(9)] == [f"B{n:03d}" for n in range(first, first + 9)]
