"""A problem's figures are taken from its links when it is read: they must be what a plain recomputation from the
links gives, whatever the links, and the list must sort and page by them."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, select

from tests.helpers import SYSTEM
from tests.problems.conftest import World, save_ticket
from tierline.customers import service as customers_service
from tierline.platform import clock
from tierline.problems import service
from tierline.problems.models import OPEN, Problem, ProblemTicket
from tierline.problems.schemas import ProblemQuery

_FRESH = itertools.count()
# A link: (which of the example's problems, whose ticket (a customer index, or None), the ticket's impact score,
# hours after the example's start it was created).
_LINKS = st.lists(st.tuples(st.integers(0, 2), st.one_of(st.none(), st.integers(0, 4)),
                            st.one_of(st.none(), st.integers(0, 100)), st.integers(0, 500)), max_size=14)
# New ARRs for some customers, set after the links were made: the exposure follows the customer's ARR now.
_ARR_CHANGES = st.dictionaries(st.integers(0, 4), st.integers(0, 5_000_000), max_size=3)


def _expected(links: list[tuple], arr: dict[int, int], created_at: datetime, start: datetime) -> dict:
    """The figures of one problem recomputed in Python from its links: tickets, distinct customers, their ARR
    each counted once, the highest impact, the first and last ticket (its creation when it has none)."""
    customers = {c for _, c, _, _ in links if c is not None}
    impacts = [i for _, _, i, _ in links if i is not None]
    seen = [start + timedelta(hours=h) for _, _, _, h in links]
    return {"ticket_count": len(links), "customer_count": len(customers),
            "arr_exposure_cents": sum(arr[c] for c in customers), "impact_score": max(impacts) if impacts else None,
            "first_seen": min(seen, default=created_at), "last_seen": max(seen, default=created_at)}


def _read(problem: Problem) -> dict:
    return {name: getattr(problem, name) for name in ("ticket_count", "customer_count", "arr_exposure_cents",
                                                       "impact_score", "first_seen", "last_seen")}


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(links=_LINKS, arr_changes=_ARR_CHANGES)
def test_the_figures_read_are_those_recomputed_from_the_links(world: World, links, arr_changes):
    start = clock.now()
    with world.db.unit_of_work() as s:
        problem_ids = []
        for n in range(3):
            problem = Problem(title=f"Problem {n}", signature=f"FIG-{next(_FRESH)}|c:-", status=OPEN,
                              created_at=start, updated_at=start)
            s.add(problem)
            s.flush()
            problem_ids.append(problem.id)
        for which, customer, impact, hours in links:
            clock.freeze(start + timedelta(hours=hours))
            ticket = save_ticket(s, customer_id=None if customer is None else world.customer_ids[customer],
                                 impact=impact, error_code=None, subject=f"Figures {hours}")
            s.add(ProblemTicket(problem_id=problem_ids[which], ticket_id=ticket.id, customer_id=ticket.customer_id,
                                created_at=start))
        clock.freeze(start)
        for customer, cents in arr_changes.items():
            customers_service.update(s, actor=SYSTEM, customer_id=world.customer_ids[customer], arr=Decimal(cents) / 100)
    with world.db.session(write=False) as s:
        arr = {i: customers_service.get(s, customer_id=cid).arr_cents for i, cid in enumerate(world.customer_ids)}
        found = {p.id: p for p in service.list_(s, query=ProblemQuery(limit=200))[0] if p.id in problem_ids}
        one_by_one = {pid: _read(service.get(s, problem_id=pid)) for pid in problem_ids}
    expected = {pid: _expected([link for link in links if link[0] == n], arr, start, start)
                for n, pid in enumerate(problem_ids)}
    assert {pid: _read(p) for pid, p in found.items()} == expected == one_by_one
    for pid, problem in found.items():
        assert problem.arr_exposure == expected[pid]["arr_exposure_cents"] / 100


def _order(world: World, order_by: str, limit: int) -> list[int]:
    keys, cursor = [], None
    with world.db.session(write=False) as s:
        while True:
            page, cursor = service.list_(s, query=ProblemQuery(order_by=order_by, limit=limit, cursor=cursor))
            keys += [p.id for p in page]
            if cursor is None:
                return keys


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(links=_LINKS, limit=st.integers(1, 3))
def test_the_list_sorts_and_pages_by_the_figures_read(world: World, links, limit):
    start = clock.now()
    with world.db.unit_of_work() as s:
        s.execute(ProblemTicket.__table__.delete())  # only this example's problems and links
        s.execute(Problem.__table__.delete())
        problem_ids = []
        for n in range(3):
            problem = Problem(title=f"Problem {n}", signature=f"ORD-{n}|c:-", status=OPEN, created_at=start,
                              updated_at=start)
            s.add(problem)
            s.flush()
            problem_ids.append(problem.id)
        for which, customer, impact, hours in links:
            ticket = save_ticket(s, customer_id=None if customer is None else world.customer_ids[customer],
                                 impact=impact, error_code=None, subject=f"Order {hours}")
            s.add(ProblemTicket(problem_id=problem_ids[which], ticket_id=ticket.id, customer_id=ticket.customer_id,
                                created_at=start))
    with world.db.session(write=False) as s:
        read = {p.id: _read(p) for p in service.list_(s, query=ProblemQuery(limit=200))[0]}
    for order_by, figure in (("arr_exposure", "arr_exposure_cents"), ("customer_count", "customer_count"),
                             ("ticket_count", "ticket_count"), ("last_seen", "last_seen")):
        expected = sorted(read, key=lambda pid: (read[pid][figure], pid), reverse=True)  # noqa: B023
        assert _order(world, order_by, limit) == expected, order_by


def test_a_page_of_problems_costs_one_statement(world: World):
    with world.db.unit_of_work() as s:
        for n in range(5):
            s.add(Problem(title=f"Problem {n}", signature=f"ONE-{n}|c:-", status=OPEN, created_at=clock.now(),
                          updated_at=clock.now()))
    statements: list[str] = []
    with world.db.session(write=False) as s:
        s.connection()  # the session's own set-up is not the page's cost

        def count(*args) -> None:  # noqa: ANN002
            statements.append(args[2])

        event.listen(s.get_bind(), "before_cursor_execute", count)
        try:
            page, _ = service.list_(s, query=ProblemQuery(limit=50, order_by="ticket_count"))
        finally:
            event.remove(s.get_bind(), "before_cursor_execute", count)
    assert len(page) == 5 and {p.ticket_count for p in page} == {0}
    assert len(statements) == 1, statements


def test_a_problem_with_no_links_reads_zero_and_was_last_seen_when_made(world: World):
    with world.db.unit_of_work() as s:
        problem = Problem(title="Bare", signature="BARE|c:-", status=OPEN, created_at=clock.now(),
                          updated_at=clock.now())
        s.add(problem)
        s.flush()
        problem_id = problem.id
    with world.db.session(write=False) as s:
        problem = service.get(s, problem_id=problem_id)
        assert _read(problem) == {"ticket_count": 0, "customer_count": 0, "arr_exposure_cents": 0,
                                  "impact_score": None, "first_seen": clock.now(), "last_seen": clock.now()}
        assert s.scalar(select(ProblemTicket.id).where(ProblemTicket.problem_id == problem_id)) is None
