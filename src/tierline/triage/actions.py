"""Rule actions: what a matching rule does to the ticket being triaged (the `Draft`).

An action is `{type, value}`:

| type                     | value                                            | sets |
|--------------------------|--------------------------------------------------|------|
| set_priority             | "P1".."P4"                                       | priority |
| set_priority_from_impact | none (impact score x urgency, the ITIL matrix)   | priority |
| set_type                 | a ticket type                                    | type |
| set_component            | an existing component id                         | component_id |
| set_queue                | an existing queue id                             | queue_id |
| set_tier                 | "L1" / "L2" / "L3"                               | tier |
| set_team                 | an existing team id                              | team_id |
| assign_to                | an existing, active agent's user id              | assignee_id |
| add_tags                 | a list of tags                                   | tags (added to) |
| set_feature_area         | text                                             | feature_area |
| set_custom_field         | {"name": ..., "value": ...}                      | custom_fields.<name> |
| escalate_to_engineering  | the reason (optional)                            | draft.escalate_to_engineering |
| notify                   | {"team_id" or "user_id" or "email", "message"?}  | draft.notify (appended) |

Every field a rule sets is added to `draft.rule_set`: rules beat predictions and the caller's values. Rules run
by position, and the first rule to set a field keeps it: a later rule's action on the same field is recorded as
not applied, naming the rule that set it. Escalating to engineering and notifying only record the intent
on the draft; the pipeline carries them out when the ticket is saved. A reference that was valid when the rule
was saved but is gone now (a deleted queue, a deactivated agent) is not applied, with the reason, rather than
failing intake.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, get_args

from sqlalchemy.orm import Session

from tierline.components import service as components_service
from tierline.people import service as people_service
from tierline.platform.errors import NotFound
from tierline.platform.schemas import MAX_EMAIL_LENGTH, normalise_email
from tierline.tickets import service as tickets_service
from tierline.tickets.schemas import MAX_TAGS, Priority, TicketType, Tier, Urgency
from tierline.triage.conditions import MAX_TEXT, is_number
from tierline.triage.facts import Facts, is_id
from tierline.triage.impact import effective_urgency, priority_from_impact
from tierline.triage.schemas import ActionType
from tierline.triage.types import ActionResult

ACTION_TYPES: tuple[str, ...] = get_args(ActionType)
PRIORITIES: tuple[str, ...] = get_args(Priority)
TIERS: tuple[str, ...] = get_args(Tier)
TYPES: tuple[str, ...] = get_args(TicketType)
URGENCIES: tuple[str, ...] = get_args(Urgency)
MAX_CUSTOM_FIELDS = 100
_CUSTOM_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_TAG = re.compile(r"^[^\s,]{1,64}$")

Errors = list[tuple[str, str]]  # (path below the action's value, e.g. "" or ".name", reason)


# -- validation ----------------------------------------------------------------------------------------

def _one_of(allowed: tuple[str, ...]) -> Callable[[Session, Any], Errors]:
    def check(_session: Session, value: Any) -> Errors:
        return [] if isinstance(value, str) and value in allowed else [("", f"must be one of {', '.join(allowed)}")]
    return check


def _no_value(_session: Session, value: Any) -> Errors:
    return [] if value is None else [("", "takes no value (the impact score and urgency decide)")]


def _exists(what: str, lookup: Callable[[Session, int], Any]) -> Callable[[Session, Any], Errors]:
    def check(session: Session, value: Any) -> Errors:
        if not is_id(value):
            return [("", f"must be a {what} id")]
        try:
            lookup(session, value)
        except NotFound:
            return [("", f"{what} {value} does not exist")]
        return []
    return check


def _agent_problem(session: Session, user_id: Any) -> str | None:
    if not is_id(user_id):
        return "must be a user id"
    try:
        user = people_service.get_user(session, user_id=user_id)
    except NotFound:
        return f"user {user_id} does not exist"
    if not user.active:
        return f"user {user_id} is deactivated"
    if not people_service.ASSIGNABLE_ROLES.intersection(user.roles):
        return f"user {user_id} is not an agent (roles: {', '.join(user.roles) or 'none'})"
    return None


def _agent(session: Session, value: Any) -> Errors:
    problem = _agent_problem(session, value)
    return [("", problem)] if problem else []


def _tags(_session: Session, value: Any) -> Errors:
    if not isinstance(value, list) or not value:
        return [("", "must be a non-empty list of tags")]
    if len(value) > MAX_TAGS:
        return [("", f"must have at most {MAX_TAGS} tags")]
    return [(f".{i}", "must be a tag (1 to 64 characters without spaces or commas)")
            for i, tag in enumerate(value) if not isinstance(tag, str) or not _TAG.match(tag.strip())]


def _text(limit: int, *, optional: bool = False) -> Callable[[Session, Any], Errors]:
    def check(_session: Session, value: Any) -> Errors:
        if value is None and optional:
            return []
        if not isinstance(value, str) or not value.strip():
            return [("", "must be a non-empty string")]
        return [("", f"must be at most {limit} characters")] if len(value) > limit else []
    return check


def _json_scalar(value: Any) -> bool:
    if isinstance(value, str):
        return len(value) <= MAX_TEXT
    return value is None or isinstance(value, bool) or is_number(value)


def _custom_field(_session: Session, value: Any) -> Errors:
    if not isinstance(value, dict) or set(value) != {"name", "value"}:
        return [("", 'must be {"name": ..., "value": ...}')]
    errors: Errors = []
    name, field_value = value["name"], value["value"]
    if not isinstance(name, str) or not _CUSTOM_NAME.match(name):
        errors.append((".name", "must be lower-case letters, digits and _ (starting with a letter, at most 64)"))
    if isinstance(field_value, list):
        if len(field_value) > MAX_CUSTOM_FIELDS or not all(_json_scalar(v) for v in field_value):
            errors.append((".value", f"a list must hold at most {MAX_CUSTOM_FIELDS} strings, numbers or booleans"))
    elif not _json_scalar(field_value):
        errors.append((".value", (f"must be a string (at most {MAX_TEXT} characters), a finite number, "
                                  "a boolean, null or a list of those")))
    return errors


def _notify(session: Session, value: Any) -> Errors:
    if not isinstance(value, dict):
        return [("", 'must be {"team_id" | "user_id" | "email": ..., "message": ...}')]
    unknown = sorted(set(value) - {"team_id", "user_id", "email", "message"})
    if unknown:
        return [(f".{unknown[0]}", "is not a notify key (team_id, user_id, email, message)")]
    targets = [k for k in ("team_id", "user_id", "email") if k in value]
    if len(targets) != 1:
        return [("", "must name exactly one of team_id, user_id, email")]
    target = targets[0]
    errors: Errors = []
    if target == "team_id":
        errors += [(".team_id", r) for _, r in _exists("team", _team)(session, value["team_id"])]
    elif target == "user_id":
        errors += [(".user_id", r) for _, r in _exists("user", _user)(session, value["user_id"])]
    else:
        try:
            if not isinstance(value["email"], str) or len(value["email"]) > MAX_EMAIL_LENGTH:
                raise ValueError("not text")
            normalise_email(value["email"])  # syntax only, as every address the API takes
        except ValueError:
            errors.append((".email", "must be an email address"))
    if "message" in value:
        errors += [(".message", r) for _, r in _text(MAX_TEXT)(session, value["message"])]
    return errors


def _component(session: Session, component_id: int) -> Any:
    return components_service.info(session, component_id=component_id)  # the cached tree: no query


def _queue(session: Session, queue_id: int) -> Any:
    return tickets_service.queue_info(session, queue_id=queue_id)  # the cached queues: no query


def _team(session: Session, team_id: int) -> Any:
    return people_service.get_team(session, team_id=team_id)


def _team_exists(session: Session, team_id: int) -> Any:
    # At evaluation only existence matters, from the cached roster (get_team also loads the memberships).
    if not people_service.team_exists(session, team_id=team_id):
        raise NotFound(f"team {team_id} does not exist")
    return team_id


def _user(session: Session, user_id: int) -> Any:
    user = people_service.get_user(session, user_id=user_id)
    if not user.active:
        raise NotFound(f"user {user_id} is deactivated")
    return user


VALIDATORS: dict[str, Callable[[Session, Any], Errors]] = {
    "set_priority": _one_of(PRIORITIES),
    "set_priority_from_impact": _no_value,
    "set_type": _one_of(TYPES),
    "set_component": _exists("component", _component),
    "set_queue": _exists("queue", _queue),
    "set_tier": _one_of(TIERS),
    "set_team": _exists("team", _team),
    "assign_to": _agent,
    "add_tags": _tags,
    "set_feature_area": _text(200),
    "set_custom_field": _custom_field,
    "escalate_to_engineering": _text(500, optional=True),
    "notify": _notify,
}
assert set(VALIDATORS) == set(ACTION_TYPES)


def validate(session: Session, actions: Any, *, path: str = "actions") -> list[tuple[str, str]]:
    """Every problem in a rule's actions, each as (path, reason)."""
    if not isinstance(actions, list) or not actions:
        return [(path, "must be a non-empty list of actions")]
    errors: list[tuple[str, str]] = []
    for i, action in enumerate(actions):
        here = f"{path}.{i}"
        if not isinstance(action, dict):
            errors.append((here, "must be an object {type, value}"))
            continue
        unknown = sorted(set(action) - {"type", "value"})
        if unknown:
            errors.append((f"{here}.{unknown[0]}", "is not an action key (type, value)"))
            continue
        kind = action.get("type")
        if not isinstance(kind, str) or kind not in VALIDATORS:
            errors.append((f"{here}.type", f"unknown action {kind!r}; actions: {', '.join(ACTION_TYPES)}"))
            continue
        problems = VALIDATORS[kind](session, action.get("value"))
        errors += [(f"{here}.value{suffix}", reason) for suffix, reason in problems]
    return errors or _queue_and_team(session, actions, path)


