"""Aggregate reads of tickets for other domains, re-exported by `tickets.service`.

Other domains learn from, measure and count tickets in bulk: the triage classifier's training set, capacity
planning's quarter of history, problem recurrence by signature, the open work assignment weighs. They call
these functions (as `tickets_service.<name>`) instead of querying the tickets table themselves. Each is
read-only and is one query, or builds one for the caller to run: no ticket is loaded as an entity, changed or
locked, and nothing is read per ticket. (The open work is read from `agent_workloads`, which the tickets'
triggers keep.)

Where another domain's table takes part (a link table whose tickets are left out, rows keyed by ticket id
narrowed to tickets created in a period), the caller passes its column of ticket ids, and the SQL is the
same as a join written by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, bindparam, case, exists, func, select, text
from sqlalchemy.orm import Session

from tierline.platform.db import UTCDateTime, core_connection
from tierline.tickets import state_machine as sm
from tierline.tickets.models import Message, Ticket
from tierline.tickets.workloads import AgentWorkload

FINISHED: tuple[str, ...] = (sm.SOLVED, sm.CLOSED)
# The fields a ticket can be labelled by for learning (ids are returned as stored, not as text).
LABEL_FIELDS: tuple[str, ...] = ("queue_id", "component_id", "type", "priority")


# -- learning: the classifier's training set ---------------------------------------------------------------

def finished_texts(session: Session, *, label_field: str, limit: int) -> Sequence[Row[tuple[str, str, Any]]]:
    """(subject, description, label) of solved and closed tickets whose `label_field` (one of LABEL_FIELDS) is
    set, newest first, at most `limit` of them."""
    if label_field not in LABEL_FIELDS:
        raise ValueError(f"label_field must be one of {', '.join(LABEL_FIELDS)}, not {label_field!r}")
    column = getattr(Ticket, label_field)
    return session.execute(
        select(Ticket.subject, Ticket.description, column)
        .where(Ticket.status.in_(FINISHED), column.is_not(None))
        .order_by(Ticket.id.desc()).limit(limit)
    ).all()


def any_under_sla_policy(session: Session, *, policy_id: int) -> bool:
    """Whether any ticket names the SLA policy as the one it matched (the policy cannot be deleted then)."""
    return session.scalar(select(Ticket.id).where(Ticket.sla_policy_id == policy_id).limit(1)) is not None


# -- measuring: tickets created in a period ----------------------------------------------------------------

def created_between(session: Session, *, start: datetime, end: datetime,
                    team_id: int | None = None) -> Sequence[Row[tuple[int, str, datetime, Any, Any]]]:
    """(id, priority, created_at, first_response_at, solved_at) of the tickets created in [start, end), the
    team's or everyone's, by id."""
    stmt = (select(Ticket.id, Ticket.priority, Ticket.created_at, Ticket.first_response_at, Ticket.solved_at)
            .where(Ticket.created_at >= start, Ticket.created_at < end)
            .order_by(Ticket.id))
    if team_id is not None:
        stmt = stmt.where(Ticket.team_id == team_id)
    return session.execute(stmt).all()


def join_created_between(stmt: Select[Any], ticket_id: ColumnElement[int], *, start: datetime,
                         end: datetime, team_id: int | None = None) -> Select[Any]:
    """`stmt`, a SELECT of another domain's rows that name a ticket in the column `ticket_id`, joined to
    their tickets and narrowed to tickets created in [start, end) (and of the team): one query, which the
    caller runs."""
    stmt = stmt.join(Ticket, Ticket.id == ticket_id)
    stmt = stmt.where(Ticket.created_at >= start, Ticket.created_at < end)
    if team_id is not None:
        stmt = stmt.where(Ticket.team_id == team_id)
    return stmt


def work_records(session: Session, *, start: datetime, end: datetime,
                 team_id: int | None = None) -> Sequence[Row[Any]]:
    """(id, priority, created_at, first_response_at, solved_at, assignee_id, sla_policy_id, first_touch_at)
    of the tickets created in [start, end), the team's or everyone's, by id. `first_touch_at` is the first
    message an agent wrote on it, public reply or internal note (None: no agent ever wrote): where the agent's
    work on the ticket visibly starts, which capacity planning measures working time from."""
    # Correlated on the ticket, so it walks each ticket's messages by index rather than all messages.
    touch = (select(func.min(Message.created_at)).where(Message.ticket_id == Ticket.id,
                                                         Message.author_type == "agent")
             .correlate(Ticket).scalar_subquery())
    stmt = (select(Ticket.id, Ticket.priority, Ticket.created_at, Ticket.first_response_at, Ticket.solved_at,
                   Ticket.assignee_id, Ticket.sla_policy_id, touch.label("first_touch_at"))
            .where(Ticket.created_at >= start, Ticket.created_at < end)
            .order_by(Ticket.id))
    if team_id is not None:
        stmt = stmt.where(Ticket.team_id == team_id)
    return session.execute(stmt).all()


# -- counting: tickets by signature inside a window --------------------------------------------------------
# `excluding_ids_in` is a column of ticket ids in another domain's table (problem links): a ticket with a row
# there is left out (NOT EXISTS, correlated on the ticket's id).

def _signature_window(signature: str, since: datetime, excluding_ids_in: ColumnElement[int]) -> list[Any]:
    linked = exists().where(excluding_ids_in == Ticket.id)
    return [Ticket.signature == signature, Ticket.created_at >= since, ~linked]


def signature_window_counts(session: Session, *, signature: str, since: datetime,
                            excluding_ids_in: ColumnElement[int]) -> tuple[int, int]:
    """(tickets, distinct customers) with the signature created since `since`, not in `excluding_ids_in`."""
    row = session.execute(select(func.count(Ticket.id), func.count(Ticket.customer_id.distinct()))
                          .where(*_signature_window(signature, since, excluding_ids_in))).one()
    return int(row[0]), int(row[1])


def signature_window_tickets(session: Session, *, signature: str, since: datetime,
                             excluding_ids_in: ColumnElement[int]) -> list[Row[Any]]:
    """(id, customer_id, subject, impact_score, created_at) of the tickets `signature_window_counts` counts,
    oldest first."""
    stmt = (select(Ticket.id, Ticket.customer_id, Ticket.subject, Ticket.impact_score, Ticket.created_at)
            .where(*_signature_window(signature, since, excluding_ids_in))
            .order_by(Ticket.created_at, Ticket.id))
    return list(session.execute(stmt))


def signature_window_reaches(session: Session, *, signature: str, since: datetime,
                             excluding: tuple[str, str], tickets: int, customers: int) -> bool:
    """Whether the tickets `signature_window_counts` counts (this transaction's own included) reach
    `tickets` tickets from `customers` distinct customers. Bounded work however many there are: the tickets
    are counted up to the threshold, and the customers are found by skipping from one to the next along the
    (signature, customer_id) index, so an outage of thousands of tickets from one customer costs a few index
    probes, not a scan. `excluding` names the (table, column) of ticket ids to leave out (problem links)."""
    table, column = excluding
    base = (f"t.signature = :signature AND t.created_at >= :since AND NOT EXISTS "
            f"(SELECT 1 FROM {table} x WHERE x.{column} = t.id)")
    # Each probe is ORDER BY ... LIMIT 1, not min(): with the anti-join PostgreSQL cannot turn min() into an
    # index probe, and read every ticket of the signature instead (14 ms per intake after 5,000 tickets of one
    # customer's outage, and growing).
    first = (f"SELECT t.customer_id FROM tickets t WHERE {base} AND t.customer_id {{}} "
             "ORDER BY t.customer_id LIMIT 1")
    statement = text(f"""
        WITH RECURSIVE seen(customer_id, n) AS (
            SELECT ({first.format("IS NOT NULL")}), 1
            UNION ALL
            SELECT ({first.format("> seen.customer_id")}), seen.n + 1
            FROM seen WHERE seen.customer_id IS NOT NULL AND seen.n < :customers
        )
        SELECT (SELECT count(*) FROM (SELECT 1 FROM tickets t WHERE {base} LIMIT :tickets) AS bounded),
               (SELECT count(customer_id) FROM seen)
    """).bindparams(bindparam("since", type_=UTCDateTime()))  # noqa: S608 - table names, not input
    found, distinct = core_connection(session).execute(
        statement, {"signature": signature, "since": since, "tickets": tickets, "customers": customers}).one()
    return found >= tickets and distinct >= customers


def signature_window_others(session: Session, *, signature: str, since: datetime,
                            excluding_ids_in: ColumnElement[int],
                            other_than: int | None) -> tuple[int, set[int]]:
    """(how many, which customers) of the tickets `signature_window_counts` counts, leaving out the ticket
    `other_than` (None: an unsaved ticket, nothing to leave out)."""
    others = _signature_window(signature, since, excluding_ids_in)
    if other_than is not None:
        others.append(Ticket.id != other_than)
    count = session.scalar(select(func.count(Ticket.id)).where(*others)) or 0
    customers = set(session.scalars(select(Ticket.customer_id).where(*others, Ticket.customer_id.is_not(None))
                                    .distinct()))
    return count, customers


# -- managing: what waits in each queue --------------------------------------------------------------------

@dataclass(frozen=True)
class QueueFigures:
    """A queue's unsolved tickets, counted (`queue_statistics`)."""

    depth: int
    oldest_created_at: datetime | None
    unassigned: int
    breached: int
    at_risk: int


NO_FIGURES = QueueFigures(depth=0, oldest_created_at=None, unassigned=0, breached=0, at_risk=0)


def _has(ids: Select[Any]) -> ColumnElement[bool]:
    """Whether the ticket of the enclosing query is among `ids` (a SELECT of one column of ticket ids from
    another domain's table): EXISTS correlated on the ticket's id, so each ticket costs an index probe of that
    table, never a scan of it."""
    return ids.where(ids.selected_columns[0] == Ticket.id).exists()


def queue_statistics_query(*, breached_ids: Select[Any], due_ids: Select[Any]) -> Select[Any]:
    """The statement `queue_statistics` runs: per queue of the bound list `queue_ids`, its unsolved tickets
    (`depth`), the oldest one's creation, how many nobody owns, how many are among `breached_ids` and how many
    others among `due_ids` (SELECTs of ticket ids from the SLA domain's clocks: missed targets, targets due
    soon), for each queue holding any. One grouped statement for a whole page of queues.

    Built once by its caller, with whatever varies as bind parameters (the queue ids here; the due instant in
    `due_ids`): composing it, and SQLAlchemy's cache key of what was composed, cost more per request than the
    database took to run it."""
    # Each ticket's risk once (2 breached, 1 due soon, 0 neither: a CASE stops at its first true branch), then
    # counted per queue.
    tickets = (select(Ticket.queue_id, Ticket.created_at, Ticket.assignee_id,
                      case((_has(breached_ids), 2), (_has(due_ids), 1), else_=0).label("risk"))
               .where(Ticket.queue_id.in_(bindparam("queue_ids", expanding=True)), Ticket.status.in_(sm.UNSOLVED))
               .subquery())
    return (select(tickets.c.queue_id, func.count(), func.min(tickets.c.created_at),
                   func.count(case((tickets.c.assignee_id.is_(None), 1))),
                   func.count(case((tickets.c.risk == 2, 1))), func.count(case((tickets.c.risk == 1, 1))))
            .group_by(tickets.c.queue_id))


def queue_statistics(session: Session, query: Select[Any], *, queue_ids: Sequence[int],
                     **params: Any) -> dict[int, QueueFigures]:
    """queue id -> its figures, by `query` (`queue_statistics_query`) with `params` for its own parameters."""
    if not queue_ids:
        return {}
    rows = session.execute(query, {"queue_ids": sorted(set(queue_ids)), **params})
    return {queue_id: QueueFigures(depth=int(depth), oldest_created_at=oldest, unassigned=int(unassigned),
                                   breached=int(missed), at_risk=int(due))
            for queue_id, depth, oldest, unassigned, missed, due in rows}


# -- assignment: the open work on each agent's desk --------------------------------------------------------

_OPEN_WORK = select(AgentWorkload.user_id, AgentWorkload.open_tickets, AgentWorkload.weighted_load).where(
    AgentWorkload.user_id.in_(bindparam("ids", expanding=True)))


def open_work(session: Session, *, user_ids: list[int]) -> dict[int, tuple[int, int]]:
    """user id -> (unsolved tickets assigned, their load weighted by priority as
    `workloads.PRIORITY_WEIGHTS`), for those of `user_ids` holding a row: the rows the tickets' triggers keep
    (tickets/workloads.py), read by primary key rather than counted from the tickets. A user without a row has
    no open work."""
    if not user_ids:
        return {}
    rows = core_connection(session).execute(_OPEN_WORK, {"ids": user_ids})
    return {uid: (int(n), int(load)) for uid, n, load in rows}


# -- the workspace: how much unsolved work a queue or a person holds ----------------------------------------

def unsolved_counts(session: Session, *, queue_id: int | None = None,
                    assignee_id: int | None = None) -> dict[str, int]:
    """Unsolved tickets by status, of a queue, of an assignee, or of everyone (a queue's counts, as the
    console shows them above its list). One grouped count on the status and key indexes."""
    stmt = select(Ticket.status, func.count(Ticket.id)).where(Ticket.status.in_(sm.UNSOLVED))
    if queue_id is not None:
        stmt = stmt.where(Ticket.queue_id == queue_id)
    if assignee_id is not None:
        stmt = stmt.where(Ticket.assignee_id == assignee_id)
    found = dict(session.execute(stmt.group_by(Ticket.status)).all())
    return {status: int(found.get(status, 0)) for status in sm.UNSOLVED}
