"""Helpers for the tickets tests: create tickets and the things they point at through the real API."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import Api


def create_ticket(api: Api, expect: int = 201, headers: dict[str, str] | None = None, **fields: Any) -> dict:
    body = {"subject": "Cannot log in", "description": "The login page spins forever.",
            "requester_email": "jane@acme.example", **fields}
    r = api.post("/api/v1/tickets", json=body, headers=headers)
    assert r.status_code == expect, r.text
    return r.json()


def patch_ticket(api: Api, key: str, expect: int = 200, **fields: Any) -> dict:
    r = api.patch(f"/api/v1/tickets/{key}", json=fields)
    assert r.status_code == expect, r.text
    return r.json()


def post_message(api: Api, key: str, body: str = "Any news?", expect: int = 201, **fields: Any) -> dict:
    r = api.post(f"/api/v1/tickets/{key}/messages", json={"body": body, **fields})
    assert r.status_code == expect, r.text
    return r.json()


def get_ticket(api: Api, key: str) -> dict:
    r = api.get(f"/api/v1/tickets/{key}")
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture
def make_team(admin: Api):
    def _make(name: str = "L1 support", kind: str = "support") -> dict:
        r = admin.post("/api/v1/teams", json={"name": name, "kind": kind})
        assert r.status_code == 201, r.text
        return r.json()

    return _make


@pytest.fixture
def make_customer(admin: Api):
    def _make(name: str = "Acme", external_id: str = "acme", email_domains: list[str] | None = None) -> dict:
        r = admin.post("/api/v1/customers", json={"name": name, "external_id": external_id,
                                                  "email_domains": email_domains or []})
        assert r.status_code == 201, r.text
        return r.json()

    return _make


@pytest.fixture
def make_component(admin: Api):
    def _make(name: str = "Login", parent_id: int | None = None) -> dict:
        r = admin.post("/api/v1/components", json={"name": name, "parent_id": parent_id})
        assert r.status_code == 201, r.text
        return r.json()

    return _make


@pytest.fixture
def make_queue(admin: Api):
    def _make(name: str = "L1 general", tier: str = "L1", team_id: int | None = None) -> dict:
        r = admin.post("/api/v1/queues", json={"name": name, "tier": tier, "team_id": team_id})
        assert r.status_code == 201, r.text
        return r.json()

    return _make


@pytest.fixture
def customer_api(factory, client) -> Api:
    """A portal contact: sees and writes only tickets they requested."""
    return factory.api(client, roles=["customer"], email="jane@acme.example")
