"""A list filter given an unknown value says no: a 422 listing the allowed values, never an empty list. The
allowed values are published in the OpenAPI as an enum, for every enum-like filter of every list."""

from __future__ import annotations

import pytest

from tests.test_route_security import _APP, ROUTES
from tests.tickets.conftest import create_ticket

SPEC = _APP.openapi()
# Filters whose values come from a fixed vocabulary (the rest are data: names, tags, skills, regions, text).
ENUM_LIKE = {"entity_type", "role", "tier", "kind", "plan", "status", "priority", "type", "trigger", "metric",
             "order_by", "group_by"}
FILTERS = [(path, param["name"], param["schema"])
           for path, ops in SPEC["paths"].items() if "get" in ops
           for param in ops["get"].get("parameters", [])
           if param["in"] == "query" and param["name"] in ENUM_LIKE]


def _enum(schema: dict) -> list[str]:
    for member in [schema, *schema.get("anyOf", [])]:
        if "items" in member:
            member = member["items"]
        if "enum" in member:
            return member["enum"]
    raise AssertionError(f"no enum in {schema}")


def test_the_walk_finds_the_enum_like_filters():
    names = {(p, n) for p, n, _ in FILTERS}
    assert ("/api/v1/audit", "entity_type") in names and ("/api/v1/sla/compliance", "group_by") in names
    assert len(FILTERS) >= 15


@pytest.mark.parametrize(("path", "name", "schema"), FILTERS, ids=[f"{p}?{n}" for p, n, _ in FILTERS])
def test_every_enum_like_filter_publishes_its_values_and_refuses_others_listing_them(admin, path, name,
                                                                                    schema):
    allowed = _enum(schema)
    assert allowed
    url = path.replace("{calendar_id}", "1")
    params = {name: "no-such-value"}
    if path == "/api/v1/sla/compliance":
        params |= {"from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:00Z"}
    r = admin.get(url, params=params)
    assert r.status_code == 422, r.text
    errors = r.json()["errors"]
    assert [e["field"].split(".")[0] for e in errors] == [name]  # `status.0` for a repeatable filter
    assert all(f"'{value}'" in errors[0]["message"] for value in allowed), errors[0]["message"]


def test_the_audit_trail_takes_the_singular_a_person_types(agent, admin):
    ticket = create_ticket(agent)
    for entity_type in ("ticket", "tickets"):
        r = admin.get("/api/v1/audit", params={"entity_type": entity_type})
        assert r.status_code == 200, r.text
        items = r.json()["items"]
        assert items and {e["entity_type"] for e in items} == {"tickets"}
        assert str(ticket["id"]) in {e["entity_id"] for e in items}
    r = admin.get("/api/v1/audit", params={"entity_type": "ticket", "action": "ticket.create"})
    assert [e["action"] for e in r.json()["items"]] == ["tickets.create"]
    for singular, stored in [("user", "users"), ("customer", "customers"), ("policy", "sla_policies"),
                             ("sla_policy", "sla_policies"), ("token", "api_tokens")]:
        assert singular in _enum(_audit_param("entity_type")["schema"])
        r = admin.get("/api/v1/audit", params={"entity_type": singular})
        assert r.status_code == 200 and all(e["entity_type"] == stored for e in r.json()["items"])


def test_an_unknown_entity_type_lists_the_allowed_ones(admin):
    r = admin.get("/api/v1/audit", params={"entity_type": "tiket"})
    assert r.status_code == 422
    assert "'ticket'" in r.json()["detail"] and "'tickets'" in r.json()["detail"]
    r = admin.get("/api/v1/audit", params={"action": "not an action"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "action"


def _audit_param(name: str) -> dict:
    return next(p for p in SPEC["paths"]["/api/v1/audit"]["get"]["parameters"] if p["name"] == name)


def test_every_list_route_was_considered():
    lists = {p for m, p, _ in ROUTES if m == "GET" and p in SPEC["paths"]
             and any(q["name"] == "limit" for q in SPEC["paths"][p]["get"].get("parameters", []))}
    assert lists >= {p for p, _, _ in FILTERS} - {"/api/v1/sla/compliance", "/api/v1/triage/tier-report",
                                                   "/api/v1/problems", "/api/v1/tickets"}
