"""Escalation between tiers: POST /tickets/{key}/escalate and /de-escalate move a ticket to another tier's
default queue and assign it again there; a move the wrong way is a 409 listing the allowed tiers."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.tickets.conftest import create_ticket, get_ticket, patch_ticket
from tests.triage.assignment_helpers import make_agent, make_component, make_queue, make_team
from tierline.platform.audit import AuditEvent
from tierline.platform.outbox import OutboxMessage
from tierline.tickets.models import Ticket


@pytest.fixture
def desk(admin, factory):  # noqa: ANN001, ANN201
    """L1 and L2 queues, a database component supported by the database team, an agent in each tier."""
    l1_agent = make_agent(factory, admin, "agent_l1", skills=("postgres", "general"))
    dba = make_agent(factory, admin, "agent_l2", skills=("postgres",))
    other_l2 = make_agent(factory, admin, "agent_l2")
    db_team = make_team(admin, "Database support", [dba])
    l1 = make_queue(admin, "L1 general", "L1")
    l2_any = make_queue(admin, "L2 general", "L2")
    l2_db = make_queue(admin, "L2 database", "L2", team_id=db_team["id"])
    component = make_component(admin, "Database", support_team_id=db_team["id"], skills=("postgres",))
    return {"l1_agent": l1_agent, "dba": dba, "other_l2": other_l2, "db_team": db_team, "l1": l1,
            "l2_any": l2_any, "l2_db": l2_db, "component": component}


def _l1_ticket(api, desk, **fields):  # noqa: ANN001, ANN003, ANN202
    return create_ticket(api, tier="L1", queue_id=desk["l1"]["id"], assignee_id=desk["l1_agent"],
                         component_id=desk["component"]["id"], **fields)


def _outbox(db, topic):  # noqa: ANN001, ANN202
    with db.session(write=False) as s:
        return list(s.scalars(select(OutboxMessage.payload).where(OutboxMessage.topic == topic)))


def test_escalating_moves_the_ticket_to_the_components_l2_queue_and_reassigns_it(agent, desk, factory, db):
    ticket = _l1_ticket(agent, desk)
    r = agent.post(f"/api/v1/tickets/{ticket['key']}/escalate",
                   json={"to_tier": "L2", "reason": "Replication lag needs a DBA"})
    assert r.status_code == 200, r.text
    moved = r.json()
    assert (moved["tier"], moved["queue_id"]) == ("L2", desk["l2_db"]["id"])
    assert moved["team_id"] == desk["db_team"]["id"]
    assert (moved["assignee_id"], moved["waiting_reason"], moved["status"]) == (desk["dba"], None, "open")
    assert r.headers["ETag"] == f'"{moved["version"]}"'
    assert get_ticket(agent, ticket["key"]) == moved

    [event] = [e for e in _audit(db, ticket["id"]) if e.action == "tickets.escalate"]
    assert event.note == "Replication lag needs a DBA"
    assert event.changes["tier"] == ["L1", "L2"]
    assert event.changes["assignee_id"] == [desk["l1_agent"], desk["dba"]]
    [message] = _outbox(db, "ticket.escalated")
    assert (message["from_tier"], message["to_tier"]) == ("L1", "L2")
    assert (message["previous_assignee_id"], message["assignee_id"]) == (desk["l1_agent"], desk["dba"])
    assert message["reason"] == "Replication lag needs a DBA"


def _audit(db, ticket_id):  # noqa: ANN001, ANN202
    with db.session(write=False) as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.entity_type == "tickets",
                                                       AuditEvent.entity_id == str(ticket_id))
                              .order_by(AuditEvent.seq)))


def test_de_escalating_goes_back_to_an_l1_queue(agent, desk, db):
    ticket = _l1_ticket(agent, desk)
    agent.post(f"/api/v1/tickets/{ticket['key']}/escalate", json={"to_tier": "L2", "reason": "needs a DBA"})
    r = agent.post(f"/api/v1/tickets/{ticket['key']}/de-escalate",
                   json={"to_tier": "L1", "reason": "It was a forgotten password after all"})
    assert r.status_code == 200, r.text
    back = r.json()
    assert (back["tier"], back["queue_id"], back["assignee_id"]) == ("L1", desk["l1"]["id"], desk["l1_agent"])
    assert [m["to_tier"] for m in _outbox(db, "ticket.de_escalated")] == ["L1"]
    assert [e.action for e in _audit(db, ticket["id"])][-2:] == ["tickets.escalate", "tickets.de_escalate"]


@pytest.mark.parametrize(("path", "tier", "allowed"), [
    ("escalate", "L1", ["L2", "L3"]),  # the same tier
    ("de-escalate", "L1", []),  # nothing is below L1
    ("de-escalate", "L2", []),  # de-escalating upwards
])
def test_a_move_in_the_wrong_direction_is_a_409_listing_the_allowed_tiers_and_changes_nothing(
        agent, desk, factory, path, tier, allowed):
    ticket = _l1_ticket(agent, desk)
    events = factory.audit_count()
    r = agent.post(f"/api/v1/tickets/{ticket['key']}/{path}", json={"to_tier": tier, "reason": "because"})
    assert r.status_code == 409, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["allowed"] == allowed and r.json()["current_tier"] == "L1"
    assert factory.audit_count() == events
    assert get_ticket(agent, ticket["key"]) == ticket


def test_escalating_down_from_l3_names_the_tiers_below(admin, agent, desk, factory):
    make_queue(admin, "L3 engineering", "L3")
    ticket = _l1_ticket(agent, desk)
    assert agent.post(f"/api/v1/tickets/{ticket['key']}/escalate",
                      json={"to_tier": "L3", "reason": "code bug"}).status_code == 200
    r = agent.post(f"/api/v1/tickets/{ticket['key']}/escalate", json={"to_tier": "L2", "reason": "oops"})
    assert r.status_code == 409 and r.json()["allowed"] == []
    r = agent.post(f"/api/v1/tickets/{ticket['key']}/de-escalate", json={"to_tier": "L3", "reason": "oops"})
    assert r.status_code == 409 and r.json()["allowed"] == ["L1", "L2"]


def test_when_nobody_fits_the_ticket_waits_unassigned_in_the_new_queue_with_the_reason(admin, agent, desk):
    admin.patch(f"/api/v1/users/{desk['dba']}", json={"available": False})
    ticket = _l1_ticket(agent, desk)
    r = agent.post(f"/api/v1/tickets/{ticket['key']}/escalate",
                   json={"to_tier": "L2", "reason": "DBA needed"})
    assert r.status_code == 200, r.text
    assert (r.json()["queue_id"], r.json()["assignee_id"]) == (desk["l2_db"]["id"], None)
    assert r.json()["waiting_reason"].startswith("nobody fits queue 'L2 database' (L2)")
    assert "1 unavailable" in r.json()["waiting_reason"]


def test_a_new_unassigned_ticket_opens_when_escalation_assigns_it(agent, desk):
    ticket = create_ticket(agent, tier="L1", queue_id=desk["l1"]["id"], component_id=desk["component"]["id"])
    if ticket["assignee_id"] is None:  # (intake triage may already have assigned it)
        assert ticket["status"] == "new"
    r = agent.post(f"/api/v1/tickets/{ticket['key']}/escalate",
                   json={"to_tier": "L2", "reason": "DBA needed"})
    assert (r.json()["assignee_id"], r.json()["status"]) == (desk["dba"], "open")


def test_a_tier_without_a_queue_is_a_409(agent, desk, factory):
    ticket = _l1_ticket(agent, desk)
    events = factory.audit_count()
    r = agent.post(f"/api/v1/tickets/{ticket['key']}/escalate", json={"to_tier": "L3", "reason": "code bug"})
    assert r.status_code == 409 and r.json()["allowed"] == ["L2"]
    assert "no L3 queue" in r.json()["detail"]
    assert factory.audit_count() == events


def test_only_unsolved_tickets_change_tier(agent, desk, factory):
    ticket = patch_ticket(agent, _l1_ticket(agent, desk)["key"], status="solved")
    r = agent.post(f"/api/v1/tickets/{ticket['key']}/escalate", json={"to_tier": "L2", "reason": "late"})
    assert r.status_code == 409 and r.json()["allowed"] == []
    assert get_ticket(agent, ticket["key"])["tier"] == "L1"


def test_a_ticket_without_a_tier_counts_as_l1(agent, desk, db):
    ticket = create_ticket(agent, assignee_id=desk["l1_agent"])
    with db.unit_of_work() as s:  # a ticket from before triage: no tier, no queue
        row = s.get(Ticket, ticket["id"])
        row.tier, row.queue_id = None, None
    r = agent.post(f"/api/v1/tickets/{ticket['key']}/de-escalate", json={"to_tier": "L1", "reason": "x"})
    assert r.status_code == 409 and r.json()["current_tier"] == "L1"
    r = agent.post(f"/api/v1/tickets/{ticket['key']}/escalate", json={"to_tier": "L2", "reason": "x"})
    assert r.status_code == 200 and r.json()["tier"] == "L2"


def test_bad_bodies_name_the_field_and_change_nothing(agent, desk, factory):
    ticket = _l1_ticket(agent, desk)
    events = factory.audit_count()
    for body, field in (({"to_tier": "L4", "reason": "x"}, "to_tier"), ({"to_tier": "L2"}, "reason"),
                        ({"to_tier": "L2", "reason": "   "}, "reason"),
                        ({"to_tier": "L2", "reason": "x", "queue_id": 1}, "queue_id")):
        r = agent.post(f"/api/v1/tickets/{ticket['key']}/escalate", json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["errors"][0]["field"] == field
    missing = agent.post("/api/v1/tickets/T-999/escalate", json={"to_tier": "L2", "reason": "x"})
    assert missing.status_code == 404
    assert factory.audit_count() == events
    assert get_ticket(agent, ticket["key"]) == ticket


def test_customers_and_readers_may_not_move_tickets_between_tiers(agent, desk, client, factory):
    customer = factory.api(client, roles=["customer"], email="jane@acme.example")
    mine = _l1_ticket(agent, desk)  # requested by jane@acme.example
    r = customer.post(f"/api/v1/tickets/{mine['key']}/escalate", json={"to_tier": "L2", "reason": "hurry"})
    assert r.status_code == 403
    reader = factory.api(client, roles=["auditor"])
    r = reader.post(f"/api/v1/tickets/{mine['key']}/escalate", json={"to_tier": "L2", "reason": "hurry"})
    assert r.status_code == 403
    assert get_ticket(agent, mine["key"])["tier"] == "L1"
