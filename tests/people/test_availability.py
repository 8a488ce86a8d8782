"""Deactivating a user or marking an agent unavailable returns their open tickets to their queues."""

from __future__ import annotations

import pytest

from tierline.people import service
from tierline.platform.auth.models import User
from tests.helpers import SYSTEM


@pytest.fixture
def assigned(admin, client, factory):  # noqa: ANN001, ANN201
    """An L2 agent holding two open tickets in a queue."""
    worker = factory.api(client, roles=["agent_l2"], email="holder@example.com")
    queue = admin.post("/api/v1/queues", json={"name": "L2 general", "tier": "L2"})
    assert queue.status_code == 201, queue.text
    keys = []
    for n in range(2):
        r = admin.post("/api/v1/tickets", json={
            "subject": f"Export fails {n}", "description": "CSV export times out after 30 s",
            "requester_email": "ops@customer.example.com", "assignee_id": worker.user_id,
            "queue_id": queue.json()["id"],
        })
        assert r.status_code == 201, r.text
        keys.append(r.json()["key"])
    return worker, queue.json()["id"], keys


@pytest.mark.parametrize("change", [{"active": False}, {"available": False}])
def test_it_returns_open_tickets_to_their_queue(admin, factory, assigned, change):
    worker, queue_id, keys = assigned
    r = admin.patch(f"/api/v1/users/{worker.user_id}", json=change)
    assert r.status_code == 200, r.text
    for key in keys:
        ticket = admin.get(f"/api/v1/tickets/{key}").json()
        assert ticket["assignee_id"] is None
        assert ticket["queue_id"] == queue_id
    assert factory.audit_count(action="tickets.return_to_queue") == len(keys)


def test_becoming_available_again_returns_nothing(admin, factory, assigned):
    worker, _, keys = assigned
    r = admin.patch(f"/api/v1/users/{worker.user_id}", json={"available": True, "max_open_tickets": 3})
    assert r.status_code == 200
    assert all(admin.get(f"/api/v1/tickets/{k}").json()["assignee_id"] == worker.user_id for k in keys)
    assert factory.audit_count(action="tickets.return_to_queue") == 0


def test_only_active_available_agents_are_assignable(db, factory):
    l1 = factory.user(roles=["agent_l1"])
    sme = factory.user(roles=["sme"])
    pm = factory.user(roles=["product_manager"])
    with db.unit_of_work() as session:
        assert service.is_assignable_agent(session, user_id=l1.id)
        assert service.is_assignable_agent(session, user_id=sme.id)
        assert not service.is_assignable_agent(session, user_id=pm.id)
        assert not service.is_assignable_agent(session, user_id=999_999)
        service.update_user(session, actor=SYSTEM, user_id=sme.id, available=False)
        assert not service.is_assignable_agent(session, user_id=sme.id)


def test_ensure_profile_is_idempotent(db, factory):
    user = factory.user(roles=["agent_l1"])
    events = factory.audit_count(entity_type="agent_profiles")
    with db.unit_of_work() as session:
        first = service.get_profile(session, user_id=user.id)
        again = service.ensure_profile(session, actor=SYSTEM, user=session.get(User, user.id))
        assert first is not None and again is first
    assert factory.audit_count(entity_type="agent_profiles") == events
