"""Schema migrations: what they build equals the models, and an old hall keeps every row.

The fixture ``tests/fixtures/release-3d14288.*.sql`` is a database made and filled by
release 3d14288 itself (``tests/fixtures/make_release_fixture.py``), before migrations
existed: no ``alembic_version``. A start of today's code must recognise it, upgrade it,
and lose nothing.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from hall_ops import privacy, queue, schema
from hall_ops.audit import chain
from hall_ops.audit.verify import verify
from hall_ops.config import HallConfig
from hall_ops.db import Database
from hall_ops.hall import load_hall
from hall_ops.tables import metadata
from hall_web.app import create_app
from tests.conftest import OPEN_NOW
from tests.support.services import service_missing

FIXTURES = Path(__file__).parent / "fixtures"
RELEASE = "3d14288"


@pytest.fixture(autouse=True)
def inline_cyclic_keys() -> None:
    """SQLAlchemy (≥ 2.0.39) marks a ``use_alter`` key it once added by ALTER TABLE on
    PostgreSQL, and SQLite's CREATE TABLE leaves a marked key out from then on. A hall
    process speaks one dialect; this test process speaks both, so unmark them here, or
    ``create_all`` on SQLite would lack windows → tickets after any PostgreSQL test."""
    for table in metadata.tables.values():
        for key in table.foreign_key_constraints:
            if key.use_alter:
                key._create_rule = None


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hall.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


def load_release(url: str) -> None:
    """Load the release's dump as its operator would: sqlite3, or psql for PostgreSQL."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        with sqlite3.connect(parsed.database or "") as conn:
            conn.executescript((FIXTURES / f"release-{RELEASE}.sqlite.sql").read_text())
        return
    if shutil.which("psql") is None:
        service_missing("psql (PostgreSQL's client) is not installed")
    plain = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", "-d", plain,
                    "-f", str(FIXTURES / f"release-{RELEASE}.postgresql.sql")],
                   check=True, capture_output=True)


