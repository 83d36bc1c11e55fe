"""Self-service forms and the electronic archive: item form fields, citizens' drafts, forms
accepted into cases, archive packages, and a retention period per catalogue item.

Revision ID: 0011
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "item_form_fields",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_code", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("label_zh", sa.String(length=128), nullable=False),
        sa.Column("label_en", sa.String(length=200), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["item_code"], ["service_items.code"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_item_form_fields_item_code", "item_form_fields", ["item_code"])
    op.create_table(
        "form_drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("item_codes", sa.JSON(), nullable=False),
        sa.Column("values", sa.Text(), nullable=False),  # EncryptedJSON
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ticket_id"),
    )
    op.create_index("ix_form_drafts_expires_at", "form_drafts", ["expires_at"])
    op.create_table(
        "case_forms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("item_codes", sa.JSON(), nullable=False),
        sa.Column("values", sa.Text(), nullable=False),  # EncryptedJSON
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("filled_at", sa.DateTime(), nullable=False),
        sa.Column("accepted_at", sa.DateTime(), nullable=False),
        sa.Column("accepted_by", sa.String(length=64), nullable=False),
        sa.Column("corrected", sa.JSON(), nullable=False),
        sa.Column("origin", sa.String(length=120), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id"),
    )
    op.create_table(
        "archive_packages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("case_number", sa.String(length=24), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=False),
        sa.Column("finished_on", sa.Date(), nullable=False),
        sa.Column("archived_at", sa.DateTime(), nullable=False),
        sa.Column("path", sa.String(length=300), nullable=False),
        sa.Column("manifest_sha256", sa.String(length=64), nullable=False),
        sa.Column("files", sa.Integer(), nullable=False),
        sa.Column("bytes", sa.Integer(), nullable=False),
        sa.Column("retention", sa.String(length=16), nullable=False),
        sa.Column("retain_until", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id"),
        sa.UniqueConstraint("case_number"),
    )
    op.create_index("ix_archive_packages_finished_on", "archive_packages", ["finished_on"])
    with op.batch_alter_table("service_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retention", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("service_items", schema=None) as batch_op:
        batch_op.drop_column("retention")
    op.drop_index("ix_archive_packages_finished_on", table_name="archive_packages")
    op.drop_table("archive_packages")
    op.drop_table("case_forms")
    op.drop_index("ix_form_drafts_expires_at", table_name="form_drafts")
    op.drop_table("form_drafts")
    op.drop_index("ix_item_form_fields_item_code", table_name="item_form_fields")
    op.drop_table("item_form_fields")
