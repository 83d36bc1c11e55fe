"""Database plumbing: one engine per hall, write and read sessions.

A hall of a deployment (``hall_ops.region``) on PostgreSQL lives in a schema of its own
(``hall_<code>``) of the deployment's database. Those halls share one engine per URL in
the process, so connections stay bounded per process however many halls it serves: each
hall's engine is an option engine of the shared one (the same pool) whose every
transaction begins with ``SET LOCAL search_path TO hall_<code>``. The setting lives for
that transaction only, so a pooled connection never carries a hall into the next one,
and raw SQL (migrations' triggers, the audit chain's statements) finds the hall's
tables as the ORM does.

Writes on SQLite take the database lock up front (``BEGIN IMMEDIATE``) so two
windows calling at the same moment are serialised instead of failing late with
"database is locked"; reads use a deferred transaction so screens and status
pages never wait for a writer (WAL mode). On PostgreSQL the same code runs
with ordinary transactions and row locks (``FOR UPDATE SKIP LOCKED``).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import DDL, Connection, Engine, MetaData, Table, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from hall_ops.events import Event

log = logging.getLogger(__name__)

STARTUP_LOCK = 7305514
"""PostgreSQL advisory lock key: one process at a time migrates and loads the hall."""


SCHEMA = re.compile(r"[a-z_][a-z0-9_]{0,62}")
"""A schema name the code may write into SQL unquoted."""

POOL_SIZE, MAX_OVERFLOW = 10, 10
"""Connections of the engine the halls of a deployment share in one process: at most
``POOL_SIZE + MAX_OVERFLOW`` per process (4 processes: 80, under PostgreSQL's default
``max_connections`` of 100 with room for the leaders' and tools' connections)."""


class _SharedEngines:
    """One engine per URL in the process for every schema'd database, counted, so the
    last ``dispose()`` closes the pool."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._engines: dict[str, tuple[Engine, int]] = {}

    def take(self, url: str, echo: bool, pool_size: int, max_overflow: int) -> Engine:
        with self._lock:
            engine, users = self._engines.get(url) or (create_engine(
                url, echo=echo, pool_size=pool_size, max_overflow=max_overflow,
                pool_pre_ping=True), 0)
            self._engines[url] = (engine, users + 1)
            return engine

    def give_back(self, url: str) -> None:
        with self._lock:
            engine, users = self._engines[url]
            if users > 1:
                self._engines[url] = (engine, users - 1)
                return
            del self._engines[url]
        engine.dispose()


shared_engines = _SharedEngines()


def _in_schema(engine: Engine, schema: str) -> Engine:
    """An option engine of ``engine`` (same pool) whose transactions use ``schema``."""
    scoped = engine.execution_options(hall_schema=schema)

    @event.listens_for(scoped, "begin")
    def _on_begin(conn) -> None:
        conn.exec_driver_sql(f"SET LOCAL search_path TO {schema}")

    return scoped


class Base(DeclarativeBase):
    """Declarative base shared by every table of the hall (all listed in ``hall_ops.tables``)."""


def make_append_only(table: Table) -> None:
    """Database triggers that refuse UPDATE and DELETE: an audit trail cannot be rewritten."""
    name = table.name
    sqlite_ddl = [
        DDL(
            f"CREATE TRIGGER {name}_no_{verb.lower()} BEFORE {verb} ON {name} "
            f"BEGIN SELECT RAISE(ABORT, '{name} is append-only'); END"
        ).execute_if(dialect="sqlite")
        for verb in ("UPDATE", "DELETE")
    ]
    postgres_ddl = [
        DDL(
            f"CREATE FUNCTION {name}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{name} is append-only'; END $$"
        ).execute_if(dialect="postgresql"),
        DDL(
            f"CREATE TRIGGER {name}_append_only BEFORE UPDATE OR DELETE ON {name} "
            f"FOR EACH ROW EXECUTE FUNCTION {name}_append_only()"
        ).execute_if(dialect="postgresql"),
    ]
    for ddl in sqlite_ddl + postgres_ddl:
        event.listen(table, "after_create", ddl)


def _prepare_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own
        # implicit BEGIN would be DEFERRED and come too late).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")


