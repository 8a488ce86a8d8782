"""A triage rule as its editor shows it: conditions and actions as rows of text cells, and back.

A person types values as text; a rule holds JSON values whose type the condition's field (or the action's type)
decides: `customer.arr gte 100000` is a number, `error_code in E1, E2` a list of strings, `add_tags a, b` a list,
`set_queue 4` an id, `notify {"team_id": 2}` an object. The conversion only shapes what was typed; whether it is
right is for the API's validators (`triage.conditions`, `triage.actions`), whose messages name the row and cell.
"""

from __future__ import annotations

import json
import re
from typing import Any

from tierline.triage import conditions as conditions_mod
from tierline.triage.actions import ACTION_TYPES
from tierline.triage.conditions import ALL_OPS
from tierline.triage.models import TRIGGERS
from tierline.web import form_fields as ff
from tierline.web.form_fields import FormField

GROUPS = ("conditions.all", "conditions.any")
ID_ACTIONS = frozenset({"set_component", "set_queue", "set_team", "assign_to"})
OBJECT_ACTIONS = frozenset({"set_custom_field", "notify"})
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
CONDITION_FIELDS = (*conditions_mod.FIELDS, "custom_fields.")
TRIGGER_LABELS = {"create": "a ticket is created", "update": "a ticket is updated",
                  "customer_reply": "the customer replies"}


def fields() -> list[FormField]:
    condition = (FormField("field", "Field", datalist="condition-fields"),
                 FormField("op", "Operator", ff.SELECT, options=ff.choices(ALL_OPS)),
                 FormField("value", "Value"))
    return [
        FormField("name", "Name"),
        FormField("trigger", "Runs when", ff.SELECT, options=[(t, TRIGGER_LABELS[t]) for t in TRIGGERS]),
        FormField("position", "Position", ff.NUMBER),
        FormField("active", "Active", ff.BOOL),
        FormField("stop_processing", "Stop here when it matches", ff.BOOL),
        FormField("description", "Description", ff.TEXTAREA),
        FormField("conditions.all", "All of these hold", ff.ROWS, columns=condition,
                  help="in / not in: a comma-separated list. is empty: true or false. Both lists empty: always."),
        FormField("conditions.any", "…and at least one of these (when any is given)", ff.ROWS, columns=condition),
        FormField("actions", "Then", ff.ROWS, blank_rows=2, columns=(
            FormField("type", "Action", ff.SELECT, options=ff.choices(ACTION_TYPES)),
            FormField("value", "Value"))),
    ]


# -- typed text to rule values -----------------------------------------------------------------------------------

def _scalar(kind: str | None, text: str) -> Any:
    if kind in (conditions_mod.NUMBER, conditions_mod.COMPONENT) and _NUMBER.match(text):
        return float(text) if "." in text else int(text)
    if kind == conditions_mod.ANY:
        try:
            value = json.loads(text)
        except ValueError:
            return text
        return value if isinstance(value, (bool, int, float)) else text
    return text


def condition_value(field: str, op: str, text: str) -> Any:
    kind = conditions_mod.kind_of(field)
    if op == "is_empty":
        return {"": None, "true": True, "yes": True, "false": False, "no": False}.get(text.lower(), text)
    if op in ("in", "not_in"):
        return [_scalar(kind, item) for item in ff.split_list(text)]
    return _scalar(kind, text)


def action_value(kind: str, text: str) -> Any:
    if not text:
        return None
    if kind == "add_tags":
        return ff.split_list(text)
    if kind in ID_ACTIONS and text.isdigit():
        return int(text)
    if kind in OBJECT_ACTIONS:
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def from_form(values: dict[str, Any]) -> dict[str, Any]:
    """The parsed form (rows of text) as the body of POST /api/v1/triage/rules."""
    conditions = values.get("conditions") or {}
    out = {**values, "conditions": {
        group: [{"field": row.get("field", ""), "op": row.get("op") or None,
                 "value": condition_value(row.get("field", ""), row.get("op") or "", row.get("value", ""))}
                for row in conditions.get(group, [])]
        for group in ("all", "any")}}
    out["actions"] = [{"type": row.get("type") or None, "value": action_value(row.get("type") or "",
                                                                             row.get("value", ""))}
                      for row in values.get("actions") or []]
    if out.get("position") in (None, ""):
        out.pop("position", None)
    return out


# -- rule values to typed text -----------------------------------------------------------------------------------

def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def to_form(rule: dict[str, Any]) -> dict[str, Any]:
    """A stored rule (its API read shape) as the editor's values."""
    conditions = rule.get("conditions") or {}
    return {
        "name": rule.get("name", ""), "trigger": rule.get("trigger", "create"),
        "position": str(rule.get("position", 0)), "active": bool(rule.get("active", True)),
        "stop_processing": bool(rule.get("stop_processing")), "description": rule.get("description", ""),
        "conditions.all": [{"field": c["field"], "op": c["op"], "value": _text(c.get("value"))}
                           for c in conditions.get("all") or []],
        "conditions.any": [{"field": c["field"], "op": c["op"], "value": _text(c.get("value"))}
                           for c in conditions.get("any") or []],
        "actions": [{"type": a["type"], "value": _text(a.get("value"))} for a in rule.get("actions") or []],
    }


def summary(rule: Any, names: dict[str, dict[int, str]] | None = None) -> tuple[str, str]:
    """(conditions, actions) of a rule in one line each, for the list; `names` puts a name beside an id
    (keyed by the condition's field or the action's type: `component`, `set_queue`, ...)."""
    names = names or {}
    conditions = rule.conditions or {}

    def shown(kind: str, value: Any) -> str:
        known = names.get(kind, {})
        if isinstance(value, list):
            return ", ".join(shown(kind, v) for v in value)
        return known.get(value, _text(value)) if isinstance(value, int) and not isinstance(value, bool) \
            else _text(value)

    def said(group: str, joiner: str) -> str:
        return f" {joiner} ".join(
            f"{c['field']} {c['op'].replace('_', ' ')} {shown(c['field'], c.get('value'))}".strip()
            for c in conditions.get(group) or [])

    parts = [p for p in (said("all", "and"), f"any of ({said('any', 'or')})" if conditions.get("any") else "")
             if p]
    actions = "; ".join(f"{a['type'].replace('_', ' ')} {shown(a['type'], a.get('value'))}".strip()
                        for a in rule.actions or [])
    return (" and ".join(parts) or "always"), actions
