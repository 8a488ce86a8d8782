"""Recurrence: at intake, a ticket's signature is counted, and enough of them make (or feed) a problem.

In steps, so that intake computes first and writes short (docs/architecture.md):

1. `sight` (reads only, before the write transaction): the ticket's signature, its customer's ARR, and the
   signature's live (not closed) problem as it stands now.
2. `link`, when the signature has a live problem (inside the write, after the assignment claim and before the
   ticket row, whose triage record shows the problem): one INSERT of the link that locks nothing another intake
   waits for, and the problem's figures as of the link, in one round trip on PostgreSQL (links.py). The figures
   are not stored but read from the links (figures.py), so nothing on the problem's row moves; a ticket that
   came in after the problem was fixed reopens it as a regression, the one UPDATE of the row. None when the
   problem closed meanwhile.
3. `count`, otherwise (intake calls it from `flows.intake.settle`, after the ticket's commit and only when a
   count without a lock says the threshold is reached; a ticket recorded in one transaction calls it last, after
   its row): upsert the signature's row in
   `problem_signatures`, which takes its row lock until commit, then check whether the signature's unlinked
   tickets inside the window (this one included) reach N tickets from M customers. The check is a new statement
   after the lock, and every earlier holder of the lock had inserted its ticket before taking it, so two
   intakes at N-1 cannot both miss the threshold; it is bounded (tickets.reads.signature_window_reaches), so an
   outage of thousands of tickets from one customer costs the same as the first. At the threshold the problem
   is created, the window's tickets are linked, and the component's engineering owner team is told; a problem
   that appeared meanwhile is linked to instead.

`record_ticket` does it all at once in a session, for a ticket already saved (tests, and any later caller).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tierline.components import service as components_service
from tierline.customers import service as customers_service
from tierline.platform import audit, clock, outbox
from tierline.platform.auth.actor import Actor
from tierline.platform.db import core_connection
from tierline.platform.errors import NotFound
from tierline.problems import links
from tierline.problems.figures import Counts
from tierline.problems.models import CLOSED, OPEN, Problem, ProblemSignature, ProblemTicket
from tierline.settings import get_settings
from tierline.tickets import service as tickets_service
from tierline.tickets.signature import is_recurrence_signature, signature_for

ESCALATED_TO_ENGINEERING = "problem.escalated"  # the outbox topic (its published name)


@dataclass
class Sighting:
    """What intake knows of a ticket's signature before it writes (`sight`)."""

    signature: str
    customer_id: int | None
    arr_cents: int  # the ticket's customer's ARR in cents (0 when unknown)
    impact_score: int | None
    created_at: datetime
    component_id: int | None
    subject: str
    live_problem_id: int | None  # the signature's live problem when read; it may change before the write


@dataclass
class Recorded:
    """What `record` did: the triage record's `problem` entry (None while below the threshold), the audit
    events to append with the transaction's others, and the outbox messages to publish."""

    result: dict[str, Any] | None
    events: list[audit.PreparedEvent] = field(default_factory=list)
    messages: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


_LIVE_PROBLEM = (select(ProblemSignature.problem_id)
                 .join(Problem, Problem.id == ProblemSignature.problem_id)
                 .where(ProblemSignature.signature == bindparam("signature"), Problem.status != CLOSED))


def live_problem(session: Session, signature: str) -> int | None:
    """The id of the signature's live (not closed) problem, if it has one."""
    return core_connection(session).execute(_LIVE_PROBLEM, {"signature": signature}).scalar()


def sight(session: Session, *, ticket: Any, customer_arr: float | None) -> Sighting | None:
    """Read what `record` will need; None when the ticket has no recurrence signature."""
    signature = ticket.signature or signature_for(error_code=ticket.error_code, subject=ticket.subject,
                                                  description=ticket.description,
                                                  component_id=ticket.component_id)
    if not is_recurrence_signature(signature):
        return None
    live = live_problem(session, signature)
    return Sighting(signature=signature, customer_id=ticket.customer_id,
                    arr_cents=_cents(session, ticket.customer_id, customer_arr), impact_score=ticket.impact_score,
                    created_at=clock.as_utc(ticket.created_at), component_id=ticket.component_id,
                    subject=ticket.subject, live_problem_id=live)


