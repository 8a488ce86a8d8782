"""The published OpenAPI, as exact as the validation behind it.

FastAPI's OpenAPI model holds `minimum` and `maximum` as floats, so an integer bound comes out as a float, and
the largest id (2^63-1) comes out rounded up to 2^63, a value the API refuses: a client or a fuzzer generating
"the largest valid id" from the document would be told no. Integer bounds are given back as integers here.

Every operation that takes a body also publishes the most it accepts, `x-body-limit` in bytes (the default,
or the route's own: platform/input_guard.py).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from tierline.platform.input_guard import BODY_LIMIT
from tierline.platform.schemas import MAX_ID

_BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
_EXACT = {float(MAX_ID): MAX_ID, float(-MAX_ID - 1): -MAX_ID - 1}


def _integer_bounds(node: Any) -> None:
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("type") == "integer":
                for key in _BOUNDS:
                    value = item.get(key)
                    if isinstance(value, float) and value.is_integer():
                        item[key] = _EXACT.get(value, int(value))
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _body_limits(schema: dict[str, Any], default: int) -> None:
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            if isinstance(operation, dict) and "requestBody" in operation:
                operation.setdefault(BODY_LIMIT, default)


def install(app: FastAPI, *, default_body_limit: int) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            _integer_bounds(schema)
            _body_limits(schema, default_body_limit)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
