"""A ticket as its detail shows it: its own fields beside its SLA policy and targets (two domains, one view)."""

from __future__ import annotations

from typing import Any

from pydantic import Field
from sqlalchemy.orm import Session

from tierline.sla import service as sla_service
from tierline.sla.schemas import ClockRead, PolicyRef
from tierline.tickets.models import Ticket
from tierline.tickets.schemas import TicketRead


class TicketDetail(TicketRead):
    """One ticket with its SLA policy and targets (lists carry only sla_due_at)."""

    sla_policy: PolicyRef | None = None
    sla: list[ClockRead] = Field(default_factory=list)


def detail(session: Session, ticket: Ticket) -> dict[str, Any]:
    """The ticket as GET /tickets/{key} shows it: its fields with its SLA policy and targets."""
    policy, targets = sla_service.ticket_sla(session, ticket=ticket)
    return {**TicketRead.model_validate(ticket).model_dump(), "sla_policy": policy, "sla": targets}
