"""/api/v1/triage/rules: CRUD through real HTTP, audited; invalid rules are a 422 naming the path and why, and
change nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tierline.triage.models import TriageRule

URL = "/api/v1/triage/rules"


def body(**fields: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": "Database errors to L2",
        "position": 10,
        "conditions": {"all": [{"field": "error_code", "op": "matches", "value": r"^DB-\d{4}$"}], "any": []},
        "actions": [{"type": "set_tier", "value": "L2"}, {"type": "add_tags", "value": ["Database"]}],
    }
    values.update(fields)
    return values


def create(api, expect: int = 201, **fields: Any) -> dict:
    r = api.post(URL, json=body(**fields))
    assert r.status_code == expect, r.text
    return r.json()


def test_an_admin_creates_reads_lists_updates_and_deletes_a_rule(admin, factory):
    created = create(admin)
    assert created["trigger"] == "create" and created["active"] and not created["stop_processing"]
    assert created["actions"][1] == {"type": "add_tags", "value": ["database"]}  # stored normalised
    assert created["conditions"]["all"][0] == {"field": "error_code", "op": "matches", "value": r"^DB-\d{4}$"}
    assert admin.get(f"{URL}/{created['id']}").json() == created
    assert factory.audit_count(action="triage_rules.create", entity_id=str(created["id"])) == 1

    r = admin.patch(f"{URL}/{created['id']}", json={"active": False, "stop_processing": True})
    assert r.status_code == 200, r.text
    assert not r.json()["active"] and r.json()["stop_processing"]
    assert factory.audit_count(action="triage_rules.update") == 1

    assert admin.delete(f"{URL}/{created['id']}").status_code == 204
    assert admin.get(f"{URL}/{created['id']}").status_code == 404
    assert factory.audit_count(action="triage_rules.delete") == 1


def test_an_update_that_changes_nothing_writes_no_audit_event(admin, factory):
    created = create(admin)
    r = admin.patch(f"{URL}/{created['id']}", json={"position": 10})
    assert r.status_code == 200
    assert factory.audit_count(action="triage_rules.update") == 0


def test_the_list_is_in_running_order_and_filters(admin):
    third = create(admin, name="c", position=5)
    first = create(admin, name="a", position=1)
    second = create(admin, name="b", position=5, trigger="update", active=False)
    items = admin.get(URL).json()["items"]
    assert [i["id"] for i in items] == [first["id"], third["id"], second["id"]]
    assert [i["name"] for i in admin.get(URL, params={"trigger": "update"}).json()["items"]] == ["b"]
    assert [i["name"] for i in admin.get(URL, params={"active": "true"}).json()["items"]] == ["a", "c"]
    assert [i["name"] for i in admin.get(URL, params={"q": "B"}).json()["items"]] == ["b"]
    page = admin.get(URL, params={"limit": 2}).json()
    rest = admin.get(URL, params={"limit": 2, "cursor": page["next_cursor"]}).json()
    assert [i["name"] for i in page["items"] + rest["items"]] == ["a", "c", "b"] and rest["next_cursor"] is None


def test_a_second_rule_with_the_same_name_is_a_conflict(admin, factory):
    create(admin)
    events = factory.audit_count()
    r = admin.post(URL, json=body())
    assert r.status_code == 409 and r.headers["content-type"].startswith("application/problem+json")
    assert factory.count(TriageRule) == 1 and factory.audit_count() == events


INVALID = [
    ({"conditions": {"all": [{"field": "nope", "op": "equals", "value": "x"}]}}, "conditions.all.0.field",
     "unknown field"),
    ({"conditions": {"all": [{"field": "subject", "op": "like", "value": "x"}]}}, "conditions.all.0.op", ""),
    ({"conditions": {"any": [{"field": "subject", "op": "contains", "value": "a"},
                             {"field": "subject", "op": "gte", "value": 3}]}}, "conditions.any.1.op",
     "not valid for subject"),
    ({"conditions": {"all": [{"field": "priority", "op": "equals", "value": "P9"}]}}, "conditions.all.0.value",
     "one of P1, P2, P3, P4"),
    ({"conditions": {"all": [{"field": "impact_score", "op": "gte", "value": "high"}]}}, "conditions.all.0.value",
     "finite number"),
    ({"conditions": {"all": [{"field": "type", "op": "in", "value": ["bug", "nope"]}]}},
     "conditions.all.0.value.1", "one of"),
    ({"conditions": {"all": [{"field": "type", "op": "in", "value": []}]}}, "conditions.all.0.value",
     "non-empty list"),
    ({"conditions": {"all": [{"field": "subject", "op": "matches", "value": r"(a)\1"}]}},
     "conditions.all.0.value", "backreferences"),
    ({"conditions": {"all": [{"field": "subject", "op": "matches", "value": "(unclosed"}]}},
     "conditions.all.0.value", "RE2"),
    ({"conditions": {"all": [{"field": "subject", "op": "is_empty", "value": "yes"}]}}, "conditions.all.0.value",
     "true, false"),
    ({"conditions": {"all": [{"field": "component", "op": "equals", "value": 999}]}}, "conditions.all.0.value",
     "component 999 does not exist"),
    ({"conditions": {"all": [{"field": "custom_fields.Bad Name", "op": "equals", "value": 1}]}},
     "conditions.all.0.field", "unknown field"),
    ({"conditions": {"all": [{"field": "custom_fields.env", "op": "equals", "value": {"a": 1}}]}},
     "conditions.all.0.value", "string, a finite number or a boolean"),
    ({"conditions": {"all": [{"field": "tags", "op": "contains", "value": "two words"}]}},
     "conditions.all.0.value", "tag"),
    ({"actions": [{"type": "launch_rocket", "value": 1}]}, "actions.0.type", ""),
    ({"actions": [{"type": "add_tags", "value": ["ok"]}, {"type": "set_priority", "value": "urgent"}]},
     "actions.1.value", "one of P1"),
    ({"actions": [{"type": "set_queue", "value": 424242}]}, "actions.0.value", "queue 424242 does not exist"),
    ({"actions": [{"type": "set_team", "value": 424242}]}, "actions.0.value", "team 424242 does not exist"),
    ({"actions": [{"type": "set_component", "value": "db"}]}, "actions.0.value", "component id"),
    ({"actions": [{"type": "assign_to", "value": 424242}]}, "actions.0.value", "user 424242 does not exist"),
    ({"actions": [{"type": "add_tags", "value": ["fine", "not fine"]}]}, "actions.0.value.1", "tag"),
    ({"actions": [{"type": "set_custom_field", "value": {"name": "Env", "value": "x"}}]}, "actions.0.value.name",
     "lower-case"),
    ({"actions": [{"type": "set_priority_from_impact", "value": "P1"}]}, "actions.0.value", "takes no value"),
    ({"actions": [{"type": "notify", "value": {"team_id": 1, "email": "a@b.example"}}]}, "actions.0.value",
     "exactly one"),
    ({"actions": [{"type": "notify", "value": {"email": "not an email"}}]}, "actions.0.value.email", "email"),
    ({"actions": []}, "actions", ""),
    ({"trigger": "sometimes"}, "trigger", ""),
    ({"position": -1}, "position", ""),
    ({"description": "half an emoji \ud83d"}, "description", "surrogate"),
    ({"conditions": {"all": [{"field": "subject", "op": "contains", "value": "\udc00"}]}},
     "conditions.all.0.value", "surrogate"),
]


@pytest.mark.parametrize(("fields", "path", "reason"), INVALID, ids=[case[1] for case in INVALID])
def test_an_invalid_rule_is_a_422_naming_the_path_and_changes_nothing(admin, factory, fields, path, reason):
    events = factory.audit_count()
    # Sent as ASCII JSON: a lone surrogate travels as its \u escape, as any JSON client may send it.
    r = admin.post(URL, content=json.dumps(body(**fields)), headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    errors = r.json()["errors"]
    assert path in [e["field"] for e in errors], errors
    assert reason in next(e["message"] for e in errors if e["field"] == path)
    assert factory.count(TriageRule) == 0 and factory.audit_count() == events


def test_every_problem_is_reported_at_once(admin):
    r = admin.post(URL, json=body(conditions={"all": [{"field": "subject", "op": "gte", "value": 1},
                                                      {"field": "priority", "op": "equals", "value": "P0"}]},
                                  actions=[{"type": "set_tier", "value": "L9"}]))
    assert {e["field"] for e in r.json()["errors"]} == {"conditions.all.0.op", "conditions.all.1.value",
                                                         "actions.0.value"}


def test_a_catastrophic_backtracking_regex_is_accepted_and_runs_in_linear_time(admin):
    created = create(admin, conditions={"all": [{"field": "subject", "op": "matches", "value": "(a+)+$"}]})
    assert created["conditions"]["all"][0]["value"] == "(a+)+$"


def test_an_invalid_update_is_a_422_and_changes_nothing(admin, factory):
    created = create(admin)
    events = factory.audit_count()
    r = admin.patch(f"{URL}/{created['id']}", json={"actions": [{"type": "set_queue", "value": 0}]})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "actions.0.value"
    r = admin.patch(f"{URL}/{created['id']}", json={"name": None})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "name"
    assert admin.get(f"{URL}/{created['id']}").json() == created and factory.audit_count() == events


def test_agents_read_rules_but_only_admins_and_managers_change_them(client, factory, admin, agent):
    created = create(admin)
    assert agent.get(URL).status_code == 200
    assert agent.get(f"{URL}/{created['id']}").status_code == 200
    assert agent.post(URL, json=body(name="x")).status_code == 403
    assert agent.patch(f"{URL}/{created['id']}", json={"active": False}).status_code == 403
    assert agent.delete(f"{URL}/{created['id']}").status_code == 403
    manager = factory.api(client, roles=["manager"], email="boss@example.com")
    assert manager.patch(f"{URL}/{created['id']}", json={"active": False}).status_code == 200
    customer = factory.api(client, roles=["customer"], email="jane@acme.example")
    assert customer.get(URL).status_code == 403


def test_unknown_rules_are_404(admin):
    assert admin.get(f"{URL}/424242").status_code == 404
    assert admin.patch(f"{URL}/424242", json={"active": False}).status_code == 404
    assert admin.delete(f"{URL}/424242").status_code == 404
