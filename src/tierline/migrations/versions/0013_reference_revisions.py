"""Reference revisions: triggers give each group of reference tables a fresh token on every change
(platform/reference_cache.py); the rule set's own revision table gives way to them.

Revision ID: 0013_reference_revisions
Revises: 0012_classifier
"""
import sqlalchemy as sa
from alembic import op

import tierline.platform.db

revision = '0013_reference_revisions'
down_revision = '0012_classifier'
branch_labels = None
depends_on = None

# Frozen here as of this revision (platform/reference_cache.GROUPS names the same; a test checks they agree).
GROUPS = {
    "customers": ("customers", "contacts", "customer_email_domains"),
    "people": ("users", "agent_profiles", "teams", "team_memberships"),
    "components": ("components",),
    "queues": ("queues",),
    "triage_rules": ("triage_rules",),
    "triage_models": ("triage_models",),
}
USER_COLUMNS = ("roles", "active")  # of users, only these matter to a cached copy
FUNCTION = "tierline_new_reference_revision"


def _pairs():
    for group, tables in GROUPS.items():
        for table in tables:
            yield group, table


def _sqlite_upgrade() -> None:
    bump = ("INSERT OR REPLACE INTO reference_revisions (name, token) "
            "VALUES ('{group}', lower(hex(randomblob(16))))")
    for group, table in _pairs():
        for when in ("INSERT", "UPDATE", "DELETE"):
            on = f"UPDATE OF {', '.join(USER_COLUMNS)}" if (table, when) == ("users", "UPDATE") else when
            op.execute(f"CREATE TRIGGER trg_{table}_revision_{when.lower()} AFTER {on} ON {table} "
                       f"BEGIN {bump.format(group=group)}; END")


def _postgresql_upgrade() -> None:
    op.execute(f"""
        CREATE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO reference_revisions (name, token)
            VALUES (TG_ARGV[0], md5(random()::text || clock_timestamp()::text || txid_current()::text))
            ON CONFLICT (name) DO UPDATE SET token = EXCLUDED.token;
            RETURN NULL;
        END $$""")
    for group, table in _pairs():
        events = "INSERT OR DELETE OR TRUNCATE" if table == "users" else "INSERT OR UPDATE OR DELETE OR TRUNCATE"
        op.execute(f"CREATE TRIGGER trg_{table}_revision AFTER {events} ON {table} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}('{group}')")
        if table == "users":
            op.execute(f"CREATE TRIGGER trg_{table}_revision_update AFTER UPDATE OF {', '.join(USER_COLUMNS)} "
                       f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}('{group}')")


def upgrade() -> None:
    op.create_table(
        'reference_revisions',
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('token', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_reference_revisions')),
    )
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_upgrade()
    else:
        _sqlite_upgrade()
    op.drop_table('triage_rule_revision')


def downgrade() -> None:
    op.create_table(
        'triage_rule_revision',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('token', sa.String(length=32), nullable=False),
        sa.Column('created_at', tierline.platform.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', tierline.platform.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_triage_rule_revision')),
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    for _, table in _pairs():
        if postgresql:
            op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_revision ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_revision_update ON {table}")
        else:
            for when in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_revision_{when}")
    if postgresql:
        op.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")
    op.drop_table('reference_revisions')
