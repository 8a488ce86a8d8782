"""A problem's figures, taken from its links when it is read, never stored.

`ticket_count` (links), `customer_count` (distinct linked customers), `arr_exposure_cents` (those customers'
ARR as the customers table holds it now, each customer once), `impact_score` (the highest of the linked
tickets') and `first_seen` / `last_seen` (the linked tickets' first and last `created_at`).

Why not columns: a stored figure is a row that every intake of an outage must lock and move, so every ticket of
the burst queued behind the one before it until its COMMIT. Derived at read time, linking a ticket is one
INSERT that locks nothing another intake needs (links.py), and a figure can never drift from the links it
counts. The price is paid by reads: one grouped statement for a whole page of problems, its links grouped by
problem and customer (the index `ix_problem_tickets_problem_customer`), never one query per problem. A link
reads less (`counted`): the counts its triage record carries, from problem_tickets alone, since every link of
an outage reads every link before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Integer, Select, Subquery, cast, func, select
from sqlalchemy.orm import with_expression

from tierline.customers import service as customers_service
from tierline.problems.models import Problem, ProblemTicket
from tierline.tickets.models import Ticket

NAMES = ("ticket_count", "customer_count", "arr_exposure_cents", "impact_score", "first_seen", "last_seen")

_LINKS, _TICKETS = ProblemTicket.__table__, Ticket.__table__


def grouped(*where: ColumnElement[bool]) -> Subquery:
    """One row per problem that has links (those `where` keeps, a condition on problem_tickets): its
    `problem_id` and its figures, NULL-free but for `impact_score`.

    Grouped twice: by problem and customer, so each customer's ARR is added once, then by problem. The sums are
    cast back to integers: PostgreSQL sums a bigint into a numeric."""
    per_customer = (
        select(_LINKS.c.problem_id, _LINKS.c.customer_id, func.count().label("tickets"),
               customers_service.arr_cents_of(_LINKS.c.customer_id).label("arr_cents"),
               func.max(_TICKETS.c.impact_score).label("impact_score"),
               func.min(_TICKETS.c.created_at).label("first_seen"),
               func.max(_TICKETS.c.created_at).label("last_seen"))
        .join(_TICKETS, _TICKETS.c.id == _LINKS.c.ticket_id)
        .where(*where)
        .group_by(_LINKS.c.problem_id, _LINKS.c.customer_id)
        .subquery("per_customer"))
    c = per_customer.c
    return (select(c.problem_id,
                   cast(func.sum(c.tickets), Integer).label("ticket_count"),
                   func.count(c.customer_id).label("customer_count"),
                   cast(func.coalesce(func.sum(c.arr_cents), 0), BigInteger).label("arr_exposure_cents"),
                   func.max(c.impact_score).label("impact_score"),
                   func.min(c.first_seen).label("first_seen"),
                   func.max(c.last_seen).label("last_seen"))
            .group_by(c.problem_id)
            .subquery("figures"))


def columns(figures: Subquery) -> dict[str, ColumnElement[Any]]:
    """The figures of a problem outer-joined to `figures`, as it reads with no links at all: zero tickets,
    customers and exposure, no impact, seen when it was made. Labelled by name: the list sorts by them and
    its cursor reads them back by name."""
    f = figures.c
    return {
        "ticket_count": func.coalesce(f.ticket_count, 0).label("ticket_count"),
        "customer_count": func.coalesce(f.customer_count, 0).label("customer_count"),
        "arr_exposure_cents": func.coalesce(f.arr_exposure_cents, 0).label("arr_exposure_cents"),
        "impact_score": f.impact_score.label("impact_score"),
        "first_seen": func.coalesce(f.first_seen, Problem.created_at).label("first_seen"),
        "last_seen": func.coalesce(f.last_seen, Problem.created_at).label("last_seen"),
    }


def load(stmt: Select, figures: Subquery | None = None) -> tuple[Select, dict[str, ColumnElement[Any]]]:
    """`stmt` (a select of Problem) with the figures filled in, and the figures' columns to filter or sort by.

    `figures` narrows the aggregate to the problems wanted (`grouped(ProblemTicket.problem_id == id)`);
    by default every problem's links are grouped, which a list sorted by a figure needs anyway. Objects already
    in the session are read again (`populate_existing`): the figures are never stale within a session. A flush
    that writes a problem's row forgets them (SQLAlchemy resets query expressions), so a change reads the
    problem again (problems.service.update)."""
    figures = grouped() if figures is None else figures
    named = columns(figures)
    stmt = (stmt.outerjoin(figures, figures.c.problem_id == Problem.id)
            .options(*(with_expression(getattr(Problem, name), column) for name, column in named.items()))
            .execution_options(populate_existing=True))
    return stmt, named


def of_problem(problem_id: int) -> Subquery:
    """The aggregate narrowed to one problem's links."""
    return grouped(ProblemTicket.problem_id == problem_id)


