"""One process of a deployment runs the scheduled jobs: the leader.

Every process runs an ``Election``: it tries its ``LeaderLock`` every few seconds; the
one that gets it is told ``on_elected`` (the web layer resumes its scheduler), checks
every few seconds that it still holds it, and is told ``on_deposed`` when it does not.
Followers keep trying, so when the leader dies another takes over within seconds:

- PostgreSQL: a session-level advisory lock on a connection of its own; the server
  drops it the moment the leader's connection closes (a killed process's socket is
  closed by its kernel), and a lost connection means the lock may be gone.
- Redis (a message queue but no PostgreSQL): redis-py's ``Lock`` with a time-out,
  renewed at every check; a dead leader's lock expires after ``lock_seconds``.
- Otherwise (SQLite, one process): the process is its own leader.

A leader stalled longer than the Redis time-out may still finish the job it is in
when another has taken over; jobs therefore stay idempotent (the hand-off outbox
leases rows, notices are claimed), the lock keeps them from running twice as a rule.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from typing import Protocol

import redis
from sqlalchemy import Connection, NullPool, create_engine, text

from hall_ops.clock import Clock, system_clock
from hall_ops.db import Database
from hall_ops.runtime.models import SchedulerTerm

log = logging.getLogger(__name__)

LEADER_LOCK = 7305515
"""PostgreSQL advisory lock key of the scheduler's leader (start-up uses 7305514)."""


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class LeaderLock(Protocol):
    backend: str

    def acquire(self) -> bool:
        """Try once, without waiting; True if this process now holds the lock."""
        ...

    def keep(self) -> bool:
        """Still held (renewed where it expires)? False once lost."""
        ...

    def release(self) -> None: ...


class LocalLock:
    """One process: nobody to share the jobs with."""

    backend = "local"

    def acquire(self) -> bool:
        return True

    def keep(self) -> bool:
        return True

    def release(self) -> None:
        pass


class PostgresLock:
    """``pg_try_advisory_lock`` on a dedicated connection (outside the pool), held for the
    session: the server frees it when the connection ends, however the process ends."""

    backend = "postgresql"

    def __init__(self, url: str, key: int = LEADER_LOCK) -> None:
        self.key = key
        self.engine = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT",
                                    connect_args={"keepalives": 1, "keepalives_idle": 5,
                                                  "keepalives_interval": 2,
                                                  "keepalives_count": 2,
                                                  "application_name": "hall-ops leader"})
        self.connection: Connection | None = None

    def acquire(self) -> bool:
        try:
            if self.connection is None:
                self.connection = self.engine.connect()
            got = self.connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}).scalar_one()
        except Exception as exc:
            log.warning("leader: PostgreSQL lock not tried: %s", exc)
            self._drop()
            return False
        return bool(got)

    def keep(self) -> bool:
        if self.connection is None:
            return False
        try:
            held = self.connection.execute(text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND "
                "pid = pg_backend_pid() AND classid = 0 AND objid = :key AND objsubid = 1"
            ), {"key": self.key}).scalar_one()
        except Exception as exc:
            log.warning("leader: PostgreSQL connection lost: %s", exc)
            self._drop()
            return False
        return bool(held)

    def release(self) -> None:
        if self.connection is not None:
            try:
                self.connection.execute(text("SELECT pg_advisory_unlock(:key)"),
                                        {"key": self.key})
            except Exception:
                log.debug("leader: unlock failed; closing the connection frees the lock")
        self._drop()
        self.engine.dispose()

    def _drop(self) -> None:
        if self.connection is not None:
            try:
                self.connection.close()
            except Exception:
                log.debug("leader: closing a broken connection failed")
            self.connection = None


class RedisLock:
    """redis-py's ``Lock`` (a token under SET NX PX), renewed to ``lock_seconds`` at every
    check; it lapses ``lock_seconds`` after the leader stops renewing it."""

    backend = "redis"

    def __init__(self, url: str, name: str = "hall-ops:leader", lock_seconds: float = 10) -> None:
        self.client = redis.Redis.from_url(url, socket_timeout=lock_seconds / 3,
                                           socket_connect_timeout=lock_seconds / 3)
        self.lock = self.client.lock(name, timeout=lock_seconds, thread_local=False)

    def acquire(self) -> bool:
        try:
            return bool(self.lock.acquire(blocking=False))
        except redis.RedisError as exc:
            log.warning("leader: Redis lock not tried: %s", exc)
            return False

    def keep(self) -> bool:
        try:
            return bool(self.lock.reacquire())
        except (redis.RedisError, redis.exceptions.LockError) as exc:
            log.warning("leader: Redis lock lost: %s", exc)
            return False

    def release(self) -> None:
        try:
            self.lock.release()
        except (redis.RedisError, redis.exceptions.LockError):
            log.debug("leader: Redis lock already gone")
        self.client.close()


def lock_for(db: Database, message_queue: str | None, *, lock_seconds: float = 10,
             redis_name: str = "hall-ops:leader") -> LeaderLock:
    """PostgreSQL if the hall's (or deployment's) database is; else Redis if processes share
    a message queue; else this process alone."""
    if db.dialect == "postgresql":
        return PostgresLock(db.engine.url.render_as_string(hide_password=False))
    if message_queue:
        return RedisLock(message_queue, name=redis_name, lock_seconds=lock_seconds)
    return LocalLock()


class Election:
    """Try, hold and lose the lock in a background thread; tell the callbacks."""

    def __init__(
        self,
        lock: LeaderLock,
        on_elected: Callable[[], None],
        on_deposed: Callable[[], None],
        *,
        check_seconds: float = 2.0,
    ) -> None:
        self.lock = lock
        self.on_elected = on_elected
        self.on_deposed = on_deposed
        self.check_seconds = check_seconds
        self.leader = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hall-leader", daemon=True)

    def start(self) -> Election:
        self._step()  # the first try at once: a lone process leads from its first second
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.check_seconds):
            self._step()

    def _step(self) -> None:
        try:
            if self.leader and not self.lock.keep():
                self.leader = False
                log.warning("leader: lost the %s lock; jobs stop here", self.lock.backend)
                self.on_deposed()
            elif not self.leader and self.lock.acquire():
                self.leader = True
                log.info("leader: %s elected by %s lock; jobs run here", holder_name(),
                         self.lock.backend)
                self.on_elected()
        except Exception:
            log.exception("leader: election step failed")

    def stop(self) -> None:
        """Step down: stop trying, tell ``on_deposed`` if leading, free the lock."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(self.check_seconds + 5)
        if self.leader:
            self.leader = False
            self.on_deposed()
        self.lock.release()


# ---------------------------------------------------------------- terms


def begin_term(db: Database, backend: str, clock: Clock = system_clock) -> int:
    now = clock()
    with db.write() as session:
        term = SchedulerTerm(holder=holder_name(), backend=backend, started_at=now,
                             last_beat_at=now, beats=0)
        session.add(term)
        session.flush()
        return term.id


def beat(db: Database, term_id: int, clock: Clock = system_clock) -> None:
    """The heartbeat job: this term's leader is alive and its scheduler runs jobs."""
    with db.write() as session:
        term = session.get(SchedulerTerm, term_id)
        if term is not None:
            term.beats += 1
            term.last_beat_at = clock()


def end_term(db: Database, term_id: int, clock: Clock = system_clock) -> None:
    with db.write() as session:
        term = session.get(SchedulerTerm, term_id)
        if term is not None and term.ended_at is None:
            term.ended_at = clock()
