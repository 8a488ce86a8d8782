from __future__ import annotations

import pytest

from tierline.customers import service
from tierline.customers.models import Contact
from tierline.platform.audit import AuditEvent
from tests.helpers import SYSTEM


@pytest.fixture
def acme(admin):  # noqa: ANN001, ANN201
    r = admin.post("/api/v1/customers",
                   json={"name": "Acme", "external_id": "crm-1", "email_domains": ["acme.com"]})
    assert r.status_code == 201
    return r.json()["id"]


@pytest.fixture
def globex(admin):  # noqa: ANN001, ANN201
    return admin.post("/api/v1/customers", json={"name": "Globex", "external_id": "crm-2"}).json()["id"]


def test_it_adds_lists_and_reads_contacts(admin, factory, acme):
    r = admin.post(f"/api/v1/customers/{acme}/contacts", json={"email": "Wile.E@Acme.com", "name": "Wile E."})
    assert r.status_code == 201, r.text
    contact = r.json()
    assert (contact["email"], contact["customer_id"]) == ("wile.e@acme.com", acme)
    nameless = admin.post(f"/api/v1/customers/{acme}/contacts", json={"email": "road.runner@acme.com"}).json()
    assert nameless["name"] == "road.runner"
    listed = admin.get(f"/api/v1/customers/{acme}/contacts").json()["items"]
    assert [c["id"] for c in listed] == [contact["id"], nameless["id"]]
    found = admin.get(f"/api/v1/customers/{acme}/contacts", params={"q": "wile"}).json()["items"]
    assert [c["id"] for c in found] == [contact["id"]]
    assert admin.get(f"/api/v1/customers/{acme}/contacts/{contact['id']}").json() == contact
    assert factory.audit_count(action="contacts.create") == 2


def test_a_contact_email_is_unique_across_customers(admin, factory, acme, globex):
    admin.post(f"/api/v1/customers/{acme}/contacts", json={"email": "wile@acme.com"})
    r = admin.post(f"/api/v1/customers/{globex}/contacts", json={"email": "WILE@acme.com"})
    assert r.status_code == 409
    assert factory.count(Contact) == 1


@pytest.mark.parametrize(("body", "field"), [
    ({"email": "nope"}, "email"), ({}, "email"), ({"email": "a@b.example", "phone": "1"}, "phone"),
])
def test_it_rejects_a_bad_contact_and_changes_nothing(admin, factory, acme, body, field):
    events = factory.count(AuditEvent)
    r = admin.post(f"/api/v1/customers/{acme}/contacts", json=body)
    assert r.status_code == 422
    assert field in [e["field"] for e in r.json()["errors"]]
    assert factory.count(Contact) == 0 and factory.count(AuditEvent) == events


def test_it_patches_a_contact_and_can_move_it(admin, factory, acme, globex):
    contact = admin.post(f"/api/v1/customers/{acme}/contacts", json={"email": "wile@acme.com"}).json()
    r = admin.patch(f"/api/v1/customers/{acme}/contacts/{contact['id']}", json={"name": "Wile E. Coyote"})
    assert r.status_code == 200 and r.json()["name"] == "Wile E. Coyote"
    r = admin.patch(f"/api/v1/customers/{acme}/contacts/{contact['id']}", json={"customer_id": globex})
    assert r.status_code == 200 and r.json()["customer_id"] == globex
    assert admin.get(f"/api/v1/customers/{acme}/contacts/{contact['id']}").status_code == 404
    assert admin.get(f"/api/v1/customers/{globex}/contacts/{contact['id']}").status_code == 200
    assert factory.audit_count(action="contacts.update") == 2


def test_a_bad_contact_patch_changes_nothing(admin, factory, acme, globex):
    contact = admin.post(f"/api/v1/customers/{acme}/contacts", json={"email": "wile@acme.com"}).json()
    other = admin.post(f"/api/v1/customers/{globex}/contacts", json={"email": "hank@globex.com"}).json()
    events = factory.count(AuditEvent)
    url = f"/api/v1/customers/{acme}/contacts/{contact['id']}"
    r = admin.patch(url, json={"name": "X", "customer_id": 9999})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "customer_id"
    assert admin.patch(url, json={"email": "hank@globex.com"}).status_code == 409
    assert admin.patch(url, json={"name": None}).status_code == 422
    assert admin.get(url).json() == contact
    assert factory.count(AuditEvent) == events and other["customer_id"] == globex


def test_contacts_of_unknown_customers_or_other_customers_are_404(admin, acme, globex):
    contact = admin.post(f"/api/v1/customers/{acme}/contacts", json={"email": "wile@acme.com"}).json()
    assert admin.get("/api/v1/customers/9999/contacts").status_code == 404
    assert admin.post("/api/v1/customers/9999/contacts", json={"email": "a@b.example"}).status_code == 404
    r = admin.patch(f"/api/v1/customers/{globex}/contacts/{contact['id']}", json={"name": "x"})
    assert r.status_code == 404
    assert admin.patch(f"/api/v1/customers/{acme}/contacts/424242", json={"name": "x"}).status_code == 404


# -- resolve_requester_id -----------------------------------------------------------------------------

def test_an_existing_contact_resolves_to_its_customer(db, admin, acme, globex):
    admin.post(f"/api/v1/customers/{globex}/contacts", json={"email": "consultant@acme.com"})
    with db.unit_of_work() as session:
        customer_id = service.resolve_requester_id(session, actor=SYSTEM, email="Consultant@ACME.com")
        assert customer_id is not None and customer_id == globex  # the contact wins over the domain


def test_an_unknown_requester_at_a_customer_domain_becomes_a_contact(db, factory, acme):
    with db.unit_of_work() as session:
        customer_id = service.resolve_requester_id(session, actor=SYSTEM, email="New.Person@Acme.com")
        assert customer_id is not None and customer_id == acme
    with db.session(write=False) as session:
        contact = session.query(Contact).one()
        assert (contact.email, contact.name, contact.customer_id) == \
            ("new.person@acme.com", "new.person", acme)
    assert factory.audit_count(entity_type="contacts", entity_id=str(contact.id)) == 1
    with db.unit_of_work() as session:  # a second time: the contact is reused, nothing new
        assert service.resolve_requester_id(session, actor=SYSTEM, email="new.person@acme.com") == acme
    assert factory.count(Contact) == 1


@pytest.mark.parametrize("email", ["someone@elsewhere.com", "not-an-email", "@acme.com", "x@sub.acme.com"])
def test_an_unknown_requester_resolves_to_nobody(db, factory, acme, email):
    with db.unit_of_work() as session:
        assert service.resolve_requester_id(session, actor=SYSTEM, email=email) is None
    assert factory.count(Contact) == 0
