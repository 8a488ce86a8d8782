"""Triage fields on tickets: triage record, impact, sentiment, signature, assignment flag

Revision ID: 0008_triage_tickets
Revises: 0007_sla_recommendations
"""
import sqlalchemy as sa
from alembic import op

import tierline.platform.db

revision = '0008_triage_tickets'
down_revision = '0007_sla_recommendations'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('triage', tierline.platform.db.JSONType(), nullable=True))
        batch_op.add_column(sa.Column('impact_score', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('impact_explain', tierline.platform.db.JSONType(), nullable=True))
        batch_op.add_column(sa.Column('sentiment', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('frustrated', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('signature', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('waiting_reason', sa.String(length=200), nullable=True))
        batch_op.create_index(batch_op.f('ix_tickets_signature'), ['signature'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_impact_score'), ['impact_score'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tickets_impact_score'))
        batch_op.drop_index(batch_op.f('ix_tickets_signature'))
        for column in ('waiting_reason', 'signature', 'frustrated', 'sentiment', 'impact_explain', 'impact_score',
                       'triage'):
            batch_op.drop_column(column)
