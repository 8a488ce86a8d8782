"""A support manager's first day (issue 12): automatic messages are written by `system`, a problem carries the
summary its customers read, a finished job's key no longer blocks a new job, and SLA clocks may be `cancelled`

Revision ID: 0021_records_kept
Revises: 0020_sla_reference_group
"""
import sqlalchemy as sa
from alembic import op

revision = '0021_records_kept'
down_revision = '0020_sla_reference_group'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_messages_author_type'), type_='check')
        batch_op.create_check_constraint(op.f('ck_messages_author_type'),
                                         "author_type IN ('agent', 'customer', 'system')")
    with op.batch_alter_table('problems', schema=None) as batch_op:
        batch_op.add_column(sa.Column('public_summary', sa.Text(), nullable=True))
    # A finished job gives its key back (platform/jobs.py): the rows finished before this do too, so a timer
    # key derived from a row id (SQLite reuses the id of a deleted row) never blocks a new job again.
    op.execute("UPDATE jobs SET dedupe_key = NULL WHERE status IN ('done', 'failed')")


def downgrade() -> None:
    with op.batch_alter_table('problems', schema=None) as batch_op:
        batch_op.drop_column('public_summary')
    op.execute("DELETE FROM messages WHERE author_type = 'system'")
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_messages_author_type'), type_='check')
        batch_op.create_check_constraint(op.f('ck_messages_author_type'), "author_type IN ('agent', 'customer')")
