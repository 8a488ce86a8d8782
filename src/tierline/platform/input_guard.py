"""Refuse the NUL character and lone UTF-16 surrogates at the door.

PostgreSQL cannot store NUL (or an unpaired surrogate such as `\\ud800`, which is not valid UTF-8) in text or
JSON, so a `%00` in a filter or a `\\u0000` in a body would otherwise
fail deep inside a query as a 500 (and only on PostgreSQL). This ASGI middleware answers 422 naming the
field instead, on both databases, before any route runs. It reads JSON and form bodies, which are small.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl

from tierline.platform.errors import problem

_JSON_NUL = b"\\u0000"


_SURROGATE = re.compile("[\ud800-\udfff]")
_JSON_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")


def _bad(text: str) -> bool:
    return "\x00" in text or _SURROGATE.search(text) is not None


def _clean(text: str) -> str:
    return _SURROGATE.sub("", text.replace("\x00", ""))


def _nul_path(value: Any, path: tuple[str, ...] = ()) -> str | None:
    """The dotted path of the first string (or key) holding NUL or a lone surrogate in a parsed JSON document."""
    if isinstance(value, str):
        return (".".join(path) or "body") if _bad(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            if _bad(key):
                return ".".join((*path, _clean(key))) or "body"
            found = _nul_path(item, (*path, key))
            if found:
                return found
    if isinstance(value, list):
        for i, item in enumerate(value):
            found = _nul_path(item, (*path, str(i)))
            if found:
                return found
    return None


def _nul_in_form(raw: bytes) -> str | None:
    if b"%00" not in raw and b"\x00" not in raw:  # the common case, no copy of the query string
        return None
    for name, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            return name.replace("\x00", "") or "query"
    return None


def _content_type(headers: list[tuple[bytes, bytes]]) -> bytes:
    found = b""
    for name, value in headers:
        if name == b"content-type":
            found = value  # the last one, as a dict of the headers would have it
    return found.lower()


class RejectNulCharacters:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        field = _nul_in_form(scope.get("query_string") or b"")
        if field is None and "\x00" in scope.get("path", ""):
            field = "path"
        if field is not None:
            await self._reject(scope, receive, send, field)
            return
        content_type = _content_type(scope.get("headers") or [])
        is_json = b"json" in content_type
        is_form = content_type.startswith(b"application/x-www-form-urlencoded")
        if not (is_json or is_form):
            await self.app(scope, receive, send)
            return

        messages, body = [], b""
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        if is_json and (_JSON_NUL in body or _JSON_SURROGATE.search(body)):
            try:
                field = _nul_path(json.loads(body))
            except ValueError:
                field = None  # not JSON: the validation handler names the body
        elif is_form:
            field = _nul_in_form(body)
        if field is not None:
            await self._reject(scope, receive, send, field)
            return

        async def replay() -> dict:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def _reject(scope: dict, receive: Any, send: Any, field: str) -> None:
        message = "must not contain the NUL character or an unpaired UTF-16 surrogate"
        response = problem(422, "Unprocessable content", f"{field}: {message}", instance=scope.get("path"),
                           errors=[{"field": field, "message": message}])
        await response(scope, receive, send)
