"""Routes: /api/v1/ticket-forms (the fields each ticket type needs before it may be solved)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from tierline.platform.auth.actor import Actor
from tierline.platform.deps import DB, require
from tierline.platform.pagination import Page
from tierline.tickets import forms
from tierline.tickets.schemas import TicketFormPut, TicketFormRead

router = APIRouter(tags=["ticket forms"])


@router.get("/ticket-forms", response_model=Page[TicketFormRead])
def list_forms(db: DB, _: Annotated[Actor, require("forms:read")]) -> Page:
    return Page[TicketFormRead](items=[TicketFormRead.model_validate(f) for f in forms.list_(db)])


@router.get("/ticket-forms/{ticket_type}", response_model=TicketFormRead)
def get_form(ticket_type: str, db: DB, _: Annotated[Actor, require("forms:read")]) -> TicketFormRead:
    return TicketFormRead.model_validate(forms.get(db, ticket_type=ticket_type))


@router.put("/ticket-forms/{ticket_type}", response_model=TicketFormRead)
def put_form(ticket_type: str, body: TicketFormPut, db: DB,
             actor: Annotated[Actor, require("forms:write")]) -> TicketFormRead:
    view = forms.put(db, actor=actor, ticket_type=ticket_type, required_fields=body.required_fields,
                     description=body.description, customer_editable_fields=body.customer_editable_fields)
    return TicketFormRead.model_validate(view)
