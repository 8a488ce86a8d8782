"""Forms of the manager's pages as data: which fields a record's form has, how a posted form becomes the dict the
API's own schema validates, and how a stored record fills the form again.

The pages for people, teams, customers, components, queues, calendars and policies are the same page with other
fields; describing the fields once lets one template and one parser serve them all, and keeps the API's schema
(and its messages) the judge of every value. Values stay as the person typed them until the schema reads them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from starlette.datastructures import FormData

Options = Sequence[tuple[str, str]]

TEXT, TEXTAREA, NUMBER, SELECT, CHECKS, BOOL, LIST, JSON, ROWS, PASSWORD = (
    "text", "textarea", "number", "select", "checks", "bool", "list", "json", "rows", "password")
MAX_ROWS = 64


@dataclass
class FormField:
    """One control. `name` may be dotted (`match.priority`): the value lands in a nested dict. `nullable`: a
    blank sends null (clears it); otherwise a blank text is sent as "" for the schema to judge, and a blank
    select or number is left out. `columns` are a ROWS field's cells, each a FormField of its own."""

    name: str
    label: str
    kind: str = TEXT
    options: Options = ()
    nullable: bool = False
    help: str = ""
    columns: tuple[FormField, ...] = ()
    blank_rows: int = 2
    datalist: str = ""

    @property
    def id(self) -> str:
        return "fld-" + self.name.replace(".", "-")


@dataclass
class FormState:
    """What a form template prints: the fields, their current text, and the refusal's message per field."""

    fields: list[FormField]
    values: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)


# -- from a posted form to the API's dict ---------------------------------------------------------------------

def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def split_list(text: str) -> list[str]:
    return [p.strip() for p in text.replace("\n", ",").split(",") if p.strip()]


def _cell(spec: FormField, raw: str, present: bool) -> tuple[bool, Any]:
    """(whether to send it, the value) for one scalar control."""
    if spec.kind == BOOL:
        return True, present
    if spec.kind == LIST:
        return True, split_list(raw)
    if spec.kind == JSON:
        if not raw:
            return (True, None) if spec.nullable else (False, None)
        try:
            return True, json.loads(raw)
        except ValueError:
            return True, raw  # a plain word ("24/7"); the schema says whether it may be one
    if spec.kind == PASSWORD:
        return (bool(raw), raw)
    if not raw:
        if spec.nullable:
            return True, None
        return (spec.kind in (TEXT, TEXTAREA)), ""
    return True, raw


