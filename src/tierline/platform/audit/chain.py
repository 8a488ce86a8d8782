"""Appending prepared events to the chain: the only code that reads the chain head for writing or moves it.

Appends are serialised, and only this short step is: by the head row's lock on PostgreSQL (released by the
COMMIT), by the database write lock on SQLite (taken by BEGIN IMMEDIATE). Bodies are hashed before (prepared.py);
inside the lock there is nothing left but one short SHA-256 per event (the link) and the statements:
- PostgreSQL, 1 statement: `tierline_audit_append` (migration 0019) locks the head, links and inserts every
  event and moves the head, server-side. Were the link computed here, the lock would be held across a round
  trip and whatever wait for the GIL the thread meets on its way back, which under load was most of the wait.
  For the same reason the session's own commit sends the COMMIT with it (`append(..., commit=True)`).
  When the head row is missing (a table emptied by hand or by tests) the function creates it from the last
  event, `ON CONFLICT DO NOTHING`, so that concurrent writers still queue on one row.
- SQLite, 3 statements: read the head, insert every event (one multi-row VALUES, another per 500 events
  more), move the head (an upsert, so an emptied table needs nothing more).
`seq` is UNIQUE, so even a writer that bypassed the lock could not fork the chain: its commit would fail.

The statements are textual SQL, built once: SQLAlchemy does not cache a multi-row VALUES, which built with
Core would be compiled again on every append, inside the lock. The events arrive as the texts `prepare` wrote
outside the lock (`changes` as json.dumps wrote it, what the JSON column type would write), so nothing is
serialised in here either.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from psycopg.sql import Literal
from sqlalchemy import Connection, Text, bindparam, select, text

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

# PostgreSQL: one statement, migration 0019's function. It locks the head, links each event (the same link as
# hashing.link_hash), inserts it and moves the head, so the head's lock is held only while the server runs it
# and the COMMIT that follows: no Python, no second round trip. The events come as one JSON array of objects
# (the texts `prepare` wrote, with their body hashes): psycopg sends it as it is and the server parses it in
# C, and the statement's text is the same for any number of events (prepared once per connection).
_PG_APPEND = text("SELECT head_seq, head_hash FROM tierline_audit_append(CAST(:events AS JSON), :at)").bindparams(
    bindparam("events", type_=Text()), bindparam("at", type_=_HEAD.c.updated_at.type))

_PG_APPEND_AND_COMMIT = "SELECT head_seq, head_hash FROM tierline_audit_append({events}::json, {at}); COMMIT"

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


def append(connection: Connection, events: Sequence[PreparedEvent], *,
           commit: bool = False) -> tuple[int, str] | None:
    """Link `events`, in order, to the end of the chain and insert them, in `connection`'s transaction (its
    COMMIT releases the lock taken here, so call this last). Returns the new head, (seq, hash); None when
    there is nothing to append. Every event must be filled.

    With `commit` (the session's own commit calls it so, on a connection whose transaction is its own), on
    PostgreSQL the COMMIT goes in the same round trip as the append (`_append_and_commit`), and the
    transaction is over when this returns; SQLite ignores it."""
    if not events:
        return None
    unfilled = [ev for ev in events if ev.body_hash is None]
    if unfilled:
        raise ValueError(f"audit events with holes not filled: {unfilled}")
    if connection.dialect.name == "postgresql":
        rows = ",".join(f'{{"body_hash":"{ev.body_hash}",{ev.row_json}}}' for ev in events)
        if commit:
            return _append_and_commit(connection, f"[{rows}]", clock.now())
        seq, head_hash = connection.execute(_PG_APPEND, {"events": f"[{rows}]", "at": clock.now()}).one()
        return seq, head_hash
    head = connection.execute(_LOCK_HEAD).first()
    seq, prev = head if head is not None else _seed_head(connection)
    new_head: dict[str, Any] = {}
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


def _append_and_commit(connection: Connection, events: str, at: datetime) -> tuple[int, str]:
    """The append and the COMMIT as one simple query: the server commits as soon as the append is done, so
    the head's lock is held for the append and the commit's WAL flush, and never across a round trip back to
    Python (where, under load, the thread first waits for the GIL while every other writer waits for it).
    A simple query carries no parameters, so the values go in as literals, quoted by the driver. Should the
    append fail, the COMMIT is not run: the transaction is aborted and the session's error handling rolls it
    back, as for any failed statement. The driver then reports no transaction open, so the session's own
    COMMIT that follows sends nothing."""
    quote = connection.connection.dbapi_connection  # the psycopg connection quotes for its own encoding
    query = _PG_APPEND_AND_COMMIT.format(events=Literal(events).as_string(quote),
                                          at=Literal(at).as_string(quote))
    # No parameters at all, not an empty set of them: the driver then sends the text as it is, and a "%s" in
    # an audited value stays text instead of being read as a placeholder.
    seq, head_hash = connection.exec_driver_sql(query, execution_options={"no_parameters": True}).one()
    return seq, head_hash


def _seed_head(connection: Connection) -> tuple[int, str]:
    """SQLite's head when its row is missing: the last event, else the genesis (the upsert of the append
    creates the row)."""
    last = connection.execute(_LAST_EVENT).first()
    return (last[0], last[1]) if last is not None else (0, GENESIS_HASH)
