"""The door: what every request body and query string must pass before any route runs or any JSON is parsed.

- Size. A body larger than its route's limit is a 413, answered from the Content-Length header before a byte
  of it is read, or as soon as a streamed (chunked) body passes the limit. The limit is the setting
  `max_body_bytes` (TIERLINE_MAX_BODY_BYTES, 1 MiB); a route whose payloads are legitimately larger declares
  its own with `openapi_extra=body_limit(n)`, which the OpenAPI publishes as `x-body-limit`.
- Depth. JSON nested deeper than MAX_JSON_DEPTH levels is a 422: nothing downstream (the JSON parser, the
  validators, the audit's canonical form) ever meets a document deep enough to reach Python's recursion limit.
- Text PostgreSQL cannot store. The NUL character and lone UTF-16 surrogates (`\\ud800`, not valid UTF-8), in
  the query string, the path, a JSON or a form body, are a 422 naming the field, on both databases, instead of
  failing deep inside a query (and only on PostgreSQL).
- Numbers no column holds. JSON's non-standard NaN and Infinity, a number that overflows a float (1e400) and
  an integer too long to convert are a 422 naming the field, before the parser makes them inf or an error.

Every check is iterative or linear in the body, which is at most its route's limit. The common request pays
for one scan of its bytes for the rare characters (C speed); only a body that holds one is parsed here.
"""

from __future__ import annotations

import json
import math
import re
from array import array
from itertools import accumulate
from typing import Any
from urllib.parse import parse_qsl

from fastapi.routing import iter_route_contexts
from starlette.routing import compile_path

from tierline.platform.errors import problem

MIB = 1024 * 1024
DEFAULT_MAX_BODY_BYTES = MIB
MAX_JSON_DEPTH = 32
BODY_LIMIT = "x-body-limit"  # the operation's key in the OpenAPI, and in a route's openapi_extra
# An integer literal longer than this is refused here: Python will not convert one past 4,300 digits, and
# no field of this API takes one anywhere near it.
MAX_INTEGER_DIGITS = 400


def body_limit(max_bytes: int) -> dict[str, int]:
    """`openapi_extra` for a route whose bodies may be larger than the default limit (alert ingest, imports):
    `@router.post("/imports", openapi_extra=body_limit(50 * MIB))`. The OpenAPI shows it as `x-body-limit`.
    (Only a larger limit is looked up: a body within the default never pays for finding its route.)"""
    if max_bytes < 1:
        raise ValueError("a body limit is a positive number of bytes")
    return {BODY_LIMIT: max_bytes}


# -- JSON, scanned without parsing ------------------------------------------------------------------------

# A string literal, escapes included; one that is never closed runs to the end (an optional lone backslash
# before it), so a match never fails and the scan never restarts inside a string: linear in the body.
_STRING = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_DEPTH_STEP = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")  # +1 and -1 as signed bytes
# What only a body that needs parsing here holds: an escaped NUL or surrogate (checked in the raw body, since
# the escape lives inside strings), and outside strings NaN, Infinity, a long exponent or a long digit run.
_JSON_NUL = b"\\u0000"
_JSON_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")
_ODD_NUMBER = re.compile(rb"NaN|Infinity|[eE][+-]?[0-9]{3}|[0-9]{300}")


def _strip_strings(body: bytes) -> bytes:
    return _STRING.sub(b'""', body)


