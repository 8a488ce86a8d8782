"""Problems: read, list, change status and owner. Intake feeds them through `record_ticket` (recurrence.py).

Status machine (`TRANSITIONS`): open -> investigating -> known_error -> fixed -> closed, and fixed -> open
(a reopen by hand; a new ticket after the fix reopens it on its own as a regression). `closed` is final: the
signature's next wave of tickets makes a new problem. Fixing a problem posts a public update, signed by the
user who fixed it, to each of its linked tickets that is still unsolved: from a background job, in batches.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from tierline.components import service as components_service
from tierline.customers import service as customers_service
from tierline.people import service as people_service
from tierline.platform import audit, clock, jobs, outbox
from tierline.platform.auth.actor import Actor
from tierline.platform.errors import Conflict, Invalid, NotFound
from tierline.platform.pagination import SortKey, paginate
from tierline.problems import figures
from tierline.problems.models import (
    CLOSED,
    FIXED,
    INVESTIGATING,
    KEY_PREFIX,
    KNOWN_ERROR,
    OPEN,
    STATUSES,
    Problem,
    ProblemTicket,
    parse_key,
)
from tierline.problems.recurrence import record_ticket  # noqa: F401  (intake's entry point)
from tierline.problems.schemas import ProblemQuery, ProblemRead
from tierline.tickets import state_machine as ticket_states
from tierline.tickets.models import Ticket

TRANSITIONS: dict[str, tuple[str, ...]] = {
    OPEN: (INVESTIGATING,),
    INVESTIGATING: (KNOWN_ERROR,),
    KNOWN_ERROR: (FIXED,),
    FIXED: (CLOSED, OPEN),
    CLOSED: (),
}
assert set(TRANSITIONS) == set(STATUSES)

# The list's orders: the figure each sorts by, largest first (figures.py derives them at read time).
ORDERS = {
    "arr_exposure": "arr_exposure_cents",
    "customer_count": "customer_count",
    "ticket_count": "ticket_count",
    "last_seen": "last_seen",
}
DETAIL_TICKETS = 200
# What a change of a problem leaves out of its audit record: the figures are read, not written.
_NOT_AUDITED = ("updated_at", "version", *figures.NAMES)

# The fix announcement: the template and the problem's public summary, nothing else. The title is made from
# the first ticket's subject (one customer's words, their bucket names, hosts, accounts), so no customer-facing
# text is ever built from it or from any ticket.
FIX_UPDATE = (
    "An update on your ticket: our engineering team has fixed a problem that affected it.\n\n{summary}\n\n"
    "If you still see this, please reply here and we will look at it again."
)


# -- reading --------------------------------------------------------------------------------------------

def get(session: Session, *, problem_id: int, lock: bool = False) -> Problem:
    """The problem with its figures. `lock` takes `FOR UPDATE` on its row, as every change of its status
    must: that is the one lock a link (`FOR KEY SHARE`, links.py) waits for, so a ticket linking while the
    problem closes either lands before the close or is refused, never linked to a closed problem."""
    stmt, _ = figures.load(select(Problem).where(Problem.id == problem_id), figures.of_problem(problem_id))
    if lock:
        stmt = stmt.with_for_update(of=Problem)
    problem = session.scalars(stmt).one_or_none()
    if problem is None:
        raise NotFound(f"problem PRB-{problem_id} does not exist")
    return problem


def get_by_key(session: Session, *, key: str, lock: bool = False) -> Problem:
    problem_id = parse_key(key)
    if problem_id is None:
        raise NotFound(f"{key!r} is not a problem key (PRB-<number>)")
    return get(session, problem_id=problem_id, lock=lock)


def linked_ticket_ids(*, key: str) -> Select:
    """A SELECT of the ids of the tickets linked to the problem `key` names, for a ticket list to filter by
    (a key that names no problem selects nothing): every linked ticket, those linked when the problem was made
    from earlier tickets included."""
    problem_id = parse_key(key)
    return select(ProblemTicket.ticket_id).where(ProblemTicket.problem_id == (problem_id or 0))


def keys_of_tickets(session: Session, *, ticket_ids: Iterable[int]) -> dict[int, str]:
    """ticket id -> the key of the problem it is linked to, for those of `ticket_ids` that are linked: one
    statement for a page of tickets, by the links' unique index on the ticket."""
    ids = sorted(set(ticket_ids))
    if not ids:
        return {}
    rows = session.execute(select(ProblemTicket.ticket_id, ProblemTicket.problem_id)
                           .where(ProblemTicket.ticket_id.in_(ids)))
    return {ticket_id: f"{KEY_PREFIX}{problem_id}" for ticket_id, problem_id in rows}


