"""sla calendars

Revision ID: 0006_sla_calendars
Revises: 0005_tickets
"""
from alembic import op
import sqlalchemy as sa
import tierline.platform.db

revision = '0006_sla_calendars'
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


def downgrade() -> None:
    op.drop_table('sla_calendars')
