"""Cases across halls: where a case's result goes (here, another hall of the deployment, by
post) with its append-only history, the mailing's tracking number, the outbox of results
sent to another hall and the results received from one.

``case_delivery_choices`` is append-only, with the triggers ``make_append_only`` emits.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hall_ops.privacy import EncryptedJSON

revision = "0017"
down_revision = "0016"
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
    op.create_table('incoming_results',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('from_hall', sa.String(length=32), nullable=False),
    sa.Column('case_number', sa.String(length=24), nullable=False),
    sa.Column('payload', EncryptedJSON("incoming_results.payload"), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('handed_over_at', sa.DateTime(), nullable=True),
    sa.Column('window_number', sa.Integer(), nullable=True),
    sa.Column('clerk_id', sa.String(length=64), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('reported_at', sa.DateTime(), nullable=True),
    sa.Column('report_attempts', sa.Integer(), nullable=False),
    sa.Column('report_next_at', sa.DateTime(), nullable=True),
    sa.Column('report_error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('from_hall', 'case_number', name='uq_incoming_case')
    )
    with op.batch_alter_table('incoming_results', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incoming_results_case_number'), ['case_number'],
                              unique=False)

    op.create_table('case_delivery_choices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('hall_code', sa.String(length=32), nullable=True),
    sa.Column('address', EncryptedJSON("case_delivery_choices.address"), nullable=True),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=True),
    sa.Column('origin', sa.String(length=120), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('case_delivery_choices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_delivery_choices_case_id'), ['case_id'],
                              unique=False)
    for statement in _append_only_ddl("case_delivery_choices", op.get_bind().dialect.name):
        op.execute(statement)

    op.create_table('hall_transfers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('to_hall', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('landed_at', sa.DateTime(), nullable=True),
    sa.Column('to_hall_name_zh', sa.String(length=64), nullable=True),
    sa.Column('to_hall_name_en', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id')
    )
    with op.batch_alter_table('hall_transfers', schema=None) as batch_op:
        batch_op.create_index('ix_hall_transfers_due', ['status', 'next_attempt_at'], unique=False)

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('delivery_mode', sa.String(length=16),
                                      server_default='hall', nullable=False))
        batch_op.add_column(sa.Column('delivery_hall', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('delivery_address',
                                      EncryptedJSON("cases.delivery_address"), nullable=True))

    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('delivered_hall', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('mailed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('tracking_number', sa.String(length=32), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_column('tracking_number')
        batch_op.drop_column('mailed_at')
        batch_op.drop_column('delivered_hall')

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('delivery_address')
        batch_op.drop_column('delivery_hall')
        batch_op.drop_column('delivery_mode')

    with op.batch_alter_table('hall_transfers', schema=None) as batch_op:
        batch_op.drop_index('ix_hall_transfers_due')

    op.drop_table('hall_transfers')
    with op.batch_alter_table('case_delivery_choices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_delivery_choices_case_id'))

    op.drop_table('case_delivery_choices')
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION case_delivery_choices_append_only()")
    with op.batch_alter_table('incoming_results', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incoming_results_case_number'))

    op.drop_table('incoming_results')
