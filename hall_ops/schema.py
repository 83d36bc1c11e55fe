"""The schema's version: Alembic migrations (``hall_ops/migrations``), applied at start.

``prepare`` runs in one transaction that holds the start-up lock (PostgreSQL advisory
lock; SQLite's ``BEGIN IMMEDIATE``), so of several processes starting at once one
migrates and the others find the database at head. What it finds:

- an empty database: ``create_all`` and stamp head (Alembic's recipe for a new
  database; ``tests/test_migrations.py`` checks the migrations build the same schema);
- a database of release 3d14288 or earlier patches of it, made by ``create_all`` with no
  ``alembic_version``: checked against revision 0001, stamped 0001, then upgraded;
- a versioned database: upgraded to head;
- a revision this code does not know (a newer release ran here): refused.

With ``[database] upgrade = false`` nothing is changed: a database behind head is
refused with the command that upgrades it (``python -m hall_web db upgrade``).
"""

from __future__ import annotations

from functools import cache

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, create_engine, inspect

from hall_ops.db import STARTUP_LOCK, Database, hall_metadata

BASELINE = "0001"
"""The revision of the schema ``create_all`` made before migrations existed."""


class SchemaError(RuntimeError):
    """The database's schema does not fit this code and was not (or cannot be) upgraded."""


def alembic_config(connection: Connection | None = None) -> Config:
    """The migrations of the installed package; no ini file needed."""
    config = Config()
    config.set_main_option("script_location", "hall_ops:migrations")
    config.attributes["connection"] = connection
    return config


@cache
def scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head() -> str:
    revision = scripts().get_current_head()
    assert revision is not None
    return revision


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def prepare(db: Database, *, upgrade: bool = True) -> str:
    """Bring the database to head (see the module docstring); returns what was done."""
    if db.dialect == "sqlite":
        return _prepare_sqlite(db, upgrade)
    with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({STARTUP_LOCK})")
        db.ensure_schema(conn)
        return _prepare(conn, upgrade)


def _prepare_sqlite(db: Database, upgrade: bool) -> str:
    """SQLite alters a table by rebuilding it, which drops a table others point at: foreign
    keys are switched off for the migration (only possible outside a transaction) and the
    whole database is checked before they are switched on again."""
    with db.engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with conn.begin():
                done = _prepare(conn, upgrade)
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
                if broken:
                    raise SchemaError(f"the upgrade left broken references: {broken[:5]}")
        finally:
            raw.execute("PRAGMA foreign_keys=ON")
    return done


def _prepare(conn: Connection, upgrade: bool) -> str:
    config = alembic_config(conn)
    script = scripts()
    target = head()
    tables = set(inspect(conn).get_table_names())
    revision = current_revision(conn)
    if revision is None and not tables & set(hall_metadata().tables):
        _refuse_unless(upgrade, "the database is empty")
        create_at_head(conn)
        return f"created at {target}"
    if revision is None:
        _check_baseline(conn)
        _refuse_unless(upgrade, f"the database has the schema of revision {BASELINE} "
                                "(made before migrations) and is not stamped")
        command.stamp(config, BASELINE)
        command.upgrade(config, "head")
        return f"stamped {BASELINE}, upgraded to {target}"
    try:
        script.get_revision(revision)
    except Exception as exc:  # alembic: "Can't locate revision"
        raise SchemaError(
            f"the database's schema is at revision {revision}, which this hall-ops does not "
            f"know (its newest is {target}): a newer release has upgraded it. Run that "
            "release, or restore a backup made before the upgrade."
        ) from exc
    if revision == target:
        return f"at {target}"
    _refuse_unless(upgrade, f"the database's schema is at revision {revision}")
    command.upgrade(config, "head")
    return f"upgraded {revision} → {target}"


def create_at_head(conn: Connection) -> None:
    """The whole schema from the models, stamped head: a new database in one step."""
    hall_metadata().create_all(conn)
    MigrationContext.configure(conn).stamp(scripts(), "head")


def _refuse_unless(upgrade: bool, state: str) -> None:
    if not upgrade:
        raise SchemaError(
            f"{state}; this hall-ops needs revision {head()} and [database] upgrade = false. "
            "Back up the database, then run: python -m hall_web db upgrade --config <file>"
        )


def baseline_columns() -> dict[str, set[str]]:
    """Tables and columns of revision 0001, read from the migration itself (run in memory)."""
    engine = create_engine("sqlite://")
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), BASELINE)
        found = inspect(conn)
        columns = {t: {c["name"] for c in found.get_columns(t)}
                   for t in found.get_table_names() if t != "alembic_version"}
    engine.dispose()
    return columns


def _check_baseline(conn: Connection) -> None:
    """An unversioned database must hold every table and column of revision 0001."""
    found = inspect(conn)
    present = set(found.get_table_names())
    missing: list[str] = []
    for table, columns in sorted(baseline_columns().items()):
        if table not in present:
            missing.append(table)
            continue
        lacking = columns - {c["name"] for c in found.get_columns(table)}
        missing += [f"{table}.{c}" for c in sorted(lacking)]
    if missing:
        raise SchemaError(
            "the database has hall tables but no alembic_version, and it is not the schema "
            f"of revision {BASELINE}: missing {', '.join(missing)}. Restore a backup or move "
            "the data by hand; it is not upgraded automatically."
        )
