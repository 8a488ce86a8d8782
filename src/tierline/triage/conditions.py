"""Rule conditions: which ticket fields a rule may test, with which ops, and how a test is run.

A condition is `{field, op, value}`. Each field has a kind, and the kind decides the ops that make sense:

| kind      | fields                                                        | ops |
|-----------|---------------------------------------------------------------|-----|
| text      | subject, description, error_code, customer.region             | equals not_equals in not_in contains not_contains starts_with matches is_empty |
| enum      | priority, type, channel, customer.plan                        | equals not_equals in not_in is_empty |
| number    | customer.arr, sentiment, impact_score                         | equals not_equals in not_in gte lte is_empty |
| component | component (a component matches its descendants too)           | equals not_equals in not_in is_empty |
| list      | tags                                                          | contains not_contains in (any of) not_in (none of) starts_with matches is_empty |
| any       | custom_fields.<name> (whatever JSON the ticket holds)         | every op |

Text comparisons ignore case; `matches` is a regular expression (RE2, case-sensitive unless it says `(?i)`)
searched anywhere in the text. `is_empty` takes true (the default) or false. A missing value (no customer, no
component, a custom field the ticket lacks) never equals, contains or compares, and always is empty.

`validate` names every problem by its path (`conditions.all.2.op`); `compile_conditions` turns a valid
`{"all": [...], "any": [...]}` into closures run against `Facts` (triage/facts.py), the per-evaluation view of
one ticket.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any, get_args

from sqlalchemy.orm import Session

from tierline.components import service as components_service
from tierline.customers.schemas import Plan
from tierline.platform.errors import NotFound
from tierline.platform.wording import with_article
from tierline.tickets.schemas import Channel, Priority, TicketType
from tierline.triage import regex_guard
from tierline.triage.facts import CUSTOM_PREFIX, STATIC_FIELDS, Facts, PatternKey, is_id, is_number, reader

TEXT, ENUM, NUMBER, COMPONENT, LIST, ANY = "text", "enum", "number", "component", "list", "any"
_CUSTOM_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_TAG = re.compile(r"^[^\s,]{1,64}$")

FIELDS: dict[str, str] = {
    "subject": TEXT,
    "description": TEXT,
    "error_code": TEXT,
    "priority": ENUM,
    "type": ENUM,
    "channel": ENUM,
    "customer.plan": ENUM,
    "customer.arr": NUMBER,
    "customer.region": TEXT,
    "component": COMPONENT,
    "tags": LIST,
    "sentiment": NUMBER,
    "impact_score": NUMBER,
}
ENUM_VALUES: dict[str, tuple[str, ...]] = {
    "priority": get_args(Priority),
    "type": get_args(TicketType),
    "channel": get_args(Channel),
    "customer.plan": get_args(Plan),
}
ALL_OPS = ("equals", "not_equals", "in", "not_in", "contains", "not_contains", "starts_with", "matches", "gte",
           "lte", "is_empty")
OPS: dict[str, tuple[str, ...]] = {
    TEXT: ("equals", "not_equals", "in", "not_in", "contains", "not_contains", "starts_with", "matches",
           "is_empty"),
    ENUM: ("equals", "not_equals", "in", "not_in", "is_empty"),
    NUMBER: ("equals", "not_equals", "in", "not_in", "gte", "lte", "is_empty"),
    COMPONENT: ("equals", "not_equals", "in", "not_in", "is_empty"),
    LIST: ("contains", "not_contains", "in", "not_in", "starts_with", "matches", "is_empty"),
    ANY: ALL_OPS,
}
MAX_TEXT = 1000
MAX_LIST = 200
_NEGATIONS = {"not_equals": "equals", "not_in": "in", "not_contains": "contains"}


def kind_of(field: str) -> str | None:
    if field.startswith(CUSTOM_PREFIX):
        return ANY if _CUSTOM_NAME.match(field[len(CUSTOM_PREFIX):]) else None
    return FIELDS.get(field)


# -- validation ----------------------------------------------------------------------------------------

Errors = list[tuple[str, str]]


def _text_problem(value: Any, *, empty: bool = True) -> str | None:
    if not isinstance(value, str) or (not empty and not value):
        return "must be a string" if empty else "must be a non-empty string"
    if len(value) > MAX_TEXT:
        return f"must be at most {MAX_TEXT} characters"
    return None if regex_guard.is_text(value) else "must be valid Unicode text (it holds a lone surrogate)"


def _scalar_problem(session: Session, field: str, kind: str, value: Any) -> str | None:
    """Why `value` cannot be compared with `field` by equals / in."""
    if kind == TEXT:
        return _text_problem(value)
    if kind == ENUM:
        allowed = ENUM_VALUES[field]
        return None if isinstance(value, str) and value in allowed else f"must be one of {', '.join(allowed)}"
    if kind == NUMBER:
        return None if is_number(value) else "must be a finite number"
    if kind == COMPONENT:
        if not is_id(value):
            return "must be a component id"
        try:
            components_service.get(session, component_id=value)
        except NotFound:
            return f"component {value} does not exist"
        return None
    if kind == LIST:
        if not isinstance(value, str) or not _TAG.match(value.strip()):
            return "must be a tag (1 to 64 characters without spaces or commas)"
        return _text_problem(value)
    # ANY: a custom field holds JSON; compare with a JSON scalar.
    if isinstance(value, str):
        return _text_problem(value)
    if isinstance(value, bool) or is_number(value):
        return None
    return "must be a string, a finite number or a boolean"


def _value_problems(session: Session, field: str, kind: str, op: str, value: Any, path: str) -> Errors:
    if op == "is_empty":
        return [] if value is None or isinstance(value, bool) else [(path, "must be true, false or omitted")]
    if op in ("in", "not_in"):
        if not isinstance(value, list) or not value:
            return [(path, "must be a non-empty list")]
        if len(value) > MAX_LIST:
            return [(path, f"must have at most {MAX_LIST} items")]
        return [(f"{path}.{i}", p) for i, v in enumerate(value)
                if (p := _scalar_problem(session, field, kind, v))]
    if op == "matches":
        problem = regex_guard.check(value)
        return [(path, problem)] if problem else []
    if op in ("gte", "lte"):
        return [] if is_number(value) else [(path, "must be a finite number")]
    if op in ("contains", "not_contains", "starts_with"):
        problem = _scalar_problem(session, field, kind, value) if kind == LIST else _text_problem(value, empty=False)
        return [(path, problem)] if problem else []
    problem = _scalar_problem(session, field, kind, value)  # equals / not_equals
    return [(path, problem)] if problem else []


def _condition_problems(session: Session, condition: Any, path: str) -> Errors:
    if not isinstance(condition, dict):
        return [(path, "must be an object {field, op, value}")]
    unknown = sorted(set(condition) - {"field", "op", "value"})
    if unknown:
        return [(f"{path}.{unknown[0]}", "is not a condition key (field, op, value)")]
    field, op = condition.get("field"), condition.get("op")
    kind = kind_of(field) if isinstance(field, str) else None
    errors: Errors = []
    if kind is None:
        known = ", ".join([*FIELDS, "custom_fields.<name>"])
        errors.append((f"{path}.field", f"unknown field {field!r}; fields: {known}"))
    if not isinstance(op, str) or op not in ALL_OPS:
        errors.append((f"{path}.op", f"unknown op {op!r}; ops: {', '.join(ALL_OPS)}"))
    elif kind is not None and op not in OPS[kind]:
        allowed = ", ".join(OPS[kind])
        errors.append((f"{path}.op", f"{op} is not valid for {field} ({with_article(kind)} field); use one of {allowed}"))
    if errors:
        return errors
    return _value_problems(session, field, kind, op, condition.get("value"), f"{path}.value")


def validate(session: Session, conditions: Any, *, path: str = "conditions") -> Errors:
    """Every problem in a rule's conditions, each as (path, reason)."""
    if conditions is None:
        return []
    if not isinstance(conditions, dict):
        return [(path, 'must be an object {"all": [...], "any": [...]}')]
    errors: Errors = [(f"{path}.{k}", "is not a condition group (all, any)")
                      for k in sorted(set(conditions) - {"all", "any"})]
    for group in ("all", "any"):
        items = conditions.get(group)
        if items is None:
            continue
        if not isinstance(items, list):
            errors.append((f"{path}.{group}", "must be a list of conditions"))
            continue
        for i, condition in enumerate(items):
            errors += _condition_problems(session, condition, f"{path}.{group}.{i}")
    return errors


