"""What a breached SLA clock's policy asks of its ticket: a priority bump, an escalation to the next tier."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tierline.flows import escalation, ticket_update
from tierline.platform.errors import Conflict
from tierline.sla.timers import SLA_ACTOR, OnBreach
from tierline.tickets import service as tickets_service

PRIORITY_UP = {"P4": "P3", "P3": "P2", "P2": "P1"}
TIER_UP = {"L1": "L2", "L2": "L3"}


def apply(session: Session, on_breach: OnBreach) -> None:
    if not on_breach.asks_anything:
        return
    ticket = tickets_service.get(session, ticket_id=on_breach.ticket_id)
    if on_breach.bump_priority and ticket.priority in PRIORITY_UP:
        ticket_update.update(session, actor=SLA_ACTOR, ticket=ticket,
                             changes={"priority": PRIORITY_UP[ticket.priority]})
    tier = escalation.current_tier(session, ticket)
    if on_breach.escalate_tier and tier in TIER_UP:
        try:  # the next tier's queue takes it, and assignment runs there
            escalation.escalate(session, actor=SLA_ACTOR, key=ticket.key, to_tier=TIER_UP[tier],
                                reason=on_breach.reason)
        except Conflict:
            # No queue serves the next tier: record the tier so people can still see the escalation.
            ticket_update.update(session, actor=SLA_ACTOR, ticket=ticket, changes={"tier": TIER_UP[tier]})
