"""The audit chain's head: the last event's seq and hash, moved with every append, so that verify can tell a
trail whose newest events were deleted

Revision ID: 0014_audit_chain_head
Revises: 0013_reference_revisions
"""
import sqlalchemy as sa
from alembic import op

import tierline.platform.db

revision = '0014_audit_chain_head'
down_revision = '0013_reference_revisions'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'audit_chain_head',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('seq', sa.BigInteger(), nullable=False),
        sa.Column('hash', sa.String(length=64), nullable=False),
        sa.Column('updated_at', tierline.platform.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_chain_head')),
    )
    # A trail written before this revision: its last event is the head.
    op.execute("INSERT INTO audit_chain_head (id, seq, hash, updated_at) "
               "SELECT 1, seq, hash, occurred_at FROM audit_events ORDER BY seq DESC LIMIT 1")


def downgrade() -> None:
    op.drop_table('audit_chain_head')
