from __future__ import annotations

import pytest

from tierline.customers.models import Customer, CustomerEmailDomain
from tierline.platform.audit import AuditEvent

ACME = {"name": "Acme Corp", "external_id": "crm-001", "plan": "enterprise", "arr": 120000.5,
        "region": "eu-west", "timezone": "Europe/Paris", "licensed_users": 250,
        "email_domains": ["ACME.com", "@acme.io", "acme.com"]}


def _create(admin, **overrides):  # noqa: ANN001, ANN202
    r = admin.post("/api/v1/customers", json={**ACME, **overrides})
    assert r.status_code == 201, r.text
    return r.json()


def test_it_creates_a_customer_with_lower_cased_unique_domains(admin, factory):
    body = _create(admin)
    assert body["arr"] == 120000.5
    assert body["email_domains"] == ["acme.com", "acme.io"]
    assert body["plan"] == "enterprise" and body["licensed_users"] == 250
    assert admin.get(f"/api/v1/customers/{body['id']}").json() == body
    events = factory.audit_count(action="customers.create", entity_id=str(body["id"]))
    assert events == 1
    with factory.db.session(write=False) as session:
        event = session.query(AuditEvent).filter(AuditEvent.action == "customers.create").one()
        assert event.changes["email_domains"] == [None, ["acme.com", "acme.io"]]
        assert event.changes["arr_cents"] == [None, 12000050]


def test_only_name_and_external_id_are_required(admin):
    r = admin.post("/api/v1/customers", json={"name": "Tiny", "external_id": "crm-tiny"})
    assert r.status_code == 201
    body = r.json()
    assert (body["plan"], body["arr"], body["timezone"], body["email_domains"]) == ("free", 0, "UTC", [])


@pytest.mark.parametrize(("change", "field"), [
    ({"plan": "platinum"}, "plan"),
    ({"arr": -1}, "arr"),
    ({"arr": 10.001}, "arr"),
    ({"arr": "lots"}, "arr"),
    ({"timezone": "Europe/Atlantis"}, "timezone"),
    ({"licensed_users": -5}, "licensed_users"),
    ({"email_domains": ["acme.com", "not a domain"]}, "email_domains.1"),
    ({"email_domains": ["gmail.com"]}, "email_domains.0"),
    ({"name": ""}, "name"),
    ({"external_id": "   "}, "external_id"),
    ({"tier": "gold"}, "tier"),
])
def test_it_rejects_a_bad_customer_naming_the_field_and_changes_nothing(admin, factory, change, field):
    counts = (factory.count(Customer), factory.count(CustomerEmailDomain), factory.count(AuditEvent))
    r = admin.post("/api/v1/customers", json={**ACME, **change})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"] for e in r.json()["errors"]]
    assert (factory.count(Customer), factory.count(CustomerEmailDomain), factory.count(AuditEvent)) == counts


def test_external_ids_are_unique(admin, factory):
    first = _create(admin)
    r = admin.post("/api/v1/customers", json={**ACME, "email_domains": []})
    assert r.status_code == 409
    other = _create(admin, external_id="crm-002", email_domains=[])
    assert admin.patch(f"/api/v1/customers/{other['id']}", json={"external_id": "crm-001"}).status_code == 409
    assert factory.count(Customer) == 2 and first["external_id"] == "crm-001"


def test_a_domain_belongs_to_at_most_one_customer(admin, factory):
    acme = _create(admin)
    events = factory.count(AuditEvent)
    r = admin.post("/api/v1/customers",
                   json={**ACME, "external_id": "crm-002", "email_domains": ["Acme.COM"]})
    assert r.status_code == 409 and "acme.com" in r.json()["detail"]
    other = _create(admin, name="Globex", external_id="crm-003", email_domains=["globex.com"])
    r = admin.patch(f"/api/v1/customers/{other['id']}", json={"email_domains": ["globex.com", "acme.io"]})
    assert r.status_code == 409
    assert admin.get(f"/api/v1/customers/{other['id']}").json()["email_domains"] == ["globex.com"]
    assert factory.count(AuditEvent) == events + 1  # only Globex's creation
    # the owner itself may keep and re-send its domains
    r = admin.patch(f"/api/v1/customers/{acme['id']}", json={"email_domains": ["acme.io", "acme.com"]})
    assert r.status_code == 200 and factory.count(AuditEvent) == events + 1


