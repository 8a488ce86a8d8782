"""Every real address is accepted: syntax only, no deliverability and no special-use check, for requesters,
contacts, users and message authors alike (platform.schemas.Email); stored lower-cased."""

from __future__ import annotations

import pytest

from tests.test_route_security import _APP
from tests.tickets.conftest import create_ticket, post_message
from tierline.platform.schemas import normalise_email

CORPORATE = ["u@acme.test", "it@corp.local", "Ops@Infra.Internal", "desk@office.lan", "root@localhost",
             "a.b+tag@sub.example.corp", "ünïcode@bücher.example"]
NOT_ADDRESSES = ["", "plain", "a@", "@b.example", "a@@b.example", "a b@c.example", "a@-b.example",
                 "a@b..example", "a@" + "b" * 250 + ".example"]


@pytest.mark.parametrize("address", CORPORATE)
def test_a_ticket_is_taken_from_any_syntactically_valid_address(agent, address):
    ticket = create_ticket(agent, requester_email=address)
    assert ticket["requester_email"] == normalise_email(address) == ticket["requester_email"].lower()


@pytest.mark.parametrize("address", NOT_ADDRESSES)
def test_what_is_not_an_address_is_a_422_naming_the_field(agent, address):
    r = agent.post("/api/v1/tickets", json={"subject": "s", "description": "d", "requester_email": address})
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["requester_email"]


def test_contacts_users_and_message_authors_take_the_same_addresses(admin, agent):
    customer = admin.post("/api/v1/customers", json={"name": "Corp", "external_id": "corp"}).json()
    r = admin.post(f"/api/v1/customers/{customer['id']}/contacts", json={"email": "IT@Corp.Local"})
    assert r.status_code == 201 and r.json()["email"] == "it@corp.local", r.text
    r = admin.patch(f"/api/v1/customers/{customer['id']}/contacts/{r.json()['id']}",
                    json={"email": "desk@corp.internal"})
    assert r.status_code == 200 and r.json()["email"] == "desk@corp.internal", r.text
    r = admin.post("/api/v1/users", json={"email": "Agent@Helpdesk.LAN", "name": "A", "roles": ["agent_l1"]})
    assert r.status_code == 201 and r.json()["email"] == "agent@helpdesk.lan", r.text
    ticket = create_ticket(agent, requester_email="u@acme.test")
    message = post_message(agent, ticket["key"], author_type="customer", author_email="Boss@Acme.Test")
    assert message["author_email"] == "boss@acme.test"
    r = admin.post("/api/v1/users", json={"email": "not an address", "name": "A", "roles": ["agent_l1"]})
    assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["email"]


def test_the_openapi_publishes_one_email_format():
    schemas = _APP.openapi()["components"]["schemas"]
    for model, field in [("TicketCreate", "requester_email"), ("ContactCreate", "email"),
                         ("UserCreate", "email")]:
        published = schemas[model]["properties"][field]
        published = next((m for m in published.get("anyOf", []) if m.get("type") == "string"), published)
        assert (published["type"], published["format"], published["maxLength"]) == ("string", "email", 320)


def test_a_long_address_fits_the_names_derived_from_it(admin, agent):
    local = "a" * 240  # a valid address (254 characters at most) whose local part outgrows a name (200)
    r = admin.post("/api/v1/users", json={"email": f"{local}@x.example", "name": " ", "roles": ["agent_l1"]})
    assert r.status_code == 201 and r.json()["name"] == f"{local}@x.example"[:200], r.text
    customer = admin.post("/api/v1/customers", json={"name": "Corp", "external_id": "corp",
                                                     "email_domains": ["corp.example"]}).json()
    r = admin.post(f"/api/v1/customers/{customer['id']}/contacts", json={"email": f"{local}@x.example"})
    assert r.status_code == 201 and r.json()["name"] == local[:200], r.text
    create_ticket(agent, requester_email=f"{local}@corp.example")  # becomes the customer's contact
    names = [c["name"] for c in admin.get(f"/api/v1/customers/{customer['id']}/contacts").json()["items"]]
    assert len(names) == 2 and all(len(n) == 200 for n in names)
