"""Triage rules: the CRUD service, and `evaluate`, the pipeline step that runs them on a ticket.

Rules run in order of position, then id, among the active rules of the trigger (create, update,
customer_reply). Each matching rule's actions change the Draft in turn, so later rules see what earlier ones
did; `stop_processing` ends the run after its rule matched.

Rules are compiled once per process (conditions into closures, every regex on one field into one RE2 set) and
kept in the reference cache (platform/reference_cache.py) under the rule table's token, which the database
renews with every change to the table: all processes recompile once a change commits, and only then.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tierline.platform import audit, clock, reference_cache
from tierline.platform.auth.actor import Actor
from tierline.platform.errors import Conflict, Invalid, NotFound
from tierline.platform.pagination import SortKey, paginate
from tierline.triage import actions as actions_mod
from tierline.triage import conditions as conditions_mod
from tierline.triage.actions import CompiledAction
from tierline.triage.conditions import CompiledConditions
from tierline.triage.facts import Facts, is_id
from tierline.triage.models import TRIGGERS, TriageRule
from tierline.triage.regex_guard import PatternSet, is_text
from tierline.triage.types import ActionResult, Draft, RuleMatch, Signals

FIELDS = ("name", "description", "position", "active", "trigger", "conditions", "actions", "stop_processing")


# -- compiled rules --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CompiledRule:
    id: int
    name: str
    trigger: str
    conditions: CompiledConditions
    actions: tuple[CompiledAction, ...]
    stop_processing: bool


def _index_keys(rule: CompiledRule) -> list[tuple[str, Any, Any]] | None:
    """Keys at least one of which a ticket must hit for the rule to match, or None (test it on every ticket):
    one indexed `all` condition, or every `any` condition when each is indexed."""
    for condition in rule.conditions.all:
        if condition.index is not None:
            return [condition.index]
    if rule.conditions.any and all(c.index is not None for c in rule.conditions.any):
        return [c.index for c in rule.conditions.any]
    return None


class _Index:
    """The rules of one trigger filed by the keys their conditions need (see RuleSet)."""

    def __init__(self, rules: tuple[CompiledRule, ...]) -> None:
        self.rules = rules
        always: list[int] = []
        self.by_value: dict[str, dict[str, list[int]]] = {}
        self.by_pattern: dict[tuple[str, bool], dict[int, list[int]]] = {}
        bounds: dict[tuple[str, str], list[tuple[float, int]]] = {}
        for i, rule in enumerate(rules):
            keys = _index_keys(rule)
            if keys is None:
                always.append(i)
                continue
            for kind, where, what in keys:
                if kind == "value":
                    for value in what:
                        self.by_value.setdefault(where, {}).setdefault(value, []).append(i)
                elif kind == "pattern":
                    self.by_pattern.setdefault(where, {}).setdefault(what, []).append(i)
                else:  # gte / lte: kept sorted by bound, so one bisection finds the rules a number passes
                    bounds.setdefault((kind, where), []).append((what, i))
        self.always = frozenset(always)
        self.bounds = {key: ([b for b, _ in sorted(items)], [i for _, i in sorted(items)])
                       for key, items in bounds.items()}
        self.indexed = bool(self.by_value or self.by_pattern or self.bounds)

    def candidates(self, facts: Facts) -> list[CompiledRule]:
        if not self.indexed:
            return list(self.rules)
        picked = set(self.always)
        for field, table in self.by_value.items():
            hit = table.get(facts.key(field))
            if hit:
                picked.update(hit)
        for key, table in self.by_pattern.items():
            for pattern in facts.hits(key):
                hit = table.get(pattern)
                if hit:
                    picked.update(hit)
        for (kind, field), (values, rule_indices) in self.bounds.items():
            number = facts.number(field)
            if number is not None:
                if kind == "gte":  # bound <= number
                    picked.update(rule_indices[:bisect_right(values, number)])
                else:  # lte: bound >= number
                    picked.update(rule_indices[bisect_left(values, number):])
        return [self.rules[i] for i in sorted(picked)]


class RuleSet:
    """The compiled active rules of each trigger, in order, with an index that picks the rules worth testing.

    A condition on a field no action changes (the subject, description, error code, channel, the customer's
    plan, ARR and region, sentiment, impact score) gives the same answer for the whole run. A rule needing such
    a condition (in `all`, or every one of its `any`) is filed under what the condition needs: the values of
    equals/in, the pattern of matches/contains/starts_with (all of a field's patterns are scanned in one pass),
    the bound of gte/lte. A run tests only the rules filed under the ticket's facts plus the rules with no such
    condition, in order. The answer is the same as testing every rule (a property test holds us to that).
    """

    def __init__(self, by_trigger: dict[str, list[CompiledRule]], patterns: dict[tuple[str, bool], PatternSet]) -> None:
        self.by_trigger = {t: tuple(rs) for t, rs in by_trigger.items()}
        self.patterns = patterns
        self._index = {t: _Index(rs) for t, rs in self.by_trigger.items()}

    def candidates(self, facts: Facts, trigger: str) -> list[CompiledRule]:
        """The rules of `trigger` that may match this ticket, in order."""
        index = self._index.get(trigger)
        return index.candidates(facts) if index is not None else []


def compile_rules(rules: Iterable[Any]) -> RuleSet:
    """Compile valid rules (TriageRule rows or objects alike); inactive ones are left out."""
    patterns: dict[tuple[str, bool], list[str]] = {}
    by_trigger: dict[str, list[CompiledRule]] = {t: [] for t in TRIGGERS}
    for rule in sorted(rules, key=lambda r: (r.position, r.id)):
        if not rule.active:
            continue
        by_trigger[rule.trigger].append(CompiledRule(
            id=rule.id, name=rule.name, trigger=rule.trigger,
            conditions=conditions_mod.compile_conditions(rule.conditions, patterns),
            actions=tuple(CompiledAction(a) for a in rule.actions), stop_processing=rule.stop_processing))
    return RuleSet(by_trigger, {key: PatternSet(p) for key, p in patterns.items()})


def run(session: Session | None, rule_set: RuleSet, *, draft: Draft, signals: Signals | None,
        trigger: str, use_index: bool = True) -> tuple[list[RuleMatch], list[ActionResult]]:
    """Run compiled rules on the draft, changing it; the matches (with the conditions that held) and results.
    `use_index=False` tests every rule (the slow reference the index is checked against)."""
    facts = Facts(session, draft, signals, rule_set.patterns)
    matches: list[RuleMatch] = []
    results: list[ActionResult] = []
    rules = rule_set.candidates(facts, trigger) if use_index else rule_set.by_trigger.get(trigger, ())
    for rule in rules:
        held = rule.conditions.held(facts)
        if held is None:
            continue
        matches.append(RuleMatch(rule_id=rule.id, name=rule.name, conditions=held,
                                 stop_processing=rule.stop_processing))
        for action in rule.actions:
            results.append(action.apply(facts, rule.id, rule.name))
        if rule.stop_processing:
            break
    return matches, results


def current(session: Session) -> RuleSet:
    """The active rules compiled, from this process's cache unless the rule set changed since."""
    return reference_cache.cached(session, "triage_rules", "triage.rules", _compile_active)


def _compile_active(session: Session) -> RuleSet:
    return compile_rules(session.scalars(select(TriageRule).where(TriageRule.active.is_(True))))


def evaluate(session: Session, *, draft: Draft, signals: Signals | None,
             trigger: str) -> tuple[list[RuleMatch], list[ActionResult]]:
    """Run the active rules of `trigger` on the draft, changing it (fields rules set go in draft.rule_set)."""
    if trigger not in TRIGGERS:
        raise Invalid("trigger", f"must be one of {', '.join(TRIGGERS)}")
    return run(session, current(session), draft=draft, signals=signals, trigger=trigger)


# -- reading ---------------------------------------------------------------------------------------------

def get(session: Session, *, rule_id: int) -> TriageRule:
    rule = session.get(TriageRule, rule_id) if is_id(rule_id) else None
    if rule is None:
        raise NotFound(f"triage rule {rule_id} does not exist")
    return rule


def list_(session: Session, *, trigger: str | None = None, active: bool | None = None, q: str | None = None,
          limit: int | None = None, cursor: str | None = None) -> tuple[list[TriageRule], str | None]:
    """Rules in the order they run: by position, then id."""
    stmt = select(TriageRule)
    if trigger is not None:
        stmt = stmt.where(TriageRule.trigger == trigger)
    if active is not None:
        stmt = stmt.where(TriageRule.active.is_(active))
    if q:
        stmt = stmt.where(TriageRule.name.icontains(q, autoescape=True))
    return paginate(session, stmt, keys=[SortKey(TriageRule.position), SortKey(TriageRule.id)], limit=limit,
                    cursor=cursor)


# -- changes ---------------------------------------------------------------------------------------------

def _stored_conditions(conditions: dict[str, Any] | None) -> dict[str, Any]:
    conditions = conditions or {}
    return {group: [{"field": c["field"], "op": c["op"], "value": c.get("value")} for c in conditions.get(group) or []]
            for group in ("all", "any")}


def _check(session: Session, values: dict[str, Any]) -> dict[str, Any]:
    """Validate a whole rule; returns it as stored. Every problem at once, each naming its path."""
    errors: list[tuple[str, str]] = []
    name = values.get("name")
    if not isinstance(name, str) or not name.strip():
        errors.append(("name", "must not be blank"))
    elif len(name.strip()) > 200:
        errors.append(("name", "must be at most 200 characters"))
    for field in ("name", "description"):  # a JSON string may hold a lone surrogate; no database can store it
        if isinstance(values.get(field), str) and not is_text(values[field]):
            errors.append((field, "must be valid Unicode text (it holds a lone surrogate)"))
    if values.get("trigger") not in TRIGGERS:
        errors.append(("trigger", f"must be one of {', '.join(TRIGGERS)}"))
    position = values.get("position")
    if not isinstance(position, int) or isinstance(position, bool) or not 0 <= position <= 1_000_000:
        errors.append(("position", "must be an integer from 0 to 1000000"))
    errors += conditions_mod.validate(session, values.get("conditions"))
    errors += actions_mod.validate(session, values.get("actions"))
    if errors:
        raise Invalid(errors=errors)
    return {**values, "name": name.strip(), "conditions": _stored_conditions(values.get("conditions")),
            "actions": actions_mod.normalise(values["actions"])}


def _check_name_free(session: Session, name: str, *, except_id: int | None = None) -> None:
    stmt = select(TriageRule.id).where(TriageRule.name == name)
    if except_id is not None:
        stmt = stmt.where(TriageRule.id != except_id)
    if session.scalar(stmt) is not None:
        raise Conflict(f"a triage rule named {name!r} already exists")


def _flush(session: Session, name: str) -> None:
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:  # a concurrent request took the name
        raise Conflict(f"a triage rule named {name!r} already exists") from exc


def create(session: Session, *, actor: Actor, name: str, actions: list[dict[str, Any]],
           conditions: dict[str, Any] | None = None, description: str = "", position: int = 0,
           active: bool = True, trigger: str = "create", stop_processing: bool = False) -> TriageRule:
    values = _check(session, {"name": name, "description": description, "position": position, "active": active,
                              "trigger": trigger, "conditions": conditions, "actions": actions,
                              "stop_processing": stop_processing})
    _check_name_free(session, values["name"])
    now = clock.now()
    rule = TriageRule(**values, created_at=now, updated_at=now)
    session.add(rule)
    _flush(session, values["name"])
    audit.record_create(session, actor, rule)
    return rule


def update(session: Session, *, actor: Actor, rule_id: int, changes: dict[str, Any]) -> TriageRule:
    """Apply the given fields; the rule is validated whole, as it will be after the change."""
    rule = get(session, rule_id=rule_id)
    unknown = sorted(set(changes) - set(FIELDS))
    if unknown:
        raise Invalid(unknown[0], "is not a field of a triage rule")
    values = _check(session, {**{f: getattr(rule, f) for f in FIELDS}, **changes})
    if values["name"] != rule.name:
        _check_name_free(session, values["name"], except_id=rule.id)
    before = audit.snapshot(rule)
    for field in FIELDS:
        setattr(rule, field, values[field])
    if audit.record_update(session, actor, rule, before):
        rule.updated_at = clock.now()
        _flush(session, rule.name)
    return rule


def delete(session: Session, *, actor: Actor, rule_id: int) -> None:
    rule = get(session, rule_id=rule_id)
    audit.record_delete(session, actor, rule)
    session.delete(rule)
    session.flush()


def move(session: Session, *, actor: Actor, rule_id: int, offset: int) -> TriageRule:
    """Move a rule `offset` places among the rules of its trigger (negative: earlier). Positions are free
    numbers that often tie (every rule at 0 runs by id), so a move renumbers the trigger's rules by tens in
    their new order; each rule whose position changes is audited as an update."""
    rule = get(session, rule_id=rule_id)
    ordered = list(session.scalars(select(TriageRule).where(TriageRule.trigger == rule.trigger)
                                   .order_by(TriageRule.position, TriageRule.id)))
    at = ordered.index(rule)
    ordered.insert(max(0, min(len(ordered) - 1, at + offset)), ordered.pop(at))
    now = clock.now()
    for number, each in enumerate(ordered, start=1):
        if each.position != number * 10:
            before = audit.snapshot(each)
            each.position = number * 10
            each.updated_at = now
            audit.record_update(session, actor, each, before)
    session.flush()
    return rule
