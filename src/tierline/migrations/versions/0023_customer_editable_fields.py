"""Ticket forms name what a customer may set on a ticket of their type (issue 11); no value: the default
(subject, description, requester_email)

Revision ID: 0023_customer_editable_fields
Revises: 0022_login_throttle
"""
import sqlalchemy as sa
from alembic import op

import tierline.platform.db

revision = '0023_customer_editable_fields'
down_revision = '0022_login_throttle'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ticket_forms', schema=None) as batch_op:
        batch_op.add_column(sa.Column('customer_editable_fields', tierline.platform.db.JSONType(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('ticket_forms', schema=None) as batch_op:
        batch_op.drop_column('customer_editable_fields')
