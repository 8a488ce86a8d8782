from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from tierline.platform.schemas import Email, Id, Patch

Plan = Literal["free", "pro", "business", "enterprise"]
# Money: at most two decimal places, below a trillion; stored as integer cents.
_ARR = {"ge": 0, "le": Decimal("999999999999.99"), "max_digits": 14, "decimal_places": 2}


class CustomerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    external_id: str = Field(min_length=1, max_length=100, description="the customer's id in the CRM; unique")
    plan: Plan = "free"
    arr: Decimal = Field(default=Decimal(0), **_ARR, description="annual recurring revenue")
    region: str | None = Field(default=None, max_length=64)
    timezone: str = Field(default="UTC", max_length=64, description="an IANA time zone")
    licensed_users: int = Field(default=0, ge=0, le=10_000_000)
    email_domains: list[str] = Field(default_factory=list, max_length=100,
                                     description="requesters from these domains belong to this customer")


class CustomerUpdate(Patch):
    model_config = ConfigDict(extra="forbid")
    nullable: ClassVar[frozenset[str]] = frozenset({"region"})

    name: str | None = Field(default=None, min_length=1, max_length=200)
    external_id: str | None = Field(default=None, min_length=1, max_length=100)
    plan: Plan | None = None
    arr: Decimal | None = Field(default=None, **_ARR)
    region: str | None = Field(default=None, max_length=64)
    timezone: str | None = Field(default=None, max_length=64)
    licensed_users: int | None = Field(default=None, ge=0, le=10_000_000)
    email_domains: list[str] | None = Field(default=None, max_length=100, description="replaces the list")


class CustomerRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    external_id: str
    plan: Plan
    arr: float
    region: str | None
    timezone: str
    licensed_users: int
    email_domains: list[str]
    created_at: datetime
    updated_at: datetime


class ContactCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    name: str = Field(default="", max_length=200, description="defaults to the email's local part")


class ContactUpdate(Patch):
    model_config = ConfigDict(extra="forbid")

    email: Email | None = None
    name: str | None = Field(default=None, min_length=1, max_length=200)
    customer_id: Id | None = Field(default=None, description="move the contact to another customer")


class ContactRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    customer_id: int
    email: str
    name: str
    created_at: datetime
    updated_at: datetime
