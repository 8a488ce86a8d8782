"""Keyset (cursor) pagination for every list.

A cursor holds the sort-key values of the last row served, so rows inserted while a client pages through
never shift or repeat what it sees. The last sort column must be unique (the id).

Cursors are opaque and verified: the values travel with an HMAC (keyed by the secret key) over them and over
the list's sort keys, so a cursor this list did not issue (forged, edited, or another list's) is a 422 naming
`cursor`, and no value of a client's making ever reaches a query.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel
from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import Session

from tierline.platform import app_settings
from tierline.platform.errors import Invalid

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

# The `?limit=` and `?cursor=` query parameters every list route takes.
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="rows per page")]
MAX_CURSOR_LENGTH = 2000
Cursor = Annotated[str | None, Query(max_length=MAX_CURSOR_LENGTH,
                                     description="the previous page's next_cursor, as it was given")]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


@dataclass(frozen=True)
class SortKey:
    column: Any
    descending: bool = False


def _tag(value: Any) -> Any:
    """JSON has no times, dates or decimals: tag them so the cursor gives back the very value."""
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    if isinstance(value, Decimal):
        return {"n": str(value)}
    return value


def _untag(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    (tag, text), = value.items()
    if not isinstance(text, str):
        raise TypeError("a tagged cursor value must be text")
    return {"t": datetime.fromisoformat, "d": date.fromisoformat, "n": Decimal}[tag](text)


_KEYS: dict[str, bytes] = {}  # database URL -> the cursor signing key derived from its secret key
_MAC_BYTES = 16


def _signing_key(session: Session) -> bytes:
    bind = session.get_bind()
    url = str(getattr(bind, "engine", bind).url)
    key = _KEYS.get(url)
    if key is None:
        secret = app_settings.secret_key(session)
        key = _KEYS[url] = hmac.new(secret.encode(), b"tierline.pagination.cursor", hashlib.sha256).digest()
    return key


def _scope(keys: Sequence[SortKey]) -> bytes:
    """What makes a list's cursors its own: its sort keys and their directions."""
    return "|".join(f"{k.column}{' desc' if k.descending else ''}" for k in keys).encode()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, scope: bytes, payload: str) -> bytes:
    return hmac.new(key, scope + b"\n" + payload.encode(), hashlib.sha256).digest()[:_MAC_BYTES]


def _encode(values: list[Any], *, key: bytes, scope: bytes) -> str:
    payload = _b64(json.dumps([_tag(v) for v in values], separators=(",", ":")).encode())
    return f"{payload}.{_b64(_mac(key, scope, payload))}"


def _decode(cursor: str, keys: Sequence[SortKey], *, key: bytes) -> list[Any]:
    try:
        if len(cursor) > MAX_CURSOR_LENGTH or not cursor.isascii():
            raise ValueError
        payload, _, mac = cursor.rpartition(".")
        if not hmac.compare_digest(_unb64(mac), _mac(key, _scope(keys), payload)):
            raise ValueError
        values = json.loads(_unb64(payload))
        if not isinstance(values, list) or len(values) != len(keys):
            raise ValueError
        values = [_untag(v) for v in values]
        for sort_key, value in zip(keys, values):
            _check_type(sort_key, value)
        return values
    except (ValueError, TypeError, KeyError, InvalidOperation, binascii.Error) as exc:
        raise Invalid("cursor", "is not a cursor this list issued") from exc


def _check_type(key: SortKey, value: Any) -> None:
    """A forged cursor must be a 422, not a database error: each value must fit its sort column."""
    if value is None:
        return
    try:
        column_type = key.column.type
        expected = getattr(column_type, "impl_instance", column_type).python_type  # a TypeDecorator's own
    except (AttributeError, NotImplementedError):
        expected = None
    if expected is datetime:
        ok = isinstance(value, datetime) and value.tzinfo is not None
    elif expected is int:
        ok = isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63
    elif expected is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif expected is Decimal:
        ok = isinstance(value, Decimal) and value.is_finite()
    elif expected is date:
        ok = isinstance(value, date) and not isinstance(value, datetime)
    elif expected is str:
        ok = isinstance(value, str) and "\x00" not in value
    elif expected is not None:
        ok = isinstance(value, expected)
    else:
        ok = isinstance(value, (str, int, float, bool))
    if not ok:
        raise ValueError(f"a cursor value does not fit {key.column}")


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
        stmt = stmt.where(_after(keys, _decode(cursor, keys, key=_signing_key(session))))
    order = [k.column.desc() if k.descending else k.column.asc() for k in keys]
    stmt = stmt.order_by(*order).limit(limit + 1)
    rows = list(session.scalars(stmt))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        values = row_values(last) if row_values else [getattr(last, k.column.key) for k in keys]
        next_cursor = _encode(values, key=_signing_key(session), scope=_scope(keys))
    return rows, next_cursor
