"""SLA policies and calendars are reference data: a group of their own in reference_revisions, so that intake
matches a ticket against a per-process copy of the active policies and compiled calendars

Revision ID: 0020_sla_reference_group
Revises: 0019_audit_append_function
"""
from alembic import op

revision = '0020_sla_reference_group'
down_revision = '0019_audit_append_function'
branch_labels = None
depends_on = None

GROUP = "sla"
TABLES = ("sla_policies", "sla_calendars")  # frozen here; platform/reference_cache.GROUPS names the same
FUNCTION = "tierline_new_reference_revision"  # migration 0013's trigger function
SQLITE_BUMP = ("INSERT OR REPLACE INTO reference_revisions (name, token) "
               f"VALUES ('{GROUP}', lower(hex(randomblob(16))))")


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table in TABLES:
        if postgresql:
            op.execute(f"CREATE TRIGGER trg_{table}_revision AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                       f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}('{GROUP}')")
            continue
        for when in ("INSERT", "UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER trg_{table}_revision_{when.lower()} AFTER {when} ON {table} "
                       f"BEGIN {SQLITE_BUMP}; END")


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table in TABLES:
        if postgresql:
            op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_revision ON {table}")
            continue
        for when in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_revision_{when}")
    op.execute(f"DELETE FROM reference_revisions WHERE name = '{GROUP}'")
