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
`{"all": [...], "any": [...]}` into closures run against `Facts`, the per-evaluation view of one ticket that
caches lower-cased text, regex hits and the component's ancestry until an action changes the ticket.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from operator import attrgetter
from typing import Any, get_args

from sqlalchemy.orm import Session

from tierline.components import service as components_service
from tierline.customers.schemas import Plan
from tierline.platform.errors import NotFound
from tierline.tickets.schemas import Channel, Priority, TicketType
from tierline.triage import regex_guard
from tierline.triage.types import Draft, Signals

TEXT, ENUM, NUMBER, COMPONENT, LIST, ANY = "text", "enum", "number", "component", "list", "any"
CUSTOM_PREFIX = "custom_fields."
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
MAX_ID = 2**63 - 1
_NEGATIONS = {"not_equals": "equals", "not_in": "in", "not_contains": "contains"}


def kind_of(field: str) -> str | None:
    if field.startswith(CUSTOM_PREFIX):
        return ANY if _CUSTOM_NAME.match(field[len(CUSTOM_PREFIX):]) else None
    return FIELDS.get(field)


# -- validation ----------------------------------------------------------------------------------------

Errors = list[tuple[str, str]]


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


def _scalar_problem(session: Session, field: str, kind: str, value: Any) -> str | None:
    """Why `value` cannot be compared with `field` by equals / in."""
    if kind == TEXT:
        if not isinstance(value, str):
            return "must be a string"
        return f"must be at most {MAX_TEXT} characters" if len(value) > MAX_TEXT else None
    if kind == ENUM:
        allowed = ENUM_VALUES[field]
        return None if value in allowed and isinstance(value, str) else f"must be one of {', '.join(allowed)}"
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
        return None if isinstance(value, str) and _TAG.match(value.strip()) else \
            "must be a tag (1 to 64 characters without spaces or commas)"
    # ANY: a custom field holds JSON; compare with a JSON scalar.
    if isinstance(value, str):
        return f"must be at most {MAX_TEXT} characters" if len(value) > MAX_TEXT else None
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
        if kind == LIST:
            problem = _scalar_problem(session, field, kind, value)
        elif not isinstance(value, str) or not value:
            problem = "must be a non-empty string"
        else:
            problem = f"must be at most {MAX_TEXT} characters" if len(value) > MAX_TEXT else None
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
        errors.append((f"{path}.field", f"unknown field {field!r}; fields: {', '.join(FIELDS)}, "
                                        "custom_fields.<name>"))
    if not isinstance(op, str) or op not in ALL_OPS:
        errors.append((f"{path}.op", f"unknown op {op!r}; ops: {', '.join(ALL_OPS)}"))
    elif kind is not None and op not in OPS[kind]:
        errors.append((f"{path}.op", f"{op} is not valid for {field} (a {kind} field); use one of "
                                     f"{', '.join(OPS[kind])}"))
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


# -- the facts a condition reads -----------------------------------------------------------------------

def _customer(name: str) -> Callable[[Facts], Any]:
    def read(facts: Facts) -> Any:
        customer = facts.draft.customer
        return None if customer is None else getattr(customer, name, None)
    return read


def _error_code(facts: Facts) -> Any:
    # The caller's code when given, else the one signal extraction found in the text.
    code = facts.draft.error_code
    if code is None and facts.signals is not None:
        code = facts.signals.error_code
    return code


# attrgetter is C code: reading a field is the innermost step of every condition of every rule.
READERS: dict[str, Callable[[Facts], Any]] = {
    "subject": attrgetter("draft.subject"),
    "description": attrgetter("draft.description"),
    "error_code": _error_code,
    "priority": attrgetter("draft.priority"),
    "type": attrgetter("draft.type"),
    "channel": attrgetter("draft.channel"),
    "customer.plan": _customer("plan"),
    "customer.arr": _customer("arr"),
    "customer.region": _customer("region"),
    "component": attrgetter("draft.component_id"),
    "tags": attrgetter("draft.tags"),
    "sentiment": attrgetter("draft.sentiment"),
    "impact_score": attrgetter("draft.impact_score"),
}


def reader(field: str) -> Callable[[Facts], Any]:
    if field.startswith(CUSTOM_PREFIX):
        name = field[len(CUSTOM_PREFIX):]

        def read(facts: Facts) -> Any:
            custom = facts.draft.custom_fields
            return custom.get(name) if isinstance(custom, dict) else None
        return read
    return READERS[field]


