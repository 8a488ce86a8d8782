"""API shapes of the tickets domain: queues, tickets, messages and ticket forms."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from tierline.platform.pagination import MAX_CURSOR_LENGTH
from tierline.platform.schemas import Email, Id, UtcDateTime
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
# A ticket's custom fields are data about the ticket (an environment, a plan, an account id), shown to agents
# and customers, searched by triage: at most this many fields, nested at most this deep, this large as JSON.
MAX_CUSTOM_FIELDS = 100
MAX_CUSTOM_FIELD_DEPTH = 4
MAX_CUSTOM_FIELDS_BYTES = 16_384
MAX_AFFECTED_USERS = 1_000_000_000  # a head count; the column is a 32-bit integer
# A problem's key as a filter names it (problems.models.parse_key reads the same, case aside).
PROBLEM_KEY_PATTERN = r"^[Pp][Rr][Bb]-[1-9][0-9]{0,17}$"


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


def _depth(value: Any) -> int:
    """How deep a JSON value nests (a scalar: 0, a list of scalars: 1), found without recursion and without
    going more than one level past MAX_CUSTOM_FIELD_DEPTH."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            depth += 1
            deepest = max(deepest, depth)
            if depth > MAX_CUSTOM_FIELD_DEPTH:
                break
            stack.extend((child, depth) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def custom_fields_problem(value: dict[str, Any]) -> tuple[str, str] | None:
    """(field, reason) when a ticket's custom fields break a rule (names, count, depth, size); else None."""
    if len(value) > MAX_CUSTOM_FIELDS:
        return "custom_fields", f"may hold at most {MAX_CUSTOM_FIELDS} fields"
    for key, item in value.items():
        if not isinstance(key, str) or not _CUSTOM_KEY.match(key):
            return "custom_fields", (f"custom field name {key!r} must be lower-case letters, digits and _ "
                                     "(starting with a letter, at most 64)")
        if _depth(item) > MAX_CUSTOM_FIELD_DEPTH:
            return f"custom_fields.{key}", f"nests more than {MAX_CUSTOM_FIELD_DEPTH} levels deep"
    size = len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())
    if size > MAX_CUSTOM_FIELDS_BYTES:
        return "custom_fields", f"is {size} bytes as JSON; at most {MAX_CUSTOM_FIELDS_BYTES} are kept"
    return None


def check_custom_fields(value: dict[str, Any]) -> dict[str, Any]:
    """The body validator: a ValueError naming the rule (and the custom field, when one is at fault)."""
    found = custom_fields_problem(value)
    if found is not None:
        field, reason = found
        raise ValueError(reason if field == "custom_fields" else f"{field.split('.', 1)[1]}: {reason}")
    return value


# -- queues ---------------------------------------------------------------------------------------------

class QueueCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    tier: Tier
    team_id: Id | None = None
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
    team_id: Id | None = None
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
    to_queue_id: Id | None = Field(default=None, description="the queue of `to_tier` to move to; default: "
                                   "chosen as intake routes (component, team, skills)")

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
    requester_email: Email | None = Field(
        default=None, description="required from staff; a customer's is their own address (422 if it differs)")
    customer_id: Id | None = Field(default=None, description="omitted: resolved from requester_email")
    type: TicketType = "question"
    priority: Priority = "P3"
    channel: Channel = "api"
    component_id: Id | None = None
    feature_area: str | None = Field(default=None, max_length=200)
    error_code: str | None = Field(default=None, max_length=100)
    tags: list[str] = Field(default_factory=list, max_length=MAX_TAGS)
    custom_fields: dict[str, Any] = Field(default_factory=dict, max_length=MAX_CUSTOM_FIELDS, description=(
        f"at most {MAX_CUSTOM_FIELDS} fields, nested at most {MAX_CUSTOM_FIELD_DEPTH} levels deep, "
        f"{MAX_CUSTOM_FIELDS_BYTES} bytes as JSON"))
    assignee_id: Id | None = Field(default=None, description="an assignee opens the ticket at once")
    team_id: Id | None = None
    tier: Tier | None = None
    queue_id: Id | None = None
    urgency: Urgency | None = None
    affected_users: int | None = Field(default=None, ge=0, le=MAX_AFFECTED_USERS)

    # A customer's request (set by flows/intake.new_ticket): what it says is a signal for triage (an error code,
    # "everyone is down"), never a value triage must keep.
    _signals_only: bool = PrivateAttr(default=False)


