"""Helpers for the assignment, tier and escalation tests: agents with profiles, queues, held tickets."""

from __future__ import annotations

from typing import Any

from tests.helpers import Api, Factory
from tierline.platform.db import Database
from tierline.triage import assignment
from tierline.triage.types import AssignmentResult, Draft


def make_agent(factory: Factory, admin: Api, *roles: str, skills: tuple[str, ...] = (), max_open: int = 20,
               available: bool = True, active: bool = True, email: str | None = None) -> int:
    user = factory.user(roles=list(roles), email=email)
    r = admin.patch(f"/api/v1/users/{user.id}", json={"skills": list(skills), "max_open_tickets": max_open,
                                                       "available": available, "active": active})
    assert r.status_code == 200, r.text
    return user.id


def make_queue(admin: Api, name: str, tier: str = "L1", *, team_id: int | None = None,
               strategy: str = "round_robin", skills: tuple[str, ...] = ()) -> dict:
    r = admin.post("/api/v1/queues", json={"name": name, "tier": tier, "team_id": team_id,
                                           "assignment_strategy": strategy, "required_skills": list(skills)})
    assert r.status_code == 201, r.text
    return r.json()


def make_team(admin: Api, name: str, member_ids: list[int] | None = None, kind: str = "support") -> dict:
    r = admin.post("/api/v1/teams", json={"name": name, "kind": kind, "member_ids": member_ids or []})
    assert r.status_code == 201, r.text
    return r.json()


def make_component(admin: Api, name: str, *, parent_id: int | None = None, support_team_id: int | None = None,
                   skills: tuple[str, ...] = ()) -> dict:
    r = admin.post("/api/v1/components", json={"name": name, "parent_id": parent_id,
                                               "support_team_id": support_team_id,
                                               "required_skills": list(skills)})
    assert r.status_code == 201, r.text
    return r.json()


def hold(api: Api, user_id: int, priority: str = "P3", status: str | None = None) -> dict:
    """A ticket assigned to `user_id` (so it counts toward their load unless `status` solves it)."""
    r = api.post("/api/v1/tickets", json={"subject": "Held", "description": "Work on someone's desk.",
                                          "requester_email": "held@customer.example", "priority": priority,
                                          "assignee_id": user_id})
    assert r.status_code == 201, r.text
    if status is not None:
        r = api.patch(f"/api/v1/tickets/{r.json()['key']}", json={"status": status})
        assert r.status_code == 200, r.text
    return r.json()


def pick(db: Database, queue_id: int, *, dry_run: bool = False, **fields: Any) -> AssignmentResult:
    """One assignment in its own transaction, as intake would run it."""
    draft = Draft(subject="Replica lag", description="The read replica is hours behind.",
                  requester_email="ops@customer.example", **fields)
    with db.unit_of_work() as session:
        return assignment.choose(session, draft=draft, queue_id=queue_id, dry_run=dry_run)
