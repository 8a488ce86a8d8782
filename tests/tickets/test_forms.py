"""Ticket forms: the fields each ticket type needs before it may be solved."""

from __future__ import annotations

from tests.tickets.conftest import create_ticket, get_ticket, patch_ticket
from tierline.platform.audit import AuditEvent
from tierline.tickets.models import TicketForm


def test_every_type_has_a_form_and_incidents_need_component_error_and_root_cause(agent):
    forms = agent.get("/api/v1/ticket-forms").json()["items"]
    assert [f["type"] for f in forms] == ["question", "incident", "problem", "bug", "task", "feature_request"]
    incident = agent.get("/api/v1/ticket-forms/incident").json()
    assert incident["required_fields"] == ["component_id", "error_code", "custom_fields.root_cause_summary"]
    assert incident["is_default"] is True
    assert agent.get("/api/v1/ticket-forms/complaint").status_code == 404


def test_solving_without_the_required_fields_is_422_listing_every_missing_one(agent, factory):
    t = create_ticket(agent, type="incident")
    before = factory.count(AuditEvent)
    r = agent.patch(f"/api/v1/tickets/{t['key']}", json={"status": "solved", "error_code": "  "})
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in r.json()["errors"]] == ["component_id", "error_code",
                                                        "custom_fields.root_cause_summary"]
    after = get_ticket(agent, t["key"])
    assert (after["status"], after["version"], after["error_code"]) == ("new", 1, None)
    assert factory.count(AuditEvent) == before


def test_a_ticket_is_solved_once_the_same_patch_supplies_the_missing_fields(agent, make_component):
    component = make_component()
    t = create_ticket(agent, type="incident", component_id=component["id"])
    r = agent.patch(f"/api/v1/tickets/{t['key']}", json={"status": "solved"})
    assert [e["field"] for e in r.json()["errors"]] == ["error_code", "custom_fields.root_cause_summary"]
    solved = patch_ticket(agent, t["key"], status="solved", error_code="E1042",
                          custom_fields={"root_cause_summary": "expired signing certificate"})
    assert solved["status"] == "solved" and solved["solved_at"] is not None


def test_questions_need_nothing_to_be_solved(agent):
    t = create_ticket(agent)
    assert patch_ticket(agent, t["key"], status="solved")["status"] == "solved"


def test_an_admin_edits_a_form_and_solving_follows_it(admin, agent, factory):
    r = admin.put("/api/v1/ticket-forms/question",
                  json={"required_fields": ["feature_area", "custom_fields.answer_link", "feature_area"]})
    assert r.status_code == 200, r.text
    assert r.json()["required_fields"] == ["feature_area", "custom_fields.answer_link"]
    assert r.json()["is_default"] is False
    assert factory.count(TicketForm) == 1
    t = create_ticket(agent)
    r = agent.patch(f"/api/v1/tickets/{t['key']}", json={"status": "solved"})
    assert [e["field"] for e in r.json()["errors"]] == ["feature_area", "custom_fields.answer_link"]
    r = admin.put("/api/v1/ticket-forms/question", json={"required_fields": []})
    assert r.status_code == 200 and factory.count(TicketForm) == 1
    assert patch_ticket(agent, t["key"], status="solved")["status"] == "solved"
    assert factory.audit_count(entity_type="ticket_forms") == 2


def test_only_admins_edit_forms(agent, factory, client):
    r = agent.put("/api/v1/ticket-forms/incident", json={"required_fields": []})
    assert r.status_code == 403
    manager = factory.api(client, roles=["manager"])
    assert manager.put("/api/v1/ticket-forms/incident", json={"required_fields": []}).status_code == 403
    assert factory.count(TicketForm) == 0


def test_a_form_naming_an_unknown_field_is_422_and_writes_nothing(admin, factory):
    before = factory.count(AuditEvent)
    r = admin.put("/api/v1/ticket-forms/bug",
                  json={"required_fields": ["component_id", "colour", "custom_fields.Bad Name"]})
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["required_fields.1", "required_fields.2"]
    r = admin.put("/api/v1/ticket-forms/bug", json={"required_fields": ["component_id"], "extra": 1})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "extra"
    assert admin.put("/api/v1/ticket-forms/complaint", json={"required_fields": []}).status_code == 404
    assert factory.count(TicketForm) == 0 and factory.count(AuditEvent) == before
