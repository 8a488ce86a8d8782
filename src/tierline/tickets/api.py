"""Routes: /api/v1/tickets and their messages; this router also carries queues and ticket forms."""

from __future__ import annotations

import json
import re
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import JSONResponse

from tierline.flows import intake, ticket_update, ticket_views
from tierline.flows import messages as message_flow
from tierline.flows.ticket_views import TicketPage, TicketView
from tierline.platform import idempotency
from tierline.platform.auth.actor import Actor
from tierline.platform.deps import DB, ReadDB, require
from tierline.platform.errors import Invalid
from tierline.platform.pagination import Cursor, Limit, Page
from tierline.platform.schemas import ONE_OF
from tierline.tickets import api_escalation, api_forms, api_queues, messages, service
from tierline.tickets.schemas import (
    CustomerMessageRead,
    MessageCreate,
    MessageRead,
    TicketCreate,
    TicketQuery,
    TicketUpdate,
)

router = APIRouter(prefix="/api/v1")
router.include_router(api_queues.router)
router.include_router(api_forms.router)
router.include_router(api_escalation.router)

# Staff read a message whole, a customer the allow-list (both published, as oneOf).
MessageView = Annotated[MessageRead | CustomerMessageRead, ONE_OF]


class MessagePage(Page[MessageView]):
    """A page of messages: staff read them whole, a customer the allow-list of the public ones."""


IdempotencyKey = Annotated[str | None, Header(
    alias=idempotency.HEADER, max_length=255, description="a retry with the same key replays the answer")]
_ETAG = re.compile(r'^(?:W/)?"?(\d{1,18})"?$')


def _etag(version: int) -> str:
    return f'"{version}"'


def _if_match(value: str | None) -> int | None:
    """The version an If-Match header names (`"3"`, `W/"3"` or `3`); `*` or no header: no check."""
    if value is None or value.strip() == "*":
        return None
    match = _ETAG.match(value.strip())
    if not match:
        raise Invalid("If-Match", 'must be the ETag of the ticket as GET returned it, like "3"')
    return int(match.group(1))


def _owner(actor: Actor) -> str:
    return str(actor.user_id) if actor.user_id is not None else actor.label


@router.post("/tickets", status_code=201, response_model=TicketView, tags=["tickets"])
def create_ticket(body: TicketCreate, request: Request, db: DB, reads: ReadDB,
                  actor: Annotated[Actor, require("tickets:write")],
                  idempotency_key: IdempotencyKey = None) -> JSONResponse:
    """Intake computes on a read session and writes short on the request's write session. The route owns the
    unit of work: it commits, then lets intake settle the ticket's signature (a count without a lock, and a
    second short write only when the signature reaches its problem's threshold), then renders the answer, so
    no lock waits on JSON. A keyed request stores its answer (as the caller may see it) with the key inside the
    write."""
    keyed = None
    if idempotency_key is not None:
        keyed = idempotency.Request(owner=_owner(actor), key=idempotency_key, method="POST",
                                    path=request.url.path, body=body.model_dump(mode="json", exclude_unset=True))
        replayed = idempotency.replay(reads, keyed)
        if replayed is not None:
            return _created(replayed, json.loads(replayed.body))
    planned = intake.plan(reads, actor=actor, data=body)
    reads.close()  # its connection goes back to the pool before the write takes one
    written = intake.write(db, planned)
    if keyed is not None:  # the answer as at the ticket's creation, stored with the key inside the write
        idempotency.store(db, keyed, status=201, payload=ticket_views.payload_for(actor, intake.detail(written)))
    db.commit()
    if intake.settle(reads, db, written):  # the signature reached its problem's threshold (rare)
        db.commit()
    payload = intake.detail(written)
    return _created(JSONResponse(ticket_views.payload_for(actor, payload), status_code=201), payload)


def _created(response: JSONResponse, created: dict) -> JSONResponse:
    """The answer to a create with the new ticket's ETag and Location (or the retried request's ticket's; a
    customer's stored answer carries no version, so its replay has no ETag)."""
    if "version" in created:
        response.headers["ETag"] = _etag(created["version"])
    response.headers["Location"] = f"/api/v1/tickets/{created['key']}"
    return response


@router.get("/tickets", response_model=TicketPage, tags=["tickets"])
def list_tickets(query: Annotated[TicketQuery, Query()], db: DB,
                 actor: Annotated[Actor, require("tickets:read")]) -> Page:
    return ticket_views.page(db, actor, query)


@router.get("/tickets/{key}", response_model=TicketView, tags=["tickets"])
def get_ticket(key: str, response: Response, db: DB,
               actor: Annotated[Actor, require("tickets:read")]) -> TicketView:
    ticket = service.get_by_key(db, key=key, actor=actor)
    response.headers["ETag"] = _etag(ticket.version)
    return ticket_views.view(db, actor, ticket)


@router.patch("/tickets/{key}", response_model=TicketView, tags=["tickets"])
def update_ticket(key: str, body: TicketUpdate, response: Response, db: DB,
                  actor: Annotated[Actor, require("tickets:write")],
                  if_match: Annotated[str | None, Header(alias="If-Match")] = None) -> TicketView:
    ticket = ticket_update.update_by_key(db, actor=actor, key=key, changes=body.model_dump(exclude_unset=True),
                                         if_match=_if_match(if_match))
    response.headers["ETag"] = _etag(ticket.version)
    return ticket_views.view(db, actor, ticket)


@router.post("/tickets/{key}/messages", status_code=201, response_model=MessageView, tags=["tickets"])
def create_message(key: str, body: MessageCreate, request: Request, db: DB,
                   actor: Annotated[Actor, require("tickets:write")],
                   idempotency_key: IdempotencyKey = None) -> JSONResponse:
    def produce() -> tuple[int, dict]:
        message = message_flow.create(db, actor=actor, ticket_key=key, **body.model_dump())
        if actor.is_customer_only:
            return 201, messages.as_customer_sees(db, [message])[0].model_dump(mode="json")
        return 201, MessageRead.model_validate(message).model_dump(mode="json")

    return idempotency.run(db, owner=_owner(actor), key=idempotency_key, method="POST", path=request.url.path,
                           body=body.model_dump(mode="json", exclude_unset=True), produce=produce)


@router.get("/tickets/{key}/messages", response_model=MessagePage, tags=["tickets"])
def list_messages(key: str, db: DB, actor: Annotated[Actor, require("tickets:read")],
                  public: Annotated[bool | None, Query(description="true: replies; false: notes")] = None,
                  limit: Limit = 50, cursor: Cursor = None) -> Page:
    rows, next_cursor = messages.list_(db, actor=actor, ticket_key=key, public=public, limit=limit,
                                       cursor=cursor)
    if actor.is_customer_only:
        return MessagePage(items=messages.as_customer_sees(db, rows), next_cursor=next_cursor)
    return MessagePage(items=[MessageRead.model_validate(r) for r in rows], next_cursor=next_cursor)
