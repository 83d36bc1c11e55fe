"""Backup and restore of the hall's database, with each database's own tools.

SQLite: the online backup API copies a consistent snapshot page by page while the hall
keeps writing (a plain file copy of a WAL database can miss committed pages), into one
self-contained file. Restoring goes through the same API into the live file, so no stale
``-wal`` file is left beside it. PostgreSQL: ``pg_dump --format=custom`` and
``pg_restore --clean --single-transaction`` (all or nothing), from the postgresql-client
package; the password goes through the environment, never the command line.

A backup is taken while the hall runs; a restore replaces what is there, so the hall
is stopped first (docs/deploy.md).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

from sqlalchemy.engine import URL, make_url


class BackupError(RuntimeError):
    """A backup or restore that did not happen; the message says why."""


def backup(database_url: str, file: Path) -> None:
    """Write a consistent copy of the database to ``file`` (replaced if it exists)."""
    url = make_url(database_url)
    file.parent.mkdir(parents=True, exist_ok=True)
    partial = file.with_name(f".{file.name}.partial")
    try:
        if url.get_backend_name() == "sqlite":
            _sqlite_backup(_sqlite_path(url), partial)
        elif url.get_backend_name() == "postgresql":
            _run_pg("pg_dump", url, ["--format=custom", "--no-owner", f"--file={partial}"])
        else:
            raise BackupError(f"no backup for {url.get_backend_name()} databases")
        partial.replace(file)  # a failed run never leaves a half backup under the real name
    finally:
        partial.unlink(missing_ok=True)


def restore(database_url: str, file: Path) -> None:
    """Replace the database's contents with the backup in ``file``."""
    if not file.is_file():
        raise BackupError(f"{file}: no such backup file")
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        _sqlite_restore(file, _sqlite_path(url))
    elif url.get_backend_name() == "postgresql":
        _run_pg("pg_restore", url, ["--clean", "--if-exists", "--no-owner",
                                    "--single-transaction", "--exit-on-error", str(file)])
    else:
        raise BackupError(f"no restore for {url.get_backend_name()} databases")


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up")
    return Path(url.database)


def _sqlite_backup(source: Path, target: Path) -> None:
    if not source.is_file():
        raise BackupError(f"{source}: no such database file")
    with closing(sqlite3.connect(source, timeout=30)) as src, \
            closing(sqlite3.connect(target)) as dst:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")  # one file, no -wal beside it
        _check(dst, target)


def _sqlite_restore(backup_file: Path, target: Path) -> None:
    with closing(sqlite3.connect(f"{backup_file.resolve().as_uri()}?mode=ro", uri=True)) as src:
        _check(src, backup_file)
        target.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(target, timeout=30)) as dst:
            src.backup(dst)


def _check(conn: sqlite3.Connection, file: Path) -> None:
    """Refuse a damaged file, or an SQLite file that is not a hall database."""
    try:
        verdict = conn.execute("PRAGMA quick_check").fetchone()[0]
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{file}: not an SQLite database ({exc})") from exc
    if verdict != "ok":
        raise BackupError(f"{file}: damaged ({verdict})")
    if "tickets" not in tables:
        raise BackupError(f"{file}: not a hall database (no tickets table)")


def _run_pg(tool: str, url: URL, args: list[str]) -> None:
    executable = shutil.which(tool)
    if executable is None:
        raise BackupError(f"{tool} not found: install the postgresql-client package")
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    dbname = url.set(drivername="postgresql", password=None).render_as_string(
        hide_password=False)
    done = subprocess.run([executable, f"--dbname={dbname}", *args], env=env,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{tool} failed ({done.returncode}): {done.stderr.strip()}")
