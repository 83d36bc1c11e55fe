"""Ratings per the national 好差评 scheme, and the rectifications of bad ones.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30

``ratings`` changes shape: a rating is of a visit (``ticket_id``) or of a case item
(``case_item_id``, new); ``score`` 1–5 becomes ``level`` 1–5 (5 非常满意 … 1 非常不满意,
the same order), and a rating flagged as a complaint becomes a bad one (level at most 2,
reason tag ``other``); ``source`` becomes ``channel``. Rectifications are opened for bad
ratings given from now on: ratings kept from before this revision open none (their
15 working days could not be honestly dated).
``rectification_events`` is append-only, with the triggers ``make_append_only`` emits.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
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
    with op.batch_alter_table("ratings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subject", sa.String(length=8), nullable=False,
                                      server_default="visit"))
        batch_op.add_column(sa.Column("case_item_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("case_number", sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column("department_code", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("level", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("tags", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("channel", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("follow_up", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("follow_up_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("excluded", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    # the data: 1–5 keep their order; a complaint is a bad rating whatever its score
    op.execute("UPDATE ratings SET level = CASE WHEN complaint AND score > 2 THEN 2 "
               "ELSE score END, channel = source")
    op.execute(sa.text("UPDATE ratings SET tags = :other WHERE complaint").bindparams(
        sa.bindparam("other", ["other"], type_=sa.JSON())))
    op.execute(sa.text("UPDATE ratings SET tags = :none WHERE tags IS NULL").bindparams(
        sa.bindparam("none", [], type_=sa.JSON())))
    with op.batch_alter_table("ratings", schema=None) as batch_op:
        batch_op.alter_column("subject", server_default=None, existing_type=sa.String(8))
        batch_op.alter_column("excluded", server_default=None, existing_type=sa.Boolean())
        batch_op.alter_column("level", nullable=False, existing_type=sa.Integer())
        batch_op.alter_column("tags", nullable=False, existing_type=sa.JSON())
        batch_op.alter_column("channel", nullable=False, existing_type=sa.String(16))
        batch_op.alter_column("ticket_id", existing_type=sa.INTEGER(), nullable=True)
        batch_op.alter_column("service_code", existing_type=sa.VARCHAR(length=32),
                              nullable=True)
        batch_op.create_index("ix_ratings_at", ["at"], unique=False)
        batch_op.create_unique_constraint("ratings_case_item_id_key", ["case_item_id"])
        batch_op.create_foreign_key("ratings_case_item_id_fkey", "case_items",
                                    ["case_item_id"], ["id"])
        batch_op.drop_column("complaint")
        batch_op.drop_column("score")
        batch_op.drop_column("source")

    op.create_table(
        "rectifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rating_id", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(length=32), nullable=True),
        sa.Column("department_code", sa.String(length=32), nullable=True),
        sa.Column("window_number", sa.Integer(), nullable=True),
        sa.Column("clerk_id", sa.String(length=32), nullable=True),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("measures", sa.String(length=1000), nullable=True),
        sa.Column("rectified_at", sa.DateTime(), nullable=True),
        sa.Column("rectified_by", sa.String(length=32), nullable=True),
        sa.Column("call_back_at", sa.DateTime(), nullable=True),
        sa.Column("call_back_by", sa.String(length=32), nullable=True),
        sa.Column("call_back_reached", sa.Boolean(), nullable=True),
        sa.Column("call_back_note", sa.String(length=500), nullable=True),
        sa.Column("answer", sa.String(length=1000), nullable=True),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.Column("answered_by", sa.String(length=32), nullable=True),
        sa.Column("appeal_status", sa.String(length=8), nullable=False),
        sa.Column("appeal_reason", sa.String(length=1000), nullable=True),
        sa.Column("appeal_evidence", sa.String(length=2000), nullable=True),
        sa.Column("appealed_by", sa.String(length=32), nullable=True),
        sa.Column("appealed_at", sa.DateTime(), nullable=True),
        sa.Column("appeal_decided_by", sa.String(length=32), nullable=True),
        sa.Column("appeal_decided_at", sa.DateTime(), nullable=True),
        sa.Column("appeal_note", sa.String(length=500), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["rating_id"], ["ratings.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("rating_id"),
    )
    with op.batch_alter_table("rectifications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rectifications_clerk_id"), ["clerk_id"],
                              unique=False)
        batch_op.create_index("ix_rectifications_status_due", ["status", "due_on"],
                              unique=False)

    op.create_table(
        "rectification_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rectification_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("actor", sa.String(length=32), nullable=True),
        sa.Column("origin", sa.String(length=120), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["rectification_id"], ["rectifications.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("rectification_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rectification_events_rectification_id"),
                              ["rectification_id"], unique=False)
    for statement in _append_only_ddl("rectification_events", op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    op.drop_table("rectification_events")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION rectification_events_append_only()")
    op.drop_table("rectifications")
    op.execute("DELETE FROM ratings WHERE ticket_id IS NULL")  # item ratings had no place
    with op.batch_alter_table("ratings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source", sa.VARCHAR(length=16), nullable=True))
        batch_op.add_column(sa.Column("score", sa.INTEGER(), nullable=True))
        batch_op.add_column(sa.Column("complaint", sa.BOOLEAN(), nullable=True))
    op.execute("UPDATE ratings SET score = level, source = channel, complaint = (level <= 2)")
    with op.batch_alter_table("ratings", schema=None) as batch_op:
        batch_op.alter_column("source", nullable=False, existing_type=sa.VARCHAR(16))
        batch_op.alter_column("score", nullable=False, existing_type=sa.INTEGER())
        batch_op.alter_column("complaint", nullable=False, existing_type=sa.BOOLEAN())
        batch_op.drop_constraint("ratings_case_item_id_fkey", type_="foreignkey")
        batch_op.drop_constraint("ratings_case_item_id_key", type_="unique")
        batch_op.drop_index("ix_ratings_at")
        batch_op.alter_column("service_code", existing_type=sa.VARCHAR(length=32),
                              nullable=False)
        batch_op.alter_column("ticket_id", existing_type=sa.INTEGER(), nullable=False)
        for column in ("excluded", "follow_up_at", "follow_up", "channel", "tags", "level",
                       "department_code", "case_number", "case_item_id", "subject"):
            batch_op.drop_column(column)
