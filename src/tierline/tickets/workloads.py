"""Agents' open work, kept by the database, and the one-statement claim of an assignee.

`agent_workloads` holds one row per user: `open_tickets` (their tickets in new, open, pending_customer or
on_hold) and `weighted_load` (the same tickets weighted by priority, P1=4 P2=3 P3=2 P4=1, as
`triage.assignment.PRIORITY_WEIGHTS`). Triggers on `tickets` (migration 0017) keep both exact on every INSERT,
DELETE and UPDATE OF assignee_id, status or priority, in the writer's own transaction, on SQLite and
PostgreSQL: every code path, every process and psql keep the numbers right, and nothing in Python has to
remember to. A trigger on `users` gives every new user a row; the ticket triggers also create one on demand.
So ranking reads a few rows by primary key instead of counting tickets, and a claim can lock the row of the
agent it picks.

Lock order (PostgreSQL): a claim locks the queue's cursor row, then one workload row (the agent it picks; a
row whose re-check failed stays locked too). A ticket change locks the ticket row, then the workload rows of
its old and new assignee, the lower user id first, so two tickets moving between the same two agents in
opposite directions cannot deadlock. The one order no rule can fix: a transaction that claims agent B for a
ticket that belonged to agent A (an escalation, a reassignment by triage) locks B before A; a concurrent
transaction doing the opposite move between the same two agents at the same moment deadlocks with it, and
PostgreSQL ends one of them. docs/assignment.md has the whole argument.

`claim()` is floor-3 code: it reads and writes only tickets-core tables (queue_cursors, agent_workloads).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection, ForeignKey, Integer, bindparam, case, func, select, text
from sqlalchemy.orm import Mapped, mapped_column

from tierline.platform.auth.models import User
from tierline.platform.db import Base, BigId, UTCDateTime
from tierline.tickets import state_machine as sm
from tierline.tickets.models import ASSIGNMENT_STRATEGIES, Ticket

# An open ticket weighs this much on its assignee's desk (one P1 as much as two P3s). The triggers of
# migration 0017 spell the same numbers and the same open statuses (sm.UNSOLVED) in SQL;
# tests/tickets/test_workloads.py holds the two together.
PRIORITY_WEIGHTS: dict[str, int] = {"P1": 4, "P2": 3, "P3": 2, "P4": 1}


class AgentWorkload(Base):
    """One user's open work, maintained by triggers on `tickets` (never written by the application)."""

    __tablename__ = "agent_workloads"

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True,
                                         autoincrement=False)
    open_tickets: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    weighted_load: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")


class Claimant(NamedTuple):
    """An eligible agent as the caller ranked them before the write."""

    user_id: int
    capacity: int  # max_open_tickets: the claim needs open_tickets < capacity on the locked row
    rank: int = 0  # the skills strategy's order, lower first (the other strategies order by themselves)


# -- the claim: PostgreSQL --------------------------------------------------------------------------------
#
# A function of migration 0017, `tierline_claim_assignee`, called in one statement. It locks the queue's
# cursor, then picks on a fresh snapshot. Why a function: under READ COMMITTED a single statement sees the
# rows it locked after waiting at their newest version (EvalPlanQual) but everything else at the snapshot it
# started with, which predates the claims it queued behind on the cursor; ordering a burst by those loads
# gives it all to whoever was lightest when the burst began. Each statement of a function takes its own
# snapshot. docs/assignment.md has the whole argument and the measurements.

_PG_CLAIM = text("SELECT tierline_claim_assignee(:queue_id, :strategy, CAST(:user_ids AS bigint[]), "
                 "CAST(:capacities AS integer[]), CAST(:ranks AS integer[]), :now)"
                 ).bindparams(bindparam("now", type_=UTCDateTime()))

# -- the claim: SQLite ------------------------------------------------------------------------------------
#
# Writers are serialised (BEGIN IMMEDIATE), so the statement sees the last committed claim and nothing moves
# under it: one upsert picks, checks capacity and moves (or creates) the cursor. A user without a workload row
# counts as idle; the ticket trigger creates the row.

_SQLITE_ORDER = {
    "round_robin": "(c.user_id <= coalesce((SELECT last_user_id FROM queue_cursors "
                   "WHERE queue_id = :queue_id), 0)), c.user_id",
    "least_loaded": "coalesce(w.weighted_load, 0), c.user_id",
    "skills": "c.rank, coalesce(w.weighted_load, 0), c.user_id",
}

