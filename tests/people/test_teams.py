from __future__ import annotations

import pytest

from tierline.people.models import Team, TeamMembership
from tierline.platform.audit import AuditEvent


@pytest.fixture
def people(factory):  # noqa: ANN001, ANN201
    return [factory.user(roles=["agent_l1"]).id for _ in range(3)]


def _team(admin, **body):  # noqa: ANN001, ANN202
    r = admin.post("/api/v1/teams", json={"name": "Payments engineering", "kind": "engineering", **body})
    assert r.status_code == 201, r.text
    return r.json()


def test_it_creates_a_team_with_members_auditing_each_membership(admin, factory, people):
    team = _team(admin, description="Owns checkout", member_ids=[people[1], people[0], people[1]])
    assert team["member_ids"] == sorted([people[0], people[1]])
    assert admin.get(f"/api/v1/teams/{team['id']}").json() == team
    assert factory.audit_count(action="teams.create", entity_id=str(team["id"])) == 1
    assert factory.audit_count(action="team_memberships.create") == 2


def test_a_user_may_be_in_several_teams(admin, people):
    a = _team(admin, member_ids=[people[0]])
    b = _team(admin, name="Tier 1 support", kind="support", member_ids=[people[0]])
    assert admin.get(f"/api/v1/users/{people[0]}").json()["team_ids"] == [a["id"], b["id"]]


def test_patching_member_ids_replaces_the_members(admin, factory, people):
    team = _team(admin, member_ids=[people[0], people[1]])
    before = factory.count(AuditEvent)
    r = admin.patch(f"/api/v1/teams/{team['id']}", json={"member_ids": [people[1], people[2]],
                                                          "description": "new"})
    assert r.status_code == 200, r.text
    assert r.json()["member_ids"] == [people[1], people[2]]
    assert r.json()["description"] == "new"
    # one removed membership, one added, one team update
    assert factory.count(AuditEvent) == before + 3
    assert factory.audit_count(action="team_memberships.delete") == 1


def test_members_are_added_and_removed_one_at_a_time(admin, factory, people):
    team = _team(admin)
    r = admin.post(f"/api/v1/teams/{team['id']}/members", json={"user_id": people[2]})
    assert r.status_code == 201 and r.json()["member_ids"] == [people[2]]
    events = factory.count(AuditEvent)
    again = admin.post(f"/api/v1/teams/{team['id']}/members", json={"user_id": people[2]})
    assert again.status_code == 201 and again.json()["member_ids"] == [people[2]]
    assert factory.count(AuditEvent) == events  # adding a member twice changes nothing
    assert admin.delete(f"/api/v1/teams/{team['id']}/members/{people[2]}").status_code == 204
    assert admin.get(f"/api/v1/teams/{team['id']}").json()["member_ids"] == []
    assert admin.delete(f"/api/v1/teams/{team['id']}/members/{people[2]}").status_code == 404
    assert factory.count(TeamMembership) == 0


@pytest.mark.parametrize(("body", "field"), [
    ({"kind": "sales"}, "kind"),
    ({"name": ""}, "name"),
    ({"name": "   "}, "name"),
    ({"member_ids": ["x"]}, "member_ids.0"),
    ({"member_ids": [1, 999999]}, "member_ids.1"),
    ({"owner": 1}, "owner"),
])
def test_it_rejects_a_bad_team_naming_the_field_and_changes_nothing(admin, factory, body, field, people):
    if body.get("member_ids") == [1, 999999]:
        body = {"member_ids": [people[0], 999999]}
    teams, events = factory.count(Team), factory.count(AuditEvent)
    r = admin.post("/api/v1/teams", json={"name": "Payments", "kind": "engineering", **body})
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["errors"]]
    assert factory.count(Team) == teams and factory.count(AuditEvent) == events


