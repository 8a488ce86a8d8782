"""Input PostgreSQL cannot store (the NUL character) is a 422 naming the field on every route, never a 500.

The route walk covers each domain's filters as they arrive.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from tierline.platform.auth.models import ApiToken
from tests.test_route_security import ROUTES, _url


def _query_names(route: Any) -> list[str]:
    names = []
    for field in getattr(getattr(route, "dependant", None), "query_params", []):
        annotation = field.field_info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):  # a Query() model of filters
            names += [f.alias or n for n, f in annotation.model_fields.items()]
        else:
            names.append(field.alias)
    return names


QUERIES = [(m, p, r, name) for m, p, r in ROUTES if m == "GET" for name in _query_names(r)]


@pytest.mark.parametrize(("method", "path", "route", "name"), QUERIES,
                         ids=[f"{p}?{n}" for _, p, _, n in QUERIES])
def test_a_nul_character_in_any_query_parameter_is_a_422_naming_it(admin, method, path, route, name):
    r = admin.get(_url(path, route), params={name: "a\x00b"})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in r.json()["errors"]] == [name]


def test_a_nul_character_in_a_json_body_is_a_422_naming_the_field_and_changes_nothing(admin, factory):
    tokens, events = factory.count(ApiToken), factory.audit_count()
    r = admin.post("/api/v1/tokens", json={"name": "a\x00b"})
    assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["name"]
    r = admin.post("/api/v1/tokens", json={"name": "ok", "scopes": ["tickets:read", "x\x00"]})
    assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["scopes.1"]
    assert factory.count(ApiToken) == tokens and factory.audit_count() == events


def test_an_escaped_backslash_before_u0000_is_ordinary_text(admin):
    r = admin.post("/api/v1/tokens", json={"name": "literally \\u0000"})
    assert r.status_code == 201, r.text
    assert r.json()["name"] == "literally \\u0000"


def test_a_nul_character_in_the_path_is_refused(admin):
    r = admin.delete("/api/v1/tokens/1%00")
    assert r.status_code == 422


def test_a_body_is_still_read_whole_after_the_check(admin):
    r = admin.post("/api/v1/tokens", json={"name": "n" * 200, "scopes": ["tickets:read"] * 500})
    assert r.status_code == 201, r.text


def test_an_unpaired_surrogate_in_a_json_body_is_422_naming_the_field_and_a_paired_one_is_fine(agent):
    headers = {"Authorization": f"Bearer {agent.token}", "content-type": "application/json"}
    bad = (b'{"subject":"s","description":"d","requester_email":"a@b.example",'
           b'"custom_fields":{"x":"\\ud800"}}')
    r = agent.client.post("/api/v1/tickets", content=bad, headers=headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "custom_fields.x"
    good = b'{"subject":"smile \\ud83d\\ude00","description":"d","requester_email":"a@b.example"}'
    assert agent.client.post("/api/v1/tickets", content=good, headers=headers).status_code == 201
