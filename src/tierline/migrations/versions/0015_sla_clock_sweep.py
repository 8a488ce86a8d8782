"""SLA clocks are swept by their warning_at and due_at instants; no timer job rows per clock

Workers find due clocks through two partial indexes of the active clocks (one by due_at, which replaces the
(status, due_at) index, one by warning_at for clocks not yet warned). A clock whose warning or breach failed
is held back by `sweep_attempts` and `sweep_retry_at`. The `sla.warning` and `sla.breach` job rows go: the
clocks already hold their instants, so a pending timer becomes the sweep's to find, and a clock whose breach
job had failed for good is breached (at its due instant) by the first sweep.

Revision ID: 0015_sla_clock_sweep
Revises: 0014_audit_chain_head
"""
import sqlalchemy as sa
from alembic import op

import tierline.platform.db
from tierline.platform import clock

revision = '0015_sla_clock_sweep'
down_revision = '0014_audit_chain_head'
branch_labels = None
depends_on = None

ACTIVE = sa.text("status = 'active'")
NOT_WARNED = sa.text("status = 'active' AND warned_at IS NULL")
TIMER_KINDS = ('sla.warning', 'sla.breach')


def upgrade() -> None:
    op.add_column('sla_clocks', sa.Column('sweep_attempts', sa.Integer(), server_default='0', nullable=False))
    op.add_column('sla_clocks', sa.Column('sweep_retry_at', tierline.platform.db.UTCDateTime(), nullable=True))
    op.drop_index('ix_sla_clocks_due', table_name='sla_clocks')
    op.create_index('ix_sla_clocks_due_active', 'sla_clocks', ['due_at', 'id'], unique=False,
                    sqlite_where=ACTIVE, postgresql_where=ACTIVE)
    op.create_index('ix_sla_clocks_warning_due', 'sla_clocks', ['warning_at', 'id'], unique=False,
                    sqlite_where=NOT_WARNED, postgresql_where=NOT_WARNED)
    jobs = sa.table('jobs', sa.column('kind', sa.String))
    op.execute(jobs.delete().where(jobs.c.kind.in_(TIMER_KINDS)))


def downgrade() -> None:
    """Back to timer jobs: each running clock gets its breach timer, and its warning timer while it has one."""
    op.drop_index('ix_sla_clocks_warning_due', table_name='sla_clocks',
                  sqlite_where=NOT_WARNED, postgresql_where=NOT_WARNED)
    op.drop_index('ix_sla_clocks_due_active', table_name='sla_clocks', sqlite_where=ACTIVE, postgresql_where=ACTIVE)
    op.create_index('ix_sla_clocks_due', 'sla_clocks', ['status', 'due_at'], unique=False)
    with op.batch_alter_table('sla_clocks', schema=None) as batch_op:
        batch_op.drop_column('sweep_retry_at')
        batch_op.drop_column('sweep_attempts')

    clocks = sa.table('sla_clocks', sa.column('id', sa.BigInteger), sa.column('cycle', sa.Integer),
                      sa.column('status', sa.String), sa.column('running_since', tierline.platform.db.UTCDateTime()),
                      sa.column('completed_at', tierline.platform.db.UTCDateTime()),
                      sa.column('due_at', tierline.platform.db.UTCDateTime()),
                      sa.column('warning_at', tierline.platform.db.UTCDateTime()),
                      sa.column('warned_at', tierline.platform.db.UTCDateTime()))
    jobs = sa.table('jobs', sa.column('kind', sa.String), sa.column('payload', tierline.platform.db.JSONType()),
                    sa.column('due_at', tierline.platform.db.UTCDateTime()), sa.column('status', sa.String),
                    sa.column('attempts', sa.Integer), sa.column('max_attempts', sa.Integer),
                    sa.column('dedupe_key', sa.String), sa.column('created_at', tierline.platform.db.UTCDateTime()))
    running = op.get_bind().execute(
        sa.select(clocks).where(clocks.c.status == 'active', clocks.c.running_since.is_not(None),
                                clocks.c.completed_at.is_(None), clocks.c.due_at.is_not(None))).all()
    now = clock.now()
    rows = []
    for clk in running:
        timers = [('sla.breach', clk.due_at)]
        if clk.warning_at is not None and clk.warned_at is None:
            timers.append(('sla.warning', clk.warning_at))
        rows += [{'kind': kind, 'payload': {'clock_id': clk.id, 'cycle': clk.cycle}, 'due_at': due,
                  'status': 'pending', 'attempts': 0, 'max_attempts': 5, 'dedupe_key': f'{kind}:{clk.id}',
                  'created_at': now} for kind, due in timers]
    if rows:
        op.bulk_insert(jobs, rows)
