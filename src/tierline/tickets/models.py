"""The tickets domain's tables: queues, tickets (with their tag index), messages and ticket forms."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, Float, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from tierline.platform.db import Base, BigId, JSONType, UTCDateTime

TIERS = ("L1", "L2", "L3")
STATUSES = ("new", "open", "pending_customer", "on_hold", "solved", "closed")
TYPES = ("question", "incident", "problem", "bug", "task", "feature_request")
PRIORITIES = ("P1", "P2", "P3", "P4")
CHANNELS = ("email", "web", "api", "chat", "phone", "alert")
URGENCIES = ("low", "medium", "high")
AUTHOR_TYPES = ("agent", "customer", "system")
ASSIGNMENT_STRATEGIES = ("round_robin", "least_loaded", "skills")

KEY_PREFIX = "T-"
_KEY = re.compile(r"^T-([1-9][0-9]{0,17})$", re.IGNORECASE)


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def ticket_fk(**options: str) -> ForeignKey:
    """A child row's reference to its ticket, checked at COMMIT (DEFERRABLE INITIALLY DEFERRED). Intake inserts
    a new ticket's children (tags, SLA clocks, problem links) before the ticket row itself, which waits on the
    assignment claim, so that the claim and the ticket are among the last statements before COMMIT
    (docs/architecture.md)."""
    return ForeignKey("tickets.id", deferrable=True, initially="DEFERRED", **options)


class Queue(Base):
    """Where unassigned work waits for a tier's agents (the Triage issue adds assignment strategies)."""

    __tablename__ = "queues"
    __table_args__ = (CheckConstraint(_one_of("tier", TIERS), name="tier"),
                      CheckConstraint(_one_of("assignment_strategy", ASSIGNMENT_STRATEGIES),
                                      name="assignment_strategy"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    tier: Mapped[str] = mapped_column(String(2), nullable=False)
    team_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("teams.id"), nullable=True, index=True)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # How triage picks an agent for new work here (triage/assignment.py), and the skills every ticket in the
    # queue needs (on top of its component's required_skills).
    assignment_strategy: Mapped[str] = mapped_column(String(20), nullable=False, default="round_robin",
                                                     server_default="round_robin")
    required_skills: Mapped[list[str]] = mapped_column(JSONType, nullable=False, default=list,
                                                       server_default="[]")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class QueueCursor(Base):
    """The round-robin position of a queue: the agent it assigned last. Made with the queue. An assignment
    claim (tickets/workloads.py) locks and moves it in one statement, so concurrent intakes into one queue take
    turns. It is bookkeeping, like a sequence, so moving it is not audited; the assignment it leads to is."""

    __tablename__ = "queue_cursors"

    queue_id: Mapped[int] = mapped_column(BigId, ForeignKey("queues.id", ondelete="CASCADE"),
                                          primary_key=True)
    last_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        CheckConstraint(_one_of("status", STATUSES), name="status"),
        CheckConstraint(_one_of("type", TYPES), name="type"),
        CheckConstraint(_one_of("priority", PRIORITIES), name="priority"),
        CheckConstraint(_one_of("channel", CHANNELS), name="channel"),
        CheckConstraint("tier IS NULL OR " + _one_of("tier", TIERS), name="tier"),
        CheckConstraint("urgency IS NULL OR " + _one_of("urgency", URGENCIES), name="urgency"),
        CheckConstraint("affected_users IS NULL OR affected_users >= 0", name="affected_users_non_negative"),
        # Lists are newest first by creation or last change; the id breaks ties and makes the keyset unique.
        Index("ix_tickets_created", "created_at", "id"),
        Index("ix_tickets_updated", "updated_at", "id"),
        Index("ix_tickets_status_created", "status", "created_at"),
        Index("ix_tickets_assignee_status", "assignee_id", "status"),
        # A customer's tickets, and its open ones counted from the index alone (impact, at every intake).
        Index("ix_tickets_customer_status", "customer_id", "status"),
        # Recurrence counts a signature's tickets and skips from one customer to the next along this index.
        Index("ix_tickets_signature_customer", "signature", "customer_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    subject: Mapped[str] = mapped_column(String(500), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    type: Mapped[str] = mapped_column(String(20), nullable=False)
    priority: Mapped[str] = mapped_column(String(2), nullable=False)
    channel: Mapped[str] = mapped_column(String(10), nullable=False)
    requester_email: Mapped[str] = mapped_column(String(320), nullable=False, index=True)
    customer_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("customers.id"), nullable=True)
    component_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("components.id"), nullable=True,
                                                     index=True)
    feature_area: Mapped[str | None] = mapped_column(String(200), nullable=True)
    error_code: Mapped[str | None] = mapped_column(String(100), nullable=True, index=True)
    tags: Mapped[list[str]] = mapped_column(JSONType, nullable=False, default=list)
    custom_fields: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    assignee_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"), nullable=True)
    team_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("teams.id"), nullable=True, index=True)
    tier: Mapped[str | None] = mapped_column(String(2), nullable=True)
    queue_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("queues.id"), nullable=True, index=True)
    urgency: Mapped[str | None] = mapped_column(String(10), nullable=True)
    affected_users: Mapped[int | None] = mapped_column(Integer, nullable=True)
    follow_up_of_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("tickets.id"), nullable=True,
                                                        index=True)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    solved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Kept by triage: what the intake pipeline did (the explain shape), the impact score and its factors, the
    # customer's mood, the recurrence signature, and why the ticket waits unassigned when nobody fits.
    triage: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    impact_score: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    impact_explain: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType, nullable=True)
    sentiment: Mapped[float | None] = mapped_column(Float, nullable=True)
    frustrated: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false())
    signature: Mapped[str | None] = mapped_column(String(200), nullable=True)
    waiting_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # Kept by the SLA domain: the policy that applies and the earliest instant a running target falls due.
    sla_policy_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("sla_policies.id"), nullable=True)
    sla_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    # Optimistic locking: every UPDATE says "WHERE version = <the version I read>" and bumps it.
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}

    @property
    def key(self) -> str:
        return f"{KEY_PREFIX}{self.id}"

    @property
    def follow_up_of_key(self) -> str | None:
        return None if self.follow_up_of_id is None else f"{KEY_PREFIX}{self.follow_up_of_id}"


