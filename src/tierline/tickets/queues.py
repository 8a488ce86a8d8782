"""Queues: where unassigned work waits for a tier's agents."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tierline.people import service as people_service
from tierline.platform import audit, clock, reference_cache
from tierline.platform.auth.actor import Actor
from tierline.platform.db import hold
from tierline.platform.errors import Conflict, Invalid, NotFound
from tierline.platform.pagination import SortKey, paginate
from tierline.tickets.models import ASSIGNMENT_STRATEGIES, Queue, QueueCursor, Ticket


def get(session: Session, *, queue_id: int) -> Queue:
    queue = session.get(Queue, queue_id)
    if queue is None:
        raise NotFound(f"queue {queue_id} does not exist")
    hold(session, queue)  # routing and assignment read it again within the transaction
    return queue


# -- the queues, cached per process -----------------------------------------------------------------------
#
# Routing and assignment read a ticket's queue several times per intake, and default routing looks through
# every queue of a tier: all from one copy per process in the reference cache (platform/reference_cache.py),
# renewed whenever the queues table changes.

@dataclass(frozen=True)
class QueueInfo:
    """What routing and assignment read of a queue."""

    id: int
    name: str
    tier: str
    team_id: int | None
    assignment_strategy: str
    required_skills: tuple[str, ...]


def _build_directory(session: Session) -> dict[int, QueueInfo]:
    rows = session.execute(select(Queue.id, Queue.name, Queue.tier, Queue.team_id, Queue.assignment_strategy,
                                  Queue.required_skills).order_by(Queue.id))
    return {qid: QueueInfo(id=qid, name=name, tier=tier, team_id=team_id, assignment_strategy=strategy,
                           required_skills=tuple(skills or ()))
            for qid, name, tier, team_id, strategy, skills in rows}


def directory(session: Session) -> dict[int, QueueInfo]:
    """Every queue by id, in id order."""
    return reference_cache.cached(session, "queues", "tickets.queues", _build_directory)


def info(session: Session, *, queue_id: int) -> QueueInfo:
    found = directory(session).get(queue_id)
    if found is None:
        raise NotFound(f"queue {queue_id} does not exist")
    return found


def list_(session: Session, *, tier: str | None = None, team_id: int | None = None, name: str | None = None,
          limit: int | None = None, cursor: str | None = None) -> tuple[list[Queue], str | None]:
    stmt = select(Queue)
    if tier is not None:
        stmt = stmt.where(Queue.tier == tier)
    if team_id is not None:
        stmt = stmt.where(Queue.team_id == team_id)
    if name is not None:
        stmt = stmt.where(Queue.name == name.strip())
    return paginate(session, stmt, keys=[SortKey(Queue.id)], limit=limit, cursor=cursor)


def _flush(session: Session, conflict: str) -> None:
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:  # a concurrent request took the name, or gave the queue a ticket
        raise Conflict(conflict) from exc


def _check_team(session: Session, team_id: int | None) -> None:
    if team_id is None:
        return
    try:
        people_service.get_team(session, team_id=team_id)
    except NotFound as exc:
        raise Invalid("team_id", f"team {team_id} does not exist") from exc


def _check_strategy(strategy: str) -> None:
    if strategy not in ASSIGNMENT_STRATEGIES:
        raise Invalid("assignment_strategy", f"must be one of {', '.join(ASSIGNMENT_STRATEGIES)}")


def _check_name_free(session: Session, name: str, *, except_id: int | None = None) -> None:
    stmt = select(Queue.id).where(Queue.name == name)
    if except_id is not None:
        stmt = stmt.where(Queue.id != except_id)
    if session.scalar(stmt) is not None:
        raise Conflict(f"a queue named {name!r} already exists")


def create(session: Session, *, actor: Actor, name: str, tier: str, team_id: int | None = None,
           description: str = "", assignment_strategy: str = "round_robin",
           required_skills: Iterable[str] = ()) -> Queue:
    name = name.strip()
    if not name:
        raise Invalid("name", "must not be blank")
    _check_strategy(assignment_strategy)
    skills = people_service.normalise_skills(required_skills, field="required_skills")
    _check_team(session, team_id)
    _check_name_free(session, name)
    now = clock.now()
    queue = Queue(name=name, tier=tier, team_id=team_id, description=description,
                  assignment_strategy=assignment_strategy, required_skills=skills, created_at=now,
                  updated_at=now)
    session.add(queue)
    _flush(session, f"a queue named {name!r} already exists")
    # Its round-robin cursor, born with it: an assignment claim locks this row and never has to create it.
    # Bookkeeping like a sequence, so not audited (the queue's creation is).
    session.add(QueueCursor(queue_id=queue.id, last_user_id=None, created_at=now, updated_at=now))
    audit.record_create(session, actor, queue)
    return queue


def update(session: Session, *, actor: Actor, queue_id: int, changes: dict[str, Any]) -> Queue:
    """Apply the given fields (name, tier, team_id, description, assignment_strategy, required_skills)."""
    queue = get(session, queue_id=queue_id)
    if "assignment_strategy" in changes:
        _check_strategy(changes["assignment_strategy"])
    skills = None
    if "required_skills" in changes:
        skills = people_service.normalise_skills(changes["required_skills"], field="required_skills")
    before = audit.snapshot(queue)
    if "name" in changes:
        name = changes["name"].strip()
        if not name:
            raise Invalid("name", "must not be blank")
        _check_name_free(session, name, except_id=queue.id)
        queue.name = name
    if "team_id" in changes:
        _check_team(session, changes["team_id"])
        queue.team_id = changes["team_id"]
    for field in ("tier", "description", "assignment_strategy"):
        if field in changes:
            setattr(queue, field, changes[field])
    if skills is not None:
        queue.required_skills = skills
    if audit.record_update(session, actor, queue, before):
        queue.updated_at = clock.now()
        _flush(session, f"a queue named {queue.name!r} already exists")
    return queue


def delete(session: Session, *, actor: Actor, queue_id: int) -> None:
    queue = get(session, queue_id=queue_id)
    if session.scalar(select(exists().where(Ticket.queue_id == queue.id))):
        raise Conflict(f"queue {queue.name!r} still holds tickets; move them to another queue first")
    audit.record_delete(session, actor, queue)
    session.delete(queue)
    _flush(session, f"queue {queue.name!r} still holds tickets; move them to another queue first")


def waiting(session: Session, *, queue_id: int, limit: int | None = None, cursor: str | None = None
            ) -> tuple[list[Ticket], str | None]:
    """The queue's waiting list: its unsolved tickets that nobody owns (assignment found nobody, or the
    assignee left), oldest first, each with its `waiting_reason`."""
    get(session, queue_id=queue_id)
    stmt = select(Ticket).where(Ticket.queue_id == queue_id, Ticket.assignee_id.is_(None),
                                Ticket.status.in_(("new", "open", "pending_customer", "on_hold")))
    return paginate(session, stmt, keys=[SortKey(Ticket.created_at), SortKey(Ticket.id)], limit=limit,
                    cursor=cursor)
