"""Properties: no rule set the validator accepts crashes evaluation on any ticket; the rule index never changes
the outcome; the validators answer any JSON with errors, never an exception."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.triage.rules_helpers import rule, run
from tierline.triage import actions as actions_mod
from tierline.triage import conditions as conditions_mod
from tierline.customers.profiles import CustomerProfile
from tierline.triage.types import Draft, Signals

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

words = st.sampled_from(["db", "DB-1234", "auth", "Payment", "fails", "ÉCHEC", "x", "a.b", "[", "vip", "eu", "😀"])
text = st.one_of(words, st.text(max_size=30), st.lists(words, max_size=6).map(" ".join),
                 st.just("\ud800 lone surrogate"), st.just(""))
tag = st.from_regex(r"[a-z0-9\-]{1,12}", fullmatch=True)
number = st.one_of(st.integers(-1000, 10**6), st.floats(allow_nan=False, allow_infinity=False, width=32))
regex = st.sampled_from([r"DB-\d{4}", r"(?i)^pay", r"(a+)+$", r"\bvip\b", r"^$", r"é+", r"[A-Z]{2,}-\d+", "x"])
json_scalar = st.one_of(st.none(), st.booleans(), number, text)
json_value = st.recursive(json_scalar, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                               st.dictionaries(st.text(max_size=5), inner,
                                                                               max_size=3)), max_leaves=8)


def values_for(field: str, kind: str, op: str, components: list[int]) -> st.SearchStrategy[Any]:
    if op == "is_empty":
        return st.sampled_from([None, True, False])
    if op == "matches":
        return regex
    if op in ("gte", "lte"):
        return number
    by_kind = {
        conditions_mod.TEXT: text.filter(lambda s: "\ud800" not in s),
        conditions_mod.NUMBER: number,
        conditions_mod.COMPONENT: st.sampled_from(components),
        conditions_mod.LIST: tag,
        conditions_mod.ANY: st.one_of(st.booleans(), number, text.filter(lambda s: "\ud800" not in s)),
    }
    scalar = by_kind[kind] if kind in by_kind else st.sampled_from(conditions_mod.ENUM_VALUES[field])
    if op in ("contains", "not_contains", "starts_with"):
        scalar = tag if kind == conditions_mod.LIST else text.filter(lambda s: s and "\ud800" not in s)
    if op in ("in", "not_in"):
        return st.lists(scalar, min_size=1, max_size=4)
    return scalar


FIELDS = [*conditions_mod.FIELDS, "custom_fields.env", "custom_fields.seats", "custom_fields.modules"]


@st.composite
def condition(draw: Any, components: list[int]) -> dict[str, Any]:
    field = draw(st.sampled_from(FIELDS))
    kind = conditions_mod.kind_of(field)
    op = draw(st.sampled_from(conditions_mod.OPS[kind]))
    return {"field": field, "op": op, "value": draw(values_for(field, kind, op, components))}


@st.composite
def action(draw: Any, refs: dict[str, Any]) -> dict[str, Any]:
    kind = draw(st.sampled_from(actions_mod.ACTION_TYPES))
    value = {
        "set_priority": st.sampled_from(actions_mod.PRIORITIES),
        "set_priority_from_impact": st.none(),
        "set_type": st.sampled_from(actions_mod.TYPES),
        "set_component": st.sampled_from(refs["components"]),
        "set_queue": st.just(refs["queue"]),
        "set_tier": st.sampled_from(actions_mod.TIERS),
        "set_team": st.just(refs["team"]),
        "assign_to": st.just(refs["agent"]),
        "add_tags": st.lists(tag, min_size=1, max_size=3),
        "set_feature_area": st.sampled_from(["Checkout", "Login"]),
        "set_custom_field": st.fixed_dictionaries({"name": st.sampled_from(["env", "seats", "modules"]),
                                                   "value": st.one_of(json_scalar.filter(
                                                       lambda v: not (isinstance(v, str) and "\ud800" in v)),
                                                       st.lists(tag, max_size=3))}),
        "escalate_to_engineering": st.one_of(st.none(), st.just("recurring errors")),
        "notify": st.sampled_from([{"team_id": refs["team"]}, {"email": "oncall@example.com", "message": "hi"}]),
    }[kind]
    return {"type": kind, "value": draw(value)}


@st.composite
def rule_set(draw: Any, refs: dict[str, Any]) -> list[Any]:
    out = []
    for i in range(draw(st.integers(0, 8))):
        conditions = {"all": draw(st.lists(condition(refs["components"]), max_size=3)),
                      "any": draw(st.lists(condition(refs["components"]), max_size=3))}
        out.append(rule(conditions, draw(st.lists(action(refs), min_size=1, max_size=3)),
                        position=draw(st.integers(0, 3)), stop_processing=draw(st.booleans()),
                        trigger=draw(st.sampled_from(["create", "create", "update"])), rule_id=i + 1))
    return out


@st.composite
def ticket(draw: Any, refs: dict[str, Any]) -> Draft:
    anything = st.one_of(st.none(), text, number, st.booleans())
    customer = draw(st.one_of(st.none(), st.builds(
        CustomerProfile, id=st.just(1), name=text, plan=st.one_of(st.sampled_from(["free", "enterprise"]), text),
        arr=st.one_of(number, st.just(math.nan), st.just(math.inf)), region=st.one_of(st.none(), text),
        licensed_users=st.none(), arr_percentile=st.none())))
    return Draft(
        subject=draw(text), description=draw(text), requester_email="a@b.example",
        type=draw(st.one_of(st.sampled_from(actions_mod.TYPES), text)),
        priority=draw(st.one_of(st.sampled_from(actions_mod.PRIORITIES), text)),
        channel=draw(st.one_of(st.sampled_from(["email", "web"]), text)),
        component_id=draw(st.one_of(st.none(), st.sampled_from(refs["components"]), st.integers(-5, 2**70))),
        error_code=draw(st.one_of(st.none(), text)), tags=draw(st.lists(st.one_of(tag, text), max_size=5)),
        custom_fields=draw(st.dictionaries(st.sampled_from(["env", "seats", "modules", "x"]), json_value,
                                           max_size=4)),
        urgency=draw(anything), customer=customer,
        sentiment=draw(st.one_of(st.none(), st.floats(), st.integers())),
        impact_score=draw(st.one_of(st.none(), st.integers(-10, 200), st.floats())),
    )


@pytest.fixture
def refs(admin, factory) -> dict[str, Any]:
    root = admin.post("/api/v1/components", json={"name": "Platform"}).json()["id"]
    child = admin.post("/api/v1/components", json={"name": "Database", "parent_id": root}).json()["id"]
    return {"components": [root, child],
            "team": admin.post("/api/v1/teams", json={"name": "Support", "kind": "support"}).json()["id"],
            "queue": admin.post("/api/v1/queues", json={"name": "L2", "tier": "L2"}).json()["id"],
            "agent": factory.user(roles=["agent_l2"], email="l2@example.com").id}


@pytest.fixture
def session(db):
    with db.session() as s:
        yield s


def test_no_valid_rule_set_crashes_on_any_ticket_and_the_index_changes_nothing(refs, session):
    @PROPERTY
    @given(rule_set(refs), ticket(refs), st.sampled_from(["create", "update", "customer_reply"]),
           st.one_of(st.none(), st.builds(Signals, error_code=st.one_of(st.none(), text))))
    def check(rules: list[Any], draft: Draft, trigger: str, signals: Signals | None) -> None:
        for r in rules:
            assert conditions_mod.validate(session, r.conditions) == []
            assert actions_mod.validate(session, r.actions) == []
        matches, results = run(rules, draft, signals=signals, session=session, trigger=trigger)
        assert len({m.rule_id for m in matches}) == len(matches)
        assert all(r.rule_id in {m.rule_id for m in matches} for r in results)

    check()


def test_the_validators_answer_any_json_with_errors_not_exceptions(session):
    @PROPERTY
    @given(json_value, json_value)
    def check(conditions: Any, actions: Any) -> None:
        for path, reason in conditions_mod.validate(session, conditions):
            assert path.startswith("conditions") and reason
        for path, reason in actions_mod.validate(session, actions):
            assert path.startswith("actions") and reason

    check()


def test_the_validators_answer_near_valid_rules_with_errors_not_exceptions(refs, session):
    near = st.fixed_dictionaries({"field": st.one_of(st.sampled_from(FIELDS), text),
                                  "op": st.one_of(st.sampled_from(conditions_mod.ALL_OPS), text),
                                  "value": json_value})

    @PROPERTY
    @given(st.lists(near, max_size=4), st.lists(st.fixed_dictionaries(
        {"type": st.sampled_from(actions_mod.ACTION_TYPES), "value": json_value}), max_size=4))
    def check(conditions: list[dict[str, Any]], actions: list[dict[str, Any]]) -> None:
        accepted = conditions_mod.validate(session, {"all": conditions}) == []
        if accepted and actions and actions_mod.validate(session, actions) == []:
            run([rule({"all": conditions}, actions)], Draft(subject="s", description="d", requester_email="a@b.c"),
                session=session)

    check()