def _cents(session: Session, customer_id: int | None, customer_arr: float | None) -> int:
    if customer_arr is not None:
        return round(customer_arr * 100)
    if customer_id is None:
        return 0
    try:
        return round(customers_service.profile(session, customer_id=customer_id).arr * 100)
    except NotFound:
        return 0


def record(session: Session, sighting: Sighting, *, actor: Actor, ticket_id: int) -> Recorded:
    """`link`, else `count`: for a ticket whose row is already written in this transaction."""
    if sighting.live_problem_id is not None:
        done = link(session, sighting, actor=actor, ticket_id=ticket_id)
        if done is not None:
            return done
    return count(session, sighting, actor=actor, ticket_id=ticket_id)


def link(session: Session, sighting: Sighting, *, actor: Actor, ticket_id: int) -> Recorded | None:
    """Link the ticket to the signature's live problem as sighted; None when it has closed since."""
    assert sighting.live_problem_id is not None
    return _link(core_connection(session), sighting, actor=actor, ticket_id=ticket_id,
                 problem_id=sighting.live_problem_id)


def count(session: Session, sighting: Sighting, *, actor: Actor, ticket_id: int) -> Recorded:
    """Count the signature under its row lock (the ticket's row written already) and create its problem at the
    threshold; link to a problem that appeared since the sighting."""
    connection = core_connection(session)
    problem_id = _lock_signature(connection, sighting.signature)
    if problem_id is not None:
        done = _link(connection, sighting, actor=actor, ticket_id=ticket_id, problem_id=problem_id)
        if done is not None:
            return done
    return _count_and_create(session, connection, sighting, actor=actor, ticket_id=ticket_id)


# -- feeding a live problem -------------------------------------------------------------------------------

_STATUS = ("status", "regression", "fixed_at")


def _link(connection: Connection, s: Sighting, *, actor: Actor, ticket_id: int,
          problem_id: int) -> Recorded | None:
    """Link the ticket to the problem (links.py: one INSERT, no lock another intake waits for); None when the
    problem is closed, or closed while the link waited for the close to commit."""
    now = clock.now()
    done = links.link(connection, problem_id=problem_id, ticket_id=ticket_id, customer_id=s.customer_id,
                      created_at=s.created_at, now=now)
    if done is None or done.refused:
        return None
    before = done.problem
    after = {**before, "status": OPEN, "regression": True, "fixed_at": None} if done.reopened else before
    problem = {**after, **links.as_of_link(done, customer_id=s.customer_id).as_dict()}
    if done.link_id is None:  # linked already (a ticket recorded again): nothing changes
        return Recorded(_result(problem, signature=s.signature, created=False, reopened=False, linked=False))
    out = Recorded(_result(problem, signature=s.signature, created=False, reopened=done.reopened, linked=True),
                   [_link_event(actor, done.link_id, problem_id, ticket_id, s.customer_id, now)])
    if done.reopened:
        # The only change a link makes to the problem's row: its figures are read from the links.
        out.events.append(audit.prepare(
            actor, "problems.regression", entity_type="problems", entity_id=problem_id,
            changes=audit.diff(audit.jsonable({k: before[k] for k in _STATUS}),
                               audit.jsonable({k: after[k] for k in _STATUS}))))
        problem["impact_score"] = links.highest_impact(connection, problem_id=problem_id, ticket_id=ticket_id,
                                                       impact_score=s.impact_score)
        out.messages.append(_escalation_to_engineering(problem, reason="regression"))
    return out


def _link_event(actor: Actor, link_id: int, problem_id: int, ticket_id: int, customer_id: int | None,
                created_at: datetime) -> audit.PreparedEvent:
    changes = {"id": [None, link_id], "problem_id": [None, problem_id], "ticket_id": [None, ticket_id],
               "created_at": [None, created_at]}
    if customer_id is not None:
        changes["customer_id"] = [None, customer_id]
    return audit.prepare(actor, "problems.link_ticket", entity_type="problem_tickets", entity_id=link_id,
                         changes=changes)


# -- the signature's lock, the count and a new problem -----------------------------------------------------

def _insert(connection: Connection, table: Any) -> Any:
    return (postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert)(table)


