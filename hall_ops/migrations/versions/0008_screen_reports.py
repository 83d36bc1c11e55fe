"""Call screens report what they showed and spoke: screen presence, per-call receipts, the
clerks' re-announcements (append-only).

Revision ID: 0008
Revises: 0005
Create Date: 2026-11-30

``call_announcements`` is append-only, with the same triggers ``make_append_only`` emits
(written out here, so a later change to that function cannot rewrite this revision).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


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


def upgrade() -> None:
    op.create_table(
        "screen_presence",
        sa.Column("device_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_heard_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"]),
        sa.PrimaryKeyConstraint("device_id"),
    )
    op.create_table(
        "call_announcements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("window_number", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=32), nullable=False),
        sa.Column("origin", sa.String(length=120), nullable=True),
        sa.ForeignKeyConstraint(["call_id"], ["ticket_events.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("call_announcements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_call_announcements_call_id"), ["call_id"],
                              unique=False)
    for statement in _append_only_ddl("call_announcements", op.get_bind().dialect.name):
        op.execute(statement)
    op.create_table(
        "call_receipts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("announcement", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("shown_at", sa.DateTime(), nullable=True),
        sa.Column("spoken_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["call_id"], ["ticket_events.id"]),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("call_id", "announcement", "device_id", name="uq_call_receipt"),
    )
    with op.batch_alter_table("call_receipts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_call_receipts_call_id"), ["call_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("call_receipts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_call_receipts_call_id"))
    op.drop_table("call_receipts")
    with op.batch_alter_table("call_announcements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_call_announcements_call_id"))
    op.drop_table("call_announcements")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION call_announcements_append_only()")
    op.drop_table("screen_presence")