def list_(session: Session, *, query: ProblemQuery) -> tuple[list[Problem], str | None]:
    """Largest first by the chosen figure (the id breaks ties), keyset-paginated: one statement, the page's
    problems outer-joined to their links' grouped figures."""
    stmt, named = figures.load(select(Problem))
    if query.status:
        stmt = stmt.where(Problem.status.in_(query.status))
    if query.component_id is not None:
        try:
            subtree = components_service.descendant_ids(session, component_id=query.component_id)
        except NotFound:
            subtree = {query.component_id}
        stmt = stmt.where(Problem.component_id.in_(subtree))
    if query.owner_team_id is not None:
        stmt = stmt.where(Problem.owner_team_id == query.owner_team_id)
    if query.regression is not None:
        stmt = stmt.where(Problem.regression.is_(query.regression))
    keys = [SortKey(named[ORDERS[query.order_by]], descending=True), SortKey(Problem.id, descending=True)]
    return paginate(session, stmt, keys=keys, limit=query.limit, cursor=query.cursor)


def detail(session: Session, *, key: str) -> dict[str, Any]:
    """The problem with its linked tickets (newest first) and its affected customers (largest ARR first)."""
    problem = get_by_key(session, key=key)
    rows = session.execute(
        select(Ticket, ProblemTicket.created_at)
        .join(ProblemTicket, ProblemTicket.ticket_id == Ticket.id)
        .where(ProblemTicket.problem_id == problem.id)
        .order_by(Ticket.id.desc()).limit(DETAIL_TICKETS + 1)
    ).all()
    tickets = [{"key": t.key, "subject": t.subject, "status": t.status, "priority": t.priority,
                "customer_id": t.customer_id, "impact_score": t.impact_score, "created_at": t.created_at,
                "linked_at": linked_at} for t, linked_at in rows[:DETAIL_TICKETS]]
    per_customer = session.execute(
        select(ProblemTicket.customer_id, func.count(ProblemTicket.id))
        .where(ProblemTicket.problem_id == problem.id, ProblemTicket.customer_id.is_not(None))
        .group_by(ProblemTicket.customer_id)
    ).all()
    known = customers_service.many_profiles(session, customer_ids=[cid for cid, _ in per_customer])
    customers = [{"id": c.id, "name": c.name, "plan": c.plan, "arr": c.arr, "ticket_count": count}
                 for c, count in ((known.get(cid), n) for cid, n in per_customer) if c is not None]
    customers.sort(key=lambda c: (-c["arr"], c["id"]))
    return {**_fields(problem), "tickets": tickets, "tickets_truncated": len(rows) > DETAIL_TICKETS,
            "customers": customers}


def _fields(problem: Problem) -> dict[str, Any]:
    return ProblemRead.model_validate(problem).model_dump()


# -- changing -------------------------------------------------------------------------------------------

def allowed(status: str) -> list[str]:
    return list(TRANSITIONS[status])


def render_markdown() -> str:
    """The transition table as docs/problems.md publishes it."""
    lines = ["| from | may be set to |", "|---|---|"]
    for status in STATUSES:
        targets = ", ".join(f"`{t}`" for t in TRANSITIONS[status]) or "nothing: closed is final"
        lines.append(f"| `{status}` | {targets} |")
    return "\n".join(lines) + "\n"


