"""Queues: create, read, change, delete."""

from __future__ import annotations

from tests.tickets.conftest import create_ticket, patch_ticket
from tierline.platform.audit import AuditEvent
from tierline.tickets.models import Queue


def test_it_creates_reads_lists_and_changes_a_queue(admin, agent, make_team, factory):
    team = make_team()
    r = admin.post("/api/v1/queues", json={"name": "L2 network", "tier": "L2", "team_id": team["id"],
                                           "description": "VPN, DNS, firewalls"})
    assert r.status_code == 201, r.text
    queue = r.json()
    assert (queue["name"], queue["tier"], queue["team_id"]) == ("L2 network", "L2", team["id"])
    assert agent.get(f"/api/v1/queues/{queue['id']}").json() == queue
    admin.post("/api/v1/queues", json={"name": "L1 general", "tier": "L1"})
    l2 = agent.get("/api/v1/queues", params={"tier": "L2"}).json()["items"]
    assert [q["name"] for q in l2] == ["L2 network"]
    assert len(agent.get("/api/v1/queues", params={"team_id": team["id"]}).json()["items"]) == 1
    r = admin.patch(f"/api/v1/queues/{queue['id']}", json={"tier": "L3", "team_id": None})
    assert r.status_code == 200 and (r.json()["tier"], r.json()["team_id"]) == ("L3", None)
    assert factory.audit_count(entity_type="queues") == 3


def test_queue_names_are_unique(admin):
    assert admin.post("/api/v1/queues", json={"name": "Billing", "tier": "L1"}).status_code == 201
    assert admin.post("/api/v1/queues", json={"name": "Billing", "tier": "L2"}).status_code == 409
    other = admin.post("/api/v1/queues", json={"name": "Refunds", "tier": "L1"}).json()
    assert admin.patch(f"/api/v1/queues/{other['id']}", json={"name": "Billing"}).status_code == 409


def test_bad_queue_input_names_the_field_and_writes_nothing(admin, factory):
    before = factory.count(AuditEvent)
    for body, field in (({"name": "x", "tier": "L4"}, "tier"), ({"tier": "L1"}, "name"),
                        ({"name": "x", "tier": "L1", "team_id": 999}, "team_id"),
                        ({"name": "   ", "tier": "L1"}, "name")):
        r = admin.post("/api/v1/queues", json=body)
        assert r.status_code == 422, body
        assert r.json()["errors"][0]["field"] == field
    queue = admin.post("/api/v1/queues", json={"name": "ok", "tier": "L1"}).json()
    r = admin.patch(f"/api/v1/queues/{queue['id']}", json={"tier": None})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "tier"
    assert factory.count(Queue) == 1 and factory.count(AuditEvent) == before + 1


def test_agents_read_queues_but_only_managers_and_admins_change_them(agent, client, factory):
    assert agent.get("/api/v1/queues").status_code == 200
    assert agent.post("/api/v1/queues", json={"name": "mine", "tier": "L1"}).status_code == 403
    manager = factory.api(client, roles=["manager"])
    assert manager.post("/api/v1/queues", json={"name": "mine", "tier": "L1"}).status_code == 201


def test_a_queue_holding_tickets_cannot_be_deleted(admin, agent, make_queue, factory):
    queue = make_queue()
    t = create_ticket(agent, queue_id=queue["id"])
    r = admin.delete(f"/api/v1/queues/{queue['id']}")
    assert r.status_code == 409
    patch_ticket(agent, t["key"], queue_id=None)
    assert admin.delete(f"/api/v1/queues/{queue['id']}").status_code == 204
    assert admin.get(f"/api/v1/queues/{queue['id']}").status_code == 404
    assert factory.audit_count(entity_type="queues", action="queues.delete") == 1
