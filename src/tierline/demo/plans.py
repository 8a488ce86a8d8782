"""The demo organisation as plain data: what the generator draws and the loader writes through the services."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class StaffPlan:
    email: str
    name: str
    roles: list[str]
    timezone: str
    skills: list[str]
    max_open_tickets: int
    teams: list[str]
    title: str


@dataclass
class ContactPlan:
    email: str
    name: str


@dataclass
class CustomerPlan:
    external_id: str
    name: str
    plan: str
    arr: int
    region: str
    timezone: str
    licensed_users: int
    email_domains: list[str]
    contacts: list[ContactPlan]
    activity: float  # relative ticket volume


@dataclass
class TicketPlan:
    index: int
    created_at: datetime
    subject: str
    description: str
    requester_email: str
    customer: str | None  # external_id; None: an unknown requester
    type: str
    priority: str
    channel: str
    component: str
    feature_area: str
    error_code: str | None
    tags: list[str]
    urgency: str
    affected_users: int | None
    queue: str
    root_cause: str | None
    # The component the ticket arrives with: None for a vague ticket, whose component (`component`) the agent
    # sets at first touch, with the error code the investigation names (`diagnosed_code`).
    component_at_intake: str | None = None
    diagnosed_code: str | None = None


@dataclass
class Event:
    """One step of a ticket's life: `create`, `update` (status, assignee, queue, component) or `message`; or of
    a person's (`ticket` is -1): `availability` (an agent out of the office from `at`)."""

    at: datetime
    ticket: int
    order: int
    kind: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class DemoPlan:
    seed: int
    now: datetime
    staff: list[StaffPlan]
    customers: list[CustomerPlan]
    tickets: list[TicketPlan]
    events: list[Event]  # every event before `now`, in time order
    absent: dict[str, datetime] = field(default_factory=dict)  # staff email -> out of the office since

    def events_of(self, index: int) -> list[Event]:
        return [e for e in self.events if e.ticket == index]