# -- compiling -----------------------------------------------------------------------------------------

Test = Callable[[Facts], bool]


def _empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, (list, tuple, dict, set)):
        return not value
    if isinstance(value, float):
        return math.isnan(value)
    return False


def _number(value: Any) -> float | int | None:
    return value if is_number(value) else None


def _same(actual: Any, expected: Any) -> bool:
    """JSON equality where text ignores case and booleans are never numbers."""
    if isinstance(expected, str):
        return isinstance(actual, str) and actual.lower() == expected.lower()
    if isinstance(expected, bool) or isinstance(actual, bool):
        return isinstance(expected, bool) and isinstance(actual, bool) and actual is expected
    return is_number(actual) and actual == expected


def _positive(field: str, kind: str, op: str, value: Any, pattern: tuple[PatternKey, int] | None) -> Test:
    """The test for `op` (never a negated op: those are built as `not` of their positive)."""
    read = reader(field)
    if op == "is_empty":
        want = value is not False
        if kind == COMPONENT:
            return lambda f: (not is_id(f.draft.component_id)) is want
        if kind == NUMBER:
            return lambda f: (_number(read(f)) is None) is want
        return lambda f: _empty(read(f)) is want
    if pattern is not None:  # matches, and contains / starts_with on text: scanned with the field's pattern set
        key, index = pattern
        return lambda f: index in f.hits(key)
    if kind == TEXT:
        if op == "equals":
            expected = value.lower()
            return lambda f: f.lower(field) == expected
        options = frozenset(v.lower() for v in value)  # in
        return lambda f: f.lower(field) in options
    if kind == ENUM:
        if op == "equals":
            return lambda f: read(f) == value
        options = frozenset(value)
        return lambda f: read(f) in options
    if kind == NUMBER:
        if op == "equals":
            return lambda f: (n := _number(read(f))) is not None and n == value
        if op == "in":
            options = frozenset(value)
            return lambda f: (n := _number(read(f))) is not None and n in options
        if op == "gte":
            return lambda f: (n := _number(read(f))) is not None and n >= value
        return lambda f: (n := _number(read(f))) is not None and n <= value  # lte
    if kind == COMPONENT:
        if op == "equals":
            return lambda f: value in f.lineage()
        options = frozenset(value)
        return lambda f: not options.isdisjoint(f.lineage())
    if kind == LIST:
        if op == "in":
            options = frozenset(v.strip().lower() for v in value)
            return lambda f: not options.isdisjoint(f.tags())
        needle = value.strip().lower()
        if op == "contains":
            return lambda f: needle in f.tags()
        return lambda f: any(t.startswith(needle) for t in f.tags())  # starts_with
    return _positive_any(field, op, value)


