"""Tickets in the full-text index (tierline.platform.search).

Each ticket has one public document (subject; description and public replies) and, once it has internal
notes, a notes document. Agents search both; a customer searches only the public one, so a note's words
can never make a customer's ticket match.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from tierline.platform import search
from tierline.tickets.models import Message, Ticket

PUBLIC_DOC = "ticket"
NOTES_DOC = "ticket_notes"


def _bodies(session: Session, ticket_id: int, *, public: bool) -> list[str]:
    stmt = (select(Message.body).where(Message.ticket_id == ticket_id, Message.public.is_(public))
            .order_by(Message.id))
    return list(session.scalars(stmt))


def index_ticket(session: Session, ticket: Ticket, *, new: bool = False) -> None:
    """(Re)write the public document: after create (`new`: no replies to read yet), a subject or description
    change, a public reply."""
    replies = [] if new else _bodies(session, ticket.id, public=True)
    body = "\n\n".join([ticket.description, *replies])
    search.index_document(session, PUBLIC_DOC, ticket.id, ticket.subject, body)


def index_notes(session: Session, ticket: Ticket) -> None:
    """(Re)write the internal-notes document after a note is added."""
    search.index_document(session, NOTES_DOC, ticket.id, ticket.subject,
                          "\n\n".join(_bodies(session, ticket.id, public=False)))


def matches(session: Session, query: str, *, include_notes: bool) -> ColumnElement[bool]:
    """A WHERE clause on tickets for a full-text query."""
    clause = Ticket.id.in_(search.matching_ids(session, PUBLIC_DOC, query))
    if include_notes:
        clause = or_(clause, Ticket.id.in_(search.matching_ids(session, NOTES_DOC, query)))
    return clause
