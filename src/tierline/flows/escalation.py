"""Escalation between tiers: a ticket moves up (escalate) or down (de-escalate) to another tier's queue.

The move is one step of its own, not a PATCH of `tier`: the ticket goes to the new tier's default queue (the
component's support team's, else its team's, else any: `triage.assignment.default_queue`), leaves its
assignee, and assignment runs again in the new queue; when nobody fits it waits there with `waiting_reason`.
One audit event (`tickets.escalate` / `tickets.de_escalate`, the reason as its note) and one outbox message
(`ticket.escalated` / `ticket.de_escalated`) record it. Only unsolved tickets change tier. A ticket without a
tier counts as L1, the first-touch tier.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy.orm import Session

from tierline.platform import audit, clock, outbox
from tierline.platform.auth.actor import Actor
from tierline.platform.errors import Conflict, Forbidden
from tierline.sla import service as sla_service
from tierline.tickets import queues, service
from tierline.tickets import state_machine as sm
from tierline.tickets.models import TIERS, Ticket
from tierline.triage import assignment
from tierline.triage.types import TICKET_FIELDS, Draft

Direction = Literal["escalate", "de-escalate"]
ACTIONS = {"escalate": "tickets.escalate", "de-escalate": "tickets.de_escalate"}
TOPICS = {"escalate": "ticket.escalated", "de-escalate": "ticket.de_escalated"}
FIRST_TOUCH_TIER = "L1"


def allowed_tiers(current: str, direction: Direction) -> list[str]:
    """The tiers a ticket at `current` may move to in `direction` (tiers are ordered L1 < L2 < L3)."""
    if direction == "escalate":
        return [t for t in TIERS if t > current]
    return [t for t in TIERS if t < current]


def current_tier(session: Session, ticket: Ticket) -> str:
    if ticket.tier is not None:
        return ticket.tier
    if ticket.queue_id is not None:
        return queues.get(session, queue_id=ticket.queue_id).tier
    return FIRST_TOUCH_TIER


def _check(session: Session, actor: Actor, ticket: Ticket, to_tier: str, direction: Direction) -> int:
    """Refuse a move that cannot happen; return the new tier's queue."""
    if actor.is_customer_only:
        raise Forbidden("customers may not change a ticket's tier")
    if ticket.status not in sm.UNSOLVED:
        raise Conflict(f"ticket {ticket.key} is {ticket.status}; only unsolved tickets change tier "
                       "(reopen it first)", allowed=[])
    current = current_tier(session, ticket)
    allowed = allowed_tiers(current, direction)
    if to_tier not in allowed:
        way = "a higher" if direction == "escalate" else "a lower"
        raise Conflict(f"cannot {direction} ticket {ticket.key} from {current} to {to_tier}: {direction} "
                       f"moves to {way} tier", allowed=allowed, current_tier=current)
    queue_id = assignment.default_queue(session, tier=to_tier, team_id=ticket.team_id,
                                        component_id=ticket.component_id)
    if queue_id is None:
        with_queue = [tier for tier in allowed if assignment.default_queue(
            session, tier=tier, team_id=None, component_id=None) is not None]
        raise Conflict(f"there is no {to_tier} queue to {direction} ticket {ticket.key} to; create one first",
                       allowed=with_queue, current_tier=current)
    return queue_id


def change_tier(session: Session, *, actor: Actor, key: str, to_tier: str, reason: str,
                direction: Direction) -> Ticket:
    ticket = service.get_by_key(session, key=key, actor=actor, lock=True)
    queue_id = _check(session, actor, ticket, to_tier, direction)
    queue = queues.get(session, queue_id=queue_id)
    before = audit.snapshot(ticket)
    from_tier, previous_assignee = current_tier(session, ticket), ticket.assignee_id
    ticket.tier, ticket.queue_id, ticket.assignee_id = to_tier, queue.id, None
    if queue.team_id is not None:
        ticket.team_id = queue.team_id
    draft = Draft(**{name: getattr(ticket, name) for name in TICKET_FIELDS})
    chosen = assignment.choose(session, draft=draft, queue_id=queue.id)
    ticket.assignee_id = chosen.user_id
    ticket.waiting_reason = None if chosen.user_id is not None else chosen.reason
    status_before = ticket.status
    if chosen.user_id is not None and ticket.status == sm.NEW:
        service.move_status(session, ticket, sm.OPEN)  # the "ticket assigned" event
    ticket.updated_at = clock.now()
    changes = {k: v for k, v in audit.diff(before, audit.snapshot(ticket)).items()
               if k not in ("updated_at", "version")}
    audit.record(session, actor, ACTIONS[direction], ticket, changes=changes, note=reason)
    service.flush(session, ticket)
    if ticket.status != status_before:
        sla_service.on_ticket_changed(session, actor=actor, ticket=ticket)
    outbox.publish(session, TOPICS[direction], {
        "ticket_id": ticket.id, "key": ticket.key, "from_tier": from_tier, "to_tier": to_tier,
        "queue_id": queue.id, "team_id": ticket.team_id, "previous_assignee_id": previous_assignee,
        "assignee_id": ticket.assignee_id,
        "assignment": {"strategy": chosen.strategy, "reason": chosen.reason},
        "reason": reason,
    })
    return ticket


def escalate(session: Session, *, actor: Actor, key: str, to_tier: str, reason: str) -> Ticket:
    return change_tier(session, actor=actor, key=key, to_tier=to_tier, reason=reason, direction="escalate")


def de_escalate(session: Session, *, actor: Actor, key: str, to_tier: str, reason: str) -> Ticket:
    return change_tier(session, actor=actor, key=key, to_tier=to_tier, reason=reason, direction="de-escalate")