def update(session: Session, *, actor: Actor, key: str, changes: dict[str, Any]) -> Problem:
    """Apply a PATCH (`changes` holds only the fields sent): status along the machine, and the owner team."""
    problem = get_by_key(session, key=key, lock=True)
    if "owner_team_id" in changes and changes["owner_team_id"] is not None:
        try:
            people_service.get_team(session, team_id=changes["owner_team_id"])
        except NotFound:
            raise Invalid("owner_team_id", f"team {changes['owner_team_id']} does not exist") from None
    if problem.status == CLOSED and any(getattr(problem, f) != v for f, v in changes.items()):
        raise Conflict(f"problem {problem.key} is closed, and closed is final; a new wave of tickets makes "
                       "a new problem", allowed=[])
    target = changes.get("status")
    if target is not None and target != problem.status and target not in TRANSITIONS[problem.status]:
        raise Conflict(f"problem {problem.key} cannot go from {problem.status} to {target}",
                       allowed=allowed(problem.status))
    if "title" in changes and changes["title"] is None:
        raise Invalid("title", "may not be null")
    summary = changes["public_summary"] if "public_summary" in changes else problem.public_summary
    if target == FIXED and problem.status != FIXED and not summary:
        raise Conflict(f"problem {problem.key} has no public_summary: its customers are told what was fixed in "
                       "words written for them; send public_summary with status fixed, or set it first",
                       field="public_summary")
    before = audit.snapshot(problem, exclude=figures.NAMES)
    for field in ("owner_team_id", "title", "public_summary"):
        if field in changes:
            setattr(problem, field, changes[field])
    was = problem.status
    if target is not None and target != was:
        _move(problem, target)
    if not audit.record_update(session, actor, problem, before, action="problems.update", exclude=_NOT_AUDITED):
        return problem
    problem.updated_at = clock.now()
    session.flush()
    changed = sorted(set(audit.diff(before, audit.snapshot(problem, exclude=figures.NAMES))) - {"updated_at"})
    outbox.publish(session, "problem.updated", {
        "problem_id": problem.id, "key": problem.key, "fields": changed, "from_status": was,
        "status": problem.status, "owner_team_id": problem.owner_team_id,
    })
    if problem.status == FIXED and was != FIXED:
        announce_fix(session, actor=actor, problem=problem)
    return get(session, problem_id=problem.id)  # its figures read again: a flush forgets them


def announcement(problem: Problem) -> str | None:
    """The fix announcement's text for this problem: the template around its public summary (None: none yet)."""
    if not problem.public_summary:
        return None
    return FIX_UPDATE.format(summary=problem.public_summary.strip())


def announcement_preview(session: Session, *, key: str) -> dict[str, Any]:
    """What fixing the problem posts on each unsolved linked ticket, and on how many."""
    problem = get_by_key(session, key=key)
    body = announcement(problem)
    count = session.scalar(select(func.count()).select_from(ProblemTicket).join(Ticket, Ticket.id ==
                                                                                ProblemTicket.ticket_id)
                           .where(ProblemTicket.problem_id == problem.id,
                                  Ticket.status.in_(ticket_states.UNSOLVED))) or 0
    return {"problem_key": problem.key, "status": problem.status, "ready": body is not None, "body": body,
            "unsolved_tickets": count}


def _move(problem: Problem, target: str) -> None:
    now = clock.now()
    if target == FIXED:
        problem.fixed_at = now
    elif target == OPEN:  # reopened by hand from fixed
        problem.fixed_at = None
    elif target == CLOSED:
        problem.closed_at = now
    problem.status = target


ANNOUNCE_JOB = "problems.announce_fix"
ANNOUNCE_BATCH = 100  # tickets told per job run: a problem may link thousands


def announce_fix(session: Session, *, actor: Actor, problem: Problem) -> None:
    """Queue the public update to each unsolved linked ticket. A job posts it (`announce_batch`), a batch
    per run, so fixing a problem with thousands of tickets answers at once and holds no lock while they are
    told; each batch commits with its messages, so a failed one is retried without telling anyone twice."""
    jobs.enqueue(session, ANNOUNCE_JOB, {"problem_id": problem.id, "user_id": actor.user_id, "after": 0})


def unsolved_ticket_ids(session: Session, *, problem_id: int, after: int, limit: int) -> list[int]:
    """The ids of the problem's linked tickets that are still unsolved, above `after`, in id order."""
    return list(session.scalars(
        select(Ticket.id).join(ProblemTicket, ProblemTicket.ticket_id == Ticket.id)
        .where(ProblemTicket.problem_id == problem_id, Ticket.status.in_(ticket_states.UNSOLVED),
               Ticket.id > after)
        .order_by(Ticket.id).limit(limit)
    ))


def for_ticket(session: Session, *, ticket_id: int) -> Problem | None:
    """The problem a ticket is linked to, if any (a ticket links to at most one)."""
    problem_id = session.scalar(select(ProblemTicket.problem_id).where(ProblemTicket.ticket_id == ticket_id))
    return None if problem_id is None else get(session, problem_id=problem_id)
