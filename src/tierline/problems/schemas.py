"""API shapes of problems: the list's filters, the read shapes, and the PATCH body."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tierline.platform.pagination import MAX_CURSOR_LENGTH
from tierline.platform.schemas import Id, Patch

Status = Literal["open", "investigating", "known_error", "fixed", "closed"]
OrderBy = Literal["arr_exposure", "customer_count", "ticket_count", "last_seen"]


class ProblemQuery(BaseModel):
    """The filters of GET /api/v1/problems (repeat status to match any of several)."""

    model_config = ConfigDict(extra="forbid")

    status: list[Status] | None = None
    component_id: Id | None = Field(default=None, description="matches the component and its descendants")
    owner_team_id: Id | None = None
    regression: bool | None = Field(default=None, description="true: only problems reopened by a recurrence")
    order_by: OrderBy = Field(default="arr_exposure", description="largest first")
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, max_length=MAX_CURSOR_LENGTH,
                               description="the previous page's next_cursor, as it was given")


class ProblemUpdate(Patch):
    """PATCH: omitted fields keep their value; `owner_team_id` and `public_summary` may be set to null, `status`
    and `title` may not. `title` and `public_summary` are editable until the problem is closed, and may come in
    the same body as `status`: a summary sent with `status: fixed` counts."""

    nullable: ClassVar[frozenset[str]] = frozenset({"owner_team_id", "public_summary"})

    status: Status | None = Field(
        default=None, description="open -> investigating -> known_error -> fixed -> closed; fixed -> open. "
                                  "fixed needs a public_summary, stored or sent (409 otherwise)")
    owner_team_id: Id | None = Field(default=None, description="the team that owns the fix")
    title: str | None = Field(default=None, min_length=1, max_length=500,
                              description="the internal title (made from the first ticket's subject)")
    public_summary: str | None = Field(
        default=None, min_length=1, max_length=2000,
        description="what the affected customers read when the problem is fixed; written for them, so it must "
                    "name no customer's data")

    @field_validator("title", "public_summary")
    @classmethod
    def _not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be blank")
        return None if value is None else value.strip()


class AnnouncementRead(BaseModel):
    """What fixing the problem posts (or posted) on each unsolved linked ticket, from the support team."""

    problem_key: str
    status: Status
    ready: bool = Field(description="false while there is no public_summary: fixing would be refused")
    body: str | None = Field(description="the message, from the template and the public summary only")
    author_type: Literal["system"] = "system"
    unsolved_tickets: int = Field(description="how many linked tickets would be told now")


class ProblemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    key: str
    title: str
    public_summary: str | None = Field(default=None, description="what the affected customers read when it "
                                                                 "is fixed")
    signature: str
    component_id: int | None
    owner_team_id: int | None
    status: Status
    regression: bool = Field(description="reopened by a ticket that arrived after it was fixed")
    ticket_count: int
    customer_count: int
    arr_exposure: float = Field(description="the affected customers' ARR, each customer once")
    impact_score: int | None = Field(description="the highest impact score among its tickets")
    first_seen: datetime
    last_seen: datetime
    fixed_at: datetime | None
    closed_at: datetime | None
    created_at: datetime
    updated_at: datetime


class ProblemTicketRead(BaseModel):
    key: str
    subject: str
    status: str
    priority: str
    customer_id: int | None
    impact_score: int | None
    created_at: datetime
    linked_at: datetime


class ProblemCustomerRead(BaseModel):
    id: int
    name: str
    plan: str
    arr: float
    ticket_count: int = Field(description="how many of the problem's tickets are this customer's")


class ProblemDetail(ProblemRead):
    tickets: list[ProblemTicketRead] = Field(description="the linked tickets, newest first (at most 200)")
    tickets_truncated: bool = Field(description="true when the problem has more tickets than are listed")
    customers: list[ProblemCustomerRead] = Field(description="the affected customers, largest ARR first")
