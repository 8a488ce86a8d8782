"""Recurrence: at intake, a ticket's signature is counted, and enough of them make (or feed) a problem.

`record_ticket` runs once per ticket, after the ticket is saved with its impact score and signature:

1. A ticket already linked to a problem stays with it (a ticket links to at most one problem).
2. The signature's row in `problem_signatures` is upserted, which takes its row lock (PostgreSQL: `INSERT ...
   ON CONFLICT DO UPDATE ... RETURNING` locks the row until commit; SQLite: the write transaction already
   holds the database lock). Everything below runs one intake at a time per signature.
3. The signature has a live (not closed) problem: the ticket links to it and updates its figures. If the
   problem was `fixed` before the ticket came in, the problem reopens as a regression.
4. Otherwise the unlinked tickets with the signature inside the window are counted. Because the count is a
   new statement after the lock (READ COMMITTED), it sees the ticket of an intake that held the lock before
   and committed: two intakes at N-1 cannot both miss the threshold. At >= N tickets from >= M customers,
   the problem is created, those tickets are linked, and the component's engineering owner team is told.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tierline.components import service as components_service
from tierline.customers import service as customers_service
from tierline.platform import audit, clock, outbox
from tierline.platform.auth.actor import Actor
from tierline.platform.errors import NotFound
from tierline.problems.models import CLOSED, FIXED, OPEN, Problem, ProblemSignature, ProblemTicket
from tierline.settings import get_settings
from tierline.tickets import service as tickets_service
from tierline.tickets.signature import is_recurrence_signature, signature_for

ESCALATED = "problem.escalated"


def record_ticket(session: Session, *, actor: Actor, ticket: Any, customer_arr: float | None,
                  dry_run: bool = False, new: bool = False) -> dict[str, Any] | None:
    """Count the ticket's signature and create, feed or reopen its problem.

    Returns {problem_key, problem_id, created, reopened, linked, status, regression, ticket_count,
    customer_count, arr_exposure, signature, dry_run}, or None while the signature is below the threshold.
    With `dry_run` it says what would happen and writes nothing (the ticket need not be saved). `new`: the
    ticket was created in this transaction, so no problem can hold it yet.
    """
    signature = ticket.signature or signature_for(error_code=ticket.error_code, subject=ticket.subject,
                                                  description=ticket.description,
                                                  component_id=ticket.component_id)
    if not is_recurrence_signature(signature):
        return None
    if dry_run:
        with session.no_autoflush:
            return _preview(session, ticket=ticket, signature=signature, customer_arr=customer_arr)
    if ticket.signature is None:
        ticket.signature = signature  # intake sets it; a ticket recorded without one is counted by it too
    session.flush()  # the ticket row must exist (with its signature) to be counted and linked
    current = None if new else _linked_problem(session, ticket.id)
    if current is not None:
        return _result(current, signature=signature, created=False, reopened=False, linked=False)
    problem = _live_problem(session, _lock_signature(session, signature), lock=True)
    if problem is not None:
        reopened = _link_later_ticket(session, actor=actor, problem=problem, ticket=ticket,
                                      customer_arr=customer_arr)
        return _result(problem, signature=signature, created=False, reopened=reopened, linked=True)
    tickets = _window_tickets(session, signature)
    if not tickets:
        return None
    problem = _create(session, actor=actor, signature=signature, ticket=ticket, tickets=tickets,
                      customer_arr=customer_arr)
    return _result(problem, signature=signature, created=True, reopened=False, linked=True)


def _result(problem: Problem, *, signature: str, created: bool, reopened: bool, linked: bool,
            dry_run: bool = False) -> dict[str, Any]:
    return {
        "problem_key": problem.key, "problem_id": problem.id, "created": created, "reopened": reopened,
        "linked": linked, "status": problem.status, "regression": problem.regression,
        "ticket_count": problem.ticket_count, "customer_count": problem.customer_count,
        "arr_exposure": problem.arr_exposure, "signature": signature, "dry_run": dry_run,
    }


# -- the lock and the counts ----------------------------------------------------------------------------

def _lock_signature(session: Session, signature: str) -> int | None:
    """Upsert the signature's row (taking its row lock until commit); returns its current problem id."""
    now = clock.now()
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(ProblemSignature).values(signature=signature, last_ticket_at=now, created_at=now,
                                           updated_at=now)
    stmt = stmt.on_conflict_do_update(
        index_elements=[ProblemSignature.signature],
        set_={"last_ticket_at": stmt.excluded.last_ticket_at, "updated_at": stmt.excluded.updated_at},
    ).returning(ProblemSignature.problem_id)
    return session.execute(stmt).scalar_one()


