"""A queue as a manager reads it: its settings beside what waits in it (tickets and SLA clocks, one view).

The statistics of a whole page of queues are one grouped statement (`tickets.service.queue_statistics`), the
SLA's part correlated into it by ticket id, so a list costs the same number of statements for one queue or two
hundred. They count what `GET /sla/at-risk` lists, so the two views agree: `breached` are the tickets with a
missed target still unfinished, `at_risk` the others with a running target due within the window.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import bindparam
from sqlalchemy.orm import Session

from tierline.platform import clock
from tierline.platform.db import UTCDateTime
from tierline.platform.pagination import Page
from tierline.sla import reports as sla_reports
from tierline.tickets import queues
from tierline.tickets import service as tickets_service
from tierline.tickets.models import Queue
from tierline.tickets.schemas import QueueRead

DEFAULT_WITHIN_MINUTES = 60.0  # the window of GET /sla/at-risk


class QueueStats(BaseModel):
    """What waits in a queue now: its unsolved tickets (new, open, pending_customer, on_hold)."""

    depth: int = Field(description="unsolved tickets in the queue")
    oldest_created_at: datetime | None = Field(description="when the oldest of them came in")
    oldest_age_minutes: float | None = Field(description="how long ago that was, in calendar minutes, "
                                                         "rounded to 0.1")
    unassigned: int = Field(description="of them, owned by nobody (the queue's waiting list)")
    breached: int = Field(description="of them, with a missed SLA target (as GET /sla/at-risk lists it)")
    at_risk: int = Field(description="of them, not breached, with a running SLA target due within "
                                     "`at_risk_within_minutes`")
    at_risk_within_minutes: float = Field(description="the window `at_risk` counts, as `within_minutes` asked")


class QueueView(QueueRead):
    """A queue with its statistics."""

    stats: QueueStats


# Built once: every queue answer runs it (the due instant is a parameter).
_STATISTICS = tickets_service.queue_statistics_query(
    breached_ids=sla_reports.breached_ticket_ids(),
    due_ids=sla_reports.due_ticket_ids(before=bindparam("due_before", type_=UTCDateTime())))


def statistics(session: Session, *, queue_ids: Sequence[int],
               within_minutes: float = DEFAULT_WITHIN_MINUTES) -> dict[int, QueueStats]:
    """queue id -> its statistics, for every one of `queue_ids` (an empty queue's are zero)."""
    now = clock.now()
    figures = tickets_service.queue_statistics(session, _STATISTICS, queue_ids=queue_ids,
                                               due_before=now + timedelta(minutes=within_minutes))
    out = {}
    for queue_id in queue_ids:
        f = figures.get(queue_id, tickets_service.NO_FIGURES)
        oldest = f.oldest_created_at
        age = None if oldest is None else round(max(0.0, (now - oldest).total_seconds() / 60.0), 1)
        out[queue_id] = QueueStats(depth=f.depth, oldest_created_at=oldest, oldest_age_minutes=age,
                                   unassigned=f.unassigned, breached=f.breached, at_risk=f.at_risk,
                                   at_risk_within_minutes=within_minutes)
    return out


def _views(session: Session, rows: Sequence[Queue], within_minutes: float) -> list[QueueView]:
    stats = statistics(session, queue_ids=[q.id for q in rows], within_minutes=within_minutes)
    return [QueueView.model_validate({**QueueRead.model_validate(q).model_dump(), "stats": stats[q.id]})
            for q in rows]


def view(session: Session, queue: Queue, *, within_minutes: float = DEFAULT_WITHIN_MINUTES) -> QueueView:
    """One queue with its statistics (the answer of every queue route)."""
    return _views(session, [queue], within_minutes)[0]


def get(session: Session, *, queue_id: int, within_minutes: float = DEFAULT_WITHIN_MINUTES) -> QueueView:
    return view(session, queues.get(session, queue_id=queue_id), within_minutes=within_minutes)


def list_(session: Session, *, within_minutes: float = DEFAULT_WITHIN_MINUTES, limit: int | None = None,
          cursor: str | None = None, **filters: Any) -> Page[QueueView]:
    """A page of `queues.list_` (its filters: tier, team_id, name), each queue with its statistics."""
    rows, next_cursor = queues.list_(session, limit=limit, cursor=cursor, **filters)
    return Page[QueueView](items=_views(session, rows, within_minutes), next_cursor=next_cursor)
