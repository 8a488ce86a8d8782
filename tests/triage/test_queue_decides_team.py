"""Issue 12, finding 7: "a ticket in queue 1 (team 1) with team_id 2". A ticket's team agrees with its queue's
team wherever the queue is set: intake (default routing, a classifier's queue), a rule's set_queue, a PATCH,
an escalation; a named team steers the queue instead; a caller or a rule asking for both at odds is a 422."""

from __future__ import annotations

import pytest

from tests.helpers import SYSTEM
from tests.tickets.conftest import create_ticket, get_ticket, patch_ticket
from tests.triage.assignment_helpers import make_component, make_queue, make_team
from tests.triage.support_texts import dataset
from tierline.triage import classifier


@pytest.fixture
def desk(admin):
    """Frontline (an L1 queue) and Database support (an L2 queue, and the support team of "Data Store")."""
    frontline = make_team(admin, "Frontline")
    dba = make_team(admin, "Database support")
    l1 = make_queue(admin, "L1 General", "L1", team_id=frontline["id"])
    l2 = make_queue(admin, "L2 Database", "L2", team_id=dba["id"])
    store = make_component(admin, "Data Store", support_team_id=dba["id"])
    return {"frontline": frontline["id"], "dba": dba["id"], "l1": l1["id"], "l2": l2["id"], "store": store["id"]}


def _agrees(ticket: dict, queue_id: int, team_id: int) -> None:
    assert (ticket["queue_id"], ticket["team_id"]) == (queue_id, team_id), ticket["triage"]


def test_intake_gives_the_ticket_its_queue_s_team_not_the_component_s(agent, desk):
    # The component's support team has no L1 queue: first touch is Frontline's, and so is the ticket.
    t = create_ticket(agent, component_id=desk["store"])
    _agrees(t, desk["l1"], desk["frontline"])
    _agrees(get_ticket(agent, t["key"]), desk["l1"], desk["frontline"])


def test_a_classifier_s_queue_brings_its_team_even_when_the_text_names_a_component(db, agent, desk):
    rows = dataset(20, seed=21, labels=["billing", "database"])
    with db.unit_of_work() as session:
        classifier.train(session, actor=SYSTEM, target="queue", texts=[t for t, _ in rows],
                         labels=[str(desk["l1"] if label == "billing" else desk["l2"]) for _, label in rows],
                         source="test", activate_it=True)
    t = create_ticket(agent, subject="Invoice 4411 charged twice",
                      description="Our card was charged twice for invoice 4411, we need a refund. Data Store "
                                  "shows the payment twice.")
    [queue] = [p for p in t["triage"]["prediction"] if p["target"] == "queue"]
    assert queue["applied"] and queue["label"] == str(desk["l1"])
    _agrees(t, desk["l1"], desk["frontline"])


def test_a_rule_s_queue_brings_its_team(admin, agent, desk):
    web = make_component(admin, "Web App", support_team_id=desk["frontline"])
    r = admin.post("/api/v1/triage/rules", json={
        "name": "Database errors to L2", "conditions": {"all": [
            {"field": "error_code", "op": "starts_with", "value": "DB-"}]},
        "actions": [{"type": "set_queue", "value": desk["l2"]}]})
    assert r.status_code == 201, r.text
    t = create_ticket(agent, subject="Writes fail with DB-5012", description="Every write fails with DB-5012.",
                      component_id=web["id"])
    _agrees(t, desk["l2"], desk["dba"])
    assert t["tier"] == "L2"


def test_a_patched_queue_brings_its_team_and_a_patched_team_moves_the_ticket_to_its_queue(admin, agent, desk):
    t = create_ticket(agent)
    _agrees(t, desk["l1"], desk["frontline"])
    moved = patch_ticket(agent, t["key"], queue_id=desk["l2"])
    _agrees(moved, desk["l2"], desk["dba"])
    assert moved["tier"] == "L2"
    back = patch_ticket(agent, t["key"], team_id=desk["frontline"])  # Frontline's queue of the ticket's tier
    assert back["team_id"] == desk["frontline"] and back["queue_id"] is None  # Frontline has no L2 queue
    assert "no L2 queue" in get_ticket(agent, t["key"])["triage"]["last_run"]["routing_note"]
    frontline_l2 = make_queue(admin, "L2 Frontline", "L2", team_id=desk["frontline"])
    patch_ticket(agent, t["key"], queue_id=desk["l2"])
    _agrees(patch_ticket(agent, t["key"], team_id=desk["frontline"]), frontline_l2["id"], desk["frontline"])


def test_escalation_gives_the_ticket_the_new_queue_s_team(agent, desk):
    t = create_ticket(agent)
    r = agent.post(f"/api/v1/tickets/{t['key']}/escalate", json={"to_tier": "L2", "reason": "needs a DBA"})
    assert r.status_code == 200, r.text
    _agrees(get_ticket(agent, t["key"]), desk["l2"], desk["dba"])


def test_a_caller_naming_a_queue_and_another_team_is_a_422_naming_team_id(agent, desk, factory):
    before = factory.audit_count(action="tickets.create")
    r = agent.post("/api/v1/tickets", json={"subject": "x", "description": "y", "requester_email": "a@b.example",
                                            "queue_id": desk["l1"], "team_id": desk["dba"]})
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["team_id"]
    assert factory.audit_count(action="tickets.create") == before
    t = create_ticket(agent, queue_id=desk["l1"], team_id=desk["frontline"])  # agreeing: fine
    _agrees(t, desk["l1"], desk["frontline"])
    r = agent.patch(f"/api/v1/tickets/{t['key']}", json={"queue_id": desk["l2"], "team_id": desk["frontline"]})
    assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["team_id"]
    _agrees(get_ticket(agent, t["key"]), desk["l1"], desk["frontline"])


def test_a_rule_setting_a_queue_and_another_team_is_a_422_when_saved(admin, desk):
    r = admin.post("/api/v1/triage/rules", json={
        "name": "At odds", "conditions": {"all": [{"field": "priority", "op": "equals", "value": "P1"}]},
        "actions": [{"type": "set_queue", "value": desk["l1"]}, {"type": "set_team", "value": desk["dba"]}]})
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["actions.1.value"]
    r = admin.post("/api/v1/triage/rules", json={
        "name": "Agreeing", "conditions": {"all": [{"field": "priority", "op": "equals", "value": "P1"}]},
        "actions": [{"type": "set_queue", "value": desk["l1"]}, {"type": "set_team", "value": desk["frontline"]}]})
    assert r.status_code == 201, r.text


def test_a_rule_s_team_steers_the_queue_of_the_tier(admin, agent, desk):
    dba_l1 = make_queue(admin, "L1 Database", "L1", team_id=desk["dba"])
    r = admin.post("/api/v1/triage/rules", json={
        "name": "Replication to the DBAs", "conditions": {"all": [
            {"field": "subject", "op": "contains", "value": "replica"}]},
        "actions": [{"type": "set_team", "value": desk["dba"]}]})
    assert r.status_code == 201, r.text
    _agrees(create_ticket(agent, subject="Replica lag keeps growing"), dba_l1["id"], desk["dba"])
