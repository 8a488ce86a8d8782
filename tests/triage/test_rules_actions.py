"""Every action: what it does to the draft, what it records, and when it is not applied (and why)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.triage.rules_helpers import draft, rule, run
from tierline.triage.actions import ACTION_TYPES


@pytest.fixture
def refs(admin, factory) -> dict[str, int]:
    """A team, a queue, a component and an agent for the actions that name them."""
    team = admin.post("/api/v1/teams", json={"name": "Database support", "kind": "support"}).json()["id"]
    queue = admin.post("/api/v1/queues", json={"name": "L2 database", "tier": "L2"}).json()["id"]
    component = admin.post("/api/v1/components", json={"name": "Database"}).json()["id"]
    agent = factory.user(roles=["agent_l2"], email="dba@example.com").id
    return {"team": team, "queue": queue, "component": component, "agent": agent}


@pytest.fixture
def session(db):
    with db.session() as s:
        yield s


def apply(session, *actions: dict[str, Any], **fields: Any):
    ticket = draft(**fields)
    _, results = run([rule({}, list(actions), rule_id=1, name="first")], ticket, session=session)
    return ticket, results


def test_every_action_of_the_issue_has_a_table_case():
    covered = {case[0] for case in SETTERS} | {"set_priority_from_impact", "add_tags", "set_custom_field",
                                               "escalate_to_engineering", "notify"}
    assert covered == set(ACTION_TYPES)


# (action type, value (a key of refs, or the value), the draft field it sets, the value it holds after)
SETTERS = [
    ("set_priority", "P1", "priority", "P1"),
    ("set_type", "incident", "type", "incident"),
    ("set_tier", "L2", "tier", "L2"),
    ("set_feature_area", "Checkout", "feature_area", "Checkout"),
    ("set_component", "component", "component_id", "component"),
    ("set_queue", "queue", "queue_id", "queue"),
    ("set_team", "team", "team_id", "team"),
    ("assign_to", "agent", "assignee_id", "agent"),
]


@pytest.mark.parametrize(("kind", "value", "field", "after"), SETTERS)
def test_each_setter_sets_its_field_and_marks_it_rule_set(session, refs, kind, value, field, after):
    value = refs.get(value, value)
    after = refs.get(after, after)
    ticket, results = apply(session, {"type": kind, "value": value})
    assert getattr(ticket, field) == after
    assert field in ticket.rule_set
    assert [(r.rule_id, r.type, r.value, r.applied) for r in results] == [(1, kind, value, True)]


@pytest.mark.parametrize(("kind", "value", "field", "after"), SETTERS)
def test_a_setter_beats_the_callers_value(session, refs, kind, value, field, after):
    value = refs.get(value, value)
    ticket = draft(caller_set={field})
    setattr(ticket, field, None if field.endswith("_id") or field in ("tier", "feature_area") else "P4")
    run([rule({}, [{"type": kind, "value": value}])], ticket, session=session)
    assert getattr(ticket, field) == refs.get(after, after)
    assert field in ticket.rule_set and not ticket.is_free(field)


@pytest.mark.parametrize(("urgency", "score", "priority"), [("high", 90, "P1"), ("low", 5, "P4"), (None, 90, None)])
def test_set_priority_from_impact_follows_the_impact_matrix(session, urgency, score, priority):
    from tierline.triage.impact import priority_from_impact

    expected = priority or priority_from_impact(score, None)
    ticket, results = apply(session, {"type": "set_priority_from_impact"}, urgency=urgency, impact_score=score)
    assert ticket.priority == expected and "priority" in ticket.rule_set
    assert results[0].applied and results[0].value == expected
    assert f"impact {score}" in results[0].note


def test_set_priority_from_impact_without_a_score_is_not_applied(session):
    ticket, results = apply(session, {"type": "set_priority_from_impact"}, impact_score=None)
    assert ticket.priority == "P3" and "priority" not in ticket.rule_set
    assert not results[0].applied and "no impact score" in results[0].note


def test_add_tags_adds_new_tags_once_in_lower_case(session):
    ticket, results = apply(session, {"type": "add_tags", "value": ["database", "vip"]}, tags=["vip"])
    assert ticket.tags == ["vip", "database"] and "tags" in ticket.rule_set
    assert results[0].applied and results[0].value == ["database"]


def test_add_tags_stops_at_the_tag_limit_and_says_which_were_left_out(session):
    ticket, results = apply(session, {"type": "add_tags", "value": ["one-more", "and-another"]},
                            tags=[f"t{i}" for i in range(49)])
    assert ticket.tags[-1] == "one-more" and len(ticket.tags) == 50
    assert "and-another" in results[0].note


def test_set_custom_field_sets_one_field_and_keeps_the_others(session):
    ticket, results = apply(session, {"type": "set_custom_field", "value": {"name": "env", "value": "prod"}},
                            custom_fields={"region": "eu"})
    assert ticket.custom_fields == {"region": "eu", "env": "prod"} and "custom_fields" in ticket.rule_set
    assert results[0].applied


def test_escalate_to_engineering_records_the_reason_for_the_pipeline(session):
    ticket, results = apply(session, {"type": "escalate_to_engineering", "value": "recurring DB errors"})
    assert ticket.escalate_to_engineering == "recurring DB errors" and results[0].applied
    ticket, _ = apply(session, {"type": "escalate_to_engineering"})
    assert ticket.escalate_to_engineering == "rule 'first'"


def test_notify_records_who_to_tell(session, refs):
    ticket, results = apply(session, {"type": "notify", "value": {"team_id": refs["team"], "message": "look"}},
                            {"type": "notify", "value": {"email": "oncall@example.com"}})
    assert ticket.notify == [{"rule_id": 1, "rule": "first", "team_id": refs["team"], "message": "look"},
                             {"rule_id": 1, "rule": "first", "email": "oncall@example.com"}]
    assert all(r.applied for r in results)


def test_the_first_rule_by_position_to_set_a_field_keeps_it(session):
    ticket = draft()
    first = rule({}, [{"type": "set_priority", "value": "P1"}], name="outage", position=1)
    second = rule({}, [{"type": "set_priority", "value": "P4"}, {"type": "add_tags", "value": ["later"]}],
                  name="low", position=2)
    _, results = run([second, first], ticket, session=session)
    assert ticket.priority == "P1" and ticket.tags == ["later"]
    assert [(r.type, r.applied) for r in results] == [("set_priority", True), ("set_priority", False),
                                                       ("add_tags", True)]
    assert "already set by rule 'outage'" in results[1].note


def test_a_second_escalation_to_engineering_keeps_the_first_reason(session):
    ticket = draft()
    _, results = run([rule({}, [{"type": "escalate_to_engineering", "value": "a"}], position=1),
                      rule({}, [{"type": "escalate_to_engineering", "value": "b"}], position=2)], ticket,
                     session=session)
    assert ticket.escalate_to_engineering == "a" and [r.applied for r in results] == [True, False]


def test_references_gone_since_the_rule_was_saved_are_not_applied(admin, factory, session, refs):
    assert admin.delete(f"/api/v1/queues/{refs['queue']}").status_code == 204
    assert admin.patch(f"/api/v1/users/{refs['agent']}", json={"available": False}).status_code == 200
    ticket, results = apply(session, {"type": "set_queue", "value": refs["queue"]},
                            {"type": "assign_to", "value": refs["agent"]})
    assert ticket.queue_id is None and ticket.assignee_id is None and not ticket.rule_set
    assert [r.applied for r in results] == [False, False]
    assert "no longer exists" in results[0].note and "cannot take tickets now" in results[1].note


def test_later_rules_see_what_earlier_rules_did(session):
    ticket = draft()
    run([rule({}, [{"type": "set_priority", "value": "P1"}, {"type": "add_tags", "value": ["urgent"]}], position=1),
         rule({"all": [{"field": "priority", "op": "equals", "value": "P1"},
                       {"field": "tags", "op": "contains", "value": "urgent"}]},
              [{"type": "set_tier", "value": "L2"}], position=2)], ticket, session=session)
    assert ticket.tier == "L2"
