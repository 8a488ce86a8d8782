"""Login throttling (issue 11): failed password logins per (normalised email, client address), in the database
so every process sees them

Revision ID: 0022_login_throttle
Revises: 0021_records_kept
"""
import sqlalchemy as sa
from alembic import op

import tierline.platform.db

revision = '0022_login_throttle'
down_revision = '0021_records_kept'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'login_failures',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('email', sa.String(length=320), nullable=False),
        sa.Column('address', sa.String(length=64), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('window_started_at', tierline.platform.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('locked_until', tierline.platform.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failures')),
        sa.UniqueConstraint('email', 'address', name='uq_login_failures_pair'),
    )


def downgrade() -> None:
    op.drop_table('login_failures')
