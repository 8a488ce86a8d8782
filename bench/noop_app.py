"""Tierline with one extra route for the bench: a trivial authenticated POST, the ceiling of a write request.

`create_app()` is `tierline.app.create_app()` (every middleware, the error handlers, the embedded worker on
SQLite) plus `POST /api/v1/bench/noop`, which takes the request's database session (a write session, as every
POST: BEGIN IMMEDIATE on SQLite), authenticates the bearer token with the permission ticket intake needs, and
returns a constant. So it costs what every intake pays before and after its own work: the door, a write
transaction that commits, a JSON response; no intake could be faster on the same server. It exists only here:
Tierline itself has no route that does nothing.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import FastAPI

from tierline.app import create_app as create_tierline_app
from tierline.platform.auth.actor import Actor
from tierline.platform.deps import DB, require

PATH = "/api/v1/bench/noop"


def create_app() -> FastAPI:
    app = create_tierline_app()

    @app.post(PATH, status_code=201, include_in_schema=False)
    def noop(db: DB, actor: Annotated[Actor, require("tickets:write")]) -> dict[str, object]:
        return {"ok": True, "user_id": actor.user_id}

    return app
