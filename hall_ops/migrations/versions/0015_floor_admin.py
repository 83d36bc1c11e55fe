"""The hall floor kept in the admin page: a window's default services, windows retired for
good, and the append-only, hash-chained trail of floor changes (``floor_changes``).

Windows of an upgraded hall get their default services from config.toml at the next start
(``hall_ops.hall.load_hall`` seeds what the database lacks). ``floor_changes`` is
append-only, with the triggers ``make_append_only`` emits (written out here, so a later
change to that function cannot rewrite this revision).

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
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
    with op.batch_alter_table("windows", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retired_at", sa.DateTime(), nullable=True))
    op.create_table(
        "window_default_services",
        sa.Column("window_number", sa.Integer(), nullable=False),
        sa.Column("service_code", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["service_code"], ["services.code"]),
        sa.ForeignKeyConstraint(["window_number"], ["windows.number"]),
        sa.PrimaryKeyConstraint("window_number", "service_code"),
    )
    op.create_table(
        "floor_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=32), nullable=False),
        sa.Column("origin", sa.String(length=120), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=48), nullable=False),
        sa.Column("before", sa.JSON(), nullable=False),
        sa.Column("after", sa.JSON(), nullable=False),
        sa.Column("chain_seq", sa.Integer(), nullable=False),
        sa.Column("chain_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("floor_changes", schema=None) as batch_op:
        batch_op.create_index("ix_floor_changes_chain", ["chain_seq"], unique=True)
        batch_op.create_index(batch_op.f("ix_floor_changes_subject"), ["subject"], unique=False)
    for statement in _append_only_ddl("floor_changes", op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    op.drop_table("floor_changes")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION floor_changes_append_only()")
    op.drop_table("window_default_services")
    with op.batch_alter_table("windows", schema=None) as batch_op:
        batch_op.drop_column("retired_at")
