"""Cameras: the clock offset found at connect, and occupancy samples clamped at zero.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cameras", schema=None) as batch_op:
        batch_op.add_column(sa.Column("clock_offset_s", sa.Integer(), nullable=True))
    with op.batch_alter_table("occupancy_samples", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("clamped", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("occupancy_samples", schema=None) as batch_op:
        batch_op.drop_column("clamped")
    with op.batch_alter_table("cameras", schema=None) as batch_op:
        batch_op.drop_column("clock_offset_s")
