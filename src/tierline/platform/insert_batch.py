"""Rows for several tables inserted in one round trip: on PostgreSQL one statement of data-modifying CTEs, on
SQLite one statement per table.

Why: intake's short write inserts a ticket's children (contact, tags, search document, SLA clocks), then the
ticket and its outbox messages. As one statement per table that was six round trips, each paid in client CPU
and, on a loaded server, in a wait for the GIL on the way back; and everything after the assignee's claim runs
while the claim's row lock is held. SQLite runs in-process: a statement costs no round trip there.

How (PostgreSQL): each table's rows travel as one JSON array and are unpacked by `json_to_recordset` in the
order given; the statement's text depends only on the tables, columns and options (not on the number of rows),
so it is built once per shape and prepared once per connection. Values are written as JSON the way the
column types would bind them: times as ISO 8601 with their offset (a naive time is refused, as UTCDateTime
refuses it), decimals as text, JSON columns as nested JSON. A JSON column given None stores SQL NULL.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Table, Text, bindparam, text
from sqlalchemy.dialects.sqlite import insert as sqlite_insert


@dataclass(frozen=True)
class Rows:
    """Rows for one table, each with the same keys. `returning`: columns to give back per inserted row, the
    first one growing with insertion order (a serial id), by which they come back in the rows' order.
    `skip_existing`: the unique columns on which a row already there is skipped (and returns nothing)."""

    table: Table
    rows: Sequence[dict[str, Any]]
    returning: tuple[str, ...] = ()
    skip_existing: tuple[str, ...] = ()


def insert_rows(connection: Connection, parts: Sequence[Rows]) -> list[list[tuple[Any, ...]]]:
    """Insert every part's rows in `connection`'s transaction; for each part, its RETURNING rows."""
    present = [part for part in parts if part.rows]
    if not present:
        return [[] for _ in parts]
    if connection.dialect.name == "postgresql":
        returned = _postgresql(connection, present)
    else:
        returned = [_one_table(connection, part) for part in present]
    found = dict(zip((id(part) for part in present), returned, strict=True))
    return [found.get(id(part), []) for part in parts]


def _one_table(connection: Connection, part: Rows) -> list[tuple[Any, ...]]:
    stmt = sqlite_insert(part.table)
    if part.skip_existing:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(part.skip_existing))
    if not part.returning:
        connection.execute(stmt, list(part.rows))
        return []
    stmt = stmt.returning(*(part.table.c[name] for name in part.returning), sort_by_parameter_order=True)
    return [tuple(row) for row in connection.execute(stmt, list(part.rows))]


# -- PostgreSQL -----------------------------------------------------------------------------------------------

_STATEMENTS: dict[tuple[Any, ...], Any] = {}


def _postgresql(connection: Connection, parts: list[Rows]) -> list[list[tuple[Any, ...]]]:
    shape = tuple((part.table.name, tuple(part.rows[0]), part.returning, part.skip_existing) for part in parts)
    stmt = _STATEMENTS.get(shape)
    if stmt is None:
        stmt = _STATEMENTS[shape] = _statement(connection, parts)
    params = {f"rows_{i}": json.dumps(list(part.rows), default=_json_value, allow_nan=False)
              for i, part in enumerate(parts)}
    row = connection.execute(stmt, params).one()
    out, column = [], 0
    for part in parts:
        if part.returning:
            out.append([tuple(values) for values in row[column] or ()])
            column += 1
        else:
            out.append([])
    return out


def _statement(connection: Connection, parts: list[Rows]) -> Any:
    ctes, selects = [], []
    for i, part in enumerate(parts):
        columns = list(part.rows[0])
        typed = ", ".join(f"{name} {part.table.c[name].type.compile(dialect=connection.dialect)}"
                          for name in columns)
        names = ", ".join(columns)
        sql = (f"INSERT INTO {part.table.name} ({names}) SELECT {names} FROM ROWS FROM "
               f"(json_to_recordset(CAST(:rows_{i} AS JSON)) AS ({typed})) WITH ORDINALITY AS r({names}, ord) "
               "ORDER BY ord")
        if part.skip_existing:
            sql += f" ON CONFLICT ({', '.join(part.skip_existing)}) DO NOTHING"
        if part.returning:
            sql += f" RETURNING {', '.join(part.returning)}"
            selects.append(f"(SELECT json_agg(json_build_array({', '.join(part.returning)}) "
                           f"ORDER BY {part.returning[0]}) FROM part_{i})")
        ctes.append(f"part_{i} AS ({sql})")
    final = f"SELECT {', '.join(selects)}" if selects else "SELECT 1"
    return text(f"WITH {', '.join(ctes)} {final}").bindparams(
        *(bindparam(f"rows_{i}", type_=Text()) for i in range(len(parts))))


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} cannot be written as JSON")

