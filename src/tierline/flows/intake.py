"""The intake flow: how a ticket comes into Tierline, read top to bottom. Compute first, write last and short.

`plan` computes everything that takes no lock, on any session (a read session for the API): the request's
validation, the requester's customer, triage (signals, classifier, sentiment, impact, rules, tier and queue,
the assignment candidates ranked), the SLA policy, targets and due instants, what recurrence will do, the
audit events canonicalised and hashed, and, on PostgreSQL, the ticket's id. `write` then issues the rows, one
INSERT each, children first (their foreign keys to the ticket are checked at COMMIT); the rows other intakes
also need come last, each in one statement: the assignment claim (queue cursor and the agent's capacity), the
link to the signature's live problem (an INSERT that locks nothing another intake waits for: the problem's
figures are read from its links, not moved), the ticket itself, the outbox, and the audit chain's head at
COMMIT. A signature
without a live problem is counted after the commit, without a lock (`settle`); only when it reaches the
threshold does a second short write create the problem and give the ticket its place in it. Nothing computed
in Python waits inside the lock of a row another intake needs: what the claim and the problem decide is
substituted into texts prepared before (microseconds).

`create_ticket` runs them all in one session (the CLI, the demo loader, a customer's reply to a closed ticket);
`explain` runs `plan`'s steps and writes nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.orm import Session

from tierline.components import service as components_service
from tierline.customers import service as customers_service
from tierline.customers.models import Contact
from tierline.customers.service import Requester
from tierline.flows.ticket_views import TicketDetail
from tierline.platform import audit, clock, ids, outbox, search
from tierline.platform.auth.actor import Actor
from tierline.platform.db import core_connection
from tierline.platform.errors import Invalid
from tierline.platform.insert_batch import Rows, insert_rows
from tierline.problems import recurrence
from tierline.problems import service as problems_service
from tierline.settings import get_settings
from tierline.sla import service as sla_service
from tierline.sla.models import SlaClock
from tierline.tickets import indexing, service, workloads
from tierline.tickets import state_machine as sm
from tierline.tickets.models import Ticket, TicketTag
from tierline.tickets.schemas import TicketCreate
from tierline.triage import assignment
from tierline.triage import pipeline as triage_pipeline
from tierline.triage.types import Draft

# A follow-up ticket keeps what was known about the closed ticket unless the new one says otherwise.
FOLLOW_UP_INHERITS = ("customer_id", "type", "priority", "channel", "component_id", "feature_area", "tags",
                      "team_id", "tier", "queue_id", "urgency", "affected_users")
# bench/intake.py sets TIMING to read how long each phase took (perf_counter durations, not the clock).
TIMING = False
PHASES: list[tuple[str, float]] = []

_TICKET_COLUMNS = tuple(c.key for c in Ticket.__table__.columns)
_CLOCK_AUDIT_EXCLUDED = ("segments",)


@dataclass(frozen=True)
class Outcome:
    """What the claim and recurrence decide inside the write: the ticket's event is prepared for the likely
    outcome and prepared again, inside the write, only if the real one differs."""

    assigned: bool
    problem: bool


@dataclass
class Intake:
    """A new ticket, computed and ready to write."""

    actor: Actor
    ticket: Ticket  # transient: every column but its id (and what the claim decides)
    draft: Draft
    requester: Requester
    sla: sla_service.StartPlan
    sighting: recurrence.Sighting | None
    ticket_id: int | None  # drawn before the write on PostgreSQL; inside it on SQLite
    expected: Outcome
    ticket_event: audit.PreparedEvent
    clock_events: list[audit.PreparedEvent]
    contact_event: audit.PreparedEvent | None
    engineering_owner: int | None = None  # the component's owning team, for an escalation to engineering


@dataclass
class Written:
    """A ticket as `write` left it: its columns, its problem entry, its SLA plan, and the signature `settle`
    still has to count (None: linked to a live problem, or no recurrence signature)."""

    ticket_id: int
    values: dict[str, Any]
    sla: sla_service.StartPlan
    actor: Actor
    problem: dict[str, Any] | None = None
    unsettled: recurrence.Sighting | None = None
    events: list[audit.PreparedEvent] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"T-{self.ticket_id}"


# -- the flow ----------------------------------------------------------------------------------------------

def create_ticket(session: Session, *, actor: Actor, data: TicketCreate,
                  follow_up_of: Ticket | None = None) -> Ticket:
    """Plan, write and settle in one session (the CLI, the demo loader, a reply to a closed ticket: callers
    already inside a transaction); the ticket as an ORM object for callers that go on working with it."""
    written = create_and_settle(session, actor=actor, data=data, follow_up_of=follow_up_of)
    return session.get(Ticket, written.ticket_id)


def plan(session: Session, *, actor: Actor, data: TicketCreate, follow_up_of: Ticket | None = None) -> Intake:
    """Everything about the new ticket that takes no lock. Reads only."""
    timer = _Timer()
    ticket = new_ticket(session, actor=actor, data=data, follow_up_of=follow_up_of)
    requester = Requester(ticket.customer_id)
    if ticket.customer_id is None:
        requester = customers_service.resolve_requester(session, email=ticket.requester_email)
        ticket.customer_id = requester.customer_id
    timer.lap("validate and resolve")
    record, draft = triage_pipeline.triage(session, actor=actor, ticket=ticket, trigger="create",
                                           caller_set=caller_fields(data, follow_up_of), assign="rank")
    if ticket.assignee_id is not None:
        ticket.status = sm.OPEN  # the caller or a rule named an owner: the ticket is open from the start
    timer.lap("triage")
    sla = sla_service.plan_start(session, ticket=ticket, at=ticket.created_at)
    ticket.sla_policy_id, ticket.sla_due_at = sla.policy_id, sla.due_at
    timer.lap("sla")
    customer_arr = draft.customer.arr if draft.customer is not None else None
    sighting = recurrence.sight(session, ticket=ticket, customer_arr=customer_arr)
    connection = core_connection(session)
    ticket_id = ids.next_id(connection, "tickets") if ids.drawn_before_write(connection) else None
    timer.lap("recurrence and id")
    ranking = draft.ranking
    expected = Outcome(assigned=ticket.assignee_id is not None or bool(ranking and ranking.candidates),
                       problem=sighting is not None and sighting.live_problem_id is not None)
    intake = Intake(
        actor=actor, ticket=ticket, draft=draft, requester=requester, sla=sla, sighting=sighting,
        ticket_id=ticket_id, expected=expected,
        engineering_owner=components_service.info(session, component_id=ticket.component_id).owner_team_id
        if draft.escalate_to_engineering and ticket.component_id is not None else None,
        ticket_event=_ticket_event(actor, ticket, record, expected, ranked=ranking is not None),
        clock_events=[_clock_event(actor, i, values) for i, values in enumerate(sla.clocks)],
        contact_event=None if requester.new_contact is None else audit.prepare(
            actor, "contacts.create_from_requester", entity_type="contacts",
            entity_id=audit.Hole("contact_id"),
            changes=customers_service.contact_changes(audit.Hole("contact_id"), requester.new_contact)))
    timer.lap("audit")
    return intake


def write(session: Session, intake: Intake) -> Written:
    """The short write: children first, the rows other intakes need last, the audit chain at COMMIT."""
    timer = _Timer()
    actor, ticket, connection = intake.actor, intake.ticket, core_connection(session)
    ticket_id = intake.ticket_id if intake.ticket_id is not None else ids.next_id(connection, "tickets")
    events = _write_children(connection, intake, ticket_id)
    timer.lap("write: children")
    # The rows other intakes need, last: the claim (the queue's turn), the link to the signature's live problem
    # (one INSERT and the problem's figures as of it, one statement on PostgreSQL; it takes no lock another
    # intake waits for, so a burst of one outage links side by side), the ticket and its messages; then, for a
    # signature without a live problem, its count under its own lock.
    candidate = _claim(connection, intake.draft)
    recorded = None
    if intake.sighting is not None and intake.sighting.live_problem_id is not None:
        recorded = recurrence.link(session, intake.sighting, actor=actor, ticket_id=ticket_id)
    record = _decide(ticket, candidate, recorded.result if recorded is not None else None)
    values = {name: getattr(ticket, name) for name in _TICKET_COLUMNS}
    values.update(id=ticket_id, version=1)
    messages = [*_messages(intake, values), *(recorded.messages if recorded is not None else ())]
    insert_rows(connection, [Rows(_TICKETS, [values]), Rows(_OUTBOX, outbox.new_rows(messages))])
    problem = recorded.result if recorded is not None else None
    events += recorded.events if recorded is not None else []
    events.append(_ticket_event_filled(intake, record, values, candidate, problem))
    audit.queue(session, events)
    timer.lap("write: claim, ticket, outbox")
    unsettled = intake.sighting if intake.sighting is not None and recorded is None else None
    return Written(ticket_id=ticket_id, values=values, sla=intake.sla, actor=actor, problem=problem,
                   unsettled=unsettled, events=events)


def settle(reads: Session, writes: Session, written: Written) -> bool:
    """After the ticket's commit: does its signature, which had no live problem, now reach the threshold?

    A bounded count on a read session, with no lock. Only when it does, or when a concurrent intake has created
    the signature's problem meanwhile (once per problem, give or take the tickets that arrive together), a
    second short write takes the signature's lock, counts again and creates the problem (or links to the one
    just created, which may have linked this ticket already), and gives the ticket's triage record the
    problem. Two intakes at N-1 both see N after their commits, so neither misses the threshold, and the
    problem's unique index makes one of them its creator. Returns whether that write happened; the caller
    commits it. Should the process stop in between, the signature's next ticket completes the work."""
    sighting = written.unsettled
    if sighting is None:
        return False
    settings = get_settings()
    # The count first: a problem a concurrent intake creates between the two reads links the counted tickets,
    # so the count then falls short, and the second read finds the problem.
    reached = service.signature_window_reaches(
        reads, signature=sighting.signature, since=recurrence.window_start(),
        excluding=("problem_tickets", "ticket_id"), tickets=settings.problem_min_tickets,
        customers=settings.problem_min_customers)
    if not reached and recurrence.live_problem(reads, sighting.signature) is None:
        return False
    recorded = recurrence.count(writes, sighting, actor=written.actor, ticket_id=written.ticket_id)
    if recorded.result is None:
        return False
    record = written.values["triage"] = {**written.values["triage"], "problem": recorded.result}
    connection = core_connection(writes)
    connection.execute(_SET_TRIAGE, {"ticket_id": written.ticket_id, "record": record})
    outbox.insert_many(connection, recorded.messages)
    audit.queue(writes, recorded.events)
    written.problem, written.unsettled = recorded.result, None
    return True