class TicketUpdate(_TicketFields, _Patch):
    """Any editable field; `custom_fields` is merged (a key set to null is removed), `tags` replaced."""

    nullable: ClassVar[frozenset[str]] = frozenset({
        "customer_id", "component_id", "feature_area", "error_code", "assignee_id", "team_id", "tier",
        "queue_id", "urgency", "affected_users",
    })

    subject: str | None = Field(default=None, min_length=1, max_length=500)
    description: str | None = Field(default=None, min_length=1, max_length=100_000)
    requester_email: Email | None = None
    customer_id: Id | None = None
    status: Status | None = None
    type: TicketType | None = None
    priority: Priority | None = None
    component_id: Id | None = None
    feature_area: str | None = Field(default=None, max_length=200)
    error_code: str | None = Field(default=None, max_length=100)
    tags: list[str] | None = Field(default=None, max_length=MAX_TAGS)
    custom_fields: dict[str, Any] | None = Field(default=None, max_length=MAX_CUSTOM_FIELDS, description=(
        "merged into the ticket's (a field set to null is removed); the result keeps the limits of create"))
    assignee_id: Id | None = None
    team_id: Id | None = None
    tier: Tier | None = None
    queue_id: Id | None = None
    urgency: Urgency | None = None
    affected_users: int | None = Field(default=None, ge=0, le=MAX_AFFECTED_USERS)


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
    triage: dict[str, Any] | None = Field(default=None, description="what intake triage did, step by step (lists "
                                          "leave it out, null, unless `include=triage`)")
    problem_key: str | None = Field(default=None, description="the problem the ticket is linked to (PRB-<n>)")
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
    customer_id: Id | None = None
    assignee_id: Id | None = None
    unassigned: bool | None = Field(default=None, description="true: only unassigned; false: only assigned")
    team_id: Id | None = None
    component_id: Id | None = Field(default=None, description="matches the component and its descendants")
    queue_id: Id | None = None
    tier: list[Tier] | None = None
    tag: str | None = Field(default=None, max_length=64)
    requester_email: str | None = Field(default=None, max_length=320)
    problem: str | None = Field(default=None, max_length=22, pattern=PROBLEM_KEY_PATTERN,
                                description="the tickets linked to this problem (its key, PRB-<n>)")
    q: str | None = Field(default=None, max_length=500,
                          description="full text: subject, description, messages")
    created_after: UtcDateTime | None = Field(default=None, description="inclusive")
    created_before: UtcDateTime | None = Field(default=None, description="exclusive")
    order_by: Literal["created_at", "updated_at", "sla_due"] = Field(
        default="created_at", description="created_at, updated_at: newest first; sla_due: next SLA target first")
    include: list[Literal["triage"]] | None = Field(
        default=None, description="triage: each item carries its triage record (lists leave it out)")
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, max_length=MAX_CURSOR_LENGTH,
                               description="the previous page's next_cursor, as it was given")


# -- messages -------------------------------------------------------------------------------------------

class MessageCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: str = Field(min_length=1, max_length=100_000)
    public: bool = Field(default=True, description="false: an internal note, never shown to customers")
    author_type: AuthorType | None = Field(
        default=None, description="default agent (customer when the caller is a customer)")
    author_email: Email | None = Field(
        default=None,
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
    author_type: Literal["agent", "customer", "system"] = Field(
        description="system: an automatic message (a problem's fix announcement, an incident update, an "
                    "auto-reply), shown as coming from the support team; it is never a response")
    author_email: str | None
    author_id: int | None
    author_name: str | None = Field(default=None, description="how the author is shown: \"Support team\" for "
                                                              "automatic messages")
    created_at: datetime

    @model_validator(mode="after")
    def _system_is_the_team(self) -> MessageRead:
        if self.author_type == "system":
            self.author_name = SUPPORT_TEAM_NAME
        return self


SUPPORT_TEAM_NAME = "Support team"
SUPPORT = "Support"


# -- what a customer sees -----------------------------------------------------------------------------------
# An allow-list, not a deny-list: a customer (a portal contact) gets these shapes on the same routes, and
# nothing else. No triage record, scores, sentiment, signature, team, queue, assignee, tags, ids or emails.

class CustomerTicketRead(BaseModel):
    """A ticket as its requester sees it."""

    model_config = ConfigDict(from_attributes=True, extra="forbid", title="CustomerTicketRead")

    key: str
    subject: str
    description: str
    status: Status
    priority: Priority
    type: TicketType
    channel: Channel
    created_at: datetime
    updated_at: datetime


class CustomerMessageRead(BaseModel):
    """A public message as the ticket's requester sees it: the author by display name only (a staff member as
    their name and "Support", or "Support" alone; never an email address or an id)."""

    model_config = ConfigDict(extra="forbid", title="CustomerMessageRead")

    ticket_key: str
    body: str
    author_type: Literal["agent", "customer", "system"]
    author_name: str
    created_at: datetime


def looks_like_email(name: str | None) -> bool:
    return not name or not name.strip() or "@" in name


def customer_author_name(author_type: str, name: str | None) -> str:
    """How a message's author is shown to a customer: never an email address."""
    if author_type == "system":
        return SUPPORT_TEAM_NAME
    if author_type == "agent":
        return SUPPORT if looks_like_email(name) else f"{name.strip()} ({SUPPORT})"
    return "Customer" if looks_like_email(name) else name.strip()


# -- ticket forms ---------------------------------------------------------------------------------------

class TicketFormPut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    required_fields: list[Annotated[str, Field(max_length=100)]] = Field(
        max_length=50, description="ticket field names, or custom_fields.<name>, needed before solved")
    description: str | None = Field(default=None, max_length=10_000)
    customer_editable_fields: list[Annotated[str, Field(max_length=100)]] | None = Field(
        default=None, max_length=50,
        description="what a customer may set on a ticket of this type (any other field is a staff input, 403); "
                    "omitted: unchanged (the default: subject, description, requester_email)")


class TicketFormRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    type: TicketType
    required_fields: list[str]
    customer_editable_fields: list[str]
    description: str
    is_default: bool = Field(description="true until an admin edits this type's form")
    created_at: datetime | None
    updated_at: datetime | None
