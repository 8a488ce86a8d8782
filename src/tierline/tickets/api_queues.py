"""Routes: /api/v1/queues."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from tierline.flows import queue_views
from tierline.flows.queue_views import QueueView
from tierline.platform.auth.actor import Actor
from tierline.platform.deps import DB, require
from tierline.platform.pagination import Cursor, Limit, Page
from tierline.platform.schemas import Id
from tierline.tickets import queues
from tierline.tickets.schemas import QueueCreate, QueueUpdate, Tier

router = APIRouter(tags=["queues"])


class WaitingTicket(BaseModel):
    key: str
    subject: str
    priority: str
    status: str
    tier: str | None
    created_at: datetime
    waiting_reason: str | None


# The window of `stats.at_risk`, as GET /sla/at-risk takes it.
WithinMinutes = Annotated[float, Query(gt=0, le=525_600, allow_inf_nan=False,
                                       description="`stats.at_risk` counts targets due within this many minutes")]


@router.post("/queues", status_code=201, response_model=QueueView)
def create_queue(body: QueueCreate, db: DB, actor: Annotated[Actor, require("queues:write")]) -> QueueView:
    return queue_views.view(db, queues.create(db, actor=actor, **body.model_dump()))


@router.get("/queues", response_model=Page[QueueView])
def list_queues(
    db: DB,
    _: Annotated[Actor, require("queues:read")],
    tier: Tier | None = None,
    team_id: Id | None = None,
    name: Annotated[str | None, Query(max_length=200)] = None,
    within_minutes: WithinMinutes = queue_views.DEFAULT_WITHIN_MINUTES,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page:
    """Each queue with its statistics: depth, oldest, unassigned, breached, at risk (one statement a page)."""
    return queue_views.list_(db, tier=tier, team_id=team_id, name=name, within_minutes=within_minutes,
                             limit=limit, cursor=cursor)


@router.get("/queues/{queue_id}", response_model=QueueView)
def get_queue(queue_id: Id, db: DB, _: Annotated[Actor, require("queues:read")],
              within_minutes: WithinMinutes = queue_views.DEFAULT_WITHIN_MINUTES) -> QueueView:
    return queue_views.get(db, queue_id=queue_id, within_minutes=within_minutes)


@router.get("/queues/{queue_id}/waiting", response_model=Page[WaitingTicket])
def list_waiting(queue_id: Id, db: DB, _: Annotated[Actor, require("queues:read")], limit: Limit = 50,
                 cursor: Cursor = None) -> Page:
    """The queue's unsolved tickets that nobody owns, oldest first, with why nobody took them."""
    rows, next_cursor = queues.waiting(db, queue_id=queue_id, limit=limit, cursor=cursor)
    return Page[WaitingTicket](items=[WaitingTicket(key=t.key, subject=t.subject, priority=t.priority,
                                                    status=t.status, tier=t.tier, created_at=t.created_at,
                                                    waiting_reason=t.waiting_reason) for t in rows],
                               next_cursor=next_cursor)


@router.patch("/queues/{queue_id}", response_model=QueueView)
def update_queue(queue_id: Id, body: QueueUpdate, db: DB,
                 actor: Annotated[Actor, require("queues:write")]) -> QueueView:
    queue = queues.update(db, actor=actor, queue_id=queue_id, changes=body.model_dump(exclude_unset=True))
    return queue_views.view(db, queue)


@router.delete("/queues/{queue_id}", status_code=204)
def delete_queue(queue_id: Id, db: DB, actor: Annotated[Actor, require("queues:write")]) -> Response:
    queues.delete(db, actor=actor, queue_id=queue_id)
    return Response(status_code=204)
