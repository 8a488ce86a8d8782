"""API shapes of the tickets domain: queues, tickets, messages and ticket forms."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, EmailStr, Field, field_validator

from tierline.platform.schemas import Patch as _Patch

Tier = Literal["L1", "L2", "L3"]
Status = Literal["new", "open", "pending_customer", "on_hold", "solved", "closed"]
TicketType = Literal["question", "incident", "problem", "bug", "task", "feature_request"]
Priority = Literal["P1", "P2", "P3", "P4"]
Channel = Literal["email", "web", "api", "chat", "phone", "alert"]
Urgency = Literal["low", "medium", "high"]
AuthorType = Literal["agent", "customer"]
AssignmentStrategy = Literal["round_robin", "least_loaded", "skills"]

MAX_TAGS = 50
_TAG = re.compile(r"^[^\s,]{1,64}$")
_CUSTOM_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def normalise_tags(tags: list[str]) -> list[str]:
    """Lower-case, stripped, de-duplicated in first-seen order; no spaces or commas inside a tag."""
    out: list[str] = []
    for i, raw in enumerate(tags):
        tag = raw.strip().lower()
        if not _TAG.match(tag):
            raise ValueError(f"tag {i} ({raw!r}) must be 1 to 64 characters without spaces or commas")
        if tag not in out:
            out.append(tag)
    return out


def check_custom_fields(value: dict[str, Any]) -> dict[str, Any]:
    for key in value:
        if not _CUSTOM_KEY.match(key):
            raise ValueError(f"custom field name {key!r} must be lower-case letters, digits and _ "
                             "(starting with a letter, at most 64)")
    return value


# -- queues ---------------------------------------------------------------------------------------------

class QueueCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    tier: Tier
    team_id: int | None = None
    description: str = Field(default="", max_length=10_000)
    assignment_strategy: AssignmentStrategy = Field(
        default="round_robin",
        description="round_robin: take turns; least_loaded: fewest open tickets weighted by priority; "
                    "skills: most matching skills, then least loaded")
    required_skills: list[str] = Field(default_factory=list, max_length=50,
                                       description="every agent assigned from this queue needs all of these")


class QueueUpdate(_Patch):
    nullable: ClassVar[frozenset[str]] = frozenset({"team_id"})

    name: str | None = Field(default=None, min_length=1, max_length=200)
    tier: Tier | None = None
    team_id: int | None = None
    description: str | None = Field(default=None, max_length=10_000)
    assignment_strategy: AssignmentStrategy | None = None
    required_skills: list[str] | None = Field(default=None, max_length=50)


class QueueRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    tier: Tier
    team_id: int | None
    description: str
    assignment_strategy: AssignmentStrategy
    required_skills: list[str]
    created_at: datetime
    updated_at: datetime


class TierChange(BaseModel):
    """The body of POST /tickets/{key}/escalate and /de-escalate."""

    model_config = ConfigDict(extra="forbid")

    to_tier: Tier
    reason: str = Field(min_length=1, max_length=2000)

    @field_validator("reason")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()


# -- tickets --------------------------------------------------------------------------------------------

class _TicketFields(BaseModel):
    """Validators shared by the create and update bodies."""

    @field_validator("tags", check_fields=False)
    @classmethod
    def _tags(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else normalise_tags(value)

    @field_validator("custom_fields", check_fields=False)
    @classmethod
    def _custom(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if value is None else check_custom_fields(value)

    @field_validator("subject", "description", check_fields=False)
    @classmethod
    def _not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be blank")
        return None if value is None else value.strip()

    @field_validator("requester_email", check_fields=False)
    @classmethod
    def _lower(cls, value: str | None) -> str | None:
        return None if value is None else value.strip().lower()


class TicketCreate(_TicketFields):
    model_config = ConfigDict(extra="forbid")

    subject: str = Field(min_length=1, max_length=500)
    description: str = Field(min_length=1, max_length=100_000)
    requester_email: EmailStr = Field(max_length=320)
    customer_id: int | None = Field(default=None, description="omitted: resolved from requester_email")
    type: TicketType = "question"
    priority: Priority = "P3"
    channel: Channel = "api"
    component_id: int | None = None
    feature_area: str | None = Field(default=None, max_length=200)
    error_code: str | None = Field(default=None, max_length=100)
    tags: list[str] = Field(default_factory=list, max_length=MAX_TAGS)
    custom_fields: dict[str, Any] = Field(default_factory=dict, max_length=100)
    assignee_id: int | None = Field(default=None, description="an assignee opens the ticket at once")
    team_id: int | None = None
    tier: Tier | None = None
    queue_id: int | None = None
    urgency: Urgency | None = None
    affected_users: int | None = Field(default=None, ge=0)


class TicketUpdate(_TicketFields, _Patch):
    """Any editable field; `custom_fields` is merged (a key set to null is removed), `tags` replaced."""

    nullable: ClassVar[frozenset[str]] = frozenset({
        "customer_id", "component_id", "feature_area", "error_code", "assignee_id", "team_id", "tier",
        "queue_id", "urgency", "affected_users",
    })

    subject: str | None = Field(default=None, min_length=1, max_length=500)
    description: str | None = Field(default=None, min_length=1, max_length=100_000)
    requester_email: EmailStr | None = Field(default=None, max_length=320)
    customer_id: int | None = None
    status: Status | None = None
    type: TicketType | None = None
    priority: Priority | None = None
    component_id: int | None = None
    feature_area: str | None = Field(default=None, max_length=200)
    error_code: str | None = Field(default=None, max_length=100)
    tags: list[str] | None = Field(default=None, max_length=MAX_TAGS)
    custom_fields: dict[str, Any] | None = Field(default=None, max_length=100)
    assignee_id: int | None = None
    team_id: int | None = None
    tier: Tier | None = None
    queue_id: int | None = None
    urgency: Urgency | None = None
    affected_users: int | None = Field(default=None, ge=0)


class TicketRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    key: str
    subject: str
    description: str
    status: Status
    type: TicketType
    priority: Priority
    channel: Channel
    requester_email: str
    customer_id: int | None
    component_id: int | None
    feature_area: str | None
    error_code: str | None
    tags: list[str]
    custom_fields: dict[str, Any]
    assignee_id: int | None
    team_id: int | None
    tier: Tier | None
    queue_id: int | None
    urgency: Urgency | None
    affected_users: int | None
    follow_up_of_id: int | None
    follow_up_of_key: str | None
    first_response_at: datetime | None
    solved_at: datetime | None
    closed_at: datetime | None
    impact_score: int | None = None
    impact_explain: list[dict[str, Any]] | None = None
    sentiment: float | None = None
    frustrated: bool = False
    signature: str | None = None
    waiting_reason: str | None = Field(default=None, description="why the ticket waits unassigned in its queue")
    triage: dict[str, Any] | None = Field(default=None, description="what intake triage did, step by step")
    sla_policy_id: int | None = None
    sla_due_at: datetime | None = Field(default=None, description="when the next running SLA target falls due")
    created_at: datetime
    updated_at: datetime
    version: int


class TicketQuery(BaseModel):
    """The filters of GET /api/v1/tickets (repeat status, priority or type to match any of several)."""

    model_config = ConfigDict(extra="forbid")

    status: list[Status] | None = None
    priority: list[Priority] | None = None
    type: list[TicketType] | None = None
    customer_id: int | None = None
    assignee_id: int | None = None
    unassigned: bool | None = Field(default=None, description="true: only unassigned; false: only assigned")
    team_id: int | None = None
    component_id: int | None = Field(default=None, description="matches the component and its descendants")
    queue_id: int | None = None
    tag: str | None = Field(default=None, max_length=64)
    requester_email: str | None = Field(default=None, max_length=320)
    q: str | None = Field(default=None, max_length=500,
                          description="full text: subject, description, messages")
    created_after: AwareDatetime | None = Field(default=None, description="inclusive")
    created_before: AwareDatetime | None = Field(default=None, description="exclusive")
    order_by: Literal["created_at", "updated_at", "sla_due"] = Field(
        default="created_at", description="created_at, updated_at: newest first; sla_due: next SLA target first")
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = None


# -- messages -------------------------------------------------------------------------------------------

class MessageCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: str = Field(min_length=1, max_length=100_000)
    public: bool = Field(default=True, description="false: an internal note, never shown to customers")
    author_type: AuthorType | None = Field(
        default=None, description="default agent (customer when the caller is a customer)")
    author_email: EmailStr | None = Field(
        default=None, max_length=320,
        description="for customer messages posted by an agent or an integration; default: the requester")

    @field_validator("body")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value

    @field_validator("author_email")
    @classmethod
    def _lower(cls, value: str | None) -> str | None:
        return None if value is None else value.strip().lower()


class MessageRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    ticket_id: int
    ticket_key: str = Field(description="a reply to a closed ticket lands on its new follow-up ticket")
    body: str
    public: bool
    author_type: AuthorType
    author_email: str | None
    author_id: int | None
    created_at: datetime


# -- ticket forms ---------------------------------------------------------------------------------------

class TicketFormPut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    required_fields: list[str] = Field(
        max_length=50, description="ticket field names, or custom_fields.<name>, needed before solved")
    description: str | None = Field(default=None, max_length=10_000)


class TicketFormRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    type: TicketType
    required_fields: list[str]
    description: str
    is_default: bool = Field(description="true until an admin edits this type's form")
    created_at: datetime | None
    updated_at: datetime | None
