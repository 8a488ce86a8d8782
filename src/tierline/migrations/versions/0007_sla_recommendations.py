"""SLA recommendations: capacity-based targets per priority and metric, with their inputs, applied once

Revision ID: 0007_sla_recommendations
Revises: 0006_sla
Create Date: 2026-11-23 14:07:16.255734
"""
import sqlalchemy as sa
from alembic import op

import tierline.platform.db

revision = '0007_sla_recommendations'
down_revision = '0006_sla'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sla_recommendations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('run_id', sa.String(length=32), nullable=False),
    sa.Column('quarter', sa.String(length=6), nullable=False),
    sa.Column('service_level', sa.Float(), nullable=False),
    sa.Column('team_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('priority', sa.String(length=2), nullable=False),
    sa.Column('metric', sa.String(length=20), nullable=False),
    sa.Column('policy_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('current_minutes', sa.Float(), nullable=True),
    sa.Column('current_business_hours', sa.Boolean(), nullable=True),
    sa.Column('recommended_minutes', sa.Float(), nullable=True),
    sa.Column('business_hours', sa.Boolean(), nullable=False),
    sa.Column('calendar_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('achieved_percent', sa.Float(), nullable=True),
    sa.Column('inputs', tierline.platform.db.JSONType(), nullable=False),
    sa.Column('created_at', tierline.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', tierline.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('applied_at', tierline.platform.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('applied_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['applied_by'], ['users.id'], name=op.f('fk_sla_recommendations_applied_by_users')),
    sa.ForeignKeyConstraint(['calendar_id'], ['sla_calendars.id'], name=op.f('fk_sla_recommendations_calendar_id_sla_calendars'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['policy_id'], ['sla_policies.id'], name=op.f('fk_sla_recommendations_policy_id_sla_policies'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_sla_recommendations_team_id_teams'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_recommendations'))
    )
    with op.batch_alter_table('sla_recommendations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sla_recommendations_policy_id'), ['policy_id'], unique=False)
        batch_op.create_index('ix_sla_recommendations_quarter', ['quarter', 'priority', 'id'], unique=False)
        batch_op.create_index('ix_sla_recommendations_run', ['run_id', 'id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('sla_recommendations', schema=None) as batch_op:
        batch_op.drop_index('ix_sla_recommendations_run')
        batch_op.drop_index('ix_sla_recommendations_quarter')
        batch_op.drop_index(batch_op.f('ix_sla_recommendations_policy_id'))

    op.drop_table('sla_recommendations')