def hall_metadata() -> MetaData:
    """Every table of the hall: ``hall_ops.tables`` imports each context's models."""
    from hall_ops import (
        tables,  # imported here: the model modules import ``Base`` from us
    )

    return tables.metadata


class Database:
    """The hall's database: ``write()`` for changes, ``read()`` for queries."""

    def __init__(self, url: str, *, echo: bool = False, schema: str | None = None,
                 pool_size: int = POOL_SIZE, max_overflow: int = MAX_OVERFLOW) -> None:
        """``schema``: PostgreSQL only, the hall's schema in a database several halls share
        (see the module docstring; ``pool_size``/``max_overflow`` size the shared pool when
        this process makes it). Without it: the whole database is the hall's."""
        parsed = make_url(url)
        self.dialect = parsed.get_backend_name()
        self.schema = schema
        if schema is not None:
            if self.dialect != "postgresql":
                raise ValueError(f"a hall schema needs PostgreSQL, not {self.dialect}")
            if not SCHEMA.fullmatch(schema):
                raise ValueError(f"not a schema name: {schema!r}")
            self.engine = _in_schema(
                shared_engines.take(url, echo, pool_size, max_overflow), schema)
            read_engine: Engine = self.engine
        elif self.dialect == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            self.engine = create_engine(
                url, echo=echo, connect_args={"timeout": 30, "check_same_thread": False}
            )
            _prepare_sqlite(self.engine)
            read_engine = self.engine.execution_options(sqlite_begin="DEFERRED")
        else:
            self.engine = create_engine(
                url, echo=echo, pool_size=20, max_overflow=40, pool_pre_ping=True
            )
            read_engine = self.engine
        self.url = url
        self._disposed = False
        self._writer = sessionmaker(self.engine, expire_on_commit=False)
        self._reader = sessionmaker(read_engine, expire_on_commit=False)
        self._subscribers: list[Callable[[Sequence[Event]], None]] = []

    def prepare_schema(self, *, upgrade: bool = True) -> str:
        """Bring the schema to the code's migration head, or raise ``SchemaError``
        (``hall_ops.schema``: under the start-up lock, so processes starting together
        migrate once)."""
        from hall_ops import schema

        return schema.prepare(self, upgrade=upgrade)

    def ensure_schema(self, conn: Connection) -> None:
        """Within the start-up transaction: the hall's schema exists (PostgreSQL halls of a
        deployment; the search path names it already, so what follows is made in it)."""
        if self.schema is not None:
            conn.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {self.schema}")

    def serialise_setup(self, session: Session) -> None:
        """Within a start-up transaction: one process at a time loads the hall (PostgreSQL)."""
        if self.dialect == "postgresql":
            session.execute(text(f"SELECT pg_advisory_xact_lock({STARTUP_LOCK})"))

    def create_all(self) -> None:
        """The whole schema from the models, stamped at the migration head (tests, tools)."""
        from hall_ops import schema

        with self.engine.begin() as conn:
            self.ensure_schema(conn)
            schema.create_at_head(conn)

    @contextmanager
    def write(self, origin: str | None = None) -> Iterator[Session]:
        """One write transaction: committed on success, rolled back on error.

        ``origin`` (where the change came from: address, device) is written
        into the audit trail of every transition made in this transaction.
        Domain events recorded in it (``hall_ops.events``) go to the
        subscribers after the commit, never for a rolled-back transaction.
        """
        with self._writer.begin() as session:
            session.info["origin"] = origin
            session.info["database"] = self
            yield session
            events: list[Event] = session.info.pop("events", [])
        if events:
            self._publish(events)

    def subscribe(self, subscriber: Callable[[Sequence[Event]], None]) -> None:
        """Call ``subscriber`` with each committed transaction's events, in this process."""
        self._subscribers.append(subscriber)

    def _publish(self, events: Sequence[Event]) -> None:
        for subscriber in self._subscribers:
            try:
                subscriber(events)
            except Exception:  # a screen push must never undo or fail a committed change
                log.exception("event subscriber %r failed", subscriber)

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._reader() as session:
            session.info["database"] = self
            yield session

    def dispose(self) -> None:
        """Close the pool (a shared one once its last hall is disposed)."""
        if self.schema is None:
            self.engine.dispose()
        elif not self._disposed:
            shared_engines.give_back(self.url)
        self._disposed = True
