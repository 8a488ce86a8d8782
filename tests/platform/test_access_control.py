"""Access control (issue 11): tokens never widen, login has a brake, cookies and request ids are safe.

One test per finding of the probe; the customer findings are in tests/tickets/test_customer_access.py and the
route walks in tests/test_access_walk.py.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from tierline.app import create_app
from tierline.platform import clock
from tierline.platform.audit import AuditEvent
from tierline.platform.auth import throttle
from tierline.platform.auth.models import ApiToken
from tierline.settings import Settings

PASSWORD = "correct horse battery"


def _bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


def _problem(r, status):  # noqa: ANN001, ANN202
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    return r.json()


def _events(factory, action: str) -> list[AuditEvent]:  # noqa: ANN001
    with factory.db.session(write=False) as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)))


# -- finding 1: a manager mints an admin token -----------------------------------------------------------------

def test_a_manager_cannot_mint_list_or_revoke_an_admins_tokens(factory, client, admin):
    manager = factory.api(client, roles=["manager"])
    tokens = factory.count(ApiToken)
    body = _problem(manager.post("/api/v1/tokens", json={"name": "x", "user_id": admin.user_id}), 403)
    assert "tokens:admin" in body["detail"]
    assert factory.count(ApiToken) == tokens
    _problem(manager.get("/api/v1/tokens", params={"user_id": admin.user_id}), 403)
    admins = admin.get("/api/v1/tokens").json()["items"]
    _problem(manager.delete(f"/api/v1/tokens/{admins[0]['id']}"), 404)
    assert client.get("/api/v1/auth/me", headers=_bearer(admin.token)).status_code == 200
    # The rule PATCH /users applies was there already; tokens no longer skip it.
    _problem(manager.patch(f"/api/v1/users/{admin.user_id}", json={"name": "x"}), 403)


def test_another_users_tokens_need_tokens_admin_and_are_audited_with_actor_and_owner(factory, client, admin):
    integration = factory.user(roles=["integration"])
    r = admin.post("/api/v1/tokens", json={"name": "feed", "user_id": integration.id})
    assert r.status_code == 201, r.text
    token_id = r.json()["id"]
    listed = admin.get("/api/v1/tokens", params={"user_id": integration.id}).json()["items"]
    assert [t["id"] for t in listed if t["id"] == token_id] == [token_id]
    assert admin.delete(f"/api/v1/tokens/{token_id}").status_code == 204
    created = [e for e in _events(factory, "api_tokens.create") if e.entity_id == str(token_id)]
    revoked = [e for e in _events(factory, "api_tokens.revoke") if e.entity_id == str(token_id)]
    for event in (*created, *revoked):
        assert event.actor_id == admin.user_id
        assert event.changes["user_id"][1] == integration.id
    assert len(created) == len(revoked) == 1
    # tokens:admin is the admin's alone.
    me = client.get("/api/v1/auth/me", headers=_bearer(admin.token)).json()
    assert "tokens:admin" in me["permissions"]
    manager = factory.api(client, roles=["manager"])
    assert "tokens:admin" not in client.get("/api/v1/auth/me", headers=_bearer(manager.token)).json()["permissions"]


# -- finding 2: a narrowed token widens itself -----------------------------------------------------------------

def test_a_narrowed_token_mints_only_narrower_tokens(factory, client):
    agent = factory.api(client, roles=["agent_l1"], scopes=["tickets:read", "tokens:write"])
    r = agent.post("/api/v1/tokens", json={"name": "widen"})
    assert r.status_code == 201, r.text
    assert sorted(r.json()["scopes"]) == ["tickets:read", "tokens:write"]
    child = r.json()["token"]
    _problem(client.get("/api/v1/customers", headers=_bearer(child)), 403)
    body = _problem(agent.post("/api/v1/tokens", json={"name": "w", "scopes": ["*"]}), 403)
    assert body["errors"][0]["field"] == "scopes.0"
    body = _problem(agent.post("/api/v1/tokens", json={"name": "w", "scopes": ["tickets:read", "customers:read"]}),
                    403)
    assert [e["field"] for e in body["errors"]] == ["scopes.1"] and "customers:read" in body["detail"]
    r = agent.post("/api/v1/tokens", json={"name": "narrower", "scopes": ["tickets:read"]})
    assert r.status_code == 201 and r.json()["scopes"] == ["tickets:read"]


def test_a_token_mints_no_token_that_outlives_it(factory, client):
    user = factory.api(client, roles=["agent_l1"])
    r = user.post("/api/v1/tokens", json={"name": "a day", "expires_in_days": 1})
    parent = r.json()
    expires = parent["expires_at"]
    r = client.post("/api/v1/tokens", json={"name": "forever"}, headers=_bearer(parent["token"]))
    assert r.status_code == 201, r.text
    assert r.json()["expires_at"] == expires  # omitted: the caller's own expiry
    later = client.post("/api/v1/tokens", json={"name": "longer", "expires_in_days": 2},
                        headers=_bearer(parent["token"]))
    assert _problem(later, 403)["errors"][0]["field"] == "expires_at"
    sooner = (clock.now() + timedelta(hours=1)).isoformat()
    r = client.post("/api/v1/tokens", json={"name": "sooner", "expires_at": sooner},
                    headers=_bearer(parent["token"]))
    assert r.status_code == 201, r.text
    # A session (or an unexpiring token) sets no cap: its tokens may never expire.
    assert user.post("/api/v1/tokens", json={"name": "n"}).json()["expires_at"] is None


# -- finding 5: login has no brake; cookies; request ids -------------------------------------------------------

def _login(client, email="member@example.com", password=PASSWORD, **kw):  # noqa: ANN001, ANN003, ANN202
    return client.post("/api/v1/auth/login", json={"email": email, "password": password}, **kw)


def test_fifteen_wrong_passwords_lock_the_pair_out_with_429_and_retry_after(factory, client):
    factory.user(roles=["agent_l1"], email="member@example.com", password=PASSWORD)
    statuses = [_login(client, password="wrong password!").status_code for _ in range(15)]
    assert statuses == [401] * 5 + [429] * 10
    body = _problem(_login(client), 429)  # the right password too
    retry = int(_login(client).headers["retry-after"])
    assert 0 < retry <= 15 * 60 and "try again" in body["detail"]
    # Any spelling of the email is the same pair; another address is not locked.
    _problem(_login(client, email="  Member@Example.COM "), 429)
    other = TestClient(client.app, raise_server_exceptions=False, client=("192.0.2.7", 4000))
    assert _login(other).status_code == 200
    lockouts = _events(factory, "login_failures.lockout")
    assert len(lockouts) == 1 and lockouts[0].changes["email"][1] == "member@example.com"
    clock.advance(timedelta(minutes=15, seconds=1))
    assert _login(client).status_code == 200


def test_a_success_resets_the_count(factory, client):
    factory.user(roles=["agent_l1"], email="member@example.com", password=PASSWORD)
    for _ in range(2):
        assert [_login(client, password="nope nope").status_code for _ in range(4)] == [401] * 4
        assert _login(client).status_code == 200
    assert _events(factory, "login_failures.lockout") == []


def test_failures_outside_the_window_do_not_add_up(factory, client):
    factory.user(roles=["agent_l1"], email="member@example.com", password=PASSWORD)
    for _ in range(4):
        _login(client, password="nope nope")
    clock.advance(timedelta(minutes=16))
    assert [_login(client, password="nope nope").status_code for _ in range(4)] == [401] * 4
    assert _login(client).status_code == 200


def test_forwarded_for_is_believed_only_from_a_trusted_proxy(db):
    settings = Settings(log_level="WARNING", embedded_worker=False, trusted_proxies="10.0.0.0/8")
    app = create_app(db, settings, embedded_worker=False)
    proxy = TestClient(app, raise_server_exceptions=False, client=("10.1.2.3", 1000))
    assert throttle.client_address("10.1.2.3", ["198.51.100.1, 10.0.0.9"], settings.trusted_proxies) == \
        "198.51.100.1"
    assert throttle.client_address("198.51.100.9", ["203.0.113.5"], settings.trusted_proxies) == "198.51.100.9"
    assert throttle.client_address("10.1.2.3", ["spoofed, 203.0.113.5"], settings.trusted_proxies) == \
        "203.0.113.5"
    from tests.helpers import Factory

    Factory(db).user(roles=["agent_l1"], email="member@example.com", password=PASSWORD)
    mallory = {"X-Forwarded-For": "203.0.113.66"}
    for _ in range(5):
        _login(proxy, password="wrong password!", headers=mallory)
    _problem(_login(proxy, headers=mallory), 429)
    # Behind the same proxy, another client is its own pair.
    assert _login(proxy, headers={"X-Forwarded-For": "203.0.113.67"}).status_code == 200


def test_the_session_cookie_is_secure_behind_https_and_always_http_only_and_lax(db, factory):
    factory.user(roles=["agent_l1"], email="member@example.com", password=PASSWORD)
    for settings, secure in ((Settings(log_level="WARNING", embedded_worker=False), False),
                             (Settings(log_level="WARNING", embedded_worker=False,
                                       base_url="https://support.example.com"), True),
                             (Settings(log_level="WARNING", embedded_worker=False, cookie_secure=True), True)):
        with TestClient(create_app(db, settings, embedded_worker=False)) as c:
            r = _login(c)
            assert r.status_code == 200, r.text
            cookies = {v.split("=", 1)[0]: v.lower() for v in r.headers.get_list("set-cookie")}
            session = cookies["tierline_session"]
            assert "httponly" in session and "samesite=lax" in session
            assert ("; secure" in session) is secure
            csrf = cookies["tierline_csrf"]
            assert "httponly" not in csrf and "samesite=strict" in csrf


def test_a_clients_request_id_reaches_the_audit_trail_only_when_plain(factory, client, agent):
    for sent, kept in (("<script>alert(1)</script>", False), ("x" * 65, False), ("deploy-42.a_b", True)):
        r = agent.post("/api/v1/tokens", json={"name": "rid"}, headers={"X-Request-Id": sent})
        assert r.status_code == 201
        event = [e for e in _events(factory, "api_tokens.create") if e.entity_id == str(r.json()["id"])][0]
        assert (event.request_id == sent) is kept
        assert event.request_id == r.headers["x-request-id"]
