"""The console's frame: who is looking (the session cookie), the CSRF check, the permission check, rendering.

Every console page hangs on three things from here:
- `page(permission)`: the dependency a page declares, like the API's `require()`. It finds the signed-in user
  from the same session cookie the API reads, checks the same rbac permission, and on a change (any method but
  GET/HEAD) the session's CSRF token, sent as the `csrf_token` form field or the `X-CSRF-Token` header (htmx).
  An anonymous visitor is sent to the login page instead of answered 401: people, not programs, come here.
- `render(request, template, viewer, ...)`: the template with the viewer (actor, CSRF token, navigation); with
  `fragment=`, an htmx request gets only that fragment, so one route serves the page and its live updates.
- `attempt(db, change)`: runs a service call whose refusal is shown on the page (inline, by field) rather than
  as an error page. The refusal rolls the transaction back first, so nothing a half-done change wrote is
  committed when the page is rendered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from anyio.to_thread import run_sync
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from itsdangerous import BadSignature
from pydantic import ValidationError
from sqlalchemy.orm import Session

from tierline.platform.auth import service as auth_service
from tierline.platform.auth.actor import Actor
from tierline.platform.deps import CSRF_HEADER, SAFE_METHODS, ReadDB, session_serializer
from tierline.platform.errors import DomainError, Forbidden, Invalid, Unauthorized

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
CSRF_FIELD = "csrf_token"
LOGIN = "/login"
STAFF_HOME = "/queues"
PORTAL_HOME = "/portal"
T = TypeVar("T")
# The manager's and admin's pages, each shown to those holding the permission its API requires.
MANAGER_NAV = (("SLA", "/sla", "sla:read"), ("Tiers & queues", "/tiers", "triage:read"),
               ("Problems", "/problems", "problems:read"), ("Rules", "/rules", "triage:read"),
               ("Directory", "/directory", "users:read"), ("Audit", "/audit", "audit:read"))


class LoginRequired(Exception):
    """No usable session: the visitor goes to the login page, and back to `next` after it."""

    def __init__(self, next_path: str | None = None) -> None:
        super().__init__("login required")
        self.next_path = next_path


class Elsewhere(Exception):
    """The page is not this person's (a customer on the agents' workspace): send them to `location`."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


@dataclass(frozen=True)
class Viewer:
    """The signed-in person a page is rendered for."""

    actor: Actor
    csrf_token: str

    @property
    def is_customer(self) -> bool:
        return self.actor.is_customer_only

    @property
    def home(self) -> str:
        return PORTAL_HOME if self.is_customer else STAFF_HOME

    def can(self, permission: str) -> bool:
        return self.actor.can(permission)


def safe_next(value: str | None) -> str | None:
    """A path on this site to return to after login; anything else (another host, `//evil`) is dropped."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return None
    return value


def login_url(next_path: str | None) -> str:
    target = safe_next(next_path)
    return LOGIN if target is None else f"{LOGIN}?next={quote(target, safe='/')}"


def _signed_in(request: Request, db: Session, cookie: str) -> tuple[Actor, str, int]:
    try:
        raw = session_serializer(request, db).loads(cookie)
        actor, grant = auth_service.authenticate_session(db, str(raw))
    except (BadSignature, Unauthorized) as exc:
        raise LoginRequired(_here(request)) from exc
    return actor, grant.csrf_token, grant.id


def _here(request: Request) -> str | None:
    if request.method not in SAFE_METHODS:
        return None  # a change is never replayed after login; the person starts again from the page
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


async def _presented_csrf(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    form = await request.form()
    value = form.get(CSRF_FIELD)
    return value if isinstance(value, str) else None


async def current_viewer(request: Request, db: Session) -> Viewer:
    """The signed-in person, read afresh on every request (a revoked session or a deactivated user is out at
    once); a change must carry the session's CSRF token."""
    cookie = request.cookies.get(request.app.state.settings.session_cookie_name)
    if not cookie:
        raise LoginRequired(_here(request))
    actor, csrf_token, session_id = await run_sync(_signed_in, request, db, cookie)
    request.state.web_session_id = session_id
    if request.method not in SAFE_METHODS:
        auth_service.check_csrf(_Grant(csrf_token), await _presented_csrf(request))
    return Viewer(actor=actor, csrf_token=csrf_token)


