"""A problem's figures are taken from its links when it is read: the columns that stored them go, and with them
the PostgreSQL function that locked the problem's row to move them (linking a ticket is one INSERT now)

Revision ID: 0025_problem_figures_at_read
Revises: 0024_problem_link_function
"""
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

import tierline.platform.db

revision = '0025_problem_figures_at_read'
down_revision = '0024_problem_link_function'
branch_labels = None
depends_on = None

# The figures' columns as 0011 made them, and the list's indexes on them.
FIGURE_COLUMNS = (
    ('ticket_count', sa.Integer(), False),
    ('customer_count', sa.Integer(), False),
    ('arr_exposure_cents', sa.BigInteger(), False),
    ('impact_score', sa.Integer(), True),
    ('first_seen', tierline.platform.db.UTCDateTime(), False),
    ('last_seen', tierline.platform.db.UTCDateTime(), False),
)
FIGURE_INDEXES = (('ix_problems_arr_exposure', 'arr_exposure_cents'), ('ix_problems_customer_count', 'customer_count'),
                  ('ix_problems_ticket_count', 'ticket_count'), ('ix_problems_last_seen', 'last_seen'))
COUNTS_CHECK = 'ticket_count >= 0 AND customer_count >= 0 AND arr_exposure_cents >= 0'
# Tables whose rows name a problem: SQLite rebuilds `problems` to drop or tighten a column (its ALTER TABLE
# cannot drop a column a CHECK names), and dropping the old copy while rows still name it breaks their foreign
# keys, which cannot be switched off inside the migration's transaction. Their rows wait aside meanwhile.
CHILDREN = ('problem_tickets', 'problem_signatures')

# The figures as figures.py derives them, for going back down (written out: a migration outlives the code).
_OF_LINKS = "FROM problem_tickets l JOIN tickets t ON t.id = l.ticket_id WHERE l.problem_id = problems.id"
BACKFILL = f"""
UPDATE problems SET
    ticket_count = (SELECT count(*) {_OF_LINKS}),
    customer_count = (SELECT count(DISTINCT l.customer_id) {_OF_LINKS}),
    arr_exposure_cents = coalesce((SELECT sum(c.arr_cents) FROM customers c WHERE c.id IN (
        SELECT l.customer_id {_OF_LINKS})), 0),
    impact_score = (SELECT max(t.impact_score) {_OF_LINKS}),
    first_seen = coalesce((SELECT min(t.created_at) {_OF_LINKS}), created_at),
    last_seen = coalesce((SELECT max(t.created_at) {_OF_LINKS}), created_at)
"""


def _sqlite() -> bool:
    return op.get_bind().dialect.name == 'sqlite'


@contextmanager
def _children_aside() -> Iterator[None]:
    """On SQLite, the rows naming a problem held in temporary copies while `problems` is rebuilt."""
    if not _sqlite():
        yield
        return
    for table in CHILDREN:
        op.execute(f'CREATE TEMP TABLE aside_{table} AS SELECT * FROM {table}')
        op.execute(f'DELETE FROM {table}')
    yield
    for table in CHILDREN:
        op.execute(f'INSERT INTO {table} SELECT * FROM temp.aside_{table}')
        op.execute(f'DROP TABLE temp.aside_{table}')


def _revision_0024():  # noqa: ANN202
    """0024's module as Alembic loaded it, for its function's text and its DROP."""
    return op.get_context().script.get_revision('0024_problem_link_function').module


def upgrade() -> None:
    if not _sqlite():
        op.execute(_revision_0024().PG_DROP)
    op.create_index('ix_problem_tickets_problem_customer', 'problem_tickets', ['problem_id', 'customer_id'])
    for name, _ in FIGURE_INDEXES:
        op.drop_index(name, table_name='problems')
    with _children_aside(), op.batch_alter_table('problems') as batch:
        batch.drop_constraint(op.f('ck_problems_counts_non_negative'), type_='check')
        for name, _, _ in FIGURE_COLUMNS:
            batch.drop_column(name)


def downgrade() -> None:
    with op.batch_alter_table('problems') as batch:
        for name, type_, _ in FIGURE_COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=True))
    op.execute(BACKFILL)
    with _children_aside(), op.batch_alter_table('problems') as batch:
        for name, type_, nullable in FIGURE_COLUMNS:
            if not nullable:
                batch.alter_column(name, existing_type=type_, nullable=False)
        batch.create_check_constraint(op.f('ck_problems_counts_non_negative'), COUNTS_CHECK)
    for name, column in FIGURE_INDEXES:
        op.create_index(name, 'problems', [column, 'id'])
    op.drop_index('ix_problem_tickets_problem_customer', table_name='problem_tickets')
    if not _sqlite():
        op.execute(_revision_0024().PG_LINK_FUNCTION)