def too_deep(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON text nests arrays and objects more than `limit` levels deep. Brackets inside strings
    do not count. Invalid JSON gets an answer too (the parser refuses it later anyway)."""
    if body.count(b"[") + body.count(b"{") <= limit:  # the common case: too few brackets to nest that deep
        return False
    brackets = _strip_strings(body).translate(None, _NOT_BRACKETS)
    if len(brackets) <= limit:
        return False
    return max(accumulate(array("b", brackets.translate(_DEPTH_STEP)))) > limit


class _Refused:
    """A value the guard refuses, in place of what json.loads would have made of it."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


_NOT_FINITE = _Refused("must be a finite number (NaN and Infinity are not JSON)")
_TOO_LONG = _Refused(f"is a number too long to be read (more than {MAX_INTEGER_DIGITS} digits)")
_TEXT = "must not contain the NUL character or an unpaired UTF-16 surrogate"
_SURROGATE = re.compile("[\ud800-\udfff]")


def _float(text: str) -> Any:
    value = float(text)
    return value if math.isfinite(value) else _NOT_FINITE


def _int(text: str) -> Any:
    return _TOO_LONG if len(text.lstrip("-")) > MAX_INTEGER_DIGITS else int(text)


def _bad_text(text: str) -> bool:
    return "\x00" in text or _SURROGATE.search(text) is not None


def _clean(text: str) -> str:
    return _SURROGATE.sub("", text.replace("\x00", ""))


def _first_refused(document: Any) -> tuple[str, str] | None:
    """(dotted path, reason) of the first value the guard refuses in a parsed JSON document: text holding NUL
    or a lone surrogate (in a value or a key), or a number no field takes. Iterative, depth-first in document
    order."""
    stack: list[tuple[Any, tuple[str, ...]]] = [(document, ())]
    while stack:
        value, path = stack.pop()
        if isinstance(value, _Refused):
            return ".".join(path) or "body", value.reason
        if isinstance(value, str):
            if _bad_text(value):
                return ".".join(path) or "body", _TEXT
        elif isinstance(value, dict):
            children = []
            for key, item in value.items():
                if _bad_text(key):
                    return ".".join((*path, _clean(key))) or "body", _TEXT
                children.append((item, (*path, key)))
            stack.extend(reversed(children))
        elif isinstance(value, list):
            stack.extend(reversed([(item, (*path, str(i))) for i, item in enumerate(value)]))
    return None


def check_json(body: bytes) -> tuple[str, str] | None:
    """(field, reason) when the JSON body must be refused at the door; None when it may go on (invalid JSON
    goes on too: the validation handler names the body)."""
    if not body.isascii():  # JSON is UTF-8 (RFC 8259); other bytes would fail the parser without a field
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            return "body", "is not JSON: the bytes are not UTF-8 text"
    if too_deep(body):
        return "body", f"nests arrays and objects more than {MAX_JSON_DEPTH} levels deep"
    odd_text = _JSON_NUL in body or _JSON_SURROGATE.search(body) is not None
    if not odd_text and _ODD_NUMBER.search(_strip_strings(body)) is None:
        return None
    try:
        document = json.loads(body, parse_float=_float, parse_int=_int, parse_constant=lambda _: _NOT_FINITE)
    except ValueError:
        return None
    return _first_refused(document)


# -- query strings and forms ------------------------------------------------------------------------------

def _nul_in_form(raw: bytes) -> str | None:
    if b"%00" not in raw and b"\x00" not in raw:  # the common case, no copy of the query string
        return None
    for name, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            return name.replace("\x00", "") or "query"
    return None


# -- the middleware ---------------------------------------------------------------------------------------

def _headers(scope: dict) -> tuple[bytes, int | None, bool]:
    """(content type, declared length, whether the body is chunked) from the request's headers."""
    content_type, length, chunked = b"", None, False
    for name, value in scope.get("headers") or []:
        if name == b"content-type":
            content_type = value.lower()  # the last one, as a dict of the headers would have it
        elif name == b"content-length":
            try:
                length = int(value)
            except ValueError:
                length = None
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
    return content_type, length, chunked


class _RouteLimits:
    """The routes that declare a body limit of their own, found in the app's route table on first need."""

    def __init__(self) -> None:
        self._table: list[tuple[re.Pattern[str], frozenset[str], int]] | None = None

    def _build(self, app: Any) -> list[tuple[re.Pattern[str], frozenset[str], int]]:
        table = []
        for context in iter_route_contexts(getattr(app, "routes", [])):
            route = context.original_route
            limit = (getattr(route, "openapi_extra", None) or {}).get(BODY_LIMIT)
            if limit and context.path:
                regex, _, _ = compile_path(context.path)
                table.append((regex, frozenset(getattr(route, "methods", None) or ()), int(limit)))
        return table

    def lookup(self, scope: dict, default: int) -> int:
        if self._table is None:
            self._table = self._build(scope.get("app"))
        path, method = scope.get("path", ""), scope.get("method", "")
        for regex, methods, limit in self._table:
            if method in methods and regex.match(path):
                return limit
        return default


class InputGuard:
    """ASGI middleware: the door's checks (see the module's docstring)."""

    def __init__(self, app: Any, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self._routes = _RouteLimits()

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        field = _nul_in_form(scope.get("query_string") or b"")
        if field is None and "\x00" in scope.get("path", ""):
            field = "path"
        if field is not None:
            await _refuse(scope, receive, send, field, _TEXT)
            return
        content_type, length, chunked = _headers(scope)
        if not chunked and not length:  # no body
            await self.app(scope, receive, send)
            return
        limit = self.max_body_bytes
        if chunked or (length or 0) > limit:
            limit = self._routes.lookup(scope, limit)
        if length is not None and length > limit:
            await _too_large(scope, receive, send, limit)
            return

        messages, chunks, size = [], [], 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _too_large(scope, receive, send, limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        refused = None
        if b"json" in content_type:
            refused = check_json(body)
        elif content_type.startswith(b"application/x-www-form-urlencoded"):
            form_field = _nul_in_form(body)
            refused = None if form_field is None else (form_field, _TEXT)
        if refused is not None:
            await _refuse(scope, receive, send, *refused)
            return

        async def replay() -> dict:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


async def _refuse(scope: dict, receive: Any, send: Any, field: str, message: str) -> None:
    response = problem(422, "Unprocessable content", f"{field}: {message}", instance=scope.get("path"),
                       errors=[{"field": field, "message": message}])
    await response(scope, receive, send)


async def _too_large(scope: dict, receive: Any, send: Any, limit: int) -> None:
    message = f"is larger than this route accepts ({limit} bytes)"
    response = problem(413, "Content too large", f"body: {message}", instance=scope.get("path"),
                       errors=[{"field": "body", "message": message}], max_bytes=limit,
                       headers={"Connection": "close"})
    await response(scope, receive, send)

