"""Halls of a deployment on PostgreSQL: one schema each, one pool per process.

Each hall's ``Database(url, schema=…)`` runs every transaction with the hall's search path,
so the migrations (their trigger SQL included), the append-only triggers, the audit chain
and the row locks of a call work in the hall's schema and never see another hall's rows.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from hall_ops import queue, schema
from hall_ops.audit.verify import verify_database
from hall_ops.config import HallConfig
from hall_ops.db import Database, shared_engines
from hall_ops.hall import load_hall
from tests.conftest import OPEN_NOW

pytestmark = pytest.mark.postgres

APPEND_ONLY = {"ticket_events_append_only", "case_item_events_append_only",
               "workload_changes_append_only", "security_events_append_only",
               "licence_events_append_only", "licence_uses_append_only",
               "rectification_events_append_only", "call_announcements_append_only",
               "case_item_extensions_append_only", "case_item_card_events_append_only"}


@pytest.fixture
def two_halls(pg_url: str, hall_config: HallConfig) -> Iterator[tuple[Database, Database]]:
    a, b = Database(pg_url, schema="hall_a"), Database(pg_url, schema="hall_b")
    for db in (a, b):
        assert db.prepare_schema() == f"created at {schema.head()}"
        with db.write() as session:
            load_hall(session, hall_config)
    yield a, b
    a.dispose()
    b.dispose()


def triggers_in(db: Database, name: str) -> set[str]:
    with db.engine.connect() as conn:
        return set(conn.execute(text(
            "SELECT DISTINCT trigger_name FROM information_schema.triggers "
            "WHERE event_object_schema = :schema"), {"schema": name}).scalars())


def test_halls_share_one_pool_and_keep_their_rows_apart(
    two_halls: tuple[Database, Database], hall_config: HallConfig
) -> None:
    a, b = two_halls
    assert a.engine.pool is b.engine.pool  # one pool per process, not per hall
    with a.write() as session:
        first_a = queue.take_ticket(session, hall_config, "enterprise", OPEN_NOW).number
        second_a = queue.take_ticket(session, hall_config, "enterprise", OPEN_NOW).number
    with b.write() as session:
        first_b = queue.take_ticket(session, hall_config, "enterprise", OPEN_NOW).number
    assert (first_a, second_a, first_b) == ("B001", "B002", "B001")
    with a.read() as session:
        assert session.execute(text("SELECT count(*) FROM tickets")).scalar_one() == 2
    with b.read() as session:
        assert session.execute(text("SELECT count(*) FROM tickets")).scalar_one() == 1
    # the search path is the transaction's: a pooled connection carries no hall onward
    with a.engine.connect() as conn:
        assert conn.exec_driver_sql("SHOW search_path").scalar_one() == "hall_a"
    with b.engine.connect() as conn:
        assert conn.exec_driver_sql("SHOW search_path").scalar_one() == "hall_b"
    with a.engine.pool.connect() as raw:  # the bare pooled connection, no transaction
        cursor = raw.cursor()
        cursor.execute("SHOW search_path")
        assert cursor.fetchone()[0] != "hall_a"
        raw.rollback()


def test_append_only_triggers_and_audit_chain_per_hall(
    two_halls: tuple[Database, Database], hall_config: HallConfig
) -> None:
    a, b = two_halls
    assert triggers_in(a, "hall_a") == APPEND_ONLY == triggers_in(b, "hall_b")
    with a.write() as session:
        queue.take_ticket(session, hall_config, "enterprise", OPEN_NOW)
        queue.take_ticket(session, hall_config, "enterprise", OPEN_NOW)
    with b.write() as session:
        queue.take_ticket(session, hall_config, "enterprise", OPEN_NOW)
    for db in (a, b):
        with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
            conn.execute(text("UPDATE ticket_events SET kind = 'rewritten'"))
        report = verify_database(db)
        assert report.findings == []
    assert verify_database(a).rows == 2 * verify_database(b).rows > 0


def test_every_migration_runs_inside_a_hall_schema(pg_url: str) -> None:
    """The migrations' raw SQL (trigger functions, ALTERs) lands in the hall's schema."""
    db = Database(pg_url, schema="hall_m")
    with db.engine.begin() as conn:
        db.ensure_schema(conn)
        command.upgrade(schema.alembic_config(conn), "head")
        assert schema.current_revision(conn) == schema.head()
    assert triggers_in(db, "hall_m") == APPEND_ONLY
    with db.engine.connect() as conn:
        public = conn.exec_driver_sql(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).scalar_one()
    assert public == 0
    assert db.prepare_schema() == f"at {schema.head()}"
    db.dispose()


def test_the_last_hall_disposed_closes_the_shared_pool(pg_url: str) -> None:
    a, b = Database(pg_url, schema="hall_a"), Database(pg_url, schema="hall_b")
    a.dispose()
    a.dispose()  # twice is once
    assert pg_url in shared_engines._engines
    b.dispose()
    assert pg_url not in shared_engines._engines


def test_a_schema_needs_postgresql_and_a_plain_name(pg_url: str, tmp_path) -> None:
    with pytest.raises(ValueError, match="PostgreSQL"):
        Database(f"sqlite:///{tmp_path / 'x.db'}", schema="hall_a")
    with pytest.raises(ValueError, match="schema name"):
        Database(pg_url, schema="hall_a; DROP TABLE tickets")
