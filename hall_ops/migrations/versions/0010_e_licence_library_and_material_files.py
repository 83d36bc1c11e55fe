"""E-licence library and material files (issue 15).

New tables only: licence types and which items issue them (catalogue), the departments'
published signing keys, licences, their append-only events and uses, and the rows of
uploaded material files (the files themselves live in the material store).

Revision ID: 0010
Revises: 0005
Create Date: 2026-11-30 10:11:37.672940
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hall_ops.privacy import EncryptedString

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

APPEND_ONLY = ("licence_events", "licence_uses")


def _append_only_ddl(table: str, dialect: str) -> list[str]:
    """What ``hall_ops.db.make_append_only`` emits, written out (as in 0001)."""
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
    op.create_table('licence_signing_keys',
    sa.Column('department_code', sa.String(length=32), nullable=False),
    sa.Column('algorithm', sa.String(length=16), nullable=False),
    sa.Column('public_key', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('department_code', 'algorithm')
    )
    op.create_table('licence_types',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name_zh', sa.String(length=128), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('valid_years', sa.Integer(), nullable=False),
    sa.Column('material_name_zh', sa.String(length=128), nullable=False),
    sa.PrimaryKeyConstraint('code')
    )
    op.create_table('item_licences',
    sa.Column('item_code', sa.String(length=32), nullable=False),
    sa.Column('licence_type', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['item_code'], ['service_items.code'], ),
    sa.ForeignKeyConstraint(['licence_type'], ['licence_types.code'], ),
    sa.PrimaryKeyConstraint('item_code')
    )
    with op.batch_alter_table('item_licences', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_item_licences_licence_type'), ['licence_type']
        )

    op.create_table('licences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=64), nullable=False),
    sa.Column('licence_type', sa.String(length=32), nullable=False),
    sa.Column('name_zh', sa.String(length=128), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('material_name_zh', sa.String(length=128), nullable=False),
    sa.Column('holder_kind', sa.String(length=16), nullable=False),
    sa.Column('holder_name', sa.String(length=128), nullable=False),
    sa.Column('holder_id_number', EncryptedString("licences.holder_id_number", length=200),
              nullable=False),
    sa.Column('holder_id_hash', sa.String(length=64), nullable=False),
    sa.Column('department_code', sa.String(length=32), nullable=False),
    sa.Column('department_name_zh', sa.String(length=64), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('item_code', sa.String(length=32), nullable=True),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('issued_at', sa.DateTime(), nullable=False),
    sa.Column('origin', sa.String(length=16), nullable=False),
    sa.Column('issuer', sa.String(length=64), nullable=False),
    sa.Column('algorithm', sa.String(length=16), nullable=False),
    sa.Column('signature', sa.Text(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_by', sa.String(length=64), nullable=True),
    sa.Column('revoke_reason', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number')
    )
    with op.batch_alter_table('licences', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_licences_case_id'), ['case_id']
        )
        batch_op.create_index(
            batch_op.f('ix_licences_department_code'), ['department_code']
        )
        batch_op.create_index(
            batch_op.f('ix_licences_holder_id_hash'), ['holder_id_hash']
        )
        batch_op.create_index(
            batch_op.f('ix_licences_licence_type'), ['licence_type']
        )

    op.create_table('licence_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('licence_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('origin', sa.String(length=120), nullable=True),
    sa.ForeignKeyConstraint(['licence_id'], ['licences.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('licence_events', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_licence_events_licence_id'), ['licence_id']
        )

    op.create_table('licence_uses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('licence_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('case_material_id', sa.Integer(), nullable=True),
    sa.Column('department_code', sa.String(length=32), nullable=False),
    sa.Column('department_name_zh', sa.String(length=64), nullable=False),
    sa.Column('purpose', sa.String(length=32), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('consent_at', sa.DateTime(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('origin', sa.String(length=120), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.ForeignKeyConstraint(['case_material_id'], ['case_materials.id'], ),
    sa.ForeignKeyConstraint(['licence_id'], ['licences.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('licence_uses', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_licence_uses_case_id'), ['case_id']
        )
        batch_op.create_index(
            batch_op.f('ix_licence_uses_licence_id'), ['licence_id']
        )

    op.create_table('material_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('case_material_id', sa.Integer(), nullable=False),
    sa.Column('store', sa.String(length=16), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(), nullable=False),
    sa.Column('uploaded_by', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.ForeignKeyConstraint(['case_material_id'], ['case_materials.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key')
    )
    with op.batch_alter_table('material_files', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_material_files_case_id'), ['case_id']
        )
        batch_op.create_index(
            batch_op.f('ix_material_files_case_material_id'), ['case_material_id']
        )

    for table in APPEND_ONLY:
        for statement in _append_only_ddl(table, op.get_bind().dialect.name):
            op.execute(statement)


def downgrade() -> None:
    with op.batch_alter_table('material_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_material_files_case_material_id'))
        batch_op.drop_index(batch_op.f('ix_material_files_case_id'))

    op.drop_table('material_files')
    with op.batch_alter_table('licence_uses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_licence_uses_licence_id'))
        batch_op.drop_index(batch_op.f('ix_licence_uses_case_id'))

    op.drop_table('licence_uses')
    with op.batch_alter_table('licence_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_licence_events_licence_id'))

    op.drop_table('licence_events')
    with op.batch_alter_table('licences', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_licences_licence_type'))
        batch_op.drop_index(batch_op.f('ix_licences_holder_id_hash'))
        batch_op.drop_index(batch_op.f('ix_licences_department_code'))
        batch_op.drop_index(batch_op.f('ix_licences_case_id'))

    op.drop_table('licences')
    with op.batch_alter_table('item_licences', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_item_licences_licence_type'))

    op.drop_table('item_licences')
    op.drop_table('licence_types')
    op.drop_table('licence_signing_keys')
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"DROP FUNCTION {table}_append_only()")
