"""Every condition op on every kind of field: a table of (condition, ticket, holds?).

Each case runs twice, through the rule index and testing every rule, and both must agree (see rules_helpers).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.triage.rules_helpers import customer, draft, holds
from tierline.triage.types import Signals


def c(field: str, op: str, value: Any = None) -> dict[str, Any]:
    return {"field": field, "op": op, "value": value}


TEXT_CASES = [
    # equals / not_equals ignore case
    (c("subject", "equals", "checkout fails with db-1234"), {}, True),
    (c("subject", "equals", "checkout"), {}, False),
    (c("subject", "not_equals", "checkout"), {}, True),
    (c("subject", "not_equals", "CHECKOUT FAILS WITH DB-1234"), {}, False),
    # in / not_in
    (c("customer.region", "in", ["eu-west", "eu-central"]), {"customer": customer()}, True),
    (c("customer.region", "in", ["us-east"]), {"customer": customer()}, False),
    (c("customer.region", "not_in", ["us-east"]), {"customer": customer()}, True),
    (c("customer.region", "not_in", ["EU-WEST"]), {"customer": customer()}, False),
    # contains / not_contains, case-insensitive, special characters are literal
    (c("description", "contains", "PAYMENT FAILS"), {}, True),
    (c("description", "contains", "refund"), {}, False),
    (c("description", "contains", "db-1234 in the logs."), {}, True),
    (c("description", "contains", "d.-1234"), {}, False),
    (c("description", "not_contains", "refund"), {}, True),
    (c("description", "not_contains", "payment"), {}, False),
    # starts_with
    (c("subject", "starts_with", "CHECKOUT"), {}, True),
    (c("subject", "starts_with", "fails"), {}, False),
    # matches: RE2, searched anywhere, case-sensitive unless (?i)
    (c("description", "matches", r"DB-\d{4}"), {}, True),
    (c("description", "matches", r"^DB-\d{4}"), {}, False),
    (c("description", "matches", r"(?i)every PAYMENT"), {}, True),
    (c("description", "matches", r"every PAYMENT"), {}, False),
    (c("subject", "matches", r"(a+)+$"), {"subject": "a" * 5000 + "b"}, False),
    # is_empty: missing, empty or blank text
    (c("error_code", "is_empty"), {}, True),
    (c("error_code", "is_empty", True), {"error_code": "DB-1234"}, False),
    (c("error_code", "is_empty", False), {"error_code": "DB-1234"}, True),
    (c("customer.region", "is_empty"), {"customer": customer(region="   ")}, True),
    (c("customer.region", "is_empty"), {"customer": None}, True),
]

ERROR_CODE_CASES = [
    # the caller's code, else the one signal extraction found
    (c("error_code", "equals", "db-1234"), {"error_code": "DB-1234"}, None, True),
    (c("error_code", "equals", "DB-1234"), {}, Signals(error_code="DB-1234", error_codes=["DB-1234"]), True),
    (c("error_code", "matches", r"^AUTH-\d{3}$"), {"error_code": "AUTH-401"}, Signals(error_code="DB-1234"), True),
    (c("error_code", "matches", r"^DB-"), {"error_code": "AUTH-401"}, Signals(error_code="DB-1234"), False),
    (c("error_code", "starts_with", "pay-"), {}, Signals(error_code="PAY-0001"), True),
    (c("error_code", "contains", "x"), {}, None, False),
    (c("error_code", "not_contains", "x"), {}, None, True),
]

ENUM_CASES = [
    (c("priority", "equals", "P3"), {}, True),
    (c("priority", "equals", "P1"), {}, False),
    (c("priority", "not_equals", "P1"), {}, True),
    (c("type", "in", ["incident", "bug"]), {"type": "bug"}, True),
    (c("type", "in", ["incident", "bug"]), {"type": "question"}, False),
    (c("type", "not_in", ["incident", "bug"]), {"type": "question"}, True),
    (c("channel", "equals", "email"), {"channel": "email"}, True),
    (c("channel", "not_in", ["email", "web"]), {"channel": "email"}, False),
    (c("customer.plan", "equals", "enterprise"), {"customer": customer()}, True),
    (c("customer.plan", "in", ["free", "pro"]), {"customer": customer()}, False),
    (c("customer.plan", "equals", "enterprise"), {"customer": None}, False),
    (c("customer.plan", "not_equals", "enterprise"), {"customer": None}, True),
    (c("customer.plan", "is_empty"), {"customer": None}, True),
    (c("customer.plan", "is_empty"), {"customer": customer()}, False),
    (c("priority", "is_empty", False), {}, True),
]

NUMBER_CASES = [
    (c("impact_score", "gte", 70), {"impact_score": 70}, True),
    (c("impact_score", "gte", 70), {"impact_score": 69}, False),
    (c("impact_score", "lte", 30), {"impact_score": 30}, True),
    (c("impact_score", "lte", 30), {"impact_score": 31}, False),
    (c("impact_score", "gte", 0), {"impact_score": None}, False),
    (c("impact_score", "lte", 100), {"impact_score": None}, False),
    (c("impact_score", "equals", 50), {"impact_score": 50}, True),
    (c("impact_score", "not_equals", 50), {"impact_score": None}, True),
    (c("impact_score", "in", [10, 20]), {"impact_score": 20}, True),
    (c("impact_score", "not_in", [10, 20]), {"impact_score": 30}, True),
    (c("impact_score", "is_empty"), {"impact_score": None}, True),
    (c("customer.arr", "gte", 100_000), {"customer": customer(arr=120_000.0)}, True),
    (c("customer.arr", "lte", 100_000.5), {"customer": customer(arr=120_000.0)}, False),
    (c("customer.arr", "gte", 0), {"customer": None}, False),
    (c("customer.arr", "is_empty"), {"customer": None}, True),
    (c("sentiment", "lte", -0.5), {"sentiment": -0.71}, True),
    (c("sentiment", "lte", -0.5), {"sentiment": 0.2}, False),
    (c("sentiment", "gte", -0.5), {"sentiment": float("nan")}, False),
    (c("sentiment", "is_empty"), {"sentiment": float("nan")}, True),
]

TAG_CASES = [
    (c("tags", "contains", "VIP"), {"tags": ["vip", "billing"]}, True),
    (c("tags", "contains", "vi"), {"tags": ["vip"]}, False),
    (c("tags", "not_contains", "vip"), {"tags": ["billing"]}, True),
    (c("tags", "in", ["vip", "security"]), {"tags": ["security"]}, True),
    (c("tags", "in", ["vip", "security"]), {"tags": ["billing"]}, False),
    (c("tags", "not_in", ["vip", "security"]), {"tags": ["billing"]}, True),
    (c("tags", "not_in", ["vip", "security"]), {"tags": ["vip"]}, False),
    (c("tags", "starts_with", "env-"), {"tags": ["env-prod"]}, True),
    (c("tags", "starts_with", "env-"), {"tags": ["prod-env"]}, False),
    (c("tags", "matches", r"^region-(eu|us)$"), {"tags": ["x", "region-eu"]}, True),
    (c("tags", "matches", r"^region-(eu|us)$"), {"tags": ["region-apac"]}, False),
    (c("tags", "is_empty"), {"tags": []}, True),
    (c("tags", "is_empty", False), {"tags": ["a"]}, True),
]

CUSTOM_CASES = [
    (c("custom_fields.environment", "equals", "Production"), {"custom_fields": {"environment": "production"}}, True),
    (c("custom_fields.environment", "equals", "production"), {"custom_fields": {}}, False),
    (c("custom_fields.environment", "not_equals", "staging"), {"custom_fields": {}}, True),
    (c("custom_fields.seats", "equals", 5), {"custom_fields": {"seats": 5}}, True),
    (c("custom_fields.seats", "equals", 5), {"custom_fields": {"seats": "5"}}, False),
    (c("custom_fields.seats", "equals", 1), {"custom_fields": {"seats": True}}, False),
    (c("custom_fields.urgent", "equals", True), {"custom_fields": {"urgent": True}}, True),
    (c("custom_fields.urgent", "equals", True), {"custom_fields": {"urgent": 1}}, False),
    (c("custom_fields.environment", "in", ["prod", "production"]), {"custom_fields": {"environment": "PROD"}}, True),
    (c("custom_fields.environment", "not_in", ["prod"]), {"custom_fields": {"environment": "dev"}}, True),
    (c("custom_fields.notes", "contains", "outage"), {"custom_fields": {"notes": "Big OUTAGE today"}}, True),
    (c("custom_fields.modules", "contains", "billing"), {"custom_fields": {"modules": ["Billing", "auth"]}}, True),
    (c("custom_fields.modules", "contains", "bill"), {"custom_fields": {"modules": ["billing"]}}, False),
    (c("custom_fields.seats", "contains", "5"), {"custom_fields": {"seats": 5}}, False),
    (c("custom_fields.modules", "not_contains", "sso"), {"custom_fields": {"modules": ["billing"]}}, True),
    (c("custom_fields.version", "starts_with", "v2."), {"custom_fields": {"version": "V2.3.1"}}, True),
    (c("custom_fields.version", "matches", r"^v\d+\.\d+"), {"custom_fields": {"version": "v2.3"}}, True),
    (c("custom_fields.versions", "matches", r"^v3"), {"custom_fields": {"versions": ["v2", "v3.1"]}}, True),
    (c("custom_fields.seats", "gte", 100), {"custom_fields": {"seats": 250}}, True),
    (c("custom_fields.seats", "gte", 100), {"custom_fields": {"seats": "250"}}, False),
    (c("custom_fields.seats", "lte", 100), {"custom_fields": {"seats": 50.5}}, True),
    (c("custom_fields.seats", "is_empty"), {"custom_fields": {"seats": None}}, True),
    (c("custom_fields.modules", "is_empty"), {"custom_fields": {"modules": []}}, True),
    (c("custom_fields.modules", "is_empty", False), {"custom_fields": {"modules": ["a"]}}, True),
]


@pytest.mark.parametrize(("condition", "fields", "expected"), TEXT_CASES + ENUM_CASES + NUMBER_CASES + TAG_CASES
                         + CUSTOM_CASES)
def test_each_op_holds_exactly_when_it_should(condition, fields, expected):
    assert holds(condition, draft(**fields)) is expected
    # The same condition alone in `any` decides the same way.
    assert holds(condition, draft(**fields), group="any") is expected


@pytest.mark.parametrize(("condition", "fields", "signals", "expected"), ERROR_CODE_CASES)
def test_error_code_reads_the_callers_code_else_the_extracted_one(condition, fields, signals, expected):
    assert holds(condition, draft(**fields), signals=signals) is expected


def test_every_op_of_the_issue_is_covered_by_the_table():
    cases = TEXT_CASES + ENUM_CASES + NUMBER_CASES + TAG_CASES + CUSTOM_CASES
    ops = {case[0]["op"] for case in cases}
    assert ops == {"equals", "not_equals", "in", "not_in", "contains", "not_contains", "starts_with", "matches",
                   "gte", "lte", "is_empty"}
    fields = {case[0]["field"] for case in cases + [(x[0],) for x in ERROR_CODE_CASES]}
    assert {"subject", "description", "error_code", "priority", "type", "channel", "customer.plan",
            "customer.arr", "customer.region", "tags", "sentiment", "impact_score"} <= fields


def test_all_conditions_must_hold_and_one_any_condition():
    conditions = {"all": [c("priority", "equals", "P3"), c("channel", "equals", "email")],
                  "any": [c("tags", "contains", "vip"), c("impact_score", "gte", 80)]}
    from tests.triage.rules_helpers import rule, run

    def matched(**fields: Any) -> bool:
        return bool(run([rule(conditions)], draft(**fields))[0])

    assert matched(channel="email", tags=["vip"])
    assert matched(channel="email", impact_score=90)
    assert not matched(channel="email", impact_score=10)
    assert not matched(channel="web", tags=["vip"])


def test_empty_groups_always_hold_and_an_empty_any_is_ignored():
    from tests.triage.rules_helpers import rule, run

    assert run([rule({"all": [], "any": []})], draft())[0]
    assert run([rule({})], draft())[0]
    assert run([rule({"all": [c("priority", "equals", "P3")], "any": []})], draft())[0]


def test_a_match_lists_the_conditions_that_held_with_the_ticket_values():
    from tests.triage.rules_helpers import rule, run

    conditions = {"all": [c("error_code", "matches", r"DB-\d{4}")],
                  "any": [c("customer.plan", "equals", "enterprise"), c("tags", "contains", "vip")]}
    matches, _ = run([rule(conditions, name="database errors", rule_id=7)],
                     draft(error_code="DB-1234", customer=customer()))
    assert [(m.rule_id, m.name) for m in matches] == [(7, "database errors")]
    assert matches[0].conditions == [
        {"field": "error_code", "op": "matches", "value": r"DB-\d{4}", "actual": "DB-1234"},
        {"field": "customer.plan", "op": "equals", "value": "enterprise", "actual": "enterprise"},
    ]


def test_the_actual_value_of_a_long_text_is_cut_short():
    from tests.triage.rules_helpers import rule, run

    matches, _ = run([rule({"all": [c("description", "contains", "x")]})], draft(description="x" * 5000))
    assert len(matches[0].conditions[0]["actual"]) == 201