def create_and_settle(session: Session, *, actor: Actor, data: TicketCreate,
                      follow_up_of: Ticket | None = None) -> Written:
    """Plan, write and settle in one transaction (no commit between: the signature's lock is taken inside)."""
    written = write(session, plan(session, actor=actor, data=data, follow_up_of=follow_up_of))
    settle(session, session, written)
    return written


def _write_children(connection: Any, intake: Intake, ticket_id: int) -> list[audit.PreparedEvent]:
    """The rows that only this ticket needs: the requester's new contact, the tags, the search document, the
    SLA clocks (their ticket's row comes later; the foreign keys are checked at COMMIT)."""
    ticket, events = intake.ticket, []
    contact = intake.requester.new_contact
    tags = [{"ticket_id": ticket_id, "tag": tag} for tag in sorted(set(ticket.tags or ()))]
    clocks = [{**values, "ticket_id": ticket_id} for values in intake.sla.clocks]
    contact_ids, _, _, clock_ids = insert_rows(connection, [
        Rows(_CONTACTS, [contact] if contact is not None else [], returning=("id",), skip_existing=("email",)),
        Rows(_TAGS, tags),
        Rows(_SEARCH, [search.new_document(indexing.PUBLIC_DOC, ticket_id, ticket.subject, ticket.description)]),
        Rows(_CLOCKS, clocks, returning=("id",)),
    ])
    if contact_ids:  # else there was no new contact, or a concurrent intake made it first
        events.append(intake.contact_event.fill({"contact_id": contact_ids[0][0]}))
    if clock_ids:
        fill = {"ticket_id": ticket_id, **{f"clock_{i}": cid for i, (cid,) in enumerate(clock_ids)}}
        events += [event.fill(fill) for event in intake.clock_events]
    return events


