"""What a breached SLA clock's policy asks of its ticket: a priority bump, an escalation to the next tier."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tierline.flows import escalation, ticket_update
from tierline.platform.errors import Conflict
from tierline.sla import timers as sla_timers
from tierline.sla.timers import SLA_ACTOR, OnBreach
from tierline.tickets import service as tickets_service

PRIORITY_UP = {"P4": "P3", "P3": "P2", "P2": "P1"}
TIER_UP = {"L1": "L2", "L2": "L3"}


def apply(session: Session, on_breach: OnBreach) -> None:
    """One breach moves its ticket one tier at most, and SLA never moves a ticket past the tier it already
    escalated it to: a burst of breaches (first response, periodic update, resolution at once) is one
    escalation, not L1 -> L2 -> L3. Ticket types the policy excludes (feature requests by default) are not
    escalated; the routing and the internal note are the escalation flow's."""
    if not on_breach.asks_anything:
        return
    ticket = tickets_service.get(session, ticket_id=on_breach.ticket_id)
    if on_breach.bump_priority and ticket.priority in PRIORITY_UP:
        ticket_update.update(session, actor=SLA_ACTOR, ticket=ticket,
                             changes={"priority": PRIORITY_UP[ticket.priority]})
    if not on_breach.escalate_tier or ticket.type in on_breach.escalate_exclude_types:
        return
    tier = escalation.current_tier(session, ticket)
    if tier not in TIER_UP or tier in sla_timers.escalated_to(session, ticket_id=ticket.id):
        return
    to_tier = TIER_UP[tier]
    try:  # the next tier's queue takes it (routed as intake routes), and assignment runs there
        ticket = escalation.escalate(session, actor=SLA_ACTOR, key=ticket.key, to_tier=to_tier,
                                     reason=on_breach.reason)
        queue_id = ticket.queue_id
    except Conflict:
        # No queue serves the next tier: record the tier so people can still see the escalation.
        ticket_update.update(session, actor=SLA_ACTOR, ticket=ticket, changes={"tier": to_tier})
        queue_id = None
    if on_breach.clock_id is not None:
        sla_timers.record_escalation(session, clock_id=on_breach.clock_id, to_tier=to_tier, queue_id=queue_id)