class Facts:
    """One ticket as conditions see it during one evaluation, with caches dropped whenever it changes."""

    __slots__ = ("session", "draft", "signals", "patterns", "claimed", "_lower", "_hits", "_lineage", "_tags")

    def __init__(self, session: Session | None, draft: Draft, signals: Signals | None,
                 patterns: dict[str, regex_guard.PatternSet]) -> None:
        self.session = session
        self.draft = draft
        self.signals = signals
        self.patterns = patterns
        self.claimed: dict[str, tuple[int, str]] = {}  # field -> the rule (id, name) that set it in this run
        self._lower: dict[str, str | None] = {}
        self._hits: dict[str, frozenset[int]] = {}
        self._lineage: frozenset[int] | None = None
        self._tags: frozenset[str] | None = None

    def changed(self, field: str) -> None:
        """An action changed `field` of the ticket: forget what was derived from it."""
        if field == "tags":
            self._tags = None
            self._hits.pop("tags", None)
        elif field == "custom_fields":
            for cache in (self._lower, self._hits):
                for key in [k for k in cache if k.startswith(CUSTOM_PREFIX)]:
                    del cache[key]
        elif field == "component_id":
            self._lineage = None

    def lower(self, field: str) -> str | None:
        try:
            return self._lower[field]
        except KeyError:
            value = reader(field)(self)
            out = value.lower() if isinstance(value, str) else None
            self._lower[field] = out
            return out

    def tags(self) -> frozenset[str]:
        if self._tags is None:
            tags = self.draft.tags if isinstance(self.draft.tags, (list, tuple, set)) else ()
            self._tags = frozenset(str(t).lower() for t in tags)
        return self._tags

    def hits(self, field: str) -> frozenset[int]:
        """Indices of the patterns on `field` found in its value (every string of a list value is scanned)."""
        try:
            return self._hits[field]
        except KeyError:
            pass
        patterns = self.patterns.get(field)
        value = reader(field)(self)
        found: frozenset[int] = frozenset()
        if patterns is not None:
            if isinstance(value, str):
                found = patterns.matching(value)
            elif isinstance(value, (list, tuple)):
                found = frozenset().union(*(patterns.matching(v) for v in value if isinstance(v, str)))
        self._hits[field] = found
        return found

    def lineage(self) -> frozenset[int]:
        """The ticket's component and its ancestors: a condition naming a component holds for its subtree."""
        if self._lineage is None:
            component_id = self.draft.component_id
            if not is_id(component_id):
                self._lineage = frozenset()
            else:
                ids = {component_id}
                if self.session is not None:
                    try:
                        ids |= {c.id for c in components_service.ancestors(self.session,
                                                                            component_id=component_id)}
                    except NotFound:
                        pass
                self._lineage = frozenset(ids)
        return self._lineage


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


def _positive(field: str, kind: str, op: str, value: Any, regex_index: int | None) -> Test:
    """The test for `op` (never a negated op: those are built as `not` of their positive)."""
    read = reader(field)
    if op == "is_empty":
        want = value is not False
        if kind == COMPONENT:
            return lambda f: (not is_id(f.draft.component_id)) is want
        if kind == NUMBER:
            return lambda f: (_number(read(f)) is None) is want
        return lambda f: _empty(read(f)) is want
    if op == "matches":
        return lambda f: regex_index in f.hits(field)
    if kind == TEXT:
        if op == "equals":
            expected = value.lower()
            return lambda f: f.lower(field) == expected
        if op == "in":
            options = frozenset(v.lower() for v in value)
            return lambda f: f.lower(field) in options
        needle = value.lower()
        if op == "contains":
            return lambda f: (text := f.lower(field)) is not None and needle in text
        return lambda f: (text := f.lower(field)) is not None and text.startswith(needle)  # starts_with
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
    __slots__ = ("field", "op", "value", "test", "_read")

    def __init__(self, field: str, op: str, value: Any, test: Test) -> None:
        self.field, self.op, self.value, self.test = field, op, value, test
        self._read = (lambda f: f.draft.component_id) if field == "component" else reader(field)

    def describe(self, facts: Facts) -> dict[str, Any]:
        actual = self._read(facts)
        if isinstance(actual, list):
            actual = [_shown(v) for v in actual]
        return {"field": self.field, "op": self.op, "value": self.value, "actual": _shown(actual)}


def compile_condition(condition: dict[str, Any], patterns: dict[str, list[str]]) -> CompiledCondition:
    """A valid condition as a closure. Regexes are collected into `patterns[field]` to be scanned together."""
    field, op, value = condition["field"], condition["op"], condition.get("value")
    kind = kind_of(field)
    if kind is None or op not in OPS[kind]:
        raise ValueError(f"invalid condition {condition!r}: validate rules before compiling them")
    regex_index = None
    if op == "matches":
        regex_index = len(patterns.setdefault(field, []))
        patterns[field].append(value)
    positive = _positive(field, kind, _NEGATIONS.get(op, op), value, regex_index)
    test = (lambda f: not positive(f)) if op in _NEGATIONS else positive
    return CompiledCondition(field, op, value, test)


class CompiledConditions:
    """`held(facts)`: None when the rule does not match, else the conditions that held (for explain)."""

    __slots__ = ("all", "any", "_all_tests", "_any_tests")

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


def compile_conditions(conditions: dict[str, Any] | None, patterns: dict[str, list[str]]) -> CompiledConditions:
    conditions = conditions or {}
    return CompiledConditions([compile_condition(c, patterns) for c in conditions.get("all") or []],
                              [compile_condition(c, patterns) for c in conditions.get("any") or []])
