"""The frame: logging in and out with the API's session, the CSRF token on every change, "my tokens"."""

from __future__ import annotations

from tierline.platform.auth.models import ApiToken


def test_logging_in_lands_an_agent_on_the_queues_and_a_customer_on_their_tickets(person):
    agent = person(["agent_l1"], "ann@support.example")
    assert agent.get("/").headers["location"] == "/queues"
    customer = person(["customer"], "carl@acme.example")
    assert customer.get("/").headers["location"] == "/portal"


def test_logging_in_returns_to_the_page_asked_for(person):
    agent = person(["agent_l1"], "ann@support.example", login=False)
    r = agent.client.post("/login", data={"email": agent.email, "password": "correct horse battery staple",
                                          "next": "/tickets/new"}, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/tickets/new")


def test_a_wrong_password_shows_the_login_page_again_with_the_reason(person):
    agent = person(["agent_l1"], "ann@support.example", login=False)
    r = agent.login(password="not the password")
    assert r.status_code == 401 and "Wrong email or password" in r.text
    assert agent.get("/queues").status_code == 303


def test_the_console_session_is_the_apis_session(person):
    agent = person(["agent_l1"], "ann@support.example")
    me = agent.client.get("/api/v1/auth/me")
    assert me.status_code == 200 and me.json()["via"] == "session"


def test_a_change_without_the_csrf_token_is_refused_and_changes_nothing(person, factory):
    agent = person(["agent_l1"], "ann@support.example")
    before = factory.count(ApiToken)
    r = agent.post("/tokens", {"name": "ci"}, csrf=False)
    assert r.status_code == 403 and "CSRF" in r.text
    r = agent.client.post("/tokens", data={"name": "ci", "csrf_token": "wrong"}, follow_redirects=False)
    assert r.status_code == 403
    assert factory.count(ApiToken) == before


def test_logging_out_ends_the_session(person):
    agent = person(["agent_l1"], "ann@support.example")
    r = agent.post("/logout")
    assert (r.status_code, r.headers["location"]) == (303, "/login")
    assert agent.get("/queues").headers["location"].startswith("/login")
    assert agent.client.get("/api/v1/auth/me").status_code == 401


def test_my_tokens_mints_a_token_shown_once_that_works_and_revokes_it(person, factory):
    agent = person(["agent_l1"], "ann@support.example")
    page = agent.get("/tokens")
    assert page.status_code == 200 and "No tokens yet" in page.text
    r = agent.post("/tokens", {"name": "laptop", "scopes": ["tickets:read"], "expires_in_days": "30"})
    assert r.status_code == 200, r.text
    raw = r.text.split('id="minted-token">', 1)[1].split("<", 1)[0]
    assert raw.startswith("tl_")
    api = agent.client.get("/api/v1/tickets", headers={"Authorization": f"Bearer {raw}"})
    assert api.status_code == 200
    assert raw not in agent.get("/tokens").text  # shown once
    assert factory.audit_count(action="api_tokens.create") >= 1
    token_id = factory.count(ApiToken)
    r = agent.post(f"/tokens/{token_id}/revoke")
    assert (r.status_code, r.headers["location"]) == (303, "/tokens")
    assert "revoked" in agent.get("/tokens").text


def test_a_token_wider_than_the_person_is_refused_on_the_page(person, factory):
    agent = person(["agent_l1"], "ann@support.example")
    r = agent.post("/tokens", {"name": "x", "scopes": ["audit:read"]})
    assert r.status_code == 422 and "scopes.0" in r.text
    r = agent.post("/tokens", {"name": "x", "expires_in_days": "0"})
    assert r.status_code == 422 and "expires_in_days" in r.text
    assert factory.count(ApiToken) == 0


def test_pages_work_on_a_phone_and_carry_labels(person):
    agent = person(["agent_l1"], "ann@support.example")
    page = agent.get("/queues").text
    assert 'name="viewport"' in page and '<label for="q">' in page
    assert "/static/htmx.min.js" in page and "https://" not in page  # nothing from a CDN


def test_the_login_page_sends_someone_already_signed_in_on(person):
    agent = person(["agent_l1"], "ann@support.example")
    assert agent.get("/login").headers["location"] == "/queues"
    assert agent.get("/login?next=/tokens").headers["location"] == "/tokens"
