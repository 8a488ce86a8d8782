"""Ids drawn ahead of an INSERT, so that rows which name a new row (its children, its audit events) can be
built before the write transaction.

PostgreSQL draws from the table's own sequence (`nextval`): no lock is held, a rolled-back draw leaves a gap as
any failed INSERT does. SQLite has no sequences: there the id is the next one after the table's highest (and
after sqlite_sequence's, for tables that never reuse ids), which is only safe inside the write transaction
that will insert it (BEGIN IMMEDIATE holds the database's one write lock), so it is drawn there.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

_SEQUENCES: dict[tuple[str, str], str] = {}  # (database url, table) -> sequence name


def drawn_before_write(connection: Connection) -> bool:
    """Whether `next_id` may be called before the write transaction (PostgreSQL) or only inside it."""
    return connection.dialect.name == "postgresql"


def next_id(connection: Connection, table: str) -> int:
    if connection.dialect.name == "postgresql":
        key = (str(connection.engine.url), table)
        sequence = _SEQUENCES.get(key)
        if sequence is None:
            sequence = _SEQUENCES[key] = connection.execute(
                text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table}).scalar_one()
        return connection.execute(text("SELECT nextval(CAST(:s AS regclass))"), {"s": sequence}).scalar_one()
    seq = connection.execute(text("SELECT seq FROM sqlite_sequence WHERE name = :t"), {"t": table}).scalar() \
        if _has_sqlite_sequence(connection) else None
    highest = connection.execute(text(f'SELECT max(id) FROM "{table}"')).scalar()  # noqa: S608 - a table name
    return max(seq or 0, highest or 0) + 1


def _has_sqlite_sequence(connection: Connection) -> bool:
    return connection.execute(text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'")).first() \
        is not None
