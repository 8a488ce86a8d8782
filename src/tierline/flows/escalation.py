"""Escalation between tiers: a ticket moves up (escalate) or down (de-escalate) to another tier's queue.

The move is one step of its own, not a PATCH of `tier`: the ticket goes to the queue the caller names
(`to_queue_id`, of the new tier) or else to the one intake's routing picks (`triage.assignment.route_queue`:
a queue where someone can take it first, the component's support team's, then its team's), leaves its
assignee, and assignment runs again in the new queue; when nobody fits it waits there with `waiting_reason`
and shows in the queue's waiting list. One audit event (`tickets.escalate` / `tickets.de_escalate`, the reason
as its note), one internal note on the ticket that agents read (who moved it, where, why, who took it or why
nobody could) and one outbox message (`ticket.escalated` / `ticket.de_escalated`) record it. Only unsolved tickets change tier. A ticket without a
tier counts as L1, the first-touch tier.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy.orm import Session

from tierline.platform import audit, clock, outbox
from tierline.platform.auth import service as auth_service
from tierline.platform.auth.actor import Actor
from tierline.platform.errors import Conflict, Forbidden, Invalid, NotFound
from tierline.flows import messages
from tierline.sla import service as sla_service
from tierline.tickets import queues, service
from tierline.tickets import state_machine as sm
from tierline.tickets.messages import SYSTEM
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


def _check(session: Session, actor: Actor, ticket: Ticket, to_tier: str, direction: Direction,
           to_queue_id: int | None = None) -> int:
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
    if to_queue_id is not None:
        try:
            named = queues.get(session, queue_id=to_queue_id)
        except NotFound:
            raise Invalid("to_queue_id", f"queue {to_queue_id} does not exist") from None
        if named.tier != to_tier:
            raise Invalid("to_queue_id", f"queue {to_queue_id} ({named.name}) is an {named.tier} queue, not "
                                         f"{to_tier}")
        return named.id
    draft = Draft(**{name: getattr(ticket, name) for name in TICKET_FIELDS})
    queue_id = assignment.route_queue(session, tier=to_tier, draft=draft)
    if queue_id is None:
        with_queue = [tier for tier in allowed if assignment.default_queue(
            session, tier=tier, team_id=None, component_id=None) is not None]
        raise Conflict(f"there is no {to_tier} queue to {direction} ticket {ticket.key} to; create one first",
                       allowed=with_queue, current_tier=current)
    return queue_id


def change_tier(session: Session, *, actor: Actor, key: str, to_tier: str, reason: str,
                direction: Direction, to_queue_id: int | None = None) -> Ticket:
    ticket = service.get_by_key(session, key=key, actor=actor, lock=True)
    queue_id = _check(session, actor, ticket, to_tier, direction, to_queue_id)
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
    who = (f"assigned to {_name(session, chosen.user_id)}" if chosen.user_id is not None
           else f"waiting for someone to take it: {chosen.reason}")
    messages.create(session, actor=actor, ticket_key=ticket.key, public=False, author_type=SYSTEM,
                    body=f"{'Escalated' if direction == 'escalate' else 'De-escalated'} from {from_tier} to "
                         f"{to_tier} ({queue.name}) by {actor.label}: {reason}. {who[0].upper()}{who[1:]}.")
    outbox.publish(session, TOPICS[direction], {
        "ticket_id": ticket.id, "key": ticket.key, "from_tier": from_tier, "to_tier": to_tier,
        "queue_id": queue.id, "team_id": ticket.team_id, "previous_assignee_id": previous_assignee,
        "assignee_id": ticket.assignee_id,
        "assignment": {"strategy": chosen.strategy, "reason": chosen.reason},
        "reason": reason,
    })
    return ticket


def _name(session: Session, user_id: int) -> str:
    try:
        return auth_service.get_user(session, user_id=user_id).name
    except NotFound:
        return f"user {user_id}"


def escalate(session: Session, *, actor: Actor, key: str, to_tier: str, reason: str,
             to_queue_id: int | None = None) -> Ticket:
    return change_tier(session, actor=actor, key=key, to_tier=to_tier, reason=reason, direction="escalate",
                       to_queue_id=to_queue_id)


def de_escalate(session: Session, *, actor: Actor, key: str, to_tier: str, reason: str,
                to_queue_id: int | None = None) -> Ticket:
    return change_tier(session, actor=actor, key=key, to_tier=to_tier, reason=reason, direction="de-escalate",
                       to_queue_id=to_queue_id)
