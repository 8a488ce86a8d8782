"""The audit chain's append is one PostgreSQL function: the head is locked, every event linked and inserted and
the head moved by one statement, so no round trip and no Python run while the head's lock is held

Revision ID: 0019_audit_append_function
Revises: 0018_intake_write_path
"""
from alembic import op

revision = '0019_audit_append_function'
down_revision = '0018_intake_write_path'
branch_labels = None
depends_on = None

# platform/audit/chain.py calls it; hashing.link_hash is the same link, computed in Python on SQLite and by
# `tierline audit verify`. The events arrive as a JSON array in chain order, each with its body hash
# (computed before the write, outside any lock). The head row is created from the last event (or the genesis)
# when it is missing, ON CONFLICT DO NOTHING, so that concurrent writers still queue on one row.
PG_APPEND_FUNCTION = """
CREATE FUNCTION tierline_audit_append(p_events json, p_at timestamptz, OUT head_seq bigint, OUT head_hash text)
LANGUAGE plpgsql AS $$
DECLARE
    e record;
    digest text;
BEGIN
    SELECT seq, hash INTO head_seq, head_hash FROM audit_chain_head WHERE id = 1 FOR UPDATE;
    IF NOT FOUND THEN
        SELECT seq, hash INTO head_seq, head_hash FROM audit_events ORDER BY seq DESC LIMIT 1;
        IF NOT FOUND THEN
            head_seq := 0;
            head_hash := repeat('0', 64);
        END IF;
        INSERT INTO audit_chain_head (id, seq, hash, updated_at) VALUES (1, head_seq, head_hash, p_at)
        ON CONFLICT (id) DO NOTHING;
        SELECT seq, hash INTO head_seq, head_hash FROM audit_chain_head WHERE id = 1 FOR UPDATE;
    END IF;
    FOR e IN
        SELECT * FROM ROWS FROM (json_to_recordset(p_events) AS (
            body_hash text, occurred_at timestamptz, actor_id bigint, actor_label text, action text,
            entity_type text, entity_id text, changes jsonb, request_id text, note text, hash_version smallint))
        WITH ORDINALITY AS r(body_hash, occurred_at, actor_id, actor_label, action, entity_type, entity_id,
                             changes, request_id, note, hash_version, position)
        ORDER BY position
    LOOP
        head_seq := head_seq + 1;
        digest := encode(sha256(convert_to(
            'tierline-audit/2 ' || head_seq::text || ' ' || head_hash || ' ' || e.body_hash, 'UTF8')), 'hex');
        INSERT INTO audit_events (seq, occurred_at, actor_id, actor_label, action, entity_type, entity_id, changes,
                                  request_id, prev_hash, hash, note, hash_version)
        VALUES (head_seq, e.occurred_at, e.actor_id, e.actor_label, e.action, e.entity_type, e.entity_id,
                e.changes, e.request_id, head_hash, digest, e.note, e.hash_version);
        head_hash := digest;
    END LOOP;
    UPDATE audit_chain_head SET seq = head_seq, hash = head_hash, updated_at = p_at WHERE id = 1;
END $$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_APPEND_FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS tierline_audit_append(json, timestamptz)")