def _positive_any(field: str, op: str, value: Any) -> Test:
    """Custom fields hold any JSON: each op applies where the value's type makes sense, else is false."""
    read = reader(field)
    if op == "equals":
        return lambda f: _same(read(f), value)
    if op == "in":
        return lambda f: any(_same(read(f), v) for v in value)
    if op in ("gte", "lte"):
        ge = op == "gte"
        return lambda f: (n := _number(read(f))) is not None and (n >= value if ge else n <= value)
    needle = value.lower()
    if op == "starts_with":
        return lambda f: (text := f.lower(field)) is not None and text.startswith(needle)

    def contains(f: Facts) -> bool:
        actual = read(f)
        if isinstance(actual, str):
            return needle in f.lower(field)
        if isinstance(actual, list):
            return any(isinstance(v, str) and v.lower() == needle for v in actual)
        return False
    return contains


def _shown(value: Any) -> Any:
    """A fact as explain shows it: long text cut short."""
    if isinstance(value, str) and len(value) > 200:
        return value[:200] + "…"
    return value


class CompiledCondition:
    """A condition's test and, when it reads a field no action changes, the key rules are indexed by:
    ("value", field, the values it holds for), ("pattern", pattern key, index in that set), or
    ("gte" | "lte", field, the bound)."""

    __slots__ = ("_read", "field", "index", "op", "test", "value")

    def __init__(self, field: str, op: str, value: Any, test: Test,
                 index: tuple[str, str, Any] | None = None) -> None:
        self.field, self.op, self.value, self.test, self.index = field, op, value, test, index
        self._read = reader(field)

    def describe(self, facts: Facts) -> dict[str, Any]:
        actual = self._read(facts)
        if isinstance(actual, list):
            actual = [_shown(v) for v in actual]
        return {"field": self.field, "op": self.op, "value": self.value, "actual": _shown(actual)}


