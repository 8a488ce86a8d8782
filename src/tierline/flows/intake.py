"""The intake flow: how a ticket comes into Tierline, in one function you can read top to bottom.

Later issues insert their steps into `create_ticket` in order (triage after the customer is known, then the
SLA clocks), so the whole path of a new ticket stays in this one place. `explain` runs the same steps
without saving anything.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tierline.components import service as components_service
from tierline.customers import service as customers_service
from tierline.platform import audit, clock, outbox
from tierline.platform.auth.actor import Actor
from tierline.platform.errors import Invalid
from tierline.problems import service as problems_service
from tierline.sla import service as sla_service
from tierline.tickets import indexing, service
from tierline.tickets import state_machine as sm
from tierline.tickets.models import Ticket
from tierline.tickets.schemas import TicketCreate
from tierline.triage import pipeline as triage_pipeline
from tierline.triage.types import Draft

# A follow-up ticket keeps what was known about the closed ticket unless the new one says otherwise.
FOLLOW_UP_INHERITS = ("customer_id", "type", "priority", "channel", "component_id", "feature_area", "tags",
                      "team_id", "tier", "queue_id", "urgency", "affected_users")


def create_ticket(session: Session, *, actor: Actor, data: TicketCreate,
                  follow_up_of: Ticket | None = None) -> Ticket:
    ticket = new_ticket(session, actor=actor, data=data, follow_up_of=follow_up_of)
    resolve_customer(session, actor=actor, ticket=ticket)
    _, draft = triage_pipeline.triage(session, actor=actor, ticket=ticket, trigger="create",
                                      caller_set=caller_fields(data, follow_up_of))
    if ticket.assignee_id is not None and ticket.status == sm.NEW:
        ticket.status = sm.OPEN  # triage found an owner: the ticket is open, as when a caller assigns it
    save(session, ticket)
    indexing.index_ticket(session, ticket, new=True)
    after_save(session, actor=actor, ticket=ticket, draft=draft)
    sla_service.start(session, actor=actor, ticket=ticket)
    audit.record_create(session, actor, ticket, action="tickets.create")
    outbox.publish(session, "ticket.created", {
        "ticket_id": ticket.id, "key": ticket.key, "status": ticket.status, "type": ticket.type,
        "priority": ticket.priority, "channel": ticket.channel, "customer_id": ticket.customer_id,
        "queue_id": ticket.queue_id, "assignee_id": ticket.assignee_id,
        "follow_up_of_id": ticket.follow_up_of_id,
    })
    return ticket


def caller_fields(data: TicketCreate, follow_up_of: Ticket | None) -> set[str]:
    """The fields triage must keep: those the caller sent, and those a follow-up inherits."""
    given = set(data.model_fields_set)
    return given | set(FOLLOW_UP_INHERITS) if follow_up_of is not None else given


def new_ticket(session: Session, *, actor: Actor, data: TicketCreate,
               follow_up_of: Ticket | None = None) -> Ticket:
    """Validate the request and build the (unsaved) ticket: status new, or open when it has an assignee."""
    given = data.model_fields_set
    service.check_customer_fields(actor, given - {"requester_email"})
    if actor.is_customer_only and data.requester_email != actor.email.lower():
        raise Invalid("requester_email", "must be your own email address")
    values = data.model_dump()
    if follow_up_of is not None:
        for field in FOLLOW_UP_INHERITS:
            if field not in given:
                values[field] = getattr(follow_up_of, field)
    service.check_references(session, values)
    now = clock.now()
    return Ticket(**values, status=sm.OPEN if values["assignee_id"] is not None else sm.NEW,
                  follow_up_of_id=follow_up_of.id if follow_up_of is not None else None,
                  created_at=now, updated_at=now)


def resolve_customer(session: Session, *, actor: Actor, ticket: Ticket) -> None:
    """Without a customer_id, the requester's email finds the customer (a known contact or email domain)."""
    if ticket.customer_id is not None:
        return
    ticket.customer_id = customers_service.resolve_requester_id(session, actor=actor, email=ticket.requester_email)


def save(session: Session, ticket: Ticket) -> None:
    session.add(ticket)
    session.flush()
    service.sync_tags(session, ticket)


def after_save(session: Session, *, actor: Actor, ticket: Ticket, draft: Draft) -> None:
    """The steps that need the saved ticket (new in this transaction): recurrence, escalation to engineering,
    rule notifications."""
    customer_arr = draft.customer.arr if draft.customer is not None else None
    problem = problems_service.record_ticket(session, actor=actor, ticket=ticket, customer_arr=customer_arr,
                                             new=True)
    if problem is not None and ticket.triage is not None:
        ticket.triage = {**ticket.triage, "problem": problem}
    if draft.escalate_to_engineering:
        owner = None
        if ticket.component_id is not None:
            owner = components_service.info(session, component_id=ticket.component_id).owner_team_id
        outbox.publish(session, "ticket.escalated_to_engineering", {
            "ticket_id": ticket.id, "key": ticket.key, "component_id": ticket.component_id,
            "owner_team_id": owner, "reason": draft.escalate_to_engineering})
    for note in draft.notify:
        outbox.publish(session, "triage.notify", {"ticket_id": ticket.id, "key": ticket.key, **note})


def explain(session: Session, *, actor: Actor, data: TicketCreate) -> dict[str, Any]:
    """What intake would do with this ticket body, without saving anything.

    It runs inside a savepoint that is always rolled back, so even a step that writes as a side effect
    (finding the requester's customer creates a contact) leaves no trace.
    """
    savepoint = session.begin_nested()
    try:
        ticket = new_ticket(session, actor=actor, data=data)
        resolve_customer(session, actor=actor, ticket=ticket)
        record, draft = triage_pipeline.triage(session, actor=actor, ticket=ticket, trigger="create",
                                               caller_set=set(data.model_fields_set), dry_run=True)
        policy = sla_service.select_policy(session, ticket)
        record["sla_policy"] = {"id": policy.id, "name": policy.name} if policy is not None else None
        record["problem"] = problems_service.record_ticket(
            session, actor=actor, ticket=ticket, customer_arr=draft.customer.arr if draft.customer else None,
            dry_run=True)
        return record
    finally:
        savepoint.rollback()