def _decide(ticket: Ticket, candidate: dict[str, Any] | None,
            problem: dict[str, Any] | None) -> dict[str, Any]:
    """Put what the claim and the problem decided onto the ticket; returns its final triage record."""
    if candidate is not None:
        ticket.assignee_id = candidate["user_id"]
        ticket.waiting_reason = None if candidate["user_id"] is not None else candidate["reason"]
        if candidate["user_id"] is not None:
            ticket.status = sm.OPEN  # triage found an owner: the ticket is open, as when a caller assigns it
    record = dict(ticket.triage)
    if candidate is not None:
        record["assignee_candidate"] = candidate
    if problem is not None:
        record["problem"] = problem
    ticket.triage = record
    return record


def _ticket_event_filled(intake: Intake, record: dict[str, Any], values: dict[str, Any],
                         candidate: dict[str, Any] | None,
                         problem: dict[str, Any] | None) -> audit.PreparedEvent:
    """The ticket's `tickets.create`, its holes filled; prepared again (rare) when the claim or recurrence
    went another way than `plan` expected."""
    actual = Outcome(assigned=values["assignee_id"] is not None, problem=problem is not None)
    if actual != intake.expected:
        return _ticket_event(intake.actor, intake.ticket, record, None, ranked=False).fill(
            {"ticket_id": values["id"]})
    return intake.ticket_event.fill({"ticket_id": values["id"], "assignee_id": values["assignee_id"],
                                     "waiting_reason": values["waiting_reason"],
                                     "assignee_candidate": candidate, "problem": problem})


