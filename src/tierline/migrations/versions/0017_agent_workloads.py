"""Agents' open work kept by triggers, so an assignment claim checks capacity in one statement

`agent_workloads` gets one row per user (a trigger on `users` adds the row of every new user; the ticket
triggers add one on demand), backfilled from the tickets; triggers on `tickets` keep `open_tickets` and
`weighted_load` exact. Every queue gets its round-robin cursor row, so a claim never has to create one. On
PostgreSQL the claim itself is a function, `tierline_claim_assignee`. See tickets/workloads.py and
docs/assignment.md.

Revision ID: 0017_agent_workloads
Revises: 0016_audit_hash_v2
"""
import sqlalchemy as sa
from alembic import op

revision = '0017_agent_workloads'
down_revision = '0016_audit_hash_v2'
branch_labels = None
depends_on = None

# Frozen here as of this revision (tickets.workloads.PRIORITY_WEIGHTS and tickets.state_machine.UNSOLVED say
# the same; tests/tickets/test_workloads.py holds the triggers to them).
OPEN = "('new', 'open', 'pending_customer', 'on_hold')"


def _weight(row: str) -> str:
    return f"(CASE {row}.priority WHEN 'P1' THEN 4 WHEN 'P2' THEN 3 WHEN 'P3' THEN 2 ELSE 1 END)"


def _holder(row: str) -> str:
    """The user a ticket row counts for (NULL: it counts for nobody)."""
    return f"(CASE WHEN {row}.status IN {OPEN} THEN {row}.assignee_id END)"


def _counted_weight(row: str) -> str:
    return f"(CASE WHEN {row}.status IN {OPEN} AND {row}.assignee_id IS NOT NULL THEN {_weight(row)} END)"


# An UPDATE matters only when what the ticket counts for changes: its holder, or its weight on that holder.
CHANGED = {
    "postgresql": f"({_holder('OLD')} IS DISTINCT FROM {_holder('NEW')} "
                  f"OR {_counted_weight('OLD')} IS DISTINCT FROM {_counted_weight('NEW')})",
    "sqlite": f"({_holder('OLD')} IS NOT {_holder('NEW')} "
              f"OR {_counted_weight('OLD')} IS NOT {_counted_weight('NEW')})",
}

BACKFILL = f"""
INSERT INTO agent_workloads (user_id, open_tickets, weighted_load)
SELECT u.id, coalesce(w.open_tickets, 0), coalesce(w.weighted_load, 0)
FROM users u LEFT JOIN (
    SELECT t.assignee_id, count(*) AS open_tickets, sum({_weight('t')}) AS weighted_load
    FROM tickets t WHERE t.assignee_id IS NOT NULL AND t.status IN {OPEN} GROUP BY t.assignee_id
) w ON w.assignee_id = u.id
"""
CURSORS = """
INSERT INTO queue_cursors (queue_id, last_user_id, created_at, updated_at)
SELECT q.id, NULL, q.created_at, q.created_at FROM queues q
WHERE NOT EXISTS (SELECT 1 FROM queue_cursors c WHERE c.queue_id = q.id)
"""

# -- PostgreSQL: one function per table; locks the lower user id first ------------------------------------

