"""Idempotency-Key support for POSTs, so a client may retry a create without creating twice.

The first request with a key claims it (a row inserted in the request's own transaction) and stores its
response; a retry with the same key and the same body gets that response again; the same key with a
different body is refused. Two concurrent first requests cannot both run: the unique index makes the
second wait for the first's commit, and it then replays the stored response.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi.responses import JSONResponse
from sqlalchemy import Integer, String, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from tierline.platform import clock
from tierline.platform.db import Base, BigId, JSONType, UTCDateTime
from tierline.platform.errors import Invalid

HEADER = "Idempotency-Key"


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("owner", "key", name="uq_idempotency_keys_owner_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    owner: Mapped[str] = mapped_column(String(64), nullable=False)
    key: Mapped[str] = mapped_column(String(255), nullable=False)
    method: Mapped[str] = mapped_column(String(10), nullable=False)
    path: Mapped[str] = mapped_column(String(500), nullable=False)
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    response: Mapped[Any] = mapped_column(JSONType, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


def fingerprint(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def run(session: Session, *, owner: str, key: str | None, method: str, path: str, body: Any,
        produce: Callable[[], tuple[int, Any]]) -> JSONResponse:
    """Run `produce()` once per (owner, key); replay its stored response on retries."""
    if key is None:
        status, payload = produce()
        return JSONResponse(payload, status_code=status)
    if not 1 <= len(key) <= 255:
        raise Invalid(HEADER, "must be 1 to 255 characters")
    fp = fingerprint(body)
    row = _claim(session, owner, key, method, path, fp)
    if row.status_code is not None:
        if row.fingerprint != fp or row.path != path or row.method != method:
            raise Invalid(HEADER, "was already used with a different request")
        return JSONResponse(row.response, status_code=row.status_code, headers={"Idempotent-Replayed": "true"})
    status, payload = produce()
    row.status_code, row.response = status, payload
    return JSONResponse(payload, status_code=status)


def _claim(session: Session, owner: str, key: str, method: str, path: str, fp: str) -> IdempotencyKey:
    existing = session.scalar(select(IdempotencyKey).where(IdempotencyKey.owner == owner,
                                                           IdempotencyKey.key == key))
    if existing is not None:
        return existing
    row = IdempotencyKey(owner=owner, key=key, method=method, path=path, fingerprint=fp,
                         created_at=clock.now())
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        # A concurrent request claimed the key and has committed; replay what it stored.
        existing = session.scalar(select(IdempotencyKey).where(IdempotencyKey.owner == owner,
                                                               IdempotencyKey.key == key))
        if existing is None or existing.status_code is None:
            raise
        return existing
    return row
