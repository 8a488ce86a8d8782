"""Stored classifier models (owned by the classifier engineer)

Revision ID: 0012_classifier
Revises: 0011_problems
"""
import sqlalchemy as sa
from alembic import op

import tierline.platform.db

revision = '0012_classifier'
down_revision = '0011_problems'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'triage_models',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('target', sa.String(length=20), nullable=False),
        sa.Column('algorithm', sa.String(length=200), nullable=False),
        sa.Column('labels', tierline.platform.db.JSONType(), nullable=False),
        sa.Column('metrics', tierline.platform.db.JSONType(), nullable=False),
        sa.Column('n_samples', sa.Integer(), nullable=False),
        sa.Column('source', sa.String(length=500), nullable=False),
        sa.Column('sklearn_version', sa.String(length=40), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('size_bytes', sa.Integer(), nullable=False),
        sa.Column('pipeline', sa.LargeBinary(), nullable=False),
        sa.Column('active', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('activated_at', tierline.platform.db.UTCDateTime(), nullable=True),
        sa.Column('created_at', tierline.platform.db.UTCDateTime(), nullable=False),
        sa.Column('updated_at', tierline.platform.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint("target IN ('queue', 'component', 'type', 'priority')",
                           name=op.f('ck_triage_models_target')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_triage_models')),
        sa.UniqueConstraint('version', name=op.f('uq_triage_models_version')),
    )
    with op.batch_alter_table('triage_models', schema=None) as batch_op:
        batch_op.create_index('ix_triage_models_one_active_per_target', ['target'], unique=True,
                              sqlite_where=sa.text('active'), postgresql_where=sa.text('active'))
        batch_op.create_index('ix_triage_models_target_version', ['target', 'version'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('triage_models', schema=None) as batch_op:
        batch_op.drop_index('ix_triage_models_target_version')
        batch_op.drop_index('ix_triage_models_one_active_per_target')
    op.drop_table('triage_models')