PG_TICKET_FUNCTION = f"""
CREATE FUNCTION tierline_ticket_workload() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_user bigint;
    new_user bigint;
    old_weight integer := 0;
    new_weight integer := 0;
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.assignee_id IS NOT NULL AND OLD.status IN {OPEN} THEN
        old_user := OLD.assignee_id;
        old_weight := {_weight('OLD')};
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.assignee_id IS NOT NULL AND NEW.status IN {OPEN} THEN
        new_user := NEW.assignee_id;
        new_weight := {_weight('NEW')};
    END IF;
    IF old_user IS NOT DISTINCT FROM new_user THEN
        IF old_user IS NOT NULL AND old_weight <> new_weight THEN
            UPDATE agent_workloads SET weighted_load = weighted_load + new_weight - old_weight
            WHERE user_id = new_user;
        END IF;
        RETURN NULL;
    END IF;
    -- Two rows change: the lower user id first, so that concurrent moves between the same two agents take
    -- their locks in the same order.
    IF old_user IS NOT NULL AND (new_user IS NULL OR old_user < new_user) THEN
        UPDATE agent_workloads SET open_tickets = open_tickets - 1, weighted_load = weighted_load - old_weight
        WHERE user_id = old_user;
        old_user := NULL;
    END IF;
    IF new_user IS NOT NULL THEN
        UPDATE agent_workloads SET open_tickets = open_tickets + 1, weighted_load = weighted_load + new_weight
        WHERE user_id = new_user;
        IF NOT FOUND THEN
            INSERT INTO agent_workloads (user_id, open_tickets, weighted_load)
            VALUES (new_user, 1, new_weight)
            ON CONFLICT (user_id) DO UPDATE SET open_tickets = agent_workloads.open_tickets + 1,
                weighted_load = agent_workloads.weighted_load + EXCLUDED.weighted_load;
        END IF;
    END IF;
    IF old_user IS NOT NULL THEN
        UPDATE agent_workloads SET open_tickets = open_tickets - 1, weighted_load = weighted_load - old_weight
        WHERE user_id = old_user;
    END IF;
    RETURN NULL;
END $$
"""
PG_TRUNCATE_FUNCTION = """
CREATE FUNCTION tierline_tickets_truncated_workload() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE agent_workloads SET open_tickets = 0, weighted_load = 0
    WHERE open_tickets <> 0 OR weighted_load <> 0;
    RETURN NULL;
END $$
"""
PG_USER_FUNCTION = """
CREATE FUNCTION tierline_user_workload() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO agent_workloads (user_id) VALUES (NEW.id) ON CONFLICT (user_id) DO NOTHING;
    RETURN NULL;
END $$
"""
# The claim (tickets/workloads.py calls it; SQLite has the same semantics as one statement there). A function,
# so that the pick runs on a snapshot taken after the cursor lock: under READ COMMITTED each statement of a
# VOLATILE function takes its own snapshot, while within one statement only the rows it locked after waiting
# are seen at their newest version (EvalPlanQual). One round trip from the client either way.
PG_CLAIM_FUNCTION = """
CREATE FUNCTION tierline_claim_assignee(p_queue_id bigint, p_strategy text, p_user_ids bigint[],
                                        p_capacities integer[], p_ranks integer[], p_now timestamptz)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    turn_after bigint;
    picked bigint;
    attempts integer := 0;
BEGIN
    -- 1. The queue's turn, locked: claims in one queue take turns from here to their COMMIT.
    SELECT last_user_id INTO turn_after FROM queue_cursors WHERE queue_id = p_queue_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN  -- a queue made without its cursor (not through tickets.queues.create)
        INSERT INTO queue_cursors (queue_id, last_user_id, created_at, updated_at)
        VALUES (p_queue_id, NULL, p_now, p_now) ON CONFLICT (queue_id) DO NOTHING;
        SELECT last_user_id INTO turn_after FROM queue_cursors WHERE queue_id = p_queue_id FOR NO KEY UPDATE;
    END IF;
    LOOP
        attempts := attempts + 1;
        -- 2. On a snapshot newer than the lock (every earlier claim of this queue committed): the first
        -- candidate in the strategy's order whose row has room, locked. A row another transaction holds is
        -- waited for and re-checked at its newest version; one that has no room left is passed over (LockRows
        -- sits under the Limit) for the next.
        SELECT w.user_id INTO picked
        FROM agent_workloads w
        JOIN unnest(p_user_ids, p_capacities, p_ranks) AS c(user_id, capacity, rank) ON c.user_id = w.user_id
        WHERE w.open_tickets < c.capacity
        ORDER BY
            CASE WHEN p_strategy = 'round_robin' AND w.user_id <= coalesce(turn_after, 0) THEN 1 ELSE 0 END,
            CASE WHEN p_strategy = 'skills' THEN c.rank ELSE 0 END,
            CASE WHEN p_strategy = 'round_robin' THEN 0 ELSE w.weighted_load END,
            w.user_id
        LIMIT 1
        FOR NO KEY UPDATE OF w;
        EXIT WHEN picked IS NOT NULL OR attempts >= 4;
        -- 3. Nobody. Exact, unless a candidate has no row yet, or someone has room on a newer snapshot (a
        -- concurrent claim took the room this one waited for while another agent's was freed): look again.
        IF EXISTS (SELECT 1 FROM unnest(p_user_ids) AS u(user_id)
                   WHERE NOT EXISTS (SELECT 1 FROM agent_workloads w WHERE w.user_id = u.user_id)) THEN
            INSERT INTO agent_workloads (user_id) SELECT user_id FROM unnest(p_user_ids) AS u(user_id)
            ON CONFLICT (user_id) DO NOTHING;
        ELSIF NOT EXISTS (SELECT 1 FROM agent_workloads w
                          JOIN unnest(p_user_ids, p_capacities) AS c(user_id, capacity)
                            ON c.user_id = w.user_id
                          WHERE w.open_tickets < c.capacity) THEN
            EXIT;
        END IF;
    END LOOP;
    -- 4. The turn moves to the pick; it stays where it was when nobody fits.
    IF picked IS NOT NULL THEN
        UPDATE queue_cursors SET last_user_id = picked, updated_at = p_now WHERE queue_id = p_queue_id;
    END IF;
    RETURN picked;
END $$
"""
PG_TRIGGERS = (
    ("CREATE TRIGGER trg_tickets_workload_insert AFTER INSERT ON tickets FOR EACH ROW "
     f"WHEN (NEW.assignee_id IS NOT NULL AND NEW.status IN {OPEN}) "
     "EXECUTE FUNCTION tierline_ticket_workload()"),
    ("CREATE TRIGGER trg_tickets_workload_update AFTER UPDATE OF assignee_id, status, priority ON tickets "
     f"FOR EACH ROW WHEN {CHANGED['postgresql']} EXECUTE FUNCTION tierline_ticket_workload()"),
    ("CREATE TRIGGER trg_tickets_workload_delete AFTER DELETE ON tickets FOR EACH ROW "
     f"WHEN (OLD.assignee_id IS NOT NULL AND OLD.status IN {OPEN}) "
     "EXECUTE FUNCTION tierline_ticket_workload()"),
    ("CREATE TRIGGER trg_tickets_workload_truncate AFTER TRUNCATE ON tickets FOR EACH STATEMENT "
     "EXECUTE FUNCTION tierline_tickets_truncated_workload()"),
    ("CREATE TRIGGER trg_users_workload AFTER INSERT ON users FOR EACH ROW "
     "EXECUTE FUNCTION tierline_user_workload()"),
)
PG_DROP = (
    "DROP TRIGGER IF EXISTS trg_tickets_workload_insert ON tickets",
    "DROP TRIGGER IF EXISTS trg_tickets_workload_update ON tickets",
    "DROP TRIGGER IF EXISTS trg_tickets_workload_delete ON tickets",
    "DROP TRIGGER IF EXISTS trg_tickets_workload_truncate ON tickets",
    "DROP TRIGGER IF EXISTS trg_users_workload ON users",
    "DROP FUNCTION IF EXISTS tierline_ticket_workload()",
    "DROP FUNCTION IF EXISTS tierline_tickets_truncated_workload()",
    "DROP FUNCTION IF EXISTS tierline_user_workload()",
    ("DROP FUNCTION IF EXISTS "
     "tierline_claim_assignee(bigint, text, bigint[], integer[], integer[], timestamptz)"),
)

