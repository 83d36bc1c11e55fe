"""``python -m hall_web backup`` / ``restore``: a round trip on SQLite and PostgreSQL keeps
every row of every table, and what was written after the backup is gone again."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from hall_ops import queue
from hall_ops.backup import BackupError, restore
from hall_ops.db import Database, hall_metadata
from tests.conftest import OPEN_NOW
from tests.support.server import ROOT


def hall_command(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hall_web", *map(str, args), "--config", str(ROOT / "config.toml")],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )


def every_row(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Each table's rows in primary-key order: the whole content of the database."""
    out = {}
    with db.read() as session:
        for table in hall_metadata().sorted_tables:
            rows = session.execute(select(table).order_by(*table.primary_key.columns)).all()
            out[table.name] = [tuple(row) for row in rows]
    return out


def busy_hour(db: Database, hall_config, tickets: int, window: int, clerk: str) -> None:
    """Tickets taken and one called: rows in tickets, ticket_events, counters, windows."""
    with db.write() as session:
        for n in range(tickets):
            queue.take_ticket(session, hall_config, ("enterprise", "social_security")[n % 2],
                              OPEN_NOW)
    with db.write() as session:
        queue.open_window(session, window, clerk, OPEN_NOW)
    with db.write() as session:
        queue.call_next(session, hall_config, window, clerk, OPEN_NOW)


def test_round_trip_keeps_every_row(any_db: Database, hall_config, tmp_path: Path) -> None:
    busy_hour(any_db, hall_config, tickets=6, window=4, clerk="c01")
    before = every_row(any_db)
    assert len(before["tickets"]) == 6 and len(before["ticket_events"]) >= 7
    if any_db.dialect == "sqlite":
        # Online: the last commits are still in the WAL, which a file copy would miss.
        wal = Path(any_db.engine.url.database + "-wal")
        assert wal.stat().st_size > 0

    backup_file = tmp_path / "backups" / "hall.backup"
    done = hall_command("backup", "--to", backup_file, "--database-url", any_db.url)
    assert done.returncode == 0, done.stderr
    assert f"backed up to {backup_file}" in done.stdout
    assert backup_file.stat().st_size > 0
    assert not list(backup_file.parent.glob(".*partial"))

    busy_hour(any_db, hall_config, tickets=3, window=5, clerk="c02")  # to be undone
    assert len(every_row(any_db)["tickets"]) == 9
    any_db.dispose()  # the hall is stopped for a restore

    done = hall_command("restore", "--from", backup_file, "--database-url", any_db.url)
    assert done.returncode == 0, done.stderr
    assert every_row(any_db) == before
    # The audit trail is append-only again after the restore.
    with pytest.raises(DBAPIError, match="append-only"), any_db.write() as session:
        session.execute(text("UPDATE ticket_events SET kind = 'forged'"))


def test_restore_refuses_what_is_not_a_hall_backup(tmp_path: Path) -> None:
    live = tmp_path / "hall.db"
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE notes (text TEXT)")
    with pytest.raises(BackupError, match="not a hall database"):
        restore(f"sqlite:///{live}", other)
    (tmp_path / "junk.db").write_bytes(b"not a database at all" * 100)
    with pytest.raises(BackupError, match="not an SQLite database"):
        restore(f"sqlite:///{live}", tmp_path / "junk.db")
    assert not live.exists() or live.stat().st_size == 0

    done = hall_command("restore", "--from", tmp_path / "missing.backup",
                        "--database-url", f"sqlite:///{live}")
    assert done.returncode == 1
    assert "hall-ops restore:" in done.stderr and "no such backup file" in done.stderr


@pytest.mark.postgres
def test_postgres_backup_failure_is_reported(tmp_path: Path, pg_server: str) -> None:
    missing = pg_server.rsplit("/", 1)[0] + "/hallops_no_such_database"
    done = hall_command("backup", "--to", tmp_path / "x.backup", "--database-url", missing)
    assert done.returncode == 1
    assert "pg_dump failed" in done.stderr and "hallops_no_such_database" in done.stderr
    assert not (tmp_path / "x.backup").exists()