def _queue_and_team(session: Session, actions: list[dict[str, Any]], path: str) -> list[tuple[str, str]]:
    """A rule that sets a queue of one team and another team would route against itself: the queue decides
    the ticket's team (triage.pipeline._route), so the pair is refused when the rule is saved."""
    queues = [a["value"] for a in actions if a["type"] == "set_queue"]
    teams = [(i, a["value"]) for i, a in enumerate(actions) if a["type"] == "set_team"]
    if not queues or not teams:
        return []
    owner = _queue(session, queues[0]).team_id
    return [(f"{path}.{i}.value", f"queue {queues[0]} belongs to team {owner}, and a ticket in it belongs to "
                                  "that team: drop set_team, or set a queue of this team")
            for i, team in teams if owner is not None and team != owner]


# -- applying ------------------------------------------------------------------------------------------

Apply = Callable[[Facts, int, str, Any], ActionResult]


def _claim(facts: Facts, rule_id: int, rule_name: str, key: str) -> str | None:
    """Take `key` for this rule unless an earlier rule set it in this run; returns why not, or None."""
    owner = facts.claimed.get(key)
    if owner is not None and owner[0] != rule_id:
        return f"{key} was already set by rule {owner[1]!r} (earlier by position)"
    facts.claimed[key] = (rule_id, rule_name)
    return None


