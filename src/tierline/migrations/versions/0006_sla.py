"""SLA: business calendars, policies, clocks and their events

Revision ID: 0006_sla
Revises: 0005_tickets
Create Date: 2026-11-23 13:52:10.625480
"""
import sqlalchemy as sa
from alembic import op

import tierline.platform.db

revision = '0006_sla'
down_revision = '0005_tickets'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sla_calendars',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('hours', tierline.platform.db.JSONType(), nullable=False),
    sa.Column('holidays', tierline.platform.db.JSONType(), nullable=False),
    sa.Column('holiday_country', sa.String(length=8), nullable=True),
    sa.Column('holiday_subdivision', sa.String(length=16), nullable=True),
    sa.Column('created_at', tierline.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', tierline.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_calendars')),
    sa.UniqueConstraint('name', name=op.f('uq_sla_calendars_name'))
    )
    op.create_table('sla_policies',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('match', tierline.platform.db.JSONType(), nullable=False),
    sa.Column('calendar_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('targets', tierline.platform.db.JSONType(), nullable=False),
    sa.Column('warning_percent', sa.Integer(), nullable=False),
    sa.Column('pause_statuses', tierline.platform.db.JSONType(), nullable=False),
    sa.Column('on_breach', tierline.platform.db.JSONType(), nullable=False),
    sa.Column('created_at', tierline.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', tierline.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['calendar_id'], ['sla_calendars.id'], name=op.f('fk_sla_policies_calendar_id_sla_calendars')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_policies')),
    sa.UniqueConstraint('name', name=op.f('uq_sla_policies_name'))
    )
    with op.batch_alter_table('sla_policies', schema=None) as batch_op:
        batch_op.create_index('ix_sla_policies_position', ['active', 'position', 'id'], unique=False)

    op.create_table('sla_clocks',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('ticket_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('policy_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('metric', sa.String(length=20), nullable=False),
    sa.Column('target_minutes', sa.Float(), nullable=False),
    sa.Column('business_hours', sa.Boolean(), nullable=False),
    sa.Column('calendar_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('cycle', sa.Integer(), nullable=False),
    sa.Column('started_at', tierline.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('consumed_minutes', sa.Float(), nullable=False),
    sa.Column('segments', tierline.platform.db.JSONType(), nullable=False),
    sa.Column('running_since', tierline.platform.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('due_at', tierline.platform.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('warning_at', tierline.platform.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('warned_at', tierline.platform.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('breached_at', tierline.platform.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('achieved_at', tierline.platform.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('completed_at', tierline.platform.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('final_minutes', sa.Float(), nullable=True),
    sa.Column('created_at', tierline.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', tierline.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['calendar_id'], ['sla_calendars.id'], name=op.f('fk_sla_clocks_calendar_id_sla_calendars')),
    sa.ForeignKeyConstraint(['policy_id'], ['sla_policies.id'], name=op.f('fk_sla_clocks_policy_id_sla_policies')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_sla_clocks_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_clocks')),
    sa.UniqueConstraint('ticket_id', 'metric', name='uq_sla_clocks_ticket_metric')
    )
    with op.batch_alter_table('sla_clocks', schema=None) as batch_op:
        batch_op.create_index('ix_sla_clocks_due', ['status', 'due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_sla_clocks_policy_id'), ['policy_id'], unique=False)

    op.create_table('sla_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('ticket_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('clock_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('metric', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('cycle', sa.Integer(), nullable=False),
    sa.Column('at', tierline.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('details', tierline.platform.db.JSONType(), nullable=False),
    sa.Column('created_at', tierline.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['clock_id'], ['sla_clocks.id'], name=op.f('fk_sla_events_clock_id_sla_clocks'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_sla_events_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_events'))
    )
    with op.batch_alter_table('sla_events', schema=None) as batch_op:
        batch_op.create_index('ix_sla_events_kind_at', ['kind', 'at'], unique=False)
        batch_op.create_index('ix_sla_events_ticket', ['ticket_id', 'id'], unique=False)

    # The SLA domain keeps a ticket's policy and its next due instant on the ticket, for sorting and display.
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sla_policy_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                                      nullable=True))
        batch_op.add_column(sa.Column('sla_due_at', tierline.platform.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_tickets_sla_due_at'), ['sla_due_at'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_tickets_sla_policy_id_sla_policies'), 'sla_policies',
                                    ['sla_policy_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_tickets_sla_policy_id_sla_policies'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_tickets_sla_due_at'))
        batch_op.drop_column('sla_due_at')
        batch_op.drop_column('sla_policy_id')

    with op.batch_alter_table('sla_events', schema=None) as batch_op:
        batch_op.drop_index('ix_sla_events_ticket')
        batch_op.drop_index('ix_sla_events_kind_at')

    op.drop_table('sla_events')
    with op.batch_alter_table('sla_clocks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sla_clocks_policy_id'))
        batch_op.drop_index('ix_sla_clocks_due')

    op.drop_table('sla_clocks')
    with op.batch_alter_table('sla_policies', schema=None) as batch_op:
        batch_op.drop_index('ix_sla_policies_position')

    op.drop_table('sla_policies')
    op.drop_table('sla_calendars')