def test_a_deactivated_user_cannot_join_a_team(admin, people):
    admin.patch(f"/api/v1/users/{people[0]}", json={"active": False})
    team = _team(admin)
    r = admin.post(f"/api/v1/teams/{team['id']}/members", json={"user_id": people[0]})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "user_id"


def test_a_bad_patch_changes_nothing(admin, factory, people):
    team = _team(admin, member_ids=[people[0]])
    events = factory.count(AuditEvent)
    r = admin.patch(f"/api/v1/teams/{team['id']}",
                    json={"name": "Renamed", "member_ids": [people[1], 424242]})
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["member_ids.1"]
    assert admin.get(f"/api/v1/teams/{team['id']}").json() == team
    assert factory.count(AuditEvent) == events
    assert admin.patch(f"/api/v1/teams/{team['id']}", json={"kind": None}).status_code == 422


def test_team_names_are_unique_regardless_of_case(admin, factory):
    _team(admin)
    other = _team(admin, name="Billing")
    r = admin.post("/api/v1/teams", json={"name": "payments ENGINEERING", "kind": "support"})
    assert r.status_code == 409
    r = admin.patch(f"/api/v1/teams/{other['id']}", json={"name": "Payments Engineering"})
    assert r.status_code == 409
    assert factory.count(Team) == 2


def test_unknown_teams_are_404(admin, people):
    assert admin.get("/api/v1/teams/4242").status_code == 404
    assert admin.patch("/api/v1/teams/4242", json={"name": "x"}).status_code == 404
    assert admin.post("/api/v1/teams/4242/members", json={"user_id": people[0]}).status_code == 404
    assert admin.delete(f"/api/v1/teams/4242/members/{people[0]}").status_code == 404


def test_it_lists_teams_by_kind_member_and_name(admin, people):
    eng = _team(admin, member_ids=[people[0]])
    sup = _team(admin, name="EMEA support", kind="support", member_ids=[people[0], people[1]])
    prod = _team(admin, name="Growth product", kind="product")

    def ids(**params):  # noqa: ANN003, ANN202
        r = admin.get("/api/v1/teams", params=params)
        assert r.status_code == 200, r.text
        return [t["id"] for t in r.json()["items"]]

    assert ids() == [eng["id"], sup["id"], prod["id"]]
    assert ids(kind="support") == [sup["id"]]
    assert ids(member_id=people[1]) == [sup["id"]]
    assert ids(q="emea") == [sup["id"]]
    page = admin.get("/api/v1/teams", params={"limit": 2}).json()
    rest = admin.get("/api/v1/teams", params={"limit": 2, "cursor": page["next_cursor"]}).json()
    assert [t["id"] for t in page["items"] + rest["items"]] == ids() and rest["next_cursor"] is None
    assert admin.get("/api/v1/teams", params={"kind": "sales"}).status_code == 422


def test_an_owner_team_cannot_stop_being_engineering(admin, factory):
    eng = _team(admin)
    sup = _team(admin, name="Payments support", kind="support")
    r = admin.post("/api/v1/components", json={"name": "Checkout", "owner_team_id": eng["id"],
                                               "support_team_id": sup["id"]})
    assert r.status_code == 201, r.text
    r = admin.patch(f"/api/v1/teams/{eng['id']}", json={"kind": "product"})
    assert r.status_code == 409 and r.json()["allowed"] == ["engineering"]
    assert admin.patch(f"/api/v1/teams/{sup['id']}", json={"kind": "engineering"}).status_code == 409
    assert admin.get(f"/api/v1/teams/{eng['id']}").json()["kind"] == "engineering"


def test_team_permissions(client, factory, agent):
    manager = factory.api(client, roles=["manager"], email="m@example.com")
    assert agent.get("/api/v1/teams").status_code == 200
    assert agent.post("/api/v1/teams", json={"name": "x", "kind": "support"}).status_code == 403
    assert manager.post("/api/v1/teams", json={"name": "x", "kind": "support"}).status_code == 201
    assert client.get("/api/v1/teams").status_code == 401
