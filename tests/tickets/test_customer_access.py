"""A customer sees only the allow-list and writes only what a requester writes (issue 11, findings 3 and 4).

The allow-list walk logs in as a customer (a real session, cookie and CSRF), calls every route the customer's
permissions reach and compares every key of every answer with the customer schemas.
"""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import pytest

from tests.helpers import Api
from tests.test_route_security import ROUTES, _permission, _url
from tierline.platform import rbac
from tierline.tickets.schemas import CustomerMessageRead, CustomerTicketRead

from .conftest import create_ticket, get_ticket, patch_ticket, post_message

PASSWORD = "correct horse battery"
TICKET_KEYS = set(CustomerTicketRead.model_fields)
MESSAGE_KEYS = set(CustomerMessageRead.model_fields)
TOKEN_KEYS = {"id", "user_id", "name", "prefix", "scopes", "expires_at", "created_at", "revoked_at", "token"}
PAGE_KEYS = {"items", "next_cursor"}
PROBLEM_KEYS = {"type", "title", "status", "detail", "instance", "errors", "allowed", "retry_after",
                "current_version", "retry"}
STAFF_ONLY = ("impact_score", "impact_explain", "sentiment", "frustrated", "signature", "triage", "team_id",
              "queue_id", "assignee_id", "tags", "author_email", "author_id", "customer_id", "sla")


def _rule(admin: Api, **body: Any) -> None:
    r = admin.post("/api/v1/triage/rules", json={"name": body.pop("name", "rule"), **body})
    assert r.status_code == 201, r.text


@pytest.fixture
def churn_rules(admin: Api, make_team) -> None:  # noqa: ANN001
    team = make_team("Frontline")
    _rule(admin, name="Churn risk: cancellation wording", conditions={"all": [
        {"field": "description", "op": "matches", "value": r"(?i)\bcancel"}]},
        actions=[{"type": "add_tags", "value": ["churn-risk", "security"]},
                 {"type": "notify", "value": {"team_id": team["id"], "message": "A customer sounds ready to leave."}}])


def _leaks(body: Any) -> list[str]:
    text = repr(body)
    return [word for word in ("churn-risk", "ready to leave", "@support.example", "Churn risk") if word in text]


# -- finding 3: customers read staff-only data on their own tickets --------------------------------------------

def test_a_customer_reads_only_the_allow_list_of_their_ticket(admin, factory, churn_rules, customer_api):
    staff = factory.api(admin.client, roles=["agent_l2"], email="dana@support.example")
    with factory.db.unit_of_work() as session:
        from tierline.platform.auth import service as auth_service

        auth_service.get_user(session, user_id=staff.user_id).name = "Dana Scully"
    t = create_ticket(customer_api, subject="We will cancel", description="We will cancel our contract now.",
                      requester_email=None)
    full = get_ticket(admin, t["key"])
    assert {"churn-risk", "security"} <= set(full["tags"]) and full["triage"]  # the staff view has it all
    post_message(staff, t["key"], body="Sorry to hear that, looking into it.")
    post_message(staff, t["key"], body="internal: churn risk", public=False)
    for body in (t, get_ticket(customer_api, t["key"]), customer_api.get("/api/v1/tickets").json()["items"][0]):
        assert set(body) == TICKET_KEYS, sorted(set(body) - TICKET_KEYS)
        assert not _leaks(body)
    page = customer_api.get(f"/api/v1/tickets/{t['key']}/messages").json()
    assert [m["author_name"] for m in page["items"]] == ["Dana Scully (Support)"]
    assert all(set(m) == MESSAGE_KEYS for m in page["items"]) and not _leaks(page)


def test_a_staff_name_that_is_empty_or_an_address_shows_as_support(factory, admin, customer_api):
    staff = factory.api(admin.client, roles=["agent_l1"], email="x@support.example")  # name = the address
    t = create_ticket(customer_api, requester_email=None)
    post_message(staff, t["key"], body="Hello")
    post_message(customer_api, t["key"], body="Thanks")
    names = [m["author_name"] for m in customer_api.get(f"/api/v1/tickets/{t['key']}/messages").json()["items"]]
    assert names == ["Support", "Customer"]


def test_a_customer_cannot_filter_by_staff_only_fields(customer_api):
    for params in ({"tag": "churn-risk"}, {"assignee_id": 1}, {"queue_id": 1}, {"team_id": 1}):
        r = customer_api.get("/api/v1/tickets", params=params)
        assert r.status_code == 403 and [e["field"] for e in r.json()["errors"]] == list(params)


# -- finding 4: customers undo or steer triage -----------------------------------------------------------------