_TICKETS, _OUTBOX, _TAGS, _CLOCKS = (Ticket.__table__, outbox.OutboxMessage.__table__, TicketTag.__table__,
                                     SlaClock.__table__)
_CONTACTS, _SEARCH = Contact.__table__, search.SearchDocument.__table__
_SET_TRIAGE = update(Ticket.__table__).where(Ticket.__table__.c.id == bindparam("ticket_id")).values(
    triage=bindparam("record", type_=Ticket.__table__.c.triage.type))


def _claim(connection: Any, draft: Draft) -> dict[str, Any] | None:
    """The assignment triage ranked, claimed in one statement (None: the ticket was not for assignment)."""
    ranking = draft.ranking
    if ranking is None:
        return None
    user_id = None
    if ranking.candidates:
        user_id = workloads.claim(connection, queue_id=ranking.queue.id, strategy=ranking.strategy,
                                  candidates=ranking.claimants, now=clock.now())
    return assignment.claimed(ranking, user_id).as_dict()


def _messages(intake: Intake, values: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The outbox messages of a new ticket: created, escalated to engineering, rule notifications."""
    ticket_id, key, draft = values["id"], f"T-{values['id']}", intake.draft
    out = [("ticket.created", {
        "ticket_id": ticket_id, "key": key, "status": values["status"], "type": values["type"],
        "priority": values["priority"], "channel": values["channel"], "customer_id": values["customer_id"],
        "queue_id": values["queue_id"], "assignee_id": values["assignee_id"],
        "follow_up_of_id": values["follow_up_of_id"],
    })]
    if draft.escalate_to_engineering:
        out.append(("ticket.escalated_to_engineering", {
            "ticket_id": ticket_id, "key": key, "component_id": values["component_id"],
            "owner_team_id": intake.engineering_owner, "reason": draft.escalate_to_engineering}))
    out += [("triage.notify", {"ticket_id": ticket_id, "key": key, **note}) for note in draft.notify]
    return out


def detail(written: Written) -> dict[str, Any]:
    """The new ticket as GET /tickets/{key} shows it, built from what the write had in hand (nothing is read
    back): its columns, its problem's key, its SLA policy and targets."""
    sla = written.sla
    policy = {"id": sla.policy_id, "name": sla.policy_name} if sla.policy_id is not None else None
    values = written.values
    return TicketDetail.model_validate({
        **values, "key": f"T-{values['id']}",
        "follow_up_of_key": None if values["follow_up_of_id"] is None else f"T-{values['follow_up_of_id']}",
        "problem_key": written.problem["problem_key"] if written.problem else None,
        "sla_policy": policy, "sla": sla.targets(clock.now())}).model_dump(mode="json")


# -- the audit events, prepared before the write ---------------------------------------------------------

def _ticket_event(actor: Actor, ticket: Ticket, record: dict[str, Any], outcome: Outcome | None, *,
                  ranked: bool) -> audit.PreparedEvent:
    """`tickets.create` with every column that has a value, as `audit.record_create` records it; what the
    write decides is left as holes: the id, and (when `ranked`) the claim's assignee or waiting reason and
    candidate, and the problem entry when the expected `outcome` has one. With no `outcome`, the ticket and
    its record are final and only the id is a hole."""
    snapshot = audit.snapshot(ticket)
    snapshot["id"] = audit.Hole("ticket_id")
    snapshot["version"] = 1
    triage = dict(record)
    if ranked:
        triage["assignee_candidate"] = audit.Hole("assignee_candidate")
        if outcome is not None and outcome.assigned:
            snapshot["assignee_id"], snapshot["status"], snapshot["waiting_reason"] = (
                audit.Hole("assignee_id"), sm.OPEN, None)
        else:
            snapshot["assignee_id"], snapshot["waiting_reason"] = None, audit.Hole("waiting_reason")
    if outcome is not None and outcome.problem:
        triage["problem"] = audit.Hole("problem")
    snapshot["triage"] = triage
    return audit.prepare(actor, "tickets.create", entity_type="tickets", entity_id=audit.Hole("ticket_id"),
                         changes={k: [None, v] for k, v in snapshot.items() if v is not None})


def _clock_event(actor: Actor, index: int, values: dict[str, Any]) -> audit.PreparedEvent:
    hole = audit.Hole(f"clock_{index}")
    changes = {"id": [None, hole], "ticket_id": [None, audit.Hole("ticket_id")],
               **{k: [None, v] for k, v in values.items()
                  if v is not None and k not in _CLOCK_AUDIT_EXCLUDED}}
    return audit.prepare(actor, "sla_clocks.start", entity_type="sla_clocks", entity_id=hole, changes=changes)


# -- validation ------------------------------------------------------------------------------------------

def caller_fields(data: TicketCreate, follow_up_of: Ticket | None) -> set[str]:
    """The fields triage must keep: those the caller sent (not a customer's: signals, never overrides), and those
    a follow-up inherits."""
    given = set() if data._signals_only else set(data.model_fields_set)
    return given | set(FOLLOW_UP_INHERITS) if follow_up_of is not None else given


def new_ticket(session: Session, *, actor: Actor, data: TicketCreate,
               follow_up_of: Ticket | None = None) -> Ticket:
    """Validate the request and build the (unsaved) ticket: status new, or open when it has an assignee."""
    given = data.model_fields_set
    values = data.model_dump()
    if actor.is_customer_only:  # a requester describes the problem; the server sets the rest
        service.check_customer_fields(session, actor=actor, changes={name: values[name] for name in given},
                                      ticket_type="question")
        data._signals_only = True
        values["requester_email"] = actor.email.lower()
        if follow_up_of is None:
            values["channel"] = "web" if actor.via == "session" else "api"
    elif values["requester_email"] is None:
        raise Invalid("requester_email", "is required")
    if follow_up_of is not None:
        for name in FOLLOW_UP_INHERITS:
            if name not in given:
                values[name] = getattr(follow_up_of, name)
    service.check_references(session, values)
    if {"team_id", "queue_id"} <= given:
        service.check_queue_team(session, team_id=values["team_id"], queue_id=values["queue_id"])
    now = clock.now()
    return Ticket(**values, status=sm.OPEN if values["assignee_id"] is not None else sm.NEW,
                  follow_up_of_id=follow_up_of.id if follow_up_of is not None else None, frustrated=False,
                  created_at=now, updated_at=now)


# -- explain ---------------------------------------------------------------------------------------------

def explain(session: Session, *, actor: Actor, data: TicketCreate) -> dict[str, Any]:
    """What intake would do with this ticket body, without saving anything (reads only)."""
    ticket = new_ticket(session, actor=actor, data=data)
    if ticket.customer_id is None:
        requester = customers_service.resolve_requester(session, email=ticket.requester_email)
        ticket.customer_id = requester.customer_id
    record, draft = triage_pipeline.triage(session, actor=actor, ticket=ticket, trigger="create",
                                           caller_set=set(data.model_fields_set), dry_run=True)
    policy = sla_service.select_policy(session, ticket)
    record["sla_policy"] = {"id": policy.id, "name": policy.name} if policy is not None else None
    record["problem"] = problems_service.record_ticket(
        session, actor=actor, ticket=ticket, customer_arr=draft.customer.arr if draft.customer else None,
        dry_run=True)
    return record


class _Timer:
    """Phase durations for bench/intake.py when `TIMING` is on; nothing otherwise."""

    __slots__ = ("last",)

    def __init__(self) -> None:
        self.last = time.perf_counter() if TIMING else 0.0  # a duration, not a wall-clock reading

    def lap(self, name: str) -> None:
        if TIMING:
            now = time.perf_counter()
            PHASES.append((name, now - self.last))
            self.last = now
