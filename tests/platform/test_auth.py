"""Identity: password login with a signed session cookie and CSRF, scoped API tokens, and deactivation that
takes effect at once."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from tierline.app import create_app
from tierline.platform import clock
from tierline.platform.auth import service as auth_service
from tierline.platform.auth.models import ApiToken, User, WebSession
from tests.helpers import SYSTEM

PASSWORD = "correct horse battery"
SESSION_COOKIE = "tierline_session"
CSRF_COOKIE = "tierline_csrf"


@pytest.fixture
def member(factory):  # noqa: ANN001, ANN201
    return factory.user(roles=["agent_l1"], email="member@example.com", password=PASSWORD)


def _login(client, email="member@example.com", password=PASSWORD):  # noqa: ANN001, ANN202
    return client.post("/api/v1/auth/login", json={"email": email, "password": password})


def _bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


def _problem(r, status):  # noqa: ANN001, ANN202
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    return r.json()


# -- sessions ------------------------------------------------------------------------------------------

def test_login_sets_a_signed_http_only_session_cookie_and_a_csrf_token(client, member):
    r = _login(client)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["user_id"] == member.id and body["roles"] == ["agent_l1"]
    set_cookies = r.headers.get_list("set-cookie")
    session_cookie = next(c for c in set_cookies if c.startswith(f"{SESSION_COOKIE}="))
    assert "httponly" in session_cookie.lower() and "samesite=lax" in session_cookie.lower()
    assert client.cookies[CSRF_COOKIE] == body["csrf_token"]
    raw_cookie = client.cookies[SESSION_COOKIE]
    assert "." in raw_cookie  # value.signature


def test_a_session_cookie_authenticates_reads(client, member):
    _login(client)
    r = client.get("/api/v1/auth/me")
    assert r.status_code == 200, r.text
    assert r.json()["via"] == "session" and r.json()["user_id"] == member.id


def test_a_tampered_session_cookie_is_401(client, member):
    _login(client)
    value = client.cookies[SESSION_COOKIE]
    client.cookies.set(SESSION_COOKIE, value[:-2] + ("AA" if not value.endswith("AA") else "BB"))
    _problem(client.get("/api/v1/auth/me"), 401)


def test_a_change_with_the_cookie_but_without_the_csrf_token_is_403(client, member, factory):
    csrf = _login(client).json()["csrf_token"]
    before = factory.count(ApiToken)
    _problem(client.post("/api/v1/tokens", json={"name": "x"}), 403)
    _problem(client.post("/api/v1/tokens", json={"name": "x"}, headers={"X-CSRF-Token": "wrong"}), 403)
    assert factory.count(ApiToken) == before
    r = client.post("/api/v1/tokens", json={"name": "x"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201, r.text
    token_id = r.json()["id"]
    _problem(client.delete(f"/api/v1/tokens/{token_id}"), 403)
    assert client.delete(f"/api/v1/tokens/{token_id}", headers={"X-CSRF-Token": csrf}).status_code == 204


def test_logout_revokes_the_session(client, member, factory):
    csrf = _login(client).json()["csrf_token"]
    cookie = client.cookies[SESSION_COOKIE]
    _problem(client.post("/api/v1/auth/logout"), 403)  # logout is a change too: it needs the CSRF token
    r = client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 204
    client.cookies.set(SESSION_COOKIE, cookie)  # a client that kept the old cookie
    _problem(client.get("/api/v1/auth/me"), 401)
    with factory.db.session(write=False) as session:
        assert session.scalar(select(WebSession.revoked_at)) is not None


def test_a_session_ends_when_it_expires(client, member):
    _login(client)
    clock.advance(timedelta(hours=12, seconds=1))
    _problem(client.get("/api/v1/auth/me"), 401)


def test_a_wrong_password_or_unknown_email_is_the_same_401(client, member, factory):
    events = factory.audit_count()
    wrong = _problem(_login(client, password="not the password"), 401)
    unknown = _problem(_login(client, email="nobody@example.com"), 401)
    assert wrong["detail"] == unknown["detail"]
    assert SESSION_COOKIE not in client.cookies
    assert factory.count(WebSession) == 0 and factory.audit_count() == events


def test_a_deactivated_user_cannot_log_in(client, member, db):
    with db.unit_of_work() as session:
        auth_service.update_user(session, actor=SYSTEM, user=auth_service.get_user(session, user_id=member.id),
                                 active=False)
    _problem(_login(client), 401)


def test_a_malformed_authorization_header_is_401(client):
    _problem(client.get("/api/v1/auth/me", headers={"Authorization": "Basic dXNlcjpwYXNz"}), 401)
    _problem(client.get("/api/v1/auth/me", headers={"Authorization": "Bearer "}), 401)


# -- API tokens ----------------------------------------------------------------------------------------

def test_a_token_is_shown_once_and_only_its_hash_is_stored(agent, factory):
    r = agent.post("/api/v1/tokens", json={"name": "laptop"})
    assert r.status_code == 201, r.text
    raw = r.json()["token"]
    assert raw.startswith("tl_") and len(raw) > 40
    listed = agent.get("/api/v1/tokens").json()["items"]
    assert listed and all("token" not in t for t in listed)
    with factory.db.session(write=False) as session:
        row = session.get(ApiToken, r.json()["id"])
        assert row.token_hash == hashlib.sha256(raw.encode()).hexdigest()
        stored = [str(getattr(row, c.key)) for c in ApiToken.__table__.columns]
    assert not any(raw in value for value in stored)
    assert agent.client.get("/api/v1/auth/me", headers=_bearer(raw)).status_code == 200


def test_token_scopes_narrow_the_users_permissions(factory, client):
    admin = factory.api(client, roles=["admin"])
    r = admin.post("/api/v1/tokens", json={"name": "auditing", "scopes": ["audit:read"]})
    scoped = r.json()["token"]
    me = client.get("/api/v1/auth/me", headers=_bearer(scoped)).json()
    assert me["permissions"] == ["audit:read"]
    assert client.get("/api/v1/audit", headers=_bearer(scoped)).status_code == 200
    _problem(client.get("/api/v1/tokens", headers=_bearer(scoped)), 403)
    _problem(client.post("/api/v1/tokens", json={"name": "wider"}, headers=_bearer(scoped)), 403)


def test_a_scope_outside_the_users_roles_is_422_naming_it_and_changes_nothing(agent, factory):
    tokens, events = factory.count(ApiToken), factory.audit_count()
    r = agent.post("/api/v1/tokens", json={"name": "sneaky", "scopes": ["audit:read"]})
    body = _problem(r, 422)
    assert body["errors"][0]["field"] == "scopes.0"
    r = agent.post("/api/v1/tokens", json={"name": "sneaky", "scopes": ["tickets:read", "users:write"]})
    assert _problem(r, 422)["errors"][0]["field"] == "scopes.1"
    assert factory.count(ApiToken) == tokens and factory.audit_count() == events


def test_an_expired_token_is_401(agent, client):
    r = agent.post("/api/v1/tokens", json={"name": "short", "expires_in_days": 1})
    raw = r.json()["token"]
    assert client.get("/api/v1/auth/me", headers=_bearer(raw)).status_code == 200
    clock.advance(timedelta(days=1))
    body = _problem(client.get("/api/v1/auth/me", headers=_bearer(raw)), 401)
    assert "expired" in body["detail"]


def test_a_token_expiring_in_the_past_is_refused(agent):
    past = (clock.now() - timedelta(minutes=1)).isoformat()
    assert _problem(agent.post("/api/v1/tokens", json={"expires_at": past}), 422)["errors"][0]["field"] == \
        "expires_at"


def test_a_revoked_token_is_401(agent, client):
    r = agent.post("/api/v1/tokens", json={"name": "temp"})
    raw, token_id = r.json()["token"], r.json()["id"]
    assert agent.delete(f"/api/v1/tokens/{token_id}").status_code == 204
    body = _problem(client.get("/api/v1/auth/me", headers=_bearer(raw)), 401)
    assert "revoked" in body["detail"]


def test_a_user_cannot_see_or_revoke_another_users_tokens(factory, client):
    alice = factory.api(client, roles=["agent_l1"])
    bob = factory.api(client, roles=["agent_l1"])
    bobs = bob.get("/api/v1/tokens").json()["items"]
    _problem(alice.delete(f"/api/v1/tokens/{bobs[0]['id']}"), 404)
    _problem(alice.get("/api/v1/tokens", params={"user_id": bob.user_id}), 403)
    assert [t["user_id"] for t in alice.get("/api/v1/tokens").json()["items"]] == [alice.user_id]
    assert client.get("/api/v1/auth/me", headers=_bearer(bob.token)).status_code == 200


def test_an_admin_may_mint_a_token_for_an_integration_user(admin, factory, client):
    integration = factory.user(roles=["integration"])
    r = admin.post("/api/v1/tokens", json={"name": "monitoring", "user_id": integration.id})
    assert r.status_code == 201, r.text
    me = client.get("/api/v1/auth/me", headers=_bearer(r.json()["token"])).json()
    assert me["user_id"] == integration.id and "ingest:write" in me["permissions"]


def test_deactivating_a_user_makes_their_tokens_and_sessions_401_at_once(client, member, factory, db):
    raw = factory.token(member)
    _login(client)
    cookie = client.cookies[SESSION_COOKIE]
    assert client.get("/api/v1/auth/me").status_code == 200
    with db.unit_of_work() as session:
        auth_service.update_user(session, actor=SYSTEM, user=auth_service.get_user(session, user_id=member.id),
                                 active=False)
    _problem(client.get("/api/v1/auth/me", headers=_bearer(raw)), 401)
    client.cookies.set(SESSION_COOKIE, cookie)
    _problem(client.get("/api/v1/auth/me"), 401)
    # Reactivating does not bring the old credentials back.
    with db.unit_of_work() as session:
        auth_service.update_user(session, actor=SYSTEM, user=auth_service.get_user(session, user_id=member.id),
                                 active=True)
    _problem(client.get("/api/v1/auth/me", headers=_bearer(raw)), 401)
    _problem(client.get("/api/v1/auth/me"), 401)


def test_changing_a_password_ends_sessions_but_keeps_tokens(client, member, factory, db):
    raw = factory.token(member)
    _login(client)
    with db.unit_of_work() as session:
        auth_service.update_user(session, actor=SYSTEM, user=auth_service.get_user(session, user_id=member.id),
                                 password="another long password")
    _problem(client.get("/api/v1/auth/me"), 401)
    assert client.get("/api/v1/auth/me", headers=_bearer(raw)).status_code == 200


def test_a_user_cannot_deactivate_themself(db, member):
    from tierline.platform.errors import Conflict

    actor = auth_service.actor_for(member, via="token")
    with pytest.raises(Conflict):
        with db.unit_of_work() as session:
            auth_service.update_user(session, actor=actor, user=auth_service.get_user(session, user_id=member.id),
                                     active=False)


def test_a_tokens_permissions_follow_the_users_current_roles(factory, client, db):
    admin = factory.api(client, roles=["admin"])
    factory.user(roles=["admin"])  # another admin: the last one may not lose the role
    assert admin.get("/api/v1/audit").status_code == 200
    with db.unit_of_work() as session:
        auth_service.update_user(session, actor=SYSTEM, user=auth_service.get_user(session, user_id=admin.user_id),
                                 roles=["agent_l1"])
    _problem(admin.get("/api/v1/audit"), 403)


# -- the door: no credential is cached ------------------------------------------------------------------

def test_a_token_revoked_behind_the_apis_back_is_refused_by_the_very_next_request(agent, db):
    assert agent.get("/api/v1/auth/me").status_code == 200
    with db.engine.begin() as conn:  # as psql, another process or a restore would
        conn.execute(update(ApiToken).where(ApiToken.user_id == agent.user_id).values(revoked_at=clock.now()))
    assert "revoked" in _problem(agent.get("/api/v1/auth/me"), 401)["detail"]


def test_a_user_deactivated_behind_the_apis_back_is_refused_by_every_app_at_once(agent, db, settings):
    other_process = TestClient(create_app(db, settings, embedded_worker=False), raise_server_exceptions=False)
    with other_process:
        assert agent.get("/api/v1/auth/me").status_code == 200
        assert other_process.get("/api/v1/auth/me", headers=_bearer(agent.token)).status_code == 200
        with db.engine.begin() as conn:
            conn.execute(update(User).where(User.id == agent.user_id).values(active=False))
        assert "deactivated" in _problem(agent.get("/api/v1/auth/me"), 401)["detail"]
        _problem(other_process.get("/api/v1/auth/me", headers=_bearer(agent.token)), 401)


def test_tokens_of_the_same_roles_with_other_scopes_each_get_their_own_permissions(factory, client):
    wide = factory.api(client, roles=["agent_l1"])
    narrow = factory.api(client, roles=["agent_l1"], scopes=["queues:read"])
    for _ in range(2):  # interleaved: what one answer computed is never served to the other
        assert narrow.get("/api/v1/auth/me").json()["permissions"] == ["queues:read"]
        assert "tickets:read" in wide.get("/api/v1/auth/me").json()["permissions"]
        assert "tickets:read" in _problem(narrow.get("/api/v1/tickets"), 403)["detail"]
