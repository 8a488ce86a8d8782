"""Messages on a ticket: public replies and internal notes, and what they do to the ticket.

- The first public agent reply sets `first_response_at`.
- A customer reply to a pending_customer or solved ticket opens it again.
- A customer reply to a closed ticket opens a linked follow-up ticket and lands there.
- Internal notes are never shown to a customer, and customers only write public customer messages.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tierline.platform import audit, clock, outbox
from tierline.platform.auth.actor import Actor
from tierline.platform.errors import Conflict, Forbidden, Invalid
from tierline.platform.pagination import SortKey, paginate
from tierline.sla import service as sla_service
from tierline.tickets import indexing, intake, service
from tierline.tickets import state_machine as sm
from tierline.tickets.models import Message, Ticket
from tierline.tickets.schemas import TicketCreate
from tierline.triage import pipeline as triage_pipeline

AGENT, CUSTOMER = "agent", "customer"


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


def _author(actor: Actor, ticket: Ticket, *, public: bool, author_type: str | None,
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


def create(session: Session, *, actor: Actor, ticket_key: str, body: str, public: bool = True,
           author_type: str | None = None, author_email: str | None = None) -> Message:
    ticket = service.get_by_key(session, key=ticket_key, actor=actor, lock=True)
    kind, email, author_id = _author(actor, ticket, public=public, author_type=author_type,
                                     author_email=author_email)
    if ticket.status == sm.CLOSED:
        if kind == CUSTOMER:
            ticket = _open_follow_up(session, actor=actor, closed=ticket, body=body)
        else:
            raise Conflict(f"ticket {ticket.key} is closed, and closed is final; a customer reply opens a "
                           "follow-up ticket", allowed=[])
    before = audit.snapshot(ticket)
    message = Message(ticket_id=ticket.id, body=body, public=public, author_type=kind, author_email=email,
                      author_id=author_id, created_at=clock.now())
    session.add(message)
    session.flush()
    audit.record_create(session, actor, message)
    if kind == AGENT and public and ticket.first_response_at is None:
        ticket.first_response_at = message.created_at
    if kind == CUSTOMER:
        service.move_status(session, ticket, sm.after_customer_reply(ticket.status))
    if kind == CUSTOMER:
        with session.no_autoflush:  # the ticket's changes go out in one UPDATE, with triage's
            triage_pipeline.triage(session, actor=actor, ticket=ticket, trigger="customer_reply",
                                   caller_set=set(), message_text=body)
    if public:
        sla_service.on_public_message(session, actor=actor, ticket=ticket, author_type=kind,
                                      at=message.created_at)
    audit.record_update(session, actor, ticket, before, action="tickets.update", exclude=service.NOT_AUDITED)
    ticket.updated_at = message.created_at  # a message is activity: it moves the ticket up "updated" lists
    service.flush(session, ticket)
    (indexing.index_ticket if public else indexing.index_notes)(session, ticket)
    outbox.publish(session, "ticket.message_created", {
        "ticket_id": ticket.id, "key": ticket.key, "message_id": message.id, "public": public,
        "author_type": kind,
    })
    return message


def _open_follow_up(session: Session, *, actor: Actor, closed: Ticket, body: str) -> Ticket:
    subject = closed.subject
    if not subject.lower().startswith("follow-up"):
        subject = f"Follow-up: {subject}"
    data = TicketCreate(subject=subject[:500], description=body, requester_email=closed.requester_email)
    return intake.create_ticket(session, actor=actor, data=data, follow_up_of=closed)
