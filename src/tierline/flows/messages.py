"""Posting a message on a ticket, and what it does to the ticket.

- The first public agent reply sets `first_response_at`. An automatic message (`author_type: system`: a problem's
  fix announcement, an incident update, an auto-reply) is no response: it sets nothing, satisfies neither the
  first-response nor the next-reply target, and counts only as a periodic update.
- A customer reply to a pending_customer or solved ticket opens it again, and triage runs on it (the mood
  of the latest message is what matters now).
- A customer reply to a closed ticket opens a linked follow-up ticket (the intake flow) and lands there.
- A public message moves the SLA clocks (first response, next reply, periodic update).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from tierline.flows import intake
from tierline.platform import audit, clock, outbox
from tierline.platform.auth.actor import Actor
from tierline.platform.errors import Conflict
from tierline.sla import service as sla_service
from tierline.tickets import indexing, service
from tierline.tickets import state_machine as sm
from tierline.tickets.messages import AGENT, CUSTOMER, SYSTEM, author_of
from tierline.tickets.models import Message, Ticket
from tierline.tickets.schemas import TicketCreate
from tierline.triage import pipeline as triage_pipeline


def create(session: Session, *, actor: Actor, ticket_key: str, body: str, public: bool = True,
           author_type: str | None = None, author_email: str | None = None) -> Message:
    ticket = service.get_by_key(session, key=ticket_key, actor=actor, lock=True)
    if author_type == SYSTEM:  # written by Tierline itself (only flows pass it; the API does not take it)
        kind, email, author_id = SYSTEM, None, None
    else:
        kind, email, author_id = author_of(actor, ticket, public=public, author_type=author_type,
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
