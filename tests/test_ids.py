"""Every id a request names is an integer from 1 to 2^63-1 (platform.schemas.Id): anything else is a 4xx
problem+json naming the parameter, never a value past 64 bits reaching the database driver.

The walk covers every route the app mounts, so each domain's ids are held to it as they arrive: each id-like
path and query parameter, and each id-like field of a JSON body (nested ones too), is sent a value past 2^63,
a negative and zero, as an admin, on whichever database the suite runs on.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.test_route_security import _APP, ROUTES, _url
from tierline.platform.schemas import MAX_ID

PROBLEM_JSON = "application/problem+json"
BAD_IDS = [MAX_ID + 1, 2**64, 73615051023878338493022208, -1, -(2**63) - 1, 0]
SPEC = _APP.openapi()


def _id_like(name: str) -> bool:
    return name == "id" or name.endswith("_id") or name.endswith("_ids")


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = SPEC["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _members(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The schema itself, or the non-null members of its anyOf/oneOf."""
    schema = _resolve(schema)
    options = schema.get("anyOf") or schema.get("oneOf")
    if not options:
        return [schema]
    return [_resolve(s) for s in options if _resolve(s).get("type") != "null"]


def _integer_paths(schema: dict[str, Any], path: tuple[str, ...] = (),
                   depth: int = 0) -> list[tuple[str, ...]]:
    """Paths (property names, "[]" for an array item) to the id-like integers of a request body schema."""
    found: list[tuple[str, ...]] = []
    if depth > 4:
        return found
    for member in _members(schema):
        kind = member.get("type")
        if kind == "integer" and path and _id_like(path[-1].replace("[]", "") or path[-2]):
            found.append(path)
        elif kind == "object":
            for name, prop in member.get("properties", {}).items():
                found += _integer_paths(prop, (*path, name), depth + 1)
        elif kind == "array" and path:
            found += _integer_paths(member.get("items", {}), (*path, "[]"), depth + 1)
    return found


def _operation(method: str, path: str) -> dict[str, Any]:
    return SPEC["paths"][path][method.lower()]


def _body_schema(method: str, path: str) -> dict[str, Any] | None:
    body = _operation(method, path).get("requestBody")
    return body["content"]["application/json"]["schema"] if body else None