_SQLITE_CLAIM = """
WITH candidate(user_id, capacity, rank) AS (
    SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]')
    FROM json_each(:candidates)
),
pick AS (
    SELECT c.user_id
    FROM candidate c LEFT JOIN agent_workloads w ON w.user_id = c.user_id
    WHERE coalesce(w.open_tickets, 0) < c.capacity
    ORDER BY {order}
    LIMIT 1
)
INSERT INTO queue_cursors (queue_id, last_user_id, created_at, updated_at)
SELECT :queue_id, user_id, :now, :now FROM pick WHERE true
ON CONFLICT (queue_id) DO UPDATE SET last_user_id = excluded.last_user_id, updated_at = excluded.updated_at
RETURNING last_user_id
"""
_SQLITE_CLAIMS = {  # built once, one per strategy
    strategy: text(_SQLITE_CLAIM.format(order=order)).bindparams(bindparam("now", type_=UTCDateTime()))
    for strategy, order in _SQLITE_ORDER.items()}


def claim(connection: Connection, *, queue_id: int, strategy: str, candidates: Sequence[Claimant],
          now: datetime) -> int | None:
    """Claim the assignee of one ticket in `queue_id`: the first of `candidates` in `strategy`'s order whose
    workload still has room (open_tickets < capacity), its workload row locked until the transaction ends and
    the queue's cursor moved to it; None (cursor unchanged) when nobody has room.

    round_robin: the first after the cursor in user-id order, wrapping around; least_loaded: the lowest
    weighted load, then user id; skills: the caller's rank, then weighted load, then user id.

    The caller inserts (or updates) the ticket with this assignee in the same transaction, and commits soon:
    the trigger then counts it on the row this claim holds, so a concurrent claim for the same agent waits for
    the commit and re-checks capacity with the ticket counted. A rollback leaves the cursor and every count as
    they were.
    """
    if strategy not in ASSIGNMENT_STRATEGIES:
        raise ValueError(f"strategy must be one of {', '.join(ASSIGNMENT_STRATEGIES)}, not {strategy!r}")
    if not candidates:
        return None
    if connection.dialect.name == "sqlite":
        encoded = json.dumps([[c.user_id, c.capacity, c.rank] for c in candidates])
        params = {"queue_id": queue_id, "candidates": encoded, "now": now}
        return connection.execute(_SQLITE_CLAIMS[strategy], params).scalar()
    return connection.execute(_PG_CLAIM, {
        "queue_id": queue_id, "strategy": strategy, "now": now, "user_ids": [c.user_id for c in candidates],
        "capacities": [c.capacity for c in candidates], "ranks": [c.rank for c in candidates]}).scalar()


# -- checking and repairing --------------------------------------------------------------------------------

# What the triggers keep, counted from the tickets: the definition the property test holds them to, and the
# repair for a database whose triggers were ever dropped or bypassed (`recount`).
_WORK = (select(Ticket.assignee_id.label("user_id"), func.count().label("open_tickets"),
                func.sum(case(PRIORITY_WEIGHTS, value=Ticket.priority, else_=1)).label("weighted_load"))
         .where(Ticket.assignee_id.is_not(None), Ticket.status.in_(sm.UNSOLVED))
         .group_by(Ticket.assignee_id).subquery())
_COUNTED = (select(User.id, func.coalesce(_WORK.c.open_tickets, 0), func.coalesce(_WORK.c.weighted_load, 0))
            .outerjoin(_WORK, _WORK.c.user_id == User.id))


def counted(connection: Connection) -> dict[int, tuple[int, int]]:
    """Every user's (open tickets, weighted load), counted from the tickets table."""
    return {uid: (int(n), int(load)) for uid, n, load in connection.execute(_COUNTED)}


def stored(connection: Connection) -> dict[int, tuple[int, int]]:
    """Every row of agent_workloads, as the triggers left it."""
    rows = connection.execute(select(AgentWorkload.user_id, AgentWorkload.open_tickets,
                                     AgentWorkload.weighted_load))
    return {uid: (int(n), int(load)) for uid, n, load in rows}


def recount(connection: Connection) -> int:
    """Set every user's row to what the tickets say (creating missing rows); returns how many rows changed.
    Not needed while the triggers stand: a repair, and the migration's backfill in Python form."""
    truth, kept = counted(connection), stored(connection)
    wrong = {uid: v for uid, v in truth.items() if kept.get(uid) != v}
    if not wrong:
        return 0
    table = AgentWorkload.__table__
    missing = [uid for uid in wrong if uid not in kept]
    if missing:
        connection.execute(table.insert(), [{"user_id": uid, "open_tickets": 0, "weighted_load": 0}
                                            for uid in missing])
    connection.execute(table.update().where(table.c.user_id == bindparam("uid"))
                       .values(open_tickets=bindparam("n"), weighted_load=bindparam("load")),
                       [{"uid": uid, "n": n, "load": load} for uid, (n, load) in sorted(wrong.items())])
    return len(wrong)

