from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from tierline.platform import clock
from tierline.platform.auth import service, throttle
from tierline.platform.auth.actor import Actor
from tierline.platform.auth.models import User, WebSession
from tierline.platform.auth.schemas import LoginIn, LoginOut, Me, TokenCreate, TokenCreated, TokenRead
from tierline.platform.deps import DB, ReadDB, authenticated, require, session_serializer
from tierline.platform.errors import Invalid, Unauthorized
from tierline.platform.pagination import Cursor, Limit, Page
from tierline.platform.schemas import Id

router = APIRouter(prefix="/api/v1", tags=["auth"])


@router.post("/auth/login", response_model=LoginOut, responses={429: {
    "description": "too many failed logins for this email from this address; Retry-After says for how long"}})
def login(body: LoginIn, request: Request, response: Response, db: DB, reads: ReadDB) -> LoginOut:
    user, ws = sign_in(request, response, db, reads, email=body.email, password=body.password)
    return LoginOut(user_id=user.id, email=user.email, roles=user.roles, csrf_token=ws.csrf_token,
                    expires_at=ws.expires_at)


def sign_in(request: Request, response: Response, db: Session, reads: Session, *, email: str,
            password: str) -> tuple[User, WebSession]:
    """Check a password and start a session, setting its cookies on `response` (the API's login and the web
    console's share it). The password is checked on a read session; a failure is counted in a transaction of
    its own, committed at once (this request's rolls back with its 401), so every process sees it."""
    settings = request.app.state.settings
    address = throttle.client_address(request.client.host if request.client else None,
                                      request.headers.getlist("x-forwarded-for"), settings.trusted_proxies)
    user = service.verify_login(reads, email=email, password=password, address=address)
    if user is None:
        reads.close()
        with request.app.state.database.unit_of_work() as counting:
            throttle.record_failure(counting, email=service.normalise_email(email), address=address)
        raise Unauthorized("wrong email or password")
    max_age = timedelta(hours=settings.session_max_age_hours)
    ws, raw = service.start_session(db, user=user, address=address, max_age=max_age)
    secure = settings.secure_cookies
    response.set_cookie(settings.session_cookie_name, session_serializer(request, db).dumps(raw),
                        max_age=int(max_age.total_seconds()), httponly=True, samesite="lax", secure=secure,
                        path="/")
    response.set_cookie(settings.csrf_cookie_name, ws.csrf_token, max_age=int(max_age.total_seconds()),
                        httponly=False, samesite="strict", secure=secure, path="/")
    return user, ws


@router.post("/auth/logout", status_code=204)
def logout(request: Request, db: DB, actor: Annotated[Actor, authenticated()]) -> Response:
    session_id = getattr(request.state, "web_session_id", None)
    if session_id is not None:
        service.logout(db, actor=actor, session_id=session_id)
    settings = request.app.state.settings
    response = Response(status_code=204)
    response.delete_cookie(settings.session_cookie_name, path="/")
    response.delete_cookie(settings.csrf_cookie_name, path="/")
    return response


@router.get("/auth/me", response_model=Me)
def me(actor: Annotated[Actor, authenticated()]) -> Me:
    return Me(user_id=actor.user_id, email=actor.label, roles=list(actor.roles),
              permissions=sorted(actor.permissions), via=actor.via)


@router.post("/tokens", status_code=201, response_model=TokenCreated)
def create_token(body: TokenCreate, db: DB, actor: Annotated[Actor, require("tokens:write")]) -> JSONResponse:
    if body.expires_at is not None and body.expires_in_days is not None:
        raise Invalid("expires_in_days", "give expires_at or expires_in_days, not both")
    expires_at = body.expires_at
    if body.expires_in_days is not None:
        expires_at = clock.now() + timedelta(days=body.expires_in_days)
    user = service.token_owner(db, actor=actor, user_id=body.user_id, doing="mint")
    token, raw = service.create_token(db, actor=actor, user=user, name=body.name, scopes=body.scopes,
                                      expires_at=expires_at)
    out = TokenCreated(**TokenRead.model_validate(token).model_dump(), token=raw)
    return JSONResponse(out.model_dump(mode="json"), status_code=201)


@router.get("/tokens", response_model=Page[TokenRead])
def list_tokens(db: DB, actor: Annotated[Actor, require("tokens:read")], user_id: Id | None = None,
                limit: Limit = 50, cursor: Cursor = None) -> Page:
    rows, next_cursor = service.list_tokens(db, actor=actor, user_id=user_id, limit=limit, cursor=cursor)
    return Page[TokenRead](items=[TokenRead.model_validate(t) for t in rows], next_cursor=next_cursor)


@router.delete("/tokens/{token_id}", status_code=204)
def revoke_token(token_id: Id, db: DB, actor: Annotated[Actor, require("tokens:write")]) -> Response:
    service.revoke_token(db, actor=actor, token_id=token_id)
    return Response(status_code=204)
