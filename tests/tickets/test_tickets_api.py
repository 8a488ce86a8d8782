"""Creating, reading, changing and listing tickets through the API."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.tickets.conftest import create_ticket, get_ticket, patch_ticket
from tierline.customers.models import Contact
from tierline.platform import clock
from tierline.platform.audit import AuditEvent
from tierline.platform.outbox import OutboxMessage
from tierline.tickets.models import Ticket, TicketTag

PROBLEM = "application/problem+json"


def _fields(response) -> set[str]:  # noqa: ANN001
    assert response.headers["content-type"].startswith(PROBLEM), response.text
    return {e["field"] for e in response.json()["errors"]}


def test_it_creates_a_ticket_with_defaults_a_key_and_status_new(agent, factory):
    r = agent.post("/api/v1/tickets", json={"subject": "VPN drops", "description": "Every 10 minutes.",
                                            "requester_email": "Bob@Example.COM"})
    assert r.status_code == 201, r.text
    t = r.json()
    assert t["key"] == f"T-{t['id']}"
    assert (t["status"], t["type"], t["priority"], t["channel"]) == ("new", "question", "P3", "api")
    assert t["requester_email"] == "bob@example.com"
    assert t["version"] == 1 and r.headers["ETag"] == '"1"'
    assert r.headers["Location"] == f"/api/v1/tickets/{t['key']}"
    assert factory.audit_count(action="tickets.create", entity_id=str(t["id"])) == 1
    assert factory.count(OutboxMessage) >= 1


def test_it_reads_a_ticket_by_key_with_its_etag(agent):
    t = create_ticket(agent)
    r = agent.get(f"/api/v1/tickets/{t['key']}")
    assert r.status_code == 200 and r.json()["id"] == t["id"]
    assert r.headers["ETag"] == '"1"'
    assert agent.get(f"/api/v1/tickets/t-{t['id']}").status_code == 200


@pytest.mark.parametrize("key", ["T-999", "T-abc", "X-1", "T-0", "1", "T-1-2"])
def test_a_bad_or_unknown_key_is_a_404_problem(agent, key):
    create_ticket(agent)
    r = agent.get(f"/api/v1/tickets/{key}")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith(PROBLEM)


def test_it_rejects_missing_required_fields_naming_each_and_writes_nothing(agent, factory):
    audit_before = factory.count(AuditEvent)
    r = agent.post("/api/v1/tickets", json={"priority": "P2"})
    assert r.status_code == 422
    assert {"subject", "description"} <= _fields(r)
    # The requester is optional for a customer (their own address) and required from staff.
    r = agent.post("/api/v1/tickets", json={"subject": "s", "description": "d"})
    assert r.status_code == 422 and _fields(r) == {"requester_email"}
    assert factory.count(Ticket) == 0 and factory.count(AuditEvent) == audit_before


@pytest.mark.parametrize(("extra", "field"), [
    ({"priority": "P9"}, "priority"),
    ({"type": "complaint"}, "type"),
    ({"channel": "fax"}, "channel"),
    ({"tier": "L4"}, "tier"),
    ({"urgency": "extreme"}, "urgency"),
    ({"affected_users": -1}, "affected_users"),
    ({"tags": ["two words"]}, "tags"),
    ({"custom_fields": {"Bad Key": 1}}, "custom_fields"),
    ({"requester_email": "not-an-email"}, "requester_email"),
    ({"subject": "   "}, "subject"),
    ({"status": "open"}, "status"),
    ({"colour": "red"}, "colour"),
])
def test_it_rejects_bad_input_naming_the_field(agent, factory, extra, field):
    audit_before = factory.count(AuditEvent)
    body = {"subject": "s", "description": "d", "requester_email": "a@b.example", **extra}
    r = agent.post("/api/v1/tickets", json=body)
    assert r.status_code == 422, r.text
    assert field in _fields(r)
    assert factory.count(Ticket) == 0 and factory.count(AuditEvent) == audit_before


def test_it_rejects_foreign_ids_that_do_not_exist_naming_every_one(agent, factory):
    audit_before = factory.count(AuditEvent)
    r = agent.post("/api/v1/tickets", json={
        "subject": "s", "description": "d", "requester_email": "a@b.example", "customer_id": 999,
        "component_id": 998, "team_id": 997, "queue_id": 996, "assignee_id": 995})
    assert r.status_code == 422
    assert _fields(r) == {"customer_id", "component_id", "team_id", "queue_id", "assignee_id"}
    assert factory.count(Ticket) == 0 and factory.count(AuditEvent) == audit_before


@pytest.mark.parametrize("roles", [["customer"], ["product_manager"], ["integration"]])
def test_it_refuses_an_assignee_who_does_not_work_tickets(agent, factory, roles):
    other = factory.user(roles=roles)
    r = agent.post("/api/v1/tickets", json={"subject": "s", "description": "d",
                                            "requester_email": "a@b.example", "assignee_id": other.id})
    assert r.status_code == 422 and _fields(r) == {"assignee_id"}


def test_it_refuses_a_deactivated_assignee(agent, admin, factory):
    other = factory.user(roles=["agent_l2"])
    r = admin.patch(f"/api/v1/users/{other.id}", json={"active": False})
    assert r.status_code == 200, r.text
    r = agent.post("/api/v1/tickets", json={"subject": "s", "description": "d",
                                            "requester_email": "a@b.example", "assignee_id": other.id})
    assert r.status_code == 422 and "deactivated" in r.json()["errors"][0]["message"]


def test_creating_with_an_assignee_opens_the_ticket(agent):
    t = create_ticket(agent, assignee_id=agent.user_id)
    assert t["status"] == "open" and t["assignee_id"] == agent.user_id


def test_assigning_a_new_ticket_opens_it(agent):
    t = create_ticket(agent)
    t = patch_ticket(agent, t["key"], assignee_id=agent.user_id)
    assert t["status"] == "open"


def test_it_resolves_the_customer_from_the_requester_email_domain(agent, make_customer, factory):
    customer = make_customer(email_domains=["acme.example"])
    t = create_ticket(agent, requester_email="new.person@acme.example")
    assert t["customer_id"] == customer["id"]
    assert factory.count(Contact) == 1
    unknown = create_ticket(agent, requester_email="who@elsewhere.example")
    assert unknown["customer_id"] is None


def test_an_explicit_customer_id_wins_over_the_email_domain(agent, make_customer):
    acme = make_customer(email_domains=["acme.example"])
    other = make_customer(name="Globex", external_id="globex")
    t = create_ticket(agent, requester_email="x@acme.example", customer_id=other["id"])
    assert t["customer_id"] == other["id"] != acme["id"]


def test_tags_are_normalised_to_lower_case_and_unique(agent, factory):
    t = create_ticket(agent, tags=["VPN", " vpn", "Billing"])
    assert t["tags"] == ["vpn", "billing"]
    assert factory.count(TicketTag) == 2
    t = patch_ticket(agent, t["key"], tags=["billing", "Refund"])
    assert t["tags"] == ["billing", "refund"]
    assert factory.count(TicketTag) == 2
    found = agent.get("/api/v1/tickets", params={"tag": "REFUND"}).json()["items"]
    assert [x["key"] for x in found] == [t["key"]]
    assert agent.get("/api/v1/tickets", params={"tag": "vpn"}).json()["items"] == []


def test_patch_changes_fields_and_writes_one_audit_event_with_before_and_after(agent, factory, db):
    t = create_ticket(agent)
    before = factory.count(AuditEvent)
    t2 = patch_ticket(agent, t["key"], priority="P1", subject="Nobody can log in", status="pending_customer")
    assert (t2["priority"], t2["subject"], t2["status"], t2["version"]) == ("P1", "Nobody can log in",
                                                                           "pending_customer", 2)
    assert factory.count(AuditEvent) == before + 1
    with db.session(write=False) as s:
        event = s.query(AuditEvent).order_by(AuditEvent.seq.desc()).first()
    assert event.action == "tickets.update" and event.entity_id == str(t["id"])
    assert event.changes["priority"] == ["P3", "P1"]
    assert event.changes["status"] == ["new", "pending_customer"]
    # Triage re-ran on the change: the derived fields it moved are part of the same event.
    assert set(event.changes) - {"impact_score", "impact_explain", "signature"} == {"priority", "subject", "status"}


def test_a_patch_that_changes_nothing_writes_nothing(agent, factory):
    t = create_ticket(agent, priority="P2")
    before = factory.count(AuditEvent)
    t2 = patch_ticket(agent, t["key"], priority="P2")
    assert t2["version"] == 1 and factory.count(AuditEvent) == before


def test_patch_refuses_null_for_a_required_field_and_changes_nothing(agent, factory):
    t = create_ticket(agent)
    before = factory.count(AuditEvent)
    r = agent.patch(f"/api/v1/tickets/{t['key']}", json={"subject": None, "priority": "P1"})
    assert r.status_code == 422 and _fields(r) == {"subject"}
    assert get_ticket(agent, t["key"])["priority"] == "P3" and factory.count(AuditEvent) == before


def test_patch_merges_custom_fields_and_a_null_removes_a_key(agent):
    t = create_ticket(agent, custom_fields={"browser": "firefox", "os": "linux"})
    t = patch_ticket(agent, t["key"], custom_fields={"os": None, "plan_tier": 3})
    assert t["custom_fields"] == {"browser": "firefox", "plan_tier": 3}


def test_patch_can_clear_an_optional_field(agent, make_team):
    team = make_team()
    t = create_ticket(agent, team_id=team["id"], urgency="high")
    t = patch_ticket(agent, t["key"], team_id=None, urgency=None)
    assert t["team_id"] is None and t["urgency"] is None


def test_patch_with_a_stale_if_match_is_409_and_changes_nothing(agent, factory):
    t = create_ticket(agent)
    ok = agent.patch(f"/api/v1/tickets/{t['key']}", json={"priority": "P2"}, headers={"If-Match": '"1"'})
    assert ok.status_code == 200 and ok.headers["ETag"] == '"2"'
    before = factory.count(AuditEvent)
    stale = agent.patch(f"/api/v1/tickets/{t['key']}", json={"priority": "P1"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 409 and stale.headers["content-type"].startswith(PROBLEM)
    assert get_ticket(agent, t["key"])["priority"] == "P2" and factory.count(AuditEvent) == before
    weak = agent.patch(f"/api/v1/tickets/{t['key']}", json={"priority": "P1"}, headers={"If-Match": 'W/"2"'})
    assert weak.status_code == 200
    bad = agent.patch(f"/api/v1/tickets/{t['key']}", json={"priority": "P4"},
                      headers={"If-Match": "yesterday"})
    assert bad.status_code == 422 and _fields(bad) == {"If-Match"}


def test_a_concurrent_stale_write_is_a_conflict(agent, db):
    from tests.helpers import SYSTEM
    from tierline.flows import ticket_update
    from tierline.platform.errors import Conflict
    from tierline.tickets import service

    t = create_ticket(agent)
    slow = db.session(write=True)
    try:
        ticket = service.get_by_key(slow, key=t["key"])  # read version 1 ...
        slow.commit()  # ... and keep the object (expire_on_commit is off) while another writer goes first
        patch_ticket(agent, t["key"], priority="P1")
        with pytest.raises(Conflict):
            ticket_update.update(slow, actor=SYSTEM, ticket=ticket, changes={"priority": "P4"})
        slow.rollback()
    finally:
        slow.close()
    assert get_ticket(agent, t["key"])["priority"] == "P1"


def test_an_idempotent_retry_returns_the_same_ticket(agent, factory):
    headers = {"Idempotency-Key": "create-42"}
    first = agent.post("/api/v1/tickets", json={"subject": "s", "description": "d",
                                                "requester_email": "a@b.example"}, headers=headers)
    again = agent.post("/api/v1/tickets", json={"subject": "s", "description": "d",
                                                "requester_email": "a@b.example"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and again.headers["ETag"] == '"1"'
    assert factory.count(Ticket) == 1
    other = agent.post("/api/v1/tickets", json={"subject": "other", "description": "d",
                                                "requester_email": "a@b.example"}, headers=headers)
    assert other.status_code == 422 and _fields(other) == {"Idempotency-Key"}
    assert factory.count(Ticket) == 1


def test_a_failed_request_does_not_use_up_its_idempotency_key(agent, factory):
    headers = {"Idempotency-Key": "retry-me"}
    bad = agent.post("/api/v1/tickets", headers=headers, json={
        "subject": "s", "description": "d", "requester_email": "a@b.example", "queue_id": 5})
    assert bad.status_code == 422
    good = agent.post("/api/v1/tickets", json={"subject": "s", "description": "d",
                                               "requester_email": "a@b.example"}, headers=headers)
    assert good.status_code == 201 and factory.count(Ticket) == 1


def test_the_list_is_newest_first_and_pages_by_cursor(agent):
    keys = []
    for i in range(5):
        keys.append(create_ticket(agent, subject=f"ticket {i}")["key"])
        clock.advance(timedelta(minutes=1))
    page1 = agent.get("/api/v1/tickets", params={"limit": 2}).json()
    page2 = agent.get("/api/v1/tickets", params={"limit": 2, "cursor": page1["next_cursor"]}).json()
    page3 = agent.get("/api/v1/tickets", params={"limit": 2, "cursor": page2["next_cursor"]}).json()
    seen = [t["key"] for p in (page1, page2, page3) for t in p["items"]]
    assert seen == list(reversed(keys)) and page3["next_cursor"] is None


def test_the_list_orders_by_last_change_on_request(agent):
    old = create_ticket(agent, subject="old")
    clock.advance(timedelta(minutes=1))
    new = create_ticket(agent, subject="new")
    clock.advance(timedelta(minutes=1))
    patch_ticket(agent, old["key"], priority="P2")
    by_created = [t["key"] for t in agent.get("/api/v1/tickets").json()["items"]]
    by_updated = [t["key"] for t in
                  agent.get("/api/v1/tickets", params={"order_by": "updated_at"}).json()["items"]]
    assert by_created == [new["key"], old["key"]] and by_updated == [old["key"], new["key"]]
    r = agent.get("/api/v1/tickets", params={"order_by": "colour"})
    assert r.status_code == 422 and _fields(r) == {"order_by"}


def test_the_list_filters_by_every_field_a_user_expects(agent, factory, make_team, make_customer,
                                                        make_component, make_queue):
    team, customer = make_team(), make_customer()
    parent = make_component(name="Auth")
    child = make_component(name="SSO", parent_id=parent["id"])
    queue = make_queue(team_id=team["id"])
    other_agent = factory.user(roles=["agent_l2"])
    a = create_ticket(agent, priority="P1", type="incident", customer_id=customer["id"], team_id=team["id"],
                      component_id=child["id"], queue_id=queue["id"], tags=["sso"],
                      assignee_id=other_agent.id, requester_email="ann@acme.example")
    clock.advance(timedelta(hours=1))
    b = create_ticket(agent, priority="P4", type="bug", requester_email="bob@beta.example")

    def keys(**params) -> list[str]:  # noqa: ANN003
        r = agent.get("/api/v1/tickets", params=params)
        assert r.status_code == 200, r.text
        return [t["key"] for t in r.json()["items"]]

    assert keys(status="open") == [a["key"]] and keys(status=["open", "new"]) == [b["key"], a["key"]]
    assert keys(priority="P1") == [a["key"]] and keys(type="bug") == [b["key"]]
    assert keys(customer_id=customer["id"]) == [a["key"]]
    assert keys(assignee_id=other_agent.id) == [a["key"]]
    assert keys(unassigned="true") == [b["key"]] and keys(unassigned="false") == [a["key"]]
    # b named no queue: triage routed it to the default (the only) queue, whose team it takes.
    assert keys(team_id=team["id"]) == [b["key"], a["key"]] and keys(queue_id=queue["id"]) == [b["key"], a["key"]]
    assert keys(component_id=parent["id"]) == [a["key"]]  # the subtree
    assert keys(component_id=child["id"]) == [a["key"]]
    assert keys(tag="sso") == [a["key"]]
    assert keys(requester_email="BOB@beta.example") == [b["key"]]
    assert keys(created_after=(clock.now() - timedelta(minutes=30)).isoformat()) == [b["key"]]
    assert keys(created_before=(clock.now() - timedelta(minutes=30)).isoformat()) == [a["key"]]
    naive = agent.get("/api/v1/tickets", params={"created_after": "2026-01-01T00:00:00"})
    assert naive.status_code == 422 and _fields(naive) == {"created_after"}
    unknown = agent.get("/api/v1/tickets", params={"stauts": "open"})
    assert unknown.status_code == 422 and _fields(unknown) == {"stauts"}


def test_a_bad_patch_names_the_field_and_changes_nothing(agent, factory):
    t = create_ticket(agent)
    before = factory.count(AuditEvent)
    for body, fields in (({"assignee_id": 999, "queue_id": 998}, {"assignee_id", "queue_id"}),
                         ({"status": "archived"}, {"status"}), ({"priority": "P0"}, {"priority"}),
                         ({"channel": "email"}, {"channel"}), ({"tags": "vpn"}, {"tags"})):
        r = agent.patch(f"/api/v1/tickets/{t['key']}", json=body)
        assert r.status_code == 422, (body, r.text)
        assert _fields(r) == fields
    assert get_ticket(agent, t["key"]) == t | {"follow_up_of_key": None}
    assert factory.count(AuditEvent) == before
    assert agent.patch("/api/v1/tickets/T-999", json={"priority": "P1"}).status_code == 404
