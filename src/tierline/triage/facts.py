"""The facts rule conditions read: one ticket (a Draft) during one evaluation, with what is derived from it
(lower-cased text, regex hits, the component's ancestry) cached until an action changes the field it came from.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from operator import attrgetter
from typing import Any

from sqlalchemy.orm import Session

from tierline.components import service as components_service
from tierline.platform.errors import NotFound
from tierline.platform.schemas import MAX_ID
from tierline.triage import regex_guard
from tierline.triage.types import Draft, Signals

CUSTOM_PREFIX = "custom_fields."
# Fields no action changes: a condition on one of them gives the same answer for the whole run, so rules can be
# picked by these fields' values before the run (see rules.RuleSet).
STATIC_FIELDS = frozenset({"subject", "description", "error_code", "channel", "customer.plan", "customer.arr",
                           "customer.region", "sentiment", "impact_score"})

ENUM_FIELDS = frozenset({"priority", "type", "channel", "customer.plan"})


def is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


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


# A set of patterns scanned over one field: (field, lowered). Regexes (`matches`) run on the text as it is;
# the literal needles of `contains` and `starts_with` run on the lower-cased text.
PatternKey = tuple[str, bool]


class Facts:
    """One ticket as conditions see it during one evaluation, with caches dropped whenever it changes."""

    __slots__ = ("_hits", "_lineage", "_lower", "_tags", "claimed", "draft", "patterns", "session", "signals")

    def __init__(self, session: Session | None, draft: Draft, signals: Signals | None,
                 patterns: dict[PatternKey, regex_guard.PatternSet]) -> None:
        self.session = session
        self.draft = draft
        self.signals = signals
        self.patterns = patterns
        self.claimed: dict[str, tuple[int, str]] = {}  # field -> the rule (id, name) that set it in this run
        self._lower: dict[str, str | None] = {}
        self._hits: dict[PatternKey, frozenset[int]] = {}
        self._lineage: frozenset[int] | None = None
        self._tags: frozenset[str] | None = None

    def changed(self, field: str) -> None:
        """An action changed `field` of the ticket: forget what was derived from it."""
        if field == "tags":
            self._tags = None
            self._hits.pop(("tags", False), None)
        elif field == "custom_fields":
            for key in [k for k in self._lower if k.startswith(CUSTOM_PREFIX)]:
                del self._lower[key]
            for key in [k for k in self._hits if k[0].startswith(CUSTOM_PREFIX)]:
                del self._hits[key]
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

    def key(self, field: str) -> str | None:
        """The value an index of `field` is looked up by: lower-cased text, or the enum's value."""
        value = self.lower(field) if field not in ENUM_FIELDS else reader(field)(self)
        return value if isinstance(value, str) else None

    def number(self, field: str) -> float | int | None:
        value = reader(field)(self)
        return value if is_number(value) else None

    def tags(self) -> frozenset[str]:
        if self._tags is None:
            tags = self.draft.tags if isinstance(self.draft.tags, (list, tuple, set)) else ()
            self._tags = frozenset(str(t).lower() for t in tags)
        return self._tags

    def hits(self, key: PatternKey) -> frozenset[int]:
        """Indices of the patterns of `key` found in its field's value (each string of a list value is scanned)."""
        try:
            return self._hits[key]
        except KeyError:
            pass
        field, lowered = key
        patterns = self.patterns.get(key)
        value = self.lower(field) if lowered else reader(field)(self)
        found: frozenset[int] = frozenset()
        if patterns is not None:
            if isinstance(value, str):
                found = patterns.matching(value)
            elif isinstance(value, (list, tuple)):
                found = frozenset().union(*(patterns.matching(v) for v in value if isinstance(v, str)))
        self._hits[key] = found
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
                        ids.update(components_service.lineage(self.session, component_id=component_id))
                    except NotFound:
                        pass
                self._lineage = frozenset(ids)
        return self._lineage