def parse_key(key: str) -> int | None:
    """`T-42` -> 42; anything else -> None."""
    match = _KEY.match(key.strip())
    return int(match.group(1)) if match else None


class TicketTag(Base):
    """A lookup index of `tickets.tags` (the column is the truth), so `?tag=` is an indexed join."""

    __tablename__ = "ticket_tags"
    __table_args__ = (Index("ix_ticket_tags_tag", "tag", "ticket_id"),)

    ticket_id: Mapped[int] = mapped_column(BigId, ticket_fk(ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(64), primary_key=True)


class Message(Base):
    """A public reply or an internal note on a ticket. Messages are never edited."""

    __tablename__ = "messages"
    __table_args__ = (
        CheckConstraint(_one_of("author_type", AUTHOR_TYPES), name="author_type"),
        Index("ix_messages_ticket", "ticket_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(BigId, ForeignKey("tickets.id"), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    public: Mapped[bool] = mapped_column(Boolean, nullable=False)
    author_type: Mapped[str] = mapped_column(String(10), nullable=False)
    author_email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    author_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    @property
    def ticket_key(self) -> str:
        return f"{KEY_PREFIX}{self.ticket_id}"


class TicketForm(Base):
    """The fields a ticket of one type needs before it may be solved (no row: the default form)."""

    __tablename__ = "ticket_forms"
    __table_args__ = (CheckConstraint(_one_of("type", TYPES), name="type"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    type: Mapped[str] = mapped_column(String(20), nullable=False, unique=True)
    required_fields: Mapped[list[str]] = mapped_column(JSONType, nullable=False, default=list)
    # What a customer may set on a ticket of this type; None: the default (tickets/forms.py).
    customer_editable_fields: Mapped[list[str] | None] = mapped_column(JSONType, nullable=True)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
