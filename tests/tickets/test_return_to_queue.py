"""Deactivating an agent or marking them unavailable returns their open tickets to their queues."""

from __future__ import annotations

from sqlalchemy import select

from tests.helpers import SYSTEM
from tests.tickets.conftest import create_ticket, get_ticket, patch_ticket
from tierline.platform.outbox import OutboxMessage
from tierline.tickets import service


def test_marking_an_agent_unavailable_returns_their_unsolved_tickets_to_their_queues(
        admin, agent, factory, make_queue, db):
    queue = make_queue()
    worker = factory.user(roles=["agent_l2"])
    open_one = create_ticket(agent, assignee_id=worker.id, queue_id=queue["id"])
    pending = create_ticket(agent, assignee_id=worker.id)
    patch_ticket(agent, pending["key"], status="pending_customer")
    solved = patch_ticket(agent, create_ticket(agent, assignee_id=worker.id)["key"], status="solved")
    someone_elses = create_ticket(agent, assignee_id=agent.user_id)

    r = admin.patch(f"/api/v1/users/{worker.id}", json={"available": False})
    assert r.status_code == 200, r.text

    returned = get_ticket(agent, open_one["key"])
    assert (returned["assignee_id"], returned["queue_id"], returned["status"]) == (None, queue["id"], "open")
    assert get_ticket(agent, pending["key"])["assignee_id"] is None
    assert get_ticket(agent, solved["key"])["assignee_id"] == worker.id
    assert get_ticket(agent, someone_elses["key"])["assignee_id"] == agent.user_id
    assert factory.audit_count(action="tickets.return_to_queue") == 2
    with db.session(write=False) as s:
        payloads = s.scalars(select(OutboxMessage.payload)
                             .where(OutboxMessage.topic == "ticket.returned_to_queue"))
        assert sorted(p["key"] for p in payloads) == sorted([open_one["key"], pending["key"]])


def test_returning_tickets_reports_how_many_and_is_harmless_twice(agent, factory, db):
    worker = factory.user(roles=["agent_l1"])
    create_ticket(agent, assignee_id=worker.id)
    with db.unit_of_work() as s:
        assert service.return_open_tickets_to_queue(s, actor=SYSTEM, user_id=worker.id) == 1
    with db.unit_of_work() as s:
        assert service.return_open_tickets_to_queue(s, actor=SYSTEM, user_id=worker.id) == 0
