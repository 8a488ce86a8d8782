"""FastAPI dependencies: the request's unit of work, the actor, and the one permission check.

Every route but the open four declares exactly one of `require("<domain>:<read|write>")` or
`authenticated()`; a test walks the route table to hold us to that.

The toll at the door: FastAPI runs each sync dependency in the threadpool, one hop (a thread wake-up and two
hand-overs of the GIL) per dependency, and a generator dependency costs two. So only what does database I/O
goes there, once per request: the session is opened on the event loop (a Session connects on first use), the
credential is checked in one hop, the permission test is plain Python on the loop, and the session is ended in
the threadpool only when ending it talks to the database.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import anyio
from anyio.to_thread import run_sync
from fastapi import Depends, Request
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import Session

from tierline.platform import app_settings
from tierline.platform.auth import service as auth_service
from tierline.platform.auth.actor import Actor
from tierline.platform.db import READ_ONLY, Database
from tierline.platform.errors import Forbidden, Unauthorized

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "X-CSRF-Token"


def get_database(request: Request) -> Database:
    return request.app.state.database


def _commit(session: Session) -> None:
    try:
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _rollback(session: Session) -> None:
    try:
        session.rollback()
    finally:
        session.close()


async def _in_thread(end: Any, session: Session) -> None:
    # Shielded: a client that hangs up must not leave a transaction half-ended. Its own limiter, as FastAPI
    # gives a generator's exit: waiting for a free thread here while the threads wait for connections that
    # requests like this one hold would be a deadlock.
    with anyio.CancelScope(shield=True):
        await run_sync(end, session, limiter=anyio.CapacityLimiter(1))


def _autocommits(session: Session) -> bool:
    return session.get_bind().get_execution_options().get("isolation_level") == "AUTOCOMMIT"


def _ends_here(session: Session) -> bool:
    """Whether ending `session` sends nothing to the database: a read session in autocommit (PostgreSQL's, see
    `Database`) holds no transaction, each statement committed as it ran; a read session that never ran one
    holds none either. Closing such a session only hands its connection back to the pool."""
    return bool(session.info.get(READ_ONLY)) and (_autocommits(session) or not session.in_transaction())


async def _end(session: Session, end: Any) -> None:
    if _ends_here(session):
        session.close()  # on the event loop: no I/O, so no trip to the threadpool
        return
    await _in_thread(end, session)  # COMMIT or ROLLBACK


@asynccontextmanager
async def _ended(session: Session) -> AsyncIterator[Session]:
    """Commit on success, roll back on any error, close."""
    try:
        yield session
    except BaseException:
        await _end(session, _rollback)
        raise
    await _end(session, _commit)


async def _db(request: Request) -> AsyncIterator[Session]:
    """The request's transaction: committed before the response is sent, rolled back on any error."""
    database: Database = request.app.state.database
    async with _ended(database.session(write=request.method not in SAFE_METHODS)) as session:
        yield session


async def _read_db(request: Request, db: DB) -> AsyncIterator[Session]:
    """A read session for what a request reads before it writes (compute first, write last and short; who is
    asking, too): outside the write transaction, so on SQLite the write lock is taken by the first write, not
    by the first read. A read request's own session already is one: it is the same session, one connection."""
    if request.method in SAFE_METHODS:
        yield db
        return
    database: Database = request.app.state.database
    async with _ended(database.session(write=False)) as session:
        yield session


DB = Annotated[Session, Depends(_db, scope="function")]
ReadDB = Annotated[Session, Depends(_read_db, scope="function")]


def session_serializer(request: Request, session: Session) -> URLSafeSerializer:
    key = app_settings.secret_key(session, request.app.state.settings.secret_key)
    return URLSafeSerializer(key, salt="tierline.session")


def _session_actor(request: Request, db: Session, cookie: str, write: bool) -> Actor:
    """The signed-in user of a session cookie: the secret key, the session row, the CSRF check, in one hop."""
    try:
        raw = session_serializer(request, db).loads(cookie)
    except BadSignature as exc:
        raise Unauthorized("the session cookie is not valid") from exc
    actor, ws = auth_service.authenticate_session(db, str(raw))
    request.state.web_session_id = ws.id
    if write:
        auth_service.check_csrf(ws, request.headers.get(CSRF_HEADER))
    return actor


async def _actor(request: Request, db: Session) -> Actor:
    """The caller, looked up afresh on every request (a revoked token or a deactivated user is refused at
    once); only the lookup itself runs in the threadpool."""
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthorized("use 'Authorization: Bearer <token>'")
        return await run_sync(auth_service.authenticate_token, db, value.strip())
    settings = request.app.state.settings
    cookie = request.cookies.get(settings.session_cookie_name)
    if cookie:
        return await run_sync(_session_actor, request, db, cookie, request.method not in SAFE_METHODS)
    raise Unauthorized("authentication required: a bearer token or a session cookie")


# require() and authenticated() are each one dependency that finds the caller and checks it (every dependency
# FastAPI solves costs the request something), on the read session: a write request's own transaction (SQLite's
# write lock) starts with its first write, not with who is asking.

def require(permission: str) -> Any:
    """The permission dependency: 401 for anonymous callers, 403 for callers lacking `permission`."""

    async def _check(request: Request, db: ReadDB) -> Actor:
        actor = await _actor(request, db)
        if permission not in actor.permissions:
            raise Forbidden(f"this needs the {permission!r} permission")
        return actor

    _check.permission = permission  # type: ignore[attr-defined]
    return Depends(_check)


def authenticated() -> Any:
    """For routes any signed-in user may call (their own session, their own profile)."""

    async def _check(request: Request, db: ReadDB) -> Actor:
        return await _actor(request, db)

    _check.permission = None  # type: ignore[attr-defined]
    return Depends(_check)
