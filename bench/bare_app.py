"""The bare FastAPI app the door is measured against: one sync route returning a constant.

No middleware, no database, no authentication: what FastAPI and uvicorn cost per request on this machine,
served by bench/serve_app.py with the same settings as `tierline serve`. Sync, like Tierline's routes, so it
pays the same hop to the thread pool.
"""

from __future__ import annotations

from fastapi import FastAPI

PATH = "/"


def create_app() -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.get(PATH)
    def constant() -> dict[str, str]:
        return {"status": "ok"}

    return app
