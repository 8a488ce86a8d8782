"""The web console as an application of its own, mounted beside the API at the site's root.

Its own application, not routes of the API's: its pages answer people (HTML, a redirect to the login page for
an anonymous visitor) where the API answers programs (problem+json, 401), so each has its own error handlers,
and the console stays out of the OpenAPI, the fuzzer and the API's route walks. The mount claims only the paths of
its own pages and static files, never the API's (`/api/...`, `/openapi.json`, `/docs`, `/metrics`), so an unknown
path is still the API's 404 and a wrong method on an API route its 405.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount
from starlette.types import Scope

from tierline.platform.db import Database
from tierline.platform.errors import DomainError, validation_errors
from tierline.settings import Settings
from tierline.web import (
    pages_audit,
    pages_auth,
    pages_directory,
    pages_portal,
    pages_problems,
    pages_rules,
    pages_sla,
    pages_tiers,
    pages_workspace,
)
from tierline.web.frame import HERE, Elsewhere, LoginRequired, login_url, templates

log = structlog.get_logger("tierline.web")
API_PREFIXES = ("/api/", "/openapi.json", "/docs", "/metrics")
STATIC = "/static"


class ConsoleMount(Mount):
    """A mount at the root that takes only the console's own paths: the API's stay the API's, and so does any
    route mounted after the console (or an unknown path: the API's 404)."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path = scope.get("path", "")
        if path == "/api" or any(path.startswith(prefix) for prefix in API_PREFIXES):
            return Match.NONE, {}
        if scope.get("type") != "http" or not any(
                route.matches(scope)[0] != Match.NONE for route in self.app.router.routes):
            return Match.NONE, {}
        return super().matches(scope)


def _error_page(request: Request, status: int, title: str, detail: str,
                fields: list[dict[str, Any]] | None = None) -> HTMLResponse:
    return templates.TemplateResponse(request, "error.html", {
        "viewer": None, "nav": [], "csrf_token": "", "path": request.url.path, "status": status,
        "title": title, "detail": detail, "fields": fields or []}, status_code=status)


def _redirect(request: Request, location: str) -> Response:
    if request.headers.get("HX-Request"):  # htmx follows this header with a full page load
        return Response(status_code=204, headers={"HX-Redirect": location})
    return RedirectResponse(location, status_code=303)


def _install_handlers(console: FastAPI) -> None:
    @console.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        return _redirect(request, login_url(exc.next_path))

    @console.exception_handler(Elsewhere)
    async def _elsewhere(request: Request, exc: Elsewhere) -> Response:
        return _redirect(request, exc.location)

    @console.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> Response:
        fields = [e for e in exc.extra.get("errors", []) if isinstance(e, dict)]
        return _error_page(request, exc.status, exc.title, exc.detail, fields)

    @console.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        return _error_page(request, 422, "Unprocessable content", "The request has values the page cannot use.",
                           validation_errors(exc))

    @console.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        titles = {404: "Not found", 405: "Method not allowed"}
        detail = "There is no such page." if exc.status_code == 404 else str(exc.detail)
        return _error_page(request, exc.status_code, titles.get(exc.status_code, "Error"), detail)

    @console.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled_error", path=request.url.path)
        return _error_page(request, 500, "Something went wrong", "An unexpected error occurred; it has been "
                           "logged.")


def create_console(database: Database, settings: Settings) -> FastAPI:
    console = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    console.state.database = database
    console.state.settings = settings
    _install_handlers(console)
    console.mount(STATIC, StaticFiles(directory=HERE / "static"), name="static")
    for router in (pages_auth.router, pages_workspace.router, pages_portal.router, pages_sla.router,
                   pages_tiers.router, pages_problems.router, pages_rules.router, pages_directory.router,
                   pages_audit.router):
        console.include_router(router)
    return console


def mount(app: FastAPI, database: Database, settings: Settings) -> None:
    """Mount the console on `app` after the API's routes, which keep every path they serve."""
    app.router.routes.append(ConsoleMount("", app=create_console(database, settings), name="console"))
