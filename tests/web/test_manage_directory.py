"""The directory's pages: people, teams, customers, components, queues, SLA calendars and policies are listed,
created and edited through the API's own schemas and services (its refusals shown by field, each change
audited)."""

from __future__ import annotations

import re

import pytest

from tierline.platform.audit import AuditEvent


@pytest.fixture
def mona(person):  # noqa: ANN001, ANN201
    return person(["manager"], "mona@support.example", name="Mona Manager")


def _created_id(response) -> int:  # noqa: ANN001
    assert response.status_code == 303, response.text[:3000]
    return int(re.search(r"/(\d+)\?saved=1$", response.headers["location"]).group(1))


def test_a_team_is_created_and_edited_and_each_change_is_audited(mona, factory):
    ann = factory.user(roles=["agent_l1"], email="ann@support.example", name="Ann Agent")
    team_id = _created_id(mona.post("/directory/teams/new", {"name": "Billing desk", "kind": "support",
                                                             "description": "Invoices", "member_ids": str(ann.id)}))
    assert factory.audit_count(action="teams.create", entity_id=str(team_id)) == 1
    page = mona.get(f"/directory/teams/{team_id}?saved=1").text
    assert "Saved." in page and 'value="Billing desk"' in page
    assert re.search(rf'value="{ann.id}" checked', page), "the member is ticked"
    r = mona.post(f"/directory/teams/{team_id}", {"name": "Billing & invoices", "kind": "support",
                                                   "description": "Invoices"})
    assert r.status_code == 303
    assert factory.audit_count(action="teams.update", entity_id=str(team_id)) == 1
    assert factory.audit_count(action="team_memberships.delete") == 1, "unticked: the member left the team"
    listing = mona.get("/directory/teams").text
    assert "Billing &amp; invoices" in listing


def test_a_refusal_is_shown_by_field_and_keeps_what_was_typed(mona, factory):
    before = factory.audit_count()
    r = mona.post("/directory/customers/new", {"name": "", "external_id": "acme", "plan": "pro", "arr": "12,5",
                                               "email_domains": "acme.example"})
    assert r.status_code == 422
    assert 'id="fld-name-e"' in r.text and 'id="fld-arr-e"' in r.text
    assert 'value="acme"' in r.text and 'value="acme.example"' in r.text
    assert factory.audit_count() == before


def test_a_customer_round_trip(mona, factory):
    customer_id = _created_id(mona.post("/directory/customers/new", {
        "name": "Acme Corp", "external_id": "acme", "plan": "enterprise", "arr": "480000", "region": "",
        "timezone": "Europe/Berlin", "licensed_users": "250", "email_domains": "acme.example, acme.test"}))
    listing = mona.get("/directory/customers").text
    assert "Acme Corp" in listing and "$480k" in listing and "acme.example, acme.test" in listing
    r = mona.post(f"/directory/customers/{customer_id}", {
        "name": "Acme Corp", "external_id": "acme", "plan": "business", "arr": "480000", "region": "EU",
        "timezone": "Europe/Berlin", "licensed_users": "250", "email_domains": "acme.example"})
    assert r.status_code == 303
    with factory.db.session(write=False) as s:
        event = s.query(AuditEvent).filter_by(action="customers.update", entity_id=str(customer_id)).one()
    assert event.changes["plan"] == ["enterprise", "business"] and "region" in event.changes


def test_a_person_is_created_with_roles_and_capacity(mona, factory):
    user_id = _created_id(mona.post("/directory/people/new", {
        "email": "ned@support.example", "name": "Ned New", "roles": ["agent_l2"], "timezone": "UTC",
        "password": "", "skills": "postgres, billing", "max_open_tickets": "12", "available": "true",
        "active": "true"}))
    page = mona.get(f"/directory/people/{user_id}").text
    assert 'value="postgres, billing"' in page and 'value="12"' in page
    assert factory.audit_count(action="users.create", entity_id=str(user_id)) == 1
    r = mona.post("/directory/people/new", {"email": "eve@support.example", "name": "Eve", "roles": ["admin"],
                                            "max_open_tickets": "5"})
    assert r.status_code == 403, "a manager cannot grant a role wider than their own, as in the API"


def test_components_form_a_tree(mona, admin):
    root = admin.post("/api/v1/components", json={"name": "Platform"}).json()
    r = mona.post("/directory/components/new", {"name": "Storage", "parent_id": str(root["id"]),
                                                "owner_team_id": "", "support_team_id": "",
                                                "required_skills": "", "description": ""})
    child_id = _created_id(r)
    listing = mona.get("/directory/components").text
    assert listing.index("Platform") < listing.index("Storage") and "padding-left" in listing
    assert "Platform / Storage" in mona.get(f"/directory/components/{child_id}").text
    r = mona.post(f"/directory/components/{root['id']}", {"name": "Platform", "parent_id": str(child_id)})
    assert r.status_code == 409 and "cycle" in r.text


def test_queues_calendars_and_policies(mona, factory):
    queue_id = _created_id(mona.post("/directory/queues/new", {
        "name": "L2 platform", "tier": "L2", "team_id": "", "assignment_strategy": "least_loaded",
        "required_skills": "postgres", "description": ""}))
    assert factory.audit_count(action="queues.create", entity_id=str(queue_id)) == 1
    calendar_id = _created_id(mona.post("/directory/calendars/new", {
        "name": "Berlin office", "timezone": "Europe/Berlin",
        "hours": '{"mon": [["09:00", "17:00"]], "tue": [["09:00", "17:00"]]}', "holidays": "2026-12-24",
        "holiday_country": "DE", "holiday_subdivision": ""}))
    assert '"mon": [["09:00", "17:00"]]' in mona.get(f"/directory/calendars/{calendar_id}").text.replace(
        "&#34;", '"')
    # A business-hours target without a calendar: refused in its row and cell, as the API refuses it.
    form = {"name": "Enterprise", "position": "1", "active": "true", "calendar_id": "", "warning_percent": "75",
            "match.customer_plan": "enterprise", "targets-0-metric": "first_response", "targets-0-priority": "P1",
            "targets-0-minutes": "30", "targets-0-business_hours": "true", "targets-1-metric": "",
            "targets-1-priority": "", "targets-1-minutes": "", "pause_statuses": "pending_customer"}
    r = mona.post("/directory/policies/new", form)
    assert r.status_code == 422
    assert re.search(r'<td class="has-error">\s*<input type="checkbox" name="targets-0-business_hours"', r.text)
    policy_id = _created_id(mona.post("/directory/policies/new", {**form, "calendar_id": str(calendar_id)}))
    with factory.db.session(write=False) as s:
        event = s.query(AuditEvent).filter_by(action="sla_policies.create", entity_id=str(policy_id)).one()
    created = {k: v[1] for k, v in event.changes.items()}
    assert created["match"]["customer_plan"] == ["enterprise"] and created["match"]["priority"] is None
    assert created["targets"] == [{"metric": "first_response", "priority": "P1", "minutes": 30.0,
                                   "business_hours": True}]
    listing = mona.get("/directory/policies").text
    assert "Enterprise" in listing and "customer plan: enterprise" in listing and "Berlin office" in listing