def test_it_patches_a_customer_recording_the_changed_fields(admin, factory):
    acme = _create(admin)
    r = admin.patch(f"/api/v1/customers/{acme['id']}", json={"plan": "business", "arr": 99.99, "region": None,
                                                              "email_domains": ["acme.io", "acme.dev"]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["plan"], body["arr"], body["region"]) == ("business", 99.99, None)
    assert body["email_domains"] == ["acme.dev", "acme.io"]
    with factory.db.session(write=False) as session:
        event = session.query(AuditEvent).filter(AuditEvent.action == "customers.update").one()
    assert event.changes == {
        "plan": ["enterprise", "business"], "arr_cents": [12000050, 9999], "region": ["eu-west", None],
        "email_domains": [["acme.com", "acme.io"], ["acme.dev", "acme.io"]],
    }
    # the freed domain can now go to someone else
    assert admin.post("/api/v1/customers", json={"name": "New", "external_id": "n",
                                                 "email_domains": ["acme.com"]}).status_code == 201


@pytest.mark.parametrize(("change", "field"), [
    ({"plan": None}, "plan"), ({"arr": -0.01}, "arr"), ({"timezone": "UTC+25"}, "timezone"),
    ({"email_domains": ["ok.com", "bad..com"]}, "email_domains.1"), ({"id": 5}, "id"),
])
def test_it_rejects_a_bad_patch_and_changes_nothing(admin, factory, change, field):
    acme = _create(admin)
    events = factory.count(AuditEvent)
    r = admin.patch(f"/api/v1/customers/{acme['id']}", json={"name": "Renamed", **change})
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["errors"]]
    assert admin.get(f"/api/v1/customers/{acme['id']}").json() == acme
    assert factory.count(AuditEvent) == events


def test_unknown_customers_are_404(admin):
    assert admin.get("/api/v1/customers/777").status_code == 404
    assert admin.patch("/api/v1/customers/777", json={"name": "x"}).status_code == 404


def test_it_lists_customers_by_plan_region_text_and_arr(admin):
    a = _create(admin)
    b = _create(admin, name="Globex", external_id="crm-002", plan="pro", arr=5000, region="us-east",
                email_domains=["globex.com"])
    c = _create(admin, name="Initech", external_id="X-ACME-9", plan="free", arr=0, region=None,
                email_domains=[])

    def ids(**params):  # noqa: ANN003, ANN202
        r = admin.get("/api/v1/customers", params=params)
        assert r.status_code == 200, r.text
        return [x["id"] for x in r.json()["items"]]

    assert ids() == [a["id"], b["id"], c["id"]]
    assert ids(plan="pro") == [b["id"]]
    assert ids(region="eu-west") == [a["id"]]
    assert ids(q="acme") == [a["id"], c["id"]]  # name or external_id
    assert ids(min_arr=5000) == [a["id"], b["id"]]
    assert ids(min_arr="5000.01") == [a["id"]]
    assert ids(email_domain="GLOBEX.com") == [b["id"]]
    first = admin.get("/api/v1/customers", params={"limit": 2}).json()
    second = admin.get("/api/v1/customers", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [x["id"] for x in first["items"] + second["items"]] == ids()
    assert admin.get("/api/v1/customers", params={"min_arr": -1}).status_code == 422
    assert admin.get("/api/v1/customers", params={"plan": "gold"}).status_code == 422


def test_customer_permissions(client, factory, agent):
    pm = factory.api(client, roles=["product_manager"], email="pm@example.com")
    assert pm.get("/api/v1/customers").status_code == 200
    assert pm.post("/api/v1/customers", json=ACME).status_code == 403
    assert agent.post("/api/v1/customers", json=ACME).status_code == 201
    assert client.get("/api/v1/customers").status_code == 401
