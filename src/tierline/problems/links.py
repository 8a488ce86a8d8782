"""Linking a ticket to a live problem: one INSERT that takes no lock another intake waits for.

In an outage every intake links its ticket to the same problem. While the problem's row held its figures, each
link locked that row (`FOR UPDATE`) and moved them, and the lock stayed until the intake's COMMIT: the burst
went through one ticket at a time. The figures are now read from the links (figures.py), so a link is:

1. `INSERT INTO problem_tickets ... SELECT ... FROM problems WHERE id = :problem AND status <> 'closed'
   FOR KEY SHARE ON CONFLICT (ticket_id) DO NOTHING RETURNING id`. `FOR KEY SHARE` is the lock the foreign key
   takes anyway: any number of intakes hold it at once. It conflicts only with `FOR UPDATE`, which the code
   that changes a problem's status takes (problems.service.update), so a link racing a close either lands
   before it (the close waits for the link's COMMIT) or is refused (PostgreSQL re-reads the row once the close
   commits, finds it closed, and inserts nothing). A ticket linked already changes nothing.
2. `UPDATE problems SET status = 'open', regression = true, fixed_at = NULL ... WHERE id = :problem AND
   status = 'fixed' AND fixed_at <= :created_at RETURNING id`, only for a new link: a ticket that came in
   after the fix reopens the problem. Rows the WHERE rejects are not locked, so it contends only while the
   problem is fixed, and then only once: the intakes behind the first find it open.
3. The problem as of the link: its columns, and the counts of its other links (committed ones: tickets,
   distinct customers, their ARR) and whether this ticket's customer is among them, for the triage record
   (`Counts.plus` adds this ticket). Read from problem_tickets alone: every link of an outage reads every
   link before it, so it leaves the ticket rows (impact, times) to the rare regression's escalation.

On PostgreSQL the three are one statement (data-modifying CTEs), one round trip; its reads see the snapshot
the statement started with, so they count the committed links, never this one: hence "its other links". On
SQLite, which has no data-modifying CTEs, the same statements run one by one, in the database's single write
lock, the read (which leaves this ticket out by its id) before the reopening so that it too sees the problem
as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Connection, Insert, Select, Update, bindparam, exists, or_, select, true
from sqlalchemy.dialects import postgresql, sqlite

from tierline.customers import service as customers_service
from tierline.platform import clock
from tierline.platform.db import UTCDateTime
from tierline.problems import figures
from tierline.problems.models import CLOSED, FIXED, OPEN, Problem, ProblemTicket

_PROBLEMS, _LINKS = Problem.__table__, ProblemTicket.__table__
_PROBLEM = bindparam("p_problem_id", type_=BigInteger)
_TICKET = bindparam("p_ticket_id", type_=BigInteger)
_CUSTOMER = bindparam("p_customer_id", type_=BigInteger)
_CREATED_AT = bindparam("p_created_at", type_=UTCDateTime())
_NOW = bindparam("p_now", type_=UTCDateTime())


@dataclass
class Linked:
    """What linking did, and the problem as of the link."""

    link_id: int | None  # None: not linked now (linked already, or the problem is closed)
    linked_to: int | None  # the problem the ticket was linked to before this statement, if any
    reopened: bool  # the link reopened a fixed problem (a regression)
    problem: dict[str, Any]  # the problem's columns, as they were before the link
    others: figures.Counts  # the counts of the problem's links but this ticket's
    customer_seen: bool  # this ticket's customer is among the other links' customers
    customer_arr_cents: int  # this ticket's customer's ARR (0: none)

    @property
    def refused(self) -> bool:
        """Not linked, now or before: the problem is closed (or closed while the link waited for the close)."""
        return self.link_id is None and self.linked_to is None

    @property
    def counted(self) -> bool:
        """Whether this ticket is (now) among the problem's links."""
        return self.link_id is not None or self.linked_to == self.problem["id"]


def _insert_link(dialect: Any) -> Insert:
    source = (select(_PROBLEMS.c.id, _TICKET, _CUSTOMER, _NOW)
              .where(_PROBLEMS.c.id == _PROBLEM, _PROBLEMS.c.status != CLOSED)
              .with_for_update(read=True, key_share=True))  # FOR KEY SHARE; SQLite has no row locks
    return (dialect.insert(_LINKS).from_select(["problem_id", "ticket_id", "customer_id", "created_at"], source)
            .on_conflict_do_nothing(index_elements=["ticket_id"]).returning(_LINKS.c.id))


def reopens(problem: dict[str, Any], *, created_at: datetime) -> bool:
    """Whether a new link of a ticket created at `created_at` reopens the problem: `_reopen`'s condition, for a
    dry run. Only a ticket that came in after the fix is a regression (an older one recorded late is no
    evidence)."""
    fixed_at = problem["fixed_at"]
    return problem["status"] == FIXED and (fixed_at is None or clock.as_utc(fixed_at) <= created_at)


