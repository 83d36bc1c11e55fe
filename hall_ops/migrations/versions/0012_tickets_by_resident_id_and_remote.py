"""Tickets by resident ID (encrypted, with a blind index, and why a priority was given) and
remote tickets (the time by which one must be checked in at the hall).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("priority_reason", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("resident_id_number", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("resident_id_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("check_in_by", sa.DateTime(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_tickets_resident_id_hash"), ["resident_id_hash"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tickets_resident_id_hash"))
        batch_op.drop_column("check_in_by")
        batch_op.drop_column("resident_id_hash")
        batch_op.drop_column("resident_id_number")
        batch_op.drop_column("priority_reason")
