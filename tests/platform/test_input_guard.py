"""The door (platform/input_guard.py): bodies over their route's limit are a 413 before they are read, JSON
deeper than 32 levels and numbers no field takes are a 422, and no input reaches Python's recursion limit."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from fastapi import APIRouter, Request
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from tierline.app import create_app
from tierline.platform.auth.models import ApiToken
from tierline.platform.input_guard import MAX_JSON_DEPTH, MIB, body_limit, check_json, too_deep

PROBLEM_JSON = "application/problem+json"
JSON = {"content-type": "application/json"}


def _problem(r, status: int) -> dict:  # noqa: ANN001
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM_JSON)
    return r.json()


def _fields(body: dict) -> list[str]:
    return [e["field"] for e in body["errors"]]


# -- size ---------------------------------------------------------------------------------------------------

def test_a_body_over_the_default_limit_is_a_413_before_anyone_is_asked_who_they_are(client):
    started = time.perf_counter()
    r = client.post("/api/v1/auth/login", content=b'{"email": "' + b"a" * (2 * MIB) + b'"}', headers=JSON)
    body = _problem(r, 413)
    assert body["max_bytes"] == MIB and _fields(body) == ["body"]
    assert time.perf_counter() - started < 5


def test_a_streamed_body_is_cut_off_at_the_limit(client):
    chunks_sent = []

    def chunks() -> Iterator[bytes]:
        for _ in range(64):  # 4 MiB if it were all read
            chunks_sent.append(1)
            yield b" " * (64 * 1024)

    r = client.post("/api/v1/auth/login", content=chunks(), headers=JSON)
    _problem(r, 413)


def test_a_body_at_the_limit_goes_through(admin):
    name = "n" * 200
    padding = " " * (MIB - 200 - 100)  # JSON whitespace: the body is just under 1 MiB
    content = ('{"name": "' + name + '",' + padding + '"scopes": ["tickets:read"]}').encode()
    assert len(content) <= MIB
    r = admin.post("/api/v1/tokens", content=content, headers=JSON)
    assert r.status_code == 201, r.text


def test_the_limit_is_a_setting(db, settings):
    small = create_app(db, settings.model_copy(update={"max_body_bytes": 2048}), embedded_worker=False)
    with TestClient(small, raise_server_exceptions=False) as client:
        r = client.post("/api/v1/auth/login", json={"email": "a@b.example", "password": "x" * 3000})
        assert _problem(r, 413)["max_bytes"] == 2048


def test_a_route_may_declare_a_larger_limit_and_the_openapi_publishes_every_limit(db, settings):
    app = create_app(db, settings, embedded_worker=False)
    router = APIRouter()

    @router.post("/api/v1/_probe/import", openapi_extra=body_limit(3 * MIB))
    async def _import(request: Request) -> dict:
        return {"bytes": len(await request.body())}

    app.include_router(router)
    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.post("/api/v1/_probe/import", content=b"x" * (2 * MIB))
        assert r.status_code == 200 and r.json() == {"bytes": 2 * MIB}
        _problem(client.post("/api/v1/_probe/import", content=b"x" * (3 * MIB + 1)), 413)
        _problem(client.post("/api/v1/auth/login", content=b"x" * (2 * MIB), headers=JSON), 413)
        spec = client.get("/openapi.json").json()
    assert spec["paths"]["/api/v1/_probe/import"]["post"]["x-body-limit"] == 3 * MIB
    assert spec["paths"]["/api/v1/tickets"]["post"]["x-body-limit"] == MIB


# -- depth --------------------------------------------------------------------------------------------------

def _nested(depth: int, inner: str = '"a"') -> bytes:
    return ("[" * depth + inner + "]" * depth).encode()


def test_json_nested_5000_deep_with_a_nul_inside_is_a_422_not_a_500(client):
    body = _problem(client.post("/api/v1/auth/login", content=_nested(5000, '"\\u0000"'), headers=JSON), 422)
    assert _fields(body) == ["body"] and "32 levels" in body["detail"]
    _problem(client.post("/api/v1/auth/login", content=_nested(5000), headers=JSON), 422)


def test_json_32_levels_deep_passes_the_door_and_33_does_not(admin):
    inside = json.dumps({"x": json.loads(_nested(MAX_JSON_DEPTH))})  # the body object, then 32 arrays: 33
    body = _problem(admin.post("/api/v1/tokens", content=inside.encode(), headers=JSON), 422)
    assert _fields(body) == ["body"]
    inside = json.dumps({"x": json.loads(_nested(MAX_JSON_DEPTH - 1))})  # 32: validation names the field
    body = _problem(admin.post("/api/v1/tokens", content=inside.encode(), headers=JSON), 422)
    assert _fields(body) == ["x"]


def test_custom_fields_nested_hundreds_deep_are_refused_and_change_nothing(agent, factory):
    tickets_before = factory.audit_count()
    for depth in (300, 500):
        value = "{}"
        for _ in range(depth):
            value = '{"a": ' + value + "}"
        content = ('{"subject": "s", "description": "d", "requester_email": "a@b.example", '
                   '"custom_fields": {"deep": ' + value + "}}").encode()
        _problem(agent.post("/api/v1/tickets", content=content, headers=JSON), 422)
    assert factory.audit_count() == tickets_before


def test_brackets_inside_strings_do_not_count():
    text = json.dumps({"subject": "[" * 500 + "{" * 500, "list": [["x"]]}).encode()
    assert not too_deep(text)
    assert check_json(text) is None


def test_a_pathological_string_is_scanned_in_linear_time():
    started = time.perf_counter()
    for body in (b'"' + b'\\"' * 400_000, b'["' + b'\\"' * 400_000 + b'\\', b"[" * 40 + b'"' * 500_000):
        too_deep(body)
        check_json(body)
    assert time.perf_counter() - started < 2


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.text(alphabet="[]{}\"\\ab,:"),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner,
                                                                                  max_size=3),
                     max_leaves=60)


def _depth(value: object) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


@settings(max_examples=300)
@given(document=_json, limit=st.integers(0, 8))
def test_the_depth_scan_agrees_with_the_parsed_documents_depth(document, limit):
    text = json.dumps(document).encode()
    assert too_deep(text, limit) == (_depth(document) > limit)


# -- numbers and text ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw", [b"NaN", b"Infinity", b"-Infinity", b"1e400", b"-1e999",
                                 b"1" * 400 + b".5", b"9" * 5000])
def test_numbers_no_field_takes_are_a_422_naming_the_field_and_change_nothing(admin, factory, raw):
    tokens = factory.count(ApiToken)
    r = admin.post("/api/v1/tokens", content=b'{"name": "n", "expires_in_days": ' + raw + b"}", headers=JSON)
    body = _problem(r, 422)
    assert _fields(body) == ["expires_in_days"], body
    assert factory.count(ApiToken) == tokens


@pytest.mark.parametrize("raw", [b"\x8f\x9f", b'{"name": "\xff"}', "\ufeff{}".encode("utf-16")])
def test_a_json_body_that_is_not_utf8_is_a_422_naming_the_body(admin, raw):
    assert _fields(_problem(admin.post("/api/v1/tokens", content=raw, headers=JSON), 422)) == ["body"]


def test_a_number_inside_a_string_is_text(admin):
    r = admin.post("/api/v1/tokens", json={"name": "NaN Infinity 1e400 " + "9" * 180})
    assert r.status_code == 201, r.text


def test_a_nul_deep_in_a_list_names_its_path():
    reason = "must not contain the NUL character or an unpaired UTF-16 surrogate"
    assert check_json(b'{"a": [1, {"b": ["x", "y\\u0000"]}]}') == ("a.1.b.1", reason)
