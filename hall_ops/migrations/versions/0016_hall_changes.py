"""The halls admin's audit trail (``hall_changes``): append-only, hash-chained, with the
triggers ``make_append_only`` emits (written out here, so a later change to that function
cannot rewrite this revision).

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
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
        "hall_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=32), nullable=False),
        sa.Column("origin", sa.String(length=120), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("hall", sa.String(length=32), nullable=False),
        sa.Column("before", sa.JSON(), nullable=False),
        sa.Column("after", sa.JSON(), nullable=False),
        sa.Column("chain_seq", sa.Integer(), nullable=False),
        sa.Column("chain_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("hall_changes", schema=None) as batch_op:
        batch_op.create_index("ix_hall_changes_chain", ["chain_seq"], unique=True)
        batch_op.create_index(batch_op.f("ix_hall_changes_hall"), ["hall"], unique=False)
    for statement in _append_only_ddl("hall_changes", op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    op.drop_table("hall_changes")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION hall_changes_append_only()")
