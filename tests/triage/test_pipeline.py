"""The intake pipeline end to end over HTTP: signals, impact, rules, routing, assignment, recurrence, explain."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.tickets.conftest import create_ticket, get_ticket, patch_ticket, post_message
from tierline.platform import clock
from tierline.platform.audit import AuditEvent
from tierline.tickets.models import Ticket


@pytest.fixture
def org(admin, factory, client):
    """A support team with an L1 queue (round robin), two available L1 agents, a DB component, a customer."""
    team = admin.post("/api/v1/teams", json={"name": "Frontline", "kind": "support"}).json()
    eng = admin.post("/api/v1/teams", json={"name": "Data Platform", "kind": "engineering"}).json()
    l1 = admin.post("/api/v1/queues", json={"name": "L1 General", "tier": "L1", "team_id": team["id"]}).json()
    l2 = admin.post("/api/v1/queues", json={"name": "L2 Database", "tier": "L2", "team_id": team["id"]}).json()
    agents = [factory.api(client, roles=["agent_l1"], email=f"l1-{i}@support.example") for i in range(2)]
    l2_agent = factory.api(client, roles=["agent_l2"], email="l2@support.example")
    for a in [*agents, l2_agent]:
        admin.post(f"/api/v1/teams/{team['id']}/members", json={"user_id": a.user_id})
    db_component = admin.post("/api/v1/components", json={
        "name": "Database", "owner_team_id": eng["id"], "support_team_id": team["id"]}).json()
    customer = admin.post("/api/v1/customers", json={
        "name": "Acme", "external_id": "acme", "plan": "enterprise", "arr": 250000, "region": "EU",
        "timezone": "Europe/Berlin", "licensed_users": 500, "email_domains": ["acme.example"]}).json()
    return {"team": team, "l1": l1, "l2": l2, "agents": agents, "l2_agent": l2_agent, "component": db_component,
            "customer": customer}


def rule(admin, **body):
    r = admin.post("/api/v1/triage/rules", json={"name": body.pop("name", "rule"), **body})
    assert r.status_code == 201, r.text
    return r.json()


def test_intake_extracts_signals_scores_impact_and_records_every_step(agent, org):
    t = create_ticket(agent, subject="Production down: DB-1042 on every query",
                      description="All 300 users get DB-1042 since 09:00. This is unacceptable.",
                      requester_email="ops@acme.example")
    assert t["error_code"] == "DB-1042"
    assert t["customer_id"] == org["customer"]["id"]
    assert t["affected_users"] == 300
    assert 0 <= t["impact_score"] <= 100 and t["impact_explain"]
    assert t["frustrated"] is True
    triage = t["triage"]
    assert set(triage) >= {"signals", "prediction", "impact", "matched_rules", "actions", "queue", "tier",
                           "assignee_candidate"}
    assert triage["signals"]["production_down"] is True
    assert t["signature"].startswith("DB-1042")


def test_a_ticket_without_a_queue_goes_to_the_default_queue_and_is_assigned_round_robin(agent, org):
    owners = [create_ticket(agent, requester_email="x@acme.example")["assignee_id"] for _ in range(4)]
    ids = sorted(a.user_id for a in org["agents"])
    assert sorted(owners[:2]) == ids and sorted(owners[2:]) == ids  # each agent once per round
    t = get_ticket(agent, create_ticket(agent, requester_email="y@acme.example")["key"])
    assert t["queue_id"] == org["l1"]["id"] and t["tier"] == "L1" and t["status"] == "open"


def test_nobody_fits_so_the_ticket_waits_unassigned_and_flagged(admin, agent, org):
    for a in org["agents"]:
        assert admin.patch(f"/api/v1/users/{a.user_id}", json={"available": False}).status_code == 200
    t = create_ticket(agent, requester_email="x@acme.example")
    assert t["assignee_id"] is None and t["status"] == "new"
    assert t["queue_id"] == org["l1"]["id"] and t["waiting_reason"]


def test_rules_beat_defaults_and_route_by_error_code_family(admin, agent, org):
    rule(admin, name="Database errors", conditions={"all": [
        {"field": "error_code", "op": "matches", "value": r"^DB-\d{4}$"}]},
        actions=[{"type": "set_component", "value": org["component"]["id"]},
                 {"type": "set_queue", "value": org["l2"]["id"]},
                 {"type": "add_tags", "value": ["database"]}])
    t = create_ticket(agent, subject="Query failed", description="We see DB-2001 when saving.",
                      requester_email="x@acme.example")
    assert t["component_id"] == org["component"]["id"]
    assert (t["queue_id"], t["tier"]) == (org["l2"]["id"], "L2")
    assert "database" in t["tags"]
    assert t["assignee_id"] == org["l2_agent"].user_id
    assert [m["name"] for m in t["triage"]["matched_rules"]] == ["Database errors"]


def test_fields_the_caller_set_are_kept_unless_a_rule_sets_them(admin, agent, org):
    rule(admin, name="Tag VIPs", conditions={"all": [{"field": "customer.plan", "op": "equals",
                                                      "value": "enterprise"}]},
         actions=[{"type": "set_priority", "value": "P2"}])
    kept = create_ticket(agent, requester_email="x@acme.example", type="bug", queue_id=org["l1"]["id"])
    assert kept["type"] == "bug" and kept["queue_id"] == org["l1"]["id"]
    overridden = create_ticket(agent, requester_email="x@acme.example", priority="P4")
    assert overridden["priority"] == "P2"  # the rule set it explicitly


def test_set_priority_from_impact_maps_impact_and_urgency(admin, agent, org):
    rule(admin, name="Priority from impact", actions=[{"type": "set_priority_from_impact"}])
    calm = create_ticket(agent, subject="Question about exports", description="How do I export a CSV?",
                         requester_email="someone@nowhere.example", urgency="low")
    urgent = create_ticket(agent, subject="Production down", description="All 500 users locked out, data loss",
                           requester_email="x@acme.example", urgency="high")
    assert calm["priority"] in ("P3", "P4") and urgent["priority"] in ("P1", "P2")
    assert urgent["impact_score"] > calm["impact_score"]


def test_update_rules_run_on_changes_and_customer_replies_recompute_sentiment(admin, agent, org):
    rule(admin, name="Angry customers to P1", trigger="customer_reply",
         conditions={"all": [{"field": "sentiment", "op": "lte", "value": -0.4}]},
         actions=[{"type": "set_priority", "value": "P1"}, {"type": "add_tags", "value": ["angry"]}])
    rule(admin, name="Billing on update", trigger="update",
         conditions={"all": [{"field": "subject", "op": "contains", "value": "invoice"}]},
         actions=[{"type": "add_tags", "value": ["billing"]}])
    t = create_ticket(agent, requester_email="x@acme.example")
    assert t["frustrated"] is False
    patched = patch_ticket(agent, t["key"], subject="Wrong invoice amount")
    assert "billing" in patched["tags"]
    post_message(agent, t["key"], body="This is the third time I ask. Terrible, useless service. I want to cancel.",
                 author_type="customer")
    after = get_ticket(agent, t["key"])
    assert after["priority"] == "P1" and "angry" in after["tags"] and after["frustrated"] is True


def test_explain_shows_what_intake_would_do_and_writes_nothing(admin, agent, org, factory):
    rule(admin, name="Database errors", conditions={"all": [
        {"field": "error_code", "op": "starts_with", "value": "DB-"}]},
        actions=[{"type": "set_queue", "value": org["l2"]["id"]}])
    before = (factory.count(Ticket), factory.count(AuditEvent))
    r = admin.post("/api/v1/triage/explain", json={
        "subject": "DB-1042 again", "description": "Replication lag, DB-1042", "requester_email": "new@acme.example"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) >= {"signals", "matched_rules", "actions", "impact", "prediction", "queue", "tier",
                         "assignee_candidate", "sla_policy"}
    assert body["queue"] == org["l2"]["id"] and body["tier"] == "L2"
    assert body["assignee_candidate"]["user_id"] == org["l2_agent"].user_id
    assert (factory.count(Ticket), factory.count(AuditEvent)) == before
    bad = admin.post("/api/v1/triage/explain", json={"subject": "x"})
    assert bad.status_code == 422


def test_recurrence_across_customers_opens_one_problem_and_links_later_tickets(admin, agent, org):
    domains = ["acme.example", "beta.example", "gamma.example"]
    for i, domain in enumerate(domains[1:], 2):
        admin.post("/api/v1/customers", json={"name": domain, "external_id": f"c{i}", "plan": "pro",
                                               "arr": 10000 * i, "region": "US", "timezone": "UTC",
                                               "licensed_users": 10, "email_domains": [domain]})
    keys = []
    for i in range(5):
        clock.advance(timedelta(minutes=10))
        keys.append(create_ticket(agent, subject="Export fails", description="PAY-3003 when exporting invoices",
                                  requester_email=f"u{i}@{domains[i % 3]}")["key"])
    problems = admin.get("/api/v1/problems").json()["items"]
    assert len(problems) == 1
    problem = problems[0]
    assert problem["ticket_count"] == 5 and problem["customer_count"] == 3
    assert problem["arr_exposure"] == pytest.approx(250000 + 20000 + 30000)
    later = create_ticket(agent, subject="Export fails", description="PAY-3003 again",
                          requester_email="z@acme.example")
    assert later["triage"]["problem"]["problem_key"] == problem["key"]
    assert len(admin.get("/api/v1/problems").json()["items"]) == 1
