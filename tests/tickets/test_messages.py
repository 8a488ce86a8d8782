"""Messages: first response, customer replies, internal notes, follow-ups, and what customers may see."""

from __future__ import annotations

from datetime import timedelta

from tests.tickets.conftest import create_ticket, get_ticket, patch_ticket, post_message
from tierline.platform import clock
from tierline.platform.audit import AuditEvent
from tierline.tickets.models import Message, Ticket


def test_the_first_public_agent_reply_sets_first_response_at(agent):
    t = create_ticket(agent)
    clock.advance(timedelta(minutes=5))
    post_message(agent, t["key"], body="internal: looks like the SSO outage", public=False)
    post_message(agent, t["key"], body="Me too", author_type="customer")
    assert get_ticket(agent, t["key"])["first_response_at"] is None
    clock.advance(timedelta(minutes=5))
    first = clock.now()
    post_message(agent, t["key"], body="We are on it.")
    clock.advance(timedelta(minutes=5))
    post_message(agent, t["key"], body="Fixed now.")
    assert get_ticket(agent, t["key"])["first_response_at"] == first.isoformat().replace("+00:00", "Z")


def test_a_customer_reply_reopens_a_pending_or_solved_ticket_but_not_one_on_hold(agent):
    for status, expected in (("pending_customer", "open"), ("solved", "open"), ("on_hold", "on_hold")):
        t = create_ticket(agent)
        patch_ticket(agent, t["key"], status=status)
        post_message(agent, t["key"], body="Still broken", author_type="customer")
        after = get_ticket(agent, t["key"])
        assert after["status"] == expected, status
        if status == "solved":
            assert after["solved_at"] is None