def counted(problem_id: ColumnElement[int], other_than: ColumnElement[int]) -> Subquery:
    """One row: how many links the problem has but the ticket `other_than`'s, of how many distinct customers,
    and those customers' ARR. What a link's triage record carries, read from problem_tickets alone (no ticket
    rows): a link reads it for every ticket of an outage, over every link before it. So the customers are found
    by skipping from one to the next along (problem_id, customer_id), a few index probes however many tickets
    each sent, and only the ticket count reads every link (from the index)."""
    mine = [_LINKS.c.problem_id == problem_id, _LINKS.c.ticket_id != other_than]
    seen = select(_next_customer(problem_id, other_than, None).label("customer_id")).cte("seen", recursive=True)
    seen = seen.union_all(select(_next_customer(problem_id, other_than, seen.c.customer_id))
                          .where(seen.c.customer_id.is_not(None)))
    found = select(seen.c.customer_id).where(seen.c.customer_id.is_not(None))
    return select(select(func.count()).select_from(_LINKS).where(*mine).scalar_subquery().label("ticket_count"),
                  select(func.count()).select_from(found.subquery()).scalar_subquery().label("customer_count"),
                  customers_service.arr_cents_sum(found).label("arr_exposure_cents")).subquery("counted")


def _next_customer(problem_id: ColumnElement[int], other_than: ColumnElement[int],
                   after: ColumnElement[int] | None) -> Any:
    """The lowest customer id among the problem's other links, above `after` (None: the first)."""
    links = _LINKS.alias("l")
    beyond = links.c.customer_id.is_not(None) if after is None else links.c.customer_id > after
    return (select(links.c.customer_id)
            .where(links.c.problem_id == problem_id, links.c.ticket_id != other_than, beyond)
            .order_by(links.c.customer_id).limit(1).scalar_subquery())


def highest_impact(*where: ColumnElement[bool]) -> Select:
    """The highest impact score among the tickets of the links `where` keeps."""
    return (select(func.max(_TICKETS.c.impact_score))
            .select_from(_LINKS).join(_TICKETS, _TICKETS.c.id == _LINKS.c.ticket_id).where(*where))


@dataclass(frozen=True)
class Counts:
    """The figures a link's triage record carries, as plain values."""

    ticket_count: int = 0
    customer_count: int = 0
    arr_exposure_cents: int = 0

    def plus(self, *, customer_new: bool, arr_cents: int) -> Counts:
        """These counts with one more linked ticket (`customer_new`: its customer was not counted yet)."""
        return Counts(ticket_count=self.ticket_count + 1,
                      customer_count=self.customer_count + (1 if customer_new else 0),
                      arr_exposure_cents=self.arr_exposure_cents + (arr_cents if customer_new else 0))

    def as_dict(self) -> dict[str, int]:
        return {"ticket_count": self.ticket_count, "customer_count": self.customer_count,
                "arr_exposure_cents": self.arr_exposure_cents}
