"""Linking a ticket to its signature's live problem is one PostgreSQL function: the problem's row is locked,
the link inserted and the figures moved by one statement, so the lock every ticket of an outage needs is
held for one round trip fewer than three, with no Python in between

Revision ID: 0024_problem_link_function
Revises: 0023_customer_editable_fields
"""
from alembic import op

revision = '0024_problem_link_function'
down_revision = '0023_customer_editable_fields'
branch_labels = None
depends_on = None

# problems/recurrence.py calls it (SQLite runs the same steps as statements there, its writers serialised).
# Each statement of a VOLATILE function takes its own snapshot under READ COMMITTED, so the customer check
# after the lock sees every link committed by the intakes that held the lock before. NULL when the problem is
# gone or closed; `link_id` NULL when the ticket was linked already (then nothing changes).
PG_LINK_FUNCTION = """
CREATE FUNCTION tierline_problem_link(p_problem_id bigint, p_ticket_id bigint, p_customer_id bigint,
                                      p_created_at timestamptz, p_impact_score integer, p_arr_cents bigint,
                                      p_now timestamptz)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    before problems;
    after problems;
    new_link bigint;
    reopened boolean;
    new_customer boolean;
BEGIN
    SELECT * INTO before FROM problems WHERE id = p_problem_id FOR UPDATE;
    IF NOT FOUND OR before.status = 'closed' THEN
        RETURN NULL;
    END IF;
    INSERT INTO problem_tickets (problem_id, ticket_id, customer_id, created_at)
    VALUES (p_problem_id, p_ticket_id, p_customer_id, p_now)
    ON CONFLICT (ticket_id) DO NOTHING RETURNING id INTO new_link;
    IF new_link IS NULL THEN
        RETURN json_build_object('link_id', NULL, 'reopened', false, 'before', row_to_json(before),
                                 'after', row_to_json(before));
    END IF;
    -- Reopened only by a ticket that came in after the fix (an older one recorded again is no evidence).
    reopened := before.status = 'fixed' AND (before.fixed_at IS NULL OR p_created_at >= before.fixed_at);
    new_customer := p_customer_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM problem_tickets
        WHERE problem_id = p_problem_id AND customer_id = p_customer_id AND id <> new_link);
    UPDATE problems SET
        ticket_count = ticket_count + 1,
        first_seen = least(first_seen, p_created_at),
        last_seen = greatest(last_seen, p_created_at),
        updated_at = p_now,
        impact_score = CASE WHEN p_impact_score IS NULL THEN impact_score
                            ELSE greatest(coalesce(impact_score, 0), p_impact_score) END,
        status = CASE WHEN reopened THEN 'open' ELSE status END,
        regression = regression OR reopened,
        fixed_at = CASE WHEN reopened THEN NULL ELSE fixed_at END,
        customer_count = customer_count + CASE WHEN new_customer THEN 1 ELSE 0 END,
        arr_exposure_cents = arr_exposure_cents + CASE WHEN new_customer THEN p_arr_cents ELSE 0 END
    WHERE id = p_problem_id
    RETURNING * INTO after;
    RETURN json_build_object('link_id', new_link, 'reopened', reopened, 'before', row_to_json(before),
                             'after', row_to_json(after));
END $$
"""
PG_DROP = ("DROP FUNCTION IF EXISTS tierline_problem_link(bigint, bigint, bigint, timestamptz, integer, bigint, "
           "timestamptz)")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_LINK_FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_DROP)
