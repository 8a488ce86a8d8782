"""Pages: the customer's portal. Their own tickets, a ticket with its public replies, a reply box, and the
new-ticket form.

What a customer sees is the API's allow-list and nothing else: these pages are given only the shapes a
customer reads from the API (`CustomerTicketRead`, `CustomerMessageRead`, built by the same functions), so no
internal note, triage record, assignee, tag or SLA can reach their templates. Staff who open a portal page
are sent to their workspace.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from tierline.flows import intake, ticket_views
from tierline.flows import messages as message_flow
from tierline.platform.deps import DB, ReadDB
from tierline.platform.errors import Invalid
from tierline.tickets import messages, service
from tierline.tickets.schemas import CustomerTicketRead, TicketCreate, TicketQuery
from tierline.web import present
from tierline.web.frame import PORTAL_HOME, Viewer, attempt, page, render

router = APIRouter(include_in_schema=False)
CUSTOMER = "customer"


@router.get(PORTAL_HOME)
def my_tickets(request: Request, db: DB, viewer: Annotated[Viewer, page("tickets:read", audience=CUSTOMER)],
               cursor: str | None = None) -> Response:
    query = TicketQuery.model_validate({"order_by": "updated_at", "limit": 50, "cursor": cursor or None})
    rows, next_cursor = service.list_(db, actor=viewer.actor, query=query)
    tickets = [CustomerTicketRead.model_validate(t) for t in rows]  # the allow-list, as the API answers them
    return render(request, "portal_list.html", viewer, tickets=[{
        "key": t.key, "subject": t.subject, "status": present.STATUS_LABELS.get(t.status, t.status),
        "updated": present.when(t.updated_at), "created": present.when(t.created_at)} for t in tickets],
        next_url=f"{PORTAL_HOME}?{urlencode({'cursor': next_cursor})}" if next_cursor else None)


def _ticket_page(request: Request, db: DB, viewer: Viewer, key: str, *, status: int = 200,
                 refusal: object = None, draft: str = "") -> Response:
    ticket = service.get_by_key(db, key=key, actor=viewer.actor)
    seen = ticket_views.view(db, viewer.actor, ticket)  # the allow-list: CustomerTicketRead
    rows, _ = messages.list_(db, actor=viewer.actor, ticket_key=key, limit=200)
    conversation = [{"author": m.author_name, "from_us": m.author_type == "customer", "body": m.body,
                     "at": present.when(m.created_at)} for m in messages.as_customer_sees(db, rows)]
    return render(request, "portal_ticket.html", viewer, status=status, ticket={
        "key": seen.key, "subject": seen.subject, "description": seen.description,
        "status": present.STATUS_LABELS.get(seen.status, seen.status), "closed": seen.status == "closed",
        "created": present.when(seen.created_at), "updated": present.when(seen.updated_at)},
        conversation=conversation, refusal=refusal, draft=draft)


@router.get("/portal/tickets/{key}")
def my_ticket(request: Request, key: str, db: DB,
              viewer: Annotated[Viewer, page("tickets:read", audience=CUSTOMER)]) -> Response:
    return _ticket_page(request, db, viewer, key)


@router.post("/portal/tickets/{key}/reply")
def reply(request: Request, key: str, db: DB,
          viewer: Annotated[Viewer, page("tickets:write", audience=CUSTOMER)],
          body: Annotated[str, Form(max_length=100_000)] = "") -> Response:
    """A public customer message; a reply to a closed ticket lands on its new follow-up ticket."""
    def post() -> str:
        if not body.strip():
            raise Invalid("body", "write something first")
        return message_flow.create(db, actor=viewer.actor, ticket_key=key, body=body).ticket_key

    landed, refusal = attempt(db, post)
    if refusal is not None:
        return _ticket_page(request, db, viewer, key, status=refusal.status, refusal=refusal, draft=body)
    return RedirectResponse(f"/portal/tickets/{landed}", status_code=303)


@router.get("/portal/new")
def new_ticket_page(request: Request, viewer: Annotated[Viewer, page("tickets:write", audience=CUSTOMER)]
                    ) -> Response:
    return render(request, "portal_new.html", viewer, values={}, refusal=None)


@router.post("/portal/new")
def create_ticket(request: Request, db: DB, reads: ReadDB,
                  viewer: Annotated[Viewer, page("tickets:write", audience=CUSTOMER)],
                  subject: Annotated[str, Form(max_length=500)] = "",
                  description: Annotated[str, Form(max_length=100_000)] = "") -> Response:
    """The API's intake, as for a customer's POST /api/v1/tickets with a session (channel web)."""
    values = {"subject": subject, "description": description}

    def plan() -> intake.Intake:
        return intake.plan(reads, actor=viewer.actor, data=TicketCreate.model_validate(values))

    planned, refusal = attempt(reads, plan)
    if refusal is not None:
        return render(request, "portal_new.html", viewer, status=refusal.status, values=values, refusal=refusal)
    reads.close()
    written = intake.write(db, planned)
    db.commit()
    if intake.settle(reads, db, written):
        db.commit()
    return RedirectResponse(f"/portal/tickets/{intake.detail(written)['key']}", status_code=303)
