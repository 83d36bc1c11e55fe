"""Window pauses with a reason (break, meeting, system fault), counted by the reports; the
English name of a catalogue item's department.

Windows paused at upgrade time get no row: their reason was never recorded, so the
console shows them paused without one and the reports start counting from the next pause.
Departments' English names stay empty until the catalogue is loaded again (every start).

Revision ID: 0009
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "window_pauses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("window_number", sa.Integer(), nullable=False),
        sa.Column("clerk_id", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("origin", sa.String(length=120), nullable=True),
        sa.ForeignKeyConstraint(["window_number"], ["windows.number"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("window_pauses", schema=None) as batch_op:
        batch_op.create_index(
            "ix_window_pauses_window_started", ["window_number", "started_at"], unique=False
        )
    with op.batch_alter_table("service_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("department_name_en", sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("service_items", schema=None) as batch_op:
        batch_op.drop_column("department_name_en")
    with op.batch_alter_table("window_pauses", schema=None) as batch_op:
        batch_op.drop_index("ix_window_pauses_window_started")
    op.drop_table("window_pauses")