def all_rows(db: Database) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table as it is in the database (reflected, not the models)."""
    found = MetaData()
    with db.engine.connect() as conn:
        found.reflect(conn)
        return {
            name: [dict(row._mapping) for row in conn.execute(select(table))]
            for name, table in found.tables.items() if name != "alembic_version"
        }


def schema_diff(db: Database) -> list[Any]:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def triggers(db: Database) -> set[str]:
    with db.engine.connect() as conn:
        if db.dialect == "sqlite":
            query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
        else:
            query = "SELECT DISTINCT trigger_name FROM information_schema.triggers"
        return set(conn.exec_driver_sql(query).scalars())


def assert_append_only(db: Database) -> None:
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
        conn.execute(text("UPDATE ticket_events SET kind = 'rewritten'"))
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
        conn.execute(text("DELETE FROM ticket_events"))


def test_migrations_build_what_the_models_describe(empty_url: str, hall_config: HallConfig,
                                                   tmp_path: Path) -> None:
    """Upgrading an empty database through every migration gives the models' schema, with
    the same append-only triggers: a model change without a migration fails here."""
    db = Database(empty_url)
    with db.engine.begin() as conn:
        command.upgrade(schema.alembic_config(conn), "head")
        assert schema.current_revision(conn) == schema.head()
    assert schema_diff(db) == []

    reference = Database(f"sqlite:///{tmp_path / 'reference.db'}") if db.dialect == "sqlite" \
        else None
    if reference is not None:
        reference.create_all()
        assert triggers(db) == triggers(reference)
        reference.dispose()
    else:
        assert triggers(db) == {"ticket_events_append_only", "case_item_events_append_only",
                                "workload_changes_append_only", "security_events_append_only",
                                "licence_events_append_only", "licence_uses_append_only",
                                "rectification_events_append_only",
                                "call_announcements_append_only",
                                "case_item_extensions_append_only",
                                "case_item_card_events_append_only",
                                "hall_changes_append_only",
                                "floor_changes_append_only",
                                "case_delivery_choices_append_only"}

    with db.write() as session:
        load_hall(session, hall_config)
        queue.take_ticket(session, hall_config, "enterprise", OPEN_NOW)
    assert_append_only(db)
    db.dispose()


def test_create_all_is_stamped_at_head(empty_url: str) -> None:
    db = Database(empty_url)
    assert db.prepare_schema() == f"created at {schema.head()}"
    assert db.prepare_schema() == f"at {schema.head()}"
    assert schema_diff(db) == []
    db.dispose()


def test_a_hall_of_release_3d14288_is_upgraded_with_every_row(
    empty_url: str, hall_config: HallConfig, tmp_path: Path
) -> None:
    cipher = privacy.PersonalDataCipher(bytes(range(32)))
    privacy.install(cipher)  # revision 0005 encrypts personal data with the hall's key
    load_release(empty_url)
    db = Database(empty_url)
    before = all_rows(db)
    assert "alembic_version" not in before
    assert all(before.values()), [t for t, rows in before.items() if not rows]

    assert db.prepare_schema() == f"stamped {schema.BASELINE}, upgraded to {schema.head()}"
    after = all_rows(db)
    # Revision 0002 clears notified_at: the old release set it without sending anything.
    assert [d["notified_at"] for d in before["deliveries"]] != [None]
    assert [d["notified_at"] for d in after["deliveries"]] == [None]
    for row in before["deliveries"]:
        row["notified_at"] = None
    # Revision 0005: PINs moved to the staff accounts; personal data encrypted at rest.
    for row in before["clerks"]:
        del row["pin_hash"]
    for row in after["cases"]:
        assert row["applicant_id_number"] != row["applicant_id_hash"]
        row["applicant_id_number"] = cipher.decrypt(row["applicant_id_number"],
                                                    "cases.applicant_id_number")
    for table in ("handoff_messages", "console_cases"):
        for row in before[table]:
            if isinstance(row["payload"], str):
                row["payload"] = json.loads(row["payload"])
        for row in after[table]:
            row["payload"] = json.loads(cipher.decrypt(row["payload"], f"{table}.payload"))
    # Revision 0006: scores 1–5 are the scheme's levels; a complaint is a bad rating.
    tags = {}
    for row in before["ratings"]:
        complaint, score = bool(row.pop("complaint")), row.pop("score")
        row["level"] = min(score, 2) if complaint else score
        row["channel"] = row.pop("source")
        tags[row["id"]] = ["other"] if complaint else []
    assert {r["id"]: r["tags"] if isinstance(r["tags"], list) else json.loads(r["tags"])
            for r in after["ratings"]} == tags
    for table, rows in before.items():
        kept = [{k: row[k] for k in rows[0]} for row in after[table]]
        missing = [row for row in rows if row not in kept]
        assert not missing, f"{table}: rows lost in the upgrade: {missing[:3]}"
        assert len(kept) == len(rows), table
    assert schema_diff(db) == []
    assert_append_only(db)
    # Revision 0007 chained the old rows, stream by stream in the order they were written.
    with db.engine.connect() as conn:
        report = verify(conn)
    assert report.ok, [f.text() for f in report.findings]
    chained_before = sum(len(before[t]) for t in chain.REGISTRY if t in before)
    assert report.rows == chained_before > 0
    per_ticket: dict[int, list[int]] = {}
    for event in sorted(after["ticket_events"], key=lambda e: e["id"]):
        per_ticket.setdefault(event["ticket_id"], []).append(event["chain_seq"])
    assert all(seqs == list(range(1, len(seqs) + 1)) for seqs in per_ticket.values())
    assert max(len(seqs) for seqs in per_ticket.values()) > 1
    db.dispose()

    # The hall starts on it and works: the next ticket of the day follows the old ones.
    app = create_app(hall_config, database_url=empty_url, secret_key="t", always_open=True,
                     clock=lambda: OPEN_NOW)
    reply = app.test_client().post("/api/v1/tickets", json={"service": "enterprise"})
    assert reply.status_code == 201, reply.json
    assert reply.json["number"] == "B003"
    app.extensions["hall"].db.dispose()


def test_upgrade_switched_off_refuses_an_old_database_and_changes_nothing(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'hall.db'}"
    load_release(url)
    db = Database(url)
    with pytest.raises(schema.SchemaError, match="python -m hall_web db upgrade"):
        db.prepare_schema(upgrade=False)
    with db.engine.connect() as conn:
        assert schema.current_revision(conn) is None
    assert db.prepare_schema().startswith(f"stamped {schema.BASELINE}")
    assert db.prepare_schema(upgrade=False) == f"at {schema.head()}"
    db.dispose()


def test_a_database_of_a_newer_release_is_refused(empty_url: str) -> None:
    db = Database(empty_url)
    db.create_all()
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'f00dfeed'"))
    with pytest.raises(schema.SchemaError, match="f00dfeed, which this hall-ops does not know"):
        db.prepare_schema()
    db.dispose()


def test_unversioned_tables_that_are_not_the_baseline_are_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hall.db'}"
    load_release(url)
    with sqlite3.connect(tmp_path / "hall.db") as conn:
        conn.execute("DROP TABLE ratings")
        conn.execute("ALTER TABLE cases DROP COLUMN applicant_phone")
    db = Database(url)
    with pytest.raises(schema.SchemaError, match="missing cases.applicant_phone, ratings"):
        db.prepare_schema()
    db.dispose()
