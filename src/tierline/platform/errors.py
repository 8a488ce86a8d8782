"""Domain errors raised by services, and the one place that turns every error into RFC 9457 problem+json.

Services know nothing of HTTP: they raise `NotFound`, `Conflict`, `Invalid`, `Forbidden`. The handlers
below map them, FastAPI's validation errors, unknown routes and unexpected exceptions to problem details.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
TRANSIENT_SQLSTATES = frozenset({"40P01", "40001"})  # deadlock detected, serialization failure
log = structlog.get_logger("tierline.errors")


class DomainError(Exception):
    status = 400
    title = "Bad request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotFound(DomainError):
    status = 404
    title = "Not found"


class Conflict(DomainError):
    """A request that cannot apply to the current state; `allowed` lists what could."""

    status = 409
    title = "Conflict"

    def __init__(self, detail: str, *, allowed: Sequence[str] | None = None, **extra: Any) -> None:
        if allowed is not None:
            extra["allowed"] = list(allowed)
        super().__init__(detail, **extra)


class Invalid(DomainError):
    """Bad input found by a service: one field and a reason, or several as `errors`."""

    status = 422
    title = "Unprocessable content"

    def __init__(self, field: str | None = None, reason: str | None = None, *,
                 errors: Iterable[tuple[str, str]] | None = None) -> None:
        items = [{"field": f, "message": m} for f, m in (errors or [])]
        if field is not None:
            items.insert(0, {"field": field, "message": reason or "is invalid"})
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in items) or "invalid input"
        super().__init__(detail, errors=items)


class Unauthorized(DomainError):
    status = 401
    title = "Unauthorized"


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"


class TooManyRequests(DomainError):
    """Refused until `retry_after` seconds have passed (sent as the Retry-After header)."""

    status = 429
    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after: int, **extra: Any) -> None:
        super().__init__(detail, retry_after=retry_after, **extra)
        self.retry_after = retry_after


class PreconditionFailed(DomainError):
    status = 412
    title = "Precondition failed"


def problem(status: int, title: str, detail: str | None = None, *, instance: str | None = None,
            headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _dotted(loc: Sequence[Any]) -> str:
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    # Pydantic names union members and function validators in the location; they are not body fields.
    parts = [p for p in parts if not (isinstance(p, str) and ("[" in p or p.startswith("function-")))]
    return ".".join(str(p) for p in parts) or "body"


def validation_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    out = []
    for err in exc.errors():
        msg = err.get("msg", "is invalid")
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        # A body that is not JSON at all is located at a character offset, which names no field.
        field = "body" if err.get("type") == "json_invalid" else _dotted(err.get("loc", ()))
        out.append({"field": field, "message": msg})
    return out


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        if isinstance(exc, TooManyRequests):
            headers = {"Retry-After": str(exc.retry_after)}
        return problem(exc.status, exc.title, exc.detail, instance=request.url.path, headers=headers,
                       **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = validation_errors(exc)
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return problem(422, "Unprocessable content", detail, instance=request.url.path, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        titles = {404: "Not found", 405: "Method not allowed", 401: "Unauthorized", 403: "Forbidden"}
        detail = exc.detail if isinstance(exc.detail, str) else None
        return problem(exc.status_code, titles.get(exc.status_code, "Error"), detail,
                       instance=request.url.path, headers=getattr(exc, "headers", None))

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> JSONResponse:
        # Two writers that locked the same rows in opposite orders (a deadlock), or a serialisation failure:
        # PostgreSQL aborted this one and rolled it back, so nothing changed and the same request may simply
        # be sent again. Anything else from the database is a bug.
        if getattr(exc.orig, "sqlstate", None) in TRANSIENT_SQLSTATES:
            log.warning("transient_database_conflict", path=request.url.path, sqlstate=exc.orig.sqlstate)
            return problem(409, "Conflict", "the change collided with a concurrent one and was rolled back; "
                           "nothing changed, send it again", instance=request.url.path, retry=True,
                           headers={"Retry-After": "1"})
        return await _unexpected(request, exc)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled_error", path=request.url.path)
        return problem(500, "Internal server error", "an unexpected error occurred; it has been logged",
                       instance=request.url.path)
