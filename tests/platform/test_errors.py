"""Every error is RFC 9457 problem+json naming what failed, and a failed request changes nothing."""

from __future__ import annotations

from typing import Annotated, Literal

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import DBAPIError

from tierline.app import create_app
from tierline.platform import outbox
from tierline.platform.auth.actor import Actor
from tierline.platform.auth.models import ApiToken
from tierline.platform.deps import DB, require
from tierline.platform.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from tierline.platform.outbox import OutboxMessage

PROBLEM_JSON = "application/problem+json"


class Condition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: str
    op: Literal["eq", "ne", "contains"]
    value: int


class Conditions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    all: list[Condition] = []


class RuleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    priority: Literal["P1", "P2", "P3", "P4"]
    conditions: Conditions


_DOMAIN_ERRORS = {
    "not_found": lambda: NotFound("rule 7 does not exist"),
    "conflict": lambda: Conflict("cannot close a new ticket", allowed=["open", "solved"]),
    "invalid": lambda: Invalid("priority", "P1 needs an incident"),
    "invalid_many": lambda: Invalid(errors=[("component_id", "is required"), ("error_code", "is required")]),
    "forbidden": lambda: Forbidden("not yours"),
    "unauthorized": lambda: Unauthorized("who are you?"),
}


class _DriverError(Exception):
    """What the database driver raises, with its SQLSTATE."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"driver error {sqlstate}")
        self.sqlstate = sqlstate


def _probe_router() -> APIRouter:
    """Routes that exist only in these tests, to reach each kind of failure."""
    router = APIRouter(prefix="/_probe")

    @router.post("/rules")
    def create_rule(body: RuleCreate) -> dict:
        return {"name": body.name}

    @router.get("/boom")
    def boom() -> dict:
        raise RuntimeError("secret internals must not leak")

    @router.post("/write-then-boom")
    def write_then_boom(db: DB, _: Annotated[Actor, require("tickets:write")]) -> dict:
        outbox.publish(db, "probe", {"n": 1})
        db.flush()
        raise RuntimeError("after a write")

    @router.post("/write-then-invalid")
    def write_then_invalid(db: DB, _: Annotated[Actor, require("tickets:write")]) -> dict:
        outbox.publish(db, "probe", {"n": 1})
        db.flush()
        raise Invalid("subject", "must not be empty")

    @router.get("/domain/{kind}")
    def domain(kind: str) -> dict:
        raise _DOMAIN_ERRORS[kind]()

    @router.post("/database/{sqlstate}")
    def database(sqlstate: str) -> dict:
        raise DBAPIError("UPDATE ...", {}, _DriverError(sqlstate))

    return router


@pytest.fixture
def probe(db, settings):  # noqa: ANN001, ANN201
    app = create_app(db, settings, embedded_worker=False)
    app.include_router(_probe_router())
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def _problem(r, status: int) -> dict:  # noqa: ANN001
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM_JSON)
    body = r.json()
    assert body["status"] == status and body["title"] and body["type"] == "about:blank"
    return body


def _fields(body: dict) -> list[str]:
    return [e["field"] for e in body["errors"]]


def test_an_unknown_route_is_a_404_problem(client):
    body = _problem(client.get("/api/v1/no-such-thing"), 404)
    assert body["instance"] == "/api/v1/no-such-thing"


def test_an_unknown_route_is_a_404_problem_for_every_method(client):
    for method in ("POST", "PATCH", "DELETE", "PUT"):
        _problem(client.request(method, "/api/v1/no-such-thing"), 404)


def test_a_wrong_method_is_a_405_problem_naming_the_allowed_ones(client):
    r = client.delete("/api/v1/health")
    _problem(r, 405)
    assert "GET" in r.headers["allow"]


def test_validation_errors_name_dotted_paths_into_the_body(probe):
    r = probe.post("/_probe/rules", json={
        "priority": "P9",
        "conditions": {"all": [{"field": "a", "op": "eq", "value": 1}, {"field": "b", "op": "ne", "value": 2},
                               {"field": "c", "op": "like", "value": 3}]},
        "colour": "red",
    })
    body = _problem(r, 422)
    assert sorted(_fields(body)) == ["colour", "conditions.all.2.op", "name", "priority"]
    assert all(e["message"] for e in body["errors"])
    assert "priority" in body["detail"]


def test_a_wrong_type_deep_in_a_list_names_its_index(probe):
    r = probe.post("/_probe/rules", json={"name": "n", "priority": "P1",
                                          "conditions": {"all": [{"field": "a", "op": "eq", "value": "x"}]}})
    assert _fields(_problem(r, 422)) == ["conditions.all.0.value"]


def test_a_body_that_is_not_json_is_a_422_naming_the_body(probe):
    r = probe.post("/_probe/rules", content=b'{"name": "n", ', headers={"content-type": "application/json"})
    assert _fields(_problem(r, 422)) == ["body"]


def test_a_missing_body_is_a_422_naming_the_body(probe):
    r = probe.post("/_probe/rules")
    assert _fields(_problem(r, 422)) == ["body"]


def test_a_bad_query_parameter_is_a_422_naming_it(admin):
    body = _problem(admin.get("/api/v1/audit", params={"limit": 0}), 422)
    assert _fields(body) == ["limit"]


def test_a_bad_path_parameter_is_a_422_naming_it(admin):
    body = _problem(admin.delete("/api/v1/tokens/not-a-number"), 422)
    assert _fields(body) == ["token_id"]


def test_bad_input_to_a_real_route_names_the_field_and_changes_nothing(admin, factory):
    tokens, events = factory.count(ApiToken), factory.audit_count()
    body = _problem(admin.post("/api/v1/tokens", json={"name": "x", "scopes": ["tickets:read", 7]}), 422)
    assert _fields(body) == ["scopes.1"]
    body = _problem(admin.post("/api/v1/tokens", json={"name": "x", "expires_in_days": 0}), 422)
    assert _fields(body) == ["expires_in_days"]
    body = _problem(admin.post("/api/v1/tokens", json={"name": "x", "scopes": ["tickets:fly"]}), 422)
    assert _fields(body) == ["scopes.0"]
    assert factory.count(ApiToken) == tokens
    assert factory.audit_count() == events


@pytest.mark.parametrize(("kind", "status"), [("not_found", 404), ("conflict", 409), ("invalid", 422),
                                              ("invalid_many", 422), ("forbidden", 403), ("unauthorized", 401)])
def test_domain_errors_map_to_their_status(probe, kind, status):
    body = _problem(probe.get(f"/_probe/domain/{kind}"), status)
    assert body["detail"]


def test_a_conflict_lists_what_is_allowed(probe):
    body = _problem(probe.get("/_probe/domain/conflict"), 409)
    assert body["allowed"] == ["open", "solved"]


def test_an_invalid_error_lists_every_field(probe):
    body = _problem(probe.get("/_probe/domain/invalid_many"), 422)
    assert _fields(body) == ["component_id", "error_code"]
    assert _fields(_problem(probe.get("/_probe/domain/invalid"), 422)) == ["priority"]


def test_a_401_tells_the_client_how_to_authenticate(probe):
    r = probe.get("/_probe/domain/unauthorized")
    assert r.headers["www-authenticate"] == "Bearer"


def test_an_unexpected_exception_is_a_500_problem_that_leaks_nothing(probe):
    body = _problem(probe.get("/_probe/boom"), 500)
    assert "secret internals" not in str(body)


def test_a_request_that_fails_after_writing_rolls_the_write_back(probe, factory):
    api = factory.api(probe, roles=["agent_l1"])
    _problem(api.post("/_probe/write-then-boom"), 500)
    _problem(api.post("/_probe/write-then-invalid"), 422)
    assert factory.count(OutboxMessage) == 0


def test_a_missing_resource_is_a_404_problem(admin):
    _problem(admin.delete("/api/v1/tokens/999999"), 404)


@pytest.mark.parametrize("sqlstate", ["40P01", "40001"])
def test_a_deadlock_or_serialisation_failure_is_a_409_saying_to_send_it_again(probe, sqlstate):
    body = _problem(probe.post(f"/_probe/database/{sqlstate}"), 409)
    assert body["retry"] is True and "send it again" in body["detail"]


def test_any_other_database_error_is_a_500_that_leaks_nothing(probe):
    r = probe.post("/_probe/database/23505")
    _problem(r, 500)
    assert "driver error" not in r.text and "UPDATE" not in r.text
