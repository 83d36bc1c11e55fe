"""Staff access: ID numbers encrypted at rest and findable by a keyed hash, hand-off
payloads encrypted, callbacks remembered against replay, clerk PINs leave the clerks table.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30

Existing rows are encrypted here with the hall's personal-data key, which the app
installs (``hall_ops.privacy.install``) before it upgrades the schema. Clerk PINs now live
with the staff accounts (``staff.pin_hash``), so the old ``clerks.pin_hash`` is dropped:
after this upgrade every clerk needs a staff account (``python -m hall_web create-admin``,
then the admin page).
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op
from alembic.util import CommandError

from hall_ops import privacy

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

ID_CONTEXT = "cases.applicant_id_number"


def _encrypt_rows(table: str, key: str, column: str, context: str, as_json: bool) -> None:
    """Encrypt every row's ``column`` in place (plain text or JSON before this revision)."""
    bind = op.get_bind()
    cipher = privacy.cipher()
    rows = bind.execute(sa.text(f"SELECT {key}, {column} FROM {table}")).all()
    for row_key, value in rows:
        if value is None:
            continue
        if as_json and not isinstance(value, str):
            value = json.dumps(value, ensure_ascii=False)
        bind.execute(
            sa.text(f"UPDATE {table} SET {column} = :value WHERE {key} = :key"),
            {"value": cipher.encrypt(str(value), context), "key": row_key},
        )


def upgrade() -> None:
    op.create_table(
        "seen_callbacks",
        sa.Column("signature", sa.String(length=80), nullable=False),
        sa.Column("department", sa.String(length=32), nullable=False),
        sa.Column("seen_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("signature"),
    )
    with op.batch_alter_table("seen_callbacks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_seen_callbacks_expires_at"), ["expires_at"], unique=False
        )

    # ID numbers: widen, hash, encrypt; the hash column becomes NOT NULL once filled.
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("applicant_id_hash", sa.String(length=64), nullable=True))
        batch_op.alter_column(
            "applicant_id_number",
            existing_type=sa.String(length=18),
            type_=sa.String(length=200),
            existing_nullable=False,
        )
    bind = op.get_bind()
    cipher = privacy.cipher()
    for case_id, number in bind.execute(
        sa.text("SELECT id, applicant_id_number FROM cases")
    ).all():
        bind.execute(
            sa.text(
                "UPDATE cases SET applicant_id_number = :enc, applicant_id_hash = :hash "
                "WHERE id = :id"
            ),
            {
                "enc": cipher.encrypt(number, ID_CONTEXT),
                "hash": cipher.blind_index(number, ID_CONTEXT),
                "id": case_id,
            },
        )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.alter_column(
            "applicant_id_hash", existing_type=sa.String(length=64), nullable=False
        )
        batch_op.create_index(
            batch_op.f("ix_cases_applicant_id_hash"), ["applicant_id_hash"], unique=False
        )

    # Hand-off payloads carried the whole identity in plain JSON.
    for table in ("handoff_messages", "console_cases"):
        if bind.dialect.name == "postgresql":
            op.execute(f"ALTER TABLE {table} ALTER COLUMN payload TYPE TEXT USING payload::text")
        else:
            with op.batch_alter_table(table, schema=None) as batch_op:
                batch_op.alter_column(
                    "payload", existing_type=sa.JSON(), type_=sa.Text(), existing_nullable=False
                )
        _encrypt_rows(table, "id", "payload", f"{table}.payload", as_json=True)

    with op.batch_alter_table("clerks", schema=None) as batch_op:
        batch_op.drop_column("pin_hash")


def downgrade() -> None:
    # Refused on purpose: the plain ID numbers and the PINs are gone, nothing can bring
    # them back; alembic reports a CommandError as a clean message.
    raise CommandError(
        "0005 encrypted personal data and dropped clerk PINs; restore a backup to go back"
    )

