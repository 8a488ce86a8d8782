from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query

from tierline.customers import service
from tierline.customers.schemas import (
    ContactCreate,
    ContactRead,
    ContactUpdate,
    CustomerCreate,
    CustomerRead,
    CustomerUpdate,
    Plan,
)
from tierline.platform.auth.actor import Actor
from tierline.platform.deps import DB, require
from tierline.platform.pagination import Cursor, Limit, Page
from tierline.platform.schemas import Id

router = APIRouter(prefix="/api/v1/customers", tags=["customers"])


@router.post("", status_code=201, response_model=CustomerRead)
def create_customer(body: CustomerCreate, db: DB,
                    actor: Annotated[Actor, require("customers:write")]) -> CustomerRead:
    return CustomerRead.model_validate(service.create(db, actor=actor, **body.model_dump()))


@router.get("", response_model=Page[CustomerRead])
def list_customers(
    db: DB,
    _: Annotated[Actor, require("customers:read")],
    plan: Plan | None = None,
    region: Annotated[str | None, Query(max_length=64)] = None,
    q: Annotated[str | None, Query(max_length=200, description="part of the name or external_id")] = None,
    min_arr: Annotated[Decimal | None, Query(ge=0, le=Decimal("999999999999.99"))] = None,
    email_domain: Annotated[str | None, Query(max_length=253)] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page:
    rows, next_cursor = service.list_(db, plan=plan, region=region, q=q, min_arr=min_arr,
                                      email_domain=email_domain, limit=limit, cursor=cursor)
    return Page[CustomerRead](items=[CustomerRead.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.get("/{customer_id}", response_model=CustomerRead)
def get_customer(customer_id: Id, db: DB, _: Annotated[Actor, require("customers:read")]) -> CustomerRead:
    return CustomerRead.model_validate(service.get(db, customer_id=customer_id))


@router.patch("/{customer_id}", response_model=CustomerRead)
def update_customer(customer_id: Id, body: CustomerUpdate, db: DB,
                    actor: Annotated[Actor, require("customers:write")]) -> CustomerRead:
    customer = service.update(db, actor=actor, customer_id=customer_id, **body.model_dump(exclude_unset=True))
    return CustomerRead.model_validate(customer)


@router.post("/{customer_id}/contacts", status_code=201, response_model=ContactRead)
def create_contact(customer_id: Id, body: ContactCreate, db: DB,
                   actor: Annotated[Actor, require("customers:write")]) -> ContactRead:
    contact = service.create_contact(db, actor=actor, customer_id=customer_id, **body.model_dump())
    return ContactRead.model_validate(contact)


@router.get("/{customer_id}/contacts", response_model=Page[ContactRead])
def list_contacts(
    customer_id: Id,
    db: DB,
    _: Annotated[Actor, require("customers:read")],
    q: Annotated[str | None, Query(max_length=200, description="part of the name or email")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page:
    rows, next_cursor = service.list_contacts(db, customer_id=customer_id, q=q, limit=limit, cursor=cursor)
    return Page[ContactRead](items=[ContactRead.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.patch("/{customer_id}/contacts/{contact_id}", response_model=ContactRead)
def update_contact(customer_id: Id, contact_id: Id, body: ContactUpdate, db: DB,
                   actor: Annotated[Actor, require("customers:write")]) -> ContactRead:
    changes = body.model_dump(exclude_unset=True)
    new_customer_id = changes.pop("customer_id", None)
    contact = service.update_contact(db, actor=actor, customer_id=customer_id, contact_id=contact_id,
                                     new_customer_id=new_customer_id, **changes)
    return ContactRead.model_validate(contact)


@router.get("/{customer_id}/contacts/{contact_id}", response_model=ContactRead)
def get_contact(customer_id: Id, contact_id: Id, db: DB,
                _: Annotated[Actor, require("customers:read")]) -> ContactRead:
    return ContactRead.model_validate(service.get_contact(db, customer_id=customer_id, contact_id=contact_id))
