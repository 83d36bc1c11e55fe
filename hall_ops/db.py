"""Database plumbing: one engine per hall, write and read sessions.

Writes on SQLite take the database lock up front (``BEGIN IMMEDIATE``) so two
windows calling at the same moment are serialised instead of failing late with
"database is locked"; reads use a deferred transaction so screens and status
pages never wait for a writer (WAL mode). On PostgreSQL the same code runs
with ordinary transactions and row locks (``FOR UPDATE SKIP LOCKED``).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker


MODEL_MODULES = (
    "hall_ops.models",
    "hall_ops.intake_models",
    "hall_ops.handoff_models",
    "hall_ops.delivery",
    "hall_ops.staff.models",
    "sensors.models",
)


class Base(DeclarativeBase):
    """Declarative base shared by every table of the hall."""


def _prepare_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
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
    def _on_begin(conn) -> None:  # type: ignore[no-untyped-def]
        mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")


class Database:
    """The hall's database: ``write()`` for changes, ``read()`` for queries."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        parsed = make_url(url)
        self.dialect = parsed.get_backend_name()
        if self.dialect == "sqlite":
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
        self._writer = sessionmaker(self.engine, expire_on_commit=False)
        self._reader = sessionmaker(read_engine, expire_on_commit=False)

    def prepare_schema(self) -> None:
        """Create missing tables; on PostgreSQL under an advisory lock, because several
        processes starting at once on a new database would race to create the same types."""
        if self.dialect != "postgresql":
            self.create_all()
            return
        for module in MODEL_MODULES:
            importlib.import_module(module)
        with self.engine.begin() as conn:
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7305514)")
            Base.metadata.create_all(conn)

    def serialise_setup(self, session: Session) -> None:
        """Within a start-up transaction: one process at a time loads the hall (PostgreSQL)."""
        if self.dialect == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(7305514)"))

    def create_all(self) -> None:
        for module in MODEL_MODULES:  # importing a model module registers its tables
            importlib.import_module(module)
        Base.metadata.create_all(self.engine)

    @contextmanager
    def write(self, origin: str | None = None) -> Iterator[Session]:
        """One write transaction: committed on success, rolled back on error.

        ``origin`` (where the change came from: address, device) is written
        into the audit trail of every transition made in this transaction.
        """
        with self._writer.begin() as session:
            session.info["origin"] = origin
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._reader() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
