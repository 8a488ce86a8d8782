"""Problems, their ticket links and signature counters (owned by the problems engineer)

Revision ID: 0011_problems
Revises: 0010_assignment
"""
import sqlalchemy as sa
from alembic import op

import tierline.platform.db

revision = '0011_problems'
down_revision = '0010_assignment'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'problems',
        sa.Column('id', tierline.platform.db.BigId, autoincrement=True, nullable=False),
        sa.Column('title', sa.String(length=500), nullable=False),
        sa.Column('signature', sa.String(length=200), nullable=False),
        sa.Column('component_id', tierline.platform.db.BigId, nullable=True),
        sa.Column('owner_team_id', tierline.platform.db.BigId, nullable=True),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('regression', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('ticket_count', sa.Integer(), nullable=False),
        sa.Column('customer_count', sa.Integer(), nullable=False),
        sa.Column('arr_exposure_cents', sa.BigInteger(), nullable=False),
        sa.Column('impact_score', sa.Integer(), nullable=True),
        sa.Column('first_seen', tierline.platform.db.UTCDateTime(), nullable=False),
        sa.Column('last_seen', tierline.platform.db.UTCDateTime(), nullable=False),
        sa.Column('fixed_at', tierline.platform.db.UTCDateTime(), nullable=True),
        sa.Column('closed_at', tierline.platform.db.UTCDateTime(), nullable=True),
        sa.Column('created_at', tierline.platform.db.UTCDateTime(), nullable=False),
        sa.Column('updated_at', tierline.platform.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint("status IN ('open', 'investigating', 'known_error', 'fixed', 'closed')",
                           name=op.f('ck_problems_status')),
        sa.CheckConstraint('ticket_count >= 0 AND customer_count >= 0 AND arr_exposure_cents >= 0',
                           name=op.f('ck_problems_counts_non_negative')),
        sa.ForeignKeyConstraint(['component_id'], ['components.id'],
                                name=op.f('fk_problems_component_id_components')),
        sa.ForeignKeyConstraint(['owner_team_id'], ['teams.id'],
                                name=op.f('fk_problems_owner_team_id_teams')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_problems')),
    )
    with op.batch_alter_table('problems', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_problems_component_id'), ['component_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_problems_owner_team_id'), ['owner_team_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_problems_status'), ['status'], unique=False)
        batch_op.create_index('ix_problems_arr_exposure', ['arr_exposure_cents', 'id'], unique=False)
        batch_op.create_index('ix_problems_customer_count', ['customer_count', 'id'], unique=False)
        batch_op.create_index('ix_problems_ticket_count', ['ticket_count', 'id'], unique=False)
        batch_op.create_index('ix_problems_last_seen', ['last_seen', 'id'], unique=False)
        batch_op.create_index('uq_problems_signature_active', ['signature'], unique=True,
                              sqlite_where=sa.text("status <> 'closed'"),
                              postgresql_where=sa.text("status <> 'closed'"))

    op.create_table(
        'problem_tickets',
        sa.Column('id', tierline.platform.db.BigId, autoincrement=True, nullable=False),
        sa.Column('problem_id', tierline.platform.db.BigId, nullable=False),
        sa.Column('ticket_id', tierline.platform.db.BigId, nullable=False),
        sa.Column('customer_id', tierline.platform.db.BigId, nullable=True),
        sa.Column('created_at', tierline.platform.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'],
                                name=op.f('fk_problem_tickets_customer_id_customers')),
        sa.ForeignKeyConstraint(['problem_id'], ['problems.id'],
                                name=op.f('fk_problem_tickets_problem_id_problems')),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'],
                                name=op.f('fk_problem_tickets_ticket_id_tickets')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_problem_tickets')),
        sa.UniqueConstraint('ticket_id', name=op.f('uq_problem_tickets_ticket_id')),
    )
    with op.batch_alter_table('problem_tickets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_problem_tickets_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_problem_tickets_problem', ['problem_id', 'ticket_id'], unique=False)

    op.create_table(
        'problem_signatures',
        sa.Column('signature', sa.String(length=200), nullable=False),
        sa.Column('problem_id', tierline.platform.db.BigId, nullable=True),
        sa.Column('last_ticket_at', tierline.platform.db.UTCDateTime(), nullable=False),
        sa.Column('created_at', tierline.platform.db.UTCDateTime(), nullable=False),
        sa.Column('updated_at', tierline.platform.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['problem_id'], ['problems.id'],
                                name=op.f('fk_problem_signatures_problem_id_problems')),
        sa.PrimaryKeyConstraint('signature', name=op.f('pk_problem_signatures')),
    )
    with op.batch_alter_table('problem_signatures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_problem_signatures_problem_id'), ['problem_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('problem_signatures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_problem_signatures_problem_id'))
    op.drop_table('problem_signatures')
    with op.batch_alter_table('problem_tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_problem_tickets_problem')
        batch_op.drop_index(batch_op.f('ix_problem_tickets_customer_id'))
    op.drop_table('problem_tickets')
    with op.batch_alter_table('problems', schema=None) as batch_op:
        batch_op.drop_index('uq_problems_signature_active', sqlite_where=sa.text("status <> 'closed'"),
                            postgresql_where=sa.text("status <> 'closed'"))
        batch_op.drop_index('ix_problems_last_seen')
        batch_op.drop_index('ix_problems_ticket_count')
        batch_op.drop_index('ix_problems_customer_count')
        batch_op.drop_index('ix_problems_arr_exposure')
        batch_op.drop_index(batch_op.f('ix_problems_status'))
        batch_op.drop_index(batch_op.f('ix_problems_owner_team_id'))
        batch_op.drop_index(batch_op.f('ix_problems_component_id'))
    op.drop_table('problems')
