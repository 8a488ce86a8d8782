"""Tickets: read, list, and the steps every change shares (status moves, tags, references, the flush).

Creating, updating and posting to a ticket are flows (flows/intake.py, flows/ticket_update.py,
flows/messages.py): they call triage and SLA, which read tickets through this module. Every change writes one
audit event for the ticket and is guarded by the ticket's version (optimistic locking).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, bindparam, delete, func, literal, select
from sqlalchemy.orm import Session, defer
from sqlalchemy.orm.exc import StaleDataError

from tierline.components import service as components_service
from tierline.customers import service as customers_service
from tierline.people import service as people_service
from tierline.platform import audit, clock, jobs, outbox, rbac
from tierline.platform.auth import service as auth_service
from tierline.platform.auth.actor import Actor
from tierline.platform.db import UTCDateTime, core_connection
from tierline.platform.errors import Conflict, Forbidden, Invalid, NotFound
from tierline.platform.pagination import SortKey, paginate
from tierline.tickets import forms, indexing, queues
from tierline.tickets import state_machine as sm
from tierline.tickets.models import Ticket, TicketTag, parse_key
from tierline.tickets.reads import (  # noqa: F401  (aggregate reads other domains use)
    NO_FIGURES,
    QueueFigures,
    any_under_sla_policy,
    created_between,
    finished_texts,
    join_created_between,
    open_work,
    queue_statistics,
    queue_statistics_query,
    signature_window_counts,
    signature_window_others,
    signature_window_reaches,
    signature_window_tickets,
    work_records,
)
from tierline.tickets.schemas import TicketQuery

AUTO_CLOSE_JOB = "tickets.auto_close"
# Bookkeeping left out of update events: the triage record restates, at length, changes the event already
# lists field by field (it is in the creation event in full).
NOT_AUDITED = ("updated_at", "version", "triage")
NEVER_DUE = datetime(9999, 12, 31, tzinfo=UTC)



def queue_info(session: Session, *, queue_id: int) -> queues.QueueInfo:
    """The queue as routing reads it, from the per-process copy (NotFound when it does not exist)."""
    return queues.info(session, queue_id=queue_id)


# -- reading --------------------------------------------------------------------------------------------

def _check_visible(actor: Actor | None, ticket: Ticket) -> None:
    # A customer learns nothing about other requesters' tickets, not even that they exist.
    if actor is not None and actor.is_customer_only and ticket.requester_email != actor.email.lower():
        raise NotFound(f"ticket {ticket.key} does not exist")


def get(session: Session, *, ticket_id: int, actor: Actor | None = None) -> Ticket:
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(f"ticket T-{ticket_id} does not exist")
    _check_visible(actor, ticket)
    return ticket


def get_by_key(session: Session, *, key: str, actor: Actor | None = None, lock: bool = False) -> Ticket:
    """`lock=True` takes the row lock (PostgreSQL) for changes that should queue up behind a concurrent
    writer instead of failing against it, such as two messages posted at once."""
    ticket_id = parse_key(key)
    if ticket_id is None:
        raise NotFound(f"{key!r} is not a ticket key (T-<number>)")
    ticket = get(session, ticket_id=ticket_id, actor=actor)
    if lock:
        session.refresh(ticket, with_for_update=True)
    return ticket


# Filters on what a customer does not see: a customer filtering by them would learn it (which of their tickets
# carry an internal tag, who works them, which queue holds them).
STAFF_FILTERS = ("customer_id", "assignee_id", "unassigned", "team_id", "component_id", "queue_id", "tier",
                 "tag", "problem")


def check_customer_query(actor: Actor, query: TicketQuery) -> None:
    """403 naming each filter on staff-only data a customer asked for, and `include`: what it adds (the triage
    record) is not on a customer's allow-list, and a 403 says so where silence would look like an empty
    record."""
    if not actor.is_customer_only:
        return
    refused = [name for name in STAFF_FILTERS if getattr(query, name) is not None]
    asked = ["include"] if query.include else []
    if refused or asked:
        what = ([f"filter tickets by {', '.join(refused)}"] if refused else []) + (
            ["include the triage record"] if asked else [])
        raise Forbidden(f"customers may not {' or '.join(what)}",
                        errors=[{"field": name, "message": "staff-only data"} for name in refused + asked])


def list_(session: Session, *, actor: Actor, query: TicketQuery,
          linked_ids: Select | None = None) -> tuple[list[Ticket], str | None]:
    """Newest first (by created_at or updated_at), keyset-paginated, with the filters a user expects.
    `linked_ids`, a SELECT of ticket ids from another domain's table (a problem's links), keeps only those
    tickets. The triage record, some kilobytes of JSON per ticket, is not even read unless
    `include=triage`: a list shows it only then."""
    check_customer_query(actor, query)
    stmt = select(Ticket)
    if not query.include or "triage" not in query.include:
        stmt = stmt.options(defer(Ticket.triage, raiseload=True))
    if linked_ids is not None:
        stmt = stmt.where(Ticket.id.in_(linked_ids))
    for name in ("status", "priority", "type"):
        values = getattr(query, name)
        if values:
            stmt = stmt.where(getattr(Ticket, name).in_(values))
    for name in ("customer_id", "assignee_id", "team_id", "queue_id"):
        value = getattr(query, name)
        if value is not None:
            stmt = stmt.where(getattr(Ticket, name) == value)
    if query.tier:
        stmt = stmt.where(Ticket.tier.in_(query.tier))
    if query.unassigned is not None:
        assigned = Ticket.assignee_id.is_not(None)
        stmt = stmt.where(~assigned if query.unassigned else assigned)
    if query.component_id is not None:
        stmt = stmt.where(Ticket.component_id.in_(_component_subtree(session, query.component_id)))
    if query.tag:
        tagged = select(TicketTag.ticket_id).where(TicketTag.tag == query.tag.strip().lower())
        stmt = stmt.where(Ticket.id.in_(tagged))
    if query.requester_email:
        stmt = stmt.where(Ticket.requester_email == query.requester_email.strip().lower())
    if query.created_after is not None:
        stmt = stmt.where(Ticket.created_at >= query.created_after)
    if query.created_before is not None:
        stmt = stmt.where(Ticket.created_at < query.created_before)
    if actor.is_customer_only:
        stmt = stmt.where(Ticket.requester_email == actor.email.lower())
    if query.q and query.q.strip():
        stmt = stmt.where(indexing.matches(session, query.q, include_notes=not actor.is_customer_only))
    if query.order_by == "sla_due":
        # Tickets with no running target sort last; the id keeps the order total.
        due = func.coalesce(Ticket.sla_due_at, literal(NEVER_DUE, UTCDateTime()))
        return paginate(session, stmt, keys=[SortKey(due), SortKey(Ticket.id)], limit=query.limit,
                        cursor=query.cursor, row_values=lambda t: [t.sla_due_at or NEVER_DUE, t.id])
    column = Ticket.updated_at if query.order_by == "updated_at" else Ticket.created_at
    keys = [SortKey(column, descending=True), SortKey(Ticket.id, descending=True)]
    return paginate(session, stmt, keys=keys, limit=query.limit, cursor=query.cursor)


def many(session: Session, *, ticket_ids: Iterable[int]) -> dict[int, Ticket]:
    """Tickets by id, read in chunks (reports that start from another domain's rows)."""
    ids = sorted(set(ticket_ids))
    out: dict[int, Ticket] = {}
    for i in range(0, len(ids), 1000):
        out.update({t.id: t for t in session.scalars(select(Ticket).where(Ticket.id.in_(ids[i:i + 1000])))})
    return out


# Built once: composing it cost more than running it. Bounded: in an outage one customer's open tickets pile up
# by the thousand, and counting them all at every intake would make each intake slower than the one before.
_OPEN_COUNT = select(func.count()).select_from(
    select(Ticket.id).where(Ticket.customer_id == bindparam("customer_id"), Ticket.status.in_(sm.UNSOLVED))
    .limit(bindparam("at_most")).subquery())


def open_count(session: Session, *, customer_id: int, at_most: int = 10_000) -> int:
    """How many unsolved tickets the customer has, counted up to `at_most` (an impact factor)."""
    return core_connection(session).execute(_OPEN_COUNT, {"customer_id": customer_id,
                                                           "at_most": at_most}).scalar() or 0


def ids_of_team(team_id: int) -> Select:
    """A SELECT of the ids of a team's tickets, to filter another domain's rows by team."""
    return select(Ticket.id).where(Ticket.team_id == team_id)


def _component_subtree(session: Session, component_id: int) -> set[int]:
    try:
        return components_service.descendant_ids(session, component_id=component_id)
    except NotFound:
        return {component_id}


# -- validation shared with intake ----------------------------------------------------------------------

def check_customer_fields(session: Session, *, actor: Actor, changes: dict[str, Any], ticket_type: str) -> None:
    """A customer writes only what a requester writes: the fields the form of the ticket's type opens to
    customers (`customer_editable_fields`; a new ticket's type is `question` until triage says otherwise).
    Anything else is a staff input: 403 naming each field. A requester address other than their own is a 422."""
    if not actor.is_customer_only:
        return
    allowed = forms.customer_editable(session, ticket_type=ticket_type)
    refused: list[str] = []
    for name, value in changes.items():
        if name == "custom_fields" and isinstance(value, dict):
            refused += [f"custom_fields.{key}" for key in value if f"custom_fields.{key}" not in allowed]
        elif name not in allowed:
            refused.append(name)
    if refused:
        raise Forbidden(f"customers may not set {', '.join(refused)} (staff inputs: the {ticket_type} form lets "
                        f"customers set {', '.join(sorted(allowed)) or 'nothing'})",
                        errors=[{"field": name, "message": "a staff input; customers may not set it"}
                                for name in refused])
    email = changes.get("requester_email")
    if email is not None and email != actor.email.lower():
        raise Invalid("requester_email", "must be your own email address")


def _assignee_problem(session: Session, user_id: int) -> str | None:
    try:
        user = auth_service.get_user(session, user_id=user_id)
    except NotFound:
        return f"user {user_id} does not exist"
    if not user.active:
        return f"user {user_id} is deactivated"
    if rbac.is_customer_only(user.roles) or "tickets:write" not in rbac.permissions_for(user.roles):
        return f"user {user_id} is not an agent who works tickets"
    return None


def _lookup_problem(session: Session, field: str, value: int) -> str | None:
    lookups = {
        "customer_id": lambda: customers_service.get(session, customer_id=value),
        "component_id": lambda: components_service.get(session, component_id=value),
        "team_id": lambda: people_service.get_team(session, team_id=value),
        "queue_id": lambda: queues.get(session, queue_id=value),
    }
    if field == "assignee_id":
        return _assignee_problem(session, value)
    try:
        lookups[field]()
    except NotFound:
        return f"{field.removesuffix('_id')} {value} does not exist"
    return None


def check_references(session: Session, values: dict[str, Any]) -> None:
    """422 naming every foreign id in `values` that does not point at a usable row."""
    errors = []
    for field in ("customer_id", "component_id", "team_id", "queue_id", "assignee_id"):
        value = values.get(field)
        if value is not None:
            problem = _lookup_problem(session, field, value)
            if problem:
                errors.append((field, problem))
    if errors:
        raise Invalid(errors=errors)


def check_queue_team(session: Session, *, team_id: int | None, queue_id: int | None) -> None:
    """A ticket's team is its queue's: a caller naming a queue of one team and another team (or none) in the
    same request is refused, naming `team_id`, rather than left to disagree (routing makes the queue's team
    the ticket's whenever the queue is set). Run after `check_references`."""
    if queue_id is None:
        return
    queue = queue_info(session, queue_id=queue_id)
    if queue.team_id is not None and team_id != queue.team_id:
        other = f", or name a queue of team {team_id}" if team_id is not None else ""
        raise Invalid("team_id", f"queue {queue_id} ({queue.name}) belongs to team {queue.team_id}, and a ticket "
                                 f"in it belongs to that team: leave team_id out{other}")


def sync_tags(session: Session, ticket: Ticket) -> None:
    """Bring the ticket_tags lookup rows in line with `ticket.tags`."""
    current = set(session.scalars(select(TicketTag.tag).where(TicketTag.ticket_id == ticket.id)))
    wanted = set(ticket.tags)
    if current - wanted:
        session.execute(delete(TicketTag).where(TicketTag.ticket_id == ticket.id,
                                                TicketTag.tag.in_(current - wanted)))
    session.add_all(TicketTag(ticket_id=ticket.id, tag=tag) for tag in sorted(wanted - current))


def flush(session: Session, ticket: Ticket) -> None:
    """Write the ticket now, so a concurrent change surfaces as a 409 rather than at commit."""
    key = ticket.key  # read before the flush: a failed flush expires the object
    try:
        session.flush()
    except StaleDataError as exc:
        raise Conflict(f"ticket {key} was changed by someone else at the same time; re-read it and "
                       "retry") from exc


# -- status ---------------------------------------------------------------------------------------------

def move_status(session: Session, ticket: Ticket, target: str) -> None:
    """Set a new status (already checked) with its timestamps and its auto-close job."""
    if target == ticket.status:
        return
    was = ticket.status
    sm.apply(ticket, target)
    job_key = f"{AUTO_CLOSE_JOB}:{ticket.id}"
    if target == sm.SOLVED:
        jobs.enqueue(session, AUTO_CLOSE_JOB, {"ticket_id": ticket.id}, dedupe_key=job_key,
                     due_at=sm.reopen_deadline(ticket.solved_at))
    elif was == sm.SOLVED:
        jobs.cancel(session, job_key)
    outbox.publish(session, "ticket.status_changed",
                   {"ticket_id": ticket.id, "key": ticket.key, "from": was, "to": target})


# -- changing -------------------------------------------------------------------------------------------

def return_open_tickets_to_queue(session: Session, *, actor: Actor, user_id: int) -> int:
    """Unassign a user's unsolved tickets (they keep their queue); returns how many were returned."""
    tickets = session.scalars(
        select(Ticket).where(Ticket.assignee_id == user_id, Ticket.status.in_(sm.UNSOLVED))
        .order_by(Ticket.id).with_for_update()
    ).all()
    now = clock.now()
    for ticket in tickets:
        before = audit.snapshot(ticket)
        ticket.assignee_id = None
        ticket.updated_at = now
        audit.record_update(session, actor, ticket, before, action="tickets.return_to_queue")
        outbox.publish(session, "ticket.returned_to_queue",
                       {"ticket_id": ticket.id, "key": ticket.key, "queue_id": ticket.queue_id,
                        "team_id": ticket.team_id, "previous_assignee_id": user_id})
    if tickets:
        flush(session, tickets[0])
    return len(tickets)
