"""The schema of release 3d14288, the last one made by ``create_all`` alone.

Revision ID: 0001
Revises:
Create Date: 2026-11-30

A database that release created has no ``alembic_version``; ``hall_ops.schema``
recognises it, checks it holds this schema, and stamps it 0001 instead of running this.
The append-only triggers are what ``hall_ops.db.make_append_only`` emitted then, written
out here so that a later change there never rewrites history.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

APPEND_ONLY = ("ticket_events", "case_item_events", "workload_changes")
"""Audit trails: UPDATE and DELETE refused by the database itself."""


def _append_only_ddl(table: str, dialect: str) -> list[str]:
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            for verb in ("UPDATE", "DELETE")
        ]
    return [
        f"CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN RAISE EXCEPTION '{table} is append-only'; END $$",
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()",
    ]


def _current_ticket_key() -> list[sa.ForeignKeyConstraint]:
    """windows.current_ticket_id → tickets: inline on SQLite (it may name a table still to
    come); PostgreSQL adds it after ``tickets`` exists, as ``create_all`` does."""
    if op.get_bind().dialect.name == "postgresql":
        return []
    return [sa.ForeignKeyConstraint(["current_ticket_id"], ["tickets.id"])]


def upgrade() -> None:
    op.create_table(
        "case_counters",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day"),
    )
    op.create_table(
        "clerks",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("pin_hash", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "console_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("handoff_key", sa.String(length=200), nullable=False),
        sa.Column("department", sa.String(length=32), nullable=False),
        sa.Column("case_number", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("handoff_key"),
    )
    with op.batch_alter_table("console_cases", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_console_cases_case_number"), ["case_number"], unique=False
        )
        batch_op.create_index("ix_console_queue", ["department", "status"], unique=False)

    op.create_table(
        "handoff_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("case_number", sa.String(length=32), nullable=False),
        sa.Column("department", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("lease_token", sa.String(length=32), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.Column("adapter", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
    )
    with op.batch_alter_table("handoff_messages", schema=None) as batch_op:
        batch_op.create_index("ix_handoff_due", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_handoff_messages_case_number"), ["case_number"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_handoff_messages_department"), ["department"], unique=False
        )

    op.create_table(
        "workload_auto",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("min_windows_per_service", sa.Integer(), nullable=False),
        sa.Column("min_interval_minutes", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "workload_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=32), nullable=False),
        sa.Column("origin", sa.String(length=120), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("window_number", sa.Integer(), nullable=True),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("workload_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_workload_changes_at"), ["at"], unique=False)

    op.create_table(
        "zones",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name_zh", sa.String(length=64), nullable=False),
        sa.Column("name_en", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "cameras",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("zone_code", sa.String(length=32), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("next_try_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["zone_code"],
            ["zones.code"],
        ),
        sa.PrimaryKeyConstraint("name"),
    )
    with op.batch_alter_table("cameras", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cameras_zone_code"), ["zone_code"], unique=False)

    op.create_table(
        "occupancy_samples",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("zone_code", sa.String(length=32), nullable=False),
        sa.Column("camera_name", sa.String(length=64), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("entered", sa.Integer(), nullable=True),
        sa.Column("exited", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["zone_code"],
            ["zones.code"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("occupancy_samples", schema=None) as batch_op:
        batch_op.create_index("ix_occupancy_camera_at", ["camera_name", "at"], unique=False)
        batch_op.create_index("ix_occupancy_zone_at", ["zone_code", "at"], unique=False)

    op.create_table(
        "services",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("letter", sa.String(length=2), nullable=False),
        sa.Column("name_zh", sa.String(length=64), nullable=False),
        sa.Column("name_en", sa.String(length=64), nullable=False),
        sa.Column("zone_code", sa.String(length=32), nullable=False),
        sa.Column("board", sa.String(length=32), nullable=True),
        sa.Column("mean_service_minutes", sa.Double(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["zone_code"],
            ["zones.code"],
        ),
        sa.PrimaryKeyConstraint("code"),
        sa.UniqueConstraint("letter"),
    )
    op.create_table(
        "windows",
        sa.Column("number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("zone_code", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("clerk_id", sa.String(length=32), nullable=True),
        sa.Column("current_ticket_id", sa.Integer(), nullable=True),
        sa.Column("opened_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["clerk_id"],
            ["clerks.id"],
        ),
        *_current_ticket_key(),
        sa.ForeignKeyConstraint(
            ["zone_code"],
            ["zones.code"],
        ),
        sa.PrimaryKeyConstraint("number"),
    )
    op.create_table(
        "daily_counters",
        sa.Column("service_code", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_code"],
            ["services.code"],
        ),
        sa.PrimaryKeyConstraint("service_code", "day"),
    )
    op.create_table(
        "service_items",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name_zh", sa.String(length=128), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("board", sa.String(length=32), nullable=False),
        sa.Column("department_code", sa.String(length=32), nullable=False),
        sa.Column("department_name_zh", sa.String(length=64), nullable=False),
        sa.Column("time_limit_days", sa.Integer(), nullable=False),
        sa.Column("fee_yuan", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("service_code", sa.String(length=32), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_code"],
            ["services.code"],
        ),
        sa.PrimaryKeyConstraint("code"),
    )
    with op.batch_alter_table("service_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_service_items_department_code"), ["department_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_service_items_service_code"), ["service_code"], unique=False
        )

    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=8), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("origin_service_code", sa.String(length=32), nullable=False),
        sa.Column("service_code", sa.String(length=32), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("taken_at", sa.DateTime(), nullable=False),
        sa.Column("rank_at", sa.DateTime(), nullable=False),
        sa.Column("called_at", sa.DateTime(), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("window_number", sa.Integer(), nullable=True),
        sa.Column("target_window_number", sa.Integer(), nullable=True),
        sa.Column("clerk_id", sa.String(length=32), nullable=True),
        sa.Column("recalls", sa.Integer(), nullable=False),
        sa.Column("status_token", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["clerk_id"],
            ["clerks.id"],
        ),
        sa.ForeignKeyConstraint(
            ["origin_service_code"],
            ["services.code"],
        ),
        sa.ForeignKeyConstraint(
            ["service_code"],
            ["services.code"],
        ),
        sa.ForeignKeyConstraint(
            ["target_window_number"],
            ["windows.number"],
        ),
        sa.ForeignKeyConstraint(
            ["window_number"],
            ["windows.number"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("day", "number", name="uq_ticket_day_number"),
        sa.UniqueConstraint("status_token"),
    )
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ticket_queue", ["status", "service_code", "rank_at"], unique=False
        )

    op.create_table(
        "window_services",
        sa.Column("window_number", sa.Integer(), nullable=False),
        sa.Column("service_code", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_code"],
            ["services.code"],
        ),
        sa.ForeignKeyConstraint(
            ["window_number"],
            ["windows.number"],
        ),
        sa.PrimaryKeyConstraint("window_number", "service_code"),
    )
    op.create_table(
        "appointments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("service_code", sa.String(length=32), nullable=False),
        sa.Column("slot_start", sa.DateTime(), nullable=False),
        sa.Column("slot_end", sa.DateTime(), nullable=False),
        sa.Column("applicant_name", sa.String(length=64), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_code"],
            ["services.code"],
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=24), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("accepted_at", sa.DateTime(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("window_number", sa.Integer(), nullable=False),
        sa.Column("clerk_id", sa.String(length=32), nullable=False),
        sa.Column("applicant_kind", sa.String(length=16), nullable=False),
        sa.Column("applicant_name", sa.String(length=128), nullable=False),
        sa.Column("applicant_id_number", sa.String(length=18), nullable=False),
        sa.Column("applicant_phone", sa.String(length=16), nullable=False),
        sa.Column("windows_visited", sa.Integer(), nullable=False),
        sa.Column("materials_handed_in", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clerk_id"],
            ["clerks.id"],
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
        ),
        sa.ForeignKeyConstraint(
            ["window_number"],
            ["windows.number"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("number"),
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cases_day"), ["day"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_ticket_id"), ["ticket_id"], unique=False)

    op.create_table(
        "item_materials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_code", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name_zh", sa.String(length=128), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("key", sa.Boolean(), nullable=False),
        sa.Column("copies", sa.Integer(), nullable=False),
        sa.Column("e_licence", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_code"],
            ["service_items.code"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("item_code", "name_zh", name="uq_item_material_name"),
    )
    with op.batch_alter_table("item_materials", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_item_materials_item_code"), ["item_code"], unique=False
        )

    op.create_table(
        "ratings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("window_number", sa.Integer(), nullable=True),
        sa.Column("clerk_id", sa.String(length=32), nullable=True),
        sa.Column("service_code", sa.String(length=32), nullable=False),
        sa.Column("item_code", sa.String(length=32), nullable=True),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.String(length=500), nullable=True),
        sa.Column("complaint", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ticket_id"),
    )
    op.create_table(
        "ticket_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("window_number", sa.Integer(), nullable=True),
        sa.Column("clerk_id", sa.String(length=32), nullable=True),
        sa.Column("origin", sa.String(length=120), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("ticket_events", schema=None) as batch_op:
        batch_op.create_index("ix_ticket_events_kind_id", ["kind", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_ticket_events_ticket_id"), ["ticket_id"], unique=False)

    op.create_table(
        "case_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("item_code", sa.String(length=32), nullable=False),
        sa.Column("department_code", sa.String(length=32), nullable=False),
        sa.Column("department_name_zh", sa.String(length=64), nullable=False),
        sa.Column("time_limit_days", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
        ),
        sa.ForeignKeyConstraint(
            ["item_code"],
            ["service_items.code"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "item_code", name="uq_case_item"),
    )
    with op.batch_alter_table("case_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_items_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_case_items_department_code"), ["department_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_case_items_item_code"), ["item_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_case_items_status"), ["status"], unique=False)

    op.create_table(
        "case_materials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("name_zh", sa.String(length=128), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("key", sa.Boolean(), nullable=False),
        sa.Column("copies", sa.Integer(), nullable=False),
        sa.Column("e_licence_allowed", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=True),
        sa.Column("received_at", sa.DateTime(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "name_zh", name="uq_case_material_name"),
    )
    with op.batch_alter_table("case_materials", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_materials_case_id"), ["case_id"], unique=False)

    op.create_table(
        "case_visits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("window_number", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "ticket_id", name="uq_case_visit_ticket"),
    )
    with op.batch_alter_table("case_visits", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_visits_case_id"), ["case_id"], unique=False)

    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("ready_at", sa.DateTime(), nullable=False),
        sa.Column("notified_at", sa.DateTime(), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("handed_over_at", sa.DateTime(), nullable=True),
        sa.Column("window_number", sa.Integer(), nullable=True),
        sa.Column("clerk_id", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id"),
    )
    op.create_table(
        "case_item_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_item_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("from_status", sa.String(length=24), nullable=True),
        sa.Column("to_status", sa.String(length=24), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("origin", sa.String(length=120), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_item_id"],
            ["case_items.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("case_item_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_case_item_events_case_item_id"), ["case_item_id"], unique=False
        )

    if op.get_bind().dialect.name == "postgresql":
        op.create_foreign_key(None, "windows", "tickets", ["current_ticket_id"], ["id"])
    op.create_table(
        "case_item_materials",
        sa.Column("case_item_id", sa.Integer(), nullable=False),
        sa.Column("case_material_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_item_id"],
            ["case_items.id"],
        ),
        sa.ForeignKeyConstraint(
            ["case_material_id"],
            ["case_materials.id"],
        ),
        sa.PrimaryKeyConstraint("case_item_id", "case_material_id"),
    )
    for table in APPEND_ONLY:
        for statement in _append_only_ddl(table, op.get_bind().dialect.name):
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE windows DROP CONSTRAINT IF EXISTS windows_current_ticket_id_fkey")
    op.drop_table("case_item_materials")
    with op.batch_alter_table("case_item_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_item_events_case_item_id"))

    op.drop_table("case_item_events")
    op.drop_table("deliveries")
    with op.batch_alter_table("case_visits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_visits_case_id"))

    op.drop_table("case_visits")
    with op.batch_alter_table("case_materials", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_materials_case_id"))

    op.drop_table("case_materials")
    with op.batch_alter_table("case_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_items_status"))
        batch_op.drop_index(batch_op.f("ix_case_items_item_code"))
        batch_op.drop_index(batch_op.f("ix_case_items_department_code"))
        batch_op.drop_index(batch_op.f("ix_case_items_case_id"))

    op.drop_table("case_items")
    with op.batch_alter_table("ticket_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ticket_events_ticket_id"))
        batch_op.drop_index("ix_ticket_events_kind_id")

    op.drop_table("ticket_events")
    op.drop_table("ratings")
    with op.batch_alter_table("item_materials", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_item_materials_item_code"))

    op.drop_table("item_materials")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_ticket_id"))
        batch_op.drop_index(batch_op.f("ix_cases_day"))

    op.drop_table("cases")
    op.drop_table("appointments")
    op.drop_table("window_services")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_queue")

    op.drop_table("tickets")
    with op.batch_alter_table("service_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_items_service_code"))
        batch_op.drop_index(batch_op.f("ix_service_items_department_code"))

    op.drop_table("service_items")
    op.drop_table("daily_counters")
    op.drop_table("windows")
    op.drop_table("services")
    with op.batch_alter_table("occupancy_samples", schema=None) as batch_op:
        batch_op.drop_index("ix_occupancy_zone_at")
        batch_op.drop_index("ix_occupancy_camera_at")

    op.drop_table("occupancy_samples")
    with op.batch_alter_table("cameras", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cameras_zone_code"))

    op.drop_table("cameras")
    op.drop_table("zones")
    with op.batch_alter_table("workload_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workload_changes_at"))

    op.drop_table("workload_changes")
    op.drop_table("workload_auto")
    with op.batch_alter_table("handoff_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_handoff_messages_department"))
        batch_op.drop_index(batch_op.f("ix_handoff_messages_case_number"))
        batch_op.drop_index("ix_handoff_due")

    op.drop_table("handoff_messages")
    with op.batch_alter_table("console_cases", schema=None) as batch_op:
        batch_op.drop_index("ix_console_queue")
        batch_op.drop_index(batch_op.f("ix_console_cases_case_number"))

    op.drop_table("console_cases")
    op.drop_table("clerks")
    op.drop_table("case_counters")
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"DROP FUNCTION {table}_append_only()")
