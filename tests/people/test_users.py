from __future__ import annotations

import pytest

from tierline.people.models import AgentProfile
from tierline.platform.audit import AuditEvent
from tierline.platform.auth.models import ApiToken, User, WebSession

NEW_USER = {"email": "Dana.Reyes@Example.com", "name": "Dana Reyes", "roles": ["agent_l2", "sme"],
            "timezone": "Europe/Berlin", "skills": ["Postgres", " kubernetes ", "postgres"],
            "max_open_tickets": 12}


def _problem_fields(r) -> list[str]:  # noqa: ANN001
    assert r.headers["content-type"].startswith("application/problem+json"), r.text
    return [e["field"] for e in r.json()["errors"]]


def test_it_creates_a_user_with_a_profile_and_shows_them_as_one(admin, factory):
    r = admin.post("/api/v1/users", json=NEW_USER)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["email"] == "dana.reyes@example.com"
    assert body["roles"] == ["agent_l2", "sme"]
    assert body["tier"] == "L2"
    assert body["skills"] == ["postgres", "kubernetes"]
    assert body["max_open_tickets"] == 12
    assert body["available"] is True and body["active"] is True
    assert body["team_ids"] == []
    assert "password" not in body and "password_hash" not in body

    again = admin.get(f"/api/v1/users/{body['id']}")
    assert again.status_code == 200 and again.json() == body
    assert factory.audit_count(entity_type="users", entity_id=str(body["id"]), action="users.create") == 1
    assert factory.audit_count(entity_type="agent_profiles", entity_id=str(body["id"])) == 1


def test_a_user_without_an_agent_role_has_no_tier(admin):
    r = admin.post("/api/v1/users", json={"email": "pm@example.com", "name": "Pat",
                                          "roles": ["product_manager"]})
    assert r.status_code == 201 and r.json()["tier"] is None


def test_a_created_user_with_a_password_can_log_in(admin, client):
    r = admin.post("/api/v1/users", json={**NEW_USER, "password": "correct horse battery"})
    assert r.status_code == 201, r.text
    login = client.post("/api/v1/auth/login",
                        json={"email": NEW_USER["email"], "password": "correct horse battery"})
    assert login.status_code == 200, login.text


@pytest.mark.parametrize(("change", "field"), [
    ({"email": "not-an-email"}, "email"),
    ({"roles": ["agent_l1", "wizard"]}, "roles.1"),
    ({"roles": []}, "roles"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"password": "short"}, "password"),
    ({"max_open_tickets": -1}, "max_open_tickets"),
    ({"skills": ["ok", "   "]}, "skills.1"),
    ({"name": ""}, "name"),
    ({"colour": "blue"}, "colour"),
])
def test_it_rejects_a_bad_new_user_naming_the_field_and_changes_nothing(admin, factory, change, field):
    users, events = factory.count(User), factory.count(AuditEvent)
    r = admin.post("/api/v1/users", json={**NEW_USER, **change})
    assert r.status_code == 422, r.text
    assert field in _problem_fields(r)
    assert factory.count(User) == users and factory.count(AuditEvent) == events


def test_a_second_user_with_the_same_email_is_a_conflict(admin, factory):
    assert admin.post("/api/v1/users", json=NEW_USER).status_code == 201
    users = factory.count(User)
    r = admin.post("/api/v1/users", json={**NEW_USER, "email": "DANA.REYES@example.com"})
    assert r.status_code == 409
    assert factory.count(User) == users


def test_an_unknown_user_is_404(admin):
    assert admin.get("/api/v1/users/999999").status_code == 404
    r = admin.patch("/api/v1/users/999999", json={"name": "x"})
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")


def test_it_patches_identity_and_profile_with_one_event_per_entity(admin, factory):
    user_id = admin.post("/api/v1/users", json=NEW_USER).json()["id"]
    before = factory.count(AuditEvent)
    r = admin.patch(f"/api/v1/users/{user_id}", json={"name": "Dana R.", "roles": ["agent_l3"],
                                                       "skills": ["Networking"], "max_open_tickets": 5})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["name"], body["tier"], body["skills"], body["max_open_tickets"]) == \
        ("Dana R.", "L3", ["networking"], 5)
    assert factory.count(AuditEvent) == before + 2
    assert factory.audit_count(action="users.update", entity_id=str(user_id)) == 1
    assert factory.audit_count(action="agent_profiles.update", entity_id=str(user_id)) == 1


