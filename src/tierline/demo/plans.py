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


@dataclass
class Event:
    """One step of a ticket's life: `create`, `update` (status, assignee, queue) or `message`."""

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

    def events_of(self, index: int) -> list[Event]:
        return [e for e in self.events if e.ticket == index]