def _lock_signature(connection: Connection, signature: str) -> int | None:
    """Upsert the signature's row (taking its row lock until commit); returns its current problem id."""
    now = clock.now()
    stmt = _insert(connection, ProblemSignature).values(signature=signature, last_ticket_at=now, created_at=now,
                                                        updated_at=now)
    stmt = stmt.on_conflict_do_update(
        index_elements=[ProblemSignature.signature],
        set_={"last_ticket_at": stmt.excluded.last_ticket_at, "updated_at": stmt.excluded.updated_at},
    ).returning(ProblemSignature.problem_id)
    return connection.execute(stmt).scalar_one()


def window_start() -> datetime:
    return clock.now() - timedelta(days=get_settings().problem_window_days)


def _count_and_create(session: Session, connection: Connection, s: Sighting, *, actor: Actor,
                      ticket_id: int) -> Recorded:
    settings = get_settings()
    if not tickets_service.signature_window_reaches(
            session, signature=s.signature, since=window_start(), excluding=("problem_tickets", "ticket_id"),
            tickets=settings.problem_min_tickets, customers=settings.problem_min_customers):
        return Recorded(None)
    tickets = tickets_service.signature_window_tickets(
        session, signature=s.signature, since=window_start(), excluding_ids_in=ProblemTicket.ticket_id)
    return _create(session, connection, s, actor=actor, tickets=list(tickets))


def owner_team_for(session: Session, component_id: int | None) -> int | None:
    """The component's engineering owner team, else the nearest ancestor's."""
    if component_id is None:
        return None
    try:
        for cid in components_service.lineage(session, component_id=component_id):  # itself, then up
            owner_team_id = components_service.info(session, component_id=cid).owner_team_id
            if owner_team_id is not None:
                return owner_team_id
    except NotFound:
        return None
    return None


def _title(signature: str, subject: str) -> str:
    code = signature.split("|c:")[0]
    if code.startswith("fp:") or code.lower() in subject.lower():
        return subject[:500]
    return f"{code}: {subject}"[:500]


def _create(session: Session, connection: Connection, s: Sighting, *, actor: Actor, tickets: list[Any]) -> Recorded:
    now = clock.now()
    customers = sorted({t.customer_id for t in tickets if t.customer_id is not None})
    known = customers_service.many_profiles(session, customer_ids=customers)
    arr = {cid: round(known[cid].arr * 100) if cid in known else 0 for cid in customers}
    if s.customer_id is not None:
        arr[s.customer_id] = s.arr_cents
    impacts = [t.impact_score for t in tickets if t.impact_score is not None]
    values = dict(
        title=_title(s.signature, tickets[0].subject), signature=s.signature, component_id=s.component_id,
        owner_team_id=owner_team_for(session, s.component_id), status=OPEN, regression=False, fixed_at=None,
        closed_at=None, created_at=now, updated_at=now)
    problem_id = connection.execute(insert(Problem).values(**values).returning(Problem.id)).scalar_one()
    row = {"id": problem_id, **values}
    events = [audit.prepare(actor, "problems.create", entity_type="problems", entity_id=problem_id,
                            changes={k: [None, v] for k, v in row.items() if v is not None})]
    new_links = [{"problem_id": problem_id, "ticket_id": t.id, "customer_id": t.customer_id, "created_at": now}
              for t in tickets]
    link_ids = connection.execute(insert(ProblemTicket).returning(ProblemTicket.id, sort_by_parameter_order=True),
                                  new_links).scalars().all()
    events += [_link_event(actor, link_id, problem_id, link["ticket_id"], link["customer_id"], now)
               for link_id, link in zip(link_ids, new_links, strict=True)]
    connection.execute(update(ProblemSignature).where(ProblemSignature.signature == s.signature)
                       .values(problem_id=problem_id))
    # The figures as of its making, from the tickets in hand (the table has no columns for them).
    problem = {**row, **Counts(ticket_count=len(tickets), customer_count=len(customers),
                               arr_exposure_cents=sum(arr.values())).as_dict(),
               "impact_score": max(impacts) if impacts else None}
    return Recorded(_result(problem, signature=s.signature, created=True, reopened=False, linked=True), events,
                    [_escalation_to_engineering(problem, reason="threshold")])


