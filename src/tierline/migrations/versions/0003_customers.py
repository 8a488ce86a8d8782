"""customers: customers, their email domains and contacts

Revision ID: 0003_customers
Revises: 0002_people
Create Date: 2026-11-23 13:44:34
"""
import sqlalchemy as sa
from alembic import op

import tierline.platform.db

revision = '0003_customers'
down_revision = '0002_people'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('customers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('external_id', sa.String(length=100), nullable=False),
    sa.Column('plan', sa.String(length=20), nullable=False),
    sa.Column('arr_cents', sa.BigInteger(), nullable=False),
    sa.Column('region', sa.String(length=64), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('licensed_users', sa.Integer(), nullable=False),
    sa.Column('created_at', tierline.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', tierline.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("plan IN ('free', 'pro', 'business', 'enterprise')", name=op.f('ck_customers_plan')),
    sa.CheckConstraint('arr_cents >= 0', name=op.f('ck_customers_arr_non_negative')),
    sa.CheckConstraint('licensed_users >= 0', name=op.f('ck_customers_licensed_users_non_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customers')),
    sa.UniqueConstraint('external_id', name=op.f('uq_customers_external_id'))
    )
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customers_name'), ['name'], unique=False)
        batch_op.create_index(batch_op.f('ix_customers_plan'), ['plan'], unique=False)

    op.create_table('customer_email_domains',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('domain', sa.String(length=253), nullable=False),
    sa.Column('created_at', tierline.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_email_domains_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_email_domains')),
    sa.UniqueConstraint('domain', name=op.f('uq_customer_email_domains_domain'))
    )
    with op.batch_alter_table('customer_email_domains', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_email_domains_customer_id'), ['customer_id'], unique=False)

    op.create_table('contacts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', tierline.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', tierline.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_contacts_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contacts')),
    sa.UniqueConstraint('email', name=op.f('uq_contacts_email'))
    )
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contacts_customer_id'), ['customer_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contacts_customer_id'))

    op.drop_table('contacts')
    with op.batch_alter_table('customer_email_domains', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_email_domains_customer_id'))

    op.drop_table('customer_email_domains')
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customers_plan'))
        batch_op.drop_index(batch_op.f('ix_customers_name'))

    op.drop_table('customers')
