"""A customer's open tickets are counted at every intake (impact): one index on (customer_id, status) counts them
from the index alone and replaces the one on customer_id, which it serves as well

Revision ID: 0026_ticket_customer_open
Revises: 0025_problem_figures_at_read
"""
from alembic import op

revision = '0026_ticket_customer_open'
down_revision = '0025_problem_figures_at_read'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_customer_status', ['customer_id', 'status'], unique=False)
        batch_op.drop_index('ix_tickets_customer_id')


def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_customer_id', ['customer_id'], unique=False)
        batch_op.drop_index('ix_tickets_customer_status')