def _escalation_to_engineering(problem: dict[str, Any], *, reason: str) -> tuple[str, dict[str, Any]]:
    """Tell the component's engineering owner team (delivered by notifications from the outbox)."""
    return ESCALATED_TO_ENGINEERING, {
        "problem_id": problem["id"], "key": f"PRB-{problem['id']}", "title": problem["title"],
        "team_id": problem["owner_team_id"], "component_id": problem["component_id"], "reason": reason,
        "regression": problem["regression"], "status": problem["status"],
        "ticket_count": problem["ticket_count"], "customer_count": problem["customer_count"],
        "arr_exposure": problem["arr_exposure_cents"] / 100, "impact_score": problem["impact_score"],
    }


def _result(problem: dict[str, Any], *, signature: str, created: bool, reopened: bool, linked: bool,
            dry_run: bool = False) -> dict[str, Any]:
    return {
        "problem_key": f"PRB-{problem['id']}", "problem_id": problem["id"], "created": created,
        "reopened": reopened, "linked": linked, "status": problem["status"], "regression": problem["regression"],
        "ticket_count": problem["ticket_count"], "customer_count": problem["customer_count"],
        "arr_exposure": problem["arr_exposure_cents"] / 100, "signature": signature, "dry_run": dry_run,
    }


# -- a saved ticket, in a session ------------------------------------------------------------------------

def record_ticket(session: Session, *, actor: Actor, ticket: Any, customer_arr: float | None,
                  dry_run: bool = False) -> dict[str, Any] | None:
    """Sight and record a ticket in one go (it must be saved: it is flushed), queuing the audit events and
    outbox messages in the session; with `dry_run`, what would happen, writing nothing (the ticket need not
    be saved). Returns the triage record's `problem` entry, or None below the threshold."""
    if dry_run:
        with session.no_autoflush:
            return _preview(session, ticket=ticket, customer_arr=customer_arr)
    sighting = sight(session, ticket=ticket, customer_arr=customer_arr)
    if sighting is None:
        return None
    if ticket.signature is None:
        ticket.signature = sighting.signature  # intake sets it; a ticket recorded without one is counted by it too
    session.flush()
    done = record(session, sighting, actor=actor, ticket_id=ticket.id)
    audit.queue(session, done.events)
    for topic, payload in done.messages:
        outbox.publish(session, topic, payload)
    return done.result


# -- dry run --------------------------------------------------------------------------------------------

def _preview(session: Session, *, ticket: Any, customer_arr: float | None) -> dict[str, Any] | None:
    """What record_ticket would do, read-only: the ticket may be unsaved (explain)."""
    sighting = sight(session, ticket=ticket, customer_arr=customer_arr)
    if sighting is None:
        return None
    signature = sighting.signature
    connection = core_connection(session)
    linked_to = None if ticket.id is None else connection.execute(
        select(ProblemTicket.problem_id).where(ProblemTicket.ticket_id == ticket.id)).scalar()
    problem_id = linked_to if linked_to is not None else sighting.live_problem_id
    found = None if problem_id is None else links.state(connection, problem_id=problem_id, ticket_id=ticket.id,
                                                          customer_id=ticket.customer_id)
    if found is not None and (linked_to is not None or found.problem["status"] != CLOSED):
        before, would_link = found.problem, linked_to is None
        reopens = would_link and links.reopens(before, created_at=sighting.created_at)
        after = {**before, "status": OPEN, "regression": True} if reopens else before
        counts = links.with_ticket(found, customer_id=ticket.customer_id)
        return _result({**after, **counts.as_dict()}, signature=signature, created=False, reopened=reopens,
                       linked=would_link, dry_run=True)
    others, customers = tickets_service.signature_window_others(
        session, signature=signature, since=window_start(), excluding_ids_in=ProblemTicket.ticket_id,
        other_than=ticket.id)
    count = 1 + others
    if ticket.customer_id is not None:
        customers.add(ticket.customer_id)
    settings = get_settings()
    if count < settings.problem_min_tickets or len(customers) < settings.problem_min_customers:
        return None
    known = customers_service.many_profiles(session, customer_ids=customers)
    arr = sum(round(known[c].arr * 100) if c in known else 0 for c in customers if c != ticket.customer_id)
    arr += sighting.arr_cents if ticket.customer_id is not None else 0
    return {
        "problem_key": None, "problem_id": None, "created": True, "reopened": False, "linked": True,
        "status": OPEN, "regression": False, "ticket_count": count, "customer_count": len(customers),
        "arr_exposure": arr / 100, "signature": signature, "dry_run": True,
    }
