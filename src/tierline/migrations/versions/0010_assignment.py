"""Queue assignment strategies, required skills, round-robin cursors (owned by the assignment engineer)

SQLite adds the columns with a plain ALTER TABLE (its CHECK inline), so existing queues and the tickets that
point at them are never copied; PostgreSQL adds a named CHECK constraint.

Revision ID: 0010_assignment
Revises: 0009_triage_rules
"""
import sqlalchemy as sa
from alembic import op

import tierline.platform.db

revision = '0010_assignment'
down_revision = '0009_triage_rules'
branch_labels = None
depends_on = None

STRATEGIES = "assignment_strategy IN ('round_robin', 'least_loaded', 'skills')"


def upgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        op.execute("ALTER TABLE queues ADD COLUMN assignment_strategy VARCHAR(20) DEFAULT 'round_robin' "
                   f"NOT NULL CONSTRAINT ck_queues_assignment_strategy CHECK ({STRATEGIES})")
        op.execute("ALTER TABLE queues ADD COLUMN required_skills JSON DEFAULT '[]' NOT NULL")
    else:
        op.add_column('queues', sa.Column('assignment_strategy', sa.String(length=20), nullable=False,
                                          server_default='round_robin'))
        op.add_column('queues', sa.Column('required_skills', tierline.platform.db.JSONType(), nullable=False,
                                          server_default='[]'))
        op.create_check_constraint(op.f('ck_queues_assignment_strategy'), 'queues', STRATEGIES)
    op.create_table('queue_cursors',
    sa.Column('queue_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('last_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', tierline.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', tierline.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['last_user_id'], ['users.id'], name=op.f('fk_queue_cursors_last_user_id_users')),
    sa.ForeignKeyConstraint(['queue_id'], ['queues.id'], name=op.f('fk_queue_cursors_queue_id_queues'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('queue_id', name=op.f('pk_queue_cursors'))
    )


def downgrade() -> None:
    op.drop_table('queue_cursors')
    if op.get_bind().dialect.name == 'sqlite':
        op.execute("ALTER TABLE queues DROP COLUMN required_skills")
        op.execute("ALTER TABLE queues DROP COLUMN assignment_strategy")
    else:
        op.drop_constraint(op.f('ck_queues_assignment_strategy'), 'queues', type_='check')
        op.drop_column('queues', 'required_skills')
        op.drop_column('queues', 'assignment_strategy')
