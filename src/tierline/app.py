"""create_app(): the HTTP application with every domain's router."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI

import tierline.jobs_registry  # noqa: F401  (registers every domain's job handlers)
from tierline import __version__
from tierline.capacity import api as capacity_api
from tierline.components import api as components_api
from tierline.customers import api as customers_api
from tierline.people import api as people_api
from tierline.platform import api as platform_api
from tierline.platform import idempotency, native_threads, openapi
from tierline.platform.auth import api as auth_api
from tierline.platform.db import Database, get_database
from tierline.platform.errors import install_handlers
from tierline.platform.input_guard import InputGuard
from tierline.platform.jobs import Worker
from tierline.platform.observability import RequestContextMiddleware, configure_logging
from tierline.problems import api as problems_api
from tierline.settings import Settings, get_settings
from tierline.sla import api as sla_api
from tierline.tickets import api as tickets_api
from tierline.triage import api as triage_api
from tierline.triage import api_tiers as triage_tiers_api
from tierline.web import console

ROUTERS = [
    platform_api.router,
    auth_api.router,
    people_api.router,
    customers_api.router,
    components_api.router,
    tickets_api.router,
    sla_api.router,
    capacity_api.router,
    triage_api.router,
    triage_tiers_api.router,
    problems_api.router,
]

OPEN_ROUTES = frozenset({
    ("GET", "/api/v1/health"),
    ("POST", "/api/v1/auth/login"),
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
})


def create_app(database: Database | None = None, settings: Settings | None = None, *,
               embedded_worker: bool | None = None) -> FastAPI:
    settings = settings or get_settings()
    database = database or get_database()
    configure_logging(settings.log_level, settings.log_json)
    native_threads.limit_to_one()

    run_worker = settings.embedded_worker if embedded_worker is None else embedded_worker
    run_worker = run_worker and database.is_sqlite

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Sync routes and the dependencies that do I/O run in anyio's threadpool; its size is a setting, and the
        # PostgreSQL pool is sized to match it (platform/db.py).
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.http_threads
        worker = None
        if run_worker:
            worker = Worker(database, poll_seconds=settings.worker_poll_seconds,
                            lock_seconds=settings.worker_lock_seconds)
            worker.start_thread()
        try:
            yield
        finally:
            if worker is not None:
                worker.stop()

    app = FastAPI(
        title="Tierline",
        version=__version__,
        description="Technical-support operations: intake, triage, SLA, on-call, incidents, knowledge, audit.",
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
        swagger_ui_oauth2_redirect_url=None,
        lifespan=lifespan,
    )
    app.state.database = database
    app.state.settings = settings
    install_handlers(app)
    idempotency.install_handler(app)
    app.add_middleware(InputGuard, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContextMiddleware)
    for router in ROUTERS:
        app.include_router(router)
    openapi.install(app, default_body_limit=settings.max_body_bytes)
    console.mount(app, database, settings)  # last: the web console takes every path the API does not
    return app
