"""FastAPI dependencies: the request's unit of work, the actor, and the one permission check.

Every route but the open four declares exactly one of `require("<domain>:<read|write>")` or
`authenticated()`; a test walks the route table to hold us to that.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Request
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import Session

from tierline.platform import app_settings
from tierline.platform.auth import service as auth_service
from tierline.platform.auth.actor import Actor
from tierline.platform.db import Database
from tierline.platform.errors import Forbidden, Unauthorized

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "X-CSRF-Token"


def get_database(request: Request) -> Database:
    return request.app.state.database


def _db(request: Request) -> Iterator[Session]:
    """The request's transaction: committed before the response is sent, rolled back on any error."""
    database: Database = request.app.state.database
    session = database.session(write=request.method not in SAFE_METHODS)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


DB = Annotated[Session, Depends(_db, scope="function")]


def session_serializer(request: Request, session: Session) -> URLSafeSerializer:
    key = app_settings.secret_key(session, request.app.state.settings.secret_key)
    return URLSafeSerializer(key, salt="tierline.session")


def _current(request: Request, db: DB) -> Actor:
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthorized("use 'Authorization: Bearer <token>'")
        return auth_service.authenticate_token(db, value.strip())
    settings = request.app.state.settings
    cookie = request.cookies.get(settings.session_cookie_name)
    if cookie:
        try:
            raw = session_serializer(request, db).loads(cookie)
        except BadSignature as exc:
            raise Unauthorized("the session cookie is not valid") from exc
        actor, ws = auth_service.authenticate_session(db, str(raw))
        request.state.web_session_id = ws.id
        if request.method not in SAFE_METHODS:
            auth_service.check_csrf(ws, request.headers.get(CSRF_HEADER))
        return actor
    raise Unauthorized("authentication required: a bearer token or a session cookie")


def require(permission: str) -> Any:
    """The permission dependency: 401 for anonymous callers, 403 for callers lacking `permission`."""

    def _check(actor: Annotated[Actor, Depends(_current)]) -> Actor:
        if permission not in actor.permissions:
            raise Forbidden(f"this needs the {permission!r} permission")
        return actor

    _check.permission = permission  # type: ignore[attr-defined]
    return Depends(_check)


def authenticated() -> Any:
    """For routes any signed-in user may call (their own session, their own profile)."""

    def _check(actor: Annotated[Actor, Depends(_current)]) -> Actor:
        return actor

    _check.permission = None  # type: ignore[attr-defined]
    return Depends(_check)
