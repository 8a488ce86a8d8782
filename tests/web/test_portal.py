"""The customer's portal: their own tickets, public replies only, a reply box and a new-ticket form. A customer
never sees an internal note or an internal field, on any page or fragment they can reach."""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import new_ticket

SECRET_NOTE = "INTERNAL-ONLY: customer is on a legacy cluster"
# What staff see about a ticket and a customer must not: the words and markers of internal data.
INTERNAL_MARKERS = ("Internal note", SECRET_NOTE, "Triage record", "Impact", "impact_score", "Assign",
                    "SLA", "tag-secret", "ann@support.example", "signature", "L1 general", "Escalate")


@pytest.fixture
def carl(person):  # noqa: ANN001, ANN201
    return person(["customer"], "carl@acme.example")


@pytest.fixture
def worked(admin, person):  # noqa: ANN001, ANN201
    """Carl's ticket with a public reply and an internal note, assigned, tagged and triaged; and someone
    else's ticket."""
    ann = person(["agent_l1"], "ann@support.example", name="Ann Agent")
    queue = admin.post("/api/v1/queues", json={"name": "L1 general", "tier": "L1"}).json()
    mine = new_ticket(admin, requester_email="carl@acme.example", subject="Reports are empty",
                      tags=["tag-secret"], queue_id=queue["id"], tier="L1")
    ann.post(f"/tickets/{mine['key']}/messages", {"kind": "reply", "body": "Could you send a screenshot?"})
    ann.post(f"/tickets/{mine['key']}/messages", {"kind": "note", "body": SECRET_NOTE})
    other = new_ticket(admin, requester_email="dora@acme.example", subject="Dora's own problem")
    return {"mine": mine, "other": other}


def test_a_customer_lands_on_their_own_tickets_only(carl, worked):
    page = carl.get("/portal")
    assert page.status_code == 200
    assert worked["mine"]["key"] in page.text and "Reports are empty" in page.text
    assert worked["other"]["key"] not in page.text and "Dora" not in page.text


def test_a_customer_reads_public_replies_but_never_an_internal_note(carl, worked):
    page = carl.get(f"/portal/tickets/{worked['mine']['key']}")
    assert page.status_code == 200
    assert "Could you send a screenshot?" in page.text
    assert "Ann Agent (Support)" in page.text  # a staff member by name, never an email address
    for marker in INTERNAL_MARKERS:
        assert marker not in page.text, f"the customer's ticket page shows {marker!r}"


def test_no_page_or_fragment_a_customer_reaches_shows_internal_data(carl, worked):
    key = worked["mine"]["key"]
    reachable = ["/portal", f"/portal/tickets/{key}", "/portal/new", "/tokens"]
    for url in reachable:
        for headers in ({}, {"HX-Request": "true"}):
            r = carl.get(url, headers=headers)
            assert r.status_code == 200, url
            for marker in (SECRET_NOTE, "Internal note", "Triage record", "tag-secret", "ann@support.example"):
                assert marker not in r.text, f"{url} shows {marker!r}"
    # The staff pages send them to the portal without rendering anything.
    for url in ("/queues", f"/tickets/{key}", "/tickets/new", "/queues?view=all&q=legacy"):
        r = carl.get(url)
        assert (r.status_code, r.headers["location"]) == (303, "/portal"), url
        assert SECRET_NOTE not in r.text


def test_someone_elses_ticket_does_not_exist_for_a_customer(carl, worked):
    r = carl.get(f"/portal/tickets/{worked['other']['key']}")
    assert r.status_code == 404 and "Dora" not in r.text
    r = carl.post(f"/portal/tickets/{worked['other']['key']}/reply", {"body": "hello"})
    assert r.status_code == 404


def test_a_customer_replies_and_the_reply_shows_in_the_conversation(carl, worked, admin):
    key = worked["mine"]["key"]
    r = carl.post(f"/portal/tickets/{key}/reply", {"body": "Here it is: the chart is blank."})
    assert (r.status_code, r.headers["location"]) == (303, f"/portal/tickets/{key}")
    assert "the chart is blank" in carl.get(f"/portal/tickets/{key}").text
    messages = admin.get(f"/api/v1/tickets/{key}/messages").json()["items"]
    assert messages[-1]["author_type"] == "customer" and messages[-1]["public"] is True
    empty = carl.post(f"/portal/tickets/{key}/reply", {"body": " "})
    assert empty.status_code == 422 and "field-error" in empty.text


def test_a_customer_opens_a_ticket_from_the_web(carl, admin):
    r = carl.post("/portal/new", {"subject": "", "description": "it broke"})
    assert r.status_code == 422 and "field-error" in r.text
    r = carl.post("/portal/new", {"subject": "Cannot export", "description": "The export button is grey."})
    assert r.status_code == 303
    key = r.headers["location"].rsplit("/", 1)[1]
    assert re.fullmatch(r"T-\d+", key)
    made = admin.get(f"/api/v1/tickets/{key}").json()
    assert (made["requester_email"], made["channel"]) == ("carl@acme.example", "web")


def test_staff_are_sent_from_the_portal_to_their_workspace(person):
    agent = person(["agent_l1"], "ann@support.example")
    assert agent.get("/portal").headers["location"] == "/queues"
