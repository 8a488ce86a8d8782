"""A ticket as its detail and the lists show it: its own fields beside its problem's key, SLA policy and
targets (three domains, one view)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field
from sqlalchemy.orm import Session

from tierline.platform.auth.actor import Actor
from tierline.platform.pagination import Page
from tierline.platform.schemas import ONE_OF
from tierline.problems import service as problems_service
from tierline.sla import service as sla_service
from tierline.sla.schemas import ClockRead, PolicyRef
from tierline.tickets import service as tickets_service
from tierline.tickets.models import Ticket
from tierline.tickets.schemas import CustomerTicketRead, TicketQuery, TicketRead


class TicketDetail(TicketRead):
    """One ticket with its SLA policy and targets (lists carry only sla_due_at)."""

    sla_policy: PolicyRef | None = None
    sla: list[ClockRead] = Field(default_factory=list)


def detail(session: Session, ticket: Ticket) -> dict[str, Any]:
    """The ticket as GET /tickets/{key} shows it: its fields with its problem's key, SLA policy and targets."""
    policy, targets = sla_service.ticket_sla(session, ticket=ticket)
    problem_key = problems_service.keys_of_tickets(session, ticket_ids=[ticket.id]).get(ticket.id)
    return {**TicketRead.model_validate(ticket).model_dump(), "problem_key": problem_key, "sla_policy": policy,
            "sla": targets}


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


def page(session: Session, actor: Actor, query: TicketQuery) -> TicketPage:
    """A page of GET /tickets as `actor` may see it. The problem filter and each staff item's problem key come
    from the problems' links (one statement for the page); the triage record only with `include=triage`."""
    linked = None if query.problem is None else problems_service.linked_ticket_ids(key=query.problem)
    rows, next_cursor = tickets_service.list_(session, actor=actor, query=query, linked_ids=linked)
    if actor.is_customer_only:
        return TicketPage(items=[CustomerTicketRead.model_validate(t) for t in rows], next_cursor=next_cursor)
    keys = problems_service.keys_of_tickets(session, ticket_ids=[t.id for t in rows])
    with_triage = bool(query.include and "triage" in query.include)
    return TicketPage(items=[_item(t, keys.get(t.id), with_triage) for t in rows], next_cursor=next_cursor)


# A list item is read field by field: an item without its triage record must not touch the column, which the
# list left unread.
_ITEM_FIELDS = tuple(name for name in TicketRead.model_fields if name not in ("triage", "problem_key"))


def _item(ticket: Ticket, problem_key: str | None, with_triage: bool) -> TicketRead:
    values = {name: getattr(ticket, name) for name in _ITEM_FIELDS}
    return TicketRead.model_validate({**values, "problem_key": problem_key,
                                      "triage": ticket.triage if with_triage else None})


def payload_for(actor: Actor, payload: dict[str, Any]) -> dict[str, Any]:
    """A ticket's JSON (as intake renders a new one) cut to what `actor` may see."""
    if not actor.is_customer_only:
        return payload
    return {name: payload[name] for name in _CUSTOMER_KEYS}
