"""tickets: queues, tickets (with the ticket_tags lookup), messages, ticket forms

Ticket forms are not seeded: a ticket type without a row uses the default in tierline.tickets.forms.

Revision ID: 0005_tickets
Revises: 0004_components
Create Date: 2026-11-23 13:46:15.754943
"""
import sqlalchemy as sa
from alembic import op

import tierline.platform.db

revision = '0005_tickets'
down_revision = '0004_components'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ticket_forms',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('type', sa.String(length=20), nullable=False),
    sa.Column('required_fields', tierline.platform.db.JSONType(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('created_at', tierline.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', tierline.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("type IN ('question', 'incident', 'problem', 'bug', 'task', 'feature_request')", name=op.f('ck_ticket_forms_type')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_forms')),
    sa.UniqueConstraint('type', name=op.f('uq_ticket_forms_type'))
    )
    op.create_table('queues',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('tier', sa.String(length=2), nullable=False),
    sa.Column('team_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('created_at', tierline.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', tierline.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("tier IN ('L1', 'L2', 'L3')", name=op.f('ck_queues_tier')),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_queues_team_id_teams')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_queues')),
    sa.UniqueConstraint('name', name=op.f('uq_queues_name'))
    )
    with op.batch_alter_table('queues', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_queues_team_id'), ['team_id'], unique=False)

    op.create_table('tickets',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('subject', sa.String(length=500), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('type', sa.String(length=20), nullable=False),
    sa.Column('priority', sa.String(length=2), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('requester_email', sa.String(length=320), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('component_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('feature_area', sa.String(length=200), nullable=True),
    sa.Column('error_code', sa.String(length=100), nullable=True),
    sa.Column('tags', tierline.platform.db.JSONType(), nullable=False),
    sa.Column('custom_fields', tierline.platform.db.JSONType(), nullable=False),
    sa.Column('assignee_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('team_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('tier', sa.String(length=2), nullable=True),
    sa.Column('queue_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('urgency', sa.String(length=10), nullable=True),
    sa.Column('affected_users', sa.Integer(), nullable=True),
    sa.Column('follow_up_of_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('first_response_at', tierline.platform.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('solved_at', tierline.platform.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', tierline.platform.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', tierline.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', tierline.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("channel IN ('email', 'web', 'api', 'chat', 'phone', 'alert')", name=op.f('ck_tickets_channel')),
    sa.CheckConstraint("priority IN ('P1', 'P2', 'P3', 'P4')", name=op.f('ck_tickets_priority')),
    sa.CheckConstraint("status IN ('new', 'open', 'pending_customer', 'on_hold', 'solved', 'closed')", name=op.f('ck_tickets_status')),
    sa.CheckConstraint("tier IS NULL OR tier IN ('L1', 'L2', 'L3')", name=op.f('ck_tickets_tier')),
    sa.CheckConstraint("type IN ('question', 'incident', 'problem', 'bug', 'task', 'feature_request')", name=op.f('ck_tickets_type')),
    sa.CheckConstraint("urgency IS NULL OR urgency IN ('low', 'medium', 'high')", name=op.f('ck_tickets_urgency')),
    sa.CheckConstraint('affected_users IS NULL OR affected_users >= 0', name=op.f('ck_tickets_affected_users_non_negative')),
    sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], name=op.f('fk_tickets_assignee_id_users')),
    sa.ForeignKeyConstraint(['component_id'], ['components.id'], name=op.f('fk_tickets_component_id_components')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_tickets_customer_id_customers')),
    sa.ForeignKeyConstraint(['follow_up_of_id'], ['tickets.id'], name=op.f('fk_tickets_follow_up_of_id_tickets')),
    sa.ForeignKeyConstraint(['queue_id'], ['queues.id'], name=op.f('fk_tickets_queue_id_queues')),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_tickets_team_id_teams')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tickets'))
    )
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_assignee_status', ['assignee_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_component_id'), ['component_id'], unique=False)
        batch_op.create_index('ix_tickets_created', ['created_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_error_code'), ['error_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_follow_up_of_id'), ['follow_up_of_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_queue_id'), ['queue_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_requester_email'), ['requester_email'], unique=False)
        batch_op.create_index('ix_tickets_status_created', ['status', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_team_id'), ['team_id'], unique=False)
        batch_op.create_index('ix_tickets_updated', ['updated_at', 'id'], unique=False)

    op.create_table('messages',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('ticket_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('public', sa.Boolean(), nullable=False),
    sa.Column('author_type', sa.String(length=10), nullable=False),
    sa.Column('author_email', sa.String(length=320), nullable=True),
    sa.Column('author_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', tierline.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("author_type IN ('agent', 'customer')", name=op.f('ck_messages_author_type')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_messages_author_id_users')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_messages_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_messages'))
    )
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index('ix_messages_ticket', ['ticket_id', 'id'], unique=False)

    op.create_table('ticket_tags',
    sa.Column('ticket_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tag', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_tags_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('ticket_id', 'tag', name=op.f('pk_ticket_tags'))
    )
    with op.batch_alter_table('ticket_tags', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_tags_tag', ['tag', 'ticket_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('ticket_tags', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_tags_tag')

    op.drop_table('ticket_tags')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_ticket')

    op.drop_table('messages')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_updated')
        batch_op.drop_index(batch_op.f('ix_tickets_team_id'))
        batch_op.drop_index('ix_tickets_status_created')
        batch_op.drop_index(batch_op.f('ix_tickets_requester_email'))
        batch_op.drop_index(batch_op.f('ix_tickets_queue_id'))
        batch_op.drop_index(batch_op.f('ix_tickets_follow_up_of_id'))
        batch_op.drop_index(batch_op.f('ix_tickets_error_code'))
        batch_op.drop_index(batch_op.f('ix_tickets_customer_id'))
        batch_op.drop_index('ix_tickets_created')
        batch_op.drop_index(batch_op.f('ix_tickets_component_id'))
        batch_op.drop_index('ix_tickets_assignee_status')

    op.drop_table('tickets')
    with op.batch_alter_table('queues', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_queues_team_id'))

    op.drop_table('queues')
    op.drop_table('ticket_forms')