def _live_problem(session: Session, problem_id: int | None, *, lock: bool) -> Problem | None:
    """The signature's problem unless it is closed (a closed problem is history: the next wave starts a new
    one). Locked, and read afresh, when it is about to change."""
    if problem_id is None:
        return None
    stmt = select(Problem).where(Problem.id == problem_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    problem = session.scalars(stmt).one_or_none()
    return problem if problem is not None and problem.status != CLOSED else None


def _linked_problem(session: Session, ticket_id: int | None) -> Problem | None:
    if ticket_id is None:
        return None
    stmt = select(Problem).join(ProblemTicket, ProblemTicket.problem_id == Problem.id).where(
        ProblemTicket.ticket_id == ticket_id)
    return session.scalars(stmt).one_or_none()


# The window's tickets are counted and read by the tickets domain's aggregate reads; a ticket linked to a
# problem (a row in problem_tickets) is left out of them.

def _window_start() -> datetime:
    return clock.now() - timedelta(days=get_settings().problem_window_days)


def _window_counts(session: Session, signature: str) -> tuple[int, int]:
    """(tickets, distinct customers) with the signature, inside the window, not linked to a problem."""
    return tickets_service.signature_window_counts(session, signature=signature, since=_window_start(),
                                                   excluding_ids_in=ProblemTicket.ticket_id)


def _window_tickets(session: Session, signature: str) -> list[Any]:
    """The window's unlinked tickets, oldest first, when their counts reach the threshold; else []."""
    settings = get_settings()
    count, customers = _window_counts(session, signature)
    if count < settings.problem_min_tickets or customers < settings.problem_min_customers:
        return []
    return tickets_service.signature_window_tickets(session, signature=signature, since=_window_start(),
                                                    excluding_ids_in=ProblemTicket.ticket_id)


def _arr_cents(session: Session, customer_id: int, *, ticket: Any, customer_arr: float | None) -> int:
    if customer_id == ticket.customer_id and customer_arr is not None:
        return round(customer_arr * 100)
    try:
        return customers_service.get(session, customer_id=customer_id).arr_cents
    except NotFound:
        return 0


# -- creating and feeding a problem ---------------------------------------------------------------------

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


def _create(session: Session, *, actor: Actor, signature: str, ticket: Any, tickets: list[Any],
            customer_arr: float | None) -> Problem:
    now = clock.now()
    customers = sorted({t.customer_id for t in tickets if t.customer_id is not None})
    impacts = [t.impact_score for t in tickets if t.impact_score is not None]
    problem = Problem(
        title=_title(signature, tickets[0].subject), signature=signature, component_id=ticket.component_id,
        owner_team_id=owner_team_for(session, ticket.component_id), status=OPEN, regression=False,
        ticket_count=len(tickets), customer_count=len(customers),
        arr_exposure_cents=sum(_arr_cents(session, c, ticket=ticket, customer_arr=customer_arr)
                               for c in customers),
        impact_score=max(impacts) if impacts else None,
        first_seen=min(t.created_at for t in tickets), last_seen=max(t.created_at for t in tickets),
        created_at=now, updated_at=now,
    )
    session.add(problem)
    session.flush()
    audit.record_create(session, actor, problem, action="problems.create")
    for t in tickets:
        _add_link(session, actor=actor, problem=problem, ticket_id=t.id, customer_id=t.customer_id)
    session.execute(update(ProblemSignature).where(ProblemSignature.signature == signature)
                    .values(problem_id=problem.id))
    _escalate(session, problem, reason="threshold")
    return problem


def _add_link(session: Session, *, actor: Actor, problem: Problem, ticket_id: int,
              customer_id: int | None) -> None:
    link = ProblemTicket(problem_id=problem.id, ticket_id=ticket_id, customer_id=customer_id,
                         created_at=clock.now())
    session.add(link)
    audit.record_create(session, actor, link, action="problems.link_ticket")


def _link_later_ticket(session: Session, *, actor: Actor, problem: Problem, ticket: Any,
                       customer_arr: float | None) -> bool:
    """Link a ticket to the signature's live problem; returns whether that reopened it as a regression."""
    before = audit.snapshot(problem)
    new_customer = ticket.customer_id is not None and not session.scalar(select(exists().where(
        ProblemTicket.problem_id == problem.id, ProblemTicket.customer_id == ticket.customer_id)))
    _add_link(session, actor=actor, problem=problem, ticket_id=ticket.id, customer_id=ticket.customer_id)
    problem.ticket_count += 1
    if new_customer:
        problem.customer_count += 1
        problem.arr_exposure_cents += _arr_cents(session, ticket.customer_id, ticket=ticket,
                                                 customer_arr=customer_arr)
    created = clock.as_utc(ticket.created_at)
    problem.first_seen = min(clock.as_utc(problem.first_seen), created)
    problem.last_seen = max(clock.as_utc(problem.last_seen), created)
    if ticket.impact_score is not None:
        problem.impact_score = max(problem.impact_score or 0, ticket.impact_score)
    # Only a ticket that came in after the fix is a regression (an older one, recorded again on an update,
    # is not evidence that the fix failed).
    reopened = problem.status == FIXED and (problem.fixed_at is None
                                            or created >= clock.as_utc(problem.fixed_at))
    if reopened:
        problem.status, problem.regression, problem.fixed_at = OPEN, True, None
    problem.updated_at = clock.now()
    audit.record_update(session, actor, problem, before,
                        action="problems.regression" if reopened else "problems.link_ticket")
    if reopened:
        _escalate(session, problem, reason="regression")
    return reopened


def _escalate(session: Session, problem: Problem, *, reason: str) -> None:
    """Tell the component's engineering owner team (delivered by notifications from the outbox)."""
    outbox.publish(session, ESCALATED, {
        "problem_id": problem.id, "key": problem.key, "title": problem.title,
        "team_id": problem.owner_team_id, "component_id": problem.component_id, "reason": reason,
        "regression": problem.regression, "status": problem.status, "ticket_count": problem.ticket_count,
        "customer_count": problem.customer_count, "arr_exposure": problem.arr_exposure,
        "impact_score": problem.impact_score,
    })


# -- dry run --------------------------------------------------------------------------------------------

def _preview(session: Session, *, ticket: Any, signature: str,
             customer_arr: float | None) -> dict[str, Any] | None:
    """What record_ticket would do, read-only: the ticket may be unsaved (explain)."""
    current = _linked_problem(session, ticket.id)
    if current is not None:
        return _result(current, signature=signature, created=False, reopened=False, linked=False,
                       dry_run=True)
    row = session.get(ProblemSignature, signature)
    problem = _live_problem(session, row.problem_id if row is not None else None, lock=False)
    if problem is not None:
        reopened = problem.status == FIXED
        return _result(problem, signature=signature, created=False, reopened=reopened, linked=True,
                       dry_run=True)
    others, customers = tickets_service.signature_window_others(
        session, signature=signature, since=_window_start(), excluding_ids_in=ProblemTicket.ticket_id,
        other_than=ticket.id)
    count = 1 + others
    if ticket.customer_id is not None:
        customers.add(ticket.customer_id)
    settings = get_settings()
    if count < settings.problem_min_tickets or len(customers) < settings.problem_min_customers:
        return None
    arr = sum(_arr_cents(session, c, ticket=ticket, customer_arr=customer_arr) for c in customers)
    return {
        "problem_key": None, "problem_id": None, "created": True, "reopened": False, "linked": True,
        "status": OPEN, "regression": False, "ticket_count": count, "customer_count": len(customers),
        "arr_exposure": arr / 100, "signature": signature, "dry_run": True,
    }
