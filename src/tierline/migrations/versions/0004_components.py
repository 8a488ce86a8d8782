"""components: the system-architecture tree

Revision ID: 0004_components
Revises: 0003_customers
Create Date: 2026-11-23 13:44:34
"""
import sqlalchemy as sa
from alembic import op

import tierline.platform.db

revision = '0004_components'
down_revision = '0003_customers'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('components',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('parent_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('owner_team_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('support_team_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('required_skills', tierline.platform.db.JSONType(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('created_at', tierline.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', tierline.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['owner_team_id'], ['teams.id'], name=op.f('fk_components_owner_team_id_teams')),
    sa.ForeignKeyConstraint(['parent_id'], ['components.id'], name=op.f('fk_components_parent_id_components')),
    sa.ForeignKeyConstraint(['support_team_id'], ['teams.id'], name=op.f('fk_components_support_team_id_teams')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_components'))
    )
    with op.batch_alter_table('components', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_components_owner_team_id'), ['owner_team_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_components_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_components_support_team_id'), ['support_team_id'], unique=False)
    # Sibling names are unique case-insensitively, roots (parent_id NULL) included: an expression index.
    op.create_index('uq_components_sibling_name', 'components',
                    [sa.literal_column('coalesce(parent_id, 0)'), sa.literal_column('lower(name)')], unique=True)


def downgrade() -> None:
    op.drop_index('uq_components_sibling_name', table_name='components')
    with op.batch_alter_table('components', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_components_support_team_id'))
        batch_op.drop_index(batch_op.f('ix_components_parent_id'))
        batch_op.drop_index(batch_op.f('ix_components_owner_team_id'))

    op.drop_table('components')
