"""Idempotency-Key support for POSTs, so a client may retry a create without creating twice.

A request with a key first looks for an answer already stored under it (a read, before any work): found, it
is replayed; found for a different request, the key is refused (422). Otherwise the request does its work and,
as one of the last statements of its write, claims the key with its answer in one
`INSERT ... ON CONFLICT DO NOTHING RETURNING`. Two concurrent first requests cannot both succeed: the unique
index makes the second's INSERT wait for the first's commit and then insert nothing, so the second rolls back
its own work (`Replay` is raised) and replays what the first stored. A failed request stores nothing, so its key
stays free for the retry.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi.responses import JSONResponse
from sqlalchemy import Integer, String, UniqueConstraint, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from tierline.platform import clock
from tierline.platform.db import Base, BigId, JSONType, UTCDateTime, core_connection
from tierline.platform.errors import Invalid

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"


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


class Replay(Exception):
    """A concurrent request claimed the key first: roll this one back and answer with `response`."""

    def __init__(self, response: JSONResponse) -> None:
        super().__init__("replayed")
        self.response = response


class Request:
    """One keyed request: who, which key, and what it asks (its fingerprint)."""

    __slots__ = ("fingerprint", "key", "method", "owner", "path")

    def __init__(self, *, owner: str, key: str, method: str, path: str, body: Any) -> None:
        if not 1 <= len(key) <= 255:
            raise Invalid(HEADER, "must be 1 to 255 characters")
        self.owner, self.key, self.method, self.path = owner, key, method, path
        self.fingerprint = fingerprint(body)


def fingerprint(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


_STORED = select(IdempotencyKey.method, IdempotencyKey.path, IdempotencyKey.fingerprint,
                 IdempotencyKey.status_code, IdempotencyKey.response).where(
    IdempotencyKey.owner == bindparam("owner"), IdempotencyKey.key == bindparam("key"))


def replay(session: Session, request: Request) -> JSONResponse | None:
    """The stored answer to replay for this key, None when the key is new; 422 when it answered another
    request."""
    row = core_connection(session).execute(_STORED, {"owner": request.owner, "key": request.key}).first()
    if row is None:
        return None
    if (row.fingerprint, row.path, row.method) != (request.fingerprint, request.path, request.method):
        raise Invalid(HEADER, "was already used with a different request")
    return JSONResponse(row.response, status_code=row.status_code, headers={REPLAYED_HEADER: "true"})


def store(session: Session, request: Request, *, status: int, payload: Any) -> None:
    """Claim the key with this answer, among the write's last statements; raises `Replay` when a concurrent
    request with the same key committed first (after waiting for it)."""
    connection = core_connection(session)
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(IdempotencyKey).values(
        owner=request.owner, key=request.key, method=request.method, path=request.path,
        fingerprint=request.fingerprint, status_code=status, response=payload, created_at=clock.now(),
    ).on_conflict_do_nothing(index_elements=["owner", "key"]).returning(IdempotencyKey.id)
    if connection.execute(stmt).scalar() is None:
        answer = replay(session, request)
        if answer is None:  # pragma: no cover - the conflicting row is committed, so it is found
            raise RuntimeError("an idempotency key conflicted with a row that cannot be read")
        raise Replay(answer)


def run(session: Session, *, owner: str, key: str | None, method: str, path: str, body: Any,
        produce: Callable[[], tuple[int, Any]]) -> JSONResponse:
    """Run `produce()` once per (owner, key) and store its answer; replay the stored answer on retries."""
    if key is None:
        status, payload = produce()
        return JSONResponse(payload, status_code=status)
    request = Request(owner=owner, key=key, method=method, path=path, body=body)
    answer = replay(session, request)
    if answer is not None:
        return answer
    status, payload = produce()
    store(session, request, status=status, payload=payload)
    return JSONResponse(payload, status_code=status)


def install_handler(app: Any) -> None:
    """`Replay` answers with the stored response; the request's own transaction has rolled back by then."""

    @app.exception_handler(Replay)
    async def _replay(_request: Any, exc: Replay) -> JSONResponse:
        return exc.response

