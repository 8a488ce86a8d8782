"""Idempotency-Key: a retried POST replays the first answer instead of creating twice."""

from __future__ import annotations

from typing import Annotated

import pytest
from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from pydantic import BaseModel

from tierline.app import create_app
from tierline.platform import idempotency, outbox
from tierline.platform.auth.actor import Actor
from tierline.platform.deps import DB, require
from tierline.platform.errors import Invalid
from tierline.platform.idempotency import IdempotencyKey
from tierline.platform.outbox import OutboxMessage


class NoteCreate(BaseModel):
    text: str


def _router() -> APIRouter:
    """A create route wired the way the ticket routes wire idempotency."""
    router = APIRouter(prefix="/_probe")

    @router.post("/notes", status_code=201)
    def create_note(body: NoteCreate, request: Request, db: DB, actor: Annotated[Actor, require("tickets:write")],
                    key: Annotated[str | None, Header(alias=idempotency.HEADER)] = None) -> JSONResponse:
        def produce() -> tuple[int, dict]:
            if body.text == "bad":
                raise Invalid("text", "is bad")
            msg = outbox.publish(db, "note", {"text": body.text})
            db.flush()
            return 201, {"id": msg.id, "text": body.text}

        return idempotency.run(db, owner=str(actor.user_id), key=key, method="POST", path=request.url.path,
                               body=body.model_dump(), produce=produce)

    @router.post("/other", status_code=201)
    def create_other(body: NoteCreate, request: Request, db: DB, actor: Annotated[Actor, require("tickets:write")],
                     key: Annotated[str | None, Header(alias=idempotency.HEADER)] = None) -> JSONResponse:
        return idempotency.run(db, owner=str(actor.user_id), key=key, method="POST", path=request.url.path,
                               body=body.model_dump(), produce=lambda: (201, {"other": True}))

    return router


@pytest.fixture
def probe(db, settings):  # noqa: ANN001, ANN201
    app = create_app(db, settings, embedded_worker=False)
    app.include_router(_router())
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def writer(probe, factory):  # noqa: ANN001, ANN201
    return factory.api(probe, roles=["agent_l1"])


def _post(api, text: str, key: str | None, url: str = "/_probe/notes"):  # noqa: ANN001, ANN202
    headers = {idempotency.HEADER: key} if key is not None else {}
    return api.post(url, json={"text": text}, headers=headers)


def test_a_retry_with_the_same_key_replays_the_first_answer(writer, factory):
    first = _post(writer, "hello", "k-1")
    assert first.status_code == 201, first.text
    again = _post(writer, "hello", "k-1")
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert factory.count(OutboxMessage) == 1


def test_the_same_key_with_a_different_body_is_a_422_naming_the_header(writer, factory):
    _post(writer, "hello", "k-1")
    r = _post(writer, "goodbye", "k-1")
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"][0]["field"] == idempotency.HEADER
    assert factory.count(OutboxMessage) == 1


def test_the_same_key_on_another_route_is_a_422(writer):
    _post(writer, "hello", "k-1")
    r = _post(writer, "hello", "k-1", url="/_probe/other")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == idempotency.HEADER


def test_without_a_key_every_post_creates(writer, factory):
    _post(writer, "hello", None)
    _post(writer, "hello", None)
    assert factory.count(OutboxMessage) == 2
    assert factory.count(IdempotencyKey) == 0


def test_keys_belong_to_their_user(writer, probe, factory):
    other = factory.api(probe, roles=["agent_l1"])
    a = _post(writer, "hello", "shared")
    b = _post(other, "hello", "shared")
    assert a.json()["id"] != b.json()["id"]
    assert factory.count(OutboxMessage) == 2


@pytest.mark.parametrize("key", ["", "x" * 256])
def test_a_key_of_the_wrong_length_is_a_422_and_changes_nothing(writer, factory, key):
    r = _post(writer, "hello", key)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == idempotency.HEADER
    assert factory.count(OutboxMessage) == 0 and factory.count(IdempotencyKey) == 0


def test_a_key_of_the_maximum_length_works(writer):
    assert _post(writer, "hello", "x" * 255).status_code == 201


def test_a_failed_request_does_not_use_up_its_key(writer, factory):
    r = _post(writer, "bad", "k-9")
    assert r.status_code == 422
    assert factory.count(IdempotencyKey) == 0
    r = _post(writer, "good", "k-9")
    assert r.status_code == 201 and r.json()["text"] == "good"
