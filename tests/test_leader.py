"""Scheduled jobs run in one process of a deployment: the leader, replaced within seconds.

The two-process test runs two real servers with their schedulers on (PostgreSQL + Redis),
kills the leader with SIGKILL and watches the other take over: the terms of the two
leaders in ``scheduler_terms`` never overlap, hand-offs keep being dispatched, once.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from hall_ops.cases.handoff import enqueue_handoff
from hall_ops.cases.models import ConsoleCase, HandoffMessage
from hall_ops.db import Database
from hall_ops.runtime.leader import Election, LeaderLock, PostgresLock, RedisLock
from hall_ops.runtime.models import SchedulerTerm
from tests.conftest import ROOT
from tests.support.server import HallServer


def wait_for(what: str, check: Callable[[], bool], timeout: float = 30) -> float:
    """Seconds it took until ``check()`` held; fails after ``timeout``."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"{what}: not within {timeout}s")
        time.sleep(0.1)
    return time.monotonic() - started


class Tally:
    """Callbacks of one election, and whether it leads."""

    def __init__(self, lock: LeaderLock) -> None:
        self.events: list[str] = []
        self.election = Election(lock, lambda: self.events.append("elected"),
                                 lambda: self.events.append("deposed"), check_seconds=0.2)

    def die(self) -> None:
        """Stop trying and renewing without releasing anything: a process that hangs."""
        self.election._stop.set()
        self.election._thread.join()


def _takeover(first: Tally, second: Tally, kill: Callable[[], None], within: float) -> None:
    first.election.start()
    second.election.start()
    try:
        assert first.events == ["elected"] and second.election.leader is False
        time.sleep(1)
        assert second.events == []  # a follower keeps trying, and does not get it
        kill()
        took = wait_for("takeover", lambda: second.election.leader, timeout=within + 5)
        assert took <= within
        assert second.events == ["elected"]
    finally:
        second.election.stop()


@pytest.mark.redis
def test_a_redis_lock_lapses_when_its_holder_stops_renewing(redis_server: str) -> None:
    name = f"hall-ops:leader:test:{time.time_ns()}"
    first = Tally(RedisLock(redis_server, name=name, lock_seconds=2))
    second = Tally(RedisLock(redis_server, name=name, lock_seconds=2))
    _takeover(first, second, first.die, within=3)


@pytest.mark.postgres
def test_a_postgres_lock_is_freed_when_its_connection_ends(pg_url: str) -> None:
    first = Tally(PostgresLock(pg_url, key=42))
    second = Tally(PostgresLock(pg_url, key=42))

    def kill() -> None:
        first.die()
        first.election.lock.release()  # type: ignore[attr-defined]
        assert first.events == ["elected"]  # dying is not stepping down

    _takeover(first, second, kill, within=1)


@pytest.mark.postgres
def test_a_leader_that_loses_its_connection_stops_its_jobs(pg_url: str) -> None:
    lock = PostgresLock(pg_url, key=43)
    tally = Tally(lock)
    tally.election.start()
    try:
        assert tally.election.leader
        backend_pid = lock.connection.exec_driver_sql(  # type: ignore[union-attr]
            "SELECT pg_backend_pid()").scalar_one()
        db = Database(pg_url)
        with db.engine.connect() as conn:
            conn.exec_driver_sql(f"SELECT pg_terminate_backend({backend_pid})")
        db.dispose()
        wait_for("deposed", lambda: "deposed" in tally.events, timeout=5)
        # Nobody else holds it: it is elected again on a fresh connection.
        wait_for("re-elected", lambda: tally.events.count("elected") == 2, timeout=5)
    finally:
        tally.election.stop()


# ---------------------------------------------------------------- two real processes


def _config(tmp_path: Path) -> Path:
    """The demo hall without cameras (their simulators would fight over ports), checking the
    lock twice a second and beating every half second."""
    text = (ROOT / "config.toml").read_text()
    text = text[: text.index("# ---- counting cameras")]
    text = text.replace('path = "data/catalogue"', f'path = "{ROOT / "data" / "catalogue"}"')
    text += "\n[jobs]\ncheck_seconds = 0.5\nlock_seconds = 2\nheartbeat_seconds = 0.5\n"
    tomllib.loads(text)
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def _terms(db: Database) -> list[SchedulerTerm]:
    with db.read() as session:
        return list(session.scalars(select(SchedulerTerm).order_by(SchedulerTerm.id)))


def _hand_off(db: Database, key: str) -> None:
    with db.write() as session:
        enqueue_handoff(session, case_number=key, department="bdc", payload={"case": key},
                        idempotency_key=key, now=dt.datetime.now(dt.UTC).replace(tzinfo=None))


def _delivered(db: Database, key: str) -> bool:
    with db.read() as session:
        return session.scalars(select(HandoffMessage.status).where(
            HandoffMessage.idempotency_key == key)).one() == "delivered"


@pytest.mark.postgres
@pytest.mark.redis
def test_jobs_run_in_one_process_and_move_when_it_is_killed(
    pg_url: str, redis_server: str, tmp_path: Path
) -> None:
    config = _config(tmp_path)
    args = ("--message-queue", redis_server)
    a = HallServer(tmp_path, *args, database_url=pg_url, config=config, jobs=True, name="A")
    b = HallServer(tmp_path, *args, database_url=pg_url, config=config, jobs=True, name="B")
    db = Database(pg_url)
    try:
        a.start()
        assert a.process is not None
        pid_a = a.process.pid
        wait_for("A leads", lambda: any(t.holder.endswith(f":{pid_a}") and t.beats >= 2
                                        for t in _terms(db)))
        b.start()
        assert b.process is not None
        pid_b = b.process.pid
        _hand_off(db, "before-kill")
        wait_for("dispatched by A", lambda: _delivered(db, "before-kill"))
        time.sleep(2)  # B has had four tries at the lock by now
        assert [t.holder.rsplit(":", 1)[1] for t in _terms(db)] == [str(pid_a)]

        a.process.kill()  # SIGKILL: no step-down, no goodbye
        a.process.wait()
        killed_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        took = wait_for("B takes over", lambda: any(t.holder.endswith(f":{pid_b}")
                                                    for t in _terms(db)), timeout=20)
        assert took < 10, f"takeover took {took:.1f}s"
        _hand_off(db, "after-kill")
        wait_for("dispatched by B", lambda: _delivered(db, "after-kill"))
        wait_for("B keeps beating", lambda: _terms(db)[-1].beats >= 4)

        first, second = _terms(db)
        assert first.holder.endswith(f":{pid_a}") and second.holder.endswith(f":{pid_b}")
        assert first.last_beat_at <= killed_at <= second.started_at  # never both at once
        assert first.ended_at is None  # killed, not stepped down
        with db.read() as session:
            assert session.scalar(select(func.count()).select_from(ConsoleCase)) == 2
            attempts = session.scalars(select(HandoffMessage.attempts)).all()
        assert attempts == [1, 1]  # each hand-off tried once, by the leader of its time
        assert "elected by postgresql lock" in b.log()
    finally:
        b.stop()
        a.stop()
        db.dispose()


def test_a_lone_process_leads_at_once(tmp_path: Path) -> None:
    """SQLite, one process: elected in ``start`` itself, no lock to share."""
    from hall_ops.runtime.leader import LocalLock

    elected = threading.Event()
    election = Election(LocalLock(), elected.set, lambda: None).start()
    assert elected.is_set() and election.leader
    election.stop()
