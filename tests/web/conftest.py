"""Helpers for the console's tests: a person at a browser, as TestClient sees one (cookies kept, forms posted
with the session's CSRF token), and a small organisation to work in."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import Api, Factory

PASSWORD = "correct horse battery staple"


class Person:
    """One browser: its own cookie jar, signed in as one user."""

    def __init__(self, client: TestClient, email: str) -> None:
        self.client, self.email = client, email

    @property
    def csrf(self) -> str:
        return self.client.cookies.get("tierline_csrf") or ""

    def login(self, password: str = PASSWORD) -> Any:
        return self.client.post("/login", data={"email": self.email, "password": password},
                                follow_redirects=False)

    def get(self, url: str, **kw: Any) -> Any:
        return self.client.get(url, follow_redirects=kw.pop("follow_redirects", False), **kw)

    def post(self, url: str, data: dict[str, Any] | None = None, *, csrf: bool = True, **kw: Any) -> Any:
        fields = dict(data or {})
        if csrf:
            fields["csrf_token"] = self.csrf
        return self.client.post(url, data=fields, follow_redirects=kw.pop("follow_redirects", False), **kw)


@pytest.fixture
def person(app, factory: Factory) -> Iterator[Any]:  # noqa: ANN001
    """`person(roles, email)`: a user with a password, signed in on a browser of their own."""
    clients: list[TestClient] = []

    def _make(roles: list[str], email: str, *, login: bool = True, name: str | None = None) -> Person:
        factory.user(roles=roles, email=email, password=PASSWORD, name=name)
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        who = Person(client, email)
        if login:
            r = who.login()
            assert r.status_code == 303, r.text
        return who

    yield _make
    for client in clients:
        client.__exit__(None, None, None)


def new_ticket(api: Api, **fields: Any) -> dict:
    body = {"subject": "Cannot log in", "description": "The login page spins forever.",
            "requester_email": "jane@acme.example", **fields}
    r = api.post("/api/v1/tickets", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def sla_policy(api: Api) -> dict:
    """Round-the-clock targets for every priority, so tickets carry an SLA due instant."""
    minutes = {"P1": 60, "P2": 240, "P3": 480, "P4": 1440}
    targets = [{"metric": metric, "priority": p, "minutes": m * factor}
               for p, m in minutes.items() for metric, factor in (("first_response", 1), ("resolution", 8))]
    r = api.post("/api/v1/sla/policies", json={"name": "Standard", "targets": targets})
    assert r.status_code == 201, r.text
    return r.json()
