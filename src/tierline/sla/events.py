"""The history of SLA clocks (`sla_events`), and the notifications that warnings and breaches queue."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tierline.platform import clock, outbox
from tierline.platform.auth.actor import Actor
from tierline.sla.models import SlaClock, SlaEvent

# Kinds that someone must hear about; the notification issue turns these outbox rows into pages and emails.
NOTIFY = {"warning": "sla.warning", "breach": "sla.breached"}


def record(session: Session, actor: Actor, clk: SlaClock, kind: str, *, at: datetime,
           details: dict[str, Any] | None = None) -> SlaEvent:
    if clk.id is None:
        session.flush()  # a clock created in this change is inserted when its first event needs its id
    event = SlaEvent(ticket_id=clk.ticket_id, clock_id=clk.id, metric=clk.metric, kind=kind, cycle=clk.cycle,
                     at=at, details=details or {}, created_at=clock.now())
    session.add(event)
    topic = NOTIFY.get(kind)
    if topic is not None:
        outbox.publish(session, topic, {
            "ticket_id": clk.ticket_id, "key": f"T-{clk.ticket_id}", "metric": clk.metric, "at": at,
            "due_at": clk.due_at, "target_minutes": clk.target_minutes, "policy_id": clk.policy_id,
            "actor": actor.label,
        })
    return event
