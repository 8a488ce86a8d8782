"""Structured logs with a request id, and Prometheus metrics for every request."""

from __future__ import annotations

import logging
import random
import re
import sys
import threading
import time
import uuid
from contextvars import ContextVar
from typing import Any

import structlog
from prometheus_client import Counter, Histogram

request_id_var: ContextVar[str | None] = ContextVar("tierline_request_id", default=None)

HTTP_REQUESTS = Counter("tierline_http_requests_total", "HTTP requests", ["method", "route", "status"])
HTTP_LATENCY = Histogram(
    "tierline_http_request_seconds", "HTTP request latency", ["method", "route"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
JOBS_RUN = Counter("tierline_jobs_total", "Background jobs run", ["kind", "outcome"])

REQUEST_ID_HEADER = b"x-request-id"
REQUEST_ID_MAX = 64


def _add_request_id(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
    rid = request_id_var.get()
    if rid is not None:
        event.setdefault("request_id", rid)
    return event


class _StderrLogger:
    """structlog's PrintLogger, except that it resolves sys.stderr at each line: tests (and tools) swap it, and
    a stale handle may be closed. So a logger bound once stays right."""

    _lock = threading.Lock()

    def msg(self, message: str) -> None:
        with self._lock:
            print(message, file=sys.stderr, flush=True)

    log = debug = info = warn = warning = msg
    fatal = failure = err = error = critical = exception = msg


# The access log's logger, bound once per configuration; None when the level filters INFO out, so a request
# costs no logging call at all then.
_access_log: Any = None


def configure_logging(level: str = "INFO", json: bool = True) -> None:
    global _access_log
    lvl = getattr(logging, level.upper(), logging.INFO)
    logging.basicConfig(format="%(message)s", stream=sys.stderr, level=lvl)
    renderer: Any = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            _add_request_id,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(lvl),
        logger_factory=lambda *_args: _StderrLogger(),
        # Module-level loggers elsewhere are lazy proxies: they follow a later configure_logging.
        cache_logger_on_first_use=False,
    )
    _access_log = structlog.get_logger("tierline.http").bind() if lvl <= logging.INFO else None


def _new_request_id() -> str:
    """A fresh id in uuid4's hex form. From `random`, not os.urandom: an id is a label to find a request by, not
    a secret, and os.urandom is a system call that lets go of the GIL on the event loop's thread, which under load
    then waits to get it back. `random` reseeds itself in a forked child, so worker processes draw apart."""
    return uuid.UUID(int=random.getrandbits(128), version=4).hex


# What a client's id may be to be kept (it is logged, echoed and stored on audit events): a label, nothing that
# could forge a log line, smuggle markup or pad the audit trail. Anything else is replaced by a fresh id.
_REQUEST_ID = re.compile(rb"[A-Za-z0-9._-]{1,%d}" % REQUEST_ID_MAX)


def _incoming_request_id(headers: list[tuple[bytes, bytes]]) -> str:
    """The client's X-Request-Id when it is 1 to 64 characters of [A-Za-z0-9._-]; otherwise empty (a fresh id
    is made)."""
    found = b""
    for name, value in headers:
        if name == REQUEST_ID_HEADER:
            found = value  # the last one, as a dict of the headers would have it
    return found.decode("ascii") if _REQUEST_ID.fullmatch(found) else ""


class RequestContextMiddleware:
    """Pure ASGI middleware: request id in and out (X-Request-ID), access log, latency metrics.

    Per request it does what it must and no more: one pass over the headers, the metric children looked up in
    a dict of its own (prometheus' labels() takes a lock and checks the values each time), no logging call
    when the level filters the access log out."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._metrics: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def _observe(self, method: str, route: str, status: int, elapsed: float) -> None:
        key = (method, route, status)
        children = self._metrics.get(key)
        if children is None:
            children = self._metrics[key] = (HTTP_REQUESTS.labels(method, route, str(status)),
                                             HTTP_LATENCY.labels(method, route))
        children[0].inc()
        children[1].observe(elapsed)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _incoming_request_id(scope.get("headers") or []) or _new_request_id()
        echo = (REQUEST_ID_HEADER, rid.encode())
        token = request_id_var.set(rid)
        status = 500
        started = time.perf_counter()  # a duration, not a wall-clock reading

        async def _send(message: dict) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), echo]
            await send(message)

        try:
            await self.app(scope, receive, _send)
        finally:
            elapsed = time.perf_counter() - started
            method = scope.get("method", "")
            self._observe(method, getattr(scope.get("route"), "path", "unmatched"), status, elapsed)
            if _access_log is not None:
                _access_log.info("request", method=method, path=scope.get("path"), status=status,
                                 ms=round(elapsed * 1000, 2))
            request_id_var.reset(token)