def test_a_patch_that_changes_nothing_writes_no_event(admin, factory):
    user_id = admin.post("/api/v1/users", json=NEW_USER).json()["id"]
    before = factory.count(AuditEvent)
    r = admin.patch(f"/api/v1/users/{user_id}", json={"max_open_tickets": 12, "name": "Dana Reyes"})
    assert r.status_code == 200
    assert factory.count(AuditEvent) == before


@pytest.mark.parametrize(("change", "field"), [
    ({"roles": ["nobody"]}, "roles.0"),
    ({"timezone": "Nowhere/Special"}, "timezone"),
    ({"max_open_tickets": -3}, "max_open_tickets"),
    ({"active": None}, "active"),
    ({"available": "maybe"}, "available"),
    ({"email": "new@example.com"}, "email"),
    ({"name": "Valid name", "password": "tiny"}, "password"),
])
def test_it_rejects_a_bad_patch_naming_the_field_and_changes_nothing(admin, factory, change, field):
    user_id = admin.post("/api/v1/users", json=NEW_USER).json()["id"]
    shown, events = admin.get(f"/api/v1/users/{user_id}").json(), factory.count(AuditEvent)
    r = admin.patch(f"/api/v1/users/{user_id}", json=change)
    assert r.status_code == 422, r.text
    assert field in _problem_fields(r)
    assert admin.get(f"/api/v1/users/{user_id}").json() == shown
    assert factory.count(AuditEvent) == events


def test_deactivation_revokes_the_users_tokens_at_once(admin, client, factory):
    target = factory.api(client, roles=["agent_l1"], email="leaver@example.com")
    assert target.get("/api/v1/auth/me").status_code == 200
    r = admin.patch(f"/api/v1/users/{target.user_id}", json={"active": False})
    assert r.status_code == 200, r.text
    assert r.json()["active"] is False
    denied = target.get("/api/v1/auth/me")
    assert denied.status_code == 401
    assert denied.headers["content-type"].startswith("application/problem+json")
    with factory.db.session(write=False) as session:
        tokens = session.query(ApiToken).filter(ApiToken.user_id == target.user_id).all()
        assert tokens and all(t.revoked_at is not None for t in tokens)
    assert factory.audit_count(action="api_tokens.revoke") == len(tokens)
    # Reactivation does not bring the old token back.
    assert admin.patch(f"/api/v1/users/{target.user_id}", json={"active": True}).status_code == 200
    assert target.get("/api/v1/auth/me").status_code == 401


def test_deactivation_ends_the_users_web_sessions(admin, client, factory):
    factory.user(roles=["agent_l1"], email="web@example.com", password="a long enough password")
    login = client.post("/api/v1/auth/login",
                        json={"email": "web@example.com", "password": "a long enough password"})
    assert login.status_code == 200
    user_id = login.json()["user_id"]
    assert client.get("/api/v1/auth/me").status_code == 200  # the session cookie
    assert admin.patch(f"/api/v1/users/{user_id}", json={"active": False}).status_code == 200
    assert client.get("/api/v1/auth/me").status_code == 401
    with factory.db.session(write=False) as session:
        assert session.query(WebSession).filter(WebSession.revoked_at.is_(None)).count() == 0
    client.cookies.clear()


def test_a_user_cannot_deactivate_themselves(admin, factory):
    r = admin.patch(f"/api/v1/users/{admin.user_id}", json={"active": False})
    assert r.status_code == 409
    with factory.db.session(write=False) as session:
        assert session.get(User, admin.user_id).active is True


def test_a_manager_cannot_create_an_admin_or_change_one(client, factory, admin):
    manager = factory.api(client, roles=["manager"], email="boss@example.com")
    r = manager.post("/api/v1/users", json={**NEW_USER, "roles": ["admin"]})
    assert r.status_code == 403
    assert manager.patch(f"/api/v1/users/{admin.user_id}", json={"name": "Pwned"}).status_code == 403
    assert manager.post("/api/v1/users", json=NEW_USER).status_code == 201


def test_agents_may_read_users_but_not_change_them(agent, admin):
    assert agent.get("/api/v1/users").status_code == 200
    assert agent.post("/api/v1/users", json=NEW_USER).status_code == 403
    assert agent.patch(f"/api/v1/users/{admin.user_id}", json={"name": "x"}).status_code == 403


def test_anonymous_callers_get_401(client):
    assert client.get("/api/v1/users").status_code == 401
    assert client.post("/api/v1/users", json=NEW_USER).status_code == 401


def test_the_profile_row_exists_for_every_factory_user(agent, factory):
    with factory.db.session(write=False) as session:
        assert session.get(AgentProfile, agent.user_id) is not None
