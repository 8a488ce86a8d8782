"""Ticket forms: per ticket type, the fields a ticket needs before it may be solved, and the fields a customer
may set on it (`customer_editable_fields`: a requester describes their problem; routing and ranking it are
staff inputs).

This is the seed's "mandatory fields for auditability". A type nobody has edited uses `DEFAULT_FORMS`
(nothing is written until an admin PUTs a form), so the defaults need no seeding and survive a reset.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tierline.platform import audit, clock
from tierline.platform.auth.actor import Actor
from tierline.platform.errors import Invalid, NotFound
from tierline.platform.wording import with_article
from tierline.tickets.models import TYPES, TicketForm

# Ticket fields a form may require; `custom_fields.<name>` may be required too.
REQUIRABLE_FIELDS: tuple[str, ...] = (
    "subject", "description", "customer_id", "component_id", "feature_area", "error_code", "tags",
    "assignee_id", "team_id", "tier", "queue_id", "urgency", "affected_users",
)
CUSTOM_FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
# What a customer may set unless the form of the ticket's type says otherwise.
DEFAULT_CUSTOMER_EDITABLE: tuple[str, ...] = ("subject", "description", "requester_email")
# What a form may open to customers: describing fields. Never what routes, ranks or files a ticket (type,
# priority, status, channel, tags, customer, assignee, team, tier, queue); triage reads what a customer wrote
# as a signal, never as an override.
CUSTOMER_EDITABLE_CHOICES: tuple[str, ...] = (
    "subject", "description", "requester_email", "component_id", "feature_area", "error_code", "urgency",
    "affected_users",
)

DEFAULT_FORMS: dict[str, tuple[list[str], str]] = {
    "question": ([], "answers need nothing beyond the conversation"),
    "incident": (["component_id", "error_code", "custom_fields.root_cause_summary"],
                 "an incident is solved only with the failing component, the error and a root-cause summary"),
    "problem": (["component_id", "custom_fields.root_cause_summary"],
                "a problem names the component and the root cause it was traced to"),
    "bug": (["component_id", "error_code"], "a bug names the component and the error it produces"),
    "task": ([], "tasks need nothing beyond the conversation"),
    "feature_request": (["component_id", "feature_area"],
                        "a feature request names where in the product it belongs"),
}
assert set(DEFAULT_FORMS) == set(TYPES)


@dataclass(frozen=True)
class FormView:
    """A form as read: stored, or the default for a type nobody has edited."""

    type: str
    required_fields: list[str]
    description: str
    is_default: bool
    customer_editable_fields: list[str] = field(default_factory=lambda: list(DEFAULT_CUSTOMER_EDITABLE))
    created_at: datetime | None = None
    updated_at: datetime | None = None


def _view(row: TicketForm) -> FormView:
    editable = row.customer_editable_fields
    return FormView(type=row.type, required_fields=list(row.required_fields), description=row.description,
                    is_default=False, created_at=row.created_at, updated_at=row.updated_at,
                    customer_editable_fields=list(DEFAULT_CUSTOMER_EDITABLE if editable is None else editable))


def _default(ticket_type: str) -> FormView:
    fields, description = DEFAULT_FORMS[ticket_type]
    return FormView(type=ticket_type, required_fields=list(fields), description=description, is_default=True)


def _check_type(ticket_type: str) -> None:
    if ticket_type not in TYPES:
        raise NotFound(f"there is no ticket type {ticket_type!r}; types are {', '.join(TYPES)}")


def get(session: Session, *, ticket_type: str) -> FormView:
    _check_type(ticket_type)
    row = session.scalar(select(TicketForm).where(TicketForm.type == ticket_type))
    return _view(row) if row is not None else _default(ticket_type)


def list_(session: Session) -> list[FormView]:
    stored = {row.type: row for row in session.scalars(select(TicketForm))}
    return [_view(stored[t]) if t in stored else _default(t) for t in TYPES]


def validate_fields(fields: Iterable[str], *, field: str = "required_fields",
                    choices: tuple[str, ...] = REQUIRABLE_FIELDS) -> list[str]:
    out: list[str] = []
    errors: list[tuple[str, str]] = []
    for i, name in enumerate(fields):
        name = name.strip()
        prefix, _, custom = name.partition(".")
        if prefix == "custom_fields" and CUSTOM_FIELD_NAME.match(custom):
            pass
        elif name not in choices:
            errors.append((f"{field}.{i}", f"{name!r} is not a field this list may name; use one of "
                                           f"{', '.join(choices)} or custom_fields.<name>"))
            continue
        if name not in out:
            out.append(name)
    if errors:
        raise Invalid(errors=errors)
    return out


def put(session: Session, *, actor: Actor, ticket_type: str, required_fields: list[str],
        description: str | None = None, customer_editable_fields: list[str] | None = None) -> FormView:
    """Create or replace the form of one ticket type (`customer_editable_fields` None: unchanged)."""
    _check_type(ticket_type)
    fields = validate_fields(required_fields)
    editable = None if customer_editable_fields is None else validate_fields(
        customer_editable_fields, field="customer_editable_fields", choices=CUSTOMER_EDITABLE_CHOICES)
    now = clock.now()
    row = session.scalar(select(TicketForm).where(TicketForm.type == ticket_type))
    if row is None:
        if description is None:
            description = DEFAULT_FORMS[ticket_type][1]
        row = TicketForm(type=ticket_type, required_fields=fields, description=description, created_at=now,
                         updated_at=now, customer_editable_fields=editable)
        session.add(row)
        session.flush()
        audit.record_create(session, actor, row)
        return _view(row)
    before = audit.snapshot(row)
    row.required_fields = fields
    if editable is not None:
        row.customer_editable_fields = editable
    if description is not None:
        row.description = description
    if audit.record_update(session, actor, row, before):
        row.updated_at = now
    return _view(row)


def customer_editable(session: Session, *, ticket_type: str) -> frozenset[str]:
    """What a customer may set on a ticket of this type (its form's `customer_editable_fields`)."""
    return frozenset(get(session, ticket_type=ticket_type).customer_editable_fields)


def _value(ticket: Any, name: str) -> Any:
    prefix, _, custom = name.partition(".")
    if prefix == "custom_fields":
        return (ticket.custom_fields or {}).get(custom)
    return getattr(ticket, name)


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, (list, dict, tuple)):
        return not value
    return False


def missing_fields(session: Session, ticket: Any) -> list[str]:
    """Every field the ticket's form requires that the ticket lacks, in the form's order."""
    form = get(session, ticket_type=ticket.type)
    return [name for name in form.required_fields if _is_missing(_value(ticket, name))]


def check_solvable(session: Session, ticket: Any) -> None:
    """422 listing every missing field, before a ticket may become solved."""
    missing = missing_fields(session, ticket)
    if missing:
        raise Invalid(errors=[(name, f"is required before {with_article(ticket.type)} ticket is solved (ticket form)")
                              for name in missing])


def render_markdown() -> str:
    """The default forms as published in docs/tickets.md."""
    lines = ["| type | required before solved | why |", "|---|---|---|"]
    for ticket_type, (fields, why) in DEFAULT_FORMS.items():
        lines.append(f"| `{ticket_type}` | {', '.join(f'`{f}`' for f in fields) or '(nothing)'} | {why} |")
    return "\n".join(lines) + "\n"