@dataclass(frozen=True)
class _Grant:
    csrf_token: str


def page(permission: str | None, *, audience: str = "any") -> Any:
    """The dependency of a console page: the viewer, who must hold `permission` (None: any signed-in user).
    `audience` "staff" sends customers to their portal, "customer" sends staff to their workspace."""

    async def _check(request: Request, db: ReadDB) -> Viewer:
        viewer = await current_viewer(request, db)
        if audience == "staff" and viewer.is_customer:
            raise Elsewhere(PORTAL_HOME)
        if audience == "customer" and not viewer.is_customer:
            raise Elsewhere(STAFF_HOME)
        if permission is not None and permission not in viewer.actor.permissions:
            raise Forbidden(f"this page needs the {permission!r} permission")
        return viewer

    _check.permission = permission  # type: ignore[attr-defined]
    return Depends(_check)


# -- rendering ---------------------------------------------------------------------------------------------

def _nav(viewer: Viewer | None) -> list[tuple[str, str]]:
    """The navigation a viewer's permissions open; later pages (SLA, rules, audit) add their entries here."""
    if viewer is None:
        return []
    if viewer.is_customer:
        return [("My tickets", PORTAL_HOME), ("New ticket", "/portal/new")]
    items = [("Queues", STAFF_HOME)]
    if viewer.can("tickets:write"):
        items.append(("New ticket", "/tickets/new"))
    return items + [(label, href) for label, href, permission in MANAGER_NAV if viewer.can(permission)]


def render(request: Request, template: str, viewer: Viewer | None, *, status: int = 200,
           fragment: str | None = None, **context: Any) -> HTMLResponse:
    """`template` with the viewer and `context`; an htmx request for a page that has `fragment` gets only it."""
    partial = request.headers.get("HX-Request") and not request.headers.get("HX-History-Restore-Request")
    name = fragment if fragment is not None and partial else template
    tokens = {"viewer": viewer, "csrf_token": viewer.csrf_token if viewer else "", "nav": _nav(viewer),
              "path": request.url.path}
    response = templates.TemplateResponse(request, name, {**tokens, **context}, status_code=status)
    response.headers["Vary"] = "HX-Request"  # the page and its fragment share a URL; caches keep them apart
    return response


# -- refusals shown on the page ------------------------------------------------------------------------------

@dataclass
class Refusal:
    """Why a change was refused, as a page shows it: a message, and the fields at fault with their reasons."""

    status: int
    message: str
    fields: dict[str, str]
    extra: dict[str, Any]


def refusal_of(exc: DomainError | ValidationError) -> Refusal:
    if isinstance(exc, ValidationError):
        fields = {}
        for err in exc.errors():
            name = ".".join(str(p) for p in err.get("loc", ()) if not str(p).startswith("function-")) or "form"
            fields.setdefault(name, err.get("msg", "is invalid").removeprefix("Value error, "))
        return Refusal(422, "Some fields need attention.", fields, {})
    fields = {e["field"]: e["message"] for e in exc.extra.get("errors", []) if isinstance(e, dict)}
    extra = {k: v for k, v in exc.extra.items() if k != "errors"}
    message = "Some fields need attention." if isinstance(exc, Invalid) and fields else exc.detail
    return Refusal(exc.status, message, fields, extra)


def attempt(db: Session, change: Callable[[], T]) -> tuple[T | None, Refusal | None]:
    """Run `change`; a domain refusal or a bad value rolls the transaction back and comes back as a Refusal
    for the page to show (Unauthorized and Forbidden stay errors: they are not the person's typing)."""
    try:
        return change(), None
    except (Unauthorized, Forbidden):
        db.rollback()
        raise
    except (DomainError, ValidationError) as exc:
        db.rollback()
        return None, refusal_of(exc)