# -- SQLite: the same arithmetic as statements (writers are serialised, so lock order does not arise) ------

_ADD = ("INSERT INTO agent_workloads (user_id, open_tickets, weighted_load) "
        f"SELECT NEW.assignee_id, 1, {_weight('NEW')} "
        f"WHERE NEW.assignee_id IS NOT NULL AND NEW.status IN {OPEN} "
        "ON CONFLICT (user_id) DO UPDATE SET open_tickets = open_tickets + 1, "
        "weighted_load = weighted_load + excluded.weighted_load;")
_REMOVE = (f"UPDATE agent_workloads SET open_tickets = open_tickets - 1, weighted_load = weighted_load - "
           f"{_weight('OLD')} WHERE user_id = OLD.assignee_id AND OLD.status IN {OPEN};")
SQLITE_TRIGGERS = (
    ("CREATE TRIGGER trg_tickets_workload_insert AFTER INSERT ON tickets "
     f"WHEN NEW.assignee_id IS NOT NULL AND NEW.status IN {OPEN} BEGIN {_ADD} END"),
    ("CREATE TRIGGER trg_tickets_workload_update AFTER UPDATE OF assignee_id, status, priority ON tickets "
     f"WHEN {CHANGED['sqlite']} BEGIN {_REMOVE} {_ADD} END"),
    ("CREATE TRIGGER trg_tickets_workload_delete AFTER DELETE ON tickets "
     f"WHEN OLD.assignee_id IS NOT NULL AND OLD.status IN {OPEN} BEGIN {_REMOVE} END"),
    ("CREATE TRIGGER trg_users_workload AFTER INSERT ON users "
     "BEGIN INSERT OR IGNORE INTO agent_workloads (user_id) VALUES (NEW.id); END"),
)
SQLITE_DROP = tuple(f"DROP TRIGGER IF EXISTS {name}" for name in (
    "trg_tickets_workload_insert", "trg_tickets_workload_update", "trg_tickets_workload_delete",
    "trg_users_workload"))


def upgrade() -> None:
    op.create_table(
        'agent_workloads',
        sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False,
                  nullable=False),
        sa.Column('open_tickets', sa.Integer(), server_default='0', nullable=False),
        sa.Column('weighted_load', sa.Integer(), server_default='0', nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_agent_workloads_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_agent_workloads')),
    )
    # Triggers first: creating them locks tickets and users against writers until this migration commits, so
    # no change can fall between the backfill and the first trigger run.
    if op.get_bind().dialect.name == "postgresql":
        for statement in (PG_TICKET_FUNCTION, PG_TRUNCATE_FUNCTION, PG_USER_FUNCTION, PG_CLAIM_FUNCTION,
                          *PG_TRIGGERS):
            op.execute(statement)
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)
    op.execute(BACKFILL)
    op.execute(CURSORS)


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for statement in PG_DROP if postgresql else SQLITE_DROP:
        op.execute(statement)
    op.drop_table('agent_workloads')
    # The cursors stay: before this revision a queue's cursor was made on its first assignment, and a row made
    # earlier is the same row.