def _set(field: str, check: Callable[[Facts, Any], str | None] | None = None) -> Apply:
    def apply(facts: Facts, rule_id: int, rule_name: str, value: Any) -> ActionResult:
        kind = _TYPE_OF[field]
        problem = check(facts, value) if check is not None else None
        if problem is None:
            problem = _claim(facts, rule_id, rule_name, field)
        if problem is not None:
            return ActionResult(rule_id=rule_id, type=kind, value=value, applied=False, note=problem)
        setattr(facts.draft, field, value)
        facts.draft.rule_set.add(field)
        facts.changed(field)
        return ActionResult(rule_id=rule_id, type=kind, value=value, applied=True)
    return apply


def _gone(what: str, lookup: Callable[[Session, int], Any]) -> Callable[[Facts, Any], str | None]:
    def check(facts: Facts, value: Any) -> str | None:
        if facts.session is None:
            return None
        try:
            lookup(facts.session, value)
        except NotFound:
            return f"{what} {value} no longer exists"
        return None
    return check


def _assignable(facts: Facts, user_id: Any) -> str | None:
    if facts.session is None or people_service.is_assignable_agent(facts.session, user_id=user_id):
        return None
    return f"user {user_id} cannot take tickets now (deactivated, unavailable or no longer an agent)"


def _priority_from_impact(facts: Facts, rule_id: int, rule_name: str, _value: Any) -> ActionResult:
    draft = facts.draft
    score = draft.impact_score
    if not is_number(score):
        return ActionResult(rule_id=rule_id, type="set_priority_from_impact", value=None, applied=False,
                            note="the ticket has no impact score")
    urgency = effective_urgency(draft, facts.signals)  # none given counts as medium, a full outage as high
    priority = priority_from_impact(int(score), urgency)
    result = APPLIERS["set_priority"](facts, rule_id, rule_name, priority)
    if urgency is not None and draft.urgency != urgency:
        urgency = f"{urgency} (full outage)"
    urgency = urgency or "medium (not given)"
    return ActionResult(rule_id=rule_id, type="set_priority_from_impact", value=priority, applied=result.applied,
                        note=result.note or f"impact {score} x urgency {urgency} -> {priority}")