def test_a_customer_message_posted_by_an_agent_is_signed_by_the_requester(agent):
    t = create_ticket(agent, requester_email="jane@acme.example")
    m = post_message(agent, t["key"], body="(forwarded) it broke again", author_type="customer")
    assert (m["author_type"], m["author_email"], m["author_id"]) == ("customer", "jane@acme.example", None)
    m = post_message(agent, t["key"], body="cc", author_type="customer", author_email="Boss@Acme.example")
    assert m["author_email"] == "boss@acme.example"
    r = agent.post(f"/api/v1/tickets/{t['key']}/messages", json={"body": "x", "author_email": "a@b.example"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "author_email"
    r = agent.post(f"/api/v1/tickets/{t['key']}/messages",
                   json={"body": "x", "author_type": "customer", "public": False})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "public"


def test_bad_message_input_names_the_field_and_writes_nothing(agent, factory):
    t = create_ticket(agent)
    before = factory.count(AuditEvent)
    cases = (({"body": ""}, "body"), ({"body": "  "}, "body"), ({}, "body"),
             ({"body": "x", "author_type": "bot"}, "author_type"), ({"body": "x", "public": "maybe"}, "public"))
    for body, field in cases:
        r = agent.post(f"/api/v1/tickets/{t['key']}/messages", json=body)
        assert r.status_code == 422, body
        assert field in {e["field"] for e in r.json()["errors"]}
    assert factory.count(Message) == 0 and factory.count(AuditEvent) == before
    assert agent.post("/api/v1/tickets/T-999/messages", json={"body": "x"}).status_code == 404


def test_an_idempotent_message_retry_posts_once(agent, factory):
    t = create_ticket(agent)
    headers = {"Idempotency-Key": "msg-1"}
    a = agent.post(f"/api/v1/tickets/{t['key']}/messages", json={"body": "hello"}, headers=headers)
    b = agent.post(f"/api/v1/tickets/{t['key']}/messages", json={"body": "hello"}, headers=headers)
    assert a.status_code == b.status_code == 201 and a.json() == b.json()
    assert factory.count(Message) == 1


def test_a_customer_reply_to_a_closed_ticket_opens_a_linked_follow_up(agent, customer_api, factory):
    t = create_ticket(agent, requester_email=customer_api.email, priority="P2", tags=["vpn"])
    patch_ticket(agent, t["key"], status="solved")
    patch_ticket(agent, t["key"], status="closed")
    closed = get_ticket(agent, t["key"])
    m = post_message(customer_api, t["key"], body="It is broken again since this morning.")
    assert m["ticket_key"] != t["key"]
    follow_up = get_ticket(agent, m["ticket_key"])
    assert follow_up["follow_up_of_id"] == t["id"] and follow_up["follow_up_of_key"] == t["key"]
    assert follow_up["status"] == "new"
    assert follow_up["description"] == "It is broken again since this morning."
    assert follow_up["subject"] == f"Follow-up: {t['subject']}"
    assert (follow_up["priority"], follow_up["tags"], follow_up["requester_email"]) == ("P2", ["vpn"],
                                                                                       customer_api.email)
    assert get_ticket(agent, t["key"]) == closed
    assert agent.get(f"/api/v1/tickets/{t['key']}/messages").json()["items"] == []
    assert factory.count(Ticket) == 2


def test_an_agent_cannot_write_on_a_closed_ticket(agent):
    t = create_ticket(agent)
    patch_ticket(agent, t["key"], status="solved")
    patch_ticket(agent, t["key"], status="closed")
    r = agent.post(f"/api/v1/tickets/{t['key']}/messages", json={"body": "one more thing"})
    assert r.status_code == 409 and r.json()["allowed"] == []
    r = agent.patch(f"/api/v1/tickets/{t['key']}", json={"status": "open"})
    assert r.status_code == 409 and r.json()["allowed"] == []
    r = agent.patch(f"/api/v1/tickets/{t['key']}", json={"tags": ["late"]})
    assert r.status_code == 409


def test_internal_notes_are_never_shown_to_a_customer(agent, customer_api):
    t = create_ticket(agent, requester_email=customer_api.email)
    post_message(agent, t["key"], body="Hi Jane, looking into it.")
    post_message(agent, t["key"], body="internal: customer is on the legacy plan", public=False)
    seen = customer_api.get(f"/api/v1/tickets/{t['key']}/messages").json()["items"]
    assert [m["body"] for m in seen] == ["Hi Jane, looking into it."]
    notes_only = customer_api.get(f"/api/v1/tickets/{t['key']}/messages", params={"public": "false"}).json()
    assert notes_only["items"] == []
    everything = agent.get(f"/api/v1/tickets/{t['key']}/messages").json()["items"]
    assert len(everything) == 2
    assert [m["public"] for m in agent.get(f"/api/v1/tickets/{t['key']}/messages",
                                           params={"public": "false"}).json()["items"]] == [False]


def test_a_customer_sees_and_writes_only_their_own_tickets(agent, customer_api, factory):
    mine = create_ticket(agent, requester_email=customer_api.email)
    theirs = create_ticket(agent, requester_email="someone@else.example", subject="Other company")
    listed = customer_api.get("/api/v1/tickets").json()["items"]
    assert [t["key"] for t in listed] == [mine["key"]]
    assert customer_api.get("/api/v1/tickets", params={"requester_email": "someone@else.example"}).json()[
        "items"] == []
    for method, url, body in (("get", f"/api/v1/tickets/{theirs['key']}", None),
                              ("get", f"/api/v1/tickets/{theirs['key']}/messages", None),
                              ("post", f"/api/v1/tickets/{theirs['key']}/messages", {"body": "hi"}),
                              ("patch", f"/api/v1/tickets/{theirs['key']}", {"subject": "mine now"})):
        r = customer_api.client.request(method.upper(), url, json=body,
                                        headers={"Authorization": f"Bearer {customer_api.token}"})
        assert r.status_code == 404, (method, url, r.text)
    assert get_ticket(customer_api, mine["key"])["key"] == mine["key"]
    assert factory.count(Message) == 0


def test_a_customer_only_posts_public_customer_messages(agent, customer_api):
    t = create_ticket(agent, requester_email=customer_api.email)
    m = post_message(customer_api, t["key"], body="Any update?")
    assert m["author_type"] == "customer" and "author_email" not in m and "author_id" not in m
    stored = agent.get(f"/api/v1/tickets/{t['key']}/messages").json()["items"][0]
    assert (stored["author_email"], stored["author_id"]) == (customer_api.email, customer_api.user_id)
    assert post_message(customer_api, t["key"], body="note", public=False, expect=403)["status"] == 403
    assert post_message(customer_api, t["key"], body="as agent", author_type="agent", expect=403)
    r = customer_api.post(f"/api/v1/tickets/{t['key']}/messages",
                          json={"body": "x", "author_email": "ceo@acme.example"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "author_email"


def test_a_customer_creates_tickets_only_as_themselves_and_cannot_route_them(customer_api, factory):
    create_ticket(customer_api, expect=403, requester_email=customer_api.email, urgency="high")  # a staff input
    t = create_ticket(customer_api, requester_email=customer_api.email)
    assert t["status"] == "new" and "urgency" not in t
    r = customer_api.post("/api/v1/tickets", json={"subject": "s", "description": "d",
                                                   "requester_email": "someone@else.example"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "requester_email"
    r = customer_api.post("/api/v1/tickets", json={"subject": "s", "description": "d", "priority": "P1",
                                                   "requester_email": customer_api.email})
    assert r.status_code == 403 and "priority" in r.json()["detail"]
    r = customer_api.patch(f"/api/v1/tickets/{t['key']}", json={"status": "solved"})
    assert r.status_code == 403
    assert patch_ticket(customer_api, t["key"], subject="Login broken on mobile")["subject"] == \
        "Login broken on mobile"
    assert factory.count(Ticket) == 1
