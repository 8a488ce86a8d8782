"""Keyset (cursor) pagination for every list.

A cursor holds the sort-key values of the last row served, so rows inserted while a client pages through
never shift or repeat what it sees. The last sort column must be unique (the id).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import Session

from tierline.platform.errors import Invalid

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


@dataclass(frozen=True)
class SortKey:
    column: Any
    descending: bool = False


def _encode(values: list[Any]) -> str:
    tagged = [{"t": v.isoformat()} if isinstance(v, datetime) else v for v in values]
    raw = json.dumps(tagged, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, n: int) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
        if not isinstance(values, list) or len(values) != n:
            raise ValueError
        return [datetime.fromisoformat(v["t"]) if isinstance(v, dict) else v for v in values]
    except (ValueError, TypeError, KeyError, json.JSONDecodeError) as exc:
        raise Invalid("cursor", "is not a cursor this list issued") from exc


def _after(keys: Sequence[SortKey], values: list[Any]) -> Any:
    """Rows strictly after `values` in the order given by `keys` (lexicographic, per-column direction)."""
    clauses = []
    for i, key in enumerate(keys):
        equal_prefix = [keys[j].column == values[j] for j in range(i)]
        step = key.column < values[i] if key.descending else key.column > values[i]
        clauses.append(and_(*equal_prefix, step))
    return or_(*clauses)


def paginate(session: Session, stmt: Select, *, keys: Sequence[SortKey], limit: int | None,
             cursor: str | None, row_values: Any = None) -> tuple[list[Any], str | None]:
    """Apply order, cursor and limit to `stmt` (selecting ORM entities); return (rows, next_cursor).

    `row_values(row) -> list` reads the sort-key values from a row; by default the attributes named like
    the key columns.
    """
    limit = DEFAULT_LIMIT if limit is None else limit
    if not 1 <= limit <= MAX_LIMIT:
        raise Invalid("limit", f"must be between 1 and {MAX_LIMIT}")
    if cursor:
        stmt = stmt.where(_after(keys, _decode(cursor, len(keys))))
    stmt = stmt.order_by(*[k.column.desc() if k.descending else k.column.asc() for k in keys]).limit(limit + 1)
    rows = list(session.scalars(stmt))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        values = row_values(last) if row_values else [getattr(last, k.column.key) for k in keys]
        next_cursor = _encode(values)
    return rows, next_cursor