def _add_tags(facts: Facts, rule_id: int, rule_name: str, value: list[str]) -> ActionResult:
    draft = facts.draft
    current = list(draft.tags) if isinstance(draft.tags, (list, tuple)) else []
    wanted = [t.strip().lower() for t in value]
    new = [t for i, t in enumerate(wanted) if t not in current and t not in wanted[:i]]
    room = max(0, MAX_TAGS - len(current))
    added, dropped = new[:room], new[room:]
    draft.rule_set.add("tags")
    if added:
        draft.tags = current + added
        facts.changed("tags")
    note = f"no room for {', '.join(dropped)} (at most {MAX_TAGS} tags)" if dropped else ""
    return ActionResult(rule_id=rule_id, type="add_tags", value=added, applied=bool(added) or not new, note=note)


def _set_custom_field(facts: Facts, rule_id: int, rule_name: str, value: dict[str, Any]) -> ActionResult:
    draft = facts.draft
    name, field_value = value["name"], value["value"]
    current = dict(draft.custom_fields) if isinstance(draft.custom_fields, dict) else {}
    problem = None
    if name not in current and len(current) >= MAX_CUSTOM_FIELDS:
        problem = f"the ticket already has {MAX_CUSTOM_FIELDS} custom fields"
    problem = problem or _claim(facts, rule_id, rule_name, f"custom_fields.{name}")
    if problem is not None:
        return ActionResult(rule_id=rule_id, type="set_custom_field", value=value, applied=False, note=problem)
    current[name] = field_value
    draft.custom_fields = current
    draft.rule_set.add("custom_fields")
    facts.changed("custom_fields")
    return ActionResult(rule_id=rule_id, type="set_custom_field", value=value, applied=True)


def _escalate_to_engineering(facts: Facts, rule_id: int, rule_name: str, value: str | None) -> ActionResult:
    draft = facts.draft
    if draft.escalate_to_engineering:
        return ActionResult(rule_id=rule_id, type="escalate_to_engineering", value=value, applied=False,
                            note=f"already escalated: {draft.escalate_to_engineering}")
    draft.escalate_to_engineering = value.strip() if value else f"rule {rule_name!r}"
    return ActionResult(rule_id=rule_id, type="escalate_to_engineering", value=draft.escalate_to_engineering,
                        applied=True, note="the pipeline notifies the component's engineering team")


def _notify_apply(facts: Facts, rule_id: int, rule_name: str, value: dict[str, Any]) -> ActionResult:
    facts.draft.notify = [*facts.draft.notify, {"rule_id": rule_id, "rule": rule_name, **value}]
    return ActionResult(rule_id=rule_id, type="notify", value=value, applied=True,
                        note="sent by the pipeline when the ticket is saved")


_TYPE_OF = {"priority": "set_priority", "type": "set_type", "component_id": "set_component",
            "queue_id": "set_queue", "tier": "set_tier", "team_id": "set_team", "assignee_id": "assign_to",
            "feature_area": "set_feature_area"}

APPLIERS: dict[str, Apply] = {
    "set_priority": _set("priority"),
    "set_priority_from_impact": _priority_from_impact,
    "set_type": _set("type"),
    "set_component": _set("component_id", _gone("component", _component)),
    "set_queue": _set("queue_id", _gone("queue", _queue)),
    "set_tier": _set("tier"),
    "set_team": _set("team_id", _gone("team", _team_exists)),
    "assign_to": _set("assignee_id", _assignable),
    "add_tags": _add_tags,
    "set_feature_area": _set("feature_area"),
    "set_custom_field": _set_custom_field,
    "escalate_to_engineering": _escalate_to_engineering,
    "notify": _notify_apply,
}
assert set(APPLIERS) == set(ACTION_TYPES)


class CompiledAction:
    __slots__ = ("_apply", "type", "value")

    def __init__(self, action: dict[str, Any]) -> None:
        self.type = action["type"]
        self.value = action.get("value")
        self._apply = APPLIERS[self.type]

    def apply(self, facts: Facts, rule_id: int, rule_name: str) -> ActionResult:
        return self._apply(facts, rule_id, rule_name, self.value)


def normalise(actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Valid actions as stored: tags lower-cased and de-duplicated, text trimmed."""
    out = []
    for action in actions:
        kind, value = action["type"], action.get("value")
        if kind == "add_tags":
            value = list(dict.fromkeys(t.strip().lower() for t in value))
        elif kind in ("set_feature_area", "escalate_to_engineering") and isinstance(value, str):
            value = value.strip()
        out.append({"type": kind, "value": value})
    return out
