"""Audit events carry the version of their hash definition; v2 links a body hash precomputed outside the lock

Every event written so far was hashed by version 1, so the new column's default, 1, is what they hold (on
both databases adding a column with a constant default rewrites no rows). The default stays: a row that does
not say is a version-1 row, which is what any writer predating the column writes. The chain head's row is
created when absent (a trail that was still empty at 0014), since writers now queue on that row's lock.

Revision ID: 0016_audit_hash_v2
Revises: 0015_sla_clock_sweep
"""
import sqlalchemy as sa
from alembic import op

import tierline.platform.db
from tierline.platform import clock

revision = '0016_audit_hash_v2'
down_revision = '0015_sla_clock_sweep'
branch_labels = None
depends_on = None

GENESIS_HASH = "0" * 64


def upgrade() -> None:
    op.add_column('audit_events', sa.Column('hash_version', sa.SmallInteger(), server_default=sa.text('1'),
                                            nullable=False))
    # The head of a non-empty trail is its last event (as 0014 wrote it); of an empty one, the genesis.
    op.execute("INSERT INTO audit_chain_head (id, seq, hash, updated_at) "
               "SELECT 1, seq, hash, occurred_at FROM audit_events "
               "WHERE NOT EXISTS (SELECT 1 FROM audit_chain_head WHERE id = 1) ORDER BY seq DESC LIMIT 1")
    op.execute(sa.text("INSERT INTO audit_chain_head (id, seq, hash, updated_at) SELECT 1, 0, :genesis, :now "
                       "WHERE NOT EXISTS (SELECT 1 FROM audit_chain_head WHERE id = 1)")
               .bindparams(sa.bindparam("genesis", GENESIS_HASH),
                           sa.bindparam("now", clock.now(), type_=tierline.platform.db.UTCDateTime())))


def downgrade() -> None:
    # Without the column, events hashed by version 2 could never be verified again: refuse rather than lose that.
    if op.get_bind().execute(sa.text("SELECT 1 FROM audit_events WHERE hash_version <> 1 LIMIT 1")).first():
        raise RuntimeError("the audit trail holds events hashed by version 2; downgrading past 0016 would leave "
                           "them unverifiable")
    with op.batch_alter_table('audit_events') as batch_op:
        batch_op.drop_column('hash_version')
