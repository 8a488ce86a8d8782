"""Pages: `/` (it redirects), the login page, logout, and "my tokens" (mint and revoke one's API tokens).

Login is the API's own sign-in (`platform.auth.api.sign_in`): the same throttle, the same session cookie and
CSRF token, so a person signed in here is signed in to the API from the same browser, and the other way round.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from tierline.platform import clock, rbac
from tierline.platform.auth import api as auth_api
from tierline.platform.auth import service as auth_service
from tierline.platform.deps import DB, ReadDB
from tierline.platform.errors import Invalid, TooManyRequests, Unauthorized
from tierline.platform.schemas import Id
from tierline.web.frame import (
    LOGIN,
    LoginRequired,
    Viewer,
    attempt,
    current_viewer,
    page,
    render,
    safe_next,
)

router = APIRouter(include_in_schema=False)
OPEN_PAGES = frozenset({("GET", "/"), ("GET", LOGIN), ("POST", LOGIN)})  # and the static files


@router.get("/")
async def home(request: Request, reads: ReadDB) -> Response:
    """The agent's queue, the customer's tickets, or the login page."""
    try:
        viewer = await current_viewer(request, reads)
    except LoginRequired:
        return RedirectResponse(LOGIN, status_code=303)
    return RedirectResponse(viewer.home, status_code=303)


@router.get(LOGIN)
async def login_page(request: Request, reads: ReadDB, next: str | None = None) -> Response:  # noqa: A002
    """The login form; someone already signed in goes on to where they were headed."""
    if request.cookies.get(request.app.state.settings.session_cookie_name):
        try:
            viewer = await current_viewer(request, reads)
        except LoginRequired:
            viewer = None
        if viewer is not None:
            return RedirectResponse(safe_next(next) or viewer.home, status_code=303)
    return render(request, "login.html", None, next=safe_next(next) or "", email="", error=None)


@router.post(LOGIN)
def login(request: Request, db: DB, reads: ReadDB, email: Annotated[str, Form(max_length=320)] = "",
          password: Annotated[str, Form(max_length=1000)] = "",
          next: Annotated[str, Form(max_length=2000)] = "") -> Response:  # noqa: A002
    target = safe_next(next)
    if len(email.strip()) < 3 or not password:
        return render(request, "login.html", None, status=422, next=target or "", email=email,
                      error="Enter your email address and password.")
    response = RedirectResponse(target or "/", status_code=303)
    try:
        auth_api.sign_in(request, response, db, reads, email=email, password=password)
    except Unauthorized:
        return render(request, "login.html", None, status=401, next=target or "", email=email,
                      error="Wrong email or password.")
    except TooManyRequests as exc:
        minutes = max(1, round(exc.retry_after / 60))
        return render(request, "login.html", None, status=429, next=target or "", email=email,
                      error=f"Too many failed logins. Try again in about {minutes} minutes.")
    return response


@router.post("/logout")
def logout(request: Request, db: DB, viewer: Annotated[Viewer, page(None)]) -> Response:
    auth_service.logout(db, actor=viewer.actor, session_id=request.state.web_session_id)
    settings = request.app.state.settings
    response = RedirectResponse(LOGIN, status_code=303)
    response.delete_cookie(settings.session_cookie_name, path="/")
    response.delete_cookie(settings.csrf_cookie_name, path="/")
    return response


# -- my tokens ---------------------------------------------------------------------------------------------

def _tokens_page(request: Request, db: DB, viewer: Viewer, *, status: int = 200, minted: str | None = None,
                 refusal: object = None) -> Response:
    tokens, _ = auth_service.list_tokens(db, actor=viewer.actor, limit=200)
    now = clock.now()
    rows = [{"id": t.id, "name": t.name, "prefix": t.prefix, "scopes": ", ".join(t.scopes),
             "created_at": t.created_at, "expires_at": t.expires_at,
             "state": ("revoked" if t.revoked_at else
                       "expired" if t.expires_at is not None and clock.as_utc(t.expires_at) <= now else "active")}
            for t in sorted(tokens, key=lambda t: t.id, reverse=True)]
    scopes = [(p, rbac.PERMISSION_DESCRIPTIONS[p]) for p in rbac.PERMISSIONS if p in viewer.actor.permissions]
    return render(request, "tokens.html", viewer, status=status, tokens=rows, scopes=scopes, minted=minted,
                  refusal=refusal)


@router.get("/tokens")
def tokens(request: Request, db: DB, viewer: Annotated[Viewer, page("tokens:read")]) -> Response:
    return _tokens_page(request, db, viewer)


@router.post("/tokens")
def mint_token(request: Request, db: DB, viewer: Annotated[Viewer, page("tokens:write")],
               name: Annotated[str, Form(max_length=200)] = "",
               scopes: Annotated[list[str], Form(max_length=100)] = [],  # noqa: B006 (FastAPI copies it)
               expires_in_days: Annotated[str, Form(max_length=10)] = "") -> Response:
    """Mint one of one's own tokens; its value is shown on this answer only (only its hash is kept)."""
    days = expires_in_days.strip()

    def mint() -> str:
        if days and not (days.isdigit() and 1 <= int(days) <= 3650):
            raise Invalid("expires_in_days", "a whole number of days from 1 to 3650")
        expires_at = clock.now() + timedelta(days=int(days)) if days else None
        owner = auth_service.get_user(db, user_id=viewer.actor.user_id)
        _, raw = auth_service.create_token(db, actor=viewer.actor, user=owner, name=name.strip() or "api token",
                                           scopes=scopes or None, expires_at=expires_at)
        return raw

    raw, refusal = attempt(db, mint)
    return _tokens_page(request, db, viewer, status=200 if raw else refusal.status, minted=raw,
                        refusal=refusal)


@router.post("/tokens/{token_id}/revoke")
def revoke_token(token_id: Id, db: DB, viewer: Annotated[Viewer, page("tokens:write")]) -> Response:
    auth_service.revoke_token(db, actor=viewer.actor, token_id=token_id)
    return RedirectResponse("/tokens", status_code=303)
