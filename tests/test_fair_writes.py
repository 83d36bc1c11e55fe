"""The SQLite write queue (``hall_ops.db.FairLock``): first come, first served, in threads
and under gevent's and eventlet's monkey patching (which the production server uses)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from hall_ops.db import FairLock

ROOT = Path(__file__).resolve().parent.parent


def _wait_for(condition, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.002)


def test_the_lock_is_granted_in_arrival_order():
    lock = FairLock()
    lock.acquire()
    order: list[int] = []

    def worker(i: int) -> None:
        lock.acquire()
        order.append(i)
        lock.release()

    threads = []
    for i in range(16):
        threads.append(threading.Thread(target=worker, args=(i,)))
        threads[-1].start()
        _wait_for(lambda i=i: len(lock._queue) == i + 1)
    lock.release()
    for t in threads:
        t.join(10)
    assert order == list(range(16))
    lock.acquire()  # free again, taken at once
    lock.release()


def test_a_waiter_that_times_out_leaves_the_queue():
    lock = FairLock()
    lock.acquire()
    with pytest.raises(TimeoutError):
        lock.acquire(timeout=0.05)
    assert len(lock._queue) == 0
    got = threading.Event()

    def later() -> None:
        lock.acquire()
        got.set()
        lock.release()

    thread = threading.Thread(target=later)
    thread.start()
    _wait_for(lambda: len(lock._queue) == 1)
    lock.release()  # handed to the live waiter, not to the one that gave up
    assert got.wait(10)
    thread.join(10)


GREEN_WRITERS = """
import sys, time
mode, url = sys.argv[1], sys.argv[2]
if mode == "gevent":
    from gevent import monkey
    monkey.patch_all()
    import gevent
    spawn, sleep, joinall = gevent.spawn, gevent.sleep, gevent.joinall
else:
    import eventlet
    eventlet.monkey_patch()
    spawn, sleep = eventlet.spawn, eventlet.sleep
    def joinall(gs):
        for g in gs:
            g.wait()
from sqlalchemy import text
from hall_ops.db import Database

db = Database(url)
with db.write() as s:
    s.execute(text("CREATE TABLE log (n INTEGER)"))
order = []

def writer(n, pause):
    with db.write() as s:
        s.execute(text("INSERT INTO log VALUES (:n)"), {"n": n})
        sleep(pause)  # yields to the other greenlets while holding the database
        order.append(n)

started = time.monotonic()
greenlets = [spawn(writer, 0, 0.3)]
sleep(0.05)
for n in range(1, 9):
    greenlets.append(spawn(writer, n, 0))
    sleep(0.01)
joinall(greenlets)
with db.read() as s:
    stored = [row[0] for row in s.execute(text("SELECT n FROM log ORDER BY rowid"))]
print(order == list(range(9)) and stored == order, round(time.monotonic() - started, 2))
"""


@pytest.mark.parametrize("mode", ["gevent", "eventlet"])
def test_green_writers_queue_in_order_without_blocking_the_process(tmp_path, mode):
    """A greenlet that yields inside its write: the others wait on green locks in order.
    On SQLite's busy handler alone, the next writer would sleep in C, stalling every
    greenlet (the holder included) until its busy timeout ran out."""
    script = tmp_path / "writers.py"
    script.write_text(textwrap.dedent(GREEN_WRITERS))
    done = subprocess.run(
        [sys.executable, str(script), mode, f"sqlite:///{tmp_path / 'w.db'}"],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    in_order, seconds = done.stdout.split()
    assert in_order == "True"
    assert float(seconds) < 5
