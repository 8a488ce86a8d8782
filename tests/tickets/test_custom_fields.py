"""A ticket's custom fields and numbers are bounded: at most 100 fields, nested at most 4 levels, 16 KiB as
JSON (a PATCH's merge included), a head count no column overflows; bad ones are a 422 naming the field and
change nothing."""

from __future__ import annotations

import pytest

from tests.tickets.conftest import create_ticket, get_ticket, patch_ticket
from tierline.tickets.schemas import MAX_CUSTOM_FIELD_DEPTH, MAX_CUSTOM_FIELDS_BYTES


def _fields(r) -> list[str]:  # noqa: ANN001
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    return [e["field"] for e in r.json()["errors"]]


TICKET = {"subject": "s", "description": "d", "requester_email": "a@b.example"}


def _nested(depth: int) -> object:
    value: object = "leaf"
    for _ in range(depth):
        value = {"a": value}
    return value


def test_custom_fields_nested_within_the_limit_are_kept(agent):
    ticket = create_ticket(agent, custom_fields={"env": _nested(MAX_CUSTOM_FIELD_DEPTH)})
    assert get_ticket(agent, ticket["key"])["custom_fields"]["env"] == _nested(MAX_CUSTOM_FIELD_DEPTH)


def test_custom_fields_nested_deeper_are_a_422_naming_the_field(agent, factory):
    events = factory.audit_count()
    too_deep = {"env": _nested(MAX_CUSTOM_FIELD_DEPTH + 1)}
    r = agent.post("/api/v1/tickets", json={**TICKET, "custom_fields": too_deep})
    assert _fields(r) == ["custom_fields"] and "env" in r.json()["detail"] and "levels" in r.json()["detail"]
    assert factory.audit_count() == events


def test_a_large_custom_field_is_refused_and_never_served_back(agent, factory):
    events = factory.audit_count()
    too_large = {"blob": "x" * MAX_CUSTOM_FIELDS_BYTES}
    r = agent.post("/api/v1/tickets", json={**TICKET, "custom_fields": too_large})
    assert _fields(r) == ["custom_fields"] and "bytes" in r.json()["detail"]
    r = agent.post("/api/v1/tickets", json={**TICKET, "custom_fields": {"blob": "x" * (5 * 1024 * 1024)}})
    assert r.status_code == 413, r.text
    assert factory.audit_count() == events


def test_a_patch_whose_merge_outgrows_the_limit_is_refused_and_changes_nothing(agent):
    half = "x" * (MAX_CUSTOM_FIELDS_BYTES // 2)
    ticket = create_ticket(agent, custom_fields={"first": half})
    r = agent.patch(f"/api/v1/tickets/{ticket['key']}", json={"custom_fields": {"second": half}})
    assert _fields(r) == ["custom_fields"]
    assert get_ticket(agent, ticket["key"])["custom_fields"] == {"first": half}
    patch_ticket(agent, ticket["key"], custom_fields={"first": None, "second": half})


@pytest.mark.parametrize("value", [1e30, -1, 10**10, 2**63, 1.5, "many"])
def test_affected_users_out_of_range_is_a_422_on_create_patch_and_explain(agent, value):
    body = {"subject": "s", "description": "d", "requester_email": "a@b.example", "affected_users": value}
    assert "affected_users" in _fields(agent.post("/api/v1/tickets", json=body))
    assert "affected_users" in _fields(agent.post("/api/v1/triage/explain", json=body))
    ticket = create_ticket(agent)
    assert _fields(agent.patch(f"/api/v1/tickets/{ticket['key']}", json={"affected_users": value})) == [
        "affected_users"]
    assert get_ticket(agent, ticket["key"])["version"] == ticket["version"]


def test_the_issues_patch_is_a_422_naming_the_assignee(agent, admin):
    ticket = create_ticket(agent)
    r = agent.patch(f"/api/v1/tickets/{ticket['key']}",
                    json={"assignee_id": -22993389861507682304, "customer_id": 1, "queue_id": 1})
    assert "assignee_id" in _fields(r)