def _add_pattern(patterns: dict[PatternKey, list[str]], key: PatternKey, pattern: str) -> tuple[PatternKey, int]:
    found = patterns.setdefault(key, [])
    if pattern not in found:
        found.append(pattern)
    return key, found.index(pattern)


def compile_condition(condition: dict[str, Any], patterns: dict[PatternKey, list[str]]) -> CompiledCondition:
    """A valid condition as a closure. Patterns are collected into `patterns` to be scanned together, one set
    per field (see facts.PatternKey)."""
    field, op, value = condition["field"], condition["op"], condition.get("value")
    kind = kind_of(field)
    if kind is None or op not in OPS[kind]:
        raise ValueError(f"invalid condition {condition!r}: validate rules before compiling them")
    base = _NEGATIONS.get(op, op)
    pattern = None
    if base == "matches":
        pattern = _add_pattern(patterns, (field, False), value)
    elif kind == TEXT and base in ("contains", "starts_with"):
        literal = regex_guard.literal(value.lower())  # on the lower-cased text: case-insensitive, like equals
        pattern = _add_pattern(patterns, (field, True), "^" + literal if base == "starts_with" else literal)
    positive = _positive(field, kind, base, value, pattern)
    test = (lambda f: not positive(f)) if op in _NEGATIONS else positive
    index = None
    if op not in _NEGATIONS and field in STATIC_FIELDS:
        if pattern is not None:
            index = ("pattern", pattern[0], pattern[1])
        elif kind in (TEXT, ENUM) and op in ("equals", "in"):
            values = value if op == "in" else [value]
            index = ("value", field, frozenset(v.lower() if kind == TEXT else v for v in values))
        elif kind == NUMBER and op in ("gte", "lte"):
            index = (op, field, value)
    return CompiledCondition(field, op, value, test, index)


class CompiledConditions:
    """`held(facts)`: None when the rule does not match, else the conditions that held (for explain)."""

    __slots__ = ("_all_tests", "_any_tests", "all", "any")

    def __init__(self, all_: list[CompiledCondition], any_: list[CompiledCondition]) -> None:
        self.all = tuple(all_)
        self.any = tuple(any_)
        self._all_tests = tuple(c.test for c in all_)
        self._any_tests = tuple(c.test for c in any_)

    def held(self, facts: Facts) -> list[dict[str, Any]] | None:
        for test in self._all_tests:
            if not test(facts):
                return None
        if self._any_tests:
            for test in self._any_tests:
                if test(facts):
                    break
            else:
                return None
        return [c.describe(facts) for c in self.all] + [c.describe(facts) for c in self.any if c.test(facts)]


def compile_conditions(conditions: dict[str, Any] | None,
                       patterns: dict[PatternKey, list[str]]) -> CompiledConditions:
    conditions = conditions or {}
    return CompiledConditions([compile_condition(c, patterns) for c in conditions.get("all") or []],
                              [compile_condition(c, patterns) for c in conditions.get("any") or []])
