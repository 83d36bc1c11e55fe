"""Tamper-evident record and electronic supervision: ticket, case-item and security events
are hash-chained (``chain_seq``, ``chain_hash``; heads in ``audit_heads``, daily roots in
``audit_roots``); case items get a supervision card, its history and time-limit extensions.

Revision ID: 0007
Revises: 0005
Create Date: 2026-11-30

Existing rows are chained here, each stream in the order its rows were written (by id),
with the same hash the application writes (``hall_ops.audit.chain``). The append-only
triggers are lifted for that and put back.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hall_ops.audit import chain

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

CHAINED = ("ticket_events", "case_item_events", "security_events", "rectification_events",
           "ratings")
"""Tables that exist before this revision and are chained by it (all append-only but
``ratings``, whose 追评 and exclusion columns change later and are left out of the link)."""

STREAM_INDEX = {
    "ticket_events": ("ix_ticket_events_chain", ["ticket_id", "chain_seq"]),
    "case_item_events": ("ix_case_item_events_chain", ["case_item_id", "chain_seq"]),
    "security_events": ("ix_security_events_chain", ["chain_seq"]),
    "rectification_events": ("ix_rectification_events_chain", ["rectification_id", "chain_seq"]),
    "ratings": ("ix_ratings_chain", ["subject", "chain_seq"]),
}


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


def _drop_append_only(table: str, dialect: str) -> list[str]:
    if dialect == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {table}_no_{verb}" for verb in ("update", "delete")]
    return [
        f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
        f"DROP FUNCTION IF EXISTS {table}_append_only()",
    ]


def upgrade() -> None:
    op.create_table(
        "audit_heads",
        sa.Column("stream", sa.String(length=96), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("rooted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("stream"),
        sqlite_with_rowid=False,
    )

    op.create_table(
        "audit_roots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        sa.Column("previous", sa.String(length=64), nullable=False),
        sa.Column("heads", sa.JSON(), nullable=False),
        sa.Column("root", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("day"),
    )
    op.create_table(
        "case_item_card_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_item_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("from_colour", sa.String(length=8), nullable=False),
        sa.Column("to_colour", sa.String(length=8), nullable=False),
        sa.Column("cause", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=True),
        sa.Column("chain_seq", sa.Integer(), nullable=False),
        sa.Column("chain_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_item_id"],
            ["case_items.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("case_item_card_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_case_item_card_events_case_item_id"), ["case_item_id"], unique=False
        )
        batch_op.create_index(
            "ix_case_item_card_events_chain", ["case_item_id", "chain_seq"], unique=True
        )

    op.create_table(
        "case_item_extensions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_item_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("origin", sa.String(length=120), nullable=True),
        sa.Column("chain_seq", sa.Integer(), nullable=False),
        sa.Column("chain_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_item_id"],
            ["case_items.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("case_item_extensions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_case_item_extensions_case_item_id"), ["case_item_id"], unique=False
        )
        batch_op.create_index(
            "ix_case_item_extensions_chain", ["case_item_id", "chain_seq"], unique=True
        )

    with op.batch_alter_table("case_items", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("card", sa.String(length=8), server_default="green", nullable=False)
        )

    dialect = op.get_bind().dialect.name
    for table in ("case_item_extensions", "case_item_card_events"):
        for statement in _append_only_ddl(table, dialect):
            op.execute(statement)

    bind = op.get_bind()
    for table in CHAINED:
        append_only = table != "ratings"
        for statement in _drop_append_only(table, dialect) if append_only else ():
            op.execute(statement)
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("chain_seq", sa.Integer(), nullable=True))
            batch_op.add_column(sa.Column("chain_hash", sa.String(length=64), nullable=True))
        chain.link_rows(bind, chain.REGISTRY[table])
        index, columns = STREAM_INDEX[table]
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("chain_seq", existing_type=sa.Integer(), nullable=False)
            batch_op.alter_column("chain_hash", existing_type=sa.String(length=64), nullable=False)
            batch_op.create_index(index, columns, unique=True)
        for statement in _append_only_ddl(table, dialect) if append_only else ():
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in (*CHAINED[:-1], "case_item_extensions", "case_item_card_events"):
        for statement in _drop_append_only(table, dialect):
            op.execute(statement)
    with op.batch_alter_table("ticket_events", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_events_chain")
        batch_op.drop_column("chain_hash")
        batch_op.drop_column("chain_seq")

    with op.batch_alter_table("security_events", schema=None) as batch_op:
        batch_op.drop_index("ix_security_events_chain")
        batch_op.drop_column("chain_hash")
        batch_op.drop_column("chain_seq")

    with op.batch_alter_table("case_items", schema=None) as batch_op:
        batch_op.drop_column("card")

    with op.batch_alter_table("case_item_events", schema=None) as batch_op:
        batch_op.drop_index("ix_case_item_events_chain")
        batch_op.drop_column("chain_hash")
        batch_op.drop_column("chain_seq")

    with op.batch_alter_table("case_item_extensions", schema=None) as batch_op:
        batch_op.drop_index("ix_case_item_extensions_chain")
        batch_op.drop_index(batch_op.f("ix_case_item_extensions_case_item_id"))

    op.drop_table("case_item_extensions")
    with op.batch_alter_table("case_item_card_events", schema=None) as batch_op:
        batch_op.drop_index("ix_case_item_card_events_chain")
        batch_op.drop_index(batch_op.f("ix_case_item_card_events_case_item_id"))

    op.drop_table("case_item_card_events")
    for table in ("rectification_events", "ratings"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(STREAM_INDEX[table][0])
            batch_op.drop_column("chain_hash")
            batch_op.drop_column("chain_seq")
    op.drop_table("audit_roots")
    op.drop_table("audit_heads")
    for table in CHAINED[:-1]:
        for statement in _append_only_ddl(table, dialect):
            op.execute(statement)