def test_a_customer_cannot_remove_tags_or_set_staff_inputs(admin, churn_rules, customer_api):
    t = create_ticket(customer_api, description="We will cancel.", requester_email=None)
    r = customer_api.patch(f"/api/v1/tickets/{t['key']}", json={"tags": []})
    assert r.status_code == 403 and r.json()["errors"][0]["field"] == "tags"
    assert {"churn-risk", "security"} <= set(get_ticket(admin, t["key"])["tags"])
    for field, value in (("urgency", "high"), ("affected_users", 1_000_000), ("type", "incident"),
                         ("channel", "alert"), ("tags", ["vip"]), ("priority", "P1"),
                         ("custom_fields", {"plan": "gold"})):
        r = customer_api.post("/api/v1/tickets", json={"subject": "s", "description": "d", field: value})
        assert r.status_code == 403, (field, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        expected = "custom_fields.plan" if field == "custom_fields" else field
        assert [e["field"] for e in r.json()["errors"]] == [expected]
    assert patch_ticket(customer_api, t["key"], subject="Please help")["subject"] == "Please help"


def test_an_outage_story_from_a_customer_is_a_signal_not_an_override(admin, customer_api):
    r = customer_api.post("/api/v1/tickets", json={
        "subject": "Checkout down", "description": "Checkout fails for everyone since 9:00.",
        "type": "incident", "urgency": "high", "affected_users": 1_000_000})
    assert r.status_code == 403
    t = create_ticket(customer_api, subject="Checkout down", description="Checkout fails for everyone since 9:00.",
                      requester_email=None)
    full = get_ticket(admin, t["key"])
    assert full["channel"] == "api" and full["requester_email"] == customer_api.email
    assert full["priority"] != "P1"


def test_a_form_can_open_a_describing_field_to_customers_and_triage_still_decides(admin, customer_api):
    r = admin.put("/api/v1/ticket-forms/question", json={
        "required_fields": [], "customer_editable_fields": ["subject", "description", "error_code",
                                                           "affected_users"]})
    assert r.status_code == 200 and "error_code" in r.json()["customer_editable_fields"]
    bad = admin.put("/api/v1/ticket-forms/question", json={"required_fields": [],
                                                           "customer_editable_fields": ["priority"]})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "customer_editable_fields.0"
    r = customer_api.post("/api/v1/tickets", json={"subject": "Saving fails", "description": "DB-1042 again.",
                                                   "error_code": "DB-1042", "affected_users": 50_000})
    assert r.status_code == 201, r.text
    full = get_ticket(admin, r.json()["key"])
    assert full["error_code"] == "DB-1042" and full["requester_email"] == customer_api.email
    # requester_email is no longer open here: a customer sending it is refused.
    r = customer_api.post("/api/v1/tickets", json={"subject": "s", "description": "d",
                                                   "requester_email": customer_api.email})
    assert r.status_code == 403 and r.json()["errors"][0]["field"] == "requester_email"


def test_a_customer_names_only_their_own_address(customer_api):
    r = customer_api.post("/api/v1/tickets", json={"subject": "s", "description": "d",
                                                   "requester_email": "ceo@acme.example"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "requester_email"
    assert create_ticket(customer_api, requester_email=customer_api.email)["key"]


# -- the allow-list walk -----------------------------------------------------------------------------------------

def _customer_routes() -> list[tuple[str, str, Any]]:
    perms = rbac.ROLE_PERMISSIONS["customer"]
    out = []
    for method, path, route in ROUTES:
        dependant = getattr(route, "dependant", None)
        if dependant is None:
            continue
        try:
            permission = _permission(route)
        except StopIteration:
            permission = None  # authenticated() or open
        if permission is None or permission in perms:
            out.append((method, path, route))
    return out


def _allowed_keys(path: str, body: Any) -> set[str]:
    if "/messages" in path:
        return MESSAGE_KEYS
    if path.startswith("/api/v1/tickets"):
        return TICKET_KEYS
    if path.startswith("/api/v1/tokens"):
        return TOKEN_KEYS
    if path.startswith("/api/v1/auth"):
        return {"user_id", "email", "roles", "permissions", "via", "csrf_token", "expires_at"}
    if path == "/api/v1/health":
        return {"status", "database"}
    raise AssertionError(f"a customer reached {path}, which has no allow-list: {body}")


def test_a_customer_session_walks_every_route_it_may_call_and_sees_only_the_allow_list(
        factory, client, admin, churn_rules):
    factory.user(roles=["customer"], email="jane@acme.example", password=PASSWORD)
    staff = factory.api(client, roles=["agent_l1"], email="agent@support.example")
    login = client.post("/api/v1/auth/login", json={"email": "jane@acme.example", "password": PASSWORD})
    csrf = login.json()["csrf_token"]
    headers = {"X-CSRF-Token": csrf}
    r = client.post("/api/v1/tickets", json={"subject": "Cancel", "description": "We cancel."}, headers=headers)
    assert r.status_code == 201, r.text
    key = r.json()["key"]
    post_message(staff, key, body="We hear you")
    token = client.post("/api/v1/tokens", json={"name": "mine"}, headers=headers).json()["id"]
    bodies = {("POST", "/api/v1/tickets"): {"subject": "More", "description": "Another one"},
              ("PATCH", "/api/v1/tickets/{key}"): {"subject": "Renamed"},
              ("POST", "/api/v1/tickets/{key}/messages"): {"body": "Any news?"},
              ("POST", "/api/v1/tokens"): {"name": "another"}}
    seen, answered = 0, set()
    last = ("DELETE", "/api/v1/auth/logout")  # revoking and logging out come last
    for method, path, route in sorted(_customer_routes(), key=lambda x: (x[0] == last[0], x[1] == last[1])):
        url = _url(path, route).replace("T-1", key).replace("/tokens/1", f"/tokens/{token}")
        r = client.request(method, url, json=bodies.get((method, path)), headers=headers)
        if r.headers.get("content-type", "").startswith("application/problem+json"):
            assert set(r.json()) <= PROBLEM_KEYS, (method, path, r.json())
            assert not _leaks(r.json()), (method, path)
            continue
        answered.add((method, path))
        if r.status_code == 204 or not r.content:
            continue
        body = r.json()
        items = body["items"] if isinstance(body, dict) and set(body) == PAGE_KEYS else [body]
        allowed = _allowed_keys(path, body)
        for item in items:
            assert set(item) <= allowed, (method, path, sorted(set(item) - allowed))
            assert not (set(item) & set(STAFF_ONLY)), (method, path)
            assert not _leaks(item), (method, path, item)
            seen += 1
    assert seen >= 6
    assert {("GET", "/api/v1/tickets"), ("POST", "/api/v1/tickets"), ("GET", "/api/v1/tickets/{key}"),
            ("PATCH", "/api/v1/tickets/{key}"), ("GET", "/api/v1/tickets/{key}/messages"),
            ("POST", "/api/v1/tickets/{key}/messages"), ("GET", "/api/v1/tokens")} <= answered


def test_the_openapi_publishes_both_shapes_as_one_of_and_answers_match_exactly_one(
        client, admin, customer_api):
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert schemas["CustomerTicketRead"]["additionalProperties"] is False
    assert schemas["CustomerMessageRead"]["additionalProperties"] is False
    detail = spec["paths"]["/api/v1/tickets/{key}"]["get"]["responses"]["200"]["content"]["application/json"]
    refs = [s["$ref"].rsplit("/", 1)[1] for s in detail["schema"]["oneOf"]]
    assert refs == ["TicketDetail", "CustomerTicketRead"]
    for path, method in (("/api/v1/tickets", "get"), ("/api/v1/tickets/{key}/messages", "get"),
                         ("/api/v1/tickets", "post"), ("/api/v1/tickets/{key}", "patch"),
                         ("/api/v1/tickets/{key}/messages", "post")):
        responses = spec["paths"][path][method]["responses"]
        assert "Customer" in repr(responses) or "Page" in repr(responses) or "TicketPage" in repr(spec)

    def validator(name: str) -> Any:
        return jsonschema_rs.validator_for({"$ref": f"#/components/schemas/{name}",
                                            "components": {"schemas": schemas}})

    t = create_ticket(customer_api, requester_email=None)
    post_message(admin, t["key"], body="Hello")
    one_of = {"TicketDetail": validator("TicketDetail"), "CustomerTicketRead": validator("CustomerTicketRead"),
              "MessageRead": validator("MessageRead"), "CustomerMessageRead": validator("CustomerMessageRead")}
    staff_ticket, customer_ticket = get_ticket(admin, t["key"]), get_ticket(customer_api, t["key"])
    assert [n for n in ("TicketDetail", "CustomerTicketRead") if one_of[n].is_valid(staff_ticket)] == ["TicketDetail"]
    assert [n for n in ("TicketDetail", "CustomerTicketRead")
            if one_of[n].is_valid(customer_ticket)] == ["CustomerTicketRead"]
    staff_msg = admin.get(f"/api/v1/tickets/{t['key']}/messages").json()["items"][0]
    customer_msg = customer_api.get(f"/api/v1/tickets/{t['key']}/messages").json()["items"][0]
    assert [n for n in ("MessageRead", "CustomerMessageRead") if one_of[n].is_valid(staff_msg)] == ["MessageRead"]
    assert [n for n in ("MessageRead", "CustomerMessageRead")
            if one_of[n].is_valid(customer_msg)] == ["CustomerMessageRead"]