def _body(path: tuple[str, ...], value: int) -> Any:
    """A JSON body holding `value` at `path`."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    return [_body(rest, value)] if head == "[]" else {head: _body(rest, value)}


def _field(path: tuple[str, ...]) -> str:
    return ".".join("0" if p == "[]" else p for p in path)


PATH_IDS, QUERY_IDS, BODY_IDS = [], [], []
for _method, _path, _route in ROUTES:
    if _path not in SPEC["paths"]:
        continue  # /openapi.json, /docs
    for _param in _operation(_method, _path).get("parameters", []):
        if _id_like(_param["name"]) and any(m.get("type") == "integer" for m in _members(_param["schema"])):
            found = PATH_IDS if _param["in"] == "path" else QUERY_IDS
            found.append((_method, _path, _route, _param["name"]))
    _schema = _body_schema(_method, _path)
    if _schema is not None:
        BODY_IDS += [(_method, _path, _route, p) for p in _integer_paths(_schema)]


def _problem(r: Any) -> dict[str, Any]:
    assert 400 <= r.status_code < 500, f"{r.status_code}: {r.text}"
    assert r.headers["content-type"].startswith(PROBLEM_JSON), r.headers["content-type"]
    return r.json()


def test_the_walk_finds_the_ids_of_every_domain():
    assert len(PATH_IDS) >= 30 and len(QUERY_IDS) >= 20 and len(BODY_IDS) >= 30
    contact = ("GET", "/api/v1/customers/{customer_id}/contacts/{contact_id}")
    assert contact in {(m, p) for m, p, _, _ in PATH_IDS}
    assert ("PATCH", "/api/v1/tickets/{key}", ("assignee_id",)) in {(m, p, f) for m, p, _, f in BODY_IDS}
    assert ("POST", "/api/v1/sla/policies", ("match", "component_id", "[]")) in {
        (m, p, f) for m, p, _, f in BODY_IDS}


@pytest.mark.parametrize(("method", "path", "route", "name"), PATH_IDS + QUERY_IDS,
                         ids=[f"{m} {p} {n}" for m, p, _, n in PATH_IDS + QUERY_IDS])
def test_every_id_parameter_publishes_the_one_id_range(method, path, route, name):
    param = next(p for p in _operation(method, path)["parameters"] if p["name"] == name)
    integer = next(m for m in _members(param["schema"]) if m.get("type") == "integer")
    assert (integer.get("minimum"), integer.get("maximum")) == (1, MAX_ID)
    assert isinstance(integer["maximum"], int)  # exact, not 9.223372036854776e18 (which is 2^63)


@pytest.mark.parametrize(("method", "path", "route", "field"), BODY_IDS,
                         ids=[f"{m} {p} {_field(f)}" for m, p, _, f in BODY_IDS])
def test_every_id_field_of_a_body_publishes_the_one_id_range(method, path, route, field):
    schema = _body_schema(method, path)
    for name in field:
        member = _members(schema)[0] if name != "[]" else None
        schema = member["properties"][name] if member is not None else _members(schema)[0]["items"]
    integer = next(m for m in _members(schema) if m.get("type") == "integer")
    assert (integer.get("minimum"), integer.get("maximum")) == (1, MAX_ID)


@pytest.mark.parametrize(("method", "path", "route", "name"), PATH_IDS,
                         ids=[f"{m} {p} {n}" for m, p, _, n in PATH_IDS])
def test_a_path_id_out_of_range_is_a_4xx_naming_it(admin, method, path, route, name):
    for bad in BAD_IDS:
        url = _url(path.replace(f"{{{name}}}", str(bad)), route)
        body = _problem(admin.client.request(method, url, headers={"Authorization": f"Bearer {admin.token}"},
                                             json={} if method in ("POST", "PATCH", "PUT") else None))
        if body["status"] == 422:
            assert name in [e["field"] for e in body["errors"]], body
        else:
            assert body["status"] == 404, body


@pytest.mark.parametrize(("method", "path", "route", "name"), QUERY_IDS,
                         ids=[f"{m} {p}?{n}" for m, p, _, n in QUERY_IDS])
def test_a_query_id_out_of_range_is_a_422_naming_it(admin, method, path, route, name):
    for bad in BAD_IDS:
        body = _problem(admin.get(_url(path, route), params={name: str(bad)}))
        assert body["status"] == 422 and [e["field"] for e in body["errors"]] == [name], body


@pytest.mark.parametrize(("method", "path", "route", "field"), BODY_IDS,
                         ids=[f"{m} {p} {_field(f)}" for m, p, _, f in BODY_IDS])
def test_a_body_id_out_of_range_is_a_422_naming_the_field(admin, method, path, route, field):
    for bad in [*BAD_IDS, 1e30, True]:
        body = _problem(admin.client.request(method, _url(path, route), json=_body(field, bad),
                                             headers={"Authorization": f"Bearer {admin.token}"}))
        if body["status"] == 404:  # the path's resource does not exist: nothing was read from the body
            continue
        assert body["status"] == 422 and _field(field) in [e["field"] for e in body["errors"]], (bad, body)


# -- every number a request carries is bounded --------------------------------------------------------------

def _numbers(schema: dict[str, Any], where: str, depth: int = 0) -> list[tuple[str, dict[str, Any]]]:
    """(where, schema) of every integer and number a request schema holds, however nested."""
    found: list[tuple[str, dict[str, Any]]] = []
    if depth > 8:
        return found
    for member in _members(schema):
        kind = member.get("type")
        if kind in ("integer", "number"):
            found.append((where, member))
        for name, prop in member.get("properties", {}).items():
            found += _numbers(prop, f"{where}.{name}", depth + 1)
        if isinstance(member.get("additionalProperties"), dict):
            found += _numbers(member["additionalProperties"], f"{where}.*", depth + 1)
        if "items" in member:
            found += _numbers(member["items"], f"{where}[]", depth + 1)
    return found


REQUEST_NUMBERS = []
for _path, _ops in SPEC["paths"].items():
    for _method, _op in _ops.items():
        for _param in _op.get("parameters", []):
            REQUEST_NUMBERS += _numbers(_param["schema"], f"{_method.upper()} {_path} {_param['name']}")
        for _content in (_op.get("requestBody") or {}).get("content", {}).values():
            REQUEST_NUMBERS += _numbers(_content["schema"], f"{_method.upper()} {_path} body")


def test_every_number_a_request_carries_is_bounded_so_no_column_overflows_and_nan_is_refused():
    lower, upper = {"minimum", "exclusiveMinimum"}, {"maximum", "exclusiveMaximum"}
    unbounded = [where for where, schema in REQUEST_NUMBERS
                 if not (lower & set(schema) and upper & set(schema))]
    assert len(REQUEST_NUMBERS) > 100
    assert unbounded == []
    too_large = [where for where, schema in REQUEST_NUMBERS if schema["type"] == "integer"
                 and max(schema.get("maximum", 0), schema.get("exclusiveMaximum", 0)) > MAX_ID + 1]
    assert too_large == []