def _reopen(*only_if: Any) -> Update:
    return (_PROBLEMS.update()
            .where(_PROBLEMS.c.id == _PROBLEM, _PROBLEMS.c.status == FIXED,
                   or_(_PROBLEMS.c.fixed_at.is_(None), _PROBLEMS.c.fixed_at <= _CREATED_AT), *only_if)
            .values(status=OPEN, regression=True, fixed_at=None, updated_at=_NOW)
            .returning(_PROBLEMS.c.id))


_COLUMNS = ("id", "title", "status", "regression", "fixed_at", "owner_team_id", "component_id")
_COUNTS = ("ticket_count", "customer_count", "arr_exposure_cents")


def _state(*leading: Any) -> Select:
    """The problem before the link, and what the link's counts are built from."""
    others = figures.counted(_PROBLEM, _TICKET)
    seen = exists().where(_LINKS.c.problem_id == _PROBLEM, _LINKS.c.customer_id == _CUSTOMER,
                          _LINKS.c.ticket_id != _TICKET)
    return (select(*leading, *(_PROBLEMS.c[name] for name in _COLUMNS),
                   *(others.c[name] for name in _COUNTS),
                   seen.label("customer_seen"),
                   select(_LINKS.c.problem_id).where(_LINKS.c.ticket_id == _TICKET).scalar_subquery()
                   .label("linked_to"),
                   customers_service.arr_cents_of(_CUSTOMER).label("customer_arr_cents"))
            .select_from(_PROBLEMS).join(others, true())
            .where(_PROBLEMS.c.id == _PROBLEM))


def _on_server() -> Select:
    """PostgreSQL: the link, the reopening (only after a new link) and the read, in one statement."""
    link = _insert_link(postgresql).cte("link")
    reopened = _reopen(exists(select(link.c.id))).cte("reopened")
    return _state(select(link.c.id).scalar_subquery().label("link_id"),
                  exists(select(reopened.c.id)).label("reopened"))


_ON_SERVER = _on_server()
_STATE = _state()
_SQLITE_LINK, _SQLITE_REOPEN = _insert_link(sqlite), _reopen()


def link(connection: Connection, *, problem_id: int, ticket_id: int, customer_id: int | None,
         created_at: datetime, now: datetime) -> Linked | None:
    """Link the ticket to the problem unless it is closed; None when the problem does not exist."""
    params = {"p_problem_id": problem_id, "p_ticket_id": ticket_id, "p_customer_id": customer_id,
              "p_created_at": created_at, "p_now": now}
    if connection.dialect.name == "postgresql":
        row = connection.execute(_ON_SERVER, params).first()
        return None if row is None else _linked(row, row.link_id, bool(row.reopened))
    link_id = connection.execute(_SQLITE_LINK, params).scalar()
    row = connection.execute(_STATE, params).first()
    if row is None:
        return None
    reopened = link_id is not None and connection.execute(_SQLITE_REOPEN, params).first() is not None
    return _linked(row, link_id, reopened)


def state(connection: Connection, *, problem_id: int, ticket_id: int | None,
          customer_id: int | None) -> Linked | None:
    """The problem as a link of this ticket would find it, linking nothing (a dry run; an unsaved ticket has
    no id yet, and no link)."""
    row = connection.execute(_STATE, {
        "p_problem_id": problem_id, "p_ticket_id": ticket_id or 0, "p_customer_id": customer_id}).first()
    return None if row is None else _linked(row, None, False)


def _linked(row: Any, link_id: int | None, reopened: bool) -> Linked:
    values = row._mapping
    return Linked(
        link_id=link_id, linked_to=values["linked_to"], reopened=reopened,
        problem={name: values[name] for name in _COLUMNS},
        others=figures.Counts(**{name: values[name] for name in _COUNTS}),
        customer_seen=bool(values["customer_seen"]), customer_arr_cents=values["customer_arr_cents"] or 0)


def as_of_link(linked: Linked, *, customer_id: int | None) -> figures.Counts:
    """The problem's counts with this ticket among its links if it is (linked now or before), counting the
    links committed when the link's statement started: "as of linking"."""
    return with_ticket(linked, customer_id=customer_id) if linked.counted else linked.others


def with_ticket(linked: Linked, *, customer_id: int | None) -> figures.Counts:
    """The counts of the problem's other links plus this ticket."""
    return linked.others.plus(customer_new=customer_id is not None and not linked.customer_seen,
                              arr_cents=linked.customer_arr_cents)


_HIGHEST_IMPACT = figures.highest_impact(_LINKS.c.problem_id == _PROBLEM, _LINKS.c.ticket_id != _TICKET)


def highest_impact(connection: Connection, *, problem_id: int, ticket_id: int,
                   impact_score: int | None) -> int | None:
    """The highest impact among the problem's tickets with this one (whose row the intake inserts later)."""
    found = connection.execute(_HIGHEST_IMPACT, {"p_problem_id": problem_id, "p_ticket_id": ticket_id}).scalar()
    impacts = [i for i in (found, impact_score) if i is not None]
    return max(impacts) if impacts else None
