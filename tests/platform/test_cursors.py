"""Cursors are opaque and verified: a cursor the list did not issue (forged, edited, another list's, or one
holding values of the wrong kind) is a 422 naming `cursor`, for every caller, a customer included."""

from __future__ import annotations

import base64
import json

import pytest

from tests.tickets.conftest import create_ticket


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _forged(values: list) -> str:
    return _b64(json.dumps(values).encode())


FORGED = ["WyJ4IiwxXQ",  # ["x", 1]
          _forged([{"t": "2026-11-23T10:00:00"}, 1]),  # a naive datetime
          _forged([{"t": "0001-01-01T00:00:00+01:00"}, 1]),  # before year 1 in UTC
          _forged([{"t": "2026-11-23T10:00:00+00:00"}, 2**64]),
          _forged([{"t": "2026-11-23T10:00:00+00:00"}, 1]) + ".AAAAAAAAAAAAAAAAAAAAAA",
          "x" * 3000, "é", "...", ""]


def _pages(api, url: str) -> list[str]:  # noqa: ANN001
    cursors, cursor = [], None
    while True:
        r = api.get(url, params={"limit": 1} | ({"cursor": cursor} if cursor else {}))
        assert r.status_code == 200, r.text
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return cursors
        cursors.append(cursor)


@pytest.mark.parametrize("roles", [["admin"], ["agent_l1"], ["customer"]])
@pytest.mark.parametrize("order_by", ["created_at", "updated_at", "sla_due"])
def test_a_forged_ticket_cursor_is_a_422_for_every_role(factory, client, agent, roles, order_by):
    create_ticket(agent, requester_email="customer@acme.example")
    api = factory.api(client, roles=roles, email="customer@acme.example" if roles == ["customer"] else None)
    for cursor in FORGED:
        r = api.get("/api/v1/tickets", params={"cursor": cursor, "order_by": order_by})
        if cursor == "":
            assert r.status_code == 200, r.text  # no cursor: the first page
            continue
        assert r.status_code == 422, (cursor, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert [e["field"] for e in r.json()["errors"]] == ["cursor"]


def test_issued_cursors_page_and_an_edited_one_is_refused(agent):
    for _ in range(3):
        create_ticket(agent)
    cursors = _pages(agent, "/api/v1/tickets")
    assert len(cursors) == 2
    payload, mac = cursors[0].rsplit(".", 1)
    values = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    values[-1] += 1
    edited = f"{_b64(json.dumps(values, separators=(',', ':')).encode())}.{mac}"
    r = agent.get("/api/v1/tickets", params={"cursor": edited})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "cursor"


def test_a_cursor_is_good_only_for_the_list_and_order_that_issued_it(agent, admin):
    for _ in range(3):
        create_ticket(agent)
    by_created = _pages(agent, "/api/v1/tickets")[0]
    r = agent.get("/api/v1/tickets", params={"cursor": by_created, "order_by": "updated_at"})
    assert r.status_code == 422, r.text
    r = agent.get("/api/v1/tickets", params={"cursor": by_created, "order_by": "created_at"})
    assert r.status_code == 200, r.text
    for i in range(3):
        admin.post("/api/v1/teams", json={"name": f"team {i}", "kind": "support"})
    team_cursor = _pages(admin, "/api/v1/teams")[0]
    for url in ("/api/v1/customers", "/api/v1/components", "/api/v1/queues", "/api/v1/tickets"):
        r = admin.get(url, params={"cursor": team_cursor})
        assert r.status_code == 422, (url, r.text)


def test_the_cursor_parameter_is_bounded_in_the_openapi():
    from tests.test_route_security import _APP

    spec = _APP.openapi()
    lists = [op for path in spec["paths"].values() for method, op in path.items()
             if method == "get" and any(p["name"] == "cursor" for p in op.get("parameters", []))]
    assert len(lists) >= 15
    for op in lists:
        cursor = next(p for p in op["parameters"] if p["name"] == "cursor")
        text = next(s for s in cursor["schema"]["anyOf"] if s.get("type") == "string")
        assert text["maxLength"] == 2000, op["operationId"]
