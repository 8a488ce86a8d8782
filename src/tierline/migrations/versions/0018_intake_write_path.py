"""The intake write path: contacts no longer renew the customers' reference token on insert; children of
tickets check their foreign key at commit; a signature's tickets are indexed by customer

Revision ID: 0018_intake_write_path
Revises: 0017_agent_workloads
"""
from alembic import op

revision = '0018_intake_write_path'
down_revision = '0017_agent_workloads'
branch_labels = None
depends_on = None

FUNCTION = "tierline_new_reference_revision"  # migration 0013's trigger function
# The children intake inserts before their ticket (tickets.models.ticket_fk).
CHILD_FKS = (("ticket_tags", "fk_ticket_tags_ticket_id_tickets"), ("sla_clocks", "fk_sla_clocks_ticket_id_tickets"),
             ("problem_tickets", "fk_problem_tickets_ticket_id_tickets"))


def _contacts_trigger(postgresql: bool, *, on_insert: bool) -> None:
    if postgresql:
        events = "INSERT OR UPDATE OR DELETE OR TRUNCATE" if on_insert else "UPDATE OR DELETE OR TRUNCATE"
        op.execute("DROP TRIGGER IF EXISTS trg_contacts_revision ON contacts")
        op.execute(f"CREATE TRIGGER trg_contacts_revision AFTER {events} ON contacts "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}('customers')")
    elif on_insert:
        op.execute("CREATE TRIGGER trg_contacts_revision_insert AFTER INSERT ON contacts BEGIN "
                   "INSERT OR REPLACE INTO reference_revisions (name, token) "
                   "VALUES ('customers', lower(hex(randomblob(16)))); END")
    else:
        op.execute("DROP TRIGGER IF EXISTS trg_contacts_revision_insert")


def _child_fks(postgresql: bool, *, deferred: bool) -> None:
    for table, name in CHILD_FKS:
        if postgresql:
            when = "DEFERRABLE INITIALLY DEFERRED" if deferred else "NOT DEFERRABLE"
            op.execute(f"ALTER TABLE {table} ALTER CONSTRAINT {name} {when}")
            continue
        # SQLite cannot alter a constraint: the table is rebuilt with it (it has no triggers to lose).
        with op.batch_alter_table(table, recreate="always") as batch:
            batch.drop_constraint(name, type_="foreignkey")
            batch.create_foreign_key(name, "tickets", ["ticket_id"], ["id"],
                                     ondelete=None if table == "problem_tickets" else "CASCADE",
                                     deferrable=True if deferred else None,
                                     initially="DEFERRED" if deferred else None)


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    _contacts_trigger(postgresql, on_insert=False)
    _child_fks(postgresql, deferred=True)
    # Recurrence skips from one customer to the next within a signature (tickets.reads.signature_window_reaches).
    op.create_index("ix_tickets_signature_customer", "tickets", ["signature", "customer_id"])
    op.drop_index("ix_tickets_signature", table_name="tickets")


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.create_index("ix_tickets_signature", "tickets", ["signature"])
    op.drop_index("ix_tickets_signature_customer", table_name="tickets")
    _child_fks(postgresql, deferred=False)
    _contacts_trigger(postgresql, on_insert=True)