def _put(out: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    for part in parts[:-1]:
        out = out.setdefault(part, {})
    out[parts[-1]] = value


def _rows(form: FormData, spec: FormField) -> list[dict[str, Any]]:
    rows = []
    for i in range(MAX_ROWS):
        prefix = f"{spec.name}-{i}-"
        if not any(k.startswith(prefix) for k in form):
            continue
        texts = {c.name: _text(form, prefix + c.name) for c in spec.columns}
        if not any(texts[c.name] for c in spec.columns if c.kind != BOOL):
            continue  # a blank row is no row
        row: dict[str, Any] = {}
        for column in spec.columns:
            send, value = _cell(column, texts[column.name], prefix + column.name in form)
            if send:
                row[column.name] = value
        rows.append(row)
    return rows


def parse(form: FormData, fields: Iterable[FormField]) -> dict[str, Any]:
    """The dict a form amounts to, for the API's Create or Update schema to validate."""
    out: dict[str, Any] = {}
    for spec in fields:
        if spec.kind == ROWS:
            _put(out, spec.name, _rows(form, spec))
            continue
        if spec.kind == CHECKS:
            _put(out, spec.name, [v for v in form.getlist(spec.name) if isinstance(v, str) and v])
            continue
        send, value = _cell(spec, _text(form, spec.name), spec.name in form)
        if send:
            _put(out, spec.name, value)
    return out


def drop_empty(values: dict[str, Any], names: Iterable[str]) -> dict[str, Any]:
    """For a create: leave out the listed fields when empty, so the schema's defaults apply."""
    return {k: v for k, v in values.items() if not (k in names and v in (None, "", [], {}))}


# -- from a record to the form's text ----------------------------------------------------------------------------

def _shown(spec: FormField, value: Any) -> Any:
    if spec.kind == CHECKS:
        return [str(v) for v in value or []]
    if spec.kind == ROWS:
        return value or []
    if spec.kind == BOOL:
        return bool(value)
    if value is None:
        return ""
    if spec.kind == LIST:
        return ", ".join(str(v) for v in value)
    if spec.kind == JSON:
        return value if isinstance(value, str) else _json_text(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _json_text(value: Any) -> str:
    """A mapping one key a line (a calendar's week reads as a week), anything else compact."""
    if isinstance(value, Mapping) and value:
        lines = [f"  {json.dumps(k)}: {json.dumps(v, default=str)}" for k, v in value.items()]
        return "{\n" + ",\n".join(lines) + "\n}"
    return json.dumps(value, default=str)


def dotted(record: Mapping[str, Any], name: str) -> Any:
    value: Any = record
    for part in name.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def values_of(record: Mapping[str, Any], fields: Iterable[FormField]) -> dict[str, Any]:
    """The form's values for a stored record (its API read shape, dumped)."""
    out = {}
    for spec in fields:
        if spec.kind == PASSWORD:
            out[spec.name] = ""
        elif spec.kind == ROWS:
            out[spec.name] = [{c.name: _shown(c, row.get(c.name)) for c in spec.columns}
                              for row in dotted(record, spec.name) or []]
        else:
            out[spec.name] = _shown(spec, dotted(record, spec.name))
    return out


def echo(form: FormData, fields: Iterable[FormField]) -> dict[str, Any]:
    """The form's values as posted, to show again beside the refusal (nothing the person typed is lost)."""
    out: dict[str, Any] = {}
    for spec in fields:
        if spec.kind == ROWS:
            rows = []
            for i in range(MAX_ROWS):
                prefix = f"{spec.name}-{i}-"
                if any(k.startswith(prefix) for k in form):
                    rows.append({c.name: (prefix + c.name in form) if c.kind == BOOL else _text(form, prefix + c.name)
                                 for c in spec.columns})
            out[spec.name] = rows
        elif spec.kind == CHECKS:
            out[spec.name] = [v for v in form.getlist(spec.name) if isinstance(v, str)]
        elif spec.kind == BOOL:
            out[spec.name] = spec.name in form
        elif spec.kind == PASSWORD:
            out[spec.name] = ""
        else:
            out[spec.name] = _text(form, spec.name)
    return out


def errors_by_field(refusal_fields: Mapping[str, str], fields: Iterable[FormField]) -> dict[str, str]:
    """The refusal's reasons, keyed by the control they belong to: `roles.0` is the roles field's, and a ROWS
    field's `targets.2.minutes` is kept whole for its row and cell (`targets-2-minutes`) and also marks the
    field."""
    names = sorted((s.name for s in fields), key=len, reverse=True)
    out: dict[str, str] = {}
    for path, reason in refusal_fields.items():
        owner = next((n for n in names if path == n or path.startswith(n + ".")), None)
        if owner is None:
            continue
        out.setdefault(owner, reason)
        rest = path[len(owner) + 1:].split(".")
        if len(rest) >= 2 and rest[0].isdigit():
            out.setdefault(f"{owner}-{rest[0]}-{rest[1]}", reason)
    return out


def options(pairs: Iterable[tuple[Any, Any]]) -> list[tuple[str, str]]:
    return [(str(v), str(label)) for v, label in pairs]


def choices(values: Iterable[str], label: Callable[[str], str] = lambda v: v.replace("_", " ")) -> Options:
    return [(v, label(v)) for v in values]
