"""Routes: POST /api/v1/tickets/{key}/escalate and /de-escalate (moving a ticket between tiers)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response

from tierline.flows import escalation, ticket_views
from tierline.flows.ticket_views import TicketDetail
from tierline.platform.auth.actor import Actor
from tierline.platform.deps import DB, require
from tierline.tickets.schemas import TierChange

router = APIRouter(tags=["tickets"])


def _answer(db: DB, ticket, response: Response) -> TicketDetail:  # noqa: ANN001
    out = TicketDetail.model_validate(ticket_views.detail(db, ticket))
    response.headers["ETag"] = f'"{out.version}"'
    return out


@router.post("/tickets/{key}/escalate", response_model=TicketDetail)
def escalate_ticket(key: str, body: TierChange, response: Response, db: DB,
                    actor: Annotated[Actor, require("tickets:write")]) -> TicketDetail:
    """Move the ticket to a higher tier's queue and assign it again there (409 with `allowed` otherwise)."""
    ticket = escalation.escalate(db, actor=actor, key=key, to_tier=body.to_tier, reason=body.reason,
                                to_queue_id=body.to_queue_id)
    return _answer(db, ticket, response)


@router.post("/tickets/{key}/de-escalate", response_model=TicketDetail)
def de_escalate_ticket(key: str, body: TierChange, response: Response, db: DB,
                       actor: Annotated[Actor, require("tickets:write")]) -> TicketDetail:
    """Move the ticket to a lower tier's queue and assign it again there (409 with `allowed` otherwise)."""
    ticket = escalation.de_escalate(db, actor=actor, key=key, to_tier=body.to_tier, reason=body.reason,
                                   to_queue_id=body.to_queue_id)
    return _answer(db, ticket, response)
