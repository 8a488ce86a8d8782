"""Messages on a ticket: public replies and internal notes, who may write which, and reading them.

Posting one is a flow (flows/messages.py): it moves the ticket's status, re-runs triage and the SLA clocks.
Internal notes are never shown to a customer, and customers only write public customer messages.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from tierline.platform.auth.actor import Actor
from tierline.platform.auth.models import User
from tierline.platform.errors import Forbidden, Invalid
from tierline.platform.pagination import SortKey, paginate
from tierline.tickets import service
from tierline.tickets.models import Message, Ticket
from tierline.tickets.schemas import CustomerMessageRead, customer_author_name

AGENT, CUSTOMER, SYSTEM = "agent", "customer", "system"  # system: an automatic message, never a response


def list_(session: Session, *, actor: Actor, ticket_key: str, public: bool | None = None,
          limit: int | None = None, cursor: str | None = None) -> tuple[list[Message], str | None]:
    """Oldest first, the way a conversation reads; internal notes only for those who may read them."""
    ticket = service.get_by_key(session, key=ticket_key, actor=actor)
    stmt = select(Message).where(Message.ticket_id == ticket.id)
    if actor.is_customer_only:
        stmt = stmt.where(Message.public.is_(True))
    if public is not None:
        stmt = stmt.where(Message.public.is_(public))
    return paginate(session, stmt, keys=[SortKey(Message.id)], limit=limit, cursor=cursor)


def as_customer_sees(session: Session, messages: Sequence[Message]) -> list[CustomerMessageRead]:
    """Public messages as the ticket's requester sees them: authors by display name only (one read of the
    authors' names), never an email address or an id."""
    ids = {m.author_id for m in messages if m.author_id is not None}
    names = dict(session.execute(select(User.id, User.name).where(User.id.in_(ids))).all()) if ids else {}
    return [CustomerMessageRead(ticket_key=m.ticket_key, body=m.body, author_type=m.author_type,
                                author_name=customer_author_name(m.author_type, names.get(m.author_id)),
                                created_at=m.created_at)
            for m in messages if m.public]


def author_of(actor: Actor, ticket: Ticket, *, public: bool, author_type: str | None,
            author_email: str | None) -> tuple[str, str | None, int | None]:
    """(author_type, author_email, author_id) for a new message, or why it may not be written."""
    if actor.is_customer_only:
        if author_type == AGENT or not public:
            raise Forbidden("customers may only post public customer messages")
        if author_email is not None and author_email != actor.email.lower():
            raise Invalid("author_email", "must be your own email address")
        return CUSTOMER, actor.email.lower(), actor.user_id
    author_type = author_type or AGENT
    if author_type == AGENT:
        if author_email is not None:
            raise Invalid("author_email", "is only for customer messages; an agent message is signed by "
                                          "its author")
        return AGENT, actor.email.lower(), actor.user_id
    if not public:
        raise Invalid("public", "customer messages are public; internal notes are written by agents")
    return CUSTOMER, author_email or ticket.requester_email, None
