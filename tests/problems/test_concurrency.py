"""Exactly one problem per signature under concurrent intake.

The race that matters: two intakes at N-1 each save their ticket, then count. Without the per-signature lock
each counts N-1 (the other's ticket is not committed yet) and neither creates the problem. With it, the
second waits for the first to commit and its count (a new statement, READ COMMITTED) sees N.
"""

from __future__ import annotations

import os
import random
import threading

import pytest

from tests.helpers import SYSTEM
from tests.problems.conftest import World, links, problems, record, save_ticket
from tierline.problems import service

IS_POSTGRES = os.environ.get("TIERLINE_TEST_DATABASE_URL", "").startswith("postgresql")
pytestmark = pytest.mark.committing  # every test here races intakes on their own connections


def _race(world: World, customers: list[int]) -> list[dict | None]:
    """Each thread saves its ticket, waits until all have saved (uncommitted), then records and commits."""
    barrier = threading.Barrier(len(customers), timeout=20)
    results: list[dict | None] = []
    errors: list[BaseException] = []

    def intake(customer_index: int) -> None:
        try:
            with world.db.unit_of_work() as s:
                ticket = save_ticket(s, customer_id=world.customer_ids[customer_index],
                                     component_id=world.component_id)
                barrier.wait()
                results.append(service.record_ticket(s, actor=SYSTEM, ticket=ticket, customer_arr=None))
        except BaseException as exc:  # noqa: BLE001 (reported by the test below)
            errors.append(exc)

    threads = [threading.Thread(target=intake, args=(c,)) for c in customers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    return results


@pytest.mark.skipif(not IS_POSTGRES, reason="on SQLite a writing transaction holds the database lock, so two "
                                            "intakes never overlap")
def test_two_intakes_at_n_minus_one_cannot_both_miss_the_threshold(world):
    for c in (0, 1, 2):
        record(world.db, customer_id=world.customer_ids[c], component_id=world.component_id)
    results = _race(world, [3, 4])
    assert sorted(r is None for r in results) == [False, True]  # the second one in creates it
    [problem] = problems(world.db)
    assert problem.ticket_count == 5 and problem.customer_count == 5
    assert len(links(world.db, problem.id)) == 5


@pytest.mark.skipif(not IS_POSTGRES, reason="on SQLite a writing transaction holds the database lock, so two "
                                            "intakes never overlap")
def test_two_first_sightings_of_a_signature_at_once_make_one_problem(world, thresholds):
    thresholds(tickets=2, customers=2)
    results = _race(world, [0, 1])  # both insert the signature's row at once: one waits on the other
    assert sorted(r is None for r in results) == [False, True]
    [problem] = problems(world.db)
    assert problem.ticket_count == 2


@pytest.mark.skipif(not IS_POSTGRES, reason="on SQLite a writing transaction holds the database lock, so two "
                                            "intakes never overlap")
def test_many_concurrent_intakes_of_one_signature_make_exactly_one_problem_with_every_ticket(world):
    rng = random.Random(7)
    customers = [rng.randrange(5) for _ in range(8)]
    for _ in range(3):
        _race(world, customers)
    [problem] = problems(world.db)
    assert problem.ticket_count == 24 == len(links(world.db, problem.id))
    assert problem.customer_count == len(set(customers))


def test_concurrent_intakes_on_any_database_make_exactly_one_problem(world):
    """Without a barrier, so it also runs on SQLite (where the writers queue on the database lock)."""
    errors: list[BaseException] = []

    def intake(c: int) -> None:
        try:
            for _ in range(3):
                record(world.db, customer_id=world.customer_ids[c], component_id=world.component_id)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=intake, args=(c,)) for c in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    [problem] = problems(world.db)
    assert problem.ticket_count == 15 == len(links(world.db, problem.id))


def _intake_race(world: World, customers: list[int]) -> list[dict | None]:
    """Each thread plans and writes a ticket as POST /api/v1/tickets does, waits until all have written
    (uncommitted), commits, then settles its signature: the intake flow's own path, count after commit."""
    from tierline.flows import intake
    from tierline.tickets.schemas import TicketCreate

    barrier = threading.Barrier(len(customers), timeout=20)
    results: list[dict | None] = []
    errors: list[BaseException] = []

    def one(c: int) -> None:
        reads, writes = world.db.session(write=False), world.db.session(write=True)
        try:
            data = TicketCreate(subject="Replica lag", description="The read replica is far behind.",
                                requester_email=f"dba{c}@example.com", customer_id=world.customer_ids[c],
                                component_id=world.component_id, error_code="DB-1042")
            planned = intake.plan(reads, actor=SYSTEM, data=data)
            reads.close()
            written = intake.write(writes, planned)
            barrier.wait()
            writes.commit()
            if intake.settle(reads, writes, written):
                writes.commit()
            results.append(written.problem)
        except BaseException as exc:  # noqa: BLE001 (reported by the test below)
            errors.append(exc)
        finally:
            reads.close()
            writes.close()

    threads = [threading.Thread(target=one, args=(c,)) for c in customers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    return results


@pytest.mark.skipif(not IS_POSTGRES, reason="on SQLite a writing transaction holds the database lock, so two "
                                            "intakes never overlap")
def test_two_intakes_at_n_minus_one_both_settle_into_one_problem_after_they_commit(world):
    for c in (0, 1, 2):
        record(world.db, customer_id=world.customer_ids[c], component_id=world.component_id)
    results = _intake_race(world, [3, 4])
    [problem] = problems(world.db)
    assert problem.ticket_count == 5 and problem.customer_count == 5
    assert len(links(world.db, problem.id)) == 5
    # Whichever settles second makes the problem (or links to it) and links the other's ticket too. The first
    # answers without it when it counted before the second committed, with it when both counts saw five: both
    # are right, the timing decides. Never is the threshold missed or a second problem made.
    assert any(r is not None for r in results)
    assert {r["problem_id"] for r in results if r is not None} == {problem.id}
