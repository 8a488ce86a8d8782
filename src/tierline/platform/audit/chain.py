"""Appending prepared events to the chain: the only code that reads the chain head for writing or moves it.

Appends are serialised, and only this short step is: by the head row's lock on PostgreSQL (`SELECT ... FOR
UPDATE`, released by the COMMIT), by the database write lock on SQLite (taken by BEGIN IMMEDIATE). Inside
the lock there is nothing left to compute but one short SHA-256 per event (hashing.py's link) and the
statements:
- PostgreSQL, 2 statements: lock and read the head; then one statement that inserts every event and moves the
  head (a data-modifying CTE, the events passed as one JSON array, so the statement's text is the same for
  any number of events: parsed once per process, prepared once per connection).
- SQLite, 3 statements: read the head, insert every event (one multi-row VALUES, another per 500 events
  more), move the head (an upsert, so an emptied table needs nothing more).
Only when the head row is missing (a table emptied by hand or by tests; migration 0016 creates it) does
PostgreSQL read the last event and create the row first, `ON CONFLICT DO NOTHING`, so that concurrent
writers still end up queued on one row. `seq` is UNIQUE, so even a writer that bypassed the lock could not
fork the chain: its commit would fail instead.

The statements are textual SQL, built once: SQLAlchemy does not cache a multi-row VALUES, which built with
Core would be compiled again on every append, inside the lock. The events arrive as the texts `prepare` wrote
outside the lock (`changes` as json.dumps wrote it, what the JSON column type would write), so nothing is
serialised in here either.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Text, bindparam, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert

from tierline.platform import clock
from tierline.platform.audit.hashing import CURRENT_HASH_VERSION, link_hash
from tierline.platform.audit.models import GENESIS_HASH, HEAD_ROW, AuditChainHead, AuditEvent
from tierline.platform.audit.prepared import PreparedEvent

_EVENTS = AuditEvent.__table__
_HEAD = AuditChainHead.__table__
_COLUMNS = ("seq", "occurred_at", "actor_id", "actor_label", "action", "entity_type", "entity_id", "changes",
            "request_id", "prev_hash", "hash", "note", "hash_version")

# FOR UPDATE is not rendered on SQLite, which has no row locks; there the transaction already holds the
# database's write lock.
_LOCK_HEAD = select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.id == HEAD_ROW).with_for_update()
_LAST_EVENT = select(_EVENTS.c.seq, _EVENTS.c.hash).order_by(_EVENTS.c.seq.desc()).limit(1)
_HEAD_PARAMS = (bindparam("head_seq", type_=_HEAD.c.seq.type), bindparam("head_hash", type_=_HEAD.c.hash.type),
                bindparam("head_at", type_=_HEAD.c.updated_at.type))

# Every event and the head, in one statement of one text whatever the number of events. The events come as one
# JSON array of objects: psycopg sends it as it is, where arrays of text (unnest) would be escaped character by
# character in Python, inside the lock; the server parses it in C. A data-modifying CTE runs to completion
# whether or not anything reads it.
_PG_APPEND = text(
    f"WITH appended AS (INSERT INTO audit_events ({', '.join(_COLUMNS)}) SELECT {', '.join(_COLUMNS)} "
    "FROM json_to_recordset(CAST(:events AS JSON)) AS e(seq BIGINT, occurred_at TIMESTAMPTZ, actor_id BIGINT, "
    "actor_label TEXT, action TEXT, entity_type TEXT, entity_id TEXT, changes JSONB, request_id TEXT, "
    "prev_hash TEXT, hash TEXT, note TEXT, hash_version SMALLINT) ORDER BY seq) "
    f"UPDATE audit_chain_head SET seq = :head_seq, hash = :head_hash, updated_at = :head_at WHERE id = {HEAD_ROW}"
).bindparams(bindparam("events", type_=Text()), *_HEAD_PARAMS)

_SQLITE_UPSERT_HEAD = text(
    f"INSERT INTO audit_chain_head (id, seq, hash, updated_at) VALUES ({HEAD_ROW}, :head_seq, :head_hash, "
    ":head_at) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, "
    "updated_at = excluded.updated_at"
).bindparams(*_HEAD_PARAMS)
_SQLITE_CHUNK = 500  # rows per INSERT: 13 parameters a row stay far below SQLite's limit on parameters
_SQLITE_NAMES = [tuple(f"{c}_{i}" for c in _COLUMNS) for i in range(_SQLITE_CHUNK)]
_SQLITE_INSERTS: dict[int, Any] = {}


def _sqlite_insert(n: int) -> Any:
    """INSERT of `n` events, its parameters named per row and column; kept for the sizes one transaction
    records as a rule."""
    stmt = _SQLITE_INSERTS.get(n)
    if stmt is None:
        names = _SQLITE_NAMES[:n]
        values = ", ".join("(" + ", ".join(f":{name}" for name in row) + ")" for row in names)
        stmt = text(f"INSERT INTO audit_events ({', '.join(_COLUMNS)}) VALUES {values}").bindparams(*(
            bindparam(name, type_=Text() if c == "changes" else _EVENTS.c[c].type)
            for row in names for c, name in zip(_COLUMNS, row)))
        if n <= 64:
            _SQLITE_INSERTS[n] = stmt
    return stmt


def append(connection: Connection, events: Sequence[PreparedEvent]) -> tuple[int, str] | None:
    """Link `events`, in order, to the end of the chain and insert them, in `connection`'s transaction (its
    COMMIT releases the lock taken here, so call this last). Returns the new head, (seq, hash); None when
    there is nothing to append. Every event must be filled."""
    if not events:
        return None
    unfilled = [ev for ev in events if ev.body_hash is None]
    if unfilled:
        raise ValueError(f"audit events with holes not filled: {unfilled}")
    postgres = connection.dialect.name == "postgresql"
    head = connection.execute(_LOCK_HEAD).first()
    if head is None:
        head = _seed_head(connection, postgres)
    seq, prev = head
    new_head: dict[str, Any] = {}
    if postgres:
        rows = []
        for ev in events:
            seq += 1
            digest = link_hash(seq, prev, ev.body_hash)
            rows.append(f'{{"seq":{seq},"prev_hash":"{prev}","hash":"{digest}",{ev.row_json}}}')
            prev = digest
        new_head.update(head_seq=seq, head_hash=prev, head_at=clock.now())
        connection.execute(_PG_APPEND, {"events": f"[{','.join(rows)}]", **new_head})
        return seq, prev
    params: dict[str, Any] = {}
    for i, ev in enumerate(events):
        seq += 1
        digest = link_hash(seq, prev, ev.body_hash)
        params.update(zip(_SQLITE_NAMES[i % _SQLITE_CHUNK], (
            seq, ev.occurred_at, ev.actor_id, ev.actor_label, ev.action, ev.entity_type, ev.entity_id,
            ev.changes_json, ev.request_id, prev, digest, ev.note, CURRENT_HASH_VERSION)))
        prev = digest
        if len(params) == _SQLITE_CHUNK * len(_COLUMNS) or i == len(events) - 1:
            connection.execute(_sqlite_insert(len(params) // len(_COLUMNS)), params)
            params = {}
    new_head.update(head_seq=seq, head_hash=prev, head_at=clock.now())
    connection.execute(_SQLITE_UPSERT_HEAD, new_head)
    return seq, prev


def _seed_head(connection: Connection, postgres: bool) -> tuple[int, str]:
    """The head when its row is missing: the last event, else the genesis. On PostgreSQL the row is created
    (by whichever writer comes first) and then locked; SQLite's upsert creates it with the append."""
    last = connection.execute(_LAST_EVENT).first()
    start = (last[0], last[1]) if last is not None else (0, GENESIS_HASH)
    if not postgres:
        return start
    connection.execute(pg_insert(_HEAD).values(id=HEAD_ROW, seq=start[0], hash=start[1], updated_at=clock.now())
                       .on_conflict_do_nothing(index_elements=[_HEAD.c.id]))
    seq, hash_ = connection.execute(_LOCK_HEAD).one()
    return seq, hash_
