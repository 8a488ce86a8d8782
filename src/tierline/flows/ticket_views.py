"""A ticket as its detail shows it: its own fields beside its SLA policy and targets (two domains, one view)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field
from sqlalchemy.orm import Session

from tierline.platform.auth.actor import Actor
from tierline.platform.pagination import Page
from tierline.platform.schemas import ONE_OF
from tierline.sla import service as sla_service
from tierline.sla.schemas import ClockRead, PolicyRef
from tierline.tickets.models import Ticket
from tierline.tickets.schemas import CustomerTicketRead, TicketRead


class TicketDetail(TicketRead):
    """One ticket with its SLA policy and targets (lists carry only sla_due_at)."""

    sla_policy: PolicyRef | None = None
    sla: list[ClockRead] = Field(default_factory=list)


def detail(session: Session, ticket: Ticket) -> dict[str, Any]:
    """The ticket as GET /tickets/{key} shows it: its fields with its SLA policy and targets."""
    policy, targets = sla_service.ticket_sla(session, ticket=ticket)
    return {**TicketRead.model_validate(ticket).model_dump(), "sla_policy": policy, "sla": targets}


# What the ticket routes answer: staff get the whole ticket, a customer the allow-list (the same routes, both
# shapes published as oneOf).
TicketView = Annotated[TicketDetail | CustomerTicketRead, ONE_OF]
TicketItem = Annotated[TicketRead | CustomerTicketRead, ONE_OF]


class TicketPage(Page[TicketItem]):
    """A page of tickets: staff items whole, a customer's the allow-list."""


_CUSTOMER_KEYS = tuple(CustomerTicketRead.model_fields)


def view(session: Session, actor: Actor, ticket: Ticket) -> TicketDetail | CustomerTicketRead:
    """The ticket as `actor` may see it (a customer reads no SLA, so none is looked up for them)."""
    if actor.is_customer_only:
        return CustomerTicketRead.model_validate(ticket)
    return TicketDetail.model_validate(detail(session, ticket))


def item(actor: Actor, ticket: Ticket) -> TicketRead | CustomerTicketRead:
    """One ticket of a list as `actor` may see it."""
    return (CustomerTicketRead if actor.is_customer_only else TicketRead).model_validate(ticket)


def payload_for(actor: Actor, payload: dict[str, Any]) -> dict[str, Any]:
    """A ticket's JSON (as intake renders a new one) cut to what `actor` may see."""
    if not actor.is_customer_only:
        return payload
    return {name: payload[name] for name in _CUSTOMER_KEYS}
