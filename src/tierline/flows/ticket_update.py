"""Changing a ticket: a PATCH, and the auto-close when a solved ticket's reopen window has passed.

A real change re-runs triage (rules with the `update` trigger; sentiment and impact are recomputed), moves
the status through the state machine, writes one audit event, and moves the SLA clocks when a field they
depend on changed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tierline.platform import audit, clock, outbox
from tierline.platform.auth.actor import Actor
from tierline.platform.errors import Conflict, Invalid
from tierline.sla import service as sla_service
from tierline.tickets import forms, indexing
from tierline.tickets import state_machine as sm
from tierline.tickets.models import Ticket
from tierline.tickets.schemas import custom_fields_problem
from tierline.tickets.service import (
    NOT_AUDITED,
    check_customer_fields,
    check_queue_team,
    check_references,
    flush,
    get_by_key,
    move_status,
    sync_tags,
)
from tierline.triage import pipeline as triage_pipeline

AUTO_CLOSE_ACTOR = Actor.system("auto-close")
# Changes that can start, pause, complete or re-target SLA clocks (through the policy a ticket matches).
SLA_FIELDS = frozenset({"status", "priority", "type", "channel", "component_id", "tags", "customer_id"})
# PATCHable fields copied as given (status, tags and custom_fields have their own steps).
PLAIN_FIELDS = ("subject", "description", "requester_email", "customer_id", "type", "priority",
                "component_id", "feature_area", "error_code", "assignee_id", "team_id", "tier", "queue_id",
                "urgency", "affected_users")


def update(session: Session, *, actor: Actor, ticket: Ticket, changes: dict[str, Any],
           if_match: int | None = None) -> Ticket:
    """Apply a PATCH: `changes` holds only the fields the client sent."""
    if if_match is not None and if_match != ticket.version:
        raise Conflict(f"ticket {ticket.key} has changed since you read it (you have version {if_match}, "
                       f"it is at {ticket.version}); re-read it and retry", current_version=ticket.version)
    check_customer_fields(session, actor=actor, changes=changes, ticket_type=ticket.type)
    if ticket.status == sm.CLOSED and _would_change(ticket, changes):
        raise Conflict(f"ticket {ticket.key} is closed, and closed is final; a customer reply opens a "
                       "follow-up ticket", allowed=[])
    check_references(session, changes)
    if {"team_id", "queue_id"} <= changes.keys():
        check_queue_team(session, team_id=changes["team_id"], queue_id=changes["queue_id"])
    before = audit.snapshot(ticket)
    for field in PLAIN_FIELDS:
        if field in changes:
            setattr(ticket, field, changes[field])
    if "tags" in changes:
        ticket.tags = list(changes["tags"])
    if "custom_fields" in changes:
        merged = {**ticket.custom_fields, **changes["custom_fields"]}
        merged = {k: v for k, v in merged.items() if v is not None}
        problem = custom_fields_problem(merged)  # each half may keep the limits while the merge does not
        if problem is not None:
            raise Invalid(*problem)
        ticket.custom_fields = merged
    if audit.diff(before, audit.snapshot(ticket)):
        # Rules with the `update` trigger run on every real change, recomputing sentiment and impact.
        with session.no_autoflush:  # the ticket's changes go out in one UPDATE, with triage's
            triage_pipeline.triage(session, actor=actor, ticket=ticket, trigger="update", caller_set=set(changes))
    if ticket.assignee_id is not None:
        ticket.waiting_reason = None  # someone owns it now
    _change_status(session, ticket, changes, before)
    if not audit.record_update(session, actor, ticket, before, action="tickets.update", exclude=NOT_AUDITED):
        return ticket
    ticket.updated_at = clock.now()
    changed = sorted(set(audit.diff(before, audit.snapshot(ticket))) - {"updated_at", "version"})
    if "tags" in changed:
        sync_tags(session, ticket)
    if "subject" in changed or "description" in changed:
        indexing.index_ticket(session, ticket)
    flush(session, ticket)  # first, so a concurrent change is a 409 before anything else reads the ticket
    if SLA_FIELDS.intersection(changed):
        sla_service.on_ticket_changed(session, actor=actor, ticket=ticket)
    outbox.publish(session, "ticket.updated", {"ticket_id": ticket.id, "key": ticket.key, "fields": changed})
    return ticket


def _would_change(ticket: Ticket, changes: dict[str, Any]) -> bool:
    for field, value in changes.items():
        current = getattr(ticket, field)
        if field == "custom_fields":
            value = {k: v for k, v in {**current, **value}.items() if v is not None}
        if value != current:
            return True
    return False


def update_by_key(session: Session, *, actor: Actor, key: str, changes: dict[str, Any],
                  if_match: int | None = None) -> Ticket:
    ticket = get_by_key(session, key=key, actor=actor)
    return update(session, actor=actor, ticket=ticket, changes=changes, if_match=if_match)


def _change_status(session: Session, ticket: Ticket, changes: dict[str, Any], before: dict[str, Any]) -> None:
    target = changes.get("status")
    if target is not None:
        sm.check(ticket.status, target, solved_at=ticket.solved_at)
    elif ticket.status == sm.NEW and ticket.assignee_id is not None and before["assignee_id"] is None:
        target = sm.OPEN  # the "ticket assigned" event
    if target is None or target == ticket.status:
        return
    if target == sm.SOLVED:
        forms.check_solvable(session, ticket)
    move_status(session, ticket, target)


def auto_close(session: Session, *, ticket_id: int) -> bool:
    """The auto-close job: close the ticket if it is still solved once the reopen window has passed."""
    ticket = session.get(Ticket, ticket_id, with_for_update=True)
    if ticket is None or ticket.status != sm.SOLVED or ticket.solved_at is None:
        return False
    if clock.now() < sm.reopen_deadline(ticket.solved_at):
        return False
    before = audit.snapshot(ticket)
    move_status(session, ticket, sm.CLOSED)
    sla_service.on_ticket_changed(session, actor=AUTO_CLOSE_ACTOR, ticket=ticket)
    ticket.updated_at = clock.now()
    audit.record_update(session, AUTO_CLOSE_ACTOR, ticket, before, action="tickets.auto_close")
    flush(session, ticket)
    return True
