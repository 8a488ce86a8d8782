"""Triage rules (conditions and actions as data) and the rule set's revision token

Revision ID: 0009_triage_rules
Revises: 0008_triage_tickets
"""
import sqlalchemy as sa
from alembic import op

import tierline.platform.db

revision = '0009_triage_rules'
down_revision = '0008_triage_tickets'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('triage_rules',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('trigger', sa.String(length=20), nullable=False),
    sa.Column('conditions', tierline.platform.db.JSONType(), nullable=False),
    sa.Column('actions', tierline.platform.db.JSONType(), nullable=False),
    sa.Column('stop_processing', sa.Boolean(), nullable=False),
    sa.Column('created_at', tierline.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', tierline.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("trigger IN ('create', 'update', 'customer_reply')", name=op.f('ck_triage_rules_trigger')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_triage_rules')),
    sa.UniqueConstraint('name', name=op.f('uq_triage_rules_name'))
    )
    with op.batch_alter_table('triage_rules', schema=None) as batch_op:
        batch_op.create_index('ix_triage_rules_order', ['trigger', 'active', 'position', 'id'], unique=False)

    op.create_table('triage_rule_revision',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.Column('created_at', tierline.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', tierline.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_triage_rule_revision'))
    )


def downgrade() -> None:
    op.drop_table('triage_rule_revision')
    with op.batch_alter_table('triage_rules', schema=None) as batch_op:
        batch_op.drop_index('ix_triage_rules_order')
    op.drop_table('triage_rules')
